"""Azure Verified Modules called from the public registry
(`module kv 'br/public:avm/res/key-vault/vault:0.3.5' = { params: { ... } }`).

A registry module's template is not in the repository, so what it deploys is unknown, except for
one documented contract: an AVM *resource* module (`avm/res/<provider>/<type>`) deploys that one
resource, and the settings that decide whether it accepts keys are parameters named like the
resource's property (`enableRbacAuthorization`, `disableLocalAuth`, `allowSharedKeyAccess`,
`disableAccessKeyAuthentication`, `disableLocalAccounts`; `administrators` and `authConfig` objects
with the property's members), with two renamed ones (`acrAdminUserEnabled`,
`disableLocalAuthentication`). So a value the caller passes is the value the resource gets: the
ARM front end reads such a call as the resource (`AvmModuleView`) and the resource rules judge it
like any other. A parameter the caller does not pass takes the module's default, which depends on
the module version: unknown, never reported. Pattern modules (`avm/ptn/...`) are not resources and
stay unknown. Parameter names: Azure/bicep-registry-modules `avm/res/*/main.bicep`.
"""

from __future__ import annotations

import re

_MODULE_RE = re.compile(r"(?:^|[/:])avm/res/([a-z0-9-]+)/([a-z0-9-]+):")

# AVM parameter names that differ from the ARM property they set: (provider, type) -> property -> param.
PARAM_ALIASES = {
    ("container-registry", "registry"): {"adminUserEnabled": "acrAdminUserEnabled"},
    ("document-db", "database-account"): {"disableLocalAuth": "disableLocalAuthentication"},
}


def _norm(text: str, plural: bool) -> str:
    s = re.sub(r"[^a-z0-9]", "", text.lower())
    if plural:  # compare singular forms: registries/registry, vaults/vault, redis/redis
        s = s[:-3] + "y" if s.endswith("ies") else s[:-1] if s.endswith("s") else s
    return s


def avm_resource(module_path: str, arm_types: set[str]) -> tuple[str, dict[str, str]] | None:
    """(ARM type, property -> parameter aliases) of the resource an AVM resource module deploys,
    among `arm_types` (lower-case ARM types); None for anything else."""
    m = _MODULE_RE.search(module_path)
    if m is None:
        return None
    provider, rtype = m.groups()
    want = (_norm(provider, False), _norm(rtype, True))
    for t in sorted(arm_types):
        ns, _, name = t.partition("/")
        if "/" in name or not ns.startswith("microsoft."):
            continue
        if (_norm(ns[len("microsoft."):], False), _norm(name, True)) == want:
            return t, PARAM_ALIASES.get((provider, rtype), {})
    return None
