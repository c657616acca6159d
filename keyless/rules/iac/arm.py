"""ARM templates (JSON, Bicep-compiled, nested inline deployments, child resources) and the ACA /
ACI shapes they share with `az containerapp --yaml` and ACI YAML."""

from __future__ import annotations

import posixpath
import re
import weakref
from functools import partial
from typing import Any, Iterator

from keyless.linter.lazyre import lazy_compile
from keyless.linter.messages import first_fitting, short_name
from keyless.rules.iac.common import (
    ARM_FUNCTION_NAMES,
    STORAGE_ACCOUNTS,
    Emitter,
    Uami,
    Workload,
    azure_registry,
    carried_key,
    deploy_placeholder,
    emit_workload,
    key_source,
    line_indent,
    name_like,
    non_azure_registry_fix,
    note_key_user,
    parse_identity_type,
    secretish_name,
)
from keyless.rules.iac.armparams import scenarios
from keyless.rules.iac.avm import avm_resource
from keyless.rules.iac.expr import (
    RESOURCE_ID_FUNCTIONS,
    UNKNOWN,
    UNKNOWN_SEGMENT,
    Context,
    Deferred,
    LinkedTemplate,
    TemplateLinkContext,
    classify_scope,
    generated_per_deployment,
    is_expression,
    only_reference,
    parse,
    referenced,
    secret_list_calls,
    Call,
    Lit,
    Member,
    Index,
    ExprError,
    object_member,
)
from keyless.rules.iac.facts import fix_dict, inline, parameters_note, with_note
from keyless.rules.iac.resource_view import (
    ABSENT,
    UNKNOWN_VALUE,
    ResourceView,
    Value,
    arm_types,
    check_alone,
    check_grants,
    check_resource,
    companion_types,
)
from keyless.rules.iac import roles as R
from keyless.rules.iac.syntax import Code

SCHEMA_SCOPE = (
    ("managementgroupdeploymenttemplate", "managementGroup"),
    ("subscriptiondeploymenttemplate", "subscription"),
    ("tenantdeploymenttemplate", "tenant"),
    ("deploymenttemplate", "resourceGroup"),
)
# `/providers/Microsoft.Management/managementGroups/x`, or relative as Bicep compiles `managementGroup('x')`
_MG_SCOPE_RE = lazy_compile(r"(?:/providers)?/microsoft\.management/managementgroups/[^/]+/?")
# A role assignment without `scope` in a nested deployment whose target is computed at deploy time:
# the target is still a resource group, subscription, management group or the tenant.
AT_LEAST_RESOURCE_GROUP = "resourceGroupOrBroader"


def deployment_scope(schema: Any, default: str | None) -> str | None:
    if isinstance(schema, str):
        low = schema.lower()
        for needle, scope in SCHEMA_SCOPE:
            if needle in low:
                return scope
    return default


def deployment_target(value: Any) -> str | None:
    """The scope kind named by a `Microsoft.Resources/deployments` resource's `scope` (resolved with
    unknown names as `{?}`), or None. A deployment targets only a tenant, management group,
    subscription or resource group, so an unknown name inside a management-group id cannot hide a
    deeper path."""
    if not isinstance(value, str):
        return None
    low = "/" + value.strip().lower().lstrip("/")
    if low == "/":
        return "tenant"
    if _MG_SCOPE_RE.fullmatch(low):
        return "managementGroup"
    if UNKNOWN_SEGMENT in low:
        return None
    kind = classify_scope(low)
    return kind if kind in ("subscription", "resourceGroup") else None


def arm_template(em: Emitter, root: dict, runs: list | None = None, path: tuple = (0,)) -> None:
    """Facts of an ARM template: evaluated with its defaults, then once per parameter file that
    deploys it (`runs`: those scenarios when the caller found them, e.g. a Bicep file's
    `.bicepparam`). A finding that only a parameter file's values produce (same code, location and
    key count as one) says which files; the others are the defaults' findings. `path`: where the
    template sits in the document (a deployment body holds it at `properties.template`)."""
    scope = deployment_scope(root.get("$schema"), "resourceGroup")
    ArmExtractor(em).template(root, path, None, scope, scope_is_default=True)
    runs = scenarios(em.doc, root) if runs is None else runs
    if not runs:
        return
    known = {_fact_identity(f) for f in em.facts}
    added: dict[tuple, tuple[Any, list[str]]] = {}
    for run in runs:
        scenario = em.fresh()
        ArmExtractor(scenario).template(root, path, None, scope, overrides=run.values, scope_is_default=True)
        for fact in scenario.facts:
            ident = _fact_identity(fact)
            if ident in known:
                continue
            if ident in added:
                added[ident][1].append(run.file_name)
            else:
                added[ident] = (fact, [run.file_name])
    for fact, files in added.values():
        if fact.kind == "iac.issue":
            fact.data["message"], fact.data["parameters_note"] = with_note(fact.data["message"], parameters_note(files))
            fact.data["parameters_from"] = files  # rules that extend the message keep the note last
        else:
            fact.data["parameters_from"] = files
        em.facts.append(fact)


def _fact_identity(fact: Any) -> tuple:
    d = fact.data
    if fact.kind == "iac.issue":
        return (fact.kind, d["code"], tuple(d["span"]), d["key"])
    if fact.kind == "iac.role":
        return (fact.kind, tuple(d["span"]), d["key"])
    return (fact.kind, repr(sorted(d.items())))


def aca_scale_supports_identity(api_version: Any) -> bool | None:
    """Scale-rule `identity` exists from 2024-02-02-preview (previews) and 2025-01-01 (stable)."""
    if not isinstance(api_version, str):
        return None
    m = re.match(r"(\d{4}-\d{2}-\d{2})(-preview)?", api_version.strip())
    if not m:
        return None
    date, preview = m.group(1), bool(m.group(2))
    return date >= "2024-02-02" if preview else date >= "2025-01-01"


IDENTITY_SCALERS = {"azure-queue": "Azure Queue Storage", "azure-servicebus": "Service Bus", "azure-eventhub": "Event Hubs"}


# ---- ARM template walk ---------------------------------------------------------------------------

def root_context(root: dict, overrides: dict[str, Any] | None) -> Context:
    """Parameters and variables of a root template: the values a parameter file passes
    (`overrides`, lower-case names), else the defaults; without either a parameter is UNKNOWN."""
    params = root.get("parameters") if isinstance(root.get("parameters"), dict) else {}
    variables = root.get("variables") if isinstance(root.get("variables"), dict) else {}
    given = overrides or {}
    values = {}
    for name, p in params.items():
        if name.lower() in given:
            values[name] = given[name.lower()]
        elif isinstance(p, dict) and "defaultValue" in p and not is_expression(p["defaultValue"]):
            values[name] = Context().resolve(p["defaultValue"])
        else:
            values[name] = UNKNOWN
    ctx = Context(values, variables)
    # Defaults may be expressions over other parameters and variables (ARM evaluates them only
    # when the caller passes nothing).
    for name, p in params.items():
        if name.lower() not in given and isinstance(p, dict) and is_expression(p.get("defaultValue")):
            ctx.parameters[name.lower()] = ctx.resolve(p["defaultValue"])
    return ctx


class ArmExtractor:
    def __init__(self, em: Emitter):
        self.em = em
        self.doc = em.doc
        self.sx = em.syntax  # how messages and fixes write code (ARM JSON or Bicep)

    def template(self, root: dict, path: tuple, ctx: Context | None, scope: str | None, depth: int = 0,
                 labels: Context | None = None, overrides: dict[str, Any] | None = None,
                 scope_is_default: bool = False) -> None:
        """Walk one template. `ctx` evaluates it (None: the root template, from its defaults and
        `overrides`, a parameter file's values); `labels` names its resources in messages and keys,
        from defaults only, so a parameter file never changes a finding's identity. `scope` is where
        it is deployed (None: computed at deploy time); `scope_is_default` when that is the root
        template's own deployment scope (its `$schema`), which a parent template that links to this
        file may override."""
        if depth > 8 or not isinstance(root, dict):
            return
        params = root.get("parameters") if isinstance(root.get("parameters"), dict) else {}
        if ctx is None:
            labels = root_context(root, None)
            ctx = root_context(root, overrides) if overrides else labels
        self.ctx = ctx
        self.labels = labels or ctx
        self.scope = scope
        self.scope_is_default = scope_is_default
        self.link_ctx: TemplateLinkContext | None = None
        self.depth = depth
        self.secure_params = {n.lower() for n, p in params.items()
                              if isinstance(p, dict) and str(p.get("type", "")).lower() in ("securestring", "secureobject")}
        if self.em.checks_declarations:
            self.check_parameters(params, path + ("parameters",), root)
            self.check_outputs(root.get("outputs"), path + ("outputs",), root)
        self.uami_names: dict[str, str] = {}
        self.site_settings: dict[str, dict] = {}
        self.workloads: list[Workload] = []
        outer_symbols, outer_variables = self.em.symbol_types, self.em.variables
        variables = root.get("variables")
        self.em.variables = ({k.lower(): v for k, v in variables.items() if isinstance(k, str)}
                             if isinstance(variables, dict) else {})
        if isinstance(root.get("resources"), dict):  # languageVersion 2.0 (Bicep): `listKeys('storage', ...)`
            self.em.symbol_types = {k: r["type"] for k, r in root["resources"].items()
                                    if isinstance(r, dict) and isinstance(r.get("type"), str)}
        resources = list(self.iter_resources(root.get("resources"), path + ("resources",), None, None))
        # First pass: app settings held in child config resources, keyed by site name.
        for r, rpath, rtype, rname in resources:
            if rtype.lower() == "microsoft.web/sites/config":
                self.collect_site_config(r, rpath, rname)
        for r, rpath, rtype, rname in resources:
            self.resource(r, rpath, rtype, rname, depth)
        self.resource_switches(resources)
        mark_granted_system_identities(self.workloads, resources)
        for w in self.workloads:
            self.finish_web_settings(w)
            emit_workload(self.em, w)
        note_listed_keys(self.em, root, path)
        self.em.symbol_types, self.em.variables = outer_symbols, outer_variables

    def iter_resources(self, resources: Any, path: tuple, parent_type: str | None, parent_name: Any
                       ) -> Iterator[tuple[dict, tuple, str, Any]]:
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
            items = [(k, v) for k, v in resources.items()]
        elif isinstance(resources, list):
            items = list(enumerate(resources))
        else:
            return
        for k, r in items:
            if not isinstance(r, dict) or r.get("existing") is True:
                continue
            rtype = r.get("type")
            if not isinstance(rtype, str):
                continue
            name = self.labels.resolve(r.get("name"))
            full_type = rtype
            full_name = name
            if parent_type and "/" not in rtype.split("/", 1)[0] and not rtype.lower().startswith("microsoft."):
                full_type = f"{parent_type}/{rtype}"
                full_name = f"{parent_name}/{name}" if isinstance(parent_name, str) and isinstance(name, str) else UNKNOWN
            yield r, path + (k,), full_type, full_name
            if "resources" in r:
                yield from self.iter_resources(r["resources"], path + (k, "resources"), full_type, full_name)

    def resolve(self, v: Any) -> Any:
        return self.ctx.resolve(v)

    # -- parameters and outputs (KL257 / KL258) ----------------------------------------------------
    def check_parameters(self, params: dict, path: tuple, root: dict) -> None:
        names_only: set[str] | None = None
        for name, p in params.items():
            if not isinstance(p, dict):
                continue
            ptype = str(p.get("type", "")).lower()
            if ptype not in ("securestring", "secureobject") or "defaultValue" not in p:
                continue
            d = p["defaultValue"]
            if d in ("", None, {}) or generated_per_deployment(d):
                continue  # empty, or built on newGuid(): a new value per deployment
            if ptype == "secureobject" and not _has_string_leaf(d):
                continue  # e.g. {"enabled": false}: a switch, not a secret
            if names_only is None:
                names_only = name_only_parameters(root)
            if name.lower() in names_only:
                continue  # e.g. the name of a Key Vault secret, not the secret
            self.em.issue("KL257", path + (name, "defaultValue"), f"param|{name}",
                          f"Secure parameter '{short_name(name)}' has a committed default value; pass it from Key Vault",
                          fix=fix_dict(f"Remove the {self.sx.default_word()} (or use {self.sx.expr('newGuid()')} for a "
                                       "generated value) and supply the value from a Key Vault reference in the "
                                       "parameter file", "display-only"))

    def check_outputs(self, outputs: Any, path: tuple, root: dict) -> None:
        if not isinstance(outputs, dict):
            return
        names_only: set[str] | None = None
        for name, o in outputs.items():
            if not isinstance(o, dict):
                continue
            otype = str(o.get("type", "")).lower()
            if otype in ("securestring", "secureobject"):
                continue
            why, where = None, path + (name, "value")
            # An object or array output is checked member by member (`{"key": "[listKeys(...)...]"}`).
            for vpath, v in _expressions(o.get("value"), where):
                listed = sorted(secret_list_calls(v))
                if listed:
                    why, where = f"returns the result of {ARM_FUNCTION_NAMES.get(listed[0], listed[0])}()", vpath
                    break
                for p in referenced(v, outside=RESOURCE_ID_FUNCTIONS):  # an id built from a name is no secret
                    if p.lower() not in self.secure_params:
                        continue
                    if names_only is None:
                        names_only = name_only_parameters(root)
                    if p.lower() not in names_only:
                        why, where = f"returns the secure parameter '{p}'", vpath
                        break
                if why is not None:
                    break
            if why is None:
                continue
            self.em.issue("KL258", where, f"output|{name}",
                          first_fitting(f"Output '{short_name(name)}' {why}, kept in plain text in the deployment history",
                                        f"Output '{short_name(name)}' {why} in plain text"),
                          severity="high",
                          fix=fix_dict("Do not output secrets: let the consumer read the secret from Key Vault "
                                       "with its managed identity, or mark the output secureString/@secure()",
                                       "display-only"))

    # -- resources --------------------------------------------------------------------------------
    def resource(self, r: dict, path: tuple, rtype: str, name: Any, depth: int) -> None:
        t = rtype.lower()
        if t == "microsoft.resources/deployments":
            self.nested(r, path, depth)
            return
        if t == "microsoft.managedidentity/userassignedidentities":
            if isinstance(name, str):
                self.uami_names[name] = name
            return
        if t in ("microsoft.app/containerapps", "microsoft.app/jobs"):
            w = self.new_workload(r, path, rtype, name, "containerapp" if t.endswith("containerapps") else "containerappjob")
            analyze_aca(self.em, w, r, path, self.resolve, "arm", r.get("apiVersion"), self.labels.resolve)
            return
        if t == "microsoft.containerinstance/containergroups":
            w = self.new_workload(r, path, rtype, name, "aci")
            analyze_aci(self.em, w, r, path, self.resolve, "arm", self.labels.resolve)
            return
        if t in ("microsoft.web/sites", "microsoft.web/sites/slots"):
            kind = str(self.resolve(r.get("kind")) or "").lower()
            w = self.new_workload(r, path, rtype, name, "functionapp" if "functionapp" in kind else "webapp")
            if t.endswith("/slots"):
                w.noun = "deployment slot"  # a slot has its own identity: it does not inherit the app's
            self.analyze_site(w, r, path)
            return
        if t.endswith("/roleassignments") and t.startswith("microsoft.authorization") or t.endswith("/providers/roleassignments"):
            self.role_assignment(r, path, rtype, name, child=not t.startswith("microsoft.authorization/"))
            return
        if t == "microsoft.authorization/roledefinitions":
            self.role_definition(r, path, name)
            return

    def resource_switches(self, resources: list) -> None:
        """KL251, KL260-KL278, KL404: every resource whose type a switch table names, with the
        child resources (companions) that may turn the same switch off."""
        switch_types = arm_types()
        child_types = companion_types()[0]
        views, children = [], []
        for r, rpath, rtype, rname in resources:
            t = rtype.lower()
            if t == "microsoft.resources/deployments" and "template" not in (r.get("properties") or {}):
                view = avm_module_view(self, r, rpath, switch_types)  # a registry module: its resource
                if view is not None and self.resolve(r.get("condition", True)) is not False:
                    check_resource(self.em, view)
                continue
            if t not in switch_types and t not in child_types:
                continue
            if self.resolve(r.get("condition", True)) is False:
                continue  # never deployed with these values
            (views if t in switch_types else children).append(ArmView(self, r, rpath, rtype, rname))
        attached: set[int] = set()
        for v in views:
            parent = v.name_value.lower() if isinstance(v.name_value, str) else None
            for c in children:
                if not c.type.lower().startswith(v.type.lower() + "/"):
                    continue
                cname = c.name_value if isinstance(c.name_value, str) else None
                if parent is None or cname is None or cname.lower().rsplit("/", 1)[0] == parent:
                    v.companions.append(c)
                    attached.add(id(c))
            check_resource(self.em, v)
        # access policies of a vault deployed elsewhere (or declared `existing`), and settings
        # written onto a server deployed elsewhere
        alone = [c for c in children if id(c) not in attached]
        check_grants(self.em, alone)
        check_alone(self.em, alone)

    def new_workload(self, r: dict, path: tuple, rtype: str, name: Any, kind: str) -> Workload:
        key_name = name if isinstance(name, str) else self.key_text(r.get("name"))
        w = Workload("arm", kind, key_name, f"{rtype}/{key_name}", path, path + ("type",))
        w.source = (rtype, r.get("name"), name)
        if not isinstance(name, str):
            w.display_name = self.sx.shown(self.em, path + ("name",), r.get("name"))
        w.symbol = self.sx.symbol(self.em, path)
        tags = self.resolve(r.get("tags"))
        if isinstance(tags, dict) and isinstance(tags.get("azd-service-name"), str):
            w.azd_service = tags["azd-service-name"]
        self.read_identity(w, r, path)
        w.identity_fix = self.identity_insert_fix(path, w)
        self.workloads.append(w)
        return w

    def key_text(self, v: Any) -> str:
        """A raw value as finding keys (and so fingerprints) spell it; messages use `syntax.shown`."""
        if isinstance(v, str):
            return v[1:-1] if is_expression(v) else v
        return "?"

    def read_identity(self, w: Workload, r: dict, path: tuple) -> None:
        ident = r.get("identity")
        if ident is None:
            w.identity = parse_identity_type(None)
            return
        w.identity_path = path + ("identity",)
        if not isinstance(ident, dict):
            w.identity = parse_identity_type(UNKNOWN if is_expression(ident) else None)
            return
        w.identity_path = path + ("identity", "type")
        w.identity = parse_identity_type(self.resolve(ident.get("type")))
        uai = ident.get("userAssignedIdentities")
        if w.identity.user and is_expression(uai):
            # e.g. `[if(not(empty(parameters('identityName'))), createObject(<id>, createObject()), null())]`
            resolved = self.resolve(uai)
            if isinstance(resolved, dict) and all(isinstance(k, str) for k in resolved):
                uai = resolved
        if w.identity.user:
            if isinstance(uai, dict):
                for k in uai:
                    w.uamis.append(Uami(self.key_text(k), self.sx.client_id(
                        self.em, path + ("identity", "userAssignedIdentities", k), k)))
            else:
                w.uami_unknown = True
        w.client_id_fix_text = env_entry(self.sx, w)

    def identity_insert_fix(self, path: tuple, w: Workload) -> dict:
        text = self.sx.prop("identity", {"type": "SystemAssigned"})
        msg = ("Add a system-assigned managed identity (then grant it AcrPull/data-plane roles and switch "
               "registries and secrets to it)")
        shown = f"Add {inline(text)}, then grant it AcrPull/data-plane roles and switch registries and secrets to it"
        if w.identity_path is None and hasattr(self.em, "insert_property"):
            edit = self.em.insert_property(path, text)
            if edit is not None:
                return fix_dict(msg, "unsafe", [edit])
            return fix_dict(shown, "display-only")
        obj = self.em.span(path, first_line=False)
        tkey = self.em.span(path + ("type",), key=True)
        if obj is not None and tkey is not None and tkey.start.line > obj.start.line and w.identity_path is None:
            ind = line_indent(self.doc, tkey.start.line)
            body = f'\n{ind}"identity": {{\n{ind}  "type": "SystemAssigned"\n{ind}}},'
            line_text = self.doc.lines.line_text(obj.start.line)
            col = obj.start.column
            if line_text[col - 1: col] == "{":
                return fix_dict(msg, "unsafe", [[obj.start.line, col + 1, obj.start.line, col + 1, body]])
        return fix_dict(shown, "display-only")

    # -- App Service ----------------------------------------------------------------------------
    def collect_site_config(self, r: dict, path: tuple, name: Any) -> None:
        if not isinstance(name, str) or "/" not in name:
            self.site_settings.setdefault("*", {})["unknown"] = True
            return
        site, cfg = name.rsplit("/", 1)
        cfg = cfg.lower()
        if cfg not in ("appsettings", "connectionstrings", "web"):
            return
        props = r.get("properties")
        entry = self.site_settings.setdefault(site.lower(), {"names": set(), "unknown": False})
        if cfg == "web":
            if isinstance(props, dict) and "appSettings" in props:
                self.read_app_settings_list(None, props.get("appSettings"), path + ("properties", "appSettings"), site, entry)
            return
        if not isinstance(props, dict):
            entry["unknown"] = True
            return
        for k, v in props.items():
            p = path + ("properties", k)
            if cfg == "appsettings":
                entry["names"].add(k)
                self.check_setting(site, k, v, p, entry)
            else:
                val = v.get("value") if isinstance(v, dict) else v
                self.check_setting(site, k, val, p + (("value",) if isinstance(v, dict) else ()), entry, conn=True)

    def analyze_site(self, w: Workload, r: dict, path: tuple) -> None:
        w.case_insensitive_env = True
        props = r.get("properties") if isinstance(r.get("properties"), dict) else {}
        sc = props.get("siteConfig")
        entry = {"names": set(), "unknown": False}
        if isinstance(sc, dict):
            self.read_app_settings_list(w, passed_list(self.resolve, copied(sc, "appSettings")), path + ("properties", "siteConfig", "appSettings"),
                                        w.name, entry)
            cs = sc.get("connectionStrings")
            if isinstance(cs, list):
                for i, c in enumerate(cs):
                    if isinstance(c, dict):
                        self.check_setting(w.name, str(c.get("name")), c.get("connectionString"),
                                           path + ("properties", "siteConfig", "connectionStrings", i, "connectionString"),
                                           entry, conn=True, workload=w)
            elif cs is not None:
                entry["unknown"] = True
        elif sc is not None:
            entry["unknown"] = True
        w.env_names |= entry["names"]
        w.env_unknown = w.env_unknown or entry["unknown"]
        w.key_auth.extend(entry.get("key_auth", []))
        w.client_id_fix_text = env_entry(self.sx, w)

    def read_app_settings_list(self, w: Workload | None, settings: Any, path: tuple, site: Any, entry: dict) -> None:
        if isinstance(settings, list):
            for i, s in enumerate(settings):
                if isinstance(s, dict):
                    n = self.resolve(s.get("name"))
                    if isinstance(n, str):
                        entry["names"].add(n)
                    else:
                        entry["unknown"] = True
                        continue
                    self.check_setting(site, n, s.get("value"), path + (i, "value"), entry, workload=w)
                else:
                    entry["unknown"] = True
        elif settings is not None:
            entry["unknown"] = True

    def check_setting(self, site: Any, name: str, raw: Any, path: tuple, entry: dict, *, conn: bool = False,
                      workload: Workload | None = None) -> None:
        key = f"Microsoft.Web/sites/{site}|setting|{name}"
        shown = workload.label if workload is not None else f"web app '{short_name(str(site))}'"
        up = name.upper() if isinstance(name, str) else ""
        if up == "AZURE_CLIENT_SECRET":
            self.em.issue("KL259", path, key, client_secret_message(shown), severity="high",
                          fix=client_secret_fix())
            entry.setdefault("key_auth", []).append("AZURE_CLIENT_SECRET")
            return
        found = carried_key(raw, self.em.variables)
        if found is None:
            return
        src, raw = found  # the variable that reads the key, when the setting names one
        entry.setdefault("key_auth", []).append(src)
        if up == "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING":
            note_key_user(self.em, path, raw, resource_type=STORAGE_ACCOUNTS)
            return  # the Azure Files content share has no identity-based option on Consumption/EP plans
        if up == "AZUREWEBJOBSSTORAGE":
            note_key_user(self.em, path, raw, "KL253", resource_type=STORAGE_ACCOUNTS)
            self.em.issue("KL253", path, key, first_fitting(
                              f"AzureWebJobsStorage of {shown} is built from {src}, an account key; use identity-based storage",
                              f"AzureWebJobsStorage of {shown} uses an account key ({src}); use identity-based storage",
                              f"AzureWebJobsStorage uses an account key ({src}); use identity-based storage"),
                          fix=functions_storage_fix())
            return
        what = "Connection string" if conn else "App setting"
        source = note_key_user(self.em, path, raw, "KL252")
        self.em.issue("KL252", path, key, first_fitting(
                          f"{what} '{short_name(name)}' of {shown} holds a key ({src}); use an identity",
                          f"{what} '{short_name(name)}' holds a key ({src}); use an identity"),
                      fix=key_fed_fix(name, source))

    def finish_web_settings(self, w: Workload) -> None:
        if w.kind not in ("webapp", "functionapp"):
            return
        extra = self.site_settings.get(w.name.lower()) if isinstance(w.name, str) else None
        if extra:
            w.env_names |= extra.get("names", set())
            w.env_unknown = w.env_unknown or extra.get("unknown", False)
            w.key_auth.extend(extra.get("key_auth", []))
        if "*" in self.site_settings:
            w.env_unknown = True

    # -- nested deployments ---------------------------------------------------------------------------
    def nested(self, r: dict, path: tuple, depth: int) -> None:
        props = r.get("properties")
        if isinstance(props, dict) and isinstance(props.get("templateLink"), dict):
            self.linked(r, props["templateLink"])
            return
        if not isinstance(props, dict) or not isinstance(props.get("template"), dict):
            return
        options = props.get("expressionEvaluationOptions")
        inner = isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
        tmpl = props["template"]
        scope = self.nested_target(r)
        if scope is None:
            scope = deployment_scope(tmpl.get("$schema"), None)  # what the nested template says it is written for
        if inner:
            passed = props.get("parameters") if isinstance(props.get("parameters"), dict) else {}
            ctx = inner_context(tmpl, passed, self.resolve)
            labels = ctx if self.labels is self.ctx else inner_context(tmpl, passed, self.labels.resolve)
        else:
            ctx, labels = self.ctx, self.labels
        # A Bicep module's facts are decided in its own file unless the values passed here change them.
        sub = self.em.nested(path)
        ArmExtractor(sub).template(tmpl, path + ("properties", "template"), ctx, scope, depth + 1, labels,
                                   scope_is_default=self.scope_is_default and inherits_scope(r))
        if sub is not self.em:
            self.em.merge(sub)

    def linked(self, r: dict, link: dict) -> None:
        """A deployment of another file of the repository (`templateLink`): where it deploys it,
        for the project model to rate that file's role assignments."""
        target = self.linked_target(link)
        if target is None:
            return
        self.em.add("iac.deploys", {
            "target": target, "scope": self.nested_target(r),
            "scope_is_default": self.scope_is_default and inherits_scope(r),
        })

    def linked_target(self, link: dict) -> str | None:
        """The repository path of a linked template when the template text fixes it: a
        `relativePath`, or `uri(deployment().properties.templateLink.uri, <path>)`, both relative
        to this template's directory. None for anything else (URLs, parameters, SAS tokens) and for
        paths that leave the repository."""
        if self.link_ctx is None:
            self.link_ctx = TemplateLinkContext(self.ctx.variables)
        if "relativePath" in link:
            relative = self.link_ctx.resolve(link["relativePath"])
        else:
            found = self.link_ctx.resolve(link.get("uri"))
            relative = found.relative_path if isinstance(found, LinkedTemplate) else None
        if not isinstance(relative, str) or not relative or relative.startswith("/") or re.search(r"[:?#\\]", relative):
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.doc.relpath), relative))
        return None if target == ".." or target.startswith("../") else target

    def nested_target(self, r: dict) -> str | None:
        """Where a nested deployment deploys (ARM's rules for `Microsoft.Resources/deployments`):
        `scope` names a management group or the tenant; `resourceGroup` a resource group;
        `subscriptionId` alone a subscription (from a resource-group deployment only together with
        `location`, else the parent's resource group name in that subscription); nothing: the
        parent's own scope. None when that is computed at deploy time."""
        if "scope" in r:
            return deployment_target(self.ctx.with_placeholders().resolve(r["scope"]))
        if "resourceGroup" in r:
            return "resourceGroup"
        if "subscriptionId" in r:
            return "resourceGroup" if self.scope == "resourceGroup" and "location" not in r else "subscription"
        return self.scope

    # -- roles --------------------------------------------------------------------------------------
    def role_assignment(self, r: dict, path: tuple, rtype: str, name: Any, child: bool) -> None:
        props = r.get("properties")
        if not isinstance(props, dict):
            return
        raw_id = props.get("roleDefinitionId")
        rid = self.resolve(raw_id)
        if not isinstance(rid, str):
            # concat()/format() around a literal GUID with a computed prefix (subscription().subscriptionId)
            rid = self.ctx.with_placeholders().resolve(raw_id)
        guid = R.guid_of(rid) if isinstance(rid, str) else None
        if guid is None:
            for i, looped in enumerate(self.loop_values(r, raw_id)):  # a copy loop over known roles
                self.one_role_assignment(r, path, looped, f"[{i}]", child)
            return
        self.one_role_assignment(r, path, rid, "", child)

    def loop_values(self, r: dict, raw: Any) -> list[Any]:
        """`raw` evaluated once per iteration of the resource's copy loop (Bicep `for`) whose count
        is known (at most 64): `copyIndex()` read as each index in turn. [] otherwise."""
        loop = r.get("copy")
        if not (isinstance(loop, dict) and isinstance(raw, str) and "copyIndex(" in raw):
            return []
        count = self.resolve(loop.get("count"))
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 64:
            return []
        name = loop.get("name")
        forms = ["copyIndex()"] + ([f"copyIndex('{name}')"] if isinstance(name, str) else [])
        out = []
        for i in range(count):
            text = raw
            for form in forms:
                text = text.replace(form, str(i))
            out.append(self.resolve(text))
        return out

    def one_role_assignment(self, r: dict, path: tuple, rid: Any, item: str, child: bool) -> None:
        props = r["properties"]
        raw_id = props.get("roleDefinitionId")
        guid = R.guid_of(rid) if isinstance(rid, str) else None
        if guid is None:
            return
        role = R.NAME_BY_GUID.get(guid)
        # GUID sanity against the names around it (variables, parameters, comments)
        hints = [h for h in arm_name_hints(raw_id) + [str(r.get("comments") or "")] if h]
        self.check_guid_hint(guid, role, hints, path + ("properties", "roleDefinitionId"),
                             f"roleAssignment|{self.key_text(r.get('name'))}")
        if role not in R.BROAD_ROLES:
            return
        if child:
            scope_kind = "resource"
        elif "scope" in r:
            scope_kind = classify_scope(self.resolve(r.get("scope")))
        else:
            scope_kind = self.scope or AT_LEAST_RESOURCE_GROUP
        if scope_kind not in ("managementGroup", "subscription", "resourceGroup", "tenant", AT_LEAST_RESOURCE_GROUP):
            return
        if "scope" in r:
            default = ""
        elif self.depth == 0:
            default = " (the template's deployment scope)"
        elif self.scope is None:
            default = " (the nested deployment's target, which is only known at deploy time)"
        else:
            default = " (the scope the nested deployment targets)"
        principal_type = self.resolve(props.get("principalType"))
        self.em.add("iac.role", {
            "span": _sl(self.em.span(path + ("properties", "roleDefinitionId"))),
            "key": f"roleAssignment|{self.key_text(r.get('name'))}{item}|{role}",
            "role": role, "scope": scope_kind, "scope_note": default, "fmt": "arm",
            "principal_type": principal_type if isinstance(principal_type, str) else None,
            "principal": self.key_text(props.get("principalId")),
            # The template's own deployment scope, which a parent template linking to it decides.
            "scope_is_default": self.scope_is_default and "scope" not in r,
            "syntax": self.sx.name,
        })

    def check_guid_hint(self, guid: str, role: str | None, hints: list[str], path: tuple, key: str) -> None:
        for h in hints:
            named = R.role_named_in(h)
            if named is None:
                continue
            verdict = guid_mismatch(guid, role, named)
            if verdict:
                self.em.issue("KL403", path, f"{key}|{guid}", verdict, severity="high",
                              fix=fix_dict(f"Use the GUID of '{named}' ({R.ROLES[named]}) or correct the name",
                                           "display-only"))
                return

    def role_definition(self, r: dict, path: tuple, name: Any) -> None:
        props = r.get("properties")
        if not isinstance(props, dict):
            return
        perms = props.get("permissions")
        written = isinstance(perms, list)
        perms = perms if written else self.resolve(perms)  # permissions given whole as a parameter
        if not isinstance(perms, list):
            return
        wild, action, note = None, None, ""
        for i, p in enumerate(perms):
            if not isinstance(p, dict):
                continue
            raw = p.get("actions")
            # The list as written, or given as a parameter or variable (`"[parameters('actions')]"`,
            # whose default is `["*"]`): then the finding points at that reference.
            actions = raw if isinstance(raw, list) else self.resolve(raw) if is_expression(raw) else None
            if not isinstance(actions, list):
                continue
            not_actions = self.resolve(p.get("notActions"))
            if p.get("notActions") is not None and not isinstance(not_actions, list):
                continue  # what notActions takes back is unknown
            for j, a in enumerate(actions):
                value = self.resolve(a) if isinstance(raw, list) else a
                if R.escalating_action(value, not_actions if isinstance(not_actions, list) else None):
                    if not written:
                        at, note = (), _arm_note(props.get("permissions"))
                    elif isinstance(raw, list):
                        at, note = (i, "actions", j), ""
                    else:
                        at, note = (i, "actions"), _arm_note(raw)
                    wild, action = path + ("properties", "permissions") + at, value
                    break
            if wild:
                break
        if not wild:
            return
        scopes = self.resolve(props.get("assignableScopes"))
        if not isinstance(scopes, list) or not scopes:
            return
        kinds = {classify_scope(s) for s in scopes}
        broad = kinds & {"tenant", "managementGroup", "subscription", "resourceGroup"}
        if not broad:
            return
        rn = self.labels.resolve(props.get("roleName"))
        label = rn if isinstance(rn, str) else self.key_text(r.get("name"))
        shown = rn if isinstance(rn, str) else self.sx.shown(
            self.em, path + (("properties", "roleName") if props.get("roleName") else ("name",)),
            props.get("roleName") or r.get("name"))
        self.em.issue("KL402", wild, f"roleDefinition|{label}",
                      f"Custom role '{short_name(shown)}' {R.escalation_words(action)} at {_scope_words(broad)} "
                      "scope; it can grant itself any role", severity="high",
                      fix=fix_dict("List only the actions/dataActions the workload needs (or use a built-in "
                                   "data-plane role) and narrow assignableScopes to the resource group or resource"
                                   + (f" (actions {note.strip()[1:-1]})" if note else ""), "display-only"))


class ArmView(ResourceView):
    """An ARM (or Bicep, through the ARM shape) resource as the switch checker reads it: property
    values resolved with the template's parameters, spans of the values as written."""

    fmt = "arm"

    def __init__(self, ex: ArmExtractor, r: dict, path: tuple, rtype: str, name: Any):
        api = ex.resolve(r.get("apiVersion"))
        # an unresolved name reads as written: the template's expression, or the Bicep declaration
        shown = name if isinstance(name, str) else ex.sx.unresolved_name(ex.em, path, r.get("name"))
        key = f"{rtype}/{name if isinstance(name, str) else ex.key_text(r.get('name'))}"
        super().__init__(rtype, api if isinstance(api, str) else None, shown, key, path + ("type",))
        self.r = r
        self.path = path
        self.resolve = ex.resolve
        self.ctx = ex.ctx
        # a child's full name (`server/Default`), as iter_resources composes it
        self.name_value = name if isinstance(name, str) else ex.resolve(r.get("name"))

    def companion_name(self) -> Any:
        return self.name_value

    def own_name(self) -> str | None:
        if isinstance(self.name_value, str) and UNKNOWN_SEGMENT not in self.name_value:
            return self.name_value.rsplit("/", 1)[-1]
        raw = self.r.get("name")  # `format('{0}/{1}', parameters('vault'), 'add')`: the last part is written
        m = _LAST_NAME_SEGMENT_RE.search(raw) if isinstance(raw, str) else None
        return m.group(1) if m else None

    def parent(self) -> tuple[str, str | None, str]:
        name = self.name_value
        if isinstance(name, str) and "/" in name and UNKNOWN_SEGMENT not in name.rsplit("/", 1)[0]:
            vault = name.rsplit("/", 1)[0]
            return vault.lower(), vault, vault
        return self.key, None, f"(the parent of '{self.name}')"

    def lookup(self, path: tuple[str, ...]) -> Value:
        cur: Any = self.r
        doc_path = self.path
        written = True  # every step so far is written out in the file
        note = ""
        for seg in path:
            if is_expression(cur):  # an object given as a parameter, a variable or a function
                note = note or _arm_note(cur)
                resolved = self.resolve(cur)
                if not isinstance(resolved, dict):
                    # union()/shallowMerge()/createObject(): read the one member (Bicep-compiled
                    # modules build `properties` this way)
                    state, member = object_member(cur, seg)
                    if state != "set":
                        return ABSENT if state == "absent" else UNKNOWN_VALUE
                    value = self.ctx.evaluate_node(member)
                    cur, written = _Resolved(value), False
                    note = note or _node_note(member)
                    continue
                cur = resolved
                written = False
            if isinstance(cur, _Resolved):
                return UNKNOWN_VALUE  # deeper than one member of a built object: not read
            if cur is None:
                return ABSENT
            if not isinstance(cur, dict):
                return UNKNOWN_VALUE
            k = _member(cur, seg)
            if k is None:
                return ABSENT
            cur = cur[k]
            if written:
                doc_path += (k,)
        if isinstance(cur, _Resolved):
            value = cur.value
            if value is None:
                return ABSENT
            if value is UNKNOWN or isinstance(value, (dict, list)) or isinstance(value, str) and UNKNOWN_SEGMENT in value:
                return UNKNOWN_VALUE
            return Value("set", value, doc_path, False, note)
        literal = written and not is_expression(cur)
        if is_expression(cur):
            note = note or _arm_note(cur)
            value = self.resolve(cur)
        else:
            value = self.resolve(cur) if written else cur
        if value is None:
            return ABSENT
        if value is UNKNOWN or isinstance(value, str) and UNKNOWN_SEGMENT in value:
            return UNKNOWN_VALUE
        return Value("set", value, doc_path, literal, "" if literal else note)

    def container(self, path: tuple[str, ...]) -> tuple[tuple, tuple[str, ...]] | None:
        cur: Any = self.r
        doc_path = self.path
        for i, seg in enumerate(path):
            if not isinstance(cur, dict):
                return None
            k = _member(cur, seg)
            if k is None:
                return doc_path, path[i:]
            cur = cur[k]
            doc_path += (k,)
        return None


class AvmModuleView(ArmView):
    """A call of an Azure Verified Modules resource module from the registry read as the resource
    it deploys (keyless/rules/iac/avm.py): a switch's property is the parameter of the same name
    (or its AVM alias), the members below it those of the value passed; a parameter not passed
    takes the module's version-dependent default: unknown."""

    def __init__(self, ex: ArmExtractor, r: dict, path: tuple, arm_type: str, aliases: dict[str, str], symbol: str):
        super().__init__(ex, r, path, "Microsoft.Resources/deployments", None)
        self.type = arm_type
        self.api_version = None
        self.absent_unknown = True
        self.aliases = aliases
        params = (r.get("properties") or {}).get("parameters")
        given = params.get("name") if isinstance(params, dict) else None
        name = ex.labels.resolve(given.get("value")) if isinstance(given, dict) else None
        self.name = name if isinstance(name, str) else symbol
        self.key = f"module {symbol}|{arm_type}/{self.name}"

    def parameter(self, path: tuple[str, ...]) -> tuple[str, ...] | None:
        """The module-side path of a switch path: ("properties", "<param>", members...)."""
        if len(path) < 2 or path[0] != "properties":
            return None
        params = (self.r.get("properties") or {}).get("parameters")
        if not isinstance(params, dict):
            return None
        for name in (self.aliases.get(path[1]), path[1]):
            k = _member(params, name) if name else None
            if k is not None:
                return ("properties", "parameters", k, "value") + tuple(path[2:])
        return None

    def lookup(self, path: tuple[str, ...]) -> Value:
        inner = self.parameter(path)
        if inner is None:
            return UNKNOWN_VALUE
        v = super().lookup(inner)
        return UNKNOWN_VALUE if v.state == "absent" else v

    def written_path(self, path: tuple[str, ...]) -> tuple[str, ...]:
        inner = self.parameter(path)
        return ("params", inner[2]) + inner[4:] if inner else path

    def container(self, path: tuple[str, ...]) -> tuple[tuple, tuple[str, ...]] | None:
        return None  # what the caller does not pass is not written here


def avm_module_view(ex: ArmExtractor, r: dict, path: tuple, switch_types: set[str]) -> AvmModuleView | None:
    declared = ex.em.declaration(path) if hasattr(ex.em, "declaration") else None
    if not declared or declared[0] != "module":
        return None
    found = avm_resource(declared[2], switch_types)
    if found is None:
        return None
    return AvmModuleView(ex, r, path, found[0], found[1], declared[1])


_LAST_NAME_SEGMENT_RE = lazy_compile(r"['/]([A-Za-z0-9_.-]+)'\s*\)\s*\]\s*$")


class _Resolved:
    """A member value taken out of an object-building expression (already evaluated)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _node_note(node: Any) -> str:
    if isinstance(node, Call) and node.name == "parameters" and len(node.args) == 1 and isinstance(node.args[0], Lit):
        return f" (from parameter '{node.args[0].value}')"
    return ""


def _member(obj: dict, name: str) -> str | None:
    """ARM property names are case-insensitive."""
    if name in obj:
        return name
    low = name.lower()
    return next((k for k in obj if isinstance(k, str) and k.lower() == low), None)


def _arm_note(raw: str) -> str:
    ref = only_reference(raw)
    if ref is None:
        return ""
    return f" (from {'parameter' if ref[0] == 'parameters' else 'variable'} '{ref[1]}')"


def passed_list(resolve: Any, value: Any) -> Any:
    """A list given whole as an expression (`env: env` in a module whose caller passes the
    entries): its evaluated items when they are known, else the value as it is."""
    if is_expression(value):
        items = resolve(value)
        if isinstance(items, list) and all(isinstance(i, dict) for i in items):
            return items
    return value


def copied(obj: dict, key: str) -> Any:
    """`obj[key]`, or UNKNOWN when a property copy loop (`"copy": [{"name": key, ...}]`, what
    Bicep compiles `key: [for ...]` to) builds it: its items exist only at deploy time."""
    loops = obj.get("copy")
    if isinstance(loops, list) and any(isinstance(c, dict) and c.get("name") == key for c in loops):
        return UNKNOWN
    return obj.get(key)


def inherits_scope(deployment: dict) -> bool:
    """A `Microsoft.Resources/deployments` resource without scope properties deploys at the scope
    of the template that holds it."""
    return not any(k in deployment for k in ("scope", "resourceGroup", "subscriptionId"))


def inner_context(template: dict, passed: dict, resolve: Any) -> Context:
    """Parameters of a nested template evaluated in its own (inner) scope: the values the
    deployment passes, evaluated by the parent (`resolve`), else the defaults (an expression
    default is evaluated in the nested template, as ARM does)."""
    values = {}
    computed = []
    tparams = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    for pname, pdef in tparams.items():
        given = passed.get(pname)
        if isinstance(given, dict) and "value" in given:
            values[pname] = Deferred(partial(resolve, given["value"]))
        elif isinstance(pdef, dict) and "defaultValue" in pdef and not is_expression(pdef["defaultValue"]):
            values[pname] = Context().resolve(pdef["defaultValue"])
        else:
            values[pname] = UNKNOWN
            if isinstance(pdef, dict) and is_expression(pdef.get("defaultValue")):
                computed.append((pname, pdef["defaultValue"]))
    ctx = Context(values, template.get("variables") if isinstance(template.get("variables"), dict) else {})
    if computed:
        # A weak reference: the context holding a value that holds the context would be a cycle
        # only the cyclic GC frees (with every template it reaches).
        own = weakref.ref(ctx)
        for pname, default in computed:
            ctx.parameters[pname.lower()] = Deferred(partial(_resolve_in, own, default))
    return ctx


def _expressions(value: Any, path: tuple, depth: int = 0) -> Iterator[tuple[tuple, str]]:
    """Every ARM expression string in a value (an object or array output's members too)."""
    if depth > 20:
        return
    if is_expression(value):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _expressions(v, path + (k,), depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _expressions(v, path + (i,), depth + 1)


# Where a value is a name or an address, not a secret: a resource's `name`, `secretRef`, and keys
# that end in Name, Uri, Url, Id, Path or Endpoint (`keyVaultUrl`, `secretName`, `principalId`).
_NAME_KEY_RE = lazy_compile(r"(?:^(?:name|parent|scope|secretref|dependson)$|(?:name|names|uri|url|id|ids|path|endpoint)$)", re.I)


def name_only_parameters(template: dict, depth: int = 0) -> set[str]:
    """Lower-case names of the template's parameters that hold a name or an address (a Key Vault
    secret's name, a secret URI), judged by what the template does with them: every use is in a
    name position (a resource's `name`, a `...Name`/`...Uri` property, a module parameter that is
    itself name-only) and there is at least one, or the parameter's own name says so and nothing
    uses it as a value. A `@secure()` parameter holding a name is no secret (KL257/KL258)."""
    params = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    if not params or depth > 8:
        return set()
    name_uses: set[str] = set()
    value_uses: set[str] = set()

    def note(value: Any, is_name: bool) -> None:
        # An argument of resourceId() and its kin is a name wherever the expression stands.
        as_value = set() if is_name else set(referenced(value, outside=RESOURCE_ID_FUNCTIONS))
        for p in referenced(value):
            (value_uses if p in as_value else name_uses).add(p.lower())

    todo: list[tuple[Any, str, int]] = [(v, k, 0) for k, v in template.items() if k not in ("parameters", "outputs")]
    while todo:
        node, key, level = todo.pop()
        if level > 60:
            continue
        if isinstance(node, str):
            if is_expression(node):
                note(node, bool(_NAME_KEY_RE.search(key)))
        elif isinstance(node, list):
            todo.extend((v, key, level + 1) for v in node)
        elif isinstance(node, dict):
            props = node.get("properties")
            if str(node.get("type", "")).lower() == "microsoft.resources/deployments" and isinstance(props, dict) \
                    and isinstance(props.get("parameters"), dict):
                # A value passed to a module is judged by what the module does with it.
                inner = props.get("template") if isinstance(props.get("template"), dict) else None
                inner_names = name_only_parameters(inner, depth + 1) if inner is not None else set()
                for pname, given in props["parameters"].items():
                    if isinstance(given, dict) and "value" in given:
                        is_name = pname.lower() in inner_names if inner is not None else name_like(pname)
                        for _, expr in _expressions(given["value"], ()):
                            note(expr, is_name)
                todo.extend((v, k, level + 1) for k, v in node.items() if k != "properties")
                todo.extend((v, k, level + 1) for k, v in props.items() if k != "parameters")
                continue
            todo.extend((v, k, level + 1) for k, v in node.items())
    out = set()
    for name in params:
        low = name.lower()
        if low in value_uses:
            continue
        if low in name_uses or (name_like(name) and not secretish_name(name)):
            out.add(low)
    return out


def _resolve_in(ctx_ref: Any, value: Any) -> Any:
    ctx = ctx_ref()
    return UNKNOWN if ctx is None else ctx.resolve(value)


def _at(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


def _has_string_leaf(v: Any, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if isinstance(v, str):
        return bool(v)
    if isinstance(v, dict):
        return any(_has_string_leaf(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return any(_has_string_leaf(x, depth + 1) for x in v)
    return False


def _sl(span: Any) -> list:
    from keyless.rules.iac.facts import span_to_list

    return span_to_list(span)


def _scope_words(kinds: set) -> str:
    order = ["tenant", "managementGroup", "subscription", "resourceGroup"]
    words = {"tenant": "tenant root", "managementGroup": "management-group", "subscription": "subscription",
             "resourceGroup": "resource-group"}
    return "/".join(words[k] for k in order if k in kinds)


def guid_mismatch(guid: str, role: str | None, named: str) -> str | None:
    """A message when `guid` contradicts the role `named` next to it, else None."""
    expected = R.ROLES[named].lower()
    if guid == expected:
        return None
    if role is not None:
        sq_role = re.sub(r"[^a-z]", "", role.lower())
        sq_named = re.sub(r"[^a-z]", "", named.lower())
        if sq_named in sq_role or sq_role in sq_named:
            return None  # e.g. 'Owner' next to Storage Blob Data Owner: a prefix of a longer name
        return f"Role GUID grants '{role}', but the name next to it says '{named}'"
    close = guid[:8] == expected[:8] or guid[-12:] == expected[-12:] or _distance(guid, expected) <= 3
    if close:
        return f"Role GUID {guid} is no built-in role; the name next to it says '{named}'"
    return None


def _distance(a: str, b: str) -> int:
    if len(a) != len(b):
        return 99
    return sum(1 for x, y in zip(a, b) if x != y)


def arm_name_hints(raw: Any) -> list[str]:
    """Variable/parameter/property names used in an ARM expression (role-name hints)."""
    if not is_expression(raw):
        return []
    out = referenced(raw, ("variables", "parameters"))
    out += re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)", raw)
    return out


def env_entry(sx: Any, w: Workload) -> str:
    """The AZURE_CLIENT_ID env entry / app setting, in the template's syntax."""
    cid = w.uamis[0].client_id if w.uamis else "<client id of the user-assigned identity>"
    return sx.entry({"name": "AZURE_CLIENT_ID", "value": Code(cid, arm=cid)})


def client_secret_message(where: str) -> str:
    return f"AZURE_CLIENT_SECRET is set for {where}; use the app's managed identity instead"


def client_secret_fix() -> dict:
    return fix_dict("Remove AZURE_CLIENT_SECRET (and AZURE_TENANT_ID if only used for it): DefaultAzureCredential "
                    "signs in with it first. Give the app a managed identity with the service principal's roles",
                    "display-only")


def key_fed_fix(name: str, source: tuple[str, str] | None = None) -> dict:
    """The help of a setting fed with a key; `source`: whose key it is (note_key_user)."""
    if source is not None and source[0] == "KL251":  # a registry's admin password: pulling needs no key
        return fix_dict(f"Remove '{short_name(name)}': pull images with the app's managed identity holding AcrPull "
                        "instead of the registry password, then turn the registry's admin user off", "display-only")
    return fix_dict(f"Replace '{short_name(name)}' with the service endpoint (e.g. <NAME>__serviceUri or an *_ENDPOINT "
                    "setting), authenticate with the app's managed identity (DefaultAzureCredential) and grant it "
                    "a data-plane role", "display-only")


def functions_storage_fix(how: str = "Replace it with AzureWebJobsStorage__accountName = <storage account name>") -> dict:
    return fix_dict(f"{how}, give the app a managed identity and grant it Storage Blob Data Owner, Storage Queue Data "
                    "Contributor and Storage Table Data Contributor on the account", "display-only")


# ---- Container Apps (ARM and `az containerapp --yaml`) ------------------------------------------

def analyze_aca(em: Emitter, w: Workload, r: dict, path: tuple, resolve: Any, fmt: str, api_version: Any,
                label: Any = None) -> None:
    """`resolve` evaluates values; `label` (default: resolve) the names that messages and keys show."""
    label = label or resolve
    sx = em.syntax
    props = r.get("properties") if isinstance(r.get("properties"), dict) else {}
    pp = path + ("properties",)
    conf = props.get("configuration") if isinstance(props.get("configuration"), dict) else {}
    cp = pp + ("configuration",)
    tmpl = props.get("template") if isinstance(props.get("template"), dict) else {}
    tp = pp + ("template",)
    n_ids = w.runtime_identity_count()
    # identitySettings: identities whose lifecycle keeps them away from the app's main containers
    ids = conf.get("identitySettings")
    if isinstance(ids, list):
        for s in ids:
            if isinstance(s, dict):
                lc = resolve(s.get("lifecycle"))
                ident = s.get("identity")
                if isinstance(lc, str) and lc.lower() in ("none", "init") and isinstance(ident, str):
                    w.not_runtime.add(_disp(ident))
    many = (w.runtime_identity_count() or 0) >= 2 or (n_ids or 0) >= 2
    # A dev add-on (`configuration.service`: postgres, redis, kafka...) runs no code of yours and needs
    # no identity; one given as an expression may be one.
    service = conf.get("service")
    if service is not None and (not is_expression(service) or resolve(service) is not None):
        w.addon = True
    secrets = passed_list(resolve, conf.get("secrets"))
    # registries
    regs = passed_list(resolve, conf.get("registries"))
    if isinstance(regs, list):
        for i, reg in enumerate(regs):
            if not isinstance(reg, dict):
                continue
            server = label(reg.get("server"))
            sdisp = server if isinstance(server, str) else "?"
            rp = cp + ("registries", i)
            shown = server if isinstance(server, str) else sx.shown(em, rp + ("server",), reg.get("server"))
            if reg.get("passwordSecretRef") not in (None, "") or reg.get("username") not in (None, ""):
                where = rp + ("passwordSecretRef",) if "passwordSecretRef" in reg else rp + ("username",)
                if azure_registry(server) is False:
                    # Managed identity cannot pull from it: the password is needed, and belongs in Key Vault.
                    if label(reg.get("passwordSecretRef")) in _key_vault_secrets(secrets, label):
                        continue
                    em.issue("KL250", where, f"{w.key}|registry|{sdisp}",
                             f"{w.label} pulls from '{short_name(shown)}' with a password kept in the app; "
                             "keep it in Key Vault", severity="medium",
                             fix=non_azure_registry_fix("make passwordSecretRef's secret a Key Vault reference"))
                    continue
                w.key_auth.append("registry password")
                em.issue("KL250", where,
                         f"{w.key}|registry|{sdisp}",
                         f"{w.label} pulls from '{short_name(shown)}' with a registry password; use an identity",
                         fix=fix_dict("Replace username/passwordSecretRef with "
                                      f"{sx.prop('identity', '<user-assigned identity resource id>')} (or 'system') and "
                                      "grant that identity AcrPull on the registry", "display-only"))
            elif reg.get("identity") in (None, "") and many:
                em.issue("KL502", rp, f"{w.key}|registry|{sdisp}|identity",
                         f"Registry '{short_name(shown)}' of {w.label} names no identity (the app has several); set one",
                         fix=fix_dict(f"Add {sx.prop('identity', '<resource id of the user-assigned identity with AcrPull>')} "
                                      "(or 'system') to the registry entry.", "display-only"))
    # secrets
    kv_backed: set[str] = set()
    if isinstance(secrets, list):
        for i, s in enumerate(secrets):
            if not isinstance(s, dict):
                continue
            sname = label(s.get("name"))
            sp = cp + ("secrets", i)
            shown = sname if isinstance(sname, str) else sx.shown(em, sp + ("name",), s.get("name"))
            sname = sname if isinstance(sname, str) else "?"
            if s.get("keyVaultUrl") not in (None, ""):
                kv_backed.add(sname)
                if s.get("identity") in (None, "") and many:
                    em.issue("KL502", sp, f"{w.key}|secret|{sname}|identity",
                             f"Key Vault secret '{short_name(shown)}' of {w.label} names no identity (the app has "
                             "several); set one",
                             fix=fix_dict(f"Add {sx.prop('identity', '<resource id of the identity with Key Vault Secrets User>')} "
                                          "(or 'System') to the secret.", "display-only"))
                continue
            if s.get("value") is None:
                continue  # no value written (`value: #{token}#` reads as a comment)
            src, carrier = carried_key(s.get("value"), em.variables) or (None, None)
            if src:
                w.key_auth.append(src)
                source = note_key_user(em, sp + ("value",), carrier, "KL252")
                em.issue("KL252", sp + ("value",), f"{w.key}|secret|{sname}",
                         first_fitting(f"Secret '{short_name(shown)}' of {w.label} holds a key ({src}); use an identity",
                                       f"Secret '{short_name(shown)}' holds a key ({src}); use an identity"),
                         fix=key_fed_fix(sname, source))
            elif not deploy_placeholder(s.get("value")):  # `${SECRET}`, `$(secret)`: filled in at deploy time
                em.issue("KL254", sp + ("value",), f"{w.key}|secret|{sname}",
                         first_fitting(f"Secret '{short_name(shown)}' of {w.label} holds its value inline; reference Key Vault instead",
                                       f"Secret '{short_name(shown)}' holds its value inline; reference Key Vault instead"),
                         severity="medium",
                         fix=fix_dict(f"Replace 'value' with {sx.prop('keyVaultUrl', 'https://<vault>.vault.azure.net/secrets/' + sname)} "
                                      f"and {sx.prop('identity', '<identity resource id>')} (or 'System'); grant that "
                                      "identity Key Vault Secrets User", "display-only"))
    # containers and env
    first_env_path = None
    for ckey in ("containers", "initContainers"):
        cs = copied(tmpl, ckey)
        if not isinstance(cs, list):
            if cs is not None and ckey == "containers":
                w.env_unknown = True
            continue
        for ci, c in enumerate(cs):
            if not isinstance(c, dict):
                w.env_unknown = True
                continue
            img = resolve(c.get("image"))
            if isinstance(img, str):
                w.images.append(img)
            env = passed_list(resolve, copied(c, "env"))
            if env is None:
                if ckey == "containers" and first_env_path is None:
                    first_env_path = tp + (ckey, ci)
                continue
            if not isinstance(env, list):
                w.env_unknown = True
                continue
            if ckey == "containers" and first_env_path is None:
                first_env_path = tp + (ckey, ci, "env")
            for ei, e in enumerate(env):
                if not isinstance(e, dict):
                    w.env_unknown = True
                    continue
                en = resolve(e.get("name"))
                if not isinstance(en, str):
                    w.env_unknown = True
                    continue
                if ckey == "containers":
                    w.env_names.add(en)
                check_env_credential(em, w, en, e.get("value"), tp + (ckey, ci, "env", ei))
    w.env_container_path = first_env_path
    # scale rules
    rules_paths: list[tuple[Any, tuple]] = []
    scale = tmpl.get("scale")
    if isinstance(scale, dict) and isinstance(scale.get("rules"), list):
        rules_paths.append((scale["rules"], tp + ("scale", "rules")))
    etc = conf.get("eventTriggerConfig")
    if isinstance(etc, dict) and isinstance(etc.get("scale"), dict) and isinstance(etc["scale"].get("rules"), list):
        rules_paths.append((etc["scale"]["rules"], cp + ("eventTriggerConfig", "scale", "rules")))
    supports = aca_scale_supports_identity(api_version) if fmt == "arm" else True
    for rules, rpath in rules_paths:
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            analyze_scale_rule(em, w, rule, rpath + (i,), resolve, supports, api_version, label)


def _key_vault_secrets(secrets: Any, label: Any) -> set[str]:
    """Names of the Container Apps secrets that are Key Vault references."""
    return {n for s in (secrets if isinstance(secrets, list) else ()) if isinstance(s, dict)
            and s.get("keyVaultUrl") not in (None, "") and isinstance(n := label(s.get("name")), str)}


def check_env_credential(em: Emitter, w: Workload, name: str, value: Any, path: tuple) -> bool:
    """KL259 / KL252 for one container env entry (ACA and ACI alike); True when it reported one."""
    if name == "AZURE_CLIENT_SECRET":
        w.key_auth.append("AZURE_CLIENT_SECRET")
        em.issue("KL259", path + ("name",), f"{w.key}|env|{name}", client_secret_message(w.label),
                 severity="high", fix=client_secret_fix())
        return True
    src, carrier = carried_key(value, em.variables) or (None, None)
    if src:
        w.key_auth.append(src)
        source = note_key_user(em, path + ("value",), carrier, "KL252")
        em.issue("KL252", path + ("value",), f"{w.key}|env|{name}",
                 first_fitting(f"Env var '{short_name(name)}' of {w.label} holds a key ({src}); use an identity",
                               f"Env var '{short_name(name)}' holds a key ({src}); use an identity"),
                 fix=key_fed_fix(name, source))
        return True
    return False


def analyze_scale_rule(em: Emitter, w: Workload, rule: dict, path: tuple, resolve: Any, supports: bool | None,
                       api_version: Any, label: Any) -> None:
    rname = label(rule.get("name"))
    shown = rname if isinstance(rname, str) else em.syntax.shown(em, path + ("name",), rule.get("name"))
    rname = rname if isinstance(rname, str) else "?"
    body, bpath, scaler = rule, path, None
    if isinstance(rule.get("azureQueue"), dict):
        body, bpath, scaler = rule["azureQueue"], path + ("azureQueue",), "azure-queue"
    elif isinstance(rule.get("custom"), dict):
        body, bpath = rule["custom"], path + ("custom",)
        t = resolve(body.get("type"))
        scaler = t.lower() if isinstance(t, str) else None
    else:
        t = resolve(rule.get("type"))  # jobs: {name, type, metadata, auth}
        scaler = t.lower() if isinstance(t, str) else None
    auth = body.get("auth")
    if not isinstance(auth, list) or not any(isinstance(a, dict) and a.get("secretRef") for a in auth):
        return
    if body.get("identity") not in (None, ""):
        return
    if scaler not in IDENTITY_SCALERS or supports is not True:
        return  # legitimate: the scaler or the API version has no identity-based auth
    w.key_auth.append("scale-rule secret")
    ai = next(i for i, a in enumerate(auth) if isinstance(a, dict) and a.get("secretRef"))
    extra = " and set accountName" if scaler == "azure-queue" else ""
    api = f" (API version {api_version} supports it)" if isinstance(api_version, str) else ""
    em.issue("KL256", bpath + ("auth", ai, "secretRef"), f"{w.key}|scale|{rname}",
             f"Scale rule '{short_name(shown)}' of {w.label} authenticates with a secret; use a managed identity",
             fix=fix_dict(f"Replace auth[] with {em.syntax.prop('identity', '<identity resource id>')} (or 'system')"
                          f"{extra} and grant that identity a data-plane reader role on the "
                          f"{IDENTITY_SCALERS[scaler]}{api}", "display-only"))


def note_listed_keys(em: Emitter, root: dict, path: tuple) -> None:
    """Every key the template reads with a `list*()` call (into an app setting, a Key Vault secret,
    a Container Apps environment's Log Analytics shared key, an AI Foundry connection, an output):
    a key user of the resource it belongs to. Nested templates are walked on their own."""
    # A node's path is a chain (parent chain, key), unrolled only for the few strings that call
    # list*(): building every node's path tuple was most of this walk.
    todo: list[tuple[Any, tuple, int]] = [(root.get(k), (None, k), 0) for k in ("resources", "outputs")]
    while todo:
        v, chain, depth = todo.pop()
        if isinstance(v, str):
            if _maybe_lists(v) and is_expression(v):
                keys: list = []
                while chain is not None:
                    chain, key = chain
                    keys.append(key)
                note_key_user(em, path + tuple(reversed(keys)), v)
        elif depth < 40 and isinstance(v, dict):
            for k, x in v.items():  # (only containers and strings that may call list*() do anything)
                if (_maybe_lists(x) if isinstance(x, str) else isinstance(x, (dict, list))) and not (
                        k == "template" and isinstance(x, dict) and "resources" in x):
                    todo.append((x, (chain, k), depth + 1))
        elif depth < 40 and isinstance(v, list):
            for i, x in enumerate(v):
                if _maybe_lists(x) if isinstance(x, str) else isinstance(x, (dict, list)):
                    todo.append((x, (chain, i), depth + 1))


def _maybe_lists(v: str) -> bool:
    return v[:1] == "[" and "list" in v.lower()


def mark_granted_system_identities(workloads: list[Workload], resources: list) -> None:
    """`Workload.system_granted` for the apps whose system-assigned identity the template hands to
    another resource or module (`app.identity.principalId` in a role assignment, a Cosmos SQL role
    assignment, a module's principalId parameter): the template grants that identity access."""
    wanted = [w for w in workloads if w.identity.system and w.uamis and w.source is not None]
    if not wanted:
        return
    targets: list[Any] = []
    for r, rpath, _, _ in resources:
        props = r.get("properties")
        for key, v in r.items():
            if key == "properties" and isinstance(props, dict) and "template" in props:
                targets.extend((rpath, x) for k, x in props.items() if k != "template")  # a module's parameters
            elif key != "resources":
                targets.append((rpath, v))
    for w in wanted:
        rtype, raw_name, name = w.source
        symbol = w.path[-1] if isinstance(w.path[-1], str) else None
        for rpath, value in targets:
            if rpath[:len(w.path)] == w.path:
                continue  # the app itself
            if any(_is_system_principal_of(node, rtype, raw_name, name, symbol)
                   for _, e in _expressions(value, ()) for node in _principal_targets(e)):
                w.system_granted = True
                break


def _principal_targets(expression: str) -> Iterator[Any]:
    """The first argument of each `reference(x, ...).identity.principalId` in an ARM expression."""
    if "principalid" not in expression.lower():
        return
    try:
        todo = [parse(expression[1:-1])]
    except ExprError:
        return
    while todo:
        n = todo.pop()
        if isinstance(n, Member):
            t = n.target
            if (n.name.lower() == "principalid" and isinstance(t, Member) and t.name.lower() == "identity"
                    and isinstance(t.target, Call) and t.target.name == "reference" and t.target.args):
                yield t.target.args[0]
            todo.append(t)
        elif isinstance(n, Call):
            todo.extend(n.args)
        elif isinstance(n, Index):
            todo.extend((n.target, n.index))


def _is_system_principal_of(node: Any, rtype: str, raw_name: Any, name: Any, symbol: str | None) -> bool:
    """Whether `reference(node)` is the resource: its symbolic name, its literal name, or
    `resourceId('<type>', <the name as written>)`."""
    if isinstance(node, Lit) and isinstance(node.value, str):
        return node.value == symbol or isinstance(name, str) and node.value == name
    if not (isinstance(node, Call) and node.name == "resourceid" and isinstance(raw_name, str)):
        return False
    at = next((i for i, a in enumerate(node.args)
               if isinstance(a, Lit) and isinstance(a.value, str) and a.value.lower() == rtype.lower()), None)
    if at is None or len(node.args) != at + 2:
        return False
    try:
        written = parse(raw_name[1:-1]) if is_expression(raw_name) else Lit(raw_name)
    except ExprError:
        return False
    return node.args[at + 1] == written


def _disp(v: Any) -> str:
    if isinstance(v, str):
        return v[1:-1] if is_expression(v) else v
    return "?"


# ---- Container Instances (ARM and ACI YAML) ---------------------------------------------------------

def analyze_aci(em: Emitter, w: Workload, r: dict, path: tuple, resolve: Any, fmt: str, label: Any = None) -> None:
    label = label or resolve
    props = r.get("properties") if isinstance(r.get("properties"), dict) else {}
    pp = path + ("properties",)
    creds = props.get("imageRegistryCredentials")
    if isinstance(creds, list):
        for i, c in enumerate(creds):
            if isinstance(c, dict) and c.get("password") not in (None, ""):
                server = label(c.get("server"))
                sdisp = server if isinstance(server, str) else "?"
                shown = server if isinstance(server, str) else em.syntax.shown(
                    em, pp + ("imageRegistryCredentials", i, "server"), c.get("server"))
                if azure_registry(server) is False:
                    em.issue("KL250", pp + ("imageRegistryCredentials", i, "password"), f"{w.key}|registry|{sdisp}",
                             f"{w.label} pulls from '{short_name(shown)}' with a password; keep it in Key Vault",
                             severity="medium",
                             fix=non_azure_registry_fix("pass it as a secure parameter from a Key Vault reference"))
                    continue
                w.key_auth.append("registry password")
                em.issue("KL250", pp + ("imageRegistryCredentials", i, "password"), f"{w.key}|registry|{sdisp}",
                         f"{w.label} pulls from '{short_name(shown)}' with a registry password; use an identity",
                         fix=fix_dict(f"Use {em.syntax.prop('identity', '<user-assigned identity resource id>')} in the "
                                      "registry credential instead of username/password and grant that identity AcrPull "
                                      "on the registry (Windows groups: user-assigned only)", "display-only"))
    cs = props.get("containers")
    if not isinstance(cs, list):
        w.env_unknown = w.env_unknown or cs is not None
        return
    for ci, c in enumerate(cs):
        if not isinstance(c, dict):
            continue
        cprops = c.get("properties") if isinstance(c.get("properties"), dict) else {}
        img = resolve(cprops.get("image"))
        if isinstance(img, str):
            w.images.append(img)
        env = passed_list(resolve, copied(cprops, "environmentVariables"))
        if env is None:
            if w.env_container_path is None:
                w.env_container_path = path + ("properties", "containers", ci, "properties")
            continue
        if not isinstance(env, list):
            w.env_unknown = True
            continue
        if w.env_container_path is None:
            w.env_container_path = pp + ("containers", ci, "properties", "environmentVariables")
        for ei, e in enumerate(env):
            if not isinstance(e, dict):
                w.env_unknown = True
                continue
            en = resolve(e.get("name"))
            if not isinstance(en, str):
                w.env_unknown = True
                continue
            w.env_names.add(en)
            ep = pp + ("containers", ci, "properties", "environmentVariables", ei)
            raw = e.get("value")
            if check_env_credential(em, w, en, raw, ep):
                continue
            if "value" in e and raw not in (None, "") and secretish_name(en):
                em.issue("KL255", ep + ("value",), f"{w.key}|env|{en}",
                         f"Env var '{short_name(en)}' of {w.label} looks like a secret but is a plain 'value'; "
                         "use 'secureValue'", severity="medium",
                         fix=fix_dict("Use 'secureValue' instead of 'value' (plain values are readable by anyone "
                                      "with read access) and feed it from Key Vault, or drop the secret and use the "
                                      "group's managed identity", "display-only"))
    w.client_id_fix_text = env_entry(em.syntax, w) if fmt == "arm" else yaml_env_entry(w)


def yaml_env_entry(w: Workload) -> str:
    target = w.uamis[0].ref if w.uamis else "the user-assigned identity"
    return f"- name: AZURE_CLIENT_ID\n  value: <client id of {target}>"


def arm_scope_expr_kind(raw: Any) -> str:
    try:
        node = parse(raw[1:-1]) if is_expression(raw) else None
    except ExprError:
        return "unknown"
    if isinstance(node, Member) and isinstance(node.target, Call):
        return node.target.name
    return "unknown"
