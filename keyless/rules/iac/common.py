"""Shared pieces of the IaC extractors: the per-document emitter, identity-type normalisation,
key-material detection and the format-independent Workload record."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from keyless.linter.lazyre import lazy_compile
from keyless.linter.documents.templated import Templated
from keyless.linter.finding import Span
from keyless.linter.messages import NAME_MAX, fit, short_name
from keyless.linter.rule import Fact
from keyless.rules.iac.expr import UNKNOWN, is_expression, secret_list_calls
from keyless.rules.iac.facts import bare, fix_dict, span_to_list
from keyless.rules.iac.syntax import ARM


class Ref(str):
    """A Terraform expression kept as text (`azurerm_user_assigned_identity.x.id`, a template
    string, a function call). Never a literal value."""

    __slots__ = ()


def is_unknown(v: Any) -> bool:
    # Templated: a Helm template scalar built by actions that are not rendered here
    return v is UNKNOWN or isinstance(v, (Ref, Templated))


# ---- identity types ---------------------------------------------------------------------------

@dataclass
class IdentityType:
    state: str  # "none", "set" or "unknown"
    system: bool = False
    user: bool = False


def parse_identity_type(value: Any) -> IdentityType:
    """`SystemAssigned,UserAssigned`, `SystemAssigned, UserAssigned`, any case; None/empty/`None`
    -> no identity; expressions and unrecognised spellings -> unknown."""
    if value is None:
        return IdentityType("none")
    if is_unknown(value) or not isinstance(value, str):
        return IdentityType("unknown")
    parts = {p.strip().casefold() for p in value.split(",") if p.strip()}
    if not parts or parts == {"none"}:
        return IdentityType("none")
    system = "systemassigned" in parts
    user = "userassigned" in parts
    if not (system or user) or parts - {"systemassigned", "userassigned"}:
        return IdentityType("unknown")
    return IdentityType("set", system, user)


# ---- key material ------------------------------------------------------------------------------

# A Terraform reference and the attribute it reads: `<type>.<label>[i].<attr>`, `data.<type>...`,
# `module.<name>.<output>`. Only the attribute decides (a resource *labelled* `primary_key` is not
# a key: `azurerm_key_vault_secret.primary_key.id` is an id).
_TF_REFERENCE_RE = lazy_compile(
    r"(?<![\w.\]])(?:data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\[[^\][]*\])*\.([A-Za-z_][\w-]*)")
_TF_VARIABLE_RE = lazy_compile(r"(?<![\w.\]])(?:var|local)\.([A-Za-z_][\w-]*)")
_TF_KEY_ATTR_RE = lazy_compile(
    r"(?:default_)?(?:primary|secondary)_\w*?(?:key|connection_string)s?|(?:primary|secondary)_(?:read|write)_key", re.I)
# Attributes of one resource type that hold its credential (`listConnectionStrings()`,
# `listCredentials()` in ARM).
_TF_KEY_ATTRS = frozenset({("azurerm_cosmosdb_account", "connection_strings"),
                           ("azurerm_container_registry", "admin_password")})
_ARM_KEY_MEMBER_RE = lazy_compile(r"\.(?:primary|secondary)\w*(?:key|connectionstring)\b", re.I)
_LIT_KEY_RE = lazy_compile(r"(?:AccountKey|SharedAccessKey|AccessKey)\s*=", re.I)


def key_source(value: Any) -> str | None:
    """Why a raw value (ARM expression string, Terraform reference text) carries key material:
    e.g. 'listKeys()', 'primary_access_key'. None when it does not."""
    if isinstance(value, Ref):
        for m in _TF_REFERENCE_RE.finditer(value):
            head, label, attr = m.groups()
            if head in ("var", "local", "path", "terraform", "count"):
                continue
            if _TF_KEY_ATTR_RE.fullmatch(attr) or (head, attr) in _TF_KEY_ATTRS:
                return attr
        for m in _TF_VARIABLE_RE.finditer(value):  # a variable or local named after the key it holds
            if _TF_KEY_ATTR_RE.fullmatch(m.group(1)):
                return m.group(1)
        if "${" in value and _LIT_KEY_RE.search(value):
            return "an account-key connection string"
        return None
    if is_expression(value):
        fns = sorted(secret_list_calls(value))
        if fns:
            return f"{ARM_FUNCTION_NAMES.get(fns[0], fns[0])}()"
        m = _ARM_KEY_MEMBER_RE.search(value)
        if m:
            return m.group(0).lstrip(".")
        if _LIT_KEY_RE.search(value):
            return "an account-key connection string"
    return None


def carried_key(value: Any, variables: dict[str, Any] | None = None) -> tuple[str, Any] | None:
    """(why, the value that says so) when `value` carries key material (`key_source`), itself or
    through the template variables it reads (ARM `variables('k')`, a Bicep `var`, by lower-case
    name), followed to a depth of 16 variables; None when neither does."""
    src = key_source(value)
    if src or not variables:
        return (src, value) if src else None
    from keyless.rules.iac.expr import referenced

    seen: set[str] = set()
    todo = [value]
    while todo and len(seen) < 16:
        for name in referenced(todo.pop(), "variables"):
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            raw = variables.get(name.lower())
            src = key_source(raw)
            if src:
                return src, raw
            if is_expression(raw):
                todo.append(raw)
    return None


def key_rule(value: Any, symbols: dict[str, str] | None = None,
             variables: dict[str, Any] | None = None) -> tuple[str, str] | None:
    """(rule, switch type) of the resource (KL251, KL260, ...) that hands out the key a value carries: the
    type of the resource a `list*()` call reads (ARM `resourceId('<type>', ...)`, also through a
    template variable holding one (`variables`: the template's, by lower-case name), a Bicep symbol
    through `symbols`, a literal resource id) or a Terraform key attribute belongs to; a literal
    `AccountName=...;AccountKey=` template is a storage account's. None when that is not known."""
    from keyless.rules.iac.resource_view import key_source_switch

    if isinstance(value, Ref):
        for m in _TF_REFERENCE_RE.finditer(value):
            head, _, attr = m.groups()
            if _TF_KEY_ATTR_RE.fullmatch(attr) or attr == "connection_strings" or (head, attr) in _TF_KEY_ATTRS:
                return key_source_switch(head)
        return None
    if not is_expression(value):
        return None
    from keyless.rules.iac.expr import Call, ExprError, Index, Lit, Member, parse

    try:
        todo = [parse(value[1:-1])]
    except ExprError:
        return None
    while todo:
        n = todo.pop()
        if isinstance(n, Call):
            if n.name.startswith("list") and n.args:
                rtype = _resource_type_of(n.args[0], symbols or {}, variables or {})
                found = key_source_switch(rtype) if rtype else None
                if found:
                    return found
            todo.extend(n.args)
        elif isinstance(n, Member):
            todo.append(n.target)
        elif isinstance(n, Index):
            todo.extend((n.target, n.index))
        elif isinstance(n, Lit) and isinstance(n.value, str) and "AccountName=" in n.value and _LIT_KEY_RE.search(n.value):
            return key_source_switch(STORAGE_ACCOUNTS)
    return None


def _resource_type_of(node: Any, symbols: dict[str, str], variables: dict[str, Any], depth: int = 0) -> str | None:
    from keyless.rules.iac.expr import RESOURCE_ID_FUNCTIONS, Call, ExprError, Lit, parse

    if (isinstance(node, Call) and node.name == "variables" and len(node.args) == 1 and depth < 4
            and isinstance(node.args[0], Lit) and isinstance(node.args[0].value, str)):
        held = variables.get(node.args[0].value.lower())  # `variables('acrId')` holding `[resourceId(...)]`
        if not isinstance(held, str):
            return None
        if not is_expression(held):
            return _resource_type_of(Lit(held), symbols, variables, depth + 1)
        try:
            return _resource_type_of(parse(held[1:-1]), symbols, variables, depth + 1)
        except ExprError:
            return None

    if isinstance(node, Lit) and isinstance(node.value, str):
        if node.value in symbols:
            return symbols[node.value]
        m = re.search(r"/providers/([\w.]+/[\w.-]+)/", node.value)
        return m.group(1) if m else None
    if isinstance(node, Call) and node.name in RESOURCE_ID_FUNCTIONS:
        return next((a.value for a in node.args if isinstance(a, Lit) and isinstance(a.value, str) and "/" in a.value),
                    None)
    return None


STORAGE_ACCOUNTS = "Microsoft.Storage/storageAccounts"  # what the Functions host's storage settings name


def note_key_user(em: "Emitter", path: tuple, value: Any, code: str = "",
                  resource_type: str | None = None) -> tuple[str, str] | None:
    """An `iac.key-user` fact: the deployment reads a resource's key (into an app setting, a
    secret, an output, ...), so that resource's rule must not call turning keys off safe. One per
    line and resource type. `resource_type` when the setting itself says whose key it is
    (AzureWebJobsStorage). Returns whose key it is: (rule, switch type), or None."""
    from keyless.rules.iac.resource_view import key_source_switch

    found = key_source_switch(resource_type) if resource_type else key_rule(value, em.symbol_types, em.variables)
    sp = em.span(path) if found else None
    if sp is not None and (found, sp.start.line) not in em.key_users:
        em.key_users.add((found, sp.start.line))
        data = {"rule": found[0], "switch_type": found[1], "auth": "key", "line": sp.start.line, "code": code}
        if isinstance(value, Ref) and "data." not in value and "module." not in value:
            # a Terraform resource's own attribute: that resource lives in this module's directory
            data["module_dir"] = posixpath.dirname(em.relpath)
        em.add("iac.key-user", data)
    return found  # (rule, switch type) of the resource whose key it is, when known


ARM_FUNCTION_NAMES = {
    "listkeys": "listKeys", "listconnectionstrings": "listConnectionStrings", "listsecrets": "listSecrets",
    "listcredentials": "listCredentials", "listaccountsas": "listAccountSas", "listservicesas": "listServiceSas",
    "listadminkeys": "listAdminKeys", "listquerykeys": "listQueryKeys", "listcredential": "listCredential",
}

_SECRET_NAME_RE = lazy_compile(
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|connection[_-]?string"
    r"|conn[_-]?str|sas|credential|private[_-]?key|(?:^|[_-])key$)",
    re.I,
)
_NOT_SECRET_NAME_RE = lazy_compile(r"(?:name|uri|url|path|type|id|endpoint|host|file|version)$", re.I)


_NAME_LIKE_RE = lazy_compile(r"(?:name|names|uri|url|id|path|endpoint)$", re.I)


def name_like(name: str) -> bool:
    """A parameter or variable named for a name or an address (`dbPasswordSecretName`,
    `secret_uri`), not for a secret."""
    return isinstance(name, str) and bool(_NAME_LIKE_RE.search(name))


def secretish_name(name: str) -> bool:
    if not isinstance(name, str):
        return False
    if "publickey" in name.lower().replace("_", "").replace("-", ""):
        return False
    return bool(_SECRET_NAME_RE.search(name)) and not _NOT_SECRET_NAME_RE.search(name)


# ---- container registries ----------------------------------------------------------------------

_ACR_SUFFIXES = (".azurecr.io", ".azurecr.cn", ".azurecr.us")


def azure_registry(server: Any) -> bool | None:
    """Whether a registry server is an Azure Container Registry (the only kind a managed identity
    can pull from); None when the server is not a literal host (a parameter, a placeholder)."""
    if not isinstance(server, str) or is_unknown(server) or deploy_placeholder(server):
        return None
    host = server.strip().lower()
    host = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if not host or not re.fullmatch(r"[a-z0-9.-]+", host) or "." not in host and host != "localhost":
        return None
    return host.endswith(_ACR_SUFFIXES)


def non_azure_registry_fix(keyvault_option: str) -> dict:
    """What to do for a registry that is not ACR: managed identity cannot pull from it."""
    return fix_dict("A managed identity pulls only from Azure Container Registry: import the image (az acr import) "
                    f"and pull it with AcrPull, or keep the password in Key Vault: {keyvault_option}", "display-only")


# Values a deployment tool substitutes later (`$(var)`, `#{token}#`, `{{ x }}`, `__TOKEN__`) and
# values shaped like a credential never count as literals when a variable or parameter is resolved:
# the first are not what deploys, the second must not enter evaluation (or a fact).
_TOOL_TOKEN_RE = lazy_compile(r"\$\(|#\{|\{\{|__[A-Za-z0-9_]+__")
_CREDENTIAL_ASSIGNMENT_RE = lazy_compile(
    r"(?:accountkey|sharedaccesskey|sharedaccesssignature|password|pwd|sig|secret)\s*=", re.I)


def tool_token_or_credential(value: str) -> bool:
    return bool(_TOOL_TOKEN_RE.search(value) or _CREDENTIAL_ASSIGNMENT_RE.search(value))


# A placeholder a deployment tool fills in before the file deploys: envsubst and azd `${NAME}`
# (`${NAME:-default}`), Azure Pipelines `$(name)`, Replace Tokens `#{name}#`, `__NAME__`, and
# Go/Helm/Jinja `{{ ... }}`. The value deployed is not in the file.
_PLACEHOLDER_RE = lazy_compile(
    r"\$\{[A-Za-z_]\w*(?:[:?+=-](?:[^${}]|\$(?!\{))*)?\}|\$\([A-Za-z_][\w.-]*\)|#\{[^}#]+\}#|__[A-Za-z0-9_]+__"
    r"|\{\{(?:(?!\{\{|\}\}).)*\}\}", re.S)


def deploy_placeholder(value: Any) -> bool:
    return isinstance(value, Templated) or isinstance(value, str) and bool(_PLACEHOLDER_RE.search(value))


# ---- per-document emitter ------------------------------------------------------------------------

class Emitter:
    """Collects facts for one document; turns document paths into spans. `syntax` writes the code
    that messages and fixes show, in the document's own language."""

    syntax = ARM
    # Whether template walks report the checks of parameter and output declarations (KL257,
    # KL258), which depend on the template alone (see BicepEmitter).
    checks_declarations = True

    def __init__(self, doc: Any):
        self.doc = doc
        self.facts: list[Fact] = []
        self.symbol_types: dict[str, str] = {}  # the walked template's symbolic names -> ARM types
        self.variables: dict[str, Any] = {}  # the walked template's variables, by lower-case name
        self.key_users: set[tuple] = set()  # ((rule, switch type), line) of the iac.key-user facts emitted

    @property
    def relpath(self) -> str:
        return self.doc.relpath

    def span(self, path: tuple | Span, *, key: bool = False, first_line: bool = True) -> Span | None:
        if isinstance(path, Span):  # front ends without document paths (scripts) give spans
            return path
        p = tuple(path)
        while p:
            sp = None
            try:
                if key and hasattr(self.doc, "locate_key"):
                    sp = self.doc.locate_key(p)
                if sp is None:
                    sp = self.doc.locate(p)
            except Exception:  # a locate bug must not lose the whole file
                sp = None
            if sp is not None:
                if first_line and sp.end.line != sp.start.line:
                    end_col = len(self.doc.lines.line_text(sp.start.line)) + 1
                    from keyless.linter.finding import Position

                    sp = Span(sp.start, Position(sp.start.line, max(end_col, sp.start.column)))
                return sp
            p = p[:-1]
            key = False
        return None

    def issue(self, code: str, path: tuple, key: str, message: str, *, severity: str | None = None,
              fix: dict | None = None, span: Span | None = None, locate_key: bool = False, **extra: Any) -> None:
        sp = span if span is not None else self.span(path, key=locate_key)
        data = {"code": code, "span": span_to_list(sp), "key": key, "message": message}
        if severity:
            data["severity"] = severity
        if fix:
            data["fix"] = fix
        data.update(extra)
        self.facts.append(Fact("iac.issue", self.relpath, data))

    def add(self, kind: str, data: dict) -> None:
        self.facts.append(Fact(kind, self.relpath, data))

    # Hooks of front ends that translate into the ARM shape (Bicep): a scenario run's emitter, and
    # the emitter of a nested deployment whose template comes from another file.
    def fresh(self) -> "Emitter":
        return type(self)(self.doc)

    def nested(self, path: tuple) -> "Emitter":
        return self

    def merge(self, sub: "Emitter") -> None:
        self.facts.extend(sub.facts)


# ---- workloads ----------------------------------------------------------------------------------

KIND_LABEL = {
    "containerapp": "container app",
    "containerappjob": "container apps job",
    "aci": "container group",
    "webapp": "web app",
    "functionapp": "function app",
    "k8s": "Kubernetes workload",
}


@dataclass
class Uami:
    ref: str  # display text of the identity (resource id expression or Terraform reference)
    client_id: str  # the expression that yields its client id in the same format


@dataclass
class Workload:
    fmt: str  # arm, tf, tf-json, tf-plan, aca-yaml, aci-yaml
    kind: str  # containerapp, containerappjob, aci, webapp, functionapp
    name: str
    key: str  # structural key: type/name
    path: tuple  # document path of the resource (or of the YAML document)
    anchor: tuple  # path whose span a resource-level finding points at
    identity: IdentityType = field(default_factory=lambda: IdentityType("none"))
    identity_path: tuple | None = None
    uamis: list[Uami] = field(default_factory=list)
    uami_unknown: bool = False
    not_runtime: set = field(default_factory=set)  # UAMI refs whose lifecycle excludes the app
    env_names: set = field(default_factory=set)
    env_unknown: bool = False
    case_insensitive_env: bool = False
    key_auth: list = field(default_factory=list)
    images: list = field(default_factory=list)
    azd_service: str | None = None
    identity_fix: dict | None = None  # fix that inserts an identity block
    identity_note: str = ""  # " (from the default of var.x)" when the identity came from a variable
    ambiguity_note: str = ""  # the same for the identity and the env/app settings together
    client_id_fix_text: str = ""  # exact text of the AZURE_CLIENT_ID env entry/app setting
    env_container_path: tuple | None = None  # where the client id entry would go
    display_name: str = ""  # how messages name it when `name` is only the key text of an unresolved name
    noun: str = ""  # what messages call it when KIND_LABEL does not fit ("deployment slot")
    # A missing identity inferred from what a script does not do (no identity flag, no later
    # `identity assign`): reported one severity lower, and `identity_note` says why.
    low_confidence: bool = False
    symbol: str = ""  # the declaration as written, where the language has one: resource web 'Microsoft.Web/sites'
    # A Container Apps dev add-on (`configuration.service`): a managed postgres/redis/kafka that runs
    # no code of the repository, so it needs no identity and runs no linked code.
    addon: bool = False
    # The deployment grants the system-assigned identity access (a role assignment or module gets
    # its principal id): the identity the code gets without a client id is one that was granted.
    system_granted: bool = False
    source: Any = None  # front end's note of where it was declared (ARM: type, raw name, resolved name)

    # -- derived --------------------------------------------------------------------------------
    def runtime_identity_count(self) -> int | None:
        if self.identity.state != "set":
            return 0 if self.identity.state == "none" else None
        n = 1 if self.identity.system else 0
        if self.identity.user:
            if self.uami_unknown:
                return None
            n += sum(1 for u in self.uamis if u.ref not in self.not_runtime)
        return n

    def has_client_id_env(self) -> bool | None:
        names = {n.upper() for n in self.env_names} if self.case_insensitive_env else self.env_names
        if "AZURE_CLIENT_ID" in names:
            return True
        return None if self.env_unknown else False

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def label(self) -> str:
        """How messages name it: `container app 'orders-api'`; a Bicep resource whose name does not
        resolve by its symbol (`web app `web``). The finding's position shows the declaration."""
        noun = self.noun or KIND_LABEL.get(self.kind, self.kind)
        if self.symbol and self.display_name:
            return f"{noun} `{short_name(symbol_name(self.symbol))}`"
        title = self.title
        if self.fmt.startswith("tf") and len(title) > NAME_MAX and "." in title:
            title = title.rsplit(".", 1)[1]  # `function_app` of azurerm_linux_function_app.function_app: the noun says the type
        return f"{noun} '{short_name(title)}'"


def emit_workload(em: Emitter, w: Workload) -> None:
    """Emit the project-model fact for a workload plus the resource-level findings that need only
    this file (missing identity; AZURE_CLIENT_SECRET in its settings is emitted by the extractor)."""
    if w.addon:
        return
    count = w.runtime_identity_count()
    client_env = w.has_client_id_env()
    sp = em.span(w.anchor)
    em.add("iac.app", {
        "fmt": w.fmt, "kind": w.kind, "name": w.name, "key": w.key, "label": w.label,
        "name_known": not w.display_name,
        "span": span_to_list(sp), "dir": posixpath.dirname(em.relpath),
        "identity_state": w.identity.state, "system": w.identity.system,
        "uamis": [u.ref for u in w.uamis if u.ref not in w.not_runtime],
        "uami_client_ids": [u.client_id for u in w.uamis if u.ref not in w.not_runtime],
        "identity_count": count, "client_id_env": client_env,
        "images": [i for i in w.images if isinstance(i, str)][:10],
        "azd_service": w.azd_service, "key_auth": list(w.key_auth),
        "client_id_fix_text": w.client_id_fix_text,
        "identity_span": span_to_list(em.span(w.identity_path)) if w.identity_path else None,
        "ambiguity_note": w.ambiguity_note, "system_granted": w.system_granted,
    })
    if w.identity.state == "none":
        uses = ""
        sev = "low" if w.low_confidence else "medium"
        if w.key_auth:
            sev = "medium" if w.low_confidence else "high"
            uses = f" and uses keys ({sorted(set(w.key_auth))[0]})"
        path = w.identity_path if w.identity_path else w.anchor
        msg = f"{w.label} has no managed identity{uses}; add one"
        fix = w.identity_fix or fix_dict("Add a managed identity and grant it the data-plane roles it needs", "display-only")
        if w.identity_note:  # where the missing identity came from, or why it is less certain
            fix = {**fix, "message": fit(fix["message"].rstrip("."), [bare(w.identity_note)])}
        em.issue("KL301", path, f"{w.key}|identity", msg, severity=sev, fix=fix)


def symbol_name(symbol: str) -> str:
    """`web` of the declaration `resource web 'Microsoft.Web/sites'`."""
    parts = symbol.split()
    return parts[1] if len(parts) > 1 else symbol


def line_indent(doc: Any, line: int) -> str:
    text = doc.lines.line_text(line)
    return text[: len(text) - len(text.lstrip())]
