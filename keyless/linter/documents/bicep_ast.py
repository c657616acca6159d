"""The syntax tree a Bicep document exposes (`BicepDocument.program`): the contract between the
Bicep reader (which builds it from whatever parser it uses) and everything that reads Bicep
(the deployment-model front end, secret and suppression handling).

Every node carries `span = (start, end)`: character offsets into the document's text (Python
string indexes, end exclusive), which `doc.lines.span(start, end)` turns into a Span. A region the
parser could not read becomes an `Error` node (an expression) or is listed in
`Program.errors`; everything around it is still read, so one broken declaration never hides the
others. Names are kept as written (Bicep identifiers are case-sensitive; ARM type strings are
not, and consumers compare those case-insensitively).

Values are never evaluated here: `Str` holds a literal string (escapes decoded), `Interp` a
string with `${...}` holes, and every other expression stays a tree.

Conventions the reader follows: a statement's `span` starts at its keyword (its decorators have
their own spans); a decorator's `name` is written without `sys.`; a multi-line string drops the
line break right after its opening quotes, and an interpolated one (`$` before the quotes, holes
`${x}`) is an `Interp`; `...x` is `Unary('...')` in an array and a `Prop` with `spread`, `key`
None and `key_span` over the `...` in an object; parentheses leave no node (the inner
expression's span excludes them). Extensions to the first version of this contract (compatible:
a new node, a defaulted field, a new operator value): `Nested` (`parent::child`),
`Prop.key_expr`, `Unary` op `'^'`.
"""

from __future__ import annotations

from typing import NamedTuple, Union

Offsets = tuple[int, int]


# ---- expressions ---------------------------------------------------------------------------------

class Str(NamedTuple):
    value: str  # escapes decoded; multi-line '''...''' strings too
    span: Offsets


class Interp(NamedTuple):
    """'prefix-${expr}-suffix': literal text (str) and expressions, in order."""

    parts: tuple  # tuple[str | Expr, ...]
    span: Offsets


class Num(NamedTuple):
    value: int
    span: Offsets


class Bool(NamedTuple):
    value: bool
    span: Offsets


class Null(NamedTuple):
    span: Offsets


class Ref(NamedTuple):
    """An identifier: a param, var, resource, module, loop variable, imported or function name."""

    name: str
    span: Offsets


class Member(NamedTuple):
    """`obj.name`; `safe` for `obj.?name`."""

    obj: "Expr"
    name: str
    safe: bool
    span: Offsets
    name_span: Offsets


class Nested(NamedTuple):
    """`parent::child`: the resource `child` declared inside the body of resource `parent`
    (`parent` may itself be a Nested)."""

    parent: "Expr"
    name: str
    span: Offsets
    name_span: Offsets


class Index(NamedTuple):
    """`obj[index]`; `safe` for `obj[?index]`."""

    obj: "Expr"
    index: "Expr"
    safe: bool
    span: Offsets


class Call(NamedTuple):
    """`name(args)`, `ns.name(args)` (`az.`, `sys.`, an imported namespace) or a resource function
    such as `storage.listKeys()` (`target` is the expression before the dot, `namespace` None)."""

    name: str
    args: tuple  # tuple[Expr, ...]
    namespace: str | None
    target: "Expr | None"
    span: Offsets
    name_span: Offsets


class Prop(NamedTuple):
    """One object entry. `key` is None for a computed or unreadable key, `spread` for `...expr`
    (then `value` is the spread expression). A nested `resource` declared inside a resource body is
    a `Resource` in that resource's `children`, not a Prop. `key_expr` is the key's expression when
    it is computed (`'${name}-x': ...`: an Interp)."""

    key: str | None
    value: "Expr"
    spread: bool
    span: Offsets  # the whole entry
    key_span: Offsets
    key_expr: "Expr | None" = None


class Obj(NamedTuple):
    props: tuple  # tuple[Prop, ...]
    span: Offsets


class Arr(NamedTuple):
    items: tuple  # tuple[Expr, ...]; a spread item is Unary('...', expr)
    span: Offsets


class Ternary(NamedTuple):
    cond: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Offsets


class Binary(NamedTuple):
    op: str  # == != =~ !~ < <= > >= && || ?? + - * / %
    left: "Expr"
    right: "Expr"
    span: Offsets


class Unary(NamedTuple):
    op: str  # ! - ... (spread inside an array); postfix non-null assertion is '!post'; '^' is an
    # index counted from the end (`x[^1]`, only as an Index's index)
    operand: "Expr"
    span: Offsets


class For(NamedTuple):
    """`[for item in iterable: body]` / `[for (item, index) in iterable: body]`; body may be If."""

    item: str | None
    index: str | None
    iterable: "Expr"
    body: "Expr"
    span: Offsets


class If(NamedTuple):
    """`if (cond) body`: the body of a conditional resource/module (or inside a For)."""

    cond: "Expr"
    body: "Expr"
    span: Offsets


class Lambda(NamedTuple):
    params: tuple  # tuple[str, ...]
    body: "Expr"
    span: Offsets


class Error(NamedTuple):
    """A region the parser could not read: its value is unknown."""

    span: Offsets


Expr = Union[Str, Interp, Num, Bool, Null, Ref, Member, Nested, Index, Call, Obj, Arr, Ternary, Binary, Unary,
             For, If, Lambda, Error]


# ---- statements ----------------------------------------------------------------------------------

class Decorator(NamedTuple):
    """`@name(args)` / `@sys.name(args)`: secure, allowed, description, minLength, batchSize, ..."""

    name: str
    args: tuple  # tuple[Expr, ...]
    span: Offsets


class Param(NamedTuple):
    """`param name type = default` in a .bicep file. `type_text` is the type as written
    (`string`, `object`, `'a' | 'b'`, `resourceInput<'T@v'>.properties`, a user type name), with a
    trailing `?` when `nullable`."""

    name: str
    type_text: str
    default: "Expr | None"
    nullable: bool
    decorators: tuple  # tuple[Decorator, ...]
    span: Offsets
    name_span: Offsets


class Var(NamedTuple):
    name: str
    value: Expr
    decorators: tuple
    span: Offsets
    name_span: Offsets


class Resource(NamedTuple):
    """`resource name 'Type@version' [existing] = body`. `body` is an Obj, or For/If wrapping one.
    `type_string` is the literal type string with its API version; `children` are the resources
    declared inside the body (their type strings may be relative, e.g. 'blobServices')."""

    name: str
    type_string: str
    existing: bool
    body: Expr
    children: tuple  # tuple[Resource, ...]
    decorators: tuple
    span: Offsets
    name_span: Offsets
    type_span: Offsets


class Module(NamedTuple):
    """`module name 'path' = body`: `path` is a local file path ('./core/app.bicep') or a registry
    reference ('br/public:avm/res/...:1.0.0', 'br:...', 'ts:...')."""

    name: str
    path: str
    body: Expr
    decorators: tuple
    span: Offsets
    name_span: Offsets
    path_span: Offsets


class Output(NamedTuple):
    name: str
    type_text: str
    value: Expr
    decorators: tuple
    span: Offsets
    name_span: Offsets


class TargetScope(NamedTuple):
    value: Expr  # usually Str('resourceGroup' | 'subscription' | 'managementGroup' | 'tenant')
    span: Offsets


class Using(NamedTuple):
    """`.bicepparam`: `using './main.bicep'` (or a registry reference, or `none`)."""

    path: str
    span: Offsets


class ParamValue(NamedTuple):
    """`.bicepparam`: `param name = value`."""

    name: str
    value: Expr
    span: Offsets
    name_span: Offsets


class Other(NamedTuple):
    """A statement nothing downstream needs yet: `type`, `func`, `import`, `metadata`, `extension`,
    `assert`. `keyword` says which; `name` when it declares one."""

    keyword: str
    name: str | None
    span: Offsets


Statement = Union[Param, Var, Resource, Module, Output, TargetScope, Using, ParamValue, Other]


class ParseIssue(NamedTuple):
    """A region that did not parse. `kind` is a short fixed phrase ('unreadable declaration',
    'unterminated string', ...): never source text."""

    kind: str
    span: Offsets


class Program(NamedTuple):
    statements: tuple  # tuple[Statement, ...] in source order
    errors: tuple  # tuple[ParseIssue, ...]
