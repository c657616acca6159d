"""Bicep documents (`.bicep`, and `.bicepparam` with subkind "bicepparam").

`doc.program` is the syntax tree of `keyless.linter.documents.bicep_ast` (see there for the nodes),
with character offsets into `doc.text`. No Bicep CLI, .NET or network: the file is read with the
tree-sitter-bicep grammar, in three steps.

1. A scanner that knows brackets, strings, interpolation and comments cuts the file into top-level
   statements (a run of decorators belongs to the declaration after it). Every statement is parsed
   on its own, so an error in one declaration never disturbs another, and tree-sitter's error
   recovery (slow on long broken files) stays local. When brackets do not balance, a keyword at
   column 0 starts a statement anyway.
2. The grammar reads a view of the text with the same length: non-ASCII characters become `~`
   (so the grammar's byte offsets are character offsets; values always come from the real
   text), a BOM a blank, lone CRs line feeds, and what the grammar does not know is rewritten in
   place: the header of `param`/`output`/`var` (and `.bicepparam` `param`) becomes
   `var NAME ... =` with the type blanked (`type_text` is read from the source, so
   `resourceInput<'T@v'>.properties`, `userType?` and typed `var` never reach the grammar); `...`
   in an object becomes `_: `, in an array blanks; a postfix non-null `!` and the `^` of `x[^1]`
   blanks; `//` and `/*` inside strings lose their second character (the grammar would start a
   comment there); a line starting with `(` in an array gets a comma in its indentation (the
   grammar would call the item above); the `$`s of an interpolated multi-line string are blanked
   (its holes are read alone) and an empty multi-line string becomes a one-line one. `type`,
   `func`, `import`, `metadata`, `extension`, `assert` and `test` statements are not parsed
   (`Other`).
3. The tree is converted into bicep_ast nodes. The conversion puts back what the grammar gets
   wrong: postfix operations bind tighter than operators (`a && b.c` is not `(a && b).c`), a lambda
   body reaches as far right as it can, `key: (c) ? 'a' : 'b'` in an object (read as a nullable
   type plus an entry) and an array item split in two are read again alone. An ERROR region
   becomes an `Error` node (or, between object entries, only a `ParseIssue`); entries the grammar
   still read inside it are kept. A param/output/var/targetScope whose value is a literal or a
   plain reference and whose decorators take at most one literal is read with regular expressions
   (`FAST_PATH`; the benchmark checks it gives the grammar's tree on every file).

A file that does not parse completely still yields every declaration that does: `program` holds
what was read whatever `ensure_parsed()` says, which is True only when the whole file was read;
otherwise `parse_error` names the first unreadable region (a position and a fixed phrase from
`PARSE_PROBLEMS`, never source text), which the scan reports as a one-line warning.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from typing import Any

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.json import gc_paused
from keyless.linter.documents.tree_sitter_budget import bounded_parse
from keyless.linter.documents.bicep_ast import (
    Arr, Binary, Bool, Call, Decorator, Error, For, If, Index, Interp, Lambda, Member, Module, Nested,
    Null, Num, Obj, Other, Output, Param, ParamValue, ParseIssue, Program, Prop, Ref, Resource, Str,
    TargetScope, Ternary, Unary, Using, Var,
)
from keyless.linter.lazyre import lazy_compile

# Past this size a file is only secret-scanned (the largest Azure Verified Module is 0.12 MB).
MAX_PARSE_CHARS = 4_000_000

# `_new(Str, (value, span))` is `Str(value, span)` without the Python-level `__new__` of a
# NamedTuple (a tenth of the reader's time went there).
_new = tuple.__new__

# Namespaces a call may be qualified with besides `import * as ns` aliases.
BUILTIN_NAMESPACES = frozenset({"az", "sys"})

_PARSED = ("targetScope", "param", "var", "resource", "module", "output", "using")
_UNPARSED = ("type", "func", "import", "metadata", "extends", "extensionConfig", "extension", "provider", "assert",
             "test")
_KEYWORDS = _PARSED + _UNPARSED

# ---- 1. statements ------------------------------------------------------------------------------

# A line whose first word is a keyword (not a property such as `type:`) or a decorator.
_LINE_START = re.compile(r"[ \t]*(@|(?:" + "|".join(_KEYWORDS) + r")\b(?![ \t]*:))")
# Scanner tokens: multi-line string, string without `${`, other string start, brackets, comment
# openers, spread, `!` (postfix when it follows a name or a bracket); at bracket depth 0 also line
# breaks (statements start there). Every alternative starts with a fixed character, so the regex
# engine skips the text between tokens quickly (a lookbehind first would cost 70% more).
_TOKENS = r"'''|'[^'\\\n$]*(?:(?:\\.|\$(?!\{))[^'\\\n$]*)*'|'|[{}\[\]()]|//|/\*|\.\.\.|!(?!=)"
# A line that starts with `(` inside an array is a new item, which the grammar would take for the
# arguments of a call on the item above: a comma goes into its indentation.
_PAREN_LINE = r"\n[ \t]*(?=\(|\.\.\.\()"
_CODE_TOP = re.compile(_PAREN_LINE + "|" + _TOKENS + r"|\n")
_CODE_NESTED = re.compile(_PAREN_LINE + "|" + _TOKENS)
# The scanner's step: code that holds no token the scan acts on is skipped in one anchored match
# before the next token (group 1; empty at the end of the text): names, operators, `!=`, prefix
# `!`, line comments, strings without `${`, `//` or `/*`, line breaks that start no `(` item, and
# brackets that close again within two levels with only such code inside (their depth changes
# nothing). Possessive repeats: no backtracking, so each match is linear. The token alternatives
# cover every character the skip stops at (else the search above takes over).
_SKIP_PLAIN = r"[^\n'(){}\[\]/!.]++"
_SKIP_SOFT = (r"\.(?!\.\.)|/(?![/*])|//[^\n]*+|!(?==)|(?<![A-Za-z0-9_)\]])!"
              r"|'(?!'')[^'\\\n$/]*+(?:(?:\\.|\$(?!\{)|/(?![/*]))[^'\\\n$/]*+)*+'")
_SKIP_BREAK = r"\n(?![ \t]*+(?:\(|\.\.\.\())"
_TOP_BREAK = r"\n(?![ \t]*+(?:@|(?:" + "|".join(_KEYWORDS) + r")\b(?![ \t]*:)))"  # no statement starts


def _bracketed(inside: str, levels: int) -> str:
    """Alternatives for brackets that close again within `levels` levels, `inside` between them."""
    groups = ""
    for _ in range(levels):
        body = "(?:" + inside + groups + ")*+"
        groups = r"|\(" + body + r"\)|\[" + body + r"\]|\{" + body + r"\}"
    return groups


_SKIP_FLAT = _SKIP_PLAIN + "|" + _SKIP_SOFT
_SKIP_GROUPS = _bracketed(_SKIP_FLAT + "|" + _SKIP_BREAK, 2)
_SKIP_TOP = _SKIP_FLAT + "|" + _TOP_BREAK + _SKIP_GROUPS
_SKIP_NESTED = _SKIP_FLAT + "|" + _SKIP_BREAK + _SKIP_GROUPS
_STEP_TOP = re.compile("(?:" + _SKIP_TOP + ")*+(" + _PAREN_LINE + "|" + _TOKENS + r"|\n|\Z)")
_STEP_NESTED = re.compile("(?:" + _SKIP_NESTED + ")*+(" + _PAREN_LINE + "|" + _TOKENS + r"|\Z)")
# While recovering, line breaks inside brackets count (a keyword at column 0 starts a statement).
_STEP_RECOVER = lazy_compile("(?:" + _SKIP_FLAT + ")*+(" + _PAREN_LINE + "|" + _TOKENS + r"|\n|\Z)")
_IN_STRING = re.compile(r"[\\'\n]|\$\{|/[/*]")
_CLOSER = {"}": "{", "]": "[", ")": "("}
_BANG_AFTER = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_)]")


class _Scan:
    """Top-level statement starts, plus the spread `...` and postfix `!` offsets to hide."""

    __slots__ = ("starts", "spreads", "bangs", "blocks", "slashes", "commas", "empties", "dollars", "clean")

    def __init__(self):
        self.starts: list[tuple[int, str]] = []  # (offset of the keyword or '@', keyword)
        self.spreads: list[tuple[int, str]] = []  # (offset, enclosing bracket)
        self.bangs: list[int] = []
        self.blocks: list[tuple[int, int]] = []  # multi-line strings and block comments
        self.slashes: list[int] = []  # `//` and `/*` inside strings (the grammar reads comments there)
        self.commas: list[int] = []  # blanks that become item separators
        self.empties: list[int] = []  # '''''' strings
        self.dollars: list[tuple[int, int]] = []  # the `$`s before an interpolated multi-line string
        self.clean = True  # brackets balanced, strings and comments terminated


def scan(text: str, recover: bool = False) -> _Scan:
    """One pass over the text. With `recover`, a keyword at column 0 starts a statement even
    inside unbalanced brackets, and an unterminated comment or string ends at its line's end."""
    out = _Scan()
    starts, spreads, bangs, blocks, slashes = out.starts, out.spreads, out.bangs, out.blocks, out.slashes
    n = len(text)
    stack: list[str] = []
    line_start = _LINE_START.match
    m = line_start(text, 0)
    if m:
        starts.append((m.start(1), m.group(1)))
    top, nested = _CODE_TOP.search, (_CODE_TOP if recover else _CODE_NESTED).search
    step_top = (_STEP_RECOVER if recover else _STEP_TOP).match
    step_nested = (_STEP_RECOVER if recover else _STEP_NESTED).match
    in_string = _IN_STRING.search
    pos = 0
    string = False
    while True:
        if string:
            m = in_string(text, pos)
            if m is None:
                out.clean = False
                break
            i = m.start()
            c = text[i]
            if c == "\\":
                pos = i + 2
                continue
            if c == "/":
                slashes.append(i)
                pos = i + 2
                continue
            string = False
            if c == "'":
                pos = i + 1
            elif c == "\n":  # a single-quoted string cannot span lines
                out.clean = False
                pos = i
            else:  # ${
                stack.append("$")
                pos = i + 2
            continue
        m = step_nested(text, pos) if stack else step_top(text, pos)
        if m is not None:
            i = m.start(1)
            if i == n:
                break
        else:  # a character the step's tokens do not cover
            m = nested(text, pos) if stack else top(text, pos)
            if m is None:
                break
            i = m.start()
        pos = m.end()
        c = text[i]
        if c == "\n":
            after = text[pos:pos + 1]
            if pos - i > 1 or after == "(" or after == "." and text.startswith("...(", pos):
                if stack and stack[-1] == "[" and _code_before(text, i) not in "[,":
                    out.commas.append(pos - 1)
                if pos - i > 1 or stack:
                    continue
            if not stack:
                k = line_start(text, pos)
                if k:
                    starts.append((k.start(1), k.group(1)))
            elif pos < n and text[pos] not in " \t\r\n":  # recover: column 0 inside brackets
                k = line_start(text, pos)
                if k and k.group(1) != "@":
                    stack.clear()
                    starts.append((k.start(1), k.group(1)))
        elif c == "'":
            if pos - i == 3 and text.startswith("'''", i):
                j = text.find("'''", pos)
                if j < 0:
                    out.clean = False
                    j = _line_end(text, i) - 3 if recover else n
                pos = j + 3
                blocks.append((i, pos))
                if text.find("/", i, pos) >= 0:
                    _comment_openers(text, i, pos, slashes)
                if pos - i == 6:  # '''''' (empty) is beyond the grammar
                    out.empties.append(i)
                if i and text[i - 1] == "$":  # $'''...${x}...''' (as many $ as a hole needs)
                    d = i - 1
                    while d and text[d - 1] == "$":
                        d -= 1
                    out.dollars.append((d, i))
            elif pos - i == 1:
                string = True
            elif text.find("/", i, pos) >= 0:
                _comment_openers(text, i, pos, slashes)
        elif c in "{[(":
            stack.append(c)
        elif c in "}])":
            if stack:
                want = _CLOSER[c]
                top_ = stack[-1]
                if top_ == "$" and c == "}":
                    stack.pop()
                    string = True
                elif top_ == want:
                    stack.pop()
                else:
                    out.clean = False
                    if want in stack:
                        while stack.pop() != want:
                            pass
            else:
                out.clean = False
        elif c == "/":
            if text[i + 1] == "/":
                j = text.find("\n", i)
                pos = n if j < 0 else j
            else:
                j = text.find("*/", pos)
                if j < 0:
                    out.clean = False
                    pos = _line_end(text, i) if recover else n
                else:
                    pos = j + 2
                blocks.append((i, pos))
        elif c == ".":
            spreads.append((i, stack[-1] if stack else ""))
        elif i and text[i - 1] in _BANG_AFTER:  # postfix !
            bangs.append(i)
    if stack:
        out.clean = False
    return out


def _code_before(text: str, i: int) -> str:
    """The last code character before the line break at `i`, over blank and comment lines and a
    trailing `//` comment ("" at the start of the text)."""
    while i > 0:
        start = text.rfind("\n", 0, i) + 1
        line = text[start:i]
        cut = line.find("//")
        while cut >= 0 and line.count("'", 0, cut) % 2:  # inside a string
            cut = line.find("//", cut + 2)
        code = (line if cut < 0 else line[:cut]).rstrip()
        if code:
            return code[-1]
        i = start - 1
    return ""


def _comment_openers(text: str, start: int, end: int, out: list) -> None:
    for m in _COMMENT_OPENER.finditer(text, start, end):
        out.append(m.start())


_COMMENT_OPENER = re.compile(r"/[/*]")


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def statements(view: str) -> tuple[list[tuple[int, int | None, str, int]], _Scan]:
    """[(start, declaration keyword offset or None, keyword, end)] and the scan used."""
    sc = scan(view)
    if not sc.clean:
        sc = scan(view, recover=True)
    out: list[list] = []
    pending: int | None = None  # first decorator of a run
    for off, kw in sc.starts:
        if kw == "@":
            if pending is None:
                pending = off
            continue
        out.append([off if pending is None else pending, off, kw, 0])
        pending = None
    if pending is not None:
        out.append([pending, None, "@", 0])
    for i in range(len(out) - 1):
        out[i][3] = out[i + 1][0]
    if out:
        out[-1][3] = len(view)
    return [tuple(s) for s in out], sc


_UNICODE_SPACE = lazy_compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_NON_ASCII = lazy_compile(r"[^\x00-\x7f]")


def _view(text: str) -> str:
    """Same length and line breaks, pure ASCII (see the module docstring)."""
    view = text
    if view.startswith("\ufeff"):
        view = " " + view[1:]
    if not view.isascii():
        view = _NON_ASCII.sub("~", _UNICODE_SPACE.sub(" ", view))
    if "\r" in view:
        view = re.sub(r"\r(?!\n)", "\n", view)
    if "^" in view:  # x[^1] (from the end) is beyond the grammar
        view = _FROM_END.sub(r"\1 ", view)
    return view


_FROM_END = lazy_compile(r"(\[\??)\^")


# ---- 3. tree -> nodes ---------------------------------------------------------------------------

_EXPRESSION_KINDS = (
    "identifier", "number", "null", "boolean", "string", "array", "object", "member_expression",
    "subscript_expression", "call_expression", "resource_expression", "ternary_expression",
    "binary_expression", "unary_expression", "parenthesized_expression", "lambda_expression",
    "for_statement", "if_statement",
)
_TYPE_KINDS = (
    "type", "primitive_type", "array_type", "nullable_type", "negated_type", "union_type",
    "parenthesized_type", "parameterized_type", "nullable_return_type",
)
ERROR_ID = 65535  # tree-sitter's ERROR node


class _Kinds:
    """Node kind ids of the grammar (comparing ints is much cheaper than node.type strings)."""

    def __init__(self, language):
        named: dict[str, set] = defaultdict(set)
        token: dict[str, set] = defaultdict(set)
        self.names: dict[int, str] = {}
        for i in range(language.node_kind_count):
            name = language.node_kind_for_id(i)
            (named if language.node_kind_is_named(i) else token)[name].add(i)
            self.names[i] = name

        def one(table, name):
            (i,) = table[name]
            return i

        self.comment = frozenset(named["comment"] | named["diagnostic_comment"])
        # named kinds but comments: `node.children` filtered by it is `node.named_children` without
        # comments (`children` is cached on the node, `named_children` built anew on each access)
        self.code = frozenset(i for ids in named.values() for i in ids) - self.comment | {ERROR_ID}
        self.expression = frozenset(i for k in _EXPRESSION_KINDS for i in named[k])
        self.types = frozenset(i for k in _TYPE_KINDS for i in named[k])
        self.object_property = one(named, "object_property")
        self.decorators = one(named, "decorators")
        self.decorator = one(named, "decorator")
        self.call = one(named, "call_expression")
        self.member = one(named, "member_expression")
        self.identifier = one(named, "identifier")
        self.string = one(named, "string")
        self.interpolation = one(named, "interpolation")
        self.resource = one(named, "resource_declaration")
        self.module = one(named, "module_declaration")
        self.target_scope = one(named, "target_scope_assignment")
        self.variable = one(named, "variable_declaration")
        self.paren = one(named, "parenthesized_expression")
        self.for_params = one(named, "for_loop_parameters")
        self.loop_variable = one(named, "loop_variable")
        self.loop_enumerator = one(named, "loop_enumerator")
        self.colon = one(token, ":")
        self.safe_dot = one(token, ".?")
        self.question = one(token, "?")
        self.existing = one(token, "existing")
        self.keyword_in = one(token, "in")
        self.dispatch = {}
        for kind, method in _DISPATCH.items():
            for i in named[kind]:
                self.dispatch[i] = method


_PARSER = None
_KINDS: _Kinds = None  # type: ignore[assignment]


def _parser():
    global _PARSER, _KINDS
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_bicep

        language = tree_sitter.Language(tree_sitter_bicep.language())
        _KINDS = _Kinds(language)
        _PARSER = tree_sitter.Parser(language)
    return _PARSER


# The grammar lets a postfix operation (`.name`, `[i]`, `.f()`, `::child`, `!`) take a whole
# operator expression on its left (`a && b.c` comes out as `(a && b).c`, `x => x.a` as
# `(x => x).a`), and a lambda bind tighter than the operators after it (`x => x.a == 1` as
# `(x => x.a) == 1`). Bicep reads postfix operations first and a lambda body as far right as it
# goes; the conversion moves them back, never across parentheses the source wrote.
_RIGHT_OPERAND = {Binary: "right", Ternary: "otherwise", Lambda: "body"}
_PREFIX = frozenset(("!", "-"))
_PLAIN_OPERAND = frozenset((Ref, Member, Call, Index, Nested, Str, Interp, Num, Bool, Null, Obj, Arr, Error))

_ESCAPE = lazy_compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|.)", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    value = _ESCAPE.sub(_escape, raw)
    if _SURROGATE.search(value):  # '\u{D801}\u{DC37}': one character, as Bicep reads it
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return value


_SURROGATE = lazy_compile("[\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    s = m.group(1)
    if s[0] == "u" and len(s) > 1:
        try:
            return chr(int(s[2:-1], 16))
        except (ValueError, OverflowError):
            return m.group()
    return _ESCAPES.get(s, m.group())


class _Builder:
    """Converts one statement's tree; `base` is the statement's offset in the text."""

    def __init__(self, text: str, view: str, namespaces: frozenset, spreads: dict, bangs: set, issues: list):
        self.text = text
        self.view = view
        self.namespaces = namespaces
        self.spreads = spreads  # offset -> '{' or '['
        self.bangs = bangs
        self.issues = issues
        self.k = _KINDS
        self.dispatch = _KINDS.dispatch
        self.base = 0
        self.dirty = False  # the statement's tree has errors
        self.children: list[list] = []  # nested resources of the resources being read
        self.grouped: set[int] = set()  # ids of values written in parentheses
        self.keep: list = []  # ... kept alive so their ids stay theirs
        self.reread_spans: list = []  # regions read again alone (their errors are handled there)
        self.dollars: dict[int, int] = {}  # start of a $'''...''' string -> its number of $

    # ---- helpers ------------------------------------------------------------------------------
    def span(self, node) -> tuple[int, int]:
        b = self.base
        return b + node.start_byte, b + node.end_byte

    def issue(self, kind: str, span: tuple[int, int]) -> None:
        self.issues.append(ParseIssue(kind, span))

    def error(self, node, kind: str = "unreadable expression") -> Error:
        sp = self.span(node)
        self.issue(kind, sp)
        return Error(sp)

    def kids(self, node) -> list:
        """Children without comments (the grammar allows them anywhere)."""
        comment = self.k.comment
        return [c for c in node.children if c.kind_id not in comment]

    def named(self, node) -> list:
        code = self.k.code
        return [c for c in node.children if c.kind_id in code]

    # ---- expressions --------------------------------------------------------------------------
    def expr(self, node):
        method = self.dispatch.get(node.kind_id)
        if method is None:
            return self.error(node, "missing token" if node.is_missing else "unreadable expression")
        if self.dirty and node.is_missing:
            return self.error(node, "missing token")
        value = method(self, node)
        if self.bangs:
            end = value.span[1]
            if end in self.bangs and type(value) not in (For, If, Lambda):
                # `expr!`: the `!` (blanked for the grammar) sits right after the expression
                self.bangs.discard(end)
                value = self.postfix(value, None, lambda o, s: Unary("!post", o, (s, end + 1)))
        return value

    def identifier(self, node):
        b = self.base
        s, e = b + node.start_byte, b + node.end_byte
        return _new(Ref, (self.text[s:e], (s, e)))

    def number(self, node):
        b = self.base
        s, e = b + node.start_byte, b + node.end_byte
        try:
            return _new(Num, (int(self.text[s:e]), (s, e)))
        except ValueError:
            return self.error(node)

    def null(self, node):
        return _new(Null, (self.span(node),))

    def boolean(self, node):
        b = self.base
        s, e = b + node.start_byte, b + node.end_byte
        return _new(Bool, (self.text[s:e] == "true", (s, e)))

    def string(self, node):
        b = self.base
        s, e = b + node.start_byte, b + node.end_byte
        raw = self.text[s:e]
        if raw.startswith("'''"):
            if e - s < 6 or not raw.endswith("'''") or self.dirty and node.has_error:
                return self.error(node, "unterminated string")
            at = s + 3
            if raw.startswith("\r\n", 3):
                at += 2
            elif raw.startswith("\n", 3):
                at += 1
            dollars = self.dollars.get(s)
            if dollars:
                return self.multiline_holes(s - dollars, at, e - 3, e, "$" * dollars + "{")
            return _new(Str, (self.text[at:e - 3], (s, e)))
        if e - s < 2 or raw[-1] != "'" or self.dirty and node.has_error:
            return self.error(node, "unterminated string")
        if "${" not in raw:
            return _new(Str, (_unescape(raw[1:-1]) if "\\" in raw else raw[1:-1], (s, e)))
        parts: list = []
        at = s + 1
        text = self.text
        hole = self.k.interpolation
        for c in node.children:
            if c.kind_id != hole:
                continue
            hs, he = b + c.start_byte, b + c.end_byte
            if hs > at:
                parts.append(_unescape(text[at:hs]))
            inner = self.named(c)
            parts.append(self.expr(inner[0]) if len(inner) == 1 else Error((hs, he)))
            at = he
        if e - 1 > at:
            parts.append(_unescape(text[at:e - 1]))
        return _new(Interp, (tuple(parts), (s, e)))

    def multiline_holes(self, s: int, at: int, end: int, e: int, opener: str):
        """`$'''...${x}...'''`: literal text (no escapes) and expressions in holes."""
        text = self.text
        parts: list = []
        while True:
            h = text.find(opener, at, end)
            if h < 0:
                break
            close = _hole_end(text, h + len(opener), end)
            if close < 0:
                self.issue("unterminated string", (s, e))
                return Error((s, e))
            if h > at:
                parts.append(text[at:h])
            parts.append(self.reread(h + len(opener), close))
            at = close + 1
        if end > at:
            parts.append(text[at:end])
        if all(type(p) is str for p in parts):
            return Str("".join(parts), (s, e))
        return Interp(tuple(parts), (s, e))

    def array(self, node):
        items = []
        k = self.k
        spreads = self.spreads
        code = k.code
        kids = [c for c in node.children if c.kind_id in code]
        i, n = 0, len(kids)
        while i < n:
            c = kids[i]
            j = i
            while j + 1 < n and kids[j + 1].start_byte == kids[j].end_byte:
                j += 1
            if j > i:
                # items are separated by a line break or a comma, so these pieces are one item
                # the grammar split (`f(1)` read as `f` and `(1)` in a multi-line array)
                item = self.reread(self.base + c.start_byte, self.base + kids[j].end_byte)
                i = j + 1
            elif c.kind_id == ERROR_ID:
                self.issue("unreadable array item", self.span(c))
                items.extend(self.expr(x) for x in c.named_children if x.kind_id in k.expression and not x.has_error)
                i += 1
                continue
            else:
                item = self.expr(c)
                i += 1
            if spreads:
                at = _spread_before(self.text, self.base + c.start_byte, spreads, "[")
                if at is not None:  # `...x` was blanked
                    item = Unary("...", item, (at, max(item.span[1], self.base + c.end_byte)))
            items.append(item)
        return _new(Arr, (tuple(items), self.span(node)))

    def object(self, node):
        k = self.k
        props = []
        decorators: tuple = ()
        skip_to = -1
        code = k.code
        for c in node.children:
            kid = c.kind_id
            if kid not in code:  # punctuation and comments
                continue
            if kid == k.object_property:
                if c.start_byte < skip_to:
                    continue
                prop, skip_to = self.prop(c, decorators, node)
                decorators = ()
                if prop is not None:
                    props.append(prop)
                if self.dirty and c.has_error and (prop is None or type(prop.value) is Error):
                    # a broken entry's error region may have swallowed the entries below it
                    line_end = self.view.find("\n", self.base + c.start_byte, self.base + c.end_byte)
                    if line_end >= 0:
                        props.extend(self.entry_lines(line_end + 1, self.base + c.end_byte, set()))
            elif kid == k.decorators:
                decorators = self.decorators(c)
            elif kid == ERROR_ID:
                self.issue("unreadable object entry", self.span(c))
                found = []
                for x in c.named_children:  # entries the grammar still read inside the error
                    if x.kind_id == k.object_property and not x.has_error:
                        prop, _ = self.prop(x, (), node)
                        if prop is not None:
                            found.append(prop)
                props.extend(found)
                props.extend(self.entry_lines(self.base + c.start_byte, self.base + c.end_byte,
                                              {p.key_span[0] for p in found}))
            elif c.start_byte >= skip_to:  # e.g. a value without key
                self.issue("unreadable object entry", self.span(c))
        return _new(Obj, (tuple(props), self.span(node)))

    def prop(self, node, decorators: tuple, obj) -> tuple:
        """(Prop or None, byte offset to skip entries up to)."""
        k = self.k
        ch = node.children
        if len(ch) == 3 and ch[1].kind_id == k.colon:
            key, value = ch[0], ch[2]
        else:
            ch = self.kids(node)
            if len(ch) == 1 and ch[0].kind_id == k.resource:
                res = self.resource(ch[0], decorators)
                if res is not None and self.children:
                    self.children[-1].append(res)
                return None, -1
            if len(ch) != 3 or ch[1].kind_id != k.colon:
                self.issue("unreadable object entry", self.span(node))
                return None, -1
            key, value = ch[0], ch[2]
        b = self.base
        ks, ke = b + key.start_byte, b + key.end_byte
        skip_to = -1
        if value.kind_id in k.types:
            # `key: (c) ? 'a' : 'b'` misread as a nullable type and a second entry: read the
            # value again, alone, up to its line's end
            vs = b + value.start_byte
            line_end = self.view.find("\n", vs)
            obj_end = b + obj.end_byte - 1  # the closing brace
            end = obj_end if line_end < 0 else min(line_end, obj_end)
            end = vs + len(_strip_trailing(self.view[vs:end]))
            v = self.reread(vs, end)
            skip_to = end - b
            span = (ks, v.span[1])
        else:
            v = self.expr(value)
            span = (ks, b + node.end_byte)
        if self.spreads.get(ks) == "{":  # `...expr` read as `_: expr`
            return _new(Prop, (None, v, True, (ks, span[1]), (ks, ks + 3), None)), skip_to
        kid = key.kind_id
        if kid == k.identifier:
            name = self.text[ks:ke]
        elif kid == k.string:
            sv = self.string(key)
            if type(sv) is not Str:
                return _new(Prop, (None, v, False, span, (ks, ke), sv)), skip_to
            name = sv.value
        else:
            name = self.text[ks:ke] if self.view[ks:ke].isidentifier() else None
        return _new(Prop, (name, v, False, span, (ks, ke), None)), skip_to

    def entry_lines(self, at: int, end: int, seen: set) -> list:
        """`key: value` lines of an object's error region whose value reads alone (the grammar's
        recovery often swallows the entries after a broken one)."""
        out = []
        view = self.view
        while at < end:
            eol = view.find("\n", at, end)
            eol = end if eol < 0 else eol
            m = _ENTRY_LINE.match(view, at, eol)
            if m is not None and m.start(1) not in seen:
                vs = m.start(2)
                ve = _value_end(view, vs, end)  # the value may go on over lines: `f(\n  a\n)`
                value = self.reread(vs, ve, quiet=True) if ve > vs else None
                if value is not None:
                    ks, ke = m.span(1)
                    raw = self.text[ks:ke]
                    key = _unescape(raw[1:-1]) if raw.startswith("'") else raw
                    out.append(Prop(key, value, False, (ks, value.span[1]), (ks, ke)))
                    after = view.find("\n", ve, end)
                    eol = max(eol, end if after < 0 else after)
            at = eol + 1
        return out

    def reread(self, start: int, end: int, quiet: bool = False):
        """An expression from view[start:end] parsed on its own (as `var _ = ...`); with `quiet`,
        None (and no issue) when it does not read."""
        self.reread_spans.append((start, end))
        src = ("var _ = " + self.view[start:end]).encode("ascii")
        root = _parser().parse(src).root_node
        decl = root.named_children[0] if root.named_child_count else None
        value = decl.named_children[-1] if decl is not None and decl.named_child_count >= 2 else None
        if value is None or root.has_error or value.kind_id not in self.k.expression:
            if quiet:
                return None
            self.issue("unreadable expression", (start, end))
            return Error((start, end))
        base, dirty = self.base, self.dirty
        self.base, self.dirty = start - 8, False
        try:
            return self.expr(value)
        finally:
            self.base, self.dirty = base, dirty

    def parenthesized(self, node):
        ch = node.children
        inner = ch[1] if len(ch) == 3 else None
        if inner is None or inner.kind_id in self.k.comment:
            inner_list = self.named(node)
            if len(inner_list) != 1:
                return self.error(node)
            inner = inner_list[0]
        value = self.expr(inner)
        self.grouped.add(id(value))
        self.keep.append(value)
        return value

    def postfix(self, obj, start: int | None, make):
        """`make(operand, start)` applied to the rightmost operand of `obj` (see _RIGHT_OPERAND);
        `start` is where the result starts when `obj` itself is the operand (its parentheses)."""
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

    def member(self, node):
        ch = node.children
        if len(ch) != 3:
            ch = self.kids(node)
            if len(ch) != 3:
                return self.error(node)
        obj, dot, prop = ch
        b = self.base
        ps, pe = b + prop.start_byte, b + prop.end_byte
        name = self.text[ps:pe]
        safe = dot.kind_id == self.k.safe_dot
        ov = self.expr(obj)
        if type(ov) in _PLAIN_OPERAND:  # nothing to move: the common case, without a closure
            return _new(Member, (ov, name, safe, (b + node.start_byte, pe), (ps, pe)))
        return self.postfix(ov, b + node.start_byte, lambda o, s: _new(Member, (o, name, safe, (s, pe), (ps, pe))))

    def subscript(self, node):
        ch = node.children
        if len(ch) not in (4, 5):
            ch = self.kids(node)
            if len(ch) not in (4, 5):
                return self.error(node)
        safe = len(ch) == 5 and ch[2].kind_id == self.k.question
        iv = self.expr(ch[-2])
        end = self.base + node.end_byte
        caret = self.text.find("^", self.base + ch[1].end_byte, iv.span[0])
        if caret >= 0:  # x[^1]: counted from the end (the view blanked the ^)
            iv = Unary("^", iv, (caret, iv.span[1]))
        return self.postfix(self.expr(ch[0]), self.base + node.start_byte,
                            lambda o, s: _new(Index, (o, iv, safe, (s, end))))

    def resource_expression(self, node):
        ch = self.kids(node)
        if len(ch) != 3:
            return self.error(node)
        b = self.base
        rs, re_ = b + ch[2].start_byte, b + ch[2].end_byte
        name = self.text[rs:re_]
        return self.postfix(self.expr(ch[0]), b + node.start_byte,
                            lambda o, s: Nested(o, name, (s, re_), (rs, re_)))

    def call(self, node):
        ch = node.children
        if len(ch) != 2:
            ch = self.kids(node)
            if len(ch) != 2:
                return self.error(node)
        fn, args_node = ch
        k = self.k
        args = []
        code = k.code
        for c in args_node.children:
            if c.kind_id in code:
                args.append(self.expr(c))
        args_t = tuple(args)
        b = self.base
        s, e = b + node.start_byte, b + node.end_byte
        fk = fn.kind_id
        if fk == k.identifier:
            fs, fe = b + fn.start_byte, b + fn.end_byte
            return _new(Call, (self.text[fs:fe], args_t, None, None, (s, e), (fs, fe)))
        if fk == k.member:
            mch = fn.children
            if len(mch) != 3:
                mch = self.kids(fn)
            if len(mch) == 3:
                obj, _, prop = mch
                ps, pe = b + prop.start_byte, b + prop.end_byte
                name = self.text[ps:pe]
                if obj.kind_id == k.identifier:
                    ns = self.text[b + obj.start_byte:b + obj.end_byte]
                    if ns in self.namespaces:
                        return _new(Call, (name, args_t, ns, None, (s, e), (ps, pe)))
                ov = self.expr(obj)
                if type(ov) in _PLAIN_OPERAND:
                    return _new(Call, (name, args_t, None, ov, (s, e), (ps, pe)))
                return self.postfix(ov, s,
                                    lambda o, st: _new(Call, (name, args_t, None, o, (st, e), (ps, pe))))
        return self.error(node)

    def ternary(self, node):
        ch = node.children
        if len(ch) != 5:
            ch = self.kids(node)
            if len(ch) != 5:
                return self.error(node)
        value = _new(Ternary, (self.expr(ch[0]), self.expr(ch[2]), self.expr(ch[4]), self.span(node)))
        return self.lift_lambda(value, "cond")

    def binary(self, node):
        ch = node.children
        if len(ch) != 3:
            ch = self.kids(node)
            if len(ch) != 3:
                return self.error(node)
        lv, rv = self.expr(ch[0]), self.expr(ch[2])
        s, e = self.span(node)
        value = _new(Binary, (self.k.names[ch[1].kind_id], lv, rv, (s, max(e, rv.span[1]))))
        return self.lift_lambda(value, "left")

    def unary(self, node):
        ch = node.children
        if len(ch) != 2:
            ch = self.kids(node)
            if len(ch) != 2:
                return self.error(node)
        av = self.expr(ch[1])
        s, e = self.span(node)
        return _new(Unary, (self.k.names[ch[0].kind_id], av, (s, max(e, av.span[1]))))

    def lambda_(self, node):
        ch = self.named(node)
        if len(ch) != 2:
            return self.error(node)
        head, body = ch
        if head.kind_id == self.k.identifier:
            names = [head]
        elif head.kind_id == self.k.paren:
            names = self.named(head)
        else:
            return self.error(node)
        params = []
        for c in names:
            if c.kind_id != self.k.identifier:
                return self.error(node)
            s, e = self.span(c)
            params.append(self.text[s:e])
        return Lambda(tuple(params), self.expr(body), self.span(node))

    def for_(self, node):
        k = self.k
        body = node.child_by_field_name("body")
        item = index = None
        iterable = None
        seen_in = False
        for c in node.children:
            kid = c.kind_id
            if kid == k.keyword_in:
                seen_in = True
            elif not c.is_named or kid in k.comment or c == body:
                continue
            elif not seen_in:
                if kid == k.identifier or kid == k.loop_variable:
                    item = self.text[slice(*self.span(c))]
                elif kid == k.for_params:
                    for p in c.named_children:
                        if p.kind_id == k.loop_variable:
                            item = self.text[slice(*self.span(p))]
                        elif p.kind_id == k.loop_enumerator:
                            index = self.text[slice(*self.span(p))]
            elif iterable is None:
                iterable = c
        if body is None or iterable is None:
            return self.error(node)
        return For(item, index, self.expr(iterable), self.expr(body), self.span(node))

    def if_(self, node):
        ch = self.named(node)
        if len(ch) != 2 or ch[0].kind_id != self.k.paren:
            return self.error(node)
        return If(self.expr(ch[0]), self.expr(ch[1]), self.span(node))

    # ---- declarations -------------------------------------------------------------------------
    def decorators(self, node) -> tuple:
        out = []
        k = self.k
        for d in node.children:
            if d.kind_id != k.decorator:
                continue
            call = next((c for c in d.children if c.kind_id == k.call), None)
            value = self.call(call) if call is not None else None
            if type(value) is Call:
                out.append(_new(Decorator, (value.name, value.args, self.span(d))))
            else:
                self.issue("unreadable decorator", self.span(d))
        return tuple(out)

    def resource(self, node, decorators: tuple = ()):
        k = self.k
        ch = self.named(node)
        if len(ch) < 3 or ch[0].kind_id != k.identifier or ch[1].kind_id != k.string:
            self.issue("unreadable declaration", self.span(node))
            return None
        ns, ne = self.span(ch[0])
        type_value = self.string(ch[1])
        if type(type_value) is not Str:
            self.issue("unreadable declaration", self.span(node))
            return None
        existing = any(c.kind_id == k.existing for c in node.children)
        self.children.append([])
        try:
            body = self.expr(ch[-1])
        finally:
            children = self.children.pop()
        return Resource(self.text[ns:ne], type_value.value, existing, body, tuple(children), decorators,
                        self.span(node), (ns, ne), type_value.span)

    def module(self, node, decorators: tuple):
        k = self.k
        ch = self.named(node)
        if len(ch) < 3 or ch[0].kind_id != k.identifier or ch[1].kind_id != k.string:
            return None
        ns, ne = self.span(ch[0])
        path = self.string(ch[1])
        if type(path) is not Str:
            return None
        return Module(self.text[ns:ne], path.value, self.expr(ch[-1]), decorators, self.span(node),
                      (ns, ne), path.span)


_DISPATCH = {
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


_ENTRY_LINE = lazy_compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_]*|'[^'\\\n$]*')[ \t]*:[ \t]*([^\s].*)")


def _value_end(view: str, start: int, end: int) -> int:
    """End of the expression starting at `start`: the first line end outside brackets and
    strings (or `end`), without a trailing comment and blanks."""
    depth = 0
    stop = end
    for t in _HEADER_TOKENS.finditer(view, start, end):
        c = view[t.start()]
        if c == "\n":
            if depth <= 0:
                stop = t.start()
                break
        elif c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
            if depth < 0:  # the end of the enclosing object
                stop = t.start()
                break
    return start + len(_strip_trailing(view[start:stop]))


def _hole_end(text: str, i: int, end: int) -> int:
    """Offset of the `}` closing a hole whose expression starts at `i` (-1 when there is none)."""
    depth = 0
    while i < end:
        c = text[i]
        if c == "'":
            i += 1
            while i < end and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _spread_before(text: str, start: int, spreads: dict, bracket: str) -> int | None:
    i = start
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    at = i - 3
    return at if at >= 0 and spreads.get(at) == bracket else None


def _strip_trailing(s: str) -> str:
    """`s` without trailing blanks and a trailing // comment (one without quotes)."""
    s = s.rstrip()
    i = s.rfind("//")
    if i >= 0 and "'" not in s[i:]:
        s = s[:i].rstrip()
    return s


# ---- 2. headers and statements ------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DECL_NAME = re.compile(r"(" + "|".join(_KEYWORDS) + r")\b[ \t]*(" + _NAME + r")?")
_IMPORT_ALIAS = lazy_compile(r"import[ \t]*\*[ \t]*as[ \t]+(" + _NAME + ")")
_USING = lazy_compile(r"using\b[ \t]*(?:('(?:[^'\\\n]|\\.)*')|(none)\b)")
_RESOURCE_HEAD = lazy_compile(r"(resource|module)[ \t]+(" + _NAME + r")[ \t]+('(?:[^'\\\n]|\\.)*')"
                            r"(?:[ \t]+(existing)\b)?")
# Blanks, comments and `#disable-next-line` directives.
_SKIP_BLANK = re.compile(r"(?:\s|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/|#disable-[^\n]*)*")
_HEADER_TOKENS = lazy_compile(r"'(?:[^'\\\n]|\\.)*'?|[{\[(]|[}\])]|[=!<>]=|=[~>]|=|//[^\n]*"
                            r"|/\*(?:[^*]|\*(?!/))*(?:\*/)?|\n")
_SIMPLE_TYPE = re.compile(r"[ \t]*((?:[A-Za-z_][\w.]*(?:\[\])*\??)?)[ \t]*"
                          r"(?:(=)(?![=>~])|(?=(?://[^\n]*)?(?:\r?\n(?![ \t]*\|)|$)))")
_UNION_GOES_ON = lazy_compile(r"\n[ \t]*\|")
_NOT_LINE_BREAK = re.compile(r"[^\r\n]")

# Fast path: a param/output/var whose decorators take at most one literal and whose value is a
# literal or a name (most of them: descriptions, defaults) is read without the grammar.
_LITERAL = (r"'''[\s\S]*?'''|'[^'\\\n$]*(?:(?:\\.|\$(?!\{))[^'\\\n$]*)*'|-?\d+\b|[A-Za-z_]\w*\b(?![ \t]*[.(\[:!?])"
            r"|\{[ \t]*\}|\[[ \t]*\]")
# Blanks after `(` possessive: no literal starts with one, and giving them back to the blanks before
# `)` would try every split of a run of blanks (quadratic on `@d(` and spaces without a `)`).
_SIMPLE_DECORATOR = r"(@(sys\.)?([A-Za-z_]\w*)[ \t]*\([ \t]*+(" + _LITERAL + r")?[ \t]*\))"
# _SKIP_BLANK, possessive (its matches are the same: it never has to give anything back).
_BLANKS = r"(?:\s|//[^\n]*+|/\*(?:[^*]|\*(?!/))*+\*/|#disable-[^\n]*+)*+"
_DECORATOR_AND_BLANKS = re.compile(_SIMPLE_DECORATOR + _BLANKS)
_REFERENCE = r"[A-Za-z_]\w*(?:\(\)|\.\??[A-Za-z_]\w*)+(?![ \t]*[.(\[:!?])"
# The whole value: the first alternative that matches (atomic, as `match` would take it), and blanks
# to the end.
_VALUE_ALONE = re.compile(_BLANKS + "((?>" + _REFERENCE + "|" + _LITERAL + "))" + _BLANKS + r"\Z")
_REFERENCE_STEP = re.compile(r"\.(\?)?([A-Za-z_]\w*)|\(\)")
_TARGET_SCOPE = re.compile(r"targetScope[ \t]*=[ \t]*(" + _LITERAL + ")")
FAST_PATH = True  # tests and the benchmark switch it off to compare with the grammar's reading
_KEYWORD_LITERALS = {"true": True, "false": False}


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
            # a union type may go on over lines: `| 'b'` below, or a trailing `|` here
            line_start = max(pos, text.rfind("\n", pos, t.start()) + 1)
            if depth == 0 and not _UNION_GOES_ON.match(text, t.start()) \
                    and not text[line_start:t.start()].rstrip().endswith("|"):
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


def _content_end(view: str, start: int, end: int) -> int:
    """End of the last token before `end` (trailing blanks and comment lines excluded)."""
    e = end
    while e > start:
        j = view.rfind("\n", start, e)
        line = view[j + 1:e].strip()
        if line and not line.startswith(("//", "#disable")):
            return e - (len(view[j + 1:e]) - len(view[j + 1:e].rstrip()))
        e = max(j, start)
    return start


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
        namespaces = BUILTIN_NAMESPACES
        aliases = [_IMPORT_ALIAS.match(view, d) for _, d, kw, _ in stmts if kw == "import"]
        if any(aliases):
            namespaces = namespaces | frozenset(a.group(1) for a in aliases if a)
        self.namespaces = namespaces
        edits: list[tuple[int, int, str]] = []
        for at, bracket in sc.spreads:
            edits.append((at, at + 3, "_: " if bracket == "{" else "   "))
        for at in sc.bangs:
            edits.append((at, at + 1, " "))
        for at in sc.slashes:
            edits.append((at + 1, at + 2, "~"))
        for at in sc.commas:
            edits.append((at, at + 1, ","))
        for at in sc.empties:
            edits.append((at, at + 6, "'    '"))
        for d, at in sc.dollars:
            edits.append((d, at, " " * (at - d)))
        if stmts and stmts[0][0] > 0:
            self._junk(view, 0, stmts[0][0])
        elif not stmts:
            self._junk(view, 0, len(view))
        plans = [self._plan(view, start, decl, kw, end, edits) for start, decl, kw, end in stmts]
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
        _parser()
        self.view = view
        self.data = view.encode("ascii")
        builder = self.builder = _Builder(text, view, namespaces, dict(sc.spreads), set(sc.bangs), self.issues)
        builder.dollars = {at: at - d for d, at in sc.dollars}
        out = []
        for plan in plans:
            if plan is None:
                continue
            self.root = None
            before = len(self.issues)
            builder.reread_spans = []
            try:
                node = plan[0](self, *plan[1:])
            except RecursionError:
                self.issues.append(ParseIssue("nesting too deep", (plan[2], plan[4])))
                node = None
            if node is not None:
                out.append(node)
            if self.root is not None and self.root.has_error:
                # an error the conversion stepped over (e.g. an extra token) is still reported
                covered = [i.span for i in self.issues[before:]] + builder.reread_spans
                missed = _uncovered_error(self.root, builder.base, covered)
                if missed is not None:
                    self.issues.append(ParseIssue("unreadable expression", builder.span(missed)))
        issues = sorted(set(self.issues), key=lambda i: i.span)
        return Program(tuple(out), tuple(issues))

    def _junk(self, view: str, start: int, end: int) -> None:
        m = _SKIP_BLANK.match(view, start, end)
        if m.end() < end:
            self.issues.append(ParseIssue("unknown statement", (m.end(), end)))

    def _plan(self, view: str, start: int, decl: int | None, kw: str, end: int, edits: list):
        """How to read one statement (and the header rewrites it needs)."""
        if decl is None:
            self.issues.append(ParseIssue("decorator without declaration", (start, _content_end(view, start, end))))
            return None
        if kw in _UNPARSED:
            name = None
            if kw == "import":
                a = _IMPORT_ALIAS.match(view, decl)
                name = a.group(1) if a else None
            else:
                m = _DECL_NAME.match(view, decl)
                name = m.group(2) if m else None
            return (_Reader._other, start, decl, kw, _content_end(view, decl, end), name)
        if kw == "using":
            return (_Reader._using, start, decl, kw, end)
        if kw == "targetScope" and FAST_PATH and start == decl:
            m = _TARGET_SCOPE.match(view, decl, end)
            if m is not None and _SKIP_BLANK.match(view, m.end(), end).end() == end:
                value = _literal(self.text, view, *m.span(1))
                if value is not None:
                    return (_Reader._target_scope, start, decl, kw, end, value)
        if kw in ("param", "output", "var"):
            m = _DECL_NAME.match(view, decl)
            if m is None or m.group(2) is None:
                return (_Reader._broken, start, decl, kw, end)
            ns, ne = m.span(2)
            ts, te, eq = _type_region(view, ne, end)
            fast = self._fast(view, start, decl, end, eq) if FAST_PATH else None
            if fast is not None:
                return (_Reader._declared, start, decl, kw, end, (ns, ne), (ts, te), eq) + fast
            if eq < 0:  # no value: only the decorators reach the grammar
                stop = te if te > 0 else ne
                edits.append((decl, stop, _NOT_LINE_BREAK.sub(" ", view[decl:stop])))
            else:
                edits.append((decl, decl + len(kw), "var".ljust(len(kw))))
                if ts >= 0:
                    edits.append((ts, te, _NOT_LINE_BREAK.sub(" ", view[ts:te])))
            return (_Reader._declaration, start, decl, kw, end, (ns, ne), (ts, te), eq)
        return (_Reader._native, start, decl, kw, end)

    def _fast(self, view: str, start: int, decl: int, end: int, eq: int) -> tuple | None:
        """(decorators, value) read with regular expressions, or None when the grammar is needed."""
        text = self.text
        decorators = []
        at = _SKIP_BLANK.match(view, start, decl).end() if start < decl else decl
        while at < decl:
            m = _DECORATOR_AND_BLANKS.match(view, at, decl)
            if m is None:
                return None
            args = ()
            if m.group(4):
                arg = _literal(text, view, *m.span(4))
                if arg is None:
                    return None
                args = (arg,)
            decorators.append(_new(Decorator, (m.group(3), args, m.span(1))))
            at = m.end()
        value = None
        if eq >= 0:
            m = _VALUE_ALONE.match(view, eq, end)
            if m is None:
                return None
            value = _literal(text, view, m.start(1), m.end(1), self.namespaces)
            if value is None:
                return None
        return tuple(decorators), value

    def _declared(self, start, decl, kw, end, name_span, type_span, eq, decorators, value):
        """A param / output / var the fast path read."""
        return self._make(kw, decl, name_span, type_span, eq, decorators, value)

    # ---- reading ------------------------------------------------------------------------------
    def _parse(self, start: int, end: int):
        """The statement's tree, or None when the grammar's error recovery ran away."""
        data = self.data[start:end]
        b = self.builder
        b.base = start
        if len(data) <= _SMALL_STATEMENT:
            root = _PARSER.parse(data).root_node
        else:
            tree = bounded_parse(_PARSER, data)
            root = None if tree is None else tree.root_node
            if root is None:
                self.issues.append(ParseIssue("declaration too complex to read",
                                              (start, _content_end(self.view, start, end))))
                return None
        b.dirty = root.has_error
        self.root = root
        return root

    def _top(self, root, decl: int):
        """Decorators (a tuple) and the other top-level nodes of a statement's tree."""
        if root is None:
            return (), []
        k = _KINDS
        decorators: list = []
        rest = []
        for c in root.children:
            kid = c.kind_id
            if kid in k.comment:
                continue
            if kid == k.decorators and c.end_byte <= decl:
                decorators.extend(self.builder.decorators(c))
            else:
                rest.append(c)
        return tuple(decorators), rest

    def _value(self, root, at: int):
        """The largest expression node of the tree that starts at byte `at`."""
        if root is None:
            return None
        node = root.descendant_for_byte_range(at, at)
        best = None
        expression = _KINDS.expression
        while node is not None and node.start_byte == at:
            kid = node.kind_id
            if kid in expression:
                best = node
            elif kid == ERROR_ID or node.parent is None:
                break
            node = node.parent
        return best

    def _decl_errors(self, rest, keep) -> None:
        b = self.builder
        for c in rest:
            if c.has_error and c != keep:  # nodes are made afresh on access: compare, not identity
                b.issue("unreadable declaration", b.span(c))

    def _declaration(self, start, decl, kw, end, name_span, type_span, eq):
        """param / output / var (and .bicepparam param): the grammar sees `var NAME = value`."""
        view, b = self.view, self.builder
        root = self._parse(start, end)
        decorators, rest = self._top(root, decl - start)
        value = None
        if eq >= 0:
            vstart = _SKIP_BLANK.match(view, eq, end).end()
            node = self._value(root, vstart - start) if vstart < end else None
            if node is None:
                value = Error((vstart, max(vstart, _content_end(view, vstart, end))))
                b.issue("unreadable expression", value.span)
                self._decl_errors(rest, None)
            else:
                value = b.expr(node)
                holder = node.parent
                self._decl_errors(rest, holder if holder.kind_id == _KINDS.variable else node)
        else:
            self._decl_errors(rest, None)
        return self._make(kw, decl, name_span, type_span, eq, decorators, value)

    def _make(self, kw, decl, name_span, type_span, eq, decorators, value):
        text = self.text
        ns, ne = name_span
        ts, te = type_span
        type_text = text[ts:te] if ts >= 0 else ""
        span = (decl, max(value.span[1], eq) if value is not None else (te if ts >= 0 else ne))
        name = text[ns:ne]
        if kw == "param" and not self.bicepparam:
            return _new(Param, (name, type_text, value, type_text.endswith("?"), decorators, span, name_span))
        if value is None:
            value = Error((ne, ne))
            if kw == "param":
                self.issues.append(ParseIssue("parameter without value", (decl, ne)))
            elif kw == "output":
                self.issues.append(ParseIssue("output without value", (decl, ne)))
            else:
                self.issues.append(ParseIssue("variable without value", (decl, ne)))
        if kw == "param":
            return ParamValue(name, value, span, name_span)
        if kw == "output":
            return _new(Output, (name, type_text, value, decorators, span, name_span))
        return _new(Var, (name, value, decorators, span, name_span))

    def _native(self, start, decl, kw, end):
        """resource / module / targetScope: read by the grammar as written."""
        b = self.builder
        k = _KINDS
        root = self._parse(start, end)
        decorators, rest = self._top(root, decl - start)
        want = {"resource": k.resource, "module": k.module, "targetScope": k.target_scope}[kw]
        node = next((c for c in rest if c.kind_id == want and c.start_byte == decl - start), None)
        if node is not None:
            if kw == "resource":
                value = b.resource(node, decorators)
            elif kw == "module":
                value = b.module(node, decorators)
            else:
                ch = b.named(node)
                value = TargetScope(b.expr(ch[-1]), b.span(node)) if ch else None
            if value is not None:
                self._decl_errors(rest, node)
                return value
        return self._fallback(root, rest, start, decl, kw, end, decorators)

    def _fallback(self, root, rest, start, decl, kw, end, decorators):
        """The grammar could not read the declaration: the header from the source, the value
        from the largest expression that starts after `=`."""
        b, text, view = self.builder, self.text, self.view
        m = None
        if kw == "targetScope":
            eq = view.find("=", decl, end) + 1 or -1
        else:
            m = _RESOURCE_HEAD.match(view, decl, end)
            if m is None:
                return self._broken(start, decl, kw, end)
            at = _SKIP_BLANK.match(view, m.end(), end).end()
            eq = at + 1 if at < end and view[at] == "=" else -1
        if eq < 0:
            return self._broken(start, decl, kw, end)
        vstart = _SKIP_BLANK.match(view, eq, end).end()
        node = self._value(root, vstart - start) if vstart < end else None
        self._decl_errors(rest, None)
        children: list = []
        if node is None:
            value = Error((vstart, max(vstart, _content_end(view, vstart, end))))
            b.issue("unreadable expression", value.span)
        else:
            b.children.append([])
            try:
                value = b.expr(node)
            finally:
                children = b.children.pop()
        span = (decl, max(value.span[1], eq))
        if m is None:
            return TargetScope(value, span)
        ns, ne = m.span(2)
        ts, te = m.span(3)
        if te - ts < 2 or text[te - 1] != "'":
            return self._broken(start, decl, kw, end)
        literal = _unescape(text[ts + 1:te - 1])
        if kw == "resource":
            return Resource(text[ns:ne], literal, bool(m.group(4)), value, tuple(children), decorators,
                            span, (ns, ne), (ts, te))
        return Module(text[ns:ne], literal, value, decorators, span, (ns, ne), (ts, te))

    def _broken(self, start, decl, kw, end):
        self.issues.append(ParseIssue("unreadable declaration", (decl, _content_end(self.view, decl, end))))
        return None

    def _using(self, start, decl, kw, end):
        view = self.view
        m = _USING.match(view, decl, end)
        if m is None:
            return self._broken(start, decl, kw, end)
        if m.group(2):
            return Using("none", (decl, m.end()))
        s, e = m.span(1)
        if e - s < 2 or view[e - 1] != "'":
            return self._broken(start, decl, kw, end)
        return Using(_unescape(self.text[s + 1:e - 1]), (decl, _content_end(view, decl, end)))

    def _target_scope(self, start, decl, kw, end, value):
        return TargetScope(value, (decl, value.span[1]))

    def _other(self, start, decl, kw, end, name):
        return _new(Other, (kw, name, (decl, end)))


def _literal(text: str, view: str, s: int, e: int, namespaces: frozenset = BUILTIN_NAMESPACES):
    """The node of a literal the fast path matched."""
    c = view[s]
    if c == "'":
        raw = text[s:e]
        if raw.startswith("'''"):
            value = raw[3:-3]
            if value.startswith("\r\n"):
                value = value[2:]
            elif value.startswith("\n"):
                value = value[1:]
            return _new(Str, (value, (s, e)))
        return _new(Str, (_unescape(raw[1:-1]), (s, e)))
    if c == "{":
        return Obj((), (s, e))
    if c == "[":
        return Arr((), (s, e))
    word = view[s:e]
    if "." in word or "(" in word:
        return _reference(view, s, e, namespaces)
    if c == "-" or c.isdigit():
        return _new(Num, (int(word), (s, e)))
    if word in _KEYWORD_LITERALS:
        return _new(Bool, (_KEYWORD_LITERALS[word], (s, e)))
    if word == "null":
        return Null((s, e))
    return _new(Ref, (word, (s, e)))


def _reference(view: str, s: int, e: int, namespaces: frozenset):
    """`a.b.?c`, `f().x`, `az.resourceGroup().id` (what _REFERENCE matched)."""
    m = re.match(r"[A-Za-z_]\w*", view[s:e])
    at = s + m.end()
    node: Any = Ref(m.group(), (s, at))
    for step in _REFERENCE_STEP.finditer(view, at, e):
        ss, se = step.span()
        if step.group(2) is not None:
            ns_, ne = step.span(2)
            node = Member(node, step.group(2), step.group(1) is not None, (s, se), (ns_, ne))
        elif type(node) is Ref:
            node = Call(node.name, (), None, None, (s, se), node.span)
        elif type(node) is Member and not node.safe:
            obj = node.obj
            if type(obj) is Ref and obj.name in namespaces:
                node = Call(node.name, (), obj.name, None, (s, se), node.name_span)
            else:
                node = Call(node.name, (), None, obj, (s, se), node.name_span)
        else:
            return None
    return node


# Within one parse the grammar can take time quadratic in the statement: error recovery over many
# broken entries, and many `a.b` / `a[0]` in one object or array (ambiguities it keeps open): 4,000
# of either in one statement take ~1 s. Real statements stay far below (Azure Verified Modules:
# 12 MB/s for every size), but a hostile file must not stall a scan, so a statement past this size
# is parsed with a budget of input reads (tree_sitter_budget).
_SMALL_STATEMENT = 16_384


def _uncovered_error(root, base: int, covered: list):
    """The first ERROR or MISSING node of the tree outside every `covered` span, or None."""
    covered = sorted(covered)
    starts = [c[0] for c in covered]
    reach = []  # the furthest end among the spans starting at or before each start
    far = -1
    for _, ce in covered:
        far = max(far, ce)
        reach.append(far)
    stack = [root]
    while stack:
        n = stack.pop()
        s, e = base + n.start_byte, base + n.end_byte
        k = bisect.bisect_right(starts, s) - 1
        if k >= 0 and reach[k] >= e:
            continue
        if n.is_error or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def inside_text_block(text: str, offset: int) -> bool:
    """True when `offset` lies inside (not at the start of) a multi-line string or block comment."""
    _, sc = statements(_view(text))
    return any(s < offset < e for s, e in sc.blocks)


def parse_bicep(text: str, bicepparam: bool = False) -> Program:
    """Read Bicep source into a Program (never raises for bad input)."""
    with gc_paused():  # many small acyclic objects: the cyclic GC would rescan them again and again
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
            raise ParseError("bicep", "too large to parse")
        try:
            program = parse_bicep(self.text, self.subkind == "bicepparam")
        except ImportError:
            raise ParseError("bicep", "reader unavailable") from None
        self._program = program
        if program.errors:
            first = program.errors[0]
            pos = self.lines.position(first.span[0])
            # main's vocabulary (documents.PARSE_PROBLEMS) names the reader's issue kinds
            self.parse_error = ParseError("bicep", first.kind, pos.line, pos.column)

    @property
    def program(self) -> Program:
        """The syntax tree (empty when the file could not be read at all)."""
        self.ensure_parsed()
        return self._program if self._program is not None else Program((), ())


register_kind("bicep", BicepDocument)
