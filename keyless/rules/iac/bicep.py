"""Bicep front end: a Bicep program becomes the ARM template the Bicep compiler would emit for it,
so the ARM extractor (`arm.py`) and evaluator (`expr.py`) read Bicep unchanged.

The translation follows the compiler's output shape (languageVersion 2.0, resources keyed by
symbolic name): parameters (`type`, `defaultValue`, `allowedValues`, `securestring` /
`secureobject` for `@secure()`), variables, resources (`type`, `apiVersion`, `name`, `scope`,
`condition`, `copy`, `existing`, nested and `parent:` children flattened with their full type and
`parent/child` name), modules as `Microsoft.Resources/deployments` (inner-scoped parameters, the
local module's own translation as `template`, target from `scope:`), and outputs. Bicep
expressions become ARM expression strings: `parameters('x')`, `variables('x')`, `format(...)` for
interpolation, `if`, `coalesce` for `??`, `tryGet` for `.?`, `equals`/`not`/`and`/`or` for
operators, and symbolic references as the compiler writes them (`storage.id` ->
`resourceId('T', name)`, `storage.properties.x` -> `reference('storage').x`,
`storage.listKeys()` -> `listKeys('storage', 'v')`, `mod.outputs.x` ->
`reference('mod').outputs.x.value`, loop items -> `iterable[copyIndex()]`). Anything without an
ARM meaning here (an unreadable region, `loadTextContent`, an imported function) becomes a call
the evaluator does not model, so it stays UNKNOWN.

`BicepTemplate` is the ARM-shaped view of one Bicep document: `values[0]` is the template, and
`locate(path)` / `locate_key(path)` answer for ARM-template paths with spans in the Bicep source
(every produced value remembers the span of the node it came from), so findings point at the
Bicep line.

Local modules (`module x './core/app.bicep'`) are read through `doc.workspace` (recorded as cache
dependencies), translated once per process and embedded as the deployment's template; registry
modules (`br:`, `br/...:`, `ts:`) have no template (unknown). A cycle of modules, or a chain
deeper than MAX_MODULE_DEPTH, leaves the closing deployment without a template.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from keyless.linter.documents import bicep_ast as A
from keyless.linter.workspace import reldir_of

MAX_MODULE_DEPTH = 8
DEPLOYMENTS = "Microsoft.Resources/deployments"
DEPLOYMENTS_API = "2022-09-01"
SCHEMAS = {
    "resourceGroup": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "subscription": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
    "managementGroup": "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
    "tenant": "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#",
}
# A call the ARM evaluator does not model: the value stays UNKNOWN.
UNKNOWN_CALL = "bicepUnknown()"
_BINARY = {"==": "equals", "<": "less", "<=": "lessOrEquals", ">": "greater", ">=": "greaterOrEquals",
           "&&": "and", "||": "or", "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "??": "coalesce"}
# Bicep functions resolved at compile time from other files, or with no ARM counterpart here.
_COMPILE_TIME = {"loadtextcontent", "loadjsoncontent", "loadyamlcontent", "loadfileasbase64", "readenvironmentvariable",
                 "getsecret", "externalinput"}
_FULL_REFERENCE = {"location", "identity", "tags", "sku", "kind", "zones", "plan", "managedBy", "extendedLocation",
                   "etag", "scale"}
# What an unreadable resource body leaves unknown (rather than absent) in the ARM shape.
UNREADABLE_BODY = ("name", "identity", "properties", "kind", "sku", "tags")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY_CHAIN_RE = re.compile(r"'\$\{\s*([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\}'")


def quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def is_registry_path(path: str) -> bool:
    return path.startswith(("br:", "br/", "ts:", "ts/"))


class Symbol:
    """A declared resource or module and what references to it need."""

    __slots__ = ("name", "kind", "decl", "type", "api", "body", "loop", "cond", "parent", "own_name", "scope",
                 "existing", "path")

    def __init__(self, name: str, kind: str, decl: Any):
        self.name = name
        self.kind = kind  # resource | module
        self.decl = decl
        self.type = ""
        self.api = ""
        self.body: A.Obj | None = None
        self.loop: A.For | None = None
        self.cond: Any = None
        self.parent: "Symbol | None" = None
        self.own_name: Any = None  # the name node as written (a child's own segment)
        self.scope: Any = None  # the `scope:` node
        self.existing = False
        self.path = ""  # module path


def _unwrap(body: Any) -> tuple[A.For | None, Any, Any]:
    """(loop, condition, object) of a resource/module body: `[for ...: if (c) {...}]`."""
    loop = cond = None
    if isinstance(body, A.For):
        loop, body = body, body.body
    if isinstance(body, A.If):
        cond, body = body.cond, body.body
    return loop, cond, body if isinstance(body, A.Obj) else None


def _prop(obj: Any, key: str) -> Any:
    if isinstance(obj, A.Obj):
        for p in obj.props:
            if p.key == key and not p.spread:
                return p
    return None


class Translation:
    """One Bicep program translated: `template`, and `entries` (ARM path -> (key span, value
    span, node)) for locate."""

    def __init__(self, doc: Any, program: A.Program, visiting: tuple[str, ...] = ()):
        self.doc = doc
        self.program = program
        self.visiting = visiting + (doc.relpath,)
        self.entries: dict[tuple, tuple[Any, Any, Any]] = {}
        self.params: dict[str, A.Param] = {}
        self.vars: dict[str, A.Var] = {}
        self.symbols: dict[str, Symbol] = {}
        self.modules: dict[str, "ModuleLink"] = {}  # module symbol -> where its template came from
        self.unread_modules: dict[str, "ModuleLink"] = {}  # deployed with values we cannot read
        self.target_scope = "resourceGroup"
        # Regions the reader could not read: an object missing one of them is not complete.
        self.gaps = [issue.span for issue in program.errors]
        self._collect()
        self.template = self._template()
        # The document's memo holds this translation: keeping the document here would make a
        # cycle only the cyclic GC frees (with the whole template). Views pair them (`translate`).
        self.doc = None
        self.by_start: dict[int, tuple] | None = None  # path_starting_at's index, built on first use

    # ---- declarations ---------------------------------------------------------------------------
    def _collect(self) -> None:
        for s in self.program.statements:
            if isinstance(s, A.Param):
                self.params[s.name] = s
            elif isinstance(s, A.Var):
                self.vars[s.name] = s
            elif isinstance(s, A.Resource):
                self._resource_symbol(s, None)
            elif isinstance(s, A.Module):
                sym = Symbol(s.name, "module", s)
                sym.type, sym.path = DEPLOYMENTS, s.path
                sym.loop, sym.cond, sym.body = _unwrap(s.body)
                self.symbols[s.name] = sym
            elif isinstance(s, A.TargetScope) and isinstance(s.value, A.Str) and s.value.value in SCHEMAS:
                self.target_scope = s.value.value
        for sym in self.symbols.values():  # `parent: x` children
            p = _prop(sym.body, "parent")
            if sym.kind == "resource" and sym.parent is None and p is not None and isinstance(p.value, A.Ref):
                parent = self.symbols.get(p.value.name)
                if parent is not None and parent.kind == "resource":
                    sym.parent = parent
                    if "/" not in sym.type.split("/", 1)[-1] or not sym.type.lower().startswith(parent.type.lower() + "/"):
                        if "." not in sym.type.split("/", 1)[0]:
                            sym.type = f"{parent.type}/{sym.type}"

    def _resource_symbol(self, r: A.Resource, parent: Symbol | None) -> None:
        name = f"{parent.name}::{r.name}" if parent else r.name
        sym = Symbol(name, "resource", r)
        rtype, _, api = r.type_string.partition("@")
        if parent is not None and "." not in rtype.split("/", 1)[0]:
            rtype = f"{parent.type}/{rtype}"  # a nested declaration's relative type
            api = api or parent.api
        sym.type, sym.api, sym.existing, sym.parent = rtype, api, r.existing, parent
        sym.loop, sym.cond, sym.body = _unwrap(r.body)
        p = _prop(sym.body, "name")
        sym.own_name = p.value if p is not None else None
        p = _prop(sym.body, "scope")
        sym.scope = p.value if p is not None else None
        self.symbols[name] = sym
        if parent is None:
            self.symbols.setdefault(r.name, sym)
        for child in r.children:
            self._resource_symbol(child, sym)

    # ---- template -----------------------------------------------------------------------------
    def _record(self, path: tuple, key_span: Any, node: Any) -> None:
        span = getattr(node, "span", None)
        if span is not None:
            self.entries[path] = (key_span or span, span, node)

    def _template(self) -> dict:
        root: dict[str, Any] = {"$schema": SCHEMAS[self.target_scope], "languageVersion": "2.0",
                                "contentVersion": "1.0.0.0"}
        params: dict[str, Any] = {}
        for name, p in self.params.items():
            params[name] = self.parameter(p, (0, "parameters", name))
        variables: dict[str, Any] = {}
        for name, v in self.vars.items():
            path = (0, "variables", name)
            self.entries[path] = (v.name_span, v.value.span, v.value)
            if isinstance(v.value, A.For):
                variables.setdefault("copy", []).append(self.copy_entry(name, v.value, path))
            else:
                variables[name] = self.value(v.value, path, {})
        resources: dict[str, Any] = {}
        for sym in self.symbols.values():
            if sym.name in resources or (sym.parent is None and sym.name != sym.decl.name):
                continue
            path = (0, "resources", sym.name)
            self.entries[path] = (sym.decl.name_span, sym.decl.span, sym.decl)
            resources[sym.name] = self.module(sym, path) if sym.kind == "module" else self.resource(sym, path)
        outputs: dict[str, Any] = {}
        for s in self.program.statements:
            if isinstance(s, A.Output):
                outputs[s.name] = self.output(s, (0, "outputs", s.name))
        root["parameters"] = params
        root["variables"] = variables
        root["resources"] = resources
        root["outputs"] = outputs
        return root

    def parameter(self, p: A.Param, path: tuple) -> dict:
        self.entries[path] = (p.name_span, p.span, p)
        decorators = {d.name.lower(): d for d in p.decorators}
        text = p.type_text.rstrip("?").strip()
        low = text.lower()
        if low in ("string", "int", "bool", "object", "array"):
            ptype = low
        elif low.endswith("[]"):
            ptype = "array"
        elif text.startswith("'") or (text and text[0].isdigit()) or low in ("true", "false"):
            ptype = "string" if text.startswith("'") else ("int" if text[0].isdigit() else "bool")
        else:
            ptype = "object"  # a user-defined or resource-derived type
        if "secure" in decorators:
            ptype = "securestring" if ptype == "string" else "secureobject" if ptype == "object" else ptype
        out: dict[str, Any] = {"type": ptype}
        allowed = decorators.get("allowed")
        if allowed is not None and allowed.args:
            out["allowedValues"] = self.value(allowed.args[0], path + ("allowedValues",), {})
        elif "|" in text:
            values = [m.group(1).replace("\\'", "'") for m in re.finditer(r"'((?:[^'\\]|\\.)*)'", text)]
            if values:
                out["allowedValues"] = values
        if p.nullable:
            out["nullable"] = True
        if p.default is not None:
            out["defaultValue"] = self.value(p.default, path + ("defaultValue",), {})
        return out

    def output(self, o: A.Output, path: tuple) -> dict:
        self.entries[path] = (o.name_span, o.span, o)
        secure = any(d.name.lower() == "secure" for d in o.decorators)
        low = o.type_text.rstrip("?").strip().lower()
        otype = low if low in ("string", "int", "bool", "object", "array") else "array" if low.endswith("[]") else "object"
        if secure:
            otype = "securestring" if otype == "string" else "secureobject" if otype == "object" else otype
        out: dict[str, Any] = {"type": otype}
        if isinstance(o.value, A.For):
            loop = o.value
            env = {loop.item: f"{self.expr(loop.iterable, {})}[copyIndex()]"} if loop.item else {}
            if loop.index:
                env[loop.index] = "copyIndex()"
            out["copy"] = {"count": f"[length({self.expr(loop.iterable, {})})]",
                           "input": self.value(loop.body, path + ("copy", "input"), env)}
        else:
            out["value"] = self.value(o.value, path + ("value",), {})
        return out

    def copy_entry(self, name: str, loop: A.For, path: tuple, env: dict | None = None) -> dict:
        env = dict(env or {})
        iterable = self.expr(loop.iterable, env)
        if loop.item:
            env[loop.item] = f"{iterable}[copyIndex({quote(name)})]"
        if loop.index:
            env[loop.index] = f"copyIndex({quote(name)})"
        return {"name": name, "count": f"[length({iterable})]", "input": self.value(loop.body, path, env)}

    def loop_env(self, sym: Symbol) -> dict:
        """Loop variables of a resource/module copy loop, as the compiler inlines them."""
        if sym.loop is None:
            return {}
        iterable = self.expr(sym.loop.iterable, {})
        env = {}
        if sym.loop.item:
            env[sym.loop.item] = f"{iterable}[copyIndex()]"
        if sym.loop.index:
            env[sym.loop.index] = "copyIndex()"
        return env

    def _loop_and_condition(self, sym: Symbol, out: dict, env: dict) -> None:
        if sym.loop is not None:
            out["copy"] = {"name": sym.name, "count": f"[length({self.expr(sym.loop.iterable, {})})]"}
        if sym.cond is not None:
            out["condition"] = "[" + self.expr(sym.cond, env) + "]"

    def resource(self, sym: Symbol, path: tuple) -> dict:
        env = self.loop_env(sym)
        out: dict[str, Any] = {"type": sym.type, "apiVersion": sym.api}
        # The type string: what a resource-level finding points at (it depends on no parameter).
        self.entries[path + ("type",)] = (sym.decl.type_span, sym.decl.type_span,
                                          A.Str(sym.decl.type_string, sym.decl.type_span))
        self.entries[path + ("apiVersion",)] = self.entries[path + ("type",)]
        if sym.existing:
            out["existing"] = True
        self._loop_and_condition(sym, out, env)
        body = sym.body
        if body is None:
            # An unreadable body: what the resource sets is unknown, not absent.
            for key in UNREADABLE_BODY:
                out[key] = "[" + UNKNOWN_CALL + "]"
            return out
        name = self.full_name(sym, env)
        for p in body.props:
            if p.spread or p.key is None:
                continue
            key = p.key
            if key in ("parent", "dependsOn"):
                continue
            if key == "name":
                out["name"] = name
                self._record(path + ("name",), p.key_span, p.value)
                continue
            if key == "scope":
                scope = self.extension_scope(p.value, env)
                if scope is not None:
                    out["scope"] = scope
                    self._record(path + ("scope",), p.key_span, p.value)
                continue
            out[key] = self.value(p.value, path + (key,), env, key_span=p.key_span)
        if self.gaps and self.incomplete(body):
            for key in UNREADABLE_BODY:  # the unreadable entry may be any of them
                out.setdefault(key, "[" + UNKNOWN_CALL + "]")
        return out

    def extension_scope(self, node: Any, env: dict) -> Any:
        """`scope:` of a resource: the id of a resource it extends; nothing when it is the
        deployment's own scope (`resourceGroup()` in a resource-group template)."""
        target = self._resource_target(node)
        if target is not None:
            return "[" + self.resource_id(target[0], env, target[1]) + "]"
        if isinstance(node, A.Call) and node.target is None and node.name in SCHEMAS and not node.args:
            if node.name == self.target_scope:
                return None
        return "[" + self.expr(node, env) + "]"

    def _resource_target(self, node: Any) -> tuple[Symbol, Any] | None:
        """A node naming a declared resource: `res` or `res[i]` -> (symbol, index node)."""
        if isinstance(node, A.Unary) and node.op == "!post":
            node = node.operand
        if isinstance(node, A.Ref):
            sym = self.symbols.get(node.name)
            return (sym, None) if sym is not None else None
        if isinstance(node, A.Nested):
            name = self._nested_name(node)
            sym = self.symbols.get(name) if name else None
            return (sym, None) if sym is not None else None
        if isinstance(node, A.Index) and isinstance(node.obj, (A.Ref, A.Nested)):
            name = node.obj.name if isinstance(node.obj, A.Ref) else self._nested_name(node.obj)
            sym = self.symbols.get(name) if name else None
            return (sym, node.index) if sym is not None else None
        return None

    def _nested_name(self, node: Any) -> str | None:
        """`parent::child` as the symbol name the translation gives nested resources."""
        if isinstance(node, A.Ref):
            return node.name
        if isinstance(node, A.Nested):
            parent = self._nested_name(node.parent)
            return f"{parent}::{node.name}" if parent else None
        return None

    def module(self, sym: Symbol, path: tuple) -> dict:
        env = self.loop_env(sym)
        decl: A.Module = sym.decl
        out: dict[str, Any] = {"type": DEPLOYMENTS, "apiVersion": DEPLOYMENTS_API}
        self.entries[path + ("type",)] = (decl.name_span, decl.path_span, A.Str(decl.path, decl.path_span))
        self._loop_and_condition(sym, out, env)
        body = sym.body
        name_prop = _prop(body, "name")
        if name_prop is not None:
            out["name"] = self.value(name_prop.value, path + ("name",), env, key_span=name_prop.key_span)
        else:
            out["name"] = f"[format('{sym.name}-{{0}}', uniqueString({quote(sym.name)}, deployment().name))]"
        scope_prop = _prop(body, "scope")
        if scope_prop is not None:
            self.module_scope(scope_prop.value, out, env)
            self._record(path + ("scope",), scope_prop.key_span, scope_prop.value)
        props: dict[str, Any] = {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental"}
        passed: dict[str, Any] = {}
        params = _prop(body, "params")
        if params is not None and isinstance(params.value, A.Obj):
            self._record(path + ("properties", "parameters"), params.key_span, params.value)
            for p in params.value.props:
                if p.spread or p.key is None:
                    continue
                ppath = path + ("properties", "parameters", p.key)
                self.entries[ppath] = (p.key_span, p.span, p)
                passed[p.key] = {"value": self.value(p.value, ppath + ("value",), env, key_span=p.key_span)}
        elif params is not None:
            self._record(path + ("properties", "parameters"), params.key_span, params.value)
        props["parameters"] = passed
        # Passed values we cannot read (an expression, an unreadable entry): the module is unknown.
        readable = params is None or isinstance(params.value, A.Obj) and not any(p.spread for p in params.value.props)
        if readable and self.gaps:
            readable = body is not None and not self.incomplete(body) and (
                params is None or not self.incomplete(params.value))
        link = load_module(self, decl) if readable else None
        if not readable:
            unread = load_module(self, decl)
            if unread is not None:
                self.unread_modules[sym.name] = unread
        if link is not None:
            self.modules[sym.name] = link
            props["template"] = link.translation.template
        out["properties"] = props
        return out

    def module_scope(self, node: Any, out: dict, env: dict) -> None:
        """A module's `scope:` as the deployment properties the compiler writes."""
        if isinstance(node, A.Call) and node.target is None:
            args = [self.expr(a, env) for a in node.args]
            name = node.name
            if name == "resourceGroup":
                if len(args) == 1:
                    out["resourceGroup"] = "[" + args[0] + "]"
                elif len(args) == 2:
                    out["subscriptionId"], out["resourceGroup"] = "[" + args[0] + "]", "[" + args[1] + "]"
                elif self.target_scope != "resourceGroup":
                    out["resourceGroup"] = "[resourceGroup().name]"
                return
            if name == "subscription":
                out["subscriptionId"] = "[" + (args[0] if args else "subscription().subscriptionId") + "]"
                out["location"] = "[deployment().location]"
                return
            if name == "managementGroup":
                out["scope"] = ("[format('Microsoft.Management/managementGroups/{0}', " + args[0] + ")]") if args \
                    else "[managementGroup().id]"
                return
            if name == "tenant":
                out["scope"] = "/"
                return
        target = self._resource_target(node)
        if target is not None and target[0].type.lower() == "microsoft.resources/resourcegroups":
            rg = target[0]
            out["resourceGroup"] = "[" + self.name_expr(rg, env, target[1]) + "]"
            if isinstance(rg.scope, A.Call) and rg.scope.name == "subscription" and rg.scope.args:
                out["subscriptionId"] = "[" + self.expr(rg.scope.args[0], env) + "]"
            return
        if target is not None and target[0].type.lower() == "microsoft.management/managementgroups":
            out["scope"] = "[" + self.resource_id(target[0], env, target[1]) + "]"
            return
        out["scope"] = "[" + self.expr(node, env) + "]"

    # ---- names and ids of symbols -----------------------------------------------------------------
    def symbol_env(self, sym: Symbol, index: Any, env: dict) -> dict:
        """The loop variables of `sym` for element `index` (a Bicep node) of its copy loop."""
        if sym.loop is None or index is None:
            return self.loop_env(sym) if sym.loop is not None else {}
        i = self.expr(index, env)
        out = {}
        if sym.loop.item:
            out[sym.loop.item] = f"{self.expr(sym.loop.iterable, {})}[{i}]"
        if sym.loop.index:
            out[sym.loop.index] = i
        return out

    def name_expr(self, sym: Symbol, env: dict, index: Any = None) -> str:
        """The symbol's own name (`child.name` is its last segment) as an ARM expression."""
        if sym.own_name is None:
            return UNKNOWN_CALL
        return self.expr(sym.own_name, self.symbol_env(sym, index, env))

    def full_name(self, sym: Symbol, env: dict) -> Any:
        """The ARM `name` of a resource: `parent/child` for children."""
        if sym.own_name is None:
            return None
        own = self.value(sym.own_name, None, env)
        if sym.parent is None:
            return own
        parent = self.full_name(sym.parent, {})
        if isinstance(parent, str) and isinstance(own, str) and not parent.startswith("[") and not own.startswith("["):
            return f"{parent}/{own}"
        return f"[format('{{0}}/{{1}}', {self._as_expr(parent)}, {self._as_expr(own)})]"

    @staticmethod
    def _as_expr(v: Any) -> str:
        if isinstance(v, str):
            return v[1:-1] if v.startswith("[") and not v.startswith("[[") else quote(v[1:] if v.startswith("[[") else v)
        return UNKNOWN_CALL

    def name_segments(self, sym: Symbol, env: dict, index: Any) -> list[str]:
        segs = [self.name_expr(sym, env, index)]
        p = sym.parent
        while p is not None:
            segs.insert(0, self.name_expr(p, {}, None))
            p = p.parent
        return segs

    def resource_id(self, sym: Symbol, env: dict, index: Any = None) -> str:
        if sym.kind == "module":
            return f"resourceId('{DEPLOYMENTS}', {self.name_expr_module(sym, env, index)})"
        segs = ", ".join(self.name_segments(sym, env, index))
        root = sym
        while root.parent is not None:
            root = root.parent
        scope = root.scope
        t = quote(sym.type)
        if scope is not None:
            target = self._resource_target(scope)
            if target is not None:
                return f"extensionResourceId({self.resource_id(target[0], {}, target[1])}, {t}, {segs})"
            if isinstance(scope, A.Call) and scope.target is None:
                args = [self.expr(a, env) for a in scope.args]
                if scope.name == "resourceGroup" and args:
                    return f"resourceId({', '.join(args)}, {t}, {segs})"
                if scope.name == "subscription" and args:
                    return f"subscriptionResourceId({args[0]}, {t}, {segs})"
                if scope.name == "managementGroup" and args:
                    return f"extensionResourceId(format('/providers/Microsoft.Management/managementGroups/{{0}}', {args[0]}), {t}, {segs})"
                if scope.name == "tenant":
                    return f"tenantResourceId({t}, {segs})"
                if scope.name in SCHEMAS and not args and scope.name != self.target_scope:
                    return f"extensionResourceId({scope.name}().id, {t}, {segs})"
        if self.target_scope == "subscription":
            return f"subscriptionResourceId({t}, {segs})"
        if self.target_scope == "managementGroup":
            return f"extensionResourceId(managementGroup().id, {t}, {segs})"
        if self.target_scope == "tenant":
            return f"tenantResourceId({t}, {segs})"
        return f"resourceId({t}, {segs})"

    def name_expr_module(self, sym: Symbol, env: dict, index: Any) -> str:
        p = _prop(sym.body, "name")
        if p is None:
            return f"format('{sym.name}-{{0}}', uniqueString({quote(sym.name)}, deployment().name))"
        return self.expr(p.value, self.symbol_env(sym, index, env))

    def reference(self, sym: Symbol, env: dict, index: Any, full: bool = False) -> str:
        ref = quote(sym.name) if index is None else f"format('{sym.name}[{{0}}]', {self.expr(index, env)})"
        if full and sym.kind == "resource":
            return f"reference({ref}, {quote(sym.api)}, 'full')"
        return f"reference({ref})"

    # ---- values and expressions -------------------------------------------------------------------
    def value(self, node: Any, path: tuple | None, env: dict, key_span: Any = None) -> Any:
        """A Bicep node as a template value (JSON data whose strings may be `[expressions]`),
        recording the span of every node at its path."""
        if path is not None:
            self._record(path, key_span, node)
        if isinstance(node, A.Str):
            return "[" + node.value if node.value.startswith("[") else node.value
        if isinstance(node, A.Num):
            return node.value
        if isinstance(node, A.Bool):
            return node.value
        if isinstance(node, A.Null):
            return None
        if isinstance(node, A.Unary) and node.op == "-" and isinstance(node.operand, A.Num):
            return -node.operand.value
        if isinstance(node, A.Obj) and self.gaps and self.incomplete(node):
            return "[" + UNKNOWN_CALL + "]"  # an entry could not be read: any key may be set
        if isinstance(node, A.Obj) and not any(p.spread for p in node.props):
            out: dict[str, Any] = {}
            for p in node.props:
                if p.key is None:  # '${uami.id}': {} - ARM allows an expression as a property name
                    out["[" + self.computed_key(p, env) + "]"] = self.value(p.value, None, env)
                    continue
                sub = None if path is None else path + (p.key,)
                if isinstance(p.value, A.For) and path is not None:
                    out.setdefault("copy", []).append(self.copy_entry(p.key, p.value, sub + ("copy",), env))
                    if sub is not None:
                        self._record(sub, p.key_span, p.value)
                    continue
                out[p.key] = self.value(p.value, sub, env, key_span=p.key_span)
            return out
        if isinstance(node, A.Arr) and not any(isinstance(i, A.Unary) and i.op == "..." for i in node.items):
            return [self.value(item, None if path is None else path + (i,), env) for i, item in enumerate(node.items)]
        return "[" + self.expr(node, env) + "]"

    def computed_key(self, prop: A.Prop, env: dict) -> str:
        """A computed property name (`'${uami.id}'`): the reader's `key_expr`; a tree without
        one gets the common `'${a.b}'` shape read back from the source, else unknown."""
        key_expr = getattr(prop, "key_expr", None)
        if key_expr is not None:
            return self.expr(key_expr, env)
        text = self.doc.text[prop.key_span[0]:prop.key_span[1]].strip()
        m = _KEY_CHAIN_RE.fullmatch(text)
        if m is None:
            return UNKNOWN_CALL
        start = prop.key_span[0]
        names = m.group(1).split(".")
        node: Any = A.Ref(names[0].strip(), (start, start))
        for name in names[1:]:
            node = A.Member(node, name.strip(), False, (start, start), (start, start))
        return self.expr(node, env)

    def incomplete(self, node: A.Obj) -> bool:
        """Whether an unreadable region lies in the object itself (not inside one of its entries)."""
        start, end = node.span
        for gs, ge in self.gaps:
            if start <= gs and ge <= end and not any(p.span[0] <= gs and ge <= p.span[1] for p in node.props):
                return True
        return False

    def expr(self, node: Any, env: dict) -> str:
        """A Bicep expression as the text of an ARM expression (without the brackets)."""
        try:
            return self._expr(node, env, 0)
        except RecursionError:
            return UNKNOWN_CALL

    def _expr(self, node: Any, env: dict, depth: int) -> str:
        if depth > 60:
            return UNKNOWN_CALL
        d = depth + 1
        if isinstance(node, A.Str):
            return quote(node.value)
        if isinstance(node, A.Num):
            return str(node.value)
        if isinstance(node, A.Bool):
            return "true()" if node.value else "false()"
        if isinstance(node, A.Null):
            return "null()"
        if isinstance(node, A.Interp):
            fmt, args = [], []
            for part in node.parts:
                if isinstance(part, str):
                    fmt.append(part.replace("{", "{{").replace("}", "}}"))
                else:
                    fmt.append("{%d}" % len(args))
                    args.append(self._expr(part, env, d))
            return f"format({quote(''.join(fmt))}{''.join(', ' + a for a in args)})"
        if isinstance(node, A.Ref):
            return self.ref(node.name, env)
        if isinstance(node, A.Member):
            return self.member(node, env, d)
        if isinstance(node, A.Index):
            target = self._resource_target(node)
            if target is not None:
                return self.resource_id(target[0], env, target[1])
            obj, idx = self._expr(node.obj, env, d), self._expr(node.index, env, d)
            return f"tryGet({obj}, {idx})" if node.safe else f"{obj}[{idx}]"
        if isinstance(node, A.Call):
            return self.call(node, env, d)
        if isinstance(node, A.Obj):
            if self.gaps and self.incomplete(node):
                return UNKNOWN_CALL
            if any(p.spread or p.key is None for p in node.props):
                parts = []
                current: list[str] = []
                for p in node.props:
                    if p.spread:
                        if current:
                            parts.append(f"createObject({', '.join(current)})")
                            current = []
                        parts.append(self._expr(p.value, env, d))
                    elif p.key is not None:
                        current += [quote(p.key), self._expr(p.value, env, d)]
                    else:
                        current += [self.computed_key(p, env), self._expr(p.value, env, d)]
                if current:
                    parts.append(f"createObject({', '.join(current)})")
                if len(parts) == 1 and not any(p.spread for p in node.props):
                    return parts[0]
                return f"shallowMerge(createArray({', '.join(parts)}))"
            items = []
            for p in node.props:
                items += [quote(p.key), self._expr(p.value, env, d)]
            return f"createObject({', '.join(items)})"
        if isinstance(node, A.Arr):
            if any(isinstance(i, A.Unary) and i.op == "..." for i in node.items):
                parts = [self._expr(i.operand, env, d) if isinstance(i, A.Unary) and i.op == "..."
                         else f"createArray({self._expr(i, env, d)})" for i in node.items]
                return f"flatten(createArray({', '.join(parts)}))"
            return f"createArray({', '.join(self._expr(i, env, d) for i in node.items)})"
        if isinstance(node, A.Ternary):
            return f"if({self._expr(node.cond, env, d)}, {self._expr(node.then, env, d)}, {self._expr(node.otherwise, env, d)})"
        if isinstance(node, A.Binary):
            left, right = self._expr(node.left, env, d), self._expr(node.right, env, d)
            op = node.op
            if op == "!=":
                return f"not(equals({left}, {right}))"
            if op == "=~":
                return f"equals(toLower({left}), toLower({right}))"
            if op == "!~":
                return f"not(equals(toLower({left}), toLower({right})))"
            fn = _BINARY.get(op)
            return f"{fn}({left}, {right})" if fn else UNKNOWN_CALL
        if isinstance(node, A.Unary):
            inner = self._expr(node.operand, env, d)
            if node.op == "!":
                return f"not({inner})"
            if node.op == "-":
                return f"sub(0, {inner})" if not isinstance(node.operand, A.Num) else f"-{inner}"
            if node.op == "!post":
                return inner
            return UNKNOWN_CALL
        if isinstance(node, A.Lambda):
            inner_env = dict(env)
            for p in node.params:
                inner_env[p] = f"lambdaVariables({quote(p)})"
            names = ", ".join(quote(p) for p in node.params)
            return f"lambda({names}, {self._expr(node.body, inner_env, d)})"
        return UNKNOWN_CALL  # For outside a property, If, Error

    def ref(self, name: str, env: dict) -> str:
        if name in env:
            return env[name]
        if name in self.params:
            return f"parameters({quote(name)})"
        if name in self.vars:
            return f"variables({quote(name)})"
        sym = self.symbols.get(name)
        if sym is not None:
            return self.resource_id(sym, env)
        return f"variables({quote(name)})" if _IDENT_RE.match(name) else UNKNOWN_CALL

    def member(self, node: A.Member, env: dict, d: int) -> str:
        target = self._resource_target(node.obj)
        if target is not None:
            sym, index = target
            if sym.kind == "module":
                if node.name == "name":
                    return self.name_expr_module(sym, env, index)
                if node.name == "outputs":
                    return f"{self.reference(sym, env, index)}.outputs"
                return UNKNOWN_CALL
            name = node.name
            if name == "id":
                return self.resource_id(sym, env, index)
            if name == "name":
                return self.name_expr(sym, env, index)
            if name == "type":
                return quote(sym.type)
            if name == "apiVersion":
                return quote(sym.api)
            if name == "properties":
                return self.reference(sym, env, index)
            full = self.reference(sym, env, index, full=True)
            return f"tryGet({full}, {quote(name)})" if node.safe else f"{full}.{name}"
        # module outputs: `mod.outputs.x` -> reference('mod').outputs.x.value
        if isinstance(node.obj, A.Member) and node.obj.name == "outputs":
            t = self._resource_target(node.obj.obj)
            if t is not None and t[0].kind == "module":
                base = self._expr(node.obj, env, d)
                return f"tryGet(tryGet({base}, {quote(node.name)}), 'value')" if node.safe else f"{base}.{node.name}.value"
        obj = self._expr(node.obj, env, d)
        if node.safe:
            return f"tryGet({obj}, {quote(node.name)})"
        return f"{obj}.{node.name}" if _IDENT_RE.match(node.name) else f"{obj}[{quote(node.name)}]"

    def call(self, node: A.Call, env: dict, d: int) -> str:
        args = [self._expr(a, env, d) for a in node.args]
        if node.target is not None:  # a resource function: storage.listKeys()
            target = self._resource_target(node.target)
            if target is None:
                return UNKNOWN_CALL
            sym, index = target
            ref = quote(sym.name) if index is None else f"format('{sym.name}[{{0}}]', {self._expr(index, env, d)})"
            if sym.existing or True:
                api = args[0] if args else quote(sym.api)
                rest = args[1:]
                return f"{node.name}({ref}, {api}{''.join(', ' + a for a in rest)})"
        name = node.name
        low = name.lower()
        if node.namespace not in (None, "az", "sys"):
            return UNKNOWN_CALL  # an imported namespace's function
        if low == "any" and len(args) == 1:
            return args[0]
        if low in _COMPILE_TIME:
            return UNKNOWN_CALL
        if not _IDENT_RE.match(name):
            return UNKNOWN_CALL
        return f"{name}({', '.join(args)})"


class ModuleLink:
    """A local module's translation, embedded as a deployment's template."""

    __slots__ = ("relpath", "translation", "doc")

    def __init__(self, relpath: str, translation: Translation, doc: Any):
        self.relpath = relpath
        self.translation = translation
        self.doc = doc


def module_relpath(doc_relpath: str, module_path: str) -> str | None:
    """The repository path of a local module, or None (registry modules, paths leaving the repo)."""
    if not module_path or is_registry_path(module_path) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", module_path):
        return None
    if module_path.startswith("/") or "\\" in module_path:
        return None
    target = posixpath.normpath(posixpath.join(reldir_of(doc_relpath), module_path))
    return None if target == ".." or target.startswith("../") else target


def load_module(tr: Translation, decl: A.Module) -> ModuleLink | None:
    ws = getattr(tr.doc, "workspace", None)
    rel = module_relpath(tr.doc.relpath, decl.path)
    if ws is None or rel is None or rel in tr.visiting or len(tr.visiting) > MAX_MODULE_DEPTH:
        return None
    mdoc = ws.load(rel)
    if mdoc is None or getattr(mdoc, "kind", "") != "bicep":
        return None
    mdoc.ensure_parsed()  # a partly unreadable module still yields what was read
    if getattr(mdoc, "program", None) is None:
        return None
    view = translate(mdoc, tr.visiting)
    return None if view is None else ModuleLink(rel, view.translation, mdoc)


# ---- the ARM-shaped view of a Bicep document ------------------------------------------------------------

class BicepTemplate:
    """The ARM template of a Bicep document, answering `values` / `locate` / `locate_key` in
    ARM-template paths with spans in the Bicep source. Everything else is the document's."""

    def __init__(self, doc: Any, translation: Translation):
        self._doc = doc
        self.translation = translation
        self.values = [translation.template]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._doc, name)

    @property
    def doc(self) -> Any:
        return self._doc

    def _entry(self, path: tuple):
        e = self.translation.entries.get(tuple(path))
        if e is None:
            return None
        (ks, ke), (vs, ve) = e[0], e[1]
        return ks, ke, vs, ve

    def locate(self, path: tuple):
        e = self._entry(path)
        return None if e is None else self._doc._span(e[2], e[3])

    def locate_key(self, path: tuple):
        e = self._entry(path)
        return None if e is None else self._doc._span(e[0], e[1])

    def node_at(self, path: tuple) -> Any:
        e = self.translation.entries.get(tuple(path))
        return None if e is None else e[2]

    def path_starting_at(self, offset: int) -> tuple | None:
        """The deepest template path whose value starts at `offset` (a fact's span, back to its node)."""
        tr = self.translation
        if tr.by_start is None:
            by: dict[int, tuple] = {}
            for path, (_, (vs, _), _) in tr.entries.items():
                if vs not in by or len(path) > len(by[vs]):
                    by[vs] = path
            tr.by_start = by
        return tr.by_start.get(offset)

    def source(self, node: Any) -> str:
        s, e = node.span
        return self._doc.text[s:e]

    def symbol_of(self, path: tuple) -> Any:
        """The resource or module symbol a template path belongs to (top level only)."""
        if len(path) >= 3 and path[1] == "resources":
            return self.translation.symbols.get(path[2])
        return None

    def params_referenced(self, node: Any) -> list[str]:
        """Parameters a node depends on, through variables, in the order they appear."""
        out: list[str] = []
        seen: set[str] = set()
        tr = self.translation

        def walk(n: Any, depth: int) -> None:
            if depth > 200 or n is None:
                return
            if isinstance(n, A.Ref):
                if n.name in seen:
                    return
                seen.add(n.name)
                if n.name in tr.params:
                    out.append(n.name)
                elif n.name in tr.vars:
                    walk(tr.vars[n.name].value, depth + 1)
                return
            if isinstance(n, tuple) and not hasattr(n, "_fields"):
                for x in n:
                    walk(x, depth + 1)
                return
            if hasattr(n, "_fields"):
                for f in n._fields:
                    if f in ("span", "name_span", "key_span", "type_span", "path_span"):
                        continue
                    v = getattr(n, f)
                    if isinstance(v, (tuple, list)) or hasattr(v, "_fields"):
                        walk(v, depth + 1)

        walk(node, 0)
        return out


VIEW_KEY = "keyless.iac.bicep-template"


def translate(doc: Any, visiting: tuple[str, ...] = ()) -> BicepTemplate | None:
    """The ARM-shaped view of a parsed Bicep document (its translation memoized on it), or None."""
    cached = doc.memo.get(VIEW_KEY)
    if cached is not None:
        return BicepTemplate(doc, cached)
    program = getattr(doc, "program", None)
    if program is None or doc.subkind == "bicepparam":
        return None
    translation = Translation(doc, program, visiting)
    doc.memo[VIEW_KEY] = translation
    return BicepTemplate(doc, translation)
