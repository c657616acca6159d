"""Bicep documents (`.bicep`, and `.bicepparam` with subkind "bicepparam").

`doc.program` is the syntax tree of `keyless.linter.documents.bicep_ast` (see there for the nodes),
with character offsets into `doc.text`. No Bicep CLI, .NET or network: the file is read with the
tree-sitter-bicep grammar, in three steps:

1. A scanner that knows brackets, strings, interpolation and comments cuts the file into top-level
   statements (a run of decorators belongs to the declaration after it). Every statement is parsed
   on its own, so an error in one declaration never disturbs another (and tree-sitter's error
   recovery, which is slow on long broken files, stays local).
2. A same-length view works around what the grammar does not know, keeping every offset: the
   header of `param`/`output`/`var` (and `.bicepparam` `param`) becomes `var NAME ... =` with the
   type blanked (types such as `resourceInput<'T@v'>.properties`, `userType?` or a typed `var`
   never reach the grammar: `type_text` is read from the source), `...` in an object becomes
   `_: ` and in an array blanks, a postfix non-null `!` a blank. `type`, `func`, `import`,
   `metadata`, `extension`, `assert` and `test` statements are not parsed (`Other`).
3. The tree is converted into bicep_ast nodes. An ERROR region becomes an `Error` node (or, between
   object entries, only a `ParseIssue`); the clean parts around it, including object entries
   inside the region the grammar could still read, are kept.

A file that does not parse completely still yields every declaration that does:
`ensure_parsed()` is True whenever `program` exists, and `parse_error` then holds a one-line
warning naming the first unreadable region (a position and a fixed phrase, never source text).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.bicep_ast import (
    Arr, Binary, Bool, Call, Decorator, Error, For, If, Index, Interp, Lambda, Member, Module, Nested,
    Null, Num, Obj, Other, Output, Param, ParamValue, ParseIssue, Program, Prop, Ref, Resource, Str,
    TargetScope, Ternary, Unary, Using, Var,
)

# Past this size a file is only secret-scanned (the largest Azure Verified Module is 0.12 MB).
MAX_PARSE_CHARS = 4_000_000
MAX_DEPTH = 400  # expression nesting read; deeper is an Error node

# Namespaces a call may be qualified with besides `import * as ns` aliases.
BUILTIN_NAMESPACES = frozenset({"az", "sys"})

# Statement keywords (a line at bracket depth 0 that starts with one starts a statement).
_PARSED = ("targetScope", "param", "var", "resource", "module", "output", "using")
_UNPARSED = ("type", "func", "import", "metadata", "extends", "extension", "provider", "assert", "test")
_KEYWORDS = _PARSED + _UNPARSED
_LINE_START = re.compile(r"[ \t]*(@|(?:" + "|".join(_KEYWORDS) + r")\b(?![ \t]*:))")

# Code-mode tokens of the scanner; everything else is skipped by the regex engine.
_CODE = re.compile(r"\n|'|[{}\[\]()]|//|/\*|\.\.\.|(?<=[\w)\]])!(?!=)")
_SIMPLE_STRING = re.compile(r"'[^'\\\n$]*(?:(?:\\.|\$(?!\{))[^'\\\n$]*)*'")
_IN_STRING = re.compile(r"[\\'\n]|\$\{")
_CLOSER = {"}": "{", "]": "[", ")": "("}

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DECL_NAME = re.compile(r"(" + "|".join(_KEYWORDS) + r")\b[ \t]*(" + _NAME + r")?")
_HEADER_TOKENS = re.compile(r"'(?:[^'\\\n]|\\.)*'?|[{\[(]|[}\])]|[=!<>]=|=[~>]|=|//[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/)?|\n")
_IMPORT_ALIAS = re.compile(r"\bimport\b[ \t]*\*[ \t]*as[ \t]+(" + _NAME + ")")
_USING = re.compile(r"using\b[ \t]*(?:('(?:[^'\\\n]|\\.)*')|(none)\b)")
_RESOURCE_HEAD = re.compile(r"(resource|module)[ \t]+(" + _NAME + r")[ \t]+('(?:[^'\\\n]|\\.)*')(?:[ \t]+(existing)\b)?")
_SKIP_BLANK = re.compile(r"(?:\s|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*")
_SURROGATES = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|.)", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}
_COMMENTS = frozenset(("comment", "diagnostic_comment"))
_TYPE_NODES = frozenset((
    "type", "primitive_type", "array_type", "nullable_type", "negated_type", "union_type",
    "parenthesized_type", "parameterized_type", "nullable_return_type",
))
_EXPRESSION_TYPES = frozenset((
    "identifier", "number", "null", "boolean", "string", "array", "object", "member_expression",
    "subscript_expression", "call_expression", "resource_expression", "ternary_expression",
    "binary_expression", "unary_expression", "parenthesized_expression", "lambda_expression",
    "for_statement", "if_statement",
))


# ---- 1. statements ------------------------------------------------------------------------------

class _Scan:
    """Top-level statement boundaries, plus the spread `...` and postfix `!` positions to blank."""

    __slots__ = ("starts", "spreads", "bangs", "blocks", "clean")

    def __init__(self):
        self.starts: list[tuple[int, str]] = []  # (offset of the keyword or '@', keyword)
        self.spreads: list[tuple[int, str]] = []  # (offset, enclosing bracket)
        self.bangs: list[int] = []
        self.blocks: list[tuple[int, int]] = []  # multi-line strings and block comments
        self.clean = True  # brackets balanced, strings and comments terminated


def scan(text: str, recover: bool = False) -> _Scan:
    """One pass over the text. With `recover`, a keyword at column 0 starts a statement even
    inside unbalanced brackets, and an unterminated comment or string ends at its line end."""
    out = _Scan()
    starts, spreads, bangs = out.starts, out.spreads, out.bangs
    n = len(text)
    stack: list[str] = []
    line_start = _LINE_START.match
    m = line_start(text, 0)
    if m:
        starts.append((m.start(1), m.group(1)))
    code = _CODE.search
    pos = 0
    in_string = False
    while True:
        if in_string:
            m = _IN_STRING.search(text, pos)
            if m is None:
                out.clean = False
                break
            i = m.start()
            c = text[i]
            if c == "\\":
                pos = i + 2
                continue
            in_string = False
            if c == "'":
                pos = i + 1
            elif c == "\n":  # a single-quoted string cannot span lines
                out.clean = False
                pos = i
            else:  # ${
                stack.append("$")
                pos = i + 2
            continue
        m = code(text, pos)
        if m is None:
            break
        i = m.start()
        c = text[i]
        if c == "\n":
            pos = i + 1
            if not stack:
                k = line_start(text, pos)
                if k:
                    starts.append((k.start(1), k.group(1)))
            elif recover and pos < n and text[pos] not in " \t\r\n":
                k = line_start(text, pos)
                if k and k.group(1) != "@":
                    stack.clear()
                    starts.append((k.start(1), k.group(1)))
        elif c == "'":
            if text.startswith("'''", i):
                j = text.find("'''", i + 3)
                if j < 0:
                    out.clean = False
                    j = _line_end(text, i) - 3 if recover else n
                pos = j + 3
                out.blocks.append((i, pos))
            else:
                s = _SIMPLE_STRING.match(text, i)
                if s is not None:
                    pos = s.end()
                else:
                    in_string = True
                    pos = i + 1
        elif c in "{[(":
            stack.append(c)
            pos = i + 1
        elif c in "}])":
            pos = i + 1
            if stack:
                top = stack[-1]
                if top == "$" and c == "}":
                    stack.pop()
                    in_string = True
                elif top == _CLOSER[c]:
                    stack.pop()
                else:
                    out.clean = False
                    want = _CLOSER[c]
                    if want in stack:
                        while stack and stack.pop() != want:
                            pass
            else:
                out.clean = False
        elif c == "/":
            if text[i + 1] == "/":
                j = text.find("\n", i)
                pos = n if j < 0 else j
            else:
                j = text.find("*/", i + 2)
                if j < 0:
                    out.clean = False
                    pos = _line_end(text, i) if recover else n
                else:
                    pos = j + 2
                out.blocks.append((i, pos))
        elif c == ".":
            spreads.append((i, stack[-1] if stack else ""))
            pos = i + 3
        else:  # postfix !
            bangs.append(i)
            pos = i + 1
    if stack:
        out.clean = False
    return out


def _view(text: str) -> str:
    """What the scanner and the grammar read: the same length, lone CRs as line feeds, a BOM as a
    blank, unpaired surrogates (undecodable bytes) as `?`."""
    view = text
    if view.startswith("\ufeff"):
        view = " " + view[1:]
    if "\r" in view:
        view = re.sub(r"\r(?!\n)", "\n", view)
    if _SURROGATES.search(view):
        view = _SURROGATES.sub("?", view)
    return view


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def statements(text: str) -> tuple[list[tuple[int, int | None, str, int]], _Scan]:
    """[(start, declaration keyword offset or None, keyword, end)] and the scan used."""
    sc = scan(text)
    if not sc.clean:
        sc = scan(text, recover=True)
    out: list[tuple[int, int | None, str, int]] = []
    pending: int | None = None  # first decorator of a run
    for off, kw in sc.starts:
        if kw == "@":
            if pending is None:
                pending = off
            continue
        if pending is not None:
            out.append((pending, off, kw, 0))
            pending = None
        else:
            out.append((off, off, kw, 0))
    if pending is not None:
        out.append((pending, None, "@", 0))
    ends = [s[0] for s in out[1:]] + [len(text)]
    return [(s, d, k, e) for (s, d, k, _), e in zip(out, ends)], sc


# ---- 3. tree -> nodes ---------------------------------------------------------------------------

class _Segment:
    """One parsed statement: byte offsets of its tree -> character offsets of the document."""

    __slots__ = ("base", "byte_ends", "char_ends", "extras")

    def __init__(self, base: int, seg: str, data: bytes):
        self.base = base
        self.byte_ends: list[int] | None = None
        self.char_ends: list[int] = []
        self.extras: list[int] = []
        if len(data) != len(seg):
            ends, char_ends, extras = [], [], []
            extra = 0
            for m in _NON_ASCII.finditer(seg):
                extra += len(m.group().encode("utf-8")) - 1
                ends.append(m.start() + extra + 1)  # byte offset just past this character
                char_ends.append(m.start() + 1)
                extras.append(extra)
            self.byte_ends, self.char_ends, self.extras = ends, char_ends, extras

    def off(self, b: int) -> int:
        if self.byte_ends is None:
            return self.base + b
        k = bisect.bisect_right(self.byte_ends, b) - 1
        return self.base + (b if k < 0 else b - self.extras[k])


class _Builder:
    def __init__(self, text: str, namespaces: frozenset, spreads: dict, bangs: set, issues: list):
        self.text = text
        self.namespaces = namespaces
        self.spreads = spreads  # offset -> '{' or '['
        self.bangs = bangs
        self.issues = issues
        self.seg: _Segment = None  # type: ignore[assignment]
        self.data = b""
        self.view = ""
        self.children: list[list] = []  # nested resources of the resource being read
        self.depth = 0
        self.grouped: set[int] = set()  # ids of values written in parentheses
        self.keep: list = []  # ... kept alive so their ids stay theirs

    # ---- helpers ------------------------------------------------------------------------------
    def span(self, node) -> tuple[int, int]:
        off = self.seg.off
        return off(node.start_byte), off(node.end_byte)

    def issue(self, kind: str, span: tuple[int, int]) -> None:
        self.issues.append(ParseIssue(kind, span))

    def error(self, node, kind: str = "unreadable expression") -> Error:
        sp = self.span(node)
        self.issue(kind, sp)
        return Error(sp)

    # ---- expressions --------------------------------------------------------------------------
    def expr(self, node) -> Any:
        t = node.type
        if node.is_missing:
            return self.error(node, "missing token")
        method = _EXPR.get(t)
        if method is None:
            return self.error(node)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return self.error(node, "nesting too deep")
            value = method(self, node)
        finally:
            self.depth -= 1
        end = value.span[1]
        if end in self.bangs and t not in ("for_statement", "if_statement", "lambda_expression"):
            # `expr!`: the `!` (blanked for the grammar) sits right after the innermost expression
            self.bangs.discard(end)
            value = self.postfix(value, None, lambda o, s: Unary("!post", o, (s, end + 1)))
        return value

    def identifier(self, node):
        s, e = self.span(node)
        return Ref(self.text[s:e], (s, e))

    def number(self, node):
        s, e = self.span(node)
        try:
            return Num(int(self.text[s:e]), (s, e))
        except ValueError:
            return self.error(node)

    def null(self, node):
        return Null(self.span(node))

    def boolean(self, node):
        s, e = self.span(node)
        return Bool(self.text[s:e] == "true", (s, e))

    def string(self, node):
        s, e = self.span(node)
        text = self.text
        if text.startswith("'''", s):
            if node.has_error or e - s < 6 or not text.startswith("'''", e - 3):
                return self.error(node, "unterminated string")
            value = text[s + 3:e - 3]
            if value.startswith("\r\n"):
                value = value[2:]
            elif value.startswith("\n"):
                value = value[1:]
            return Str(value, (s, e))
        holes = [c for c in node.named_children if c.type == "interpolation"]
        if node.has_error or e - s < 2 or text[e - 1] != "'":
            return self.error(node, "unterminated string")
        if not holes:
            return Str(_unescape(text[s + 1:e - 1]), (s, e))
        parts: list = []
        at = s + 1
        for hole in holes:
            hs, he = self.span(hole)
            if hs > at:
                parts.append(_unescape(text[at:hs]))
            inner = [c for c in hole.named_children if c.type not in _COMMENTS]
            parts.append(self.expr(inner[0]) if len(inner) == 1 else Error((hs, he)))
            at = he
        if e - 1 > at:
            parts.append(_unescape(text[at:e - 1]))
        return Interp(tuple(parts), (s, e))

    def array(self, node):
        items = []
        spreads = self.spreads
        for c in node.named_children:
            t = c.type
            if t in _COMMENTS:
                continue
            if t == "ERROR":
                self.issue("unreadable array item", self.span(c))
                items.extend(self.recover_items(c))
                continue
            item = self.expr(c)
            s = item.span[0]
            # `...x` was blanked: the spread sits 3 characters (and any blanks) before the item
            at = _spread_before(self.text, s, spreads, "[")
            if at is not None:
                item = Unary("...", item, (at, item.span[1]))
            items.append(item)
        return Arr(tuple(items), self.span(node))

    def object(self, node):
        props = []
        decorators: tuple = ()
        skip_to = -1
        for c in node.named_children:
            t = c.type
            if c.start_byte < skip_to:
                continue
            if t == "object_property":
                last = c.named_children[-1] if c.named_child_count else None
                if last is not None and last.type in _TYPE_NODES:
                    # `key: (c) ? 'a' : 'b'` misread as a nullable type and a second entry
                    prop, skip_to = self.reread_prop(c, last, node)
                else:
                    prop = self.prop(c, decorators)
                decorators = ()
                if prop is not None:
                    props.append(prop)
            elif t == "decorators":
                decorators = self.decorators(c)
            elif t in _COMMENTS:
                continue
            elif t == "ERROR":
                self.issue("unreadable object entry", self.span(c))
                props.extend(self.recover_props(c))
            else:  # e.g. a value without key
                self.issue("unreadable object entry", self.span(c))
        return Obj(tuple(props), self.span(node))

    def reread_prop(self, node, value_node, obj) -> tuple:
        """Read an entry's value again, alone, from its start to its line's end."""
        ks, ke = self.span(node.named_children[0])
        vs = self.span(value_node)[0]
        view = self.view
        line_end = view.find("\n", vs)
        obj_end = self.span(obj)[1] - 1  # the closing brace
        end = obj_end if line_end < 0 else min(line_end, obj_end)
        end = vs + len(_strip_trailing(view[vs:end]))
        value = self.reread(vs, end)
        key = self.text[ks:ke]
        if node.named_children[0].type == "string":
            key = _unescape(key[1:-1]) if len(key) >= 2 and key[-1] == "'" else None
        prop = Prop(key, value, False, (ks, value.span[1]), (ks, ke))
        return prop, _byte_at(self.seg, self.data, end - self.seg.base)

    def reread(self, start: int, end: int):
        """An expression from view[start:end] parsed on its own (as `var _ = ...`)."""
        seg, data = self.seg, self.data
        src = "var _ = " + self.view[start:end]
        sub = src.encode("utf-8")
        tree = _parser().parse(sub)
        decl = tree.root_node.named_children[0] if tree.root_node.named_child_count else None
        value = decl.named_children[-1] if decl is not None and decl.named_child_count >= 2 else None
        if value is None or tree.root_node.has_error or value.type not in _EXPRESSION_TYPES:
            self.issue("unreadable expression", (start, end))
            return Error((start, end))
        self.seg, self.data = _Segment(start - 8, src, sub), sub
        try:
            return self.expr(value)
        finally:
            self.seg, self.data = seg, data

    def prop(self, node, decorators: tuple = ()):
        kids = [c for c in node.named_children if c.type not in _COMMENTS]
        if not kids:
            self.issue("unreadable object entry", self.span(node))
            return None
        if kids[0].type == "resource_declaration":
            res = self.resource(kids[0], decorators)
            if res is not None and self.children:
                self.children[-1].append(res)
            return None
        span = self.span(node)
        key_node = kids[0]
        ks, ke = self.span(key_node)
        if len(kids) < 2 or node.has_error and not _has_colon(node):
            self.issue("unreadable object entry", span)
            return None
        value = self.expr(kids[-1]) if len(kids) == 2 else self.error(node, "unreadable object entry")
        kt = key_node.type
        if self.spreads.get(ks) == "{":  # `...expr` read as `_: expr`
            return Prop(None, value, True, span, (ks, ks + 3))
        if kt in ("identifier", "compatible_identifier"):
            key = self.text[ks:ke]
        elif kt == "string":
            sv = self.string(key_node)
            key = sv.value if type(sv) is Str else None
        else:
            key = None
        return Prop(key, value, False, span, (ks, ke))

    def recover_props(self, node) -> list:
        """Object entries the grammar still read inside an ERROR region."""
        out = []
        for c in node.named_children:
            if c.type == "object_property" and not c.has_error:
                prop = self.prop(c)
                if prop is not None:
                    out.append(prop)
        return out

    def recover_items(self, node) -> list:
        return [self.expr(c) for c in node.named_children
                if c.type in _EXPRESSION_TYPES and not c.has_error]

    def member(self, node):
        obj = node.child_by_field_name("object")
        prop = node.child_by_field_name("property")
        if obj is None or prop is None:
            return self.error(node)
        safe = any(c.type == ".?" for c in node.children)
        ps, pe = self.span(prop)
        name = self.text[ps:pe]
        return self.postfix(self.expr(obj), self.seg.off(node.start_byte),
                            lambda o, s: Member(o, name, safe, (s, pe), (ps, pe)))

    def subscript(self, node):
        obj = node.child_by_field_name("object")
        index = node.child_by_field_name("index")
        if obj is None or index is None:
            return self.error(node)
        safe = any(c.type == "?" for c in node.children)
        iv = self.expr(index)
        end = self.span(node)[1]
        return self.postfix(self.expr(obj), self.seg.off(node.start_byte),
                            lambda o, s: Index(o, iv, safe, (s, end)))

    def resource_expression(self, node):
        obj = node.child_by_field_name("object")
        res = node.child_by_field_name("resource")
        if obj is None or res is None:
            return self.error(node)
        rs, re_ = self.span(res)
        name = self.text[rs:re_]
        return self.postfix(self.expr(obj), self.seg.off(node.start_byte),
                            lambda o, s: Nested(o, name, (s, re_), (rs, re_)))

    def call(self, node):
        fn = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        if fn is None:
            return self.error(node)
        args = []
        if args_node is not None:
            for c in args_node.named_children:
                if c.type in _COMMENTS:
                    continue
                args.append(self.error(c) if c.type == "ERROR" else self.expr(c))
        span = self.span(node)
        if fn.type == "identifier":
            fs, fe = self.span(fn)
            return Call(self.text[fs:fe], tuple(args), None, None, span, (fs, fe))
        if fn.type == "member_expression":
            obj = fn.child_by_field_name("object")
            prop = fn.child_by_field_name("property")
            if obj is not None and prop is not None:
                ps, pe = self.span(prop)
                name = self.text[ps:pe]
                if obj.type == "identifier":
                    os_, oe = self.span(obj)
                    ns = self.text[os_:oe]
                    if ns in self.namespaces:
                        return Call(name, tuple(args), ns, None, span, (ps, pe))
                args_t = tuple(args)
                return self.postfix(self.expr(obj), span[0],
                                    lambda o, s: Call(name, args_t, None, o, (s, span[1]), (ps, pe)))
        return self.error(node)

    def ternary(self, node):
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        other = node.child_by_field_name("alternative")
        if cond is None or then is None or other is None:
            return self.error(node)
        value = Ternary(self.expr(cond), self.expr(then), self.expr(other), self.span(node))
        return self.lift_lambda(value, "cond")

    def binary(self, node):
        left = node.child_by_field_name("left")
        op = node.child_by_field_name("operator")
        right = node.child_by_field_name("right")
        if left is None or op is None or right is None:
            return self.error(node)
        lv, rv = self.expr(left), self.expr(right)
        s, e = self.span(node)
        return self.lift_lambda(Binary(op.type, lv, rv, (s, max(e, rv.span[1]))), "left")

    def unary(self, node):
        op = node.child_by_field_name("operator")
        arg = node.child_by_field_name("argument")
        if op is None or arg is None:
            return self.error(node)
        av = self.expr(arg)
        s, e = self.span(node)
        return Unary(op.type, av, (s, max(e, av.span[1])))

    def parenthesized(self, node):
        inner = [c for c in node.named_children if c.type not in _COMMENTS]
        if len(inner) != 1:
            return self.error(node)
        value = self.expr(inner[0])
        self.grouped.add(id(value))
        self.keep.append(value)
        return value

    def postfix(self, obj, start: int | None, make):
        """`make(operand, start)` applied to the rightmost operand of `obj` (see _RIGHT_OPERAND);
        `start` is where the result starts when `obj` is the operand itself (its parentheses)."""
        if id(obj) not in self.grouped:
            t = type(obj)
            field = _RIGHT_OPERAND.get(t)
            if field is None and t is Unary and obj.op in _PREFIX:
                field = "operand"
            if field is not None:
                inner = self.postfix(getattr(obj, field), None, make)
                return obj._replace(**{field: inner, "span": (obj.span[0], inner.span[1])})
        return make(obj, obj.span[0] if start is None else start)

    def lift_lambda(self, value, field: str):
        """`(x => body) op y` as the grammar reads it becomes `x => (body op y)`."""
        left = getattr(value, field)
        if type(left) is not Lambda or id(left) in self.grouped:
            return value
        inner = value._replace(**{field: left.body, "span": (left.body.span[0], value.span[1])})
        return Lambda(left.params, inner, (left.span[0], value.span[1]))

    def lambda_params(self, head) -> tuple | None:
        if head.type == "identifier":
            names = [head]
        elif head.type == "parenthesized_expression":
            names = [c for c in head.named_children if c.type not in _COMMENTS]
        else:
            return None
        params = []
        for c in names:
            if c.type != "identifier":
                return None
            s, e = self.span(c)
            params.append(self.text[s:e])
        return tuple(params)

    def lambda_(self, node):
        kids = [c for c in node.named_children if c.type not in _COMMENTS]
        if len(kids) != 2:
            return self.error(node)
        head, body = kids
        params = self.lambda_params(head)
        if params is None:
            return self.error(node)
        return Lambda(params, self.expr(body), self.span(node))

    def for_(self, node):
        body = node.child_by_field_name("body")
        item = index = None
        iterable = None
        seen_in = False
        for c in node.children:
            t = c.type
            if t == "in":
                seen_in = True
            elif not c.is_named or t in _COMMENTS or c == body:
                continue
            elif not seen_in:
                if t == "identifier" or t == "loop_variable":
                    s, e = self.span(c)
                    item = self.text[s:e]
                elif t == "for_loop_parameters":
                    for p in c.named_children:
                        s, e = self.span(p)
                        if p.type == "loop_variable":
                            item = self.text[s:e]
                        elif p.type == "loop_enumerator":
                            index = self.text[s:e]
            elif iterable is None:
                iterable = c
        if body is None or iterable is None:
            return self.error(node)
        return For(item, index, self.expr(iterable), self.expr(body), self.span(node))

    def if_(self, node):
        kids = [c for c in node.named_children if c.type not in _COMMENTS]
        if len(kids) != 2 or kids[0].type != "parenthesized_expression":
            return self.error(node)
        return If(self.expr(kids[0]), self.expr(kids[1]), self.span(node))

    # ---- declarations -------------------------------------------------------------------------
    def decorators(self, node) -> tuple:
        out = []
        for d in node.named_children:
            if d.type != "decorator":
                continue
            call = next((c for c in d.named_children if c.type == "call_expression"), None)
            value = self.call(call) if call is not None else None
            if type(value) is Call:
                out.append(Decorator(value.name, value.args, self.span(d)))
            else:
                self.issue("unreadable decorator", self.span(d))
        return tuple(out)

    def resource(self, node, decorators: tuple = ()):
        kids = [c for c in node.named_children if c.type not in _COMMENTS]
        if len(kids) < 3 or kids[0].type != "identifier" or kids[1].type != "string":
            self.issue("unreadable declaration", self.span(node))
            return None
        ns, ne = self.span(kids[0])
        type_value = self.string(kids[1])
        if type(type_value) is not Str:
            self.issue("unreadable declaration", self.span(node))
            return None
        existing = any(c.type == "existing" for c in node.children)
        self.children.append([])
        try:
            body = self.expr(kids[-1])
        finally:
            children = self.children.pop()
        return Resource(self.text[ns:ne], type_value.value, existing, body, tuple(children), decorators,
                        self.span(node), (ns, ne), type_value.span)


_EXPR = {
    "identifier": _Builder.identifier,
    "number": _Builder.number,
    "null": _Builder.null,
    "boolean": _Builder.boolean,
    "string": _Builder.string,
    "array": _Builder.array,
    "object": _Builder.object,
    "member_expression": _Builder.member,
    "subscript_expression": _Builder.subscript,
    "resource_expression": _Builder.resource_expression,
    "call_expression": _Builder.call,
    "ternary_expression": _Builder.ternary,
    "binary_expression": _Builder.binary,
    "unary_expression": _Builder.unary,
    "parenthesized_expression": _Builder.parenthesized,
    "lambda_expression": _Builder.lambda_,
    "for_statement": _Builder.for_,
    "if_statement": _Builder.if_,
}


# The grammar lets a postfix operation (`.name`, `[i]`, `.f()`, `::child`) take a whole operator
# expression on its left (`a && b.c` comes out as `(a && b).c`, `x => x.a` as `(x => x).a`), and a
# lambda bind tighter than the operators after it (`x => x.a == 1` as `(x => x.a) == 1`). Bicep
# reads postfix operations first and a lambda body as far right as it goes; the conversion moves
# them back (never across parentheses, which the source wrote).
_RIGHT_OPERAND = {Binary: "right", Ternary: "otherwise", Lambda: "body"}
_PREFIX = frozenset(("!", "-"))


def _has_colon(node) -> bool:
    return any(c.type == ":" for c in node.children)


def _spread_before(text: str, start: int, spreads: dict, bracket: str) -> int | None:
    i = start
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    at = i - 3
    return at if at >= 0 and spreads.get(at) == bracket else None


def _unescape(raw: str) -> str:
    return _ESCAPE.sub(_escape, raw) if "\\" in raw else raw


def _escape(m: re.Match) -> str:
    s = m.group(1)
    if s[0] == "u" and len(s) > 1:
        try:
            return chr(int(s[2:-1], 16))
        except (ValueError, OverflowError):
            return m.group()
    return _ESCAPES.get(s, m.group())


# ---- 2. the same-length view and the statement readers -----------------------------------------

_PARSER = None


def _parser():
    global _PARSER
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_bicep

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
    return _PARSER


def _blank(s: str) -> str:
    """Same length, same line breaks, nothing else."""
    return re.sub(r"[^\r\n]", " ", s)


def _type_region(text: str, pos: int, end: int) -> tuple[int, int, int]:
    """After a declaration's name: (type start, type end, offset just past `=`), -1 for what is
    absent. The type runs to the first `=` outside brackets and strings, or to its line's end."""
    m = _SIMPLE_TYPE.match(text, pos, end)  # `string`, `int?`, `lockType?`, `string[]`, `x.y`
    if m is not None:
        ts, te = m.span(1)
        if ts == te:
            ts = te = -1
        return ts, te, m.end() if m.group(2) else -1
    depth = 0
    stop, eq = end, -1
    comments = []
    for t in _HEADER_TOKENS.finditer(text, pos, end):
        tok = t.group()
        c = tok[0]
        if c == "\n":
            if depth == 0:
                stop = t.start()
                break
        elif tok == "=":
            if depth == 0:
                stop, eq = t.start(), t.end()
                break
        elif c in "{[(":
            depth += 1
        elif c in "}])":
            depth = max(0, depth - 1)
        elif c == "/" and len(tok) > 1:
            comments.append(t.span())
    te = stop
    while True:  # without trailing blanks and comments
        while te > pos and text[te - 1] in " \t\r\n":
            te -= 1
        if comments and comments[-1][1] == te:
            te = comments.pop()[0]
            continue
        break
    ts = pos
    while ts < te and text[ts] in " \t\r\n":
        ts += 1
    if ts >= te:
        return -1, -1, eq
    return ts, te, eq


_SIMPLE_TYPE = re.compile(r"[ \t]*((?:[A-Za-z_][\w.]*(?:\[\])*\??)?)[ \t]*"
                          r"(?:(=)(?![=>~])|(?=(?://[^\n]*)?(?:\r?\n|$)))")


def _strip_trailing(s: str) -> str:
    """`s` without trailing blanks and a trailing // comment (one without quotes)."""
    s = s.rstrip()
    i = s.rfind("//")
    if i >= 0 and "'" not in s[i:]:
        s = s[:i].rstrip()
    return s


class _Reader:
    def __init__(self, text: str, bicepparam: bool):
        self.text = text
        self.bicepparam = bicepparam
        self.issues: list[ParseIssue] = []
        self.root = None  # the tree of the statement being read

    def read(self) -> Program:
        text = self.text
        view = _view(text)
        stmts, sc = statements(view)
        namespaces = BUILTIN_NAMESPACES | frozenset(_IMPORT_ALIAS.findall(view)) if "import" in view else BUILTIN_NAMESPACES
        spreads = dict(sc.spreads)
        bangs = set(sc.bangs)
        edits: list[tuple[int, int, str]] = []
        for at, bracket in sc.spreads:
            edits.append((at, at + 3, "_: " if bracket == "{" else "   "))
        for at in sc.bangs:
            edits.append((at, at + 1, " "))
        builder = _Builder(text, namespaces, spreads, bangs, self.issues)
        self.builder = builder
        if stmts and stmts[0][0] > 0:
            self._junk(view, 0, stmts[0][0])
        elif not stmts:
            self._junk(view, 0, len(view))
        out = []
        header_edits: list = []
        plans = []
        for start, decl, kw, end in stmts:
            plan = self._plan(view, start, decl, kw, end, header_edits)
            plans.append(plan)
        edits.extend(header_edits)
        if edits:
            edits.sort()
            parts, at = [], 0
            for s, e, rep in edits:
                if s < at:
                    continue
                parts.append(view[at:s])
                parts.append(rep)
                at = e
            parts.append(view[at:])
            view = "".join(parts)
        builder.view = view
        for plan in plans:
            if plan is None:
                continue
            self.root = None
            before = len(self.issues)
            try:
                node = plan[0](self, view, *plan[1:])
            except RecursionError:
                self.issues.append(ParseIssue("nesting too deep", (plan[1], plan[4])))
                node = None
            if node is not None:
                out.append(node)
            if self.root is not None and self.root.has_error and len(self.issues) == before:
                # an error the conversion stepped over (e.g. an extra token): still say so
                bad = _first_error(self.root)
                self.issues.append(ParseIssue("unreadable expression", builder.span(bad)))
        issues = sorted(set(self.issues), key=lambda i: i.span)
        return Program(tuple(out), tuple(issues))

    def _junk(self, view: str, start: int, end: int) -> None:
        m = _SKIP_BLANK.match(view, start, end)
        if m.end() < end:
            self.issues.append(ParseIssue("unknown statement", (m.end(), end)))

    # ---- planning: header rewrites --------------------------------------------------------------
    def _plan(self, view: str, start: int, decl: int | None, kw: str, end: int, edits: list):
        if decl is None:
            self.issues.append(ParseIssue("decorator without declaration", (start, _content_end(view, start, end))))
            return None
        if kw in _UNPARSED:
            m = _DECL_NAME.match(view, decl)
            name = m.group(2) if m else None
            if kw == "import":
                a = _IMPORT_ALIAS.match(view, decl)
                name = a.group(1) if a else None
            return (_Reader._other, start, decl, kw, _content_end(view, decl, end), name)
        if kw == "using":
            return (_Reader._using, start, decl, kw, end)
        if kw in ("param", "output", "var"):
            m = _DECL_NAME.match(view, decl)
            if m is None or m.group(2) is None:
                return (_Reader._broken, start, decl, kw, end)
            ns, ne = m.span(2)
            ts, te, eq = _type_region(view, ne, end)
            kw_end = decl + len(kw)
            if eq < 0:
                # no value: only the decorators reach the grammar
                edits.append((decl, te if te > 0 else ne, _blank(view[decl:te if te > 0 else ne])))
            else:
                edits.append((decl, kw_end, "var".ljust(len(kw))))
                if ts >= 0:
                    edits.append((ts, te, _blank(view[ts:te])))
            return (_Reader._declaration, start, decl, kw, end, (ns, ne), (ts, te), eq)
        return (_Reader._native, start, decl, kw, end)

    # ---- reading ------------------------------------------------------------------------------
    def _parse(self, view: str, start: int, end: int):
        seg = view[start:end]
        data = seg.encode("utf-8")
        tree = _parser().parse(data)
        self.builder.seg = _Segment(start, seg, data)
        self.builder.data = data
        self.root = tree.root_node
        return self.root, data

    def _top(self, root, decl_byte: int):
        """(decorators node list, declaration-level nodes) of a statement's tree."""
        decorators, rest = [], []
        for c in root.children:
            t = c.type
            if t in _COMMENTS:
                continue
            if t == "decorators" and c.end_byte <= decl_byte:
                decorators.append(c)
            else:
                rest.append(c)
        return decorators, rest

    def _decorators(self, nodes) -> tuple:
        out: list = []
        for d in nodes:
            out.extend(self.builder.decorators(d))
        return tuple(out)

    def _value(self, root, at: int):
        """The largest expression node of the tree that starts at byte `at`."""
        node = root.descendant_for_byte_range(at, at)
        best = None
        while node is not None and node.start_byte == at:
            if node.type in _EXPRESSION_TYPES:
                best = node
            elif node.type == "ERROR" or node.type == "infrastructure":
                break
            node = node.parent
        return best

    def _decl_errors(self, rest, keep) -> None:
        b = self.builder
        for c in rest:
            if c is not keep and (c.type == "ERROR" or c.has_error):
                b.issue("unreadable declaration", b.span(c))

    def _declaration(self, view, start, decl, kw, end, name_span, type_span, eq):
        """param / output / var (and .bicepparam param): the grammar sees `var NAME = value`."""
        text = self.text
        b = self.builder
        root, data = self._parse(view, start, end)
        decl_byte = _byte_at(b.seg, data, decl - start)
        decorator_nodes, rest = self._top(root, decl_byte)
        decorators = self._decorators(decorator_nodes)
        ns, ne = name_span
        name = text[ns:ne]
        ts, te = type_span
        type_text = text[ts:te] if ts >= 0 else ""
        value = None
        stmt_end = te if ts >= 0 else ne
        if eq >= 0:
            vm = _SKIP_BLANK.match(view, eq, end)
            vstart = vm.end()
            node = None
            if vstart < end:
                node = self._value(root, _byte_at(b.seg, data, vstart - start))
            if node is None:
                vend = _content_end(view, vstart, end)
                value = Error((vstart, max(vend, vstart)))
                b.issue("unreadable expression", value.span)
                self._decl_errors(rest, None)
            else:
                value = b.expr(node)
                holder = _statement_node(node)
                self._decl_errors(rest, holder)
            stmt_end = max(value.span[1], eq)
        else:
            self._decl_errors(rest, None)
        span = (decl, stmt_end)
        if kw == "param":
            if self.bicepparam:
                if value is None:
                    value = Error((ne, ne))
                    b.issue("parameter without value", (decl, ne))
                return ParamValue(name, value, span, name_span)
            nullable = type_text.endswith("?")
            return Param(name, type_text, value, nullable, decorators, span, name_span)
        if kw == "output":
            if value is None:
                value = Error((ne, ne))
                b.issue("output without value", (decl, ne))
            return Output(name, type_text, value, decorators, span, name_span)
        if value is None:
            value = Error((ne, ne))
            b.issue("variable without value", (decl, ne))
        return Var(name, value, decorators, span, name_span)

    def _native(self, view, start, decl, kw, end):
        """resource / module / targetScope: read by the grammar as written."""
        b = self.builder
        root, data = self._parse(view, start, end)
        decl_byte = _byte_at(b.seg, data, decl - start)
        decorator_nodes, rest = self._top(root, decl_byte)
        decorators = self._decorators(decorator_nodes)
        want = {"resource": "resource_declaration", "module": "module_declaration",
                "targetScope": "target_scope_assignment"}[kw]
        node = next((c for c in rest if c.type == want and c.start_byte == decl_byte), None)
        if node is not None and kw == "resource":
            res = b.resource(node, decorators)
            if res is not None:
                self._decl_errors(rest, node)
                return res
        if node is not None and kw == "module":
            mod = self._module(node, decorators)
            if mod is not None:
                self._decl_errors(rest, node)
                return mod
        if node is not None and kw == "targetScope":
            kids = [c for c in node.named_children if c.type not in _COMMENTS]
            if kids:
                self._decl_errors(rest, node)
                return TargetScope(b.expr(kids[-1]), b.span(node))
        return self._fallback(view, root, data, rest, start, decl, kw, end, decorators)

    def _module(self, node, decorators):
        b = self.builder
        kids = [c for c in node.named_children if c.type not in _COMMENTS]
        if len(kids) < 3 or kids[0].type != "identifier" or kids[1].type != "string":
            return None
        ns, ne = b.span(kids[0])
        path = b.string(kids[1])
        if type(path) is not Str:
            return None
        return Module(self.text[ns:ne], path.value, b.expr(kids[-1]), decorators, b.span(node), (ns, ne), path.span)

    def _fallback(self, view, root, data, rest, start, decl, kw, end, decorators):
        """The grammar could not read the declaration: header from the source, value from the
        largest clean expression that starts after `=`."""
        b = self.builder
        text = self.text
        if kw == "targetScope":
            eq = view.find("=", decl, end)
        else:
            m = _RESOURCE_HEAD.match(view, decl, end)
            if m is None:
                return self._broken(view, start, decl, kw, end)
            hm = _SKIP_BLANK.match(view, m.end(), end)
            eq = hm.end() + 1 if hm.end() < end and view[hm.end()] == "=" else -1
        if eq < 0:
            return self._broken(view, start, decl, kw, end)
        vstart = _SKIP_BLANK.match(view, eq, end).end()
        node = self._value(root, _byte_at(b.seg, data, vstart - start)) if vstart < end else None
        self._decl_errors(rest, None)
        children: list = []
        if node is None:
            value = Error((vstart, max(vstart, _content_end(view, vstart, end))))
            b.issue("unreadable expression", value.span)
        elif kw == "resource":
            b.children.append([])
            try:
                value = b.expr(node)
            finally:
                children = b.children.pop()
        else:
            value = b.expr(node)
        span = (decl, max(value.span[1], eq))
        if kw == "targetScope":
            return TargetScope(value, span)
        ns, ne = m.span(2)
        ts, te = m.span(3)
        literal = _unescape(text[ts + 1:te - 1]) if te - ts >= 2 and text[te - 1] == "'" else None
        if literal is None:
            return self._broken(view, start, decl, kw, end)
        if kw == "resource":
            return Resource(text[ns:ne], literal, bool(m.group(4)), value, tuple(children), decorators,
                            span, (ns, ne), (ts, te))
        return Module(text[ns:ne], literal, value, decorators, span, (ns, ne), (ts, te))

    def _broken(self, view, start, decl, kw, end):
        self.issues.append(ParseIssue("unreadable declaration", (decl, _content_end(view, decl, end))))
        return None

    def _using(self, view, start, decl, kw, end):
        m = _USING.match(view, decl, end)
        if m is None:
            return self._broken(view, start, decl, kw, end)
        if m.group(2):
            return Using("none", (decl, m.end()))
        s, e = m.span(1)
        if e - s < 2 or view[e - 1] != "'":
            return self._broken(view, start, decl, kw, end)
        return Using(_unescape(self.text[s + 1:e - 1]), (decl, _content_end(view, decl, end)))

    def _other(self, view, start, decl, kw, end, name):
        return Other(kw, name, (decl, end))


def _first_error(root):
    stack = [root]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return root


def _statement_node(node):
    p = node.parent
    return p if p is not None and p.type == "variable_declaration" else node


def _byte_at(seg: _Segment, data: bytes, char_index: int) -> int:
    """Byte offset, in the statement's bytes, of a character index of the statement."""
    if seg.byte_ends is None:
        return char_index
    k = bisect.bisect_right(seg.char_ends, char_index) - 1
    return char_index if k < 0 else char_index + seg.extras[k]


def _content_end(view: str, start: int, end: int) -> int:
    """End of the last token before `end` (trailing blanks and comment lines excluded)."""
    s = view[start:end]
    lines = s.split("\n")
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(("//", "#disable"))):
        lines.pop()
    if not lines:
        return start
    return start + len("\n".join(lines).rstrip())


def inside_text_block(text: str, offset: int) -> bool:
    """True when `offset` lies inside (not at the start of) a multi-line string or block comment."""
    _, sc = statements(_view(text))
    return any(s < offset < e for s, e in sc.blocks)


def parse_bicep(text: str, bicepparam: bool = False) -> Program:
    """Read Bicep source into a Program (never raises for bad input)."""
    return _Reader(text, bicepparam).read()


def bicep_subkind(name: str) -> str:
    return "bicepparam" if name.lower().endswith(".bicepparam") else ""


class BicepDocument(Document):
    kind = "bicep"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._program: Program | None = None
        self.subkind = bicep_subkind(self.name)  # known from the name alone

    def _parse(self) -> None:
        if len(self.text) > MAX_PARSE_CHARS:
            raise ParseError(f"Bicep file too large to read ({len(self.text) // 1_000_000} MB); "
                             "only secrets are scanned")
        try:
            program = parse_bicep(self.text, self.subkind == "bicepparam")
        except ImportError:
            raise ParseError("Bicep reader unavailable (tree-sitter-bicep is not installed)") from None
        self._program = program
        if program.errors:
            first = program.errors[0]
            line = self.lines.position(first.span[0]).line
            more = f" and {len(program.errors) - 1} more" if len(program.errors) > 1 else ""
            self.parse_error = ParseError(f"Bicep: {first.kind} at line {line}{more}; the rest was read", line)

    def ensure_parsed(self) -> bool:
        super().ensure_parsed()
        return self._program is not None

    @property
    def program(self) -> Program:
        """The syntax tree (empty when the file could not be read at all)."""
        self.ensure_parsed()
        return self._program if self._program is not None else Program((), ())


register_kind("bicep", BicepDocument)
