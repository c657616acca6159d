"""Terraform: HCL (python-hcl2 shape), `.tf.json` and `terraform show -json` plans.

All three are normalised into `TDict`/`TList` trees whose string leaves are either literals (`str`)
or `Ref` (an expression kept as text: `azurerm_user_assigned_identity.x.id`, a template string, a
function call). Each node remembers its document path so findings point at the right place.

In HCL and `.tf.json`, `var.*` / `local.*` references inside the resources and outputs the
extractor reads are replaced by their module values where those are literal (see `tfmodule`: the
module is the file's directory, with its tfvars); `origins` remembers which document paths got a
value from a variable, so messages can say "(from the default of var.role)".
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from keyless.linter.messages import first_fitting, short_name
from keyless.rules.iac.arm import (
    client_secret_fix,
    client_secret_message,
    functions_storage_fix,
    guid_mismatch,
    key_fed_fix,
)
from keyless.rules.iac.common import (
    STORAGE_ACCOUNTS,
    Emitter,
    Ref,
    Uami,
    Workload,
    azure_registry,
    deploy_placeholder,
    emit_workload,
    is_unknown,
    key_source,
    line_indent,
    name_like,
    non_azure_registry_fix,
    note_key_user,
    parse_identity_type,
    secretish_name,
)
from keyless.rules.iac.expr import UNKNOWN, classify_scope
from keyless.rules.iac.facts import fix_dict, inline, span_to_list
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
    grant_of,
    tf_types,
)
from keyless.rules.iac import roles as R
from keyless.linter.workspace import reldir_of
from keyless.rules.iac.tfmodule import ModuleValues, Opaque, TemplateRef, hcl_string, origin_note


class TDict(dict):
    __slots__ = ("path", "raw")

    def __init__(self, path: tuple):
        super().__init__()
        self.path = path
        self.raw: dict[str, Any] = {}

    def p(self, key: str) -> tuple:
        return self.path + (self.raw.get(key, key),)


class Aliases(TDict):
    """An azapi resource read as the azurerm resource it stands for: each azurerm attribute name
    maps to (node, key) in the azapi block or its ARM-shaped body, so values, spans and variable
    notes stay those of the azapi file."""

    __slots__ = ("aliases",)

    def __init__(self, path: tuple, **aliases: tuple[TDict, str]):
        super().__init__(path)
        self.aliases: dict[str, tuple] = {}
        for name, (node, key) in aliases.items():
            if key in node:
                self[name] = node[key]
                self.raw[name] = name
                self.aliases[name] = node.p(key)

    def p(self, key: str) -> tuple:
        return self.aliases.get(key) or super().p(key)


class TList(list):
    __slots__ = ("path",)

    def __init__(self, path: tuple):
        super().__init__()
        self.path = path


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s


def scalar(v: Any) -> Any:
    return hcl_string(v) if isinstance(v, str) else v


def norm(v: Any, path: tuple, depth: int = 0) -> Any:
    if depth > 60:
        return UNKNOWN
    if isinstance(v, dict):
        d = TDict(path)
        for k, x in v.items():
            if k == "__is_block__" or k.startswith("__"):
                continue
            ck = _unquote(k) if isinstance(k, str) else k
            d.raw[ck] = k
            d[ck] = norm(x, path + (k,), depth + 1)
        return d
    if isinstance(v, list):
        lst = TList(path)
        for i, x in enumerate(v):
            lst.append(norm(x, path + (i,), depth + 1))
        return lst
    return scalar(v)


def blocks(node: Any, name: str) -> list:
    """Blocks named `name` under `node` (a list in hcl2/plan shape, a dict or list in .tf.json)."""
    if not isinstance(node, TDict):
        return []
    v = node.get(name)
    if isinstance(v, TDict):
        return [v]
    if isinstance(v, TList):
        return [b for b in v if isinstance(b, TDict)]
    return []


def has_dynamic(node: Any, name: str) -> bool:
    for dyn in blocks(node, "dynamic"):
        if name in dyn:
            return True
    return False


def iter_resources(root: TDict, kind: str = "resource") -> Iterator[tuple[str, str, TDict]]:
    """(type, name, body) for every resource in an HCL or .tf.json document."""
    res = root.get(kind)
    groups = res if isinstance(res, TList) else [res] if isinstance(res, TDict) else []
    for g in groups:
        if not isinstance(g, TDict):
            continue
        for rtype, named in g.items():
            items = named if isinstance(named, TList) else [named]
            for item in items:
                if not isinstance(item, TDict):
                    continue
                for rname, body in item.items():
                    bodies = body if isinstance(body, TList) else [body]
                    for b in bodies:
                        if isinstance(b, TDict):
                            yield rtype, rname, b


WEB_TYPES = {
    "azurerm_linux_web_app": "webapp", "azurerm_windows_web_app": "webapp", "azurerm_app_service": "webapp",
    "azurerm_linux_function_app": "functionapp", "azurerm_windows_function_app": "functionapp",
    "azurerm_function_app": "functionapp", "azurerm_function_app_flex_consumption": "functionapp",
    "azurerm_linux_web_app_slot": "webapp", "azurerm_windows_web_app_slot": "webapp",
    "azurerm_linux_function_app_slot": "functionapp", "azurerm_windows_function_app_slot": "functionapp",
    "azurerm_app_service_slot": "webapp", "azurerm_function_app_slot": "functionapp",
}

_UAMI_REF_RE = re.compile(r"^(data\.)?(azurerm_user_assigned_identity)\.([A-Za-z0-9_-]+)(\[[^\]]*\])?\.id$")


# `<type>.<name>.identity[0].principal_id`: the principal of a resource's system-assigned identity.
_SYSTEM_PRINCIPAL_RE = re.compile(r"(?<![\w.-])([a-z][\w-]*\.[\w-]+)\.identity(?:\[0\]|\.0)\.principal_id\b")


def granted_system_identities(root: TDict) -> dict[str, set[str]]:
    """Resource address -> addresses of the resources and module calls that take the principal id
    of its system-assigned identity (role assignments, Cosmos SQL role assignments, a module's
    principal_id argument): the configuration grants that identity access."""
    out: dict[str, set[str]] = {}
    holders = [(f"{t}.{n}", b) for t, n, b in iter_resources(root)]
    holders += [(f"module.{n}", b) for n, b in iter_blocks1(root, "module")]
    for addr, body in holders:
        todo: list[tuple[Any, int]] = [(body, 0)]
        while todo:
            v, depth = todo.pop()
            if isinstance(v, str):
                if "principal_id" in v:
                    for m in _SYSTEM_PRINCIPAL_RE.finditer(v):
                        out.setdefault(m.group(1), set()).add(addr)
            elif depth < 20 and isinstance(v, (TDict, TList)):
                todo.extend((x, depth + 1) for x in (v.values() if isinstance(v, TDict) else v))
    return out


def _names_key_attribute(text: str) -> bool:
    """Cheap test before `key_rule` reads a reference: key attributes start so."""
    return "primary_" in text or "secondary_" in text or "connection_strings" in text


def note_key_attributes(em: Emitter, root: TDict) -> None:
    """Every key attribute the configuration reads (`azurerm_storage_account.sa.primary_access_key`
    into an app setting, a Key Vault secret, a module argument, an output): a key user of that
    resource (`iac.key-user`)."""
    holders = [b for _, _, b in iter_resources(root)] + [b for _, b in iter_blocks1(root, "module")] \
        + [b for _, b in iter_blocks1(root, "output")]
    for body in holders:
        todo: list[tuple[Any, tuple, int]] = [(body, body.path, 0)]
        while todo:
            v, path, depth = todo.pop()
            if isinstance(v, Ref):
                if _names_key_attribute(v):
                    note_key_user(em, path, v)
            elif depth < 20 and isinstance(v, TDict):
                todo.extend((x, v.p(k), depth + 1) for k, x in v.items())
            elif depth < 20 and isinstance(v, TList):
                todo.extend((x, v.path + (i,), depth + 1) for i, x in enumerate(v))


def iter_blocks1(root: TDict, kind: str) -> Iterator[tuple[str, TDict]]:
    """(label, body) of every one-label block of a kind (`module`, `variable`, `output`)."""
    v = root.get(kind)
    groups = v if isinstance(v, TList) else [v] if isinstance(v, TDict) else []
    for g in groups:
        if isinstance(g, TDict):
            for name, body in g.items():
                for b in (body if isinstance(body, TList) else [body]):
                    if isinstance(b, TDict):
                        yield name, b


def tf_scope_kind(v: Any) -> str:
    if isinstance(v, Ref):
        s = str(v).strip()
        if re.fullmatch(r"data\.azurerm_subscription\.[\w-]+(\[[^\]]*\])?\.id", s):
            return "subscription"
        if re.fullmatch(r"(data\.)?azurerm_resource_group\.[\w-]+(\[[^\]]*\])?\.id", s):
            return "resourceGroup"
        if re.fullmatch(r"(data\.)?azurerm_management_group\.[\w-]+(\[[^\]]*\])?\.id", s):
            return "managementGroup"
        if re.fullmatch(r"(data\.)?azurerm_[a-z0-9_]+\.[\w-]+(\[[^\]]*\])?\.id", s):
            return "resource"
        if s.startswith("/") or s.startswith('"/'):
            # An interpolation's text stops at the next `${` (linear on `${${${...`).
            return classify_scope(re.sub(r"\$\{(?:[^}$]|\$(?!\{))*+\}", "{?}", s.strip('"')))
        return "unknown"
    if isinstance(v, str):
        return classify_scope(v)
    return "unknown"


# Resource types `TerraformExtractor.resource` reads; only their values are resolved (role
# assignments attribute by attribute, as `role_assignment` reads them).
EXTRACTED_TYPES = frozenset({
    "azurerm_container_app", "azurerm_container_app_job", "azurerm_container_group", "azurerm_container_registry",
    "azurerm_role_definition",
}) | frozenset(t for t, kind in WEB_TYPES.items() if kind)

# Meta-arguments and dynamic blocks: their references (each.*, count.*) are not values the rules read.
_NOT_RESOLVED_KEYS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider", "dynamic"})
_MODULE_REF_RE = re.compile(r"(?<![\w.-])(?:var|local)\.")


def place(value: Any, path: tuple) -> Any:
    """A resolved module value as a `TDict`/`TList` tree at `path` (the reference's location)."""
    if isinstance(value, dict):
        d = TDict(path)
        for k, x in value.items():
            d.raw[k] = k
            d[k] = place(x, path + (k,))
        return d
    if isinstance(value, list):
        lst = TList(path)
        lst.extend(place(x, path + (i,)) for i, x in enumerate(value))
        return lst
    return value


class TerraformExtractor:
    def __init__(self, em: Emitter, fmt: str, inputs: dict | None = None, chain: tuple[str, ...] | None = None):
        self.em = em
        self.doc = em.doc
        self.fmt = fmt  # tf, tf-json, tf-plan
        self.inputs = inputs  # a module walked from a caller: the values it passes (tfcalls.py)
        self.chain = chain if chain is not None else (reldir_of(em.doc.relpath),)  # module directories walked
        self.module_values: ModuleValues | None = None
        self.own_values: Any = None  # the document's raw values when it mentions var. or local.
        self.origins: dict[tuple, frozenset[str]] = {}  # path -> where its resolved value came from
        self.unresolved: dict[tuple, Ref] = {}  # path -> the reference written there
        self.root: TDict | None = None  # the document (HCL, .tf.json), for data sources
        self.switch_views: list[TfView] = []  # resources a switch table names, checked once all are read
        self.switch_companions: list[TfView] = []

    # -- HCL / .tf.json -----------------------------------------------------------------------------
    def module(self, values: Any) -> None:
        root = norm(values, (0,))
        if not isinstance(root, TDict):
            return
        self.root = root
        text = self.doc.text
        if "var." in text or "local." in text:
            self.own_values = values
        elif self.inputs is not None:
            self.own_values = {}  # walked from a caller: sibling files may still read the inputs
        switch_types = tf_types() | companion_types()[1] | {"azapi_resource", "azapi_update_resource"}
        self.granted = granted_system_identities(root) if "principal_id" in text else {}
        for rtype, rname, body in iter_resources(root):
            if rtype in EXTRACTED_TYPES or rtype in switch_types:
                self.resolve_refs(body)
            self.resource(rtype, rname, body, f"{rtype}.{rname}")
        self.finish_switches()
        for vname, body in self.iter_blocks1(root, "variable"):
            self.variable(vname, body)
        for oname, body in self.iter_blocks1(root, "output"):
            # Variables never hold references, so only a local naming a key attribute can make an
            # output carry key material (KL258): skip the module's locals when no file names one.
            if self.own_values is not None and self.module_context().index.names_key_attributes:
                self.resolve_refs(body)
            self.output(oname, body)
        if self.fmt in ("tf", "tf-json") and _names_key_attribute(text):
            note_key_attributes(self.em, root)
        if self.fmt in ("tf", "tf-json") and "module" in root:
            from keyless.rules.iac.tfcalls import follow_module_calls

            follow_module_calls(self, root)

    def module_context(self) -> ModuleValues:
        if self.module_values is None:
            self.module_values = ModuleValues(self.doc, self.own_values, self.inputs)
        return self.module_values

    def variables_behind(self, written: str) -> list[str]:
        """The variables the locals named in `written` are defined from (a few levels deep)."""
        found: list[str] = []
        todo, seen = re.findall(r"(?<![\w.-])local\.([A-Za-z_][\w-]*)", str(written)), set()
        while todo and len(seen) < 16:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for raw in self.module_context()._definitions("locals", name) or ():
                text = str(raw)
                found += re.findall(r"(?<![\w.-])var\.([A-Za-z_][\w-]*)", text)
                todo += re.findall(r"(?<![\w.-])local\.([A-Za-z_][\w-]*)", text)
        return found

    def resolve_refs(self, node: TDict | TList, keys: tuple[str, ...] | None = None, module: bool = False) -> None:
        """Replace `var.*` / `local.*` references under `node` (only under `keys` when given) by
        their literal module values (`module`: also when this file itself names none, for a block
        read from another file of the module)."""
        if self.own_values is None and not (module and self.fmt == "tf" and self.doc.workspace is not None):
            return
        items = list(node.items()) if isinstance(node, TDict) else list(enumerate(node))
        for key, v in items:
            if key in _NOT_RESOLVED_KEYS or keys is not None and key not in keys:
                continue
            if isinstance(v, (TDict, TList)):
                self.resolve_refs(v, module=module)
                continue
            if not isinstance(v, Ref) or not _MODULE_REF_RE.search(v):
                continue
            value, origins = self.module_context().resolve(v)
            if isinstance(value, Opaque) or (isinstance(value, Ref) and value == v):
                continue
            path = node.p(key) if isinstance(node, TDict) else node.path + (key,)
            node[key] = place(value, path)
            self.unresolved[path] = v
            if origins:
                self.origins[path] = origins

    def written(self, node: TDict, key: str) -> str:
        """`node[key]` as written, for finding keys: a variable's value (a tfvars edit) never changes
        which finding it is."""
        value = self.unresolved.get(node.p(key), node.get(key))
        return value if isinstance(value, str) else "?"

    def note(self, *paths: tuple | None) -> str:
        """Where the resolved values at or under `paths` came from, as a message suffix."""
        found: set[str] = set()
        for path in paths:
            if path is None:
                continue
            for p, origins in self.origins.items():
                if p[:len(path)] == path:
                    found |= origins
        return origin_note(found)

    def iter_blocks1(self, root: TDict, kind: str) -> Iterator[tuple[str, TDict]]:
        return iter_blocks1(root, kind)

    def variable(self, name: str, body: TDict) -> None:
        if body.get("sensitive") is not True or "default" not in body or name_like(name):
            return  # (a variable named for a Key Vault secret's name or URI holds no secret)
        d = body.get("default")
        if d in (None, "") or is_unknown(d) or not isinstance(d, str):
            return
        self.em.issue("KL257", body.p("default"), f"variable|{name}",
                      f"Sensitive variable '{short_name(name)}' has a committed default value; supply it at apply time",
                      fix=fix_dict("Remove the default and supply the value at apply time (TF_VAR_*, a Key Vault "
                                   "data source, or an ephemeral resource)", "display-only"))

    def output(self, name: str, body: TDict) -> None:
        v = body.get("value")
        if body.get("sensitive") is True or not isinstance(v, Ref):
            return
        src = key_source(v)
        if not src:
            return
        self.em.issue("KL258", body.p("value"), f"output|{name}",
                      first_fitting(f"Output '{short_name(name)}' returns {src} without sensitive = true; plan and apply print it",
                                    f"Output '{short_name(name)}' returns {src} without sensitive = true"),
                      severity="high",
                      fix=fix_dict("Do not output keys; let consumers use a managed identity. If it must stay, "
                                   "add sensitive = true (every consumer of the state's outputs can still read it)",
                                   "display-only"))

    # -- plan JSON --------------------------------------------------------------------------------------
    def plan(self, values: Any) -> None:
        if not isinstance(values, dict):
            return
        changes = values.get("resource_changes")
        if isinstance(changes, list):
            for i, rc in enumerate(changes):
                if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
                    continue
                ch = rc.get("change") if isinstance(rc.get("change"), dict) else {}
                after = ch.get("after")
                if not isinstance(after, dict) or "delete" in (ch.get("actions") or []) and after is None:
                    continue
                body = norm(after, (0, "resource_changes", i, "change", "after"))
                mark_unknown(body, ch.get("after_unknown"))
                rtype = str(rc.get("type", ""))
                addr = str(rc.get("address", f"{rtype}.{rc.get('name')}"))
                self.resource(rtype, str(rc.get("name", "")), body, addr)
            self.finish_switches()
            return
        pv = values.get("planned_values")
        if isinstance(pv, dict):
            self.plan_module(pv.get("root_module"), (0, "planned_values", "root_module"))
            self.finish_switches()

    def plan_module(self, mod: Any, path: tuple) -> None:
        if not isinstance(mod, dict):
            return
        for i, r in enumerate(mod.get("resources") or []):
            if isinstance(r, dict) and r.get("mode", "managed") == "managed" and isinstance(r.get("values"), dict):
                body = norm(r["values"], path + ("resources", i, "values"))
                self.resource(str(r.get("type", "")), str(r.get("name", "")), body, str(r.get("address", "")))
        for j, child in enumerate(mod.get("child_modules") or []):
            self.plan_module(child, path + ("child_modules", j))

    # -- resources -------------------------------------------------------------------------------------
    def resource(self, rtype: str, rname: str, body: TDict, addr: str) -> None:
        if rtype in ("azurerm_container_app", "azurerm_container_app_job"):
            w = self.workload(rtype, rname, body, addr, "containerapp" if rtype == "azurerm_container_app" else "containerappjob")
            self.container_app(w, body)
            emit_workload(self.em, w)
        elif rtype == "azurerm_container_group":
            w = self.workload(rtype, rname, body, addr, "aci")
            self.container_group(w, body)
            emit_workload(self.em, w)
        elif WEB_TYPES.get(rtype):
            w = self.workload(rtype, rname, body, addr, WEB_TYPES[rtype])
            if rtype.endswith("_slot"):
                w.noun = "deployment slot"  # a slot has its own identity: it does not inherit the app's
            self.web_app(w, body)
            emit_workload(self.em, w)
        elif rtype == "azurerm_role_assignment":
            self.role_assignment(rname, body, addr)
        elif rtype == "azurerm_role_definition":
            self.role_definition(rname, body, addr)
        elif rtype in ("azapi_resource", "azapi_update_resource"):
            self.azapi(rtype, rname, body, addr)
        if body.get("count") == 0:
            return  # never deployed
        if rtype in tf_types():
            self.switch_views.append(TfView(self, rtype, rtype, None, rname, body, addr))
        elif rtype in companion_types()[1]:
            self.switch_companions.append(TfView(self, rtype, rtype, None, rname, body, addr))

    # -- resources that still accept keys (KL251, KL260-KL278, KL404) ---------------------------------
    def azapi(self, rtype: str, rname: str, body: TDict, addr: str) -> None:
        """`azapi_resource` / `azapi_update_resource`: the ARM resource its `type` names, its
        `body` read with the ARM property paths."""
        arm_type, api_version = azapi_type(body.get("type"))
        if arm_type is None:
            return
        payload = azapi_body(body)
        if payload is None:
            return
        t = arm_type.lower()
        if t in arm_types() or t in companion_types()[0] and rtype == "azapi_resource":
            view = TfView(self, arm_type, rtype, api_version, rname, payload, addr, fmt="azapi",
                          absent_unknown=rtype == "azapi_update_resource" or self.fmt == "tf-plan",
                          outer=body, positions=isinstance(body.get("body"), TDict))
            view.anchor = body.path
            (self.switch_views if t in arm_types() else self.switch_companions).append(view)
        if rtype != "azapi_resource":
            return
        props = payload.get("properties")
        if t in ("microsoft.app/containerapps", "microsoft.app/jobs"):
            from keyless.rules.iac.arm import analyze_aca

            w = self.workload(rtype, rname, body, addr, "containerapp" if t.endswith("containerapps") else "containerappjob")
            analyze_aca(self.em, w, payload, payload.path, _azapi_value, "arm", api_version)
            emit_workload(self.em, w)
            return
        if not isinstance(props, TDict):
            return
        if t == "microsoft.authorization/roleassignments":
            self.role_assignment(rname, Aliases(body.path, role_definition_id=(props, "roleDefinitionId"),
                                                scope=(body, "parent_id"), principal_id=(props, "principalId"),
                                                principal_type=(props, "principalType")), addr)
        elif t == "microsoft.authorization/roledefinitions":
            self.role_definition(rname, Aliases(body.path, permissions=(props, "permissions"),
                                                assignable_scopes=(props, "assignableScopes"),
                                                scope=(body, "parent_id"), name=(props, "roleName")), addr)

    def finish_switches(self) -> None:
        attached: set[int] = set()
        for v in self.switch_views:
            for c in self.switch_companions:
                target = c.link_target()
                if grant_of(c) is not None:
                    # a grant counts only for the resource it positively names
                    if target != (v.tf_type, v.rname) and not (
                            target is None and c.parent()[1] is not None and c.parent()[0] == str(v.name).lower()):
                        continue
                elif target is not None and target != (v.tf_type, v.rname):
                    continue
                v.companions.append(c)
                attached.add(id(c))
            check_resource(self.em, v)
        # access policies of a vault this file does not deploy; one declared in another file of
        # the module is judged there
        alone = [c for c in self.switch_companions if id(c) not in attached
                 and not self.declared_in_module(c.link_target())]
        check_grants(self.em, [c for c in alone if grant_of(c) is not None])
        check_alone(self.em, [c for c in alone if grant_of(c) is None])
        self.switch_views, self.switch_companions = [], []

    def declared_in_module(self, target: tuple[str, str] | None) -> bool:
        """Whether another file of this module declares the resource `target` names (an unreadable
        candidate counts as declaring it: no finding rather than a guess)."""
        if target is None or target[0].startswith("data.") or self.fmt != "tf" or self.doc.workspace is None:
            return False
        found = self.module_context().declarations("resource", *target)
        return found is None or bool(found)

    def data_source(self, dtype: str, dname: str) -> TDict | None:
        """The body of `data "dtype" "dname"` in this file or, read through the module resolver
        (a cache dependency), in another file of the module; None when none or several."""
        if self.root is not None:
            mine = [body for rtype, n, body in iter_resources(self.root, "data") if (rtype, n) == (dtype, dname)]
            if mine:
                return mine[0] if len(mine) == 1 else None
        if self.fmt != "tf" or self.doc.workspace is None:
            return None
        found = self.module_context().declarations("data", dtype, dname)
        if not found or len(found) != 1:
            return None
        relpath, raw = found[0]
        body = norm(raw, ("sibling", relpath))
        return body if isinstance(body, TDict) else None

    def replace_fix(self, body: TDict, key: str, new: str, message: str) -> dict:
        if self.fmt == "tf" and not self.note(body.p(key)):  # a variable's value is fixed where it is set, not here
            sp = self.em.span(body.p(key), first_line=False)
            if sp is not None and sp.start.line == sp.end.line:
                return fix_dict(message, "unsafe", [[sp.start.line, sp.start.column, sp.end.line, sp.end.column, new]])
        return fix_dict(message, "display-only")

    def workload(self, rtype: str, rname: str, body: TDict, addr: str, kind: str) -> Workload:
        w = Workload(self.fmt, kind, addr, addr, body.path, body.path)
        nm = body.get("name")
        if isinstance(nm, str) and not isinstance(nm, Ref) and nm:
            w.name = nm
        tags = body.get("tags")
        if isinstance(tags, TDict) and isinstance(tags.get("azd-service-name"), str):
            w.azd_service = tags["azd-service-name"]
        idb = blocks(body, "identity")
        if has_dynamic(body, "identity") or isinstance(body.get("identity"), Ref):
            w.identity = parse_identity_type(UNKNOWN)
        elif idb:
            ib = idb[0]
            w.identity_path = ib.p("type")
            w.identity = parse_identity_type(ib.get("type"))
            ids = ib.get("identity_ids")
            if w.identity.user:
                if isinstance(ids, TList) and not any(isinstance(x, Ref) and "[*]" in x for x in ids):
                    for x in ids:
                        w.uamis.append(Uami(str(x), tf_client_id_expr(x)))
                else:
                    w.uami_unknown = True
        w.system_granted = any(src != addr for src in getattr(self, "granted", {}).get(addr, ()))
        identity_paths = [b.path for b in idb]
        env_paths = [body.p("app_settings")] + [c.p(attr) for c in blocks(body, "container")
                                                 for attr in ("environment_variables", "secure_environment_variables")]
        w.identity_note = self.note(*identity_paths)
        w.ambiguity_note = self.note(*identity_paths, *env_paths)
        w.identity_fix = self.identity_insert_fix(body, w)
        return w

    def identity_insert_fix(self, body: TDict, w: Workload) -> dict:
        block = 'identity {\n  type = "SystemAssigned"\n}'
        msg = "Add a system-assigned managed identity (then grant it AcrPull/data-plane roles and switch registries and secrets to it)"
        if self.fmt == "tf" and w.identity_path is None:
            sp = self.em.span(body.path, first_line=False)
            if sp is not None and sp.end.line > sp.start.line:
                close_line = sp.end.line
                text = self.doc.lines.line_text(close_line)
                # the value span may end just after '}' or on the next line start
                if text.strip() != "}" and sp.end.column == 1:
                    close_line -= 1
                    text = self.doc.lines.line_text(close_line)
                if text.strip() == "}":
                    ind = line_indent(self.doc, close_line) + "  "
                    ins = f'{ind}identity {{\n{ind}  type = "SystemAssigned"\n{ind}}}\n'
                    return fix_dict(msg, "unsafe", [[close_line, 1, close_line, 1, ins]])
        if self.fmt == "tf-json":
            block = '"identity": [{"type": "SystemAssigned"}]'
        return fix_dict(f"Add {inline(block)}, then grant it AcrPull/data-plane roles and switch registries and "
                        "secrets to it", "display-only")

    def env_entry_text(self, w: Workload, style: str) -> str:
        cid = w.uamis[0].client_id if w.uamis else "azurerm_user_assigned_identity.<name>.client_id"
        if style == "block":
            return f'env {{\n  name  = "AZURE_CLIENT_ID"\n  value = {cid}\n}}'
        return f"AZURE_CLIENT_ID = {cid}"

    def check_env_value(self, w: Workload, name: str, value: Any, path: tuple, what: str, conn: bool = False) -> None:
        if name.upper() == "AZURE_CLIENT_SECRET":
            w.key_auth.append("AZURE_CLIENT_SECRET")
            self.em.issue("KL259", path, f"{w.key}|{what}|{name}", client_secret_message(w.label), severity="high",
                          fix=client_secret_fix())
            return
        src = key_source(value) if isinstance(value, Ref) else None
        if src is None:
            return
        w.key_auth.append(src)
        if name.upper() == "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING":
            note_key_user(self.em, path, value, resource_type=STORAGE_ACCOUNTS)
            return
        if name.upper() == "AZUREWEBJOBSSTORAGE":
            note_key_user(self.em, path, value, "KL253", resource_type=STORAGE_ACCOUNTS)
            self.em.issue("KL253", path, f"{w.key}|{what}|{name}",
                          first_fitting(
                              f"AzureWebJobsStorage of {w.label} is built from {src}, an account key; use identity-based storage",
                              f"AzureWebJobsStorage of {w.label} uses an account key ({src}); use identity-based storage",
                              f"AzureWebJobsStorage uses an account key ({src}); use identity-based storage"),
                          fix=functions_storage_fix())
            return
        kind = "Connection string" if conn else ("App setting" if what == "app_settings" else "Env var")
        source = note_key_user(self.em, path, value, "KL252")
        self.em.issue("KL252", path, f"{w.key}|{what}|{name}",
                      first_fitting(f"{kind} '{short_name(name)}' of {w.label} holds a key ({src}); use an identity",
                                    f"{kind} '{short_name(name)}' holds a key ({src}); use an identity"),
                      fix=key_fed_fix(name, source))

    # -- azurerm_container_app(_job) ---------------------------------------------------------------------
    def container_app(self, w: Workload, body: TDict) -> None:
        many = (w.runtime_identity_count() or 0) >= 2
        kv_secrets = {sec.get("name") for sec in blocks(body, "secret")
                      if sec.get("key_vault_secret_id") not in (None, "") and isinstance(sec.get("name"), str)}
        for reg in blocks(body, "registry") + blocks(body, "registries"):
            server = reg.get("server")
            sdisp = server if isinstance(server, str) else "?"
            if reg.get("password_secret_name") not in (None, "") or reg.get("username") not in (None, ""):
                key = "password_secret_name" if "password_secret_name" in reg else "username"
                if azure_registry(server) is False:
                    # Managed identity cannot pull from it: the password is needed, and belongs in Key Vault.
                    if reg.get("password_secret_name") in kv_secrets:
                        continue
                    self.em.issue("KL250", reg.p(key), f"{w.key}|registry|{self.written(reg, 'server')}",
                                  f"{w.label} pulls from '{short_name(sdisp)}' with a password kept in the app; keep "
                                  "it in Key Vault", severity="medium",
                                  fix=non_azure_registry_fix("give password_secret_name's secret a "
                                                             "key_vault_secret_id and an identity"))
                    continue
                w.key_auth.append("registry password")
                self.em.issue("KL250", reg.p(key), f"{w.key}|registry|{self.written(reg, 'server')}",
                              f"{w.label} pulls from '{short_name(sdisp)}' with a registry password; use an "
                              "identity",
                              fix=fix_dict("Replace username/password_secret_name with identity = "
                                           "azurerm_user_assigned_identity.<name>.id (listed in the app's identity "
                                           "block) and grant it AcrPull on the registry", "display-only"))
            elif reg.get("identity") in (None, "") and many:
                self.em.issue("KL502", reg.path, f"{w.key}|registry|{self.written(reg, 'server')}|identity",
                              f"Registry '{short_name(sdisp)}' of {w.label} names no identity (the app has several); "
                              "set one",
                              fix=fix_dict("Add identity = azurerm_user_assigned_identity.<name>.id to the registry "
                                           f"block{w.identity_note}", "display-only"))
        for sec in blocks(body, "secret"):
            sname = sec.get("name")
            sname = sname if isinstance(sname, str) else "?"
            if sec.get("key_vault_secret_id") not in (None, ""):
                if sec.get("identity") in (None, "") and many:
                    self.em.issue("KL502", sec.path, f"{w.key}|secret|{self.written(sec, 'name')}|identity",
                                  f"Key Vault secret '{short_name(sname)}' of {w.label} names no identity (the app has "
                                  "several); set one",
                                  fix=fix_dict("Add identity = azurerm_user_assigned_identity.<name>.id (or \"System\")"
                                               f"{w.identity_note}", "display-only"))
                continue
            if "value" not in sec:
                continue
            v = sec.get("value")
            src = key_source(v) if isinstance(v, Ref) else None
            if src:
                w.key_auth.append(src)
                source = note_key_user(self.em, sec.p("value"), v, "KL252")
                self.em.issue("KL252", sec.p("value"), f"{w.key}|secret|{self.written(sec, 'name')}",
                              first_fitting(f"Secret '{short_name(sname)}' of {w.label} holds a key ({src}); use an "
                                            "identity", f"Secret '{short_name(sname)}' holds a key ({src}); use an identity"),
                              fix=key_fed_fix(sname, source))
            elif v not in (None, "") and not (isinstance(v, str) and not isinstance(v, Ref) and deploy_placeholder(v)):
                self.em.issue("KL254", sec.p("value"), f"{w.key}|secret|{self.written(sec, 'name')}",
                              f"Secret '{short_name(sname)}' of {w.label} is stored inline (and in state); reference "
                              "Key Vault instead", severity="medium",
                              fix=fix_dict("Replace value with key_vault_secret_id = azurerm_key_vault_secret.<s>.versionless_id "
                                           "and identity = azurerm_user_assigned_identity.<name>.id (or \"System\"); grant "
                                           "Key Vault Secrets User", "display-only"))
        tmpls = blocks(body, "template")
        if self.fmt != "tf-plan" and has_dynamic(body, "template"):
            w.env_unknown = True
        first_container = None
        for t in tmpls:
            for ckey in ("container", "init_container"):
                if has_dynamic(t, ckey):
                    w.env_unknown = True
                for c in blocks(t, ckey):
                    img = c.get("image")
                    if isinstance(img, str):
                        w.images.append(img)
                    if ckey == "container" and first_container is None:
                        first_container = c
                    if has_dynamic(c, "env"):
                        w.env_unknown = True
                    for e in blocks(c, "env"):
                        en = e.get("name")
                        if not isinstance(en, str):
                            w.env_unknown = True
                            continue
                        if ckey == "container":
                            w.env_names.add(en)
                        self.check_env_value(w, en, e.get("value"), e.p("value") if "value" in e else e.p("name"), "env")
            for rule in blocks(t, "custom_scale_rule"):
                self.tf_scale_rule(w, rule)
        # jobs: event_trigger_config { scale { rules { custom_rule_type, authentication } } }
        for etc in blocks(body, "event_trigger_config"):
            for sc in blocks(etc, "scale"):
                for rule in blocks(sc, "rules"):
                    self.tf_scale_rule(w, rule, type_key="custom_rule_type")
        if first_container is not None:
            w.env_container_path = first_container.path
        w.client_id_fix_text = self.env_entry_text(w, "block")

    def tf_scale_rule(self, w: Workload, rule: TDict, type_key: str = "custom_rule_type") -> None:
        st = rule.get(type_key)
        scaler = st.lower() if isinstance(st, str) else None
        auths = blocks(rule, "authentication")
        if not auths or rule.get("identity_id") not in (None, "") or rule.get("identity") not in (None, ""):
            return
        if scaler not in ("azure-queue", "azure-servicebus", "azure-eventhub"):
            return
        name = rule.get("name") if isinstance(rule.get("name"), str) else "?"
        w.key_auth.append("scale-rule secret")
        a = auths[0]
        self.em.issue("KL256", a.p("secret_name") if "secret_name" in a else a.path,
                      f"{w.key}|scale|{self.written(rule, 'name')}",
                      f"Scale rule '{short_name(name)}' of {w.label} authenticates with a secret; use a managed identity",
                      fix=fix_dict("Replace authentication with identity_id = azurerm_user_assigned_identity.<name>.id "
                                   f"(or \"System\") and grant it a data-plane reader role ({scaler} scaler"
                                   f"{self.note(rule.p(type_key))})", "display-only"))

    # -- azurerm_container_group -----------------------------------------------------------------------
    def container_group(self, w: Workload, body: TDict) -> None:
        for cred in blocks(body, "image_registry_credential"):
            if cred.get("password") not in (None, ""):
                server = cred.get("server")
                sdisp = server if isinstance(server, str) else "?"
                if azure_registry(server) is False:
                    self.em.issue("KL250", cred.p("password"), f"{w.key}|registry|{self.written(cred, 'server')}",
                                  f"{w.label} pulls from '{short_name(sdisp)}' with a password; keep it in Key Vault",
                                  severity="medium",
                                  fix=non_azure_registry_fix("read it from an azurerm_key_vault_secret data source"))
                    continue
                w.key_auth.append("registry password")
                self.em.issue("KL250", cred.p("password"), f"{w.key}|registry|{self.written(cred, 'server')}",
                              f"{w.label} pulls from '{short_name(sdisp)}' with a registry password; use an "
                              "identity",
                              fix=fix_dict("Use user_assigned_identity_id = azurerm_user_assigned_identity.<name>.id "
                                           "instead of username/password and grant it AcrPull on the registry",
                                           "display-only"))
        first = None
        for c in blocks(body, "container"):
            if first is None:
                first = c
            img = c.get("image")
            if isinstance(img, str):
                w.images.append(img)
            for attr in ("environment_variables", "secure_environment_variables"):
                env = c.get(attr)
                if env is None:
                    continue
                if not isinstance(env, TDict):
                    w.env_unknown = True
                    continue
                for en, v in env.items():
                    w.env_names.add(en)
                    p = env.p(en)
                    if en.upper() == "AZURE_CLIENT_SECRET":
                        self.check_env_value(w, en, v, p, "env")
                        continue
                    src = key_source(v) if isinstance(v, Ref) else None
                    if src:
                        self.check_env_value(w, en, v, p, "env")
                    elif attr == "environment_variables" and v not in (None, "") and secretish_name(en):
                        self.em.issue("KL255", p, f"{w.key}|env|{en}",
                                      f"Env var '{short_name(en)}' of {w.label} looks like a secret but is in plain "
                                      "environment_variables", severity="medium",
                                      fix=fix_dict("Move it to secure_environment_variables (fed from Key Vault; plain "
                                                   "ones show in the portal and API), or drop it and use the group's "
                                                   "managed identity", "display-only"))
        if first is not None:
            w.env_container_path = first.path
        cid = w.uamis[0].client_id if w.uamis else "azurerm_user_assigned_identity.<name>.client_id"
        w.client_id_fix_text = f"environment_variables = {{\n  AZURE_CLIENT_ID = {cid}\n}}"

    # -- web / function apps --------------------------------------------------------------------------
    def web_app(self, w: Workload, body: TDict) -> None:
        w.case_insensitive_env = True
        st = body.get("app_settings")
        if isinstance(st, TDict):
            for k, v in st.items():
                w.env_names.add(k)
                self.check_env_value(w, k, v, st.p(k), "app_settings")
        elif st is not None:
            w.env_unknown = True
        for cs in blocks(body, "connection_string"):
            n = cs.get("name") if isinstance(cs.get("name"), str) else "?"
            self.check_env_value(w, n, cs.get("value"), cs.p("value"), "connection_string", conn=True)
        if w.kind == "functionapp" and body.get("storage_account_access_key") not in (None, ""):
            w.key_auth.append("storage_account_access_key")
            note_key_user(self.em, body.p("storage_account_access_key"), None, "KL253", resource_type=STORAGE_ACCOUNTS)
            self.em.issue("KL253", body.p("storage_account_access_key"), f"{w.key}|storage_account_access_key",
                          first_fitting(f"{w.label} reaches its host storage with storage_account_access_key; use its identity",
                                        f"{w.label} uses storage_account_access_key; use its identity"),
                          fix=functions_storage_fix("Replace storage_account_access_key with "
                                                    "storage_uses_managed_identity = true"))
        cid = w.uamis[0].client_id if w.uamis else "azurerm_user_assigned_identity.<name>.client_id"
        w.client_id_fix_text = f"app_settings = {{\n  AZURE_CLIENT_ID = {cid}\n}}"

    # -- roles ------------------------------------------------------------------------------------------
    def role_assignment(self, rname: str, body: TDict, addr: str) -> None:
        self.resolve_refs(body, ("role_definition_name", "role_definition_id"))
        name = body.get("role_definition_name")
        rid = body.get("role_definition_id")
        role = None
        anchor = None
        if isinstance(name, str) and not isinstance(name, Ref):
            role = R.canonical_name(name)
            anchor = body.p("role_definition_name")
        elif isinstance(rid, TemplateRef) or isinstance(rid, str) and not isinstance(rid, Ref):
            guid = R.guid_of(rid)  # a template ending in a literal GUID names its role too
            if guid:
                role = R.NAME_BY_GUID.get(guid)
                anchor = body.p("role_definition_id")
                hint = R.role_named_in(rname)
                if hint:
                    msg = guid_mismatch(guid, role, hint)
                    if msg:
                        self.em.issue("KL403", anchor, f"{addr}|{guid}", msg, severity="high",
                                      fix=fix_dict(f"Use role_definition_name = \"{hint}\" or its GUID {R.ROLES[hint]}"
                                                   f"{self.note(anchor)}", "display-only"))
        data_note = ""
        if role is None and isinstance(rid, Ref) and not isinstance(rid, TemplateRef):
            role, data_note = self.role_from_data_source(str(rid))
            anchor = body.p("role_definition_id") if role else None
        if role not in R.BROAD_ROLES or anchor is None:
            return
        self.resolve_refs(body, ("scope", "principal_type"))
        scope = tf_scope_kind(body.get("scope"))
        if scope not in ("managementGroup", "subscription", "resourceGroup", "tenant"):
            return
        scope_note = ""
        written_scope = self.unresolved.get(body.p("scope"))
        if written_scope is not None and self.module_values is not None:
            # Variables in the scope only matter when the scope's kind depends on them.
            fixed, _ = self.module_values.resolve(written_scope, use_variables=False)
            if tf_scope_kind(written_scope if isinstance(fixed, Opaque) else fixed) != scope:
                scope_note = self.note(body.p("scope"))
        pt = body.get("principal_type")
        self.em.add("iac.role", {
            "span": span_to_list(self.em.span(anchor)), "key": f"{addr}|{role}", "role": role, "scope": scope,
            "role_note": data_note + self.note(anchor), "scope_note": scope_note, "fmt": self.fmt,
            "principal_type": pt if isinstance(pt, str) and not isinstance(pt, Ref) else None,
            "principal": str(body.get("principal_id") or "?"),
        })

    def role_from_data_source(self, ref: str) -> tuple[str | None, str]:
        """The built-in role a `data.azurerm_role_definition.<x>.id` reference names, from that data
        source's literal `name` or `role_definition_id` in the same file."""
        m = _ROLE_DATA_RE.fullmatch(ref.strip())
        if m is None:
            return None, ""
        dname = m.group(1)
        body = self.data_source("azurerm_role_definition", dname)
        if body is None:
            return None, ""
        self.resolve_refs(body, ("name", "role_definition_id"), module=True)
        name, rid = body.get("name"), body.get("role_definition_id")
        role = None
        if isinstance(name, str) and not isinstance(name, Ref) and not is_unknown(name):
            role = R.canonical_name(name)
        elif isinstance(rid, str) and not isinstance(rid, Ref) and not is_unknown(rid) and R.guid_of(rid):
            role = R.NAME_BY_GUID.get(R.guid_of(rid))
        where = f" in {body.path[1].rsplit('/', 1)[-1]}" if body.path[:1] == ("sibling",) else ""
        return role, f" (the role of data.azurerm_role_definition.{dname}{where}{self.note(body.path)})"

    def role_definition(self, rname: str, body: TDict, addr: str) -> None:
        wild = None
        for perm in blocks(body, "permissions") + _permission_list(body):
            acts = perm.get("actions")
            nots = perm.get("not_actions", perm.get("notActions"))
            if nots is not None and not isinstance(nots, TList):
                continue  # what not_actions takes back is unknown
            if isinstance(acts, TList):
                for i, a in enumerate(acts):
                    if not is_unknown(a) and R.escalating_action(a, nots if isinstance(nots, TList) else None):
                        wild, action = acts.path + (i,), a
                        break
            if wild:
                break
        if not wild:
            return
        scopes = body.get("assignable_scopes")
        kinds = set()
        if isinstance(scopes, TList) and scopes:
            kinds = {tf_scope_kind(s) for s in scopes}
        elif scopes is None:
            kinds = {tf_scope_kind(body.get("scope"))}
        broad = kinds & {"tenant", "managementGroup", "subscription", "resourceGroup"}
        if not broad:
            return
        from keyless.rules.iac.arm import _scope_words

        label = body.get("name") if isinstance(body.get("name"), str) else addr
        self.em.issue("KL402", wild, f"roleDefinition|{self.unresolved.get(body.p('name'), label)}",
                      f"Custom role '{short_name(label)}' {R.escalation_words(action)} at {_scope_words(broad)} "
                      "scope; it can grant itself any role", severity="high",
                      fix=fix_dict("List only the actions the workload needs (or use a built-in data-plane role) and "
                                   "narrow assignable_scopes"
                                   f"{self.note(wild[:-1], body.p('assignable_scopes'), body.p('scope'))}",
                                   "display-only"))


class TfView(ResourceView):
    """A Terraform resource as the switch checker reads it: an `azurerm_*` body with attribute and
    block names, or an azapi `body` with ARM property names. `var.*`/`local.*` values are the
    module's (the message says so); references, functions and dynamic blocks are unknown."""

    def __init__(self, ex: "TerraformExtractor", type_: str, tf_type: str, api_version: str | None, rname: str,
                 body: TDict, addr: str, fmt: str | None = None, absent_unknown: bool | None = None,
                 outer: TDict | None = None, positions: bool = True):
        nm = (outer if outer is not None else body).get("name")
        shown = nm if isinstance(nm, str) and not isinstance(nm, Ref) and nm else addr
        super().__init__(type_, api_version, shown, f"{tf_type}.{rname}", body.path, address=addr,
                         absent_unknown=ex.fmt == "tf-plan" if absent_unknown is None else absent_unknown)
        self.fmt = fmt or ex.fmt
        self.ex = ex
        self.tf_type = tf_type
        self.rname = rname
        self.body = body
        self.outer = outer if outer is not None else body  # the resource block (azapi: around `body`)
        self.positions = positions  # False: a jsonencode() body, whose inside has no positions

    def link(self) -> tuple[str | None, Any]:
        """(attribute, value) naming the resource this one belongs to: a SQL or MySQL server, a key
        vault, an azapi parent."""
        for attr in _LINK_ATTRIBUTES:
            if attr in self.outer:
                return attr, self.outer[attr]
        return None, None

    def link_target(self) -> tuple[str, str] | None:
        """(type, name) of the resource in this configuration the link references."""
        _, v = self.link()
        m = _RESOURCE_REF_RE.search(v) if isinstance(v, Ref) else None
        if m is None:
            return None
        return ("data." if v.lstrip().startswith("data.") else "") + m.group(1), m.group(2)

    def companion_name(self) -> Any:
        return self.own_name() if self.fmt == "azapi" else None

    def own_name(self) -> str | None:
        nm = self.outer.get("name")
        return nm if isinstance(nm, str) and not isinstance(nm, Ref) and not is_unknown(nm) else None

    def parent(self) -> tuple[str, str | None, str]:
        attr, v = self.link()
        if attr is None:
            return self.key, None, f"({self.address})"
        written = self.ex.unresolved.get(self.outer.p(attr), v)
        name = None
        if isinstance(v, str) and not isinstance(v, Ref) and not is_unknown(v) and "/" in v:
            name = v.rstrip("/").rsplit("/", 1)[-1] or None  # a literal resource ID
        elif isinstance(v, Ref):
            m = _DATA_REF_RE.fullmatch(v.strip())
            data = self.ex.data_source(m.group(1), m.group(2)) if m else None
            if data is not None:
                self.ex.resolve_refs(data, ("name",), module=True)
                dn = data.get("name")
                name = dn if isinstance(dn, str) and not isinstance(dn, Ref) and not is_unknown(dn) else None
        if name:
            return name.lower(), name, name
        return str(written), None, f"({attr} = {written})"

    def lookup(self, path: tuple[str, ...]) -> Value:
        cur: Any = self.body
        for i, seg in enumerate(path):
            last = i == len(path) - 1
            if not isinstance(cur, TDict) or has_dynamic(cur, seg):
                return UNKNOWN_VALUE
            if seg not in cur:
                return ABSENT
            v = cur[seg]
            if v is None:
                return ABSENT
            if isinstance(v, TList) and not last:
                if len(v) != 1 or not isinstance(v[0], TDict):
                    return UNKNOWN_VALUE  # several blocks: which one counts is not ours to guess
                cur = v[0]
                continue
            if isinstance(v, TDict) and not last:
                cur = v
                continue
            if last:
                if is_unknown(v) or _has_unknown(v):
                    return UNKNOWN_VALUE
                p = cur.p(seg)
                literal = p not in self.ex.unresolved and self.fmt != "tf-plan" and self.positions
                return Value("set", plain(v), p, literal, "" if literal else self.ex.note(p))
            return UNKNOWN_VALUE
        return UNKNOWN_VALUE

    def container(self, path: tuple[str, ...]) -> tuple[tuple, tuple[str, ...]] | None:
        cur: Any = self.body
        if not self.positions:
            return None
        for i, seg in enumerate(path):
            if not isinstance(cur, TDict):
                return None
            if seg not in cur:
                return cur.path, path[i:]
            v = cur[seg]
            if isinstance(v, TList) and len(v) == 1 and isinstance(v[0], TDict):
                cur = v[0]
            elif isinstance(v, TDict):
                cur = v
            else:
                return None
        return None


_LINK_ATTRIBUTES = ("server_id", "server_name", "key_vault_id", "parent_id")
_RESOURCE_REF_RE = re.compile(r"\b([a-z0-9_]+)\.([\w-]+)(?:\[[^\][]*\])?\.(?:id|name)\b")
_DATA_REF_RE = re.compile(r"data\.([\w-]+)\.([\w-]+)(?:\[[^\]]*\])?\.id")


def _azapi_value(v: Any) -> Any:
    return UNKNOWN if is_unknown(v) else v


def _permission_list(body: TDict) -> list:
    """azapi roleDefinitions: `permissions` is a list of objects, not blocks (already in `blocks`
    when it is a TList of TDicts, so only a single object needs adding)."""
    v = body.get("permissions")
    return [v] if isinstance(v, TDict) else []


def _has_unknown(v: Any, depth: int = 0) -> bool:
    if depth > 20:
        return True
    if isinstance(v, dict):
        return any(_has_unknown(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return any(_has_unknown(x, depth + 1) for x in v)
    return is_unknown(v)


def plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


_ROLE_DATA_RE = re.compile(r"data\.azurerm_role_definition\.([\w-]+)(?:\[[^\]]*\])?\.(?:id|role_definition_id)")

_AZAPI_TYPE_RE = re.compile(r"^\s*([A-Za-z0-9.]+/[A-Za-z0-9./]+)@([0-9]{4}-[0-9]{2}-[0-9]{2}(?:-[A-Za-z]+)?)\s*$")


def azapi_type(value: Any) -> tuple[str | None, str | None]:
    """`Microsoft.Storage/storageAccounts@2023-05-01` -> (ARM type, API version)."""
    if not isinstance(value, str) or is_unknown(value):
        return None, None
    m = _AZAPI_TYPE_RE.match(value)
    return (m.group(1), m.group(2)) if m else (None, None)


_JSONENCODE_RE = re.compile(r"^\s*jsonencode\((.*)\)\s*$", re.S)


def azapi_body(body: TDict) -> TDict | None:
    """The ARM-shaped body: an HCL object (azapi 2.x), or `jsonencode({...})` of a literal object
    (azapi 1.x; read without positions inside it, so findings point at `body`). Anything else
    (a variable, a merge(), a string) is unknown."""
    b = body.get("body")
    if isinstance(b, TDict):
        return b
    if isinstance(b, Ref):
        m = _JSONENCODE_RE.match(str(b))
        if not m:
            return None
        try:
            import hcl2

            parsed = hcl2.loads("x = " + m.group(1) + "\n")
        except Exception:
            return None
        inner = parsed.get("x") if isinstance(parsed, dict) else None
        if isinstance(inner, list) and len(inner) == 1:
            inner = inner[0]
        if not isinstance(inner, dict):
            return None
        node = norm(inner, body.p("body"))
        return _flatten_path(node, body.p("body"))
    return None


def _flatten_path(node: Any, path: tuple) -> Any:
    """Every node of a body read from jsonencode() points at `body` itself (no positions inside)."""
    if isinstance(node, TDict):
        node.path = path
        node.raw = {k: None for k in node.raw}
        for k in list(node):
            node[k] = _flatten_path(node[k], path)
    elif isinstance(node, TList):
        node.path = path
        for i, x in enumerate(node):
            node[i] = _flatten_path(x, path)
    return node


def mark_unknown(body: Any, unknown: Any) -> None:
    """Replace values that `after_unknown` marks as unknown (known after apply) with UNKNOWN."""
    if not isinstance(unknown, dict) or not isinstance(body, TDict):
        return
    for k, u in unknown.items():
        if u is True:
            body[k] = UNKNOWN
            body.raw.setdefault(k, k)
        elif isinstance(u, dict) and isinstance(body.get(k), TDict):
            mark_unknown(body[k], u)
        elif isinstance(u, list) and isinstance(body.get(k), TList):
            for i, x in enumerate(u):
                if i < len(body[k]):
                    if x is True:
                        body[k][i] = UNKNOWN
                    else:
                        mark_unknown(body[k][i], x)
        elif isinstance(u, list) and k not in body:
            body[k] = UNKNOWN


def tf_client_id_expr(x: Any) -> str:
    if isinstance(x, Ref):
        s = str(x).strip()
        if s.endswith(".id"):
            return s[:-3] + ".client_id"
        return f"<client id of {s}>"
    return f"<client id of {x}>"
