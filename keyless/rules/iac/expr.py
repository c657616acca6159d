"""A small, safe evaluator for ARM template expressions (`"[concat(parameters('a'), 'b')]"`).

Only pure functions whose result is certain from the template text are modelled: `parameters`,
`variables`, `concat`, `format`, `toLower`/`toUpper`, `string`, `trim`, `replace`, `if` (with a
known condition), `createArray`/`createObject`, `union` (objects), `empty`, `equals`, `not`/`and`/
`or`, the `resourceId` family and `subscription()`/`resourceGroup()`/`managementGroup()`/
`tenant()` (whose ids become placeholder paths such as `/subscriptions/{subscriptionId}`), and,
only to read a linked deployment's target, `uri(deployment().properties.templateLink.uri, ...)`.
Everything else - `reference`, `list*`, `guid`, `uniqueString`, `newGuid`, `utcNow`, ... - is
UNKNOWN, and UNKNOWN spreads: a rule never guesses from a partly unknown value.

Nothing is executed; the evaluator walks a parsed tree with a step budget and a depth limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable


class _Unknown:
    """The value of an expression the evaluator does not model (singleton)."""

    _inst: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # never silently truthy
        return False


UNKNOWN: Any = _Unknown()

MAX_STEPS = 20_000
MAX_DEPTH = 40


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def unescape_literal(value: str) -> str:
    """`[[foo]` is the literal `[foo]` in ARM."""
    return value[1:] if value.startswith("[[") else value


# ---- tokens and parse tree --------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),.\[\]]))"
)


class ExprError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN_RE.match(text, i)
        if not m or m.end() == i:
            raise ExprError(f"unexpected character {text[i]!r}")
        kind = m.lastgroup or ""
        tok = m.group(kind)
        if kind == "str":
            tok = tok[1:-1].replace("''", "'")
        out.append((kind, tok))
        i = m.end()
    return out


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower-case
    args: tuple


@dataclass(frozen=True, slots=True)
class Member:
    target: Any
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    target: Any
    index: Any


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExprError(f"expected {value or 'token'}")
        self.i += 1
        return tok

    def parse(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ExprError("expression nested too deeply")
        tok = self.take()
        kind, text = tok
        if kind == "str":
            node: Any = Lit(text)
        elif kind == "num":
            node = Lit(float(text) if "." in text else int(text))
        elif kind == "ident":
            self.take("(")
            args = []
            if self.peek() and self.peek()[1] != ")":
                while True:
                    args.append(self.parse(depth + 1))
                    if self.peek() and self.peek()[1] == ",":
                        self.i += 1
                        continue
                    break
            self.take(")")
            node = Call(text.lower(), tuple(args))
        else:
            raise ExprError(f"unexpected {text!r}")
        while self.peek() and self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                name = self.take()
                if name[0] != "ident":
                    raise ExprError("expected property name")
                node = Member(node, name[1])
            else:
                idx = self.parse(depth + 1)
                self.take("]")
                node = Index(node, idx)
        return node


def parse(expression: str) -> Any:
    """Parse the inside of `[...]`. Raises ExprError. Trees are immutable, so each distinct
    expression is parsed once per process (a module's template is walked once per caller)."""
    hit = _PARSED.get(expression)
    if hit is None:
        try:
            hit = _parse(expression)
        except ExprError as exc:
            hit = exc
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[expression] = hit
    if isinstance(hit, ExprError):
        raise ExprError(str(hit))
    return hit


_PARSED: dict[str, Any] = {}
_PARSED_MAX = 50_000


def _parse(expression: str) -> Any:
    toks = tokenize(expression)
    p = _Parser(toks)
    node = p.parse()
    if p.peek() is not None:
        raise ExprError("trailing tokens")
    return node


def functions_called(value: Any) -> frozenset[str]:
    """Lower-case names of every function called in an ARM expression string (empty when not one)."""
    if not is_expression(value):
        return frozenset()
    hit = _CALLED.get(value)
    if hit is None:
        try:
            node = parse(value[1:-1])
        except ExprError:
            # Names start a word and give nothing back: linear on long runs of letters.
            hit = frozenset(m.lower() for m in re.findall(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*+)\s*+\(", value))
        else:
            out: set[str] = set()
            _collect_calls(node, out)
            hit = frozenset(out)
        if len(_CALLED) >= _PARSED_MAX:
            _CALLED.clear()
        _CALLED[value] = hit
    return hit


_CALLED: dict[str, frozenset[str]] = {}


def _collect_calls(n: Any, out: set[str]) -> None:
    # A module-level function, not a recursive closure: a closure that names itself is a reference
    # cycle only the cyclic GC frees, and this runs for every expression of every template.
    if isinstance(n, Call):
        out.add(n.name)
        for a in n.args:
            _collect_calls(a, out)
    elif isinstance(n, Member):
        _collect_calls(n.target, out)
    elif isinstance(n, Index):
        _collect_calls(n.target, out)
        _collect_calls(n.index, out)


# Members of a `list*()` result that name the credential rather than hold it.
_NON_SECRET_MEMBERS = frozenset({"username", "keyname", "name"})


def secret_list_calls(value: Any) -> set[str]:
    """Lower-case names of the `list*` functions whose result an ARM expression uses for more than
    a non-secret member (`listCredentials(...).username`): the calls that put key material in the
    value. On an expression that does not parse, every `list*` call counts."""
    if not is_expression(value):
        return set()
    try:
        node = parse(value[1:-1])
    except ExprError:
        return {f for f in functions_called(value) if f.startswith("list")}
    out: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, Member) and n.name.lower() in _NON_SECRET_MEMBERS:
            root, indexes = n.target, []
            while isinstance(root, (Member, Index)):  # `.keys[0].keyName`: down to the call
                if isinstance(root, Index):
                    indexes.append(root.index)
                root = root.target
            if isinstance(root, Call) and root.name.startswith("list"):
                for a in root.args + tuple(indexes):
                    walk(a)
                return
        if isinstance(n, Call):
            if n.name.startswith("list"):
                out.add(n.name)
            for a in n.args:
                walk(a)
        elif isinstance(n, Member):
            walk(n.target)
        elif isinstance(n, Index):
            walk(n.target)
            walk(n.index)

    walk(node)
    return out


# Functions whose arguments are names (and subscription / resource group ids): what they return
# is a resource id, never the value of an argument.
RESOURCE_ID_FUNCTIONS = ("resourceid", "subscriptionresourceid", "tenantresourceid", "extensionresourceid",
                         "managementgroupresourceid")


def referenced(value: Any, function: str | tuple[str, ...] = "parameters", outside: tuple[str, ...] = ()) -> list[str]:
    """The names an ARM expression string passes as a literal to `parameters()` (or `variables()`,
    or both), in order, read from its parse tree (so `[ parameters ('p') ]` counts like
    `[parameters('p')]`); references inside calls of the `outside` functions are left out."""
    functions = (function,) if isinstance(function, str) else function
    if not is_expression(value):
        return []
    try:
        node = parse(value[1:-1])
    except ExprError:
        return []
    out: list[str] = []
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, Call):
            if n.name in outside:
                continue
            if n.name in functions and len(n.args) == 1 and isinstance(n.args[0], Lit) and isinstance(n.args[0].value, str):
                out.append(n.args[0].value)
            todo.extend(reversed(n.args))
        elif isinstance(n, Member):
            todo.append(n.target)
        elif isinstance(n, Index):
            todo.extend((n.index, n.target))
    return out


def only_reference(value: Any) -> tuple[str, str] | None:
    """("parameters", name) / ("variables", name) when the expression is exactly that one call."""
    if not is_expression(value):
        return None
    try:
        node = parse(value[1:-1])
    except ExprError:
        return None
    if isinstance(node, Call) and node.name in ("parameters", "variables") and len(node.args) == 1 \
            and isinstance(node.args[0], Lit) and isinstance(node.args[0].value, str):
        return node.name, node.args[0].value
    return None


# Functions whose result carries their first argument's unpredictability (`concat(newGuid(), 'x')`,
# `toUpper(substring(newGuid(), 0, 8))`): a default built on newGuid() is generated per deployment.
_CARRIES_FIRST = frozenset({"tolower", "toupper", "string", "trim", "substring", "take", "skip", "replace",
                            "base64", "uricomponent", "padleft", "last", "first"})
_CARRIES_ANY = frozenset({"concat", "format", "guid", "uniquestring"})


def generated_per_deployment(value: Any) -> bool:
    """Whether an ARM expression's value is always built on `newGuid()` (every branch of an `if`
    too), so it differs on each deployment and is no committed secret."""
    if not is_expression(value):
        return False
    try:
        node = parse(value[1:-1])
    except ExprError:
        return False
    return _generated(node, 0)


def _generated(node: Any, depth: int) -> bool:
    if depth > MAX_DEPTH or not isinstance(node, Call):
        return False
    if node.name == "newguid":
        return True
    if node.name in _CARRIES_ANY:
        return any(_generated(a, depth + 1) for a in node.args)
    if node.name in _CARRIES_FIRST:
        return bool(node.args) and _generated(node.args[0], depth + 1)
    if node.name == "if":
        return len(node.args) == 3 and all(_generated(a, depth + 1) for a in node.args[1:])
    return False


# ---- evaluation -------------------------------------------------------------------------------

SUB_ID = "/subscriptions/{subscriptionId}"
RG_ID = SUB_ID + "/resourceGroups/{resourceGroupName}"
MG_ID = "/providers/Microsoft.Management/managementGroups/{managementGroupName}"
UNKNOWN_SEGMENT = "{?}"


class Deferred:
    """A parameter value computed on first use (a nested deployment's parameters: most are never
    read by the rules). A value that needs itself is UNKNOWN."""

    __slots__ = ("compute", "value", "state")

    def __init__(self, compute: Callable[[], Any]):
        self.compute = compute
        self.value: Any = UNKNOWN
        self.state = 0  # 0 pending, 1 computing, 2 done

    def get(self) -> Any:
        if self.state == 0:
            self.state = 1
            try:
                self.value = self.compute()
            finally:
                self.state = 2
        return self.value


def _value(v: Any) -> Any:
    return v.get() if isinstance(v, Deferred) else v


def _placeholder(v: Deferred) -> Any:
    value = v.get()
    return UNKNOWN_SEGMENT if value is UNKNOWN else value


class Context:
    """Parameters and variables of one template scope. A parameter's value may be `Deferred`."""

    def __init__(self, parameters: dict[str, Any] | None = None, variables: dict[str, Any] | None = None):
        # parameter name (lower) -> value or UNKNOWN
        self.parameters = {k.lower(): v for k, v in (parameters or {}).items()}
        self.variables = {k.lower(): v for k, v in (variables or {}).items()}
        self._var_cache: dict[str, Any] = {}
        self._resolving: set[str] = set()
        self.steps = 0

    def with_placeholders(self) -> "Context":
        """A copy in which unknown parameters, and unknown parts joined by `concat`/`format`
        (`variables('groups')[copyIndex()]`), read as the segment `{?}`: enough to tell which kind
        of id an expression builds when only a name in it is unknown, never to compare values."""
        shape = _ShapeContext(variables=self.variables)
        # A parameter not computed yet stays so (most are never read: computing every one, as
        # a copy of its value would, cost a nested deployment all its passed values).
        shape.parameters = {k: Deferred(partial(_placeholder, v)) if isinstance(v, Deferred)
                            else UNKNOWN_SEGMENT if v is UNKNOWN else v for k, v in self.parameters.items()}
        return shape

    def variable(self, name: str) -> Any:
        key = name.lower()
        if key in self._var_cache:
            return self._var_cache[key]
        if key not in self.variables or key in self._resolving:
            return UNKNOWN
        self._resolving.add(key)
        try:
            val = self.resolve(self.variables[key])
        finally:
            self._resolving.discard(key)
        self._var_cache[key] = val
        return val

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """Evaluate a template value: expressions in strings, recursively in lists and dicts."""
        if depth > MAX_DEPTH:
            return UNKNOWN
        if isinstance(value, str):
            if is_expression(value):
                return self.evaluate(value)
            return unescape_literal(value)
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v, depth + 1) for k, v in value.items()}
        return value

    def evaluate(self, expression: str) -> Any:
        try:
            node = parse(expression[1:-1])
        except ExprError:
            return UNKNOWN
        return self.evaluate_node(node)

    def evaluate_node(self, node: Any) -> Any:
        """A parsed expression's value (UNKNOWN for what is not modelled)."""
        try:
            return self._eval(node, 0)
        except (ExprError, RecursionError, TypeError, ValueError, IndexError, KeyError):
            return UNKNOWN

    def _eval(self, node: Any, depth: int) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS or depth > MAX_DEPTH:
            raise ExprError("budget exceeded")
        if isinstance(node, Lit):
            return node.value
        if isinstance(node, Member):
            target = self._eval(node.target, depth + 1)
            if isinstance(target, dict):
                for k, v in target.items():
                    if k.lower() == node.name.lower():
                        return v
            return UNKNOWN
        if isinstance(node, Index):
            target = self._eval(node.target, depth + 1)
            idx = self._eval(node.index, depth + 1)
            if isinstance(target, list) and isinstance(idx, int) and 0 <= idx < len(target):
                return target[idx]
            if isinstance(target, dict) and isinstance(idx, str):
                return target.get(idx, UNKNOWN)
            return UNKNOWN
        assert isinstance(node, Call)
        fn = _FUNCS.get(node.name)
        if fn is None:
            return UNKNOWN
        if node.name == "if":  # lazy branches
            cond = self._eval(node.args[0], depth + 1) if node.args else UNKNOWN
            if cond is True and len(node.args) > 1:
                return self._eval(node.args[1], depth + 1)
            if cond is False and len(node.args) > 2:
                return self._eval(node.args[2], depth + 1)
            return UNKNOWN
        args = [self._eval(a, depth + 1) for a in node.args]
        return fn(self, args)


class _ShapeContext(Context):
    """The copy Context.with_placeholders returns."""

    def _eval(self, node: Any, depth: int) -> Any:
        if isinstance(node, Call) and node.name in ("concat", "format"):
            args = [self._eval(a, depth + 1) for a in node.args]
            return _FUNCS[node.name](self, [UNKNOWN_SEGMENT if a is UNKNOWN else a for a in args])
        return super()._eval(node, depth)


@dataclass(frozen=True, slots=True)
class LinkedTemplate:
    """`uri(deployment().properties.templateLink.uri, 'x/y.json')`: the file `x/y.json` next to
    the template that evaluates it (a value no other function accepts)."""

    relative_path: str


_OWN_TEMPLATE_LINK = object()  # `deployment().properties.templateLink.uri`: only uri() takes it


class TemplateLinkContext(Context):
    """Evaluates a linked deployment's `templateLink.uri`: `deployment()` is the template's own
    link and `uri()` joins a literal path to it. Parameters stay UNKNOWN (a caller may pass any
    value), so only paths fixed by the template text - literals, variables made of them - come
    out; everything else is UNKNOWN, as in any Context."""

    def __init__(self, variables: dict[str, Any] | None = None):
        super().__init__(variables=variables)

    def _eval(self, node: Any, depth: int) -> Any:
        if isinstance(node, Call) and node.name == "deployment" and not node.args:
            return {"properties": {"templateLink": {"uri": _OWN_TEMPLATE_LINK}}}
        if isinstance(node, Call) and node.name == "uri" and len(node.args) == 2:
            base, relative = (self._eval(a, depth + 1) for a in node.args)
            if base is _OWN_TEMPLATE_LINK and isinstance(relative, str):
                return LinkedTemplate(relative)
            return UNKNOWN
        return super()._eval(node, depth)


def _known(*vals: Any) -> bool:
    return all(v is not UNKNOWN for v in vals)


def _parameters(ctx: Context, args: list) -> Any:
    if len(args) != 1 or not isinstance(args[0], str):
        return UNKNOWN
    return _value(ctx.parameters.get(args[0].lower(), UNKNOWN))


def _variables(ctx: Context, args: list) -> Any:
    if len(args) != 1 or not isinstance(args[0], str):
        return UNKNOWN
    return ctx.variable(args[0])


def _concat(ctx: Context, args: list) -> Any:
    if not args or not _known(*args):
        return UNKNOWN
    if all(isinstance(a, list) for a in args):
        out: list = []
        for a in args:
            out.extend(a)
        return out
    if all(isinstance(a, (str, int, float, bool)) for a in args):
        return "".join(_to_str(a) for a in args)
    return UNKNOWN


def _to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    return str(v)


def _format(ctx: Context, args: list) -> Any:
    if not args or not _known(*args) or not isinstance(args[0], str):
        return UNKNOWN
    fmt, rest = args[0], args[1:]
    if any(not isinstance(a, (str, int, float, bool)) for a in rest):
        return UNKNOWN

    def sub(m: re.Match) -> str:
        i = int(m.group(1))
        if i >= len(rest):
            raise ExprError("format index")
        return _to_str(rest[i])

    return re.sub(r"\{(\d++)(?::[^{}]*+)?\}", sub, fmt)  # a spec holds no brace: linear on `{0:{0:...`


def _str1(f: Callable[[str], str]) -> Callable[[Context, list], Any]:
    def inner(ctx: Context, args: list) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            return UNKNOWN
        return f(args[0])

    return inner


def _string(ctx: Context, args: list) -> Any:
    if len(args) != 1 or not _known(args[0]):
        return UNKNOWN
    v = args[0]
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return str(v)
    return UNKNOWN


def _replace(ctx: Context, args: list) -> Any:
    if len(args) != 3 or not all(isinstance(a, str) for a in args):
        return UNKNOWN
    return args[0].replace(args[1], args[2])


def _seg(v: Any) -> str:
    return v if isinstance(v, str) and v else UNKNOWN_SEGMENT


def _resource_path(args: list) -> tuple[str, str] | None:
    """Split `(type, name1, name2, ...)` into provider path pieces."""
    if not args or not isinstance(args[0], str) or "/" not in args[0]:
        return None
    rtype = args[0]
    # ARM accepts a trailing slash ('Microsoft.Management/managementGroups/', as Enterprise-Scale writes it).
    ns, *types = rtype.rstrip("/").split("/")
    names = [_seg(a) for a in args[1:]]
    parts = [ns]
    for i, t in enumerate(types):
        parts.append(t)
        parts.append(names[i] if i < len(names) else UNKNOWN_SEGMENT)
    return rtype, "/providers/" + "/".join(parts)


def _resource_id(ctx: Context, args: list) -> Any:
    # resourceId([subscriptionId], [resourceGroupName], resourceType, name1, ...)
    idx = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a and "." in a.split("/")[0]), None)
    if idx is None or idx > 2:
        return UNKNOWN
    sub = _seg(args[0]) if idx == 2 else "{subscriptionId}"
    rg = _seg(args[idx - 1]) if idx >= 1 else "{resourceGroupName}"
    rp = _resource_path(args[idx:])
    if rp is None:
        return UNKNOWN
    return f"/subscriptions/{sub}/resourceGroups/{rg}{rp[1]}"


def _subscription_resource_id(ctx: Context, args: list) -> Any:
    idx = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a and "." in a.split("/")[0]), None)
    if idx is None or idx > 1:
        return UNKNOWN
    sub = _seg(args[0]) if idx == 1 else "{subscriptionId}"
    rp = _resource_path(args[idx:])
    return UNKNOWN if rp is None else f"/subscriptions/{sub}{rp[1]}"


def _tenant_resource_id(ctx: Context, args: list) -> Any:
    rp = _resource_path(args)
    return UNKNOWN if rp is None else rp[1]


def _extension_resource_id(ctx: Context, args: list) -> Any:
    if len(args) < 2 or not isinstance(args[0], str):
        return UNKNOWN
    rp = _resource_path(args[1:])
    return UNKNOWN if rp is None else args[0].rstrip("/") + rp[1]


def _mg_resource_id(ctx: Context, args: list) -> Any:
    idx = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a and "." in a.split("/")[0]), None)
    if idx is None or idx > 1:
        return UNKNOWN
    mg = _seg(args[0]) if idx == 1 else "{managementGroupName}"
    rp = _resource_path(args[idx:])
    return UNKNOWN if rp is None else f"/providers/Microsoft.Management/managementGroups/{mg}{rp[1]}"


def _create_object(ctx: Context, args: list) -> Any:
    if len(args) % 2 or not all(isinstance(k, str) for k in args[::2]):
        return UNKNOWN
    return dict(zip(args[::2], args[1::2]))


def _union(ctx: Context, args: list) -> Any:
    if not args or not _known(*args):
        return UNKNOWN
    if all(isinstance(a, dict) for a in args):
        out: dict = {}
        for a in args:
            out.update(a)
        return out
    return UNKNOWN


def _empty(ctx: Context, args: list) -> Any:
    if len(args) != 1 or not _known(args[0]):
        return UNKNOWN
    v = args[0]
    return v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)


def _length(ctx: Context, args: list) -> Any:
    if len(args) != 1 or not _known(args[0]) or not isinstance(args[0], (list, dict, str)):
        return UNKNOWN
    if isinstance(args[0], str) and "{" in args[0]:
        return UNKNOWN  # a placeholder path is a partial value
    return len(args[0])


def _items(ctx: Context, args: list) -> Any:
    """An object as `[{key, value}, ...]`, sorted by key (a Bicep `for` over a map)."""
    if len(args) != 1 or not _known(args[0]) or not isinstance(args[0], dict):
        return UNKNOWN
    return [{"key": k, "value": args[0][k]} for k in sorted(args[0])]


def _equals(ctx: Context, args: list) -> Any:
    if len(args) != 2 or not _known(*args):
        return UNKNOWN
    a, b = args
    if isinstance(a, str) and "{" in a or isinstance(b, str) and "{" in b:
        return UNKNOWN  # placeholder paths are partial values
    return a == b


def _not(ctx: Context, args: list) -> Any:
    return (not args[0]) if len(args) == 1 and isinstance(args[0], bool) else UNKNOWN


def _and(ctx: Context, args: list) -> Any:
    if any(a is False for a in args):
        return False
    return True if args and all(a is True for a in args) else UNKNOWN


def _or(ctx: Context, args: list) -> Any:
    if any(a is True for a in args):
        return True
    return False if args and all(a is False for a in args) else UNKNOWN


_FUNCS: dict[str, Callable[[Context, list], Any]] = {
    "parameters": _parameters,
    "variables": _variables,
    "concat": _concat,
    "format": _format,
    "tolower": _str1(str.lower),
    "toupper": _str1(str.upper),
    "trim": _str1(str.strip),
    "string": _string,
    "replace": _replace,
    "if": lambda ctx, args: UNKNOWN,  # evaluated lazily in _eval
    "createarray": lambda ctx, args: list(args) if _known(*args) else UNKNOWN,
    "array": lambda ctx, args: (args[0] if isinstance(args[0], list) else [args[0]]) if len(args) == 1 and _known(*args) else UNKNOWN,
    "createobject": _create_object,
    "union": _union,
    "empty": _empty,
    "length": _length,
    "items": _items,
    "equals": _equals,
    "not": _not,
    "and": _and,
    "or": _or,
    "true": lambda ctx, args: True,
    "false": lambda ctx, args: False,
    "null": lambda ctx, args: None,
    "json": lambda ctx, args: UNKNOWN,
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "tenantresourceid": _tenant_resource_id,
    "extensionresourceid": _extension_resource_id,
    "managementgroupresourceid": _mg_resource_id,
    "subscription": lambda ctx, args: {"id": SUB_ID} if not args else UNKNOWN,
    "resourcegroup": lambda ctx, args: {"id": RG_ID} if not args else UNKNOWN,
    "managementgroup": lambda ctx, args: {"id": MG_ID} if not args else UNKNOWN,
    "tenant": lambda ctx, args: {"id": "/"} if not args else UNKNOWN,
}


def classify_scope(value: Any) -> str:
    """`managementGroup`, `subscription`, `resourceGroup`, `resource`, `tenant` or `unknown` for a
    (possibly placeholder) resource id."""
    if not isinstance(value, str) or not value:
        return "unknown"
    v = value.strip()
    if v == "/":
        return "tenant"
    low = v.lower().rstrip("/")
    if re.fullmatch(r"/providers/microsoft\.management/managementgroups/[^/]+", low):
        return "managementGroup"
    if re.fullmatch(r"/subscriptions/[^/]+", low):
        return "subscription"
    if re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/[^/]+", low):
        return "resourceGroup"
    if "/providers/" in low:
        return "resource"
    if not low.startswith("/") and "/" in low and "." in low.split("/")[0]:
        # Bicep-compiled relative ids: 'Microsoft.Storage/storageAccounts/{0}'
        return "resource"
    return "unknown"


# ---- one member of an object built by an expression --------------------------------------------------

def object_member(expression: str, name: str) -> tuple[str, Any]:
    """Which expression sets member `name` of the object an ARM expression builds, without
    evaluating the rest: `createObject(...)`, `union(...)` / `shallowMerge(createArray(...))` (the
    last argument that sets it wins) and `if(c, a, b)` when neither branch sets it. Returns
    ("set", node), ("absent", None) or ("unknown", None): an argument that might set it (a
    parameter, a function we do not read) makes the answer unknown."""
    try:
        node = parse(expression[1:-1]) if is_expression(expression) else None
    except ExprError:
        return "unknown", None
    return _member_of(node, name.lower(), 0) if node is not None else ("unknown", None)


def _member_of(node: Any, name: str, depth: int) -> tuple[str, Any]:
    if depth > 20 or not isinstance(node, Call):
        return "unknown", None
    args = node.args
    if node.name == "createobject":
        if len(args) % 2:
            return "unknown", None
        for k, v in zip(args[::2], args[1::2]):
            if not isinstance(k, Lit) or not isinstance(k.value, str):
                return "unknown", None
            if k.value.lower() == name:
                return "set", v
        return "absent", None
    if node.name in ("union", "shallowmerge"):
        if node.name == "shallowmerge":
            if len(args) != 1 or not isinstance(args[0], Call) or args[0].name != "createarray":
                return "unknown", None
            args = args[0].args
        found: tuple[str, Any] = ("absent", None)
        for a in args:
            r = _member_of(a, name, depth + 1)
            if r[0] == "unknown":
                return r
            if r[0] == "set":
                found = r
        return found
    if node.name == "if" and len(args) == 3:
        a, b = _member_of(args[1], name, depth + 1), _member_of(args[2], name, depth + 1)
        return ("absent", None) if a[0] == b[0] == "absent" else ("unknown", None)
    return "unknown", None

