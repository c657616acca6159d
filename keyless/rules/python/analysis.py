"""One `ast` pass per Python file, shared by every key-auth rule through `doc.memo`.

The walker records imports, name bindings (per function scope), calls, attribute/subscript
assignments and method calls; the resolver then answers "what does this name/expression refer to"
the way Python does (import aliases, re-assigned names, the last binding before the use in the same
scope, else the enclosing/module scope). Detection results are plain `Hit`s (node + message + fix
metadata) and secret-free `Fact` data; rules only filter them by code.
"""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from keyless.linter.messages import short_name
from keyless.rules.python import catalog as C

MEMO_KEY = "keyless.python.keyauth"
_MAX_DEPTH = 6
_KEY_READ_BACK = "; not rewritten: the key is read back (e.g. to sign a SAS), so use a user delegation key first"
_RUN_TIME_CHOICE = "; not rewritten: the key is picked at run time"
_BRANCH_CHOICE = "; not rewritten: drop that branch (the key is used only when set)"
# Attributes of a shared-key credential object that a token credential does not have.
KEY_ATTRS = frozenset({"account_key", "account_name", "named_key", "key", "signature", "update"})
_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# ---- scopes & bindings -------------------------------------------------------------------------

class Scope:
    __slots__ = ("kind", "name", "parent", "bindings", "positions", "order")

    def __init__(self, kind: str, name: str, parent: "Scope | None"):
        self.kind = kind  # module | function | class
        self.name = name
        self.parent = parent
        self.bindings: dict[str, list[tuple[int, int, str, Any]]] = {}
        # name -> the bindings' (line, column) and the order they arrived in: 1 ascending, -1
        # descending, 0 not known yet, None mixed. Lookups of a name bound 1000s of times then
        # bisect (or take the last one) instead of scanning every binding.
        self.positions: dict[str, list[tuple[int, int]]] = {}
        self.order: dict[str, int | None] = {}

    def bind(self, name: str, node: ast.AST, how: str, value: Any) -> None:
        pos = (node.lineno, node.col_offset)
        self.bindings.setdefault(name, []).append((*pos, how, value))
        seen = self.positions.setdefault(name, [])
        order = self.order.get(name, 0)
        if seen and order is not None and pos != seen[-1]:
            step = 1 if pos > seen[-1] else -1
            self.order[name] = step if order in (0, step) else None
        seen.append(pos)


@dataclass
class Val:
    """What an expression evaluates to, as far as a static reading can tell."""

    kind: str  # str | env | config | token | call | dict | none | param | unknown
    text: str | None = None  # static text (str): formatted parts become "{}" (or "<TOKEN>")
    name: str | None = None  # env var / config key / identifier / callee qualname
    node: ast.AST | None = None  # the expression the chain ended at
    scope: Scope | None = None
    hints: frozenset[str] = frozenset()  # identifiers and env names seen on the way


@dataclass
class Hit:
    code: str
    node: ast.AST
    message: str
    key: str
    fix_kind: str  # "unsafe" | "display-only"
    fix_message: str
    fix_data: dict | None = None
    fix_node: ast.AST | None = None  # the node a lazy fix rewrites (default: node)
    literal: bool = False  # the credential is written in the code (a history scan reports only these)


@dataclass
class Analysis:
    hits: list[Hit] = field(default_factory=list)
    # String literals that hold a credential a key-auth finding is about (masked in diffs).
    credential_literals: list[ast.AST] = field(default_factory=list)
    facts: list[tuple[str, dict, ast.AST]] = field(default_factory=list)
    module: Scope | None = None
    imports: list[ast.stmt] = field(default_factory=list)  # module-level Import/ImportFrom statements
    tree: ast.Module | None = None

    def by_code(self, code: str) -> list[Hit]:
        return [h for h in self.hits if h.code == code]


def get_analysis(doc) -> Analysis:
    an = doc.memo.get(MEMO_KEY)
    if an is None:
        an = Analysis()
        if doc.ensure_parsed() and getattr(doc, "tree", None) is not None:
            try:
                an = Analyzer(doc.tree, doc.lines.line_text, relpath=doc.relpath,
                              test_env=lambda: _pytest_env(doc)).run()
            except RecursionError:
                an = Analysis()
        doc.memo[MEMO_KEY] = an
    return an


def _pytest_env(doc) -> dict[str, str]:
    from keyless.rules.python.pytest_env import pytest_env

    return pytest_env(doc)


def _pos(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def dotted(expr: ast.AST) -> str | None:
    """Source-like text of a Name/Attribute chain (self.client.x), else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


# Keyword arguments that carry a credential, and where credential classes take their secret.
_CREDENTIAL_ARGS = frozenset({
    "key", "credential", "client_secret", "password", "passwd", "pwd", "api_key", "signature", "secret",
    "sas_token", "account_key", "access_key", "shared_access_key", "shared_access_key_value",
    "subscription_key", "master_key",
})
_SECRET_POSITION = {"AzureKeyCredential": 0, "AzureSasCredential": 0, "AzureNamedKeyCredential": 1,
                    "ClientSecretCredential": 2, "UsernamePasswordCredential": 2,
                    "CognitiveServicesCredentials": 0, "ApiKeyCredentials": 0}


def _looks_like_secret(text: str) -> bool:
    """A literal that can be a credential: long enough, one token, not a placeholder, a reference
    or a URL, and no formatted parts (an f-string's `{}`)."""
    from keyless.rules.secrets import allowlist

    v = text.strip()
    if len(v) < 8 or any(c.isspace() for c in v) or "{}" in v or "://" in v or "<TOKEN>" in v:
        return False
    return not (allowlist.is_placeholder(v) or allowlist.is_reference(v))


def _kw(call: ast.Call, *names: str) -> ast.keyword | None:
    for k in call.keywords:
        if k.arg in names:
            return k
    return None


def _arg(call: ast.Call, pos: int | None, *names: str) -> ast.expr | None:
    k = _kw(call, *names)
    if k is not None:
        return k.value
    if pos is not None and pos < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: pos + 1]):
        return call.args[pos]
    return None


def _has_star_kwargs(call: ast.Call) -> bool:
    return any(k.arg is None for k in call.keywords)


_AZURE_WORDS = ("AZURE", "OPENAI", "COGNITIVE", "AOAI")


def _named_azure(names) -> bool:
    return any(w in n.upper() for n in names for w in _AZURE_WORDS)


_LEAVES = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, str, int, float, complex, bytes, bool,
                     type(None), type(...)} | {c for c in vars(ast).values() if isinstance(c, type) and
                                               issubclass(c, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop))})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIP_FIELDS = {"ctx", "op", "ops", "type_comment"}


def _child_fields(t: type) -> tuple[str, ...]:
    fields = tuple(f for f in t._fields if f not in _SKIP_FIELDS)
    _CHILD_FIELDS[t] = fields
    return fields


# ---- the walker ---------------------------------------------------------------------------------

class Analyzer:
    def __init__(self, tree: ast.Module, line_text=None, relpath: str = "", test_env=None):
        self.tree = tree
        self.line_text = line_text
        self.is_test_code = _is_test_path(relpath)
        self._test_env = test_env  # () -> the variables pytest's configuration sets (read on demand)
        self._test_env_values: dict[str, str] | None = None
        self._emulator_markers: set[str] | None = None  # emulator hints among the module's literals
        self._env_defaults = False  # value(): read os.getenv("X", default) as its default
        self.walrus_bindings: set[tuple[int, int]] = set()  # positions of `name :=` targets
        self.attr_values: dict[str, list[tuple[tuple[int, int], ast.expr, Scope]]] = {}
        self.module = Scope("module", "", None)
        self.calls: list[tuple[ast.Call, Scope]] = []
        self.assigned: dict[int, tuple[str, Scope]] = {}  # id(value Call) -> (target text, scope)
        self.method_calls: dict[tuple[int, str], list[str]] = {}  # (scope id or 0, receiver) -> methods
        self.derived: dict[tuple[int, str], list[str]] = {}  # (scope id, receiver) -> derived receivers
        self.sub_assign: dict[tuple[int, str], list[tuple[ast.expr, ast.expr]]] = {}  # x[k] = v
        self.attr_assign: list[tuple[ast.Attribute, ast.expr, Scope]] = []
        # settings: module/class-level `NAME = value` and `x["NAME"] = value` anywhere
        self.setting_assigns: list[tuple[str, ast.expr, Scope]] = []
        self.env_subscripts: list[tuple[ast.Subscript, Scope]] = []
        self.class_fields: list[ast.AST] = []
        self.star_modules: list[str] = []
        self.imports: list[ast.stmt] = []
        self.an = Analysis(module=self.module, tree=tree)
        self._occ: dict[str, int] = {}
        self._scope_of_node: dict[int, Scope] = {}
        # `x.credential.account_key` & co.: (receiver text or None, scope); a client whose key is read
        # back (SAS signing) must keep it
        self.key_uses: list[tuple[str | None, Scope]] = []
        self.with_values: dict[int, ast.AST] = {}  # id(context expr) -> its `with` statement
        self.discarded_calls: set[int] = set()  # ids of calls whose value is thrown away (`f(x)` alone)
        self.if_stmts: list[tuple[ast.If, Scope]] = []
        self._ai_literals: bool | None = None  # a literal names an Azure AI service (KL205)
        self._states = None  # pynames.BindingStates, on demand

    # -- pass 1: one walk over the tree --
    def walk(self) -> None:
        stack: list[tuple[ast.AST, Scope]] = [(self.tree, self.module)]
        pop, push = stack.pop, stack.append
        Call, Name, Attribute, Subscript = ast.Call, ast.Name, ast.Attribute, ast.Subscript
        FuncTypes = (ast.FunctionDef, ast.AsyncFunctionDef)
        while stack:
            node, scope = pop()
            t = type(node)
            if t is Call:
                self.calls.append((node, scope))
                f = node.func
                if type(f) is Attribute:
                    recv = self._receiver(f.value)
                    if recv is not None:
                        k = (0 if "." in recv else id(scope), recv)
                        self.method_calls.setdefault(k, []).append(f.attr)
            elif t is Attribute:
                v = node.value
                if node.attr in KEY_ATTRS and type(v) is Attribute and v.attr == "credential":
                    self.key_uses.append((self._receiver(v.value), scope))
            elif t is Subscript:
                sl = node.slice
                if type(sl) is ast.Constant and type(sl.value) is str and type(node.ctx) is not ast.Del:
                    self.env_subscripts.append((node, scope))
            elif t is ast.Assign:
                for tgt in node.targets:
                    self._bind_target(tgt, node.value, scope, node)
            elif t is ast.AnnAssign:
                if node.value is not None:
                    self._bind_target(node.target, node.value, scope, node)
                if scope.kind == "class" and type(node.target) is Name:
                    self.class_fields.append(node.target)
            elif t is ast.Expr:
                if type(node.value) is Call:
                    self.discarded_calls.add(id(node.value))
            elif t is ast.If:
                self.if_stmts.append((node, scope))
            elif t is ast.NamedExpr:
                scope.bind(node.target.id, node.target, "value", node.value)
                self.walrus_bindings.add(_pos(node.target))
            elif t in FuncTypes or t is ast.Lambda:
                if t is not ast.Lambda:
                    scope.bind(node.name, node, "def", node)
                    for d in node.decorator_list:
                        push((d, scope))
                    if node.returns is not None:
                        push((node.returns, scope))
                parent = scope
                while parent.kind == "class":
                    parent = parent.parent
                name = node.name if t is not ast.Lambda else "<lambda>"
                qual = f"{scope.name}.{name}" if scope.name else name
                inner = Scope("function", qual, parent)
                a = node.args
                for d in a.defaults + [d for d in a.kw_defaults if d is not None]:
                    push((d, scope))
                for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
                    inner.bind(arg.arg, arg, "param", arg)
                body = node.body if t is not ast.Lambda else [node.body]
                for child in reversed(body):
                    push((child, inner))
                continue
            elif t is ast.ClassDef:
                scope.bind(node.name, node, "def", node)
                for d in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                    push((d, scope))
                qual = f"{scope.name}.{node.name}" if scope.name else node.name
                inner = Scope("class", qual, scope)
                for child in reversed(node.body):
                    push((child, inner))
                continue
            elif t is ast.Import:
                for a in node.names:
                    if a.asname:
                        scope.bind(a.asname, node, "import", a.name)
                    else:
                        top = a.name.split(".", 1)[0]
                        scope.bind(top, node, "import", top)
                if scope is self.module:
                    self.imports.append(node)
            elif t is ast.ImportFrom:
                mod = ("." * node.level) + (node.module or "")
                for a in node.names:
                    if a.name == "*":
                        self.star_modules.append(mod)
                    else:
                        scope.bind(a.asname or a.name, node, "import", f"{mod}.{a.name}")
                if scope is self.module:
                    self.imports.append(node)
            elif t is ast.With or t is ast.AsyncWith:
                for item in node.items:
                    if type(item.optional_vars) is Name:
                        self.with_values[id(item.context_expr)] = node
                        scope.bind(item.optional_vars.id, item.optional_vars, "value", item.context_expr)
                        self._note_assign(item.context_expr, item.optional_vars.id, scope)
            elif t is ast.For or t is ast.AsyncFor or t is ast.comprehension:
                for n in ast.walk(node.target):
                    if type(n) is Name:
                        scope.bind(n.id, n, "loop", None)
            elif t is ast.ExceptHandler:
                if node.name:
                    scope.bind(node.name, node, "loop", None)
            # children (leaves such as Name, Constant and ctx/operator singletons are never pushed)
            fields = _CHILD_FIELDS.get(t)
            if fields is None:
                fields = _child_fields(t)
            for fname in fields:
                v = getattr(node, fname, None)
                if v is None:
                    continue
                if type(v) is list:
                    for c in v:
                        if c is not None and type(c) not in _LEAVES:
                            push((c, scope))
                elif type(v) not in _LEAVES:
                    push((v, scope))

    def _receiver(self, expr: ast.AST) -> str | None:
        t = type(expr)
        if t is ast.Name or t is ast.Attribute:
            return dotted(expr)
        if t is ast.Call and type(expr.func) is ast.Attribute:  # svc.get_blob_client(...).upload_blob()
            return self._receiver(expr.func.value)
        if t is ast.Await:
            return self._receiver(expr.value)
        return None

    def _note_assign(self, value: ast.AST, target: str, scope: Scope) -> None:
        while type(value) is ast.Await:
            value = value.value
        if type(value) is ast.Call:
            self.assigned[id(value)] = (target, scope)
            f = value.func
            if type(f) is ast.Attribute:
                recv = self._receiver(f.value)
                if recv is not None:
                    sk = 0 if "." in recv else id(scope)
                    tk = 0 if "." in target else id(scope)
                    self.derived.setdefault((sk, recv), []).append((tk, target))

    def _bind_target(self, tgt: ast.AST, value: ast.AST, scope: Scope, stmt: ast.AST) -> None:
        t = type(tgt)
        if t is ast.Name:
            scope.bind(tgt.id, tgt, "value", value)
            self._note_assign(value, tgt.id, scope)
            if scope.kind != "function" and _is_setting_name(tgt.id):
                self.setting_assigns.append((tgt.id, value, scope))
        elif t is ast.Attribute:
            self.attr_assign.append((tgt, value, scope))
            d = dotted(tgt)
            if d:
                self._note_assign(value, d, scope)
                self.attr_values.setdefault(d, []).append((_pos(tgt), value, scope))
        elif t is ast.Subscript:
            d = dotted(tgt.value)
            if d:
                k = (0 if "." in d else id(scope), d)
                self.sub_assign.setdefault(k, []).append((tgt.slice, value))
            sl = tgt.slice
            if type(sl) is ast.Constant and type(sl.value) is str and _is_setting_name(sl.value):
                self.setting_assigns.append((sl.value, value, scope))
        elif t is ast.Tuple or t is ast.List:
            for e in tgt.elts:
                for n in ast.walk(e):
                    if type(n) is ast.Name:
                        scope.bind(n.id, n, "loop", None)

    # -- resolution --
    def lookup(self, name: str, scope: Scope, pos: tuple[int, int]):
        s = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            lst = s.bindings.get(name)
            if lst:
                # The last binding in list order that comes before pos, else the last one.
                order = s.order.get(name, 0)
                if order == -1:
                    b = lst[-1]  # descending: those before pos are a suffix
                elif order is not None:
                    i = bisect.bisect_left(s.positions[name], pos)
                    b = lst[i - 1] if i else lst[-1]
                else:
                    before = [b for b in lst if (b[0], b[1]) < pos]
                    b = before[-1] if before else lst[-1]
                return b, s
            first = False
            s = s.parent
        return None, None

    def qualify(self, expr: ast.AST, scope: Scope, depth: int = 0) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        t = type(expr)
        if t is ast.Name:
            b, s = self.lookup(expr.id, scope, _pos(expr))
            if b is None:
                for mod in self.star_modules:
                    q = f"{mod}.{expr.id}"
                    if q in C.CLIENTS or q in C.KEY_CREDENTIALS or q in C.OPENAI_CLASSES:
                        return q
                    if mod in C.IDENTITY_PKGS:
                        return q
                return None
            how, val = b[2], b[3]
            if how == "import":
                return val
            if how == "value" and type(val) in (ast.Name, ast.Attribute):
                return self.qualify(val, s, depth + 1)
            return None
        if t is ast.Attribute:
            base = self.qualify(expr.value, scope, depth + 1)
            return f"{base}.{expr.attr}" if base else None
        return None

    def resolve(self, expr: ast.AST, scope: Scope, depth: int = 0) -> tuple[ast.AST, Scope, str | None]:
        """Follow names to the expression they are bound to. Returns (expr, scope, how)."""
        how = None
        while type(expr) is ast.Attribute and depth <= _MAX_DEPTH:
            d = dotted(expr)
            lst = self.attr_values.get(d) if d else None
            if not lst or len({id(v) for _, v, _ in lst}) != 1:
                break
            _, expr, scope = lst[0]
            how = "value"
            depth += 1
        while type(expr) is ast.Name and depth <= _MAX_DEPTH:
            b, s = self.lookup(expr.id, scope, _pos(expr))
            if b is None:
                return expr, scope, "unbound"
            how = b[2]
            if how != "value":
                return expr, s, how
            expr, scope = b[3], s
            depth += 1
        while type(expr) is ast.Await:
            expr = expr.value
        return expr, scope, how

    def env_name(self, expr: ast.AST, scope: Scope) -> str | None:
        """os.environ["X"], os.environ.get("X"), os.getenv("X"), environ["X"] -> "X"."""
        t = type(expr)
        if t is ast.Subscript:
            sl = expr.slice
            if type(sl) is ast.Constant and type(sl.value) is str:
                if self.qualify(expr.value, scope) == "os.environ":
                    return sl.value
        elif t is ast.Call and expr.args:
            a0 = expr.args[0]
            if type(a0) is ast.Constant and type(a0.value) is str:
                q = self.qualify(expr.func, scope)
                if q in ("os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop", "os.getenvb"):
                    return a0.value
        return None

    def value(self, expr: ast.AST, scope: Scope, depth: int = 0) -> Val:
        if depth > _MAX_DEPTH or expr is None:
            return Val("unknown", node=expr, scope=scope)
        t = type(expr)
        if t is ast.Constant:
            v = expr.value
            if v is None:
                return Val("none", node=expr, scope=scope)
            if type(v) is str:
                return Val("str", text=v, node=expr, scope=scope)
            return Val("other", node=expr, scope=scope)
        if t is ast.JoinedStr or t is ast.BinOp:
            parts: list[str] = []
            hints: set[str] = set()
            self._flatten(expr, scope, depth, parts, hints)
            return Val("str", text="".join(parts), node=expr, scope=scope, hints=frozenset(hints))
        if t is ast.Name:
            e2, s2, how = self.resolve(expr, scope, depth)
            if e2 is expr or type(e2) is ast.Name and how != "value":
                kind = {"param": "param", "import": "import"}.get(how or "", "unknown")
                return Val(kind, name=expr.id, node=e2, scope=s2, hints=frozenset({expr.id}))
            v = self.value(e2, s2, depth + 1)
            v.hints = v.hints | {expr.id}
            if v.name is None:
                v.name = expr.id
            return v
        if t is ast.Await:
            return self.value(expr.value, scope, depth + 1)
        env = self.env_name(expr, scope)
        if env is not None:
            if self._env_defaults and t is ast.Call and len(expr.args) > 1:
                default = self.value(expr.args[1], scope, depth + 1)
                if default.kind == "str":
                    return Val("str", text=default.text, node=expr, scope=scope, hints=default.hints | {env})
            return Val("env", name=env, node=expr, scope=scope, hints=frozenset({env}))
        if t is ast.Attribute:
            if expr.attr == "token" or "token" in expr.attr.lower():
                return Val("token", name=expr.attr, node=expr, scope=scope)
            e2, s2, _ = self.resolve(expr, scope, depth)
            if e2 is not expr:
                v = self.value(e2, s2, depth + 1)
                v.hints = v.hints | {expr.attr}
                if v.name is None:
                    v.name = expr.attr
                return v
            return Val("config", name=expr.attr, node=expr, scope=scope, hints=frozenset({expr.attr}))
        if t is ast.Subscript:
            sl = expr.slice
            if type(sl) is ast.Constant and type(sl.value) is str:
                return Val("config", name=sl.value, node=expr, scope=scope, hints=frozenset({sl.value}))
            return Val("unknown", node=expr, scope=scope)
        if t is ast.Call:
            f = expr.func
            fname = f.attr if type(f) is ast.Attribute else (f.id if type(f) is ast.Name else "")
            if any(w in fname.lower() for w in ("token", "credential", "entra", "aad")):
                return Val("token", name=fname, node=expr, scope=scope)
            if fname in ("format", "strip", "rstrip", "lower", "replace") and type(f) is ast.Attribute:
                inner = self.value(f.value, scope, depth + 1)
                if inner.kind == "str":
                    if fname == "format":
                        hints = set(inner.hints)
                        text = self._format_fields(inner.text or "", expr, scope, depth, hints)
                        return Val("str", text=text, node=expr, scope=scope, hints=frozenset(hints))
                    return Val("str", text=inner.text, node=expr, scope=scope, hints=inner.hints)
                return inner
            if fname in ("quote_plus", "quote", "str") and expr.args:
                return self.value(expr.args[0], scope, depth + 1)
            if fname in ("get", "getenv", "config", "env", "str", "get_secret_value") and expr.args:
                a0 = expr.args[0]
                if type(a0) is ast.Constant and type(a0.value) is str:
                    return Val("config", name=a0.value, node=expr, scope=scope, hints=frozenset({a0.value}))
            q = self.qualify(f, scope)
            return Val("call", name=q or fname, node=expr, scope=scope, hints=frozenset({fname}))
        if t is ast.Dict:
            return Val("dict", node=expr, scope=scope)
        if t is ast.IfExp:
            a = self.value(expr.body, scope, depth + 1)
            return a if a.kind not in ("none", "unknown") else self.value(expr.orelse, scope, depth + 1)
        if t is ast.BoolOp:
            for v in expr.values:
                r = self.value(v, scope, depth + 1)
                if r.kind not in ("none", "unknown"):
                    return r
        return Val("unknown", node=expr, scope=scope)

    def _format_fields(self, template: str, call: ast.Call, scope, depth, hints: set) -> str:
        """`template.format(...)`: each `{name}` / `{0}` / `{}` field replaced by its argument's
        static text, or by `{<what it reads>}` (an env var or identifier name) when unknown."""
        import string

        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            return template
        out: list[str] = []
        auto = 0
        for literal, field, _spec, _conv in parsed:
            out.append(literal)
            if field is None:
                continue
            base = re.split(r"[.\[]", field, 1)[0]
            arg = None
            if base == "":
                if auto < len(call.args) and not any(type(a) is ast.Starred for a in call.args[: auto + 1]):
                    arg = call.args[auto]
                auto += 1
            elif base.isdigit():
                i = int(base)
                if i < len(call.args) and not any(type(a) is ast.Starred for a in call.args[: i + 1]):
                    arg = call.args[i]
            else:
                k = _kw(call, base)
                arg = k.value if k is not None else None
            if arg is None or base != field:
                out.append("{" + (field or "") + "}")
                continue
            self._flatten(arg, scope, depth, out, hints)
        return "".join(out)

    def _flatten(self, expr, scope, depth, parts, hints) -> None:
        t = type(expr)
        if t is ast.JoinedStr:
            for v in expr.values:
                if type(v) is ast.Constant:
                    parts.append(str(v.value))
                elif type(v) is ast.FormattedValue:
                    self._flatten(v.value, scope, depth, parts, hints)
            return
        if t is ast.BinOp and type(expr.op) in (ast.Add, ast.Mod):
            self._flatten(expr.left, scope, depth, parts, hints)
            if type(expr.op) is ast.Add:
                self._flatten(expr.right, scope, depth, parts, hints)
            return
        v = self.value(expr, scope, depth + 1)
        hints.update(v.hints)
        if v.name:
            hints.add(v.name)
        if v.kind == "str":
            parts.append(v.text or "")
        elif v.kind == "token" or any("token" in h.lower() for h in v.hints):
            parts.append("<TOKEN>")
        else:
            ph = (v.name or next(iter(sorted(v.hints)), "") or "").replace("{", "").replace("}", "")
            parts.append("{" + ph + "}")

    # -- pass 2: detection over the recorded calls --
    def run(self) -> Analysis:
        self.walk()
        an = self.an
        an.imports = sorted(self.imports, key=_pos)
        self.calls.sort(key=lambda cs: _pos(cs[0]))
        self.key_consumers: dict[int, list[C.ClientInfo]] = {}
        self.aio_consumed: set[int] = set()
        self.no_entra_consumed: set[int] = set()
        self.key_cred_calls: list[tuple[ast.Call, Scope, str]] = []
        self.secret_arg_nodes: set[int] = set()
        self.seen_nodes: set[int] = set()
        self.openai_azure = None
        self.reported_urls: set[int] = set()  # URL strings a settings finding already covers
        self._settings()
        for call, scope in self.calls:
            q = self.qualify(call.func, scope)
            if q is None:
                if type(call.func) is ast.Attribute:
                    self._http_session_call(call, scope)
                    self._adal_sign_in(call, scope)
                continue
            if q.startswith(C.NO_ENTRA_SDKS):
                for a in list(call.args) + [k.value for k in call.keywords]:
                    inner, _, _ = self.resolve(a, scope)
                    self.no_entra_consumed.add(id(inner))
                continue
            self._dispatch(call, scope, q)
        self._finish_key_credentials()
        self._openai_module_config()
        self._client_secret_env()
        an.hits.sort(key=lambda h: (_pos(h.node), h.code))
        return an

    def _key(self, code: str, scope: Scope, what: str) -> str:
        base = f"{code}:{scope.name}:{what}"
        n = self._occ.get(base, 0)
        self._occ[base] = n + 1
        return f"{base}:{n}"

    def sensitive(self, *nodes) -> None:
        """Literal credentials (an argument holding a key, secret or connection string)."""
        for n in nodes:
            if type(n) is ast.Constant and type(n.value) is str or type(n) is ast.JoinedStr:
                self.an.credential_literals.append(n)

    def sensitive_args(self, call: ast.Call) -> None:
        """Every literal argument but identifiers (tenant / client ids are GUIDs, not secrets)."""
        for a in list(call.args) + [k.value for k in call.keywords]:
            if not (type(a) is ast.Constant and type(a.value) is str and _GUID_RE.fullmatch(a.value.strip("{}"))):
                self.sensitive(a)

    def hit(self, code, node, scope, what, message, fix_kind, fix_message, fix_data=None, fix_node=None) -> None:
        if (code, id(node)) in self.seen_nodes:
            return
        self.sensitive(node)
        self.seen_nodes.add((code, id(node)))
        self.an.hits.append(Hit(code, node, message, self._key(code, scope, what), fix_kind, fix_message, fix_data,
                                fix_node if fix_node is not None else node, self._literal_credential(node, scope)))

    def _literal_credential(self, node: ast.AST, scope: Scope) -> bool:
        """A string literal (directly or through names) where the hit's credential goes: the node
        itself, or a credential argument of the call it is."""
        if type(node) is not ast.Call:
            exprs: list[ast.AST] = [node]
        else:
            exprs = [k.value for k in node.keywords if k.arg in _CREDENTIAL_ARGS]
            f = node.func
            fname = f.attr if type(f) is ast.Attribute else (f.id if type(f) is ast.Name else "")
            if fname.endswith(("Credential", "Credentials")) and node.args:
                pos = _SECRET_POSITION.get(fname, len(node.args) - 1)
                if pos < len(node.args) and not any(type(a) is ast.Starred for a in node.args[: pos + 1]):
                    exprs.append(node.args[pos])
        for expr in exprs:
            v = self.value(expr, scope)
            if v.kind == "str" and v.text is not None and _looks_like_secret(v.text):
                return True
        return False

    def _dispatch(self, call: ast.Call, scope: Scope, q: str) -> None:
        head, _, last = q.rpartition(".")
        if last in ("from_connection_string", "create_from_connection_string"):
            self._from_connection_string(call, scope, head, last)
            return
        info = C.CLIENTS.get(q)
        if info is not None:
            self._client_ctor(call, scope, q, info)
            return
        if last in C.FROM_URL_METHODS and head in C.CLIENTS:
            self._client_credential_arg(call, scope, head, C.CLIENTS[head], from_url=True)
            self._sdk_fact(call, scope, head, C.CLIENTS[head])
            return
        if q in C.KEY_CREDENTIALS:
            self.key_cred_calls.append((call, scope, C.KEY_CREDENTIALS[q]))
            return
        if head in C.IDENTITY_PKGS:
            self._identity_credential(call, scope, head, last)
            return
        if q in C.LEGACY_SECRET_CREDENTIALS:
            self._secret_sign_in(call, scope, C.LEGACY_SECRET_CREDENTIALS[q], "",
                                 "Migrate to the azure-identity based SDK (azure-mgmt-* >= 17), pass "
                                 "DefaultAzureCredential() and grant the managed identity the roles the service "
                                 "principal had")
            return
        if q in C.AZUREML_KEY_DATASTORES:
            key = _arg(call, None, "account_key", "sas_token")
            v = self.value(key, scope) if key is not None else None
            if v is not None and v.kind != "none" and not (v.kind == "str" and not (v.text or "").strip()):
                what = "account key" if key is _arg(call, None, "account_key") else "SAS token"
                self.hit("KL202", key, scope, f"Datastore.{last}.key",
                         f"Azure ML datastore is registered with the storage {what}; register it without one",
                         "display-only",
                         f"Drop {_kw_name(call, key)}= so the datastore uses identity-based data access; grant the "
                         f"workspace and compute identities {C.role_for('storage-blob', 'unknown')}")
            return
        if q in C.AZUREML_SECRET_DATASTORES or q in C.AZUREML_PASSWORD_DATASTORES:
            self._azureml_datastore_secret(call, scope, q, last)
            return
        if q in C.MSAL_CONFIDENTIAL:
            self._msal_confidential(call, scope)
            return
        if q in C.AZUREML_SECRET_AUTH:
            self._secret_sign_in(call, scope, C.AZUREML_SECRET_AUTH[q], " to Azure ML",
                                 "On Azure compute use MsiAuthentication() (azureml-core) or azure-ai-ml's MLClient "
                                 "with DefaultAzureCredential(); grant the identity the roles the service principal had")
            return
        if q in C.OPENAI_CLASSES:
            self._openai_client(call, scope, q)
            return
        if q in C.OPENAI_V1_CLASSES:
            self._openai_v1(call, scope, q)
            return
        if q in C.SAS_FUNCTIONS:
            self._account_key_sas(call, scope, q)
            return
        if q in C.DB_CONNECT:
            self._database(call, scope, q, C.DB_CONNECT[q])
            return
        if q in C.REDIS_CLIENTS:
            self._redis(call, scope, q, C.REDIS_CLIENTS[q])
            return
        if q in C.HTTP_FUNCS or q in C.HTTP_CLIENT_CTORS:
            self._http(call, scope, q)
            return
        if q in C.LEGACY_STORAGE:
            self._legacy_storage(call, scope, q, C.LEGACY_STORAGE[q])
            return
        if type(call.func) is ast.Attribute:
            self._http_session_call(call, scope)

    # -- credentials: reuse & flavour --
    def find_reusable_credential(self, scope: Scope, node: ast.AST, aio: bool) -> str | None:
        """A name bound to a workload TokenCredential that holds it wherever `node` runs."""
        want = "azure.identity.aio" if aio else "azure.identity"

        def is_credential(val, s) -> bool:
            q = self.qualify(val.func, s)
            return bool(q) and q.rpartition(".")[0] == want and q.rpartition(".")[2] in C.REUSABLE_CREDENTIALS

        return self._reusable(scope, node, is_credential)

    def find_token_provider(self, scope: Scope, node: ast.AST, aio: bool | None = None) -> str | None:
        """A reusable bearer token provider; `aio`: True for an async one (azure.identity.aio), False
        for a sync one, None for either (async Azure OpenAI clients accept both)."""
        def is_provider(val, s) -> bool:
            q = self.qualify(val.func, s) or ""
            if not (q.endswith("get_bearer_token_provider") and q.startswith("azure.identity")):
                return False
            return aio is None or q.startswith("azure.identity.aio.") == aio

        return self._reusable(scope, node, is_provider)

    def _reusable(self, scope: Scope, node: ast.AST, accept) -> str | None:
        """A name of `scope` (or the module) bound exactly once, to a call `accept` approves, and
        bound on every path to `node` (flow-aware: a sibling `if` branch does not count); a name
        bound by `with ... as name` only inside that `with`."""
        pos = _pos(node)
        for s in (scope, self.module) if scope is not self.module else (self.module,):
            if s.kind == "class":
                continue
            best = None
            for name, lst in s.bindings.items():
                if len(lst) != 1:
                    continue  # re-bound somewhere: which value reaches `node` is not certain
                line, col, how, val = lst[0]
                if how != "value" or type(val) is not ast.Call or (s is scope and (line, col) >= pos):
                    continue
                if not accept(val, s):
                    continue
                b, _ = self.lookup(name, scope, pos)
                if b is None or b[3] is not val or not self._bound_at(name, s is scope, node):
                    continue
                w = self.with_values.get(id(val))
                if w is not None and not (_pos(w.body[0]) <= pos <= (w.end_lineno, w.end_col_offset)):
                    continue  # the credential is closed when its `with` block ends
                if best is None or (line, col) > best[0]:
                    best = ((line, col), name)
            if best:
                return best[1]
        return None

    def _bound_at(self, name: str, same_scope: bool, node: ast.AST) -> bool:
        from keyless.linter import pynames

        if self._states is None:
            self._states = pynames.BindingStates(self.tree)
        if not same_scope:  # a module name read from a function: bound once the module has run
            return name in self._states.module_end
        stmt = pynames.innermost_statement(self.tree, node)
        state = self._states.before(stmt) if stmt is not None else None
        return state is not None and name in state

    def _used_beyond_clients(self, call: ast.Call, scope: Scope, consumers: int) -> bool:
        """True when the name the key credential `call` is assigned to is read more often than it
        is passed to the clients that accept a token credential (e.g. generate_table_sas(cred, ...),
        cred.update(new_key)): replacing the object would break those reads."""
        t = self.assigned.get(id(call))
        if t is None:
            return False
        target = t[0]
        if "." in target:  # self.cred: read by any method of the module
            reads = sum(1 for n in ast.walk(self.tree)
                        if type(n) is ast.Attribute and type(n.ctx) is ast.Load and dotted(n) == target)
            return reads > consumers
        home = self.tree if scope is self.module else _enclosing_function(self.tree, call)
        return home is None or _reads(home, target, home is self.tree) > consumers

    def key_read_back(self, call: ast.Call) -> bool:
        """True when the client built by `call` (or one derived from it, e.g. by
        get_container_client) has its shared key read back (`.credential.account_key`, e.g. to
        sign a SAS), or when such a read cannot be tied to a known client."""
        if not self.key_uses:
            return False
        known: set[tuple[int, str]] = set()
        for target, tscope in self.assigned.values():
            known.add((0 if "." in target else id(tscope), target))
        for lst in self.derived.values():
            known.update(lst)
        mine: set[tuple[int, str]] = set()
        t = self.assigned.get(id(call))
        if t is not None:
            todo = [(0 if "." in t[0] else id(t[1]), t[0])]
            while todo:
                k = todo.pop()
                if k not in mine:
                    mine.add(k)
                    todo.extend(self.derived.get(k, ()))
        for recv, rscope in self.key_uses:
            if recv is None:
                return True
            k = (0 if "." in recv else id(rscope), recv)
            if k in mine or k not in known:
                return True
        return False

    def cred_plan(self, scope: Scope, node: ast.AST, aio: bool) -> dict:
        reuse = self.find_reusable_credential(scope, node, aio)
        if reuse:
            return {"reuse": reuse, "aio": aio}
        return {"new": "DefaultAzureCredential", "aio": aio}

    # -- emulators: their published keys are not the app's credentials --
    def _emulator_in_test(self, service: str) -> bool:
        """Test code whose module talks to the emulator of `service`'s family (Cosmos DB: a
        localhost:8081 endpoint; storage: Azurite's account or endpoints; either: the published key)."""
        if not self.is_test_code:
            return False
        family = "cosmos" if service == "cosmos" else "storage" if service.startswith("storage") else None
        return family is not None and family in self._module_emulators()

    def _module_emulators(self) -> set[str]:
        if self._emulator_markers is None:
            from keyless.rules.secrets.allowlist import is_emulator_key

            found: set[str] = set()
            for n in ast.walk(self.tree):
                if type(n) is not ast.Constant or type(n.value) is not str:
                    continue
                low = n.value.lower()
                for family, marks in _EMULATOR_MARKERS.items():
                    if any(m in low for m in marks):
                        found.add(family)
                if any(is_emulator_key(k) for k in _B64_KEY_RE.findall(n.value)):
                    found.update(_EMULATOR_MARKERS)
            self._emulator_markers = found
        return self._emulator_markers

    def _env_set_to_emulator(self, v: Val) -> bool:
        """Test code reading a variable that the project's pytest configuration (pytest-env) sets
        to a local emulator's connection string or published key."""
        if not self.is_test_code or self._test_env is None:
            return False
        names = ({v.name} if v.kind == "env" and v.name else set()) | set(v.hints)
        if not names:
            return False
        if self._test_env_values is None:
            self._test_env_values = self._test_env()
        return any(_emulator_text(self._test_env_values.get(n, "")) for n in names)

    def _test_dummy(self, v: Val) -> bool:
        """Test code passing a literal that cannot be a credential (empty, short, a placeholder):
        the client is a stand-in for a mock, not a key-authenticated connection."""
        return self.is_test_code and v.kind == "str" and v.text is not None and not _looks_like_secret(v.text)

    def _key_credential_for_emulator(self, call: ast.Call, scope: Scope, infos) -> bool:
        from keyless.rules.secrets.allowlist import is_emulator_key

        for a in list(call.args) + [k.value for k in call.keywords]:
            v = self.value(a, scope)
            if v.kind == "str" and v.text and (v.text.lower() == "devstoreaccount1" or is_emulator_key(v.text)):
                return True
        return any(self._emulator_in_test(i.service) for i in infos)

    def _talks_to_emulator(self, call: ast.Call, scope: Scope, service: str, key: Val) -> bool:
        from keyless.rules.secrets.allowlist import is_emulator_key

        if key.kind == "str" and key.text and is_emulator_key(key.text.strip()) or _named_emulator(key) \
                or self._env_set_to_emulator(key):
            return True
        endpoint = _arg(call, 0, "url", "account_url", "endpoint")
        if endpoint is not None:
            ev = self.value(endpoint, scope)
            if ev.kind == "str" and _is_local_host(_url_host(ev.text or "")):
                return True
        return self._emulator_in_test(service)

    # -- KL201 --
    def _from_connection_string(self, call, scope, cls_q, method) -> None:
        info = C.CLIENTS.get(cls_q)
        cls = cls_q.rpartition(".")[2]
        if not cls_q.startswith("azure.") or cls in C.IOT_DEVICE_CLIENTS or cls_q.startswith(C.NOT_KEY_FCS):
            return
        cred = _kw(call, "credential")
        if cred is not None:
            cv = self.value(cred.value, scope)
            if cv.kind == "call" and (cv.name or "").startswith("azure.identity") or cv.kind == "token":
                return  # the connection string only supplies the endpoint
        cs_expr = _arg(call, 0, "conn_str", "connection_string", "conn_string")
        self.sensitive(cs_expr)
        v = self.value(cs_expr, scope) if cs_expr is not None else Val("unknown")
        if v.kind == "str" and v.text:
            low = v.text.lower()
            if "usedevelopmentstorage=true" in low or "devstoreaccount1" in low or "localhost:8081" in low \
                    or "127.0.0.1:8081" in low or "usedevelopmentemulator=true" in low:
                return
            if _is_app_insights_connection_string(low):
                return  # an instrumentation key names the resource: it is no secret
        service = info.service if info else _guess_service(cls_q)
        if self._emulator_in_test(service) or _named_emulator(v) or self._env_set_to_emulator(v):
            return
        access = self._access_of(call, scope, info)
        role = C.role_for(service, access)
        what = f"{cls}.{method}"
        msg = f"{what} uses a shared key; use DefaultAzureCredential"
        fix_data = None
        fix_msg = f"Use {cls}(<endpoint>, credential=DefaultAzureCredential()); grant {role}"
        if info is not None and info.endpoint_param and method == "from_connection_string" and info.token_ok:
            if self.key_read_back(call):
                fix_msg += _KEY_READ_BACK
            elif cs_expr is not None and self._branch_on_key(cs_expr, scope, call):
                fix_msg += _BRANCH_CHOICE
            else:
                fix_data = self._fcs_fix_data(call, scope, info, cs_expr, v, access)
        if fix_data is not None:
            fix_data["role"] = role
            fix_msg = f"Replace with {cls}({info.endpoint_param}=..., credential=DefaultAzureCredential()); grant {role}"
        self.hit("KL201", call, scope, what, msg, "unsafe" if fix_data else "display-only", fix_msg, fix_data)
        if info:
            self._sdk_fact(call, scope, cls_q, info, auth="key", code="KL201")

    def _fcs_fix_data(self, call, scope, info: C.ClientInfo, cs_expr, v: Val, access) -> dict | None:
        if cs_expr is None or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        if len(call.args) - 1 > len(info.fcs_params):
            return None
        aio = ".aio" in (self.qualify(call.func, scope) or "") or "aio" in (self.qualify(call.func, scope) or "")
        data: dict[str, Any] = {"kind": "fcs", "cls": info.cls, "service": info.service,
                                "endpoint_param": info.endpoint_param, "fcs_params": list(info.fcs_params),
                                "extra": [list(e) for e in info.extra], "aio": aio}
        entity = None
        if v.kind == "str" and v.text and "<TOKEN>" not in v.text:
            ep, entity = C.derive_endpoint(info.endpoint_kind, v.text)
            if ep is None:
                return None
            data["endpoint"] = {"literal": ep}
        elif v.kind == "env" and v.node is not None:
            acc = self._env_accessor(v.node)
            if acc is None:
                return None
            data["endpoint"] = {"env": C.endpoint_env_name(v.name, info.service), **acc}
        else:
            return None
        if info.service == "eventhubs" and _kw(call, "eventhub_name") is None:
            if entity:
                data["eventhub_name"] = {"literal": entity}
            elif "env" in data["endpoint"]:
                prefix = data["endpoint"]["env"][: -len("FULLY_QUALIFIED_NAMESPACE")]
                data["eventhub_name"] = {**data["endpoint"], "env": prefix + "NAME"}
            else:
                return None
        data["cred"] = self.cred_plan(scope, call, aio)
        return data

    def _quote(self, node) -> str:
        if self.line_text is not None:
            raw = self.line_text(node.lineno).encode("utf-8", "surrogateescape")[node.col_offset:node.col_offset + 4]
            raw = raw.lstrip(b"rRbBuUfF")
            if raw[:1] == b"'":
                return "'"
        return '"'

    def _env_accessor(self, node) -> dict | None:
        if type(node) is ast.Subscript and type(node.value) in (ast.Name, ast.Attribute):
            return {"style": "subscript", "accessor": ast.unparse(node.value), "quote": self._quote(node.slice)}
        if type(node) is ast.Call and type(node.func) in (ast.Name, ast.Attribute):
            return {"style": "call", "accessor": ast.unparse(node.func), "quote": self._quote(node.args[0])}
        return None

    # -- clients & KL202 string keys --
    def _client_ctor(self, call, scope, q, info: C.ClientInfo) -> None:
        auth = self._client_credential_arg(call, scope, q, info)
        self._sdk_fact(call, scope, q, info, auth=auth, code="KL202" if auth == "key" else None)

    def star_kwargs(self, call: ast.Call, scope: Scope) -> dict[str, ast.expr]:
        """The entries of a `**mapping` argument whose contents are known: a dict literal or
        `dict(k=v)` the name is bound to, plus `mapping["k"] = v` in the same scope. A mapping
        with an unpacking of its own, or any other value, is unknown and gives nothing; an entry
        set more than once (a key here, a token there) is unknown too."""
        out: dict[str, ast.expr] = {}
        ambiguous: set[str] = set()
        for k in call.keywords:
            if k.arg is not None:
                continue
            inner, s2, _ = self.resolve(k.value, scope)
            if type(inner) is ast.Dict:
                if any(key is None or not (type(key) is ast.Constant and type(key.value) is str)
                       for key in inner.keys):
                    continue
                out.update((key.value, v) for key, v in zip(inner.keys, inner.values))
            elif (type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == "dict"
                  and not inner.args and all(kw.arg for kw in inner.keywords)):
                out.update((kw.arg, kw.value) for kw in inner.keywords)
            else:
                continue
            if type(k.value) is ast.Name:
                for sl, v in self.sub_assign.get((id(s2), k.value.id), []):
                    if type(sl) is ast.Constant and type(sl.value) is str:
                        if sl.value in out:
                            ambiguous.add(sl.value)
                        out[sl.value] = v
        return {name: v for name, v in out.items() if name not in ambiguous}

    def _client_credential_arg(self, call, scope, q, info: C.ClientInfo, from_url=False) -> str:
        pos = None if from_url else info.cred_pos
        if info.service == "cosmos" and not from_url:
            pos = 1
        auth = None
        star = self.star_kwargs(call, scope) if _has_star_kwargs(call) else {}
        for a in list(call.args) + [k.value for k in call.keywords] + list(star.values()):
            inner, iscope, _ = self.resolve(a, scope)
            if type(inner) is ast.Call:
                cq = self.qualify(inner.func, iscope)
                if cq in C.KEY_CREDENTIALS:
                    self.key_consumers.setdefault(id(inner), []).append(info)
                    if ".aio" in q:
                        self.aio_consumed.add(id(inner))
                    auth = "key"
                elif cq and cq.startswith("azure.identity"):
                    auth = auth or "token"
        if auth:
            return auth
        expr = _arg(call, pos, "credential")
        if expr is None:
            expr = star.get("credential")
        if expr is None:
            return "none" if info.service in C.KEY_STRING_SERVICES else "unknown"
        inner, iscope, _ = self.resolve(expr, scope)
        if type(inner) is ast.Call and self.env_name(inner, iscope) is None:
            return "unknown"  # a credential object built by a call (an environment read is a string)
        v = self.value(expr, scope)
        keyish = False
        if v.kind == "dict":
            keyish = info.service in C.KEY_STRING_SERVICES
        elif v.kind in ("str", "env"):
            keyish = info.service in C.KEY_STRING_SERVICES
        elif v.kind in ("param", "unknown", "config") and v.name:
            n = v.name.lower()
            keyish = info.service in C.KEY_STRING_SERVICES and ("key" in n or "sas" in n or "secret" in n) \
                and "credential" not in n and "token_cred" not in n
        if not keyish:
            return "unknown"
        if v.kind == "str" and v.text is not None and v.text.startswith("?") is False and v.text.strip() == "":
            return "unknown"
        if self._test_dummy(v):
            return "unknown"
        if self._talks_to_emulator(call, scope, info.service, v):
            return "unknown"
        access = self._access_of(call, scope, info)
        role = C.role_for(info.service, access)
        cls = q.rpartition(".")[2] if not from_url else q.rpartition(".")[2]
        what = "SAS token" if (v.name and "sas" in v.name.lower()) or (v.text or "").startswith(("?sv=", "sv=")) \
            else "account key"
        aio = ".aio" in q
        msg = f"{cls} is given a shared {what}; pass DefaultAzureCredential instead"
        fix_msg = f"Pass DefaultAzureCredential() instead of the {what}; grant {role}"
        if self.key_read_back(call):
            self.hit("KL202", expr, scope, f"{cls}.credential", msg, "display-only", fix_msg + _KEY_READ_BACK)
            return "key"
        if expr is star.get("credential"):  # the key sits in a mapping: shown, not rewritten
            self.hit("KL202", expr, scope, f"{cls}.credential", msg, "display-only",
                     fix_msg + " (the key is in the mapping passed with **)")
            return "key"
        fix_data = {"kind": "keyarg", "cred": self.cred_plan(scope, call, aio), "role": role, "aio": aio}
        self.hit("KL202", expr, scope, f"{cls}.credential", msg, "unsafe", fix_msg, fix_data)
        return "key"

    def _legacy_storage(self, call, scope, q, service) -> None:
        cls = q.rpartition(".")[2]
        key = _arg(call, None, "account_key", "sas_token", "shared_access_key_value", "connection_string")
        if key is None and _has_star_kwargs(call):
            star = self.star_kwargs(call, scope)
            key = next((star[n] for n in ("account_key", "sas_token", "shared_access_key_value",
                                          "connection_string") if n in star), None)
        if key is None and len(call.args) >= 2:
            key = call.args[1] if not cls.startswith("ServiceBus") else (call.args[2] if len(call.args) > 2 else None)
        if key is None:
            return
        v = self.value(key, scope)
        if v.kind == "none" or (v.kind == "str" and not (v.text or "").strip()):
            return
        role = C.role_for(service, "unknown")
        self.hit("KL202", key, scope, f"{cls}.key",
                 f"Legacy {cls} uses a shared key; move to the current SDK with DefaultAzureCredential",
                 "display-only",
                 f"Use the v12+ SDK client with credential=DefaultAzureCredential(); grant {role}")

    def _finish_key_credentials(self) -> None:
        # consumers through names: cred = AzureKeyCredential(k); Client(ep, cred)
        for call, scope, cls in self.key_cred_calls:
            self.sensitive_args(call)
            if id(call) in self.no_entra_consumed:
                continue  # e.g. Bing APIs: keys are the only option
            infos = self.key_consumers.get(id(call), [])
            if self._key_credential_for_emulator(call, scope, infos):
                continue
            secret = _arg(call, _SECRET_POSITION.get(cls), "key", "signature")
            if secret is not None and self._test_dummy(self.value(secret, scope)):
                continue  # a test's stand-in (`AzureKeyCredential("fake")` for a mocked client)
            if infos:
                roles = sorted({C.role_for(i.service, self._access_of(call, scope, i)) for i in infos})
                role = " / ".join(roles)
            else:
                role = {"AzureKeyCredential": "the service's data-plane role (e.g. Cognitive Services User)",
                        "AzureNamedKeyCredential": "the service's data-plane role (e.g. Storage Table Data Contributor)",
                        "AzureSasCredential": "the service's data-plane role (e.g. Storage Blob Data Contributor)",
                        }.get(cls, "the service's data-plane role (e.g. Cognitive Services User)")
            msg = f"{cls} authenticates with a shared key; use DefaultAzureCredential instead"
            fixable = bool(infos) and all(i.token_ok for i in infos) and cls.startswith("Azure")
            other_use = fixable and self._used_beyond_clients(call, scope, len(infos))
            if other_use:
                self.hit("KL202", call, scope, cls, msg, "display-only",
                         f"Pass DefaultAzureCredential() to the clients; grant {role}. Not rewritten: the {cls} "
                         "is also used for SAS signing or key rotation, which a token credential cannot do")
            elif fixable:
                # a credential consumed by an aio client must be an aio credential
                aio = id(call) in self.aio_consumed
                fix_data = {"kind": "keycred", "cred": self.cred_plan(scope, call, aio), "role": role, "aio": aio}
                fix_msg = f"Replace {cls}(...) with DefaultAzureCredential(); grant {role}"
                guards = self._key_guards(secret, call) if secret is not None else None
                if guards:
                    fix_data.update(guards=guards, guard_name=secret.id)
                    fix_msg += "; the check that the key is set goes too"
                self.hit("KL202", call, scope, cls, msg, "unsafe", fix_msg, fix_data)
            else:
                extra = ""
                if cls in ("CognitiveServicesCredentials", "ApiKeyCredentials"):
                    extra = " through an azure-ai-* SDK that accepts one"
                elif infos:
                    extra = " (the client may need credential_scopes or client_id for Entra ID)"
                self.hit("KL202", call, scope, cls, msg, "display-only",
                         f"Pass a TokenCredential such as DefaultAzureCredential(){extra}; grant {role}")

    # -- azure.identity credentials: facts, KL203, KL208 --
    def _secret_sign_in(self, call: ast.Call, scope: Scope, cls: str, where: str, help_text: str) -> None:
        """KL203 on an SDK class that signs in as a service principal with a secret (legacy
        azure-common/msrestazure credentials, azureml-core's ServicePrincipalAuthentication)."""
        self.hit("KL203", call, scope, cls, f"{cls} signs in{where} as a service principal with a secret; use a managed identity",
                 "display-only", help_text)
        self._mark_secret_args(call, scope)
        self.sensitive_args(call)

    def _adal_sign_in(self, call: ast.Call, scope: Scope) -> None:
        """KL203 on ADAL's `AuthenticationContext(...).acquire_token_with_client_credentials(...)`
        (and the user-password flow); the certificate flow is not a secret sign-in."""
        what = C.ADAL_SECRET_METHODS.get(call.func.attr)
        if what is None:
            return
        inner, s2, _ = self.resolve(call.func.value, scope)
        if type(inner) is not ast.Call or self.qualify(inner.func, s2) not in C.ADAL_CONTEXTS:
            return
        self.hit("KL203", call, scope, f"adal.{call.func.attr}",
                 f"ADAL's {call.func.attr} signs in with {what}; use a managed identity", "display-only",
                 "ADAL is retired: use azure-identity's DefaultAzureCredential (a managed identity on Azure) "
                 "and get_token(\"<resource>/.default\"); grant the identity the roles the service principal had")
        self._mark_secret_args(call, scope)
        self.sensitive_args(call)

    def _msal_confidential(self, call: ast.Call, scope: Scope) -> None:
        """KL203 on an MSAL confidential client given a client secret (a string, an environment
        read, or a name that says secret/password); a certificate or assertion dict is not one."""
        expr = _arg(call, 1, "client_credential")
        if expr is None:
            return
        inner, s2, _ = self.resolve(expr, scope)
        if type(inner) is ast.Dict or type(inner) is ast.Call and self.env_name(inner, s2) is None:
            return
        v = self.value(expr, scope)
        if v.kind == "str":
            secret = bool((v.text or "").strip())
        elif v.kind == "env":
            secret = True
        elif v.kind in ("config", "param", "unknown") and v.name:
            n = v.name.lower()
            secret = ("secret" in n or "password" in n) and "cert" not in n and "assertion" not in n
        else:
            secret = False
        if not secret or self._test_dummy(v):
            return
        self.hit("KL203", expr, scope, "ConfidentialClientApplication.client_credential",
                 "ConfidentialClientApplication signs in with a client secret; use a managed identity",
                 "display-only",
                 "To call Azure APIs use azure-identity's ManagedIdentityCredential; to sign users in, pass "
                 "the managed identity's token as client_credential={\"client_assertion\": ...} (federated credential)")
        self.secret_arg_nodes.add(id(expr))
        self.secret_arg_nodes.add(id(inner))

    def _azureml_datastore_secret(self, call: ast.Call, scope: Scope, q: str, method: str) -> None:
        """An Azure ML v1 datastore registered with a service principal secret (KL203) or a
        database password (KL206)."""
        def given(expr) -> bool:
            if expr is None:
                return False
            v = self.value(expr, scope)
            return v.kind != "none" and not (v.kind == "str" and not (v.text or "").strip())

        if q in C.AZUREML_SECRET_DATASTORES:
            secret = _arg(call, C.AZUREML_SECRET_DATASTORES[q], "client_secret")
            if given(secret):
                self.hit("KL203", secret, scope, f"Datastore.{method}.secret",
                         "Azure ML datastore is registered with a service principal secret; register it without one",
                         "display-only",
                         "Drop tenant_id=, client_id= and client_secret= so the datastore uses identity-based data "
                         "access; grant the workspace and compute identities access to the data")
                self.secret_arg_nodes.add(id(secret))
        if q in C.AZUREML_PASSWORD_DATASTORES:
            name, pos = C.AZUREML_PASSWORD_DATASTORES[q]
            password = _arg(call, pos, name)
            if given(password):
                if method == "register_azure_sql_database":
                    help_text = ("Drop username= and password= so the datastore uses identity-based data access; "
                                 "create database users for the workspace and compute identities")
                else:
                    help_text = ("This datastore type keeps the password in the workspace; read the data from the "
                                 "job with an Entra token of the compute's managed identity as the password")
                self.hit("KL206", password, scope, f"Datastore.{method}.password",
                         "Azure ML datastore is registered with a database password; use an identity instead",
                         "display-only", help_text)
                self.secret_arg_nodes.add(id(password))

    def _identity_credential(self, call, scope, pkg, cls) -> None:
        if cls == "get_bearer_token_provider" or not cls.endswith("Credential"):
            return
        client_id = bool(_kw(call, "client_id", "managed_identity_client_id", "identity_config",
                             "workload_identity_client_id")) or _has_star_kwargs(call)
        if cls in ("ClientSecretCredential", "UsernamePasswordCredential", "CertificateCredential",
                   "OnBehalfOfCredential", "AuthorizationCodeCredential"):
            client_id = True
        self.an.facts.append(("py.credential", {"cls": cls, "client_id": client_id, **_span_data(call),
                                                "aio": pkg.endswith(".aio")}, call))
        if cls in C.SECRET_CREDENTIALS:
            if cls == "CertificateCredential":
                pw = _kw(call, "password")
                if pw is None or self.value(pw.value, scope).kind == "none":
                    return
            what = {"ClientSecretCredential": "a client secret",
                    "UsernamePasswordCredential": "a user name and password",
                    "CertificateCredential": "a password-protected certificate"}[cls]
            cid = _arg(call, 1, "client_id")
            mi_client_id = None
            if cid is not None and cls != "UsernamePasswordCredential":
                cv = self.value(cid, scope)
                if cv.kind == "env" and cv.name == "AZURE_CLIENT_ID":
                    mi_client_id = [cid.lineno, cid.col_offset, cid.end_lineno, cid.end_col_offset]
            aio = pkg.endswith(".aio")
            fix_data = {"kind": "secretcred", "aio": aio, "mi_client_id": mi_client_id, "cls": cls}
            target = "ManagedIdentityCredential(client_id=...)" if mi_client_id else "DefaultAzureCredential()"
            self.hit("KL203", call, scope, cls,
                     f"{cls} authenticates with {what}; use a managed identity",
                     "unsafe",
                     f"Replace {cls}(...) with {target}; grant the managed identity the roles the service "
                     "principal had and remove AZURE_CLIENT_SECRET from the environment", fix_data)
            self._mark_secret_args(call, scope)
            self.sensitive_args(call)
        elif cls == "EnvironmentCredential":
            self.hit("KL208", call, scope, cls,
                     "EnvironmentCredential signs in with a service-principal secret; use a managed identity",
                     "display-only",
                     "Use ManagedIdentityCredential(client_id=...) (or DefaultAzureCredential) and remove "
                     "AZURE_CLIENT_SECRET and its siblings from the app's settings")

    def _mark_secret_args(self, call, scope) -> None:
        for a in list(call.args) + [k.value for k in call.keywords]:
            self.secret_arg_nodes.add(id(a))
            inner, _, _ = self.resolve(a, scope)
            self.secret_arg_nodes.add(id(inner))

    def _client_secret_env(self) -> None:
        names = ("AZURE_CLIENT_SECRET",)
        for node, scope in self.env_subscripts:
            sl = node.slice
            if sl.value not in names or self.qualify(node.value, scope) != "os.environ":
                continue
            if id(node) in self.secret_arg_nodes:
                continue
            self._kl208_env(node, scope, store=type(node.ctx) is ast.Store)
        for call, scope in self.calls:
            if call.args and type(call.args[0]) is ast.Constant and call.args[0].value in names:
                if self.env_name(call, scope) and id(call) not in self.secret_arg_nodes:
                    q = self.qualify(call.func, scope) or ""
                    if q.endswith(".pop") and id(call) in self.discarded_calls:
                        continue  # `os.environ.pop("AZURE_CLIENT_SECRET")`: removes the secret, reads nothing
                    self._kl208_env(call, scope, store=q.endswith("setdefault"))
        for tgt in self.class_fields:
            if tgt.id.lower() == "azure_client_secret":
                self.hit("KL208", tgt, self.module, "settings.AZURE_CLIENT_SECRET",
                         "Settings field AZURE_CLIENT_SECRET loads a service-principal secret; use a managed identity",
                         "display-only",
                         "Drop the client secret setting and authenticate with ManagedIdentityCredential / "
                         "DefaultAzureCredential")

    def _kl208_env(self, node, scope, store: bool) -> None:
        verb = "sets" if store else "reads"
        self.hit("KL208", node, scope, f"env.AZURE_CLIENT_SECRET.{verb}",
                 f"Code {verb} AZURE_CLIENT_SECRET, a service-principal secret; use a managed identity",
                 "display-only",
                 "Remove AZURE_CLIENT_SECRET (DefaultAzureCredential tries it before any managed identity); give "
                 "the app a managed identity (AZURE_CLIENT_ID for a user-assigned one) with the service "
                 "principal's roles")

    # -- KL204 OpenAI --
    def _openai_client(self, call, scope, q) -> None:
        key_names, token_names, flavour = C.OPENAI_CLASSES[q]
        cls = q.rpartition(".")[2]
        self.an.facts.append(("py.sdk-client", {"service": "openai", "client": cls, "access": "unknown",
                                                "line": call.lineno, "auth": "unknown"}, call))
        if _kw(call, *token_names) is not None:
            self.an.facts[-1][1]["auth"] = "token"
            if _kw(call, *key_names) is None or self.value(_kw(call, *key_names).value, scope).kind == "none":
                return
        if flavour == "llamaindex" and _kw(call, "use_azure_ad") is not None:
            v = _kw(call, "use_azure_ad").value
            if not (type(v) is ast.Constant and v.value is False):
                return
        kw = _kw(call, *key_names)
        if kw is not None:
            self.sensitive(kw.value)
        if kw is None:
            if _has_star_kwargs(call) or flavour in ("llamaindex", "semantic-kernel"):
                return
            # the SDKs fall back to AZURE_OPENAI_API_KEY from the environment
            implicit = True
        else:
            v = self.value(kw.value, scope)
            if v.kind in ("none", "token"):
                return
            implicit = False
        self.an.facts[-1][1].update(auth="key", code="KL204")
        role = "Cognitive Services OpenAI User"
        msg = (f"{cls} authenticates with an API key" + (" (from AZURE_OPENAI_API_KEY)" if implicit else "") +
               "; use an Entra token provider")
        param = "ad_token_provider" if flavour == "semantic-kernel" else "azure_ad_token_provider"
        fix_data = {"kind": "openai", "param": param, "flavour": flavour, "role": role,
                    "key_arg": kw.arg if kw is not None else None,
                    "provider": self.find_token_provider(scope, call, aio=None if cls.startswith("Async") else False),
                    "cred": self.cred_plan(scope, call, False)}
        if flavour == "semantic-kernel":
            self.hit("KL204", call, scope, cls, msg, "display-only",
                     f"Pass ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(), "
                     f"\"{C.SCOPES['cognitive']}\") instead of api_key; grant {role}")
            return
        token_kw = _kw(call, *token_names)
        if token_kw is not None:
            # The call already passes a token (provider): the fix only drops the key, unless the
            # code picks one or the other at run time (`provider if not key else None`).
            tv = token_kw.value
            if type(tv) in (ast.IfExp, ast.BoolOp) or (type(tv) is ast.Constant and tv.value is None) \
                    or self._may_be_none(tv, scope):
                self.hit("KL204", kw.value, scope, cls, msg, "display-only",
                         f"Remove the API key and always pass {token_kw.arg}; grant {role} (not rewritten: the "
                         "client picks the key or the token at run time)")
                return
            fix_data = {"kind": "openai-drop-key", "key_arg": kw.arg, "role": role}
            self.hit("KL204", kw.value, scope, cls, msg, "unsafe",
                     f"Remove the API key: the client already passes {token_kw.arg}; grant {role}",
                     fix_data, fix_node=call)
            return
        fix_msg = (f"Use {param}=get_bearer_token_provider(DefaultAzureCredential(), \"{C.SCOPES['cognitive']}\") "
                   f"for the key; grant {role}")
        if kw is not None and self._key_chosen_at_run_time(kw.value, scope):
            self.hit("KL204", kw.value, scope, cls, msg, "display-only", fix_msg + _RUN_TIME_CHOICE)
            return
        if kw is not None and self._branch_on_key(kw.value, scope, call):
            self.hit("KL204", kw.value, scope, cls, msg, "display-only", fix_msg + _BRANCH_CHOICE)
            return
        guards = self._key_guards(kw.value, call) if kw is not None else None
        if guards:
            fix_data.update(guards=guards, guard_name=kw.value.id)
            fix_msg = fix_msg[:-1] + "; the check that the key is set goes too)"
        self.hit("KL204", kw.value if kw is not None else call, scope, cls, msg, "unsafe", fix_msg, fix_data,
                 fix_node=call)

    def _openai_module_config(self) -> None:
        """Legacy openai<1: openai.api_type = "azure" + openai.api_key = ..."""
        api_key_sets = []
        azure = False
        for tgt, value, scope in self.attr_assign:
            if self.qualify(tgt.value, scope) != "openai":
                continue
            if tgt.attr == "api_type":
                v = self.value(value, scope)
                if v.kind == "str" and (v.text or "").lower() == "azure":
                    azure = True
                elif v.kind in ("env", "config") and _named_azure([v.name or ""]):
                    azure = True
            elif tgt.attr in ("api_base", "azure_endpoint"):
                v = self.value(value, scope)
                if v.kind == "str" and ".openai.azure.com" in (v.text or "") or _named_azure(v.hints | {v.name or ""}):
                    azure = azure or tgt.attr == "azure_endpoint" or ".openai.azure.com" in (v.text or "")
            elif tgt.attr == "api_key":
                api_key_sets.append((tgt, value, scope))
        if not azure:
            return
        for tgt, value, scope in api_key_sets:
            v = self.value(value, scope)
            if v.kind in ("token", "none"):
                continue
            self.hit("KL204", tgt, scope, "openai.api_key",
                     "openai.api_key authenticates to Azure OpenAI with an API key; use an Entra token",
                     "display-only",
                     "Upgrade to openai>=1: AzureOpenAI(azure_endpoint=..., azure_ad_token_provider="
                     f"get_bearer_token_provider(DefaultAzureCredential(), \"{C.SCOPES['cognitive']}\")); grant "
                     f"{C.ROLES['openai'][0]}")

    # -- KL204: the Azure OpenAI v1 API through the plain OpenAI clients --
    def _openai_v1(self, call: ast.Call, scope: Scope, q: str) -> None:
        """`OpenAI(base_url="https://<resource>.openai.azure.com/openai/v1/", api_key=...)`: Azure
        only when the base URL visibly is (an Azure host, or a name saying AZURE); the key is a key
        unless it is a token provider (a callable) or a token."""
        aio = C.OPENAI_V1_CLASSES[q]
        cls = q.rpartition(".")[2]
        base = _kw(call, "base_url")
        if base is None or not self._azure_openai_url(base.value, scope):
            return  # api.openai.com, another provider, or an endpoint that cannot be seen
        fact = {"service": "openai", "client": cls, "access": "unknown", "line": call.lineno, "auth": "unknown"}
        self.an.facts.append(("py.sdk-client", fact, call))
        kw = _kw(call, "api_key")
        if kw is None:
            if _has_star_kwargs(call):
                return
            implicit = True  # the SDK reads OPENAI_API_KEY
        else:
            verdict = self._api_key_kind(kw.value, scope)
            if verdict == "token":
                fact["auth"] = "token"
            if verdict != "key":
                return
            implicit = False
            self.sensitive(kw.value)
        fact.update(auth="key", code="KL204")
        role = C.ROLES["openai"][0]
        pkg = "azure.identity.aio" if aio else "azure.identity"
        msg = (f"{cls} sends an API key to Azure OpenAI" + (" (from OPENAI_API_KEY)" if implicit else "")
               + "; pass an Entra token provider as api_key")
        fix_msg = (f"Pass api_key={pkg}.get_bearer_token_provider(DefaultAzureCredential(), "
                   f"\"{C.SCOPES['cognitive']}\") (openai>=1.106); grant {role}")
        if kw is not None and self._key_chosen_at_run_time(kw.value, scope):
            self.hit("KL204", kw.value, scope, f"{cls}.v1", msg, "display-only", fix_msg + _RUN_TIME_CHOICE)
            return
        fix_data = {"kind": "openai", "param": "api_key", "flavour": "openai-v1", "role": role, "aio": aio,
                    "key_arg": kw.arg if kw is not None else None,
                    "provider": self.find_token_provider(scope, call, aio=aio),
                    "cred": self.cred_plan(scope, call, aio)}
        self.hit("KL204", kw.value if kw is not None else call, scope, f"{cls}.v1", msg, "unsafe", fix_msg, fix_data,
                 fix_node=call)

    def _azure_openai_url(self, expr: ast.AST, scope: Scope) -> bool:
        self._env_defaults = True  # an endpoint constant may sit in os.getenv("X", "https://...azure.com")
        try:
            v = self.value(expr, scope)
        finally:
            self._env_defaults = False
        names = set(v.hints) | ({v.name} if v.name else set())
        if v.kind == "str":
            text = v.text or ""
            host = _url_host(text).lower()
            if any(h in host for h in C.NOT_AZURE_KEY_HOSTS):
                return False
            if any(host.endswith(h) or h + ":" in host for h in C.AZURE_OPENAI_HOSTS):
                return True
            placeholders = re.findall(r"\{([^{}]*)\}", host)
            if not placeholders:
                return False  # a literal host that is not Azure (api.openai.com, localhost, ...)
            names |= set(placeholders)
        return any(("AZURE" in n.upper() or "AOAI" in n.upper()) and "GITHUB" not in n.upper() for n in names)

    def _may_be_none(self, expr: ast.AST, scope: Scope) -> bool:
        """A name also bound to None before the use (`provider = None; if not key: provider = ...`):
        which of key and token the client gets is decided at run time."""
        if type(expr) is not ast.Name:
            return False
        b, s = self.lookup(expr.id, scope, _pos(expr))
        if b is None:
            return False
        return any(how == "value" and type(v) is ast.Constant and v.value is None and (line, col) < _pos(expr)
                   for line, col, how, v in s.bindings.get(expr.id, ()))

    def _branch_on_key(self, expr: ast.AST, scope: Scope, node: ast.AST) -> bool:
        """`if conn: X.from_connection_string(conn) else: X(url, credential=...)`: `node` sits in a
        branch of an `if` that tests the key itself, so the key is only used when configured and a
        rewrite of that branch alone would keep a meaningless test (and two identity paths)."""
        if type(expr) is not ast.Name:
            return False
        line = node.lineno
        for ifn, s in self.if_stmts:
            if s is not scope or not ifn.lineno <= line <= ifn.end_lineno:
                continue
            if not any(type(n) is ast.Name and n.id == expr.id for n in ast.walk(ifn.test)):
                continue
            for branch in (ifn.body, ifn.orelse):
                if branch and branch[0].lineno <= line <= branch[-1].end_lineno:
                    return True
        return False

    def _key_guards(self, expr: ast.AST, call: ast.Call) -> list[list[int]] | None:
        """`if not endpoint or not key: return ...` before `Client(api_key=key)`: the spans of the
        `or` tests that check the key, when those checks and the call are the key's only reads in
        its function. Replacing the key alone would keep the app requiring it."""
        if type(expr) is not ast.Name or self.tree is None:
            return None
        name = expr.id
        func = None
        for n in ast.walk(self.tree):
            if type(n) in (ast.FunctionDef, ast.AsyncFunctionDef) and n.lineno <= call.lineno <= n.end_lineno:
                if func is None or n.lineno >= func.lineno:
                    func = n
        if func is None:
            return None
        guards, checks = [], 0
        for n in ast.walk(func):
            if type(n) is ast.If and n.end_lineno < call.lineno and type(n.test) is ast.BoolOp \
                    and type(n.test.op) is ast.Or:
                k = sum(1 for v in n.test.values if _checks_unset(v, name))
                if k:
                    guards.append([n.test.lineno, n.test.col_offset, n.test.end_lineno, n.test.end_col_offset])
                    checks += k
        reads = sum(1 for n in ast.walk(func) if type(n) is ast.Name and n.id == name and type(n.ctx) is ast.Load)
        return guards if guards and reads == checks + 1 else None

    def _key_chosen_at_run_time(self, expr: ast.AST, scope: Scope) -> bool:
        """`if key := os.getenv(...): Client(api_key=key)`: the key's presence picks the branch, so
        replacing the key would leave the walrus unused and the branch meaningless."""
        if type(expr) is not ast.Name:
            return False
        b, _ = self.lookup(expr.id, scope, _pos(expr))
        return b is not None and (b[0], b[1]) in self.walrus_bindings

    def _api_key_kind(self, expr: ast.AST, scope: Scope) -> str:
        """'token' for a token provider or an Entra token, 'key' for a string key, else 'unknown'."""
        if type(expr) is ast.Lambda:
            return "token"
        inner, _, how = self.resolve(expr, scope)
        if how == "def" or type(inner) is ast.Lambda:
            return "token"
        v = self.value(expr, scope)
        if v.kind == "token":
            return "token"
        if v.kind == "none":
            return "unknown"
        names = {n.lower() for n in v.hints | ({v.name} if v.name else set())}
        if any(w in n for n in names for w in ("token", "provider", "credential", "entra", "aad")):
            return "token"
        if any("github" in n for n in names):
            return "unknown"  # a GitHub token for GitHub Models
        if v.kind in ("str", "env", "config"):
            return "key"
        return "key" if any("key" in n or "secret" in n for n in names) else "unknown"

    # -- KL209: SAS signed with the storage account key --
    def _account_key_sas(self, call: ast.Call, scope: Scope, q: str) -> None:
        service, pos, key_kw, delegation = C.SAS_FUNCTIONS[q]
        fn = q.rpartition(".")[2]
        udk = _kw(call, "user_delegation_key")
        if udk is not None and self.value(udk.value, scope).kind != "none":
            return
        key = _arg(call, pos, key_kw)
        if key is None:
            return  # passed through *args / **kwargs, or not at all: nothing to judge
        v = self.value(key, scope)
        if v.kind == "none":
            return
        if service == "storage-datalake" and key_kw == "credential" and not self._is_account_key(v):
            return  # a UserDelegationKey, or a value that cannot be told apart from one
        if self._sas_for_emulator(call, scope, service, v):
            return
        self.sensitive(key)
        self.an.facts.append(("py.sdk-client", {"service": service, "client": fn, "access": "unknown",
                                                "line": call.lineno, "auth": "key", "code": "KL209"}, call))
        data_role = C.role_for(service, "unknown")
        if delegation == "no":
            what = "a table SAS" if service == "storage-table" else "an account SAS"
            msg = f"{fn} signs {what} with the storage account key; give its users an Entra role instead"
            fix_msg = (f"{what[0].upper()}{what[1:]} needs the account key: let its users authenticate with their "
                       f"own managed identity and {data_role}, or hand out a blob user delegation SAS")
        else:
            client = {"storage-blob": "BlobServiceClient", "storage-datalake": "DataLakeServiceClient",
                      "storage-queue": "QueueServiceClient", "storage-file": "ShareServiceClient"}[service]
            how = "as credential" if key_kw == "credential" else "as user_delegation_key="
            newest = " (newest SDK versions only)" if delegation == "newest-sdk" else ""
            msg = f"{fn} signs the SAS with the storage account key; sign it with a user delegation key"
            fix_msg = (f"Pass {client}(..., credential=DefaultAzureCredential()).get_user_delegation_key(start, "
                       f"expiry) {how} instead of the key{newest}; the identity needs Storage Blob Delegator or a "
                       "data role")
        self.hit("KL209", key, scope, fn, msg, "display-only", fix_msg)

    def _is_account_key(self, v: Val) -> bool:
        names = {n.lower() for n in v.hints | ({v.name} if v.name else set())}
        if any("delegation" in n or "udk" in n for n in names):
            return False
        if v.kind in ("str", "env"):
            return True
        return any("key" in n for n in names)

    def _sas_for_emulator(self, call: ast.Call, scope: Scope, service: str, key: Val) -> bool:
        from keyless.rules.secrets.allowlist import is_emulator_key

        if key.kind == "str" and key.text and is_emulator_key(key.text.strip()) or _named_emulator(key) \
                or self._env_set_to_emulator(key):
            return True
        if service != "storage-table" and call.args:
            account = self.value(call.args[0], scope)
            if account.kind == "str" and (account.text or "").lower() == "devstoreaccount1":
                return True
        return self._emulator_in_test(service)

    # -- KL206 / KL207: database and cache settings --
    def _settings(self) -> None:
        """Django `DATABASES` / `CACHES`, and URL settings (SQLALCHEMY_DATABASE_URI, DATABASE_URL,
        CELERY_BROKER_URL, ...) whether module or class attributes, `config[...]` items or keyword
        arguments (`app.config.update(...)`). A literal password is the secret rules' finding (one
        secret, one finding): only passwords read from elsewhere are reported here."""
        entries = list(self.setting_assigns)
        for call, scope in self.calls:
            for k in call.keywords:
                if k.arg and _is_setting_name(k.arg):
                    entries.append((k.arg, k.value, scope))
        if not entries:
            return
        entries.sort(key=lambda e: _pos(e[1]))
        token_password = None
        for name, value, scope in entries:
            up = name.upper()
            if up == "DATABASES":
                if token_password is None:
                    token_password = self._password_replaced_by_token()
                if not token_password:
                    self._django_databases(value, scope)
            elif up == "CACHES":
                self._django_caches(value, scope)
            elif _DB_URL_SETTING.search(up):
                self._url_setting(name, value, scope, "db")
            elif _REDIS_URL_SETTING.search(up):
                self._url_setting(name, value, scope, "redis")

    def _password_replaced_by_token(self) -> bool:
        """`DATABASES["default"]["PASSWORD"] = credential.get_token(...).token` somewhere."""
        for n in ast.walk(self.tree):
            if type(n) is ast.Assign:
                for t in n.targets:
                    if type(t) is ast.Subscript and type(t.slice) is ast.Constant and t.slice.value == "PASSWORD" \
                            and self.value(n.value, self.module).kind == "token":
                        return True
        return False

    def _dict_literal(self, expr, scope) -> tuple[ast.Dict | None, Scope]:
        inner, s2, _ = self.resolve(expr, scope)
        return (inner, s2) if type(inner) is ast.Dict else (None, scope)

    def _django_databases(self, value, scope) -> None:
        d, ds = self._dict_literal(value, scope)
        if d is None:
            return
        for alias_node, alias_value in zip(d.keys, d.values):
            alias = alias_node.value if type(alias_node) is ast.Constant else "?"
            entry, es = self._dict_literal(alias_value, ds)
            if entry is None:
                self._dj_database_url(alias, alias_value, ds)
                continue
            fields = _const_fields(entry)
            engine = self.value(fields.get("ENGINE"), es) if "ENGINE" in fields else Val("unknown")
            service = _DJANGO_ENGINES.get(engine.text or "") if engine.kind == "str" else None
            if service is None or "HOST" not in fields or "PASSWORD" not in fields:
                continue  # a custom backend (it may fetch tokens), or nothing to judge
            if self._is_azure_host(fields["HOST"], es, _suffixes(service)) is not True:
                continue
            if service == "sql" and self._options_use_entra(fields.get("OPTIONS"), es):
                continue
            pw = fields["PASSWORD"]
            if self._literal_secret(pw, es) or not self._password_kind(pw, es):
                continue
            self._settings_db_hit(pw, es, service, f"DATABASES['{alias}']", "django")

    def _options_use_entra(self, options, scope) -> bool:
        if options is None:
            return False
        d, ds = self._dict_literal(options, scope)
        for v in (d.values if d is not None else ()):
            t = self.value(v, ds)
            if t.kind == "str" and "authentication=activedirectory" in (t.text or "").lower().replace(" ", "") \
                    and "activedirectorypassword" not in (t.text or "").lower().replace(" ", ""):
                return True
        return False

    def _dj_database_url(self, alias, expr, scope) -> None:
        inner, s2, _ = self.resolve(expr, scope)
        if type(inner) is not ast.Call:
            return
        q = self.qualify(inner.func, s2) or ""
        if q == "dj_database_url.parse":
            url = _arg(inner, 0, "url")
        elif q == "dj_database_url.config":
            url = _arg(inner, None, "default")
        else:
            return
        if url is not None:
            self._url_setting(f"DATABASES['{alias}']", url, s2, "db")

    def _url_setting(self, name: str, expr, scope, what: str) -> None:
        v = self.value(expr, scope)
        if v.kind != "str" or id(v.node) in self.reported_urls or "://" not in (v.text or ""):
            return
        text = v.text or ""
        scheme = text.split("://", 1)[0].lower()
        if what == "db":
            service, host_ok, _ = self._db_url(expr, scope)
        elif scheme in ("redis", "rediss"):
            service, host_ok = "redis", _host_ok(_url_host(text), C.REDIS_HOSTS)
        else:
            return
        pw = _url_password(text, redis=service == "redis")
        if not service or host_ok is not True or not pw or "<TOKEN>" in pw or not re.search(r"\{[^{}]*\}", pw):
            return  # no password, a token, or a literal one (the secret rules' finding)
        self.reported_urls.add(id(v.node))
        if service == "redis":
            self._settings_redis_hit(expr, scope, name)
        else:
            self._settings_db_hit(expr, scope, service, name, "url")

    def _django_caches(self, value, scope) -> None:
        d, ds = self._dict_literal(value, scope)
        if d is None:
            return
        for alias_node, alias_value in zip(d.keys, d.values):
            alias = alias_node.value if type(alias_node) is ast.Constant else "?"
            entry, es = self._dict_literal(alias_value, ds)
            if entry is None:
                continue
            fields = _const_fields(entry)
            backend = self.value(fields.get("BACKEND"), es) if "BACKEND" in fields else Val("unknown")
            if backend.kind != "str" or "redis" not in (backend.text or "").lower() or "LOCATION" not in fields:
                continue
            loc = fields["LOCATION"]
            locs = loc.elts if type(loc) in (ast.List, ast.Tuple) else [loc]
            host_ok, target = None, None
            for node in locs:
                lv = self.value(node, es)
                if lv.kind == "str" and "://" in (lv.text or ""):
                    ok = _host_ok(_url_host(lv.text or ""), C.REDIS_HOSTS)
                    pw = _url_password(lv.text or "", redis=True)
                    if ok is True and pw and "<TOKEN>" not in pw and re.search(r"\{[^{}]*\}", pw):
                        target = node
                    host_ok = host_ok or ok
                else:
                    names = {h.upper() for h in lv.hints | ({lv.name} if lv.name else set())}
                    if any("AZURE" in n and "REDIS" in n for n in names):
                        host_ok = True
            options, os_ = self._dict_literal(fields["OPTIONS"], es) if "OPTIONS" in fields else (None, es)
            if target is None and options is not None and host_ok is True:
                pw = _const_fields(options).get("PASSWORD")
                if pw is not None and not self._literal_secret(pw, os_) and self._password_kind(pw, os_):
                    target = pw
            if target is not None:
                self._settings_redis_hit(target, es, f"CACHES['{alias}']")

    def _literal_secret(self, expr, scope) -> bool:
        """A password written in the code: the secret rules report it (or it is a placeholder)."""
        v = self.value(expr, scope)
        return v.kind == "str" and not re.search(r"\{[^{}]*\}|<TOKEN>", v.text or "")

    def _settings_db_hit(self, node, scope, service: str, where: str, client: str) -> None:
        label = {"sql": "Azure SQL", "postgres": "Azure Database for PostgreSQL",
                 "mysql": "Azure Database for MySQL"}[service]
        role = C.role_for(service, "write")
        self.an.facts.append(("py.sdk-client", {"service": service, "client": client, "access": "unknown",
                                                "line": node.lineno, "auth": "key", "code": "KL206"}, node))
        if client == "django":
            how = {"sql": "Set OPTIONS extra_params to Authentication=ActiveDirectoryMsi (no USER/PASSWORD)",
                   "postgres": f"Make PASSWORD a token for {C.SCOPES['postgres']}, refreshed in a DatabaseWrapper "
                               "subclass, and USER the identity",
                   "mysql": f"Make PASSWORD a token for {C.SCOPES['mysql']}, refreshed in a DatabaseWrapper "
                            "subclass, and USER the identity"}[service]
        else:
            how = {"sql": "Drop UID/PWD and use Authentication=ActiveDirectoryMsi (or a token in attrs_before "
                          "from a do_connect listener)",
                   "postgres": "Drop the password from the URL; a do_connect listener sets cparams[\"password\"] "
                               "= credential.get_token(...).token",
                   "mysql": "Drop the password from the URL; a do_connect listener sets cparams[\"password\"] "
                            "= credential.get_token(...).token"}[service]
        self.hit("KL206", node, scope, f"settings.{where}",
                 f"{where} signs in to {label} with a password; use an Entra token", "display-only",
                 f"{how}; create {role} for the identity")

    def _settings_redis_hit(self, node, scope, where: str) -> None:
        self.an.facts.append(("py.sdk-client", {"service": "redis", "client": "settings", "access": "unknown",
                                                "line": node.lineno, "auth": "key", "code": "KL207"}, node))
        self.hit("KL207", node, scope, f"settings.{where}",
                 f"{where} authenticates to Azure Cache for Redis with the access key; use Entra ID",
                 "display-only",
                 "Drop the password; pass credential_provider=create_from_default_azure_credential(("
                 f"\"{C.SCOPES['redis']}\",)) from redis-entraid (django-redis: in CONNECTION_POOL_KWARGS)")

    # -- KL205 HTTP headers --
    def _http(self, call, scope, q) -> None:
        if q in C.HTTP_CLIENT_CTORS:
            url = _arg(call, None, "base_url")
        elif q.endswith(".request"):
            url = _arg(call, 1, "url")
        else:
            url = _arg(call, 0, "url")
        self._check_headers(call, scope, url)

    def _http_session_call(self, call, scope) -> None:
        f = call.func
        if f.attr not in C.HTTP_METHODS:
            return
        inner, s2, _ = self.resolve(f.value, scope)
        if type(inner) is not ast.Call:
            return
        cq = self.qualify(inner.func, s2)
        if cq not in C.HTTP_CLIENT_CTORS:
            return
        url = _arg(call, 1 if f.attr == "request" else 0, "url", "str_or_url")
        self._check_headers(call, scope, url)

    def _check_headers(self, call, scope, url) -> None:
        hexpr = _arg(call, None, "headers")
        if hexpr is None:
            return
        entries: list[tuple[ast.expr, ast.expr, Scope]] = []
        inner, s2, _ = self.resolve(hexpr, scope)
        if type(inner) is ast.Dict:
            entries += [(k, v, s2) for k, v in zip(inner.keys, inner.values) if k is not None]
        elif type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == "dict":
            entries += [(k, k.value, s2) for k in inner.keywords if k.arg]
        if type(hexpr) is ast.Name:
            for s in (scope, self.module):
                for k, v in self.sub_assign.get((id(s), hexpr.id), []):
                    entries.append((k, v, s))
        for knode, vnode, s in entries:
            if type(knode) is ast.keyword:
                name = knode.arg.replace("_", "-")
            elif type(knode) is ast.Constant and type(knode.value) is str:
                name = knode.value
            else:
                continue
            lname = name.lower()
            if lname not in ("api-key", "ocp-apim-subscription-key"):
                continue
            uv = self.value(url, scope) if url is not None else Val("unknown")
            text = (uv.text or "").lower() if uv.kind == "str" else ""
            hints = set(uv.hints) | ({uv.name} if uv.name else set())
            if any(h in text for h in C.NOT_ENTRA_HOSTS):
                continue
            if lname == "ocp-apim-subscription-key" and not self._module_calls_ai():
                vv = self.value(vnode, s)
                if _names_apim(hints | vv.hints | ({vv.name} if vv.name else set())) or _prompt_names_apim(vv):
                    continue  # an API Management subscription key (`apim_key`): APIM's own mechanism
            azure = any(h in text for h in C.AZURE_HOST_HINTS) or "api-version" in text \
                or "/openai/deployments" in text or _named_azure(hints)
            if lname == "api-key" and not azure:
                continue
            if any(w in text for w in (".search.windows.net", "/indexes")) or any("SEARCH" in h.upper() for h in hints):
                role, scope_url = "Search Index Data Reader (or Contributor)", C.SCOPES["search"]
            elif ".openai.azure.com" in text or "/openai/" in text or any("OPENAI" in h.upper() for h in hints):
                role, scope_url = "Cognitive Services OpenAI User", C.SCOPES["cognitive"]
            else:
                role, scope_url = "Cognitive Services User", C.SCOPES["cognitive"]
            target = knode if type(knode) is not ast.keyword else knode.value
            self.hit("KL205", target, s, f"header.{lname}",
                     f"HTTP request sends the '{short_name(name)}' key header to Azure; send an Entra bearer token",
                     "display-only",
                     f"Send \"Authorization\": \"Bearer \" + DefaultAzureCredential().get_token(\"{scope_url}\")"
                     f".token instead; grant {role} (AI services need a custom-subdomain endpoint)")

    def _module_calls_ai(self) -> bool:
        """A literal of the module names an Azure AI service (host or REST path): there a key named
        `apim_key` is the AI resource's own key, sent in its APIM-style header."""
        if self._ai_literals is None:
            self._ai_literals = any(type(n) is ast.Constant and type(n.value) is str
                                    and any(h in n.value.lower() for h in _AI_SERVICE_HINTS)
                                    for n in ast.walk(self.tree))
        return self._ai_literals

    # -- KL206 databases --
    def _is_azure_host(self, expr, scope, suffixes: tuple[str, ...]) -> bool | None:
        if expr is None:
            return None
        v = self.value(expr, scope)
        if v.kind == "str":
            return _host_ok(v.text or "", suffixes)
        names = set(v.hints) | ({v.name} if v.name else set())
        return True if _named_azure(names) else None

    def _password_kind(self, expr, scope) -> str:
        """'password' when a password is given, 'token' for an Entra token, '' for none/unknown."""
        if expr is None:
            return ""
        v = self.value(expr, scope)
        if v.kind in ("none", "token"):
            return ""
        if v.kind == "str" and (v.text or "") == "":
            return ""
        if v.kind == "str" and "<TOKEN>" in (v.text or ""):
            return ""
        names = {h.lower() for h in v.hints} | ({v.name.lower()} if v.name else set())
        if any("token" in n for n in names):
            return ""
        return "password"

    def _database(self, call, scope, q, kind) -> None:
        service = None
        host_ok = None
        password = ""
        detail = ""
        reported = False
        if kind == "sql" and q.startswith(("pyodbc", "aioodbc")):
            cs = _arg(call, 0, "dsn", "connstring")
            v = self.value(cs, scope) if cs is not None else Val("unknown")
            service = "sql"
            if v.kind == "str":
                t = (v.text or "").lower()
                host_ok = _host_ok(_odbc_field(t, "server", raw=True) or _odbc_field(t, "data source", raw=True)
                                   or _odbc_field(t, "address", raw=True) or "", (C.SQL_HOST,))
                auth = _odbc_field(t, "authentication")
                pw = _odbc_field(t, "pwd") or _odbc_field(t, "password")
                if auth and auth.startswith("activedirectory") and auth not in ("activedirectorypassword",):
                    password = ""
                elif pw and "<token>" not in pw:
                    password = "password"
                elif pw is None and (kwpw := _kw(call, "pwd", "password")) is not None:
                    password = self._password_kind(kwpw.value, scope)
            else:
                srv = _kw(call, "server")
                host_ok = self._is_azure_host(srv.value, scope, (C.SQL_HOST,)) if srv else None
                kwpw = _kw(call, "pwd", "password")
                password = self._password_kind(kwpw.value, scope) if kwpw else ""
            detail = "ODBC connection string with UID/PWD"
        elif kind == "url":
            url = _arg(call, 0, "url")
            service, host_ok, password = self._db_url(url, scope)
            # the settings entry holding this URL is the finding
            reported = url is not None and id(self.value(url, scope).node) in self.reported_urls
            detail = "SQLAlchemy URL with a password"
        elif kind == "url-parts":
            drv = self.value(_arg(call, 0, "drivername"), scope)
            service = _service_of_dialect((drv.text or "") if drv.kind == "str" else "")
            if service:
                host_ok = self._is_azure_host(_arg(call, 3, "host"), scope, _suffixes(service))
                password = self._password_kind(_arg(call, 2, "password"), scope)
            detail = "URL.create(password=...)"
        else:
            service = kind
            sfx = _suffixes(service)
            if q.startswith("pymssql"):
                host_expr = _arg(call, 0, "server", "host")
                pw_expr = _arg(call, 2, "password")
            elif q.startswith("MySQLdb"):
                host_expr, pw_expr = _arg(call, 0, "host"), _arg(call, 2, "passwd", "password")
            else:
                host_expr = _kw(call, "host", "server", "hostaddr")
                host_expr = host_expr.value if host_expr else None
                pw_expr = _kw(call, "password", "passwd")
                pw_expr = pw_expr.value if pw_expr else None
            dsn = _arg(call, 0, "dsn", "conninfo")
            if dsn is not None and service in ("postgres", "mysql"):
                s2, h2, p2 = self._db_url(dsn, scope, default_service=service)
                if host_expr is None:
                    host_ok = h2
                if p2:
                    password = p2
            if host_expr is not None:
                host_ok = self._is_azure_host(host_expr, scope, sfx)
            kwdict = _kw(call, "kwargs")
            if kwdict is not None and type(kwdict.value) is ast.Dict:
                for k, v in zip(kwdict.value.keys, kwdict.value.values):
                    if type(k) is ast.Constant and k.value in ("host",):
                        host_ok = self._is_azure_host(v, scope, sfx)
                    if type(k) is ast.Constant and k.value in ("password",):
                        pw_expr = v
            if pw_expr is not None:
                password = self._password_kind(pw_expr, scope)
            detail = "password authentication"
        if not service or host_ok is not True:
            return
        self.an.facts.append(("py.sdk-client", {"service": service, "client": q,
                                                "access": "unknown", "line": call.lineno,
                                                "auth": "key" if password else "token",
                                                **({"code": "KL206"} if password else {})}, call))
        if not password or reported:
            return
        role = C.role_for(service, "write")
        snippet = {
            "sql": "Use Authentication=ActiveDirectoryMsi in the connection string (or a token in "
                   "attrs_before={1256: ...})",
            "postgres": f"Pass password=DefaultAzureCredential().get_token(\"{C.SCOPES['postgres']}\").token, "
                        "user=<identity name>, sslmode=\"require\"",
            "mysql": f"Pass password=DefaultAzureCredential().get_token(\"{C.SCOPES['mysql']}\").token, "
                     "user=<identity name> (SSL required)",
        }[service]
        label = {"sql": "Azure SQL", "postgres": "Azure Database for PostgreSQL",
                 "mysql": "Azure Database for MySQL"}[service]
        self.hit("KL206", call, scope, f"{service}.{q}",
                 f"{label} connection uses {detail}; use an Entra token",
                 "display-only", f"{snippet}; create {role} for the identity")

    def _db_url(self, expr, scope, default_service=None):
        if expr is None:
            return None, None, ""
        v = self.value(expr, scope)
        if v.kind != "str":
            return default_service, None, ""
        t = v.text or ""
        low = t.lower()
        service = _service_of_dialect(low.split("://", 1)[0]) if "://" in low else default_service
        if service is None:
            return None, None, ""
        password = ""
        if "odbc_connect=" in low:
            inner = low.split("odbc_connect=", 1)[1]
            host_ok = _host_ok(_odbc_field(inner, "server", raw=True) or "", (C.SQL_HOST,))
            auth = _odbc_field(inner, "authentication")
            pw = _odbc_field(inner, "pwd") or _odbc_field(inner, "password")
            if pw and "<token>" not in pw and not (auth and auth.startswith("activedirectory") and
                                                   auth != "activedirectorypassword"):
                password = "password"
            return "sql", host_ok, password
        sfx = _suffixes(service)
        host_ok = _host_ok(_url_host(t) if "://" in t else (_kv_field(low, "host") or ""), sfx)
        if "://" in low:
            rest = t.split("://", 1)[1]
            userinfo = rest.split("@", 1)[0] if "@" in rest.split("/", 1)[0] or "@" in rest else ""
            if "@" in rest and ":" in userinfo:
                pw = userinfo.split(":", 1)[1]
                if pw and "<TOKEN>" not in pw:
                    password = "password"
        else:
            m = _kv_field(low, "password")
            if m and "<token>" not in m:
                password = "password"
        return service, host_ok, password

    # -- KL207 redis --
    def _redis(self, call, scope, q, kind) -> None:
        if _kw(call, "credential_provider") is not None:
            host_ok = None
            if kind == "redis":
                host_ok = self._is_azure_host(_arg(call, 0, "host"), scope, C.REDIS_HOSTS)
            if host_ok:
                self.an.facts.append(("py.sdk-client", {"service": "redis", "client": q.rpartition(".")[2],
                                                        "access": "unknown", "line": call.lineno, "auth": "token"},
                                      call))
            return
        password = ""
        if kind == "url":
            url = _arg(call, 0, "url")
            v = self.value(url, scope) if url is not None else Val("unknown")
            if v.kind == "str":
                host_ok = _host_ok(_url_host(v.text or ""), C.REDIS_HOSTS)
                rest = (v.text or "").split("://", 1)[-1]
                if "@" in rest:
                    ui = rest.rsplit("@", 1)[0]
                    pw = ui.split(":", 1)[1] if ":" in ui else ui
                    if pw and "<TOKEN>" not in pw:
                        password = "password"
            else:
                host_ok = True if _named_azure(v.hints | {v.name or ""}) and "REDIS" in str(v.name).upper() else None
            kwpw = _kw(call, "password")
            if kwpw is not None:
                password = self._password_kind(kwpw.value, scope) or password
        else:
            host_ok = self._is_azure_host(_arg(call, 0, "host"), scope, C.REDIS_HOSTS)
            password = self._password_kind(_arg(call, 3, "password"), scope)
        if host_ok is not True:
            return
        self.an.facts.append(("py.sdk-client", {"service": "redis", "client": q.rpartition(".")[2],
                                                "access": "unknown", "line": call.lineno,
                                                "auth": "key" if password else "unknown",
                                                **({"code": "KL207"} if password else {})}, call))
        if not password:
            return
        self.hit("KL207", call, scope, f"redis.{q}",
                 "Azure Cache for Redis connection authenticates with the access key; use Entra ID",
                 "display-only",
                 "Pass credential_provider=create_from_default_azure_credential((\"https://redis.azure.com/"
                 f".default\",)) from redis-entraid instead of the password; give the identity {C.ROLES['redis'][0]}")

    # -- access facts --
    def _access_of(self, call, scope, info: C.ClientInfo | None) -> str:
        levels = {info.access} if info else set()
        tgt = self.assigned.get(id(call))
        if tgt is not None:
            name, s = tgt
            seen = set()
            todo = [(0 if "." in name else id(s), name)]
            while todo:
                k = todo.pop()
                if k in seen or len(seen) > 50:
                    continue
                seen.add(k)
                for m in self.method_calls.get(k, ()):
                    levels.add(C.classify_method(m))
                todo.extend(self.derived.get(k, ()))
        # chained directly on the constructor: Client(...).upload_blob()
        if "write" in levels:
            return "write"
        if "read" in levels:
            return "read"
        return "unknown"

    def _sdk_fact(self, call, scope, q, info: C.ClientInfo, auth: str = "unknown", code: str | None = None) -> None:
        # `code`: the key-auth rule that flags this client (resource rules cite it)
        self.an.facts.append(("py.sdk-client", {"service": info.service, "client": info.cls,
                                                "access": self._access_of(call, scope, info),
                                                "line": call.lineno, "auth": auth,
                                                **({"code": code} if code else {})}, call))


# ---- helpers -----------------------------------------------------------------------------------

def _enclosing_function(tree: ast.Module, node: ast.AST) -> ast.AST | None:
    """The innermost def whose body holds `node`."""
    pos = _pos(node)
    best = None
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.body and \
                _pos(n.body[0]) <= pos <= (n.end_lineno, n.end_col_offset):
            if best is None or _pos(n) > _pos(best):
                best = n
    return best


def _reads(home: ast.AST, name: str, is_module: bool) -> int:
    """Reads of `name` that see the binding of `home` (a module or a def): nested defs and lambdas
    that bind the name themselves are skipped."""
    count = 0
    stack = [(c, False) for c in (home.body if not is_module else home.body)]
    while stack:
        n, shadowed = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = n.args
            params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [v for v in (a.vararg, a.kwarg) if v]}
            body = n.body if isinstance(n.body, list) else [n.body]
            binds = name in params or any(
                isinstance(x, ast.Name) and x.id == name and not isinstance(x.ctx, ast.Load)
                for st in body for x in ast.walk(st))
            for d in getattr(n, "decorator_list", []) + a.defaults + [d for d in a.kw_defaults if d]:
                stack.append((d, shadowed))
            stack.extend((st, shadowed or binds) for st in body)
            continue
        if isinstance(n, ast.Name):
            if n.id == name and isinstance(n.ctx, ast.Load) and not shadowed:
                count += 1
            continue
        stack.extend((c, shadowed) for c in ast.iter_child_nodes(n))
    return count


def _span_data(node) -> dict:
    return {"line": node.lineno, "column": node.col_offset + 1, "end_line": node.end_lineno,
            "end_column": node.end_col_offset + 1}


def _guess_service(q: str) -> str:
    for prefix, svc in (("azure.storage.blob", "storage-blob"), ("azure.storage.queue", "storage-queue"),
                        ("azure.storage.fileshare", "storage-file"), ("azure.storage.filedatalake", "storage-datalake"),
                        ("azure.data.tables", "storage-table"), ("azure.servicebus", "servicebus"),
                        ("azure.eventhub", "eventhubs"), ("azure.cosmos", "cosmos"),
                        ("azure.appconfiguration", "appconfig"), ("azure.iot", "iot"),
                        ("azure.messaging.webpubsub", "webpubsub")):
        if q.startswith(prefix):
            return svc
    return "azure"


def _odbc_field(text: str, key: str, raw: bool = False) -> str | None:
    for part in text.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            if k.strip().lower() == key:
                v = v.strip()
                if raw or (v.startswith("{") and v.endswith("}") and "}" not in v[1:-1] and v[1:-1].isidentifier()):
                    return v.lower()  # a formatted placeholder: keep the braces
                return v.strip("{}").lower()
    return None


def _url_host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    rest = rest.split("/", 1)[0].split("?", 1)[0]
    return rest.rsplit("@", 1)[-1]


def _host_ok(host: str, suffixes: tuple[str, ...]) -> bool | None:
    """True: an Azure host (literal suffix, or a placeholder/env name saying AZURE); False: another
    literal host; None: unknown."""
    low = host.lower()
    if any(s in low for s in suffixes):
        return True
    names = re.findall(r"\{([^{}]*)\}", host)
    if names and _named_azure(names):
        return True
    if not host or names:
        return None
    return False


def _kv_field(text: str, key: str) -> str | None:
    for part in text.split():
        if part.startswith(key + "="):
            return part.split("=", 1)[1]
    return None


def _service_of_dialect(d: str) -> str | None:
    d = d.lower()
    if d.startswith("mssql"):
        return "sql"
    if d.startswith(("postgres", "postgresql")):
        return "postgres"
    if d.startswith(("mysql", "mariadb")):
        return "mysql"
    return None


def _suffixes(service: str) -> tuple[str, ...]:
    return {"sql": (C.SQL_HOST,), "postgres": (C.PG_HOST, ".postgres.cosmos.azure.com"),
            "mysql": (C.MYSQL_HOST,), "redis": C.REDIS_HOSTS}.get(service, ())


# Literals that show a module talks to a local emulator (lower case).
_EMULATOR_MARKERS = {
    "cosmos": ("localhost:8081", "127.0.0.1:8081"),
    "storage": ("devstoreaccount1", "usedevelopmentstorage=true", "127.0.0.1:10000", "localhost:10000",
                "127.0.0.1:10001", "127.0.0.1:10002"),
}
_B64_KEY_RE = re.compile(r"[A-Za-z0-9+/]{86}==")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "host.docker.internal", "0.0.0.0"})
_TEST_FILE_RE = re.compile(r"(?:^|/)(?:tests?|testing)/|(?:^|/)(?:test_[^/]*|[^/]*_tests?|conftest)\.py$")


def _checks_unset(node: ast.AST, name: str) -> bool:
    """`not name` or `name is None`."""
    if type(node) is ast.UnaryOp and type(node.op) is ast.Not:
        return type(node.operand) is ast.Name and node.operand.id == name
    return (type(node) is ast.Compare and type(node.left) is ast.Name and node.left.id == name
            and len(node.ops) == 1 and type(node.ops[0]) is ast.Is
            and type(node.comparators[0]) is ast.Constant and node.comparators[0].value is None)


# Hosts and REST paths of Azure AI services (lower case).
_AI_SERVICE_HINTS = (".cognitiveservices.azure.com", ".cognitive.microsoft.com", ".openai.azure.com",
                     ".search.windows.net", ".services.ai.azure.com", "formrecognizer/", "documentintelligence/",
                     "/vision/", "computervision/", "/face/", "text/analytics", "/language/:", "/translate?",
                     "/speechtotext/", "/openai/deployments")


def _names_apim(names) -> bool:
    """An identifier naming API Management (`apim_key`, `APIM_URL`, `apimKey`); the header's own
    name (`ocp_apim_subscription_key`) does not count."""
    for n in names:
        words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", n).lower())
        if any(w == "apim" and (i == 0 or words[i - 1] != "ocp") for i, w in enumerate(words)):
            return True
    return False


def _emulator_text(text: str) -> bool:
    """A connection string or key of a local emulator (Azurite, Cosmos DB, Service Bus)."""
    from keyless.rules.secrets.allowlist import is_emulator_key

    low = text.lower()
    return any(m in low for marks in _EMULATOR_MARKERS.values() for m in marks) \
        or "usedevelopmentemulator=true" in low or any(is_emulator_key(k) for k in _B64_KEY_RE.findall(text))


def _kw_name(call: ast.Call, value: ast.AST) -> str:
    return next((k.arg for k in call.keywords if k.value is value and k.arg), "the key")


def _prompt_names_apim(v: Val) -> bool:
    """A key typed in at a prompt that asks for API Management's
    (`getpass.getpass("Enter the subscription key to the APIM gateway:")`)."""
    call = v.node
    if v.kind != "call" or type(call) is not ast.Call or not call.args or (v.name or "").rpartition(".")[2] not in (
            "getpass", "input"):
        return False
    prompt = call.args[0]
    if type(prompt) is not ast.Constant or type(prompt.value) is not str:
        return False
    return "api management" in prompt.value.lower() or _names_apim([prompt.value])


def _named_emulator(v: Val) -> bool:
    """A value whose name says it is the local emulator's (`AZURITE_CONN_STR`, `EMULATOR_KEY`,
    also imported from another module, where its literal cannot be seen)."""
    return any("azurite" in n.lower() or "emulator" in n.lower() for n in v.hints | ({v.name} if v.name else set()))


def _is_test_path(relpath: str) -> bool:
    return bool(_TEST_FILE_RE.search(relpath.replace("\\", "/")))


def _is_local_host(host: str) -> bool:
    host = host.lower()
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    else:
        host = host.split(":", 1)[0]
    return host in _LOCAL_HOSTS


def _is_app_insights_connection_string(low: str) -> bool:
    """An Application Insights connection string: an instrumentation key (an identifier) and
    endpoints, no account key or shared access key."""
    cs = C.parse_connection_string(low)
    return "instrumentationkey" in cs and not any(k in cs for k in ("accountkey", "sharedaccesskey", "accesskey"))


# Settings names holding a database URL / a Redis URL (upper case).
_DB_URL_SETTING = re.compile(r"(?:DATABASE|^DB|_DB|SQLALCHEMY)_UR[IL]$|SQLALCHEMY_DATABASE_URI")
_REDIS_URL_SETTING = re.compile(r"^(?=\w*_UR[IL]$)\w*?(?:REDIS|BROKER|RESULT_BACKEND|CACHE)|^(?:BROKER_URL|RESULT_BACKEND)$")
# Stock Django database backends (a custom backend may fetch tokens itself: unknown).
_DJANGO_ENGINES = {
    "django.db.backends.postgresql": "postgres", "django.db.backends.postgresql_psycopg2": "postgres",
    "django.contrib.gis.db.backends.postgis": "postgres", "django_tenants.postgresql_backend": "postgres",
    "django_prometheus.db.backends.postgresql": "postgres", "django.db.backends.mysql": "mysql",
    "django.contrib.gis.db.backends.mysql": "mysql", "django_prometheus.db.backends.mysql": "mysql",
    "mssql": "sql", "sql_server.pyodbc": "sql",
}


def _is_setting_name(name: str) -> bool:
    up = name.upper()
    if up in ("DATABASES", "CACHES", "RESULT_BACKEND"):
        return True
    return "_UR" in up and bool(_DB_URL_SETTING.search(up) or _REDIS_URL_SETTING.search(up))


def _const_fields(d: ast.Dict) -> dict[str, ast.expr]:
    return {k.value.upper(): v for k, v in zip(d.keys, d.values)
            if type(k) is ast.Constant and type(k.value) is str}


def _url_password(text: str, redis: bool = False) -> str | None:
    """The password in a URL's user info (`scheme://user:password@host`); Redis also takes
    `redis://password@host`."""
    if "://" not in text:
        return None
    rest = text.split("://", 1)[1].split("?", 1)[0]
    if "@" not in rest:
        return None
    userinfo = rest.rsplit("@", 1)[0]
    if ":" in userinfo:
        return userinfo.split(":", 1)[1] or None
    return (userinfo or None) if redis else None
