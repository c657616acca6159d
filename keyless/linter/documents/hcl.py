"""HCL documents (Terraform .tf / .tfvars, other .hcl).

Read with tree-sitter-hcl (fast, C) where it can; python-hcl2's Lark grammar
(`hcl2.parses_to_tree`) reads the rest and gives the error messages. Either tree is turned into
the familiar `hcl2.loads` shape *here*, with positions:

    {"resource": [{"azurerm_container_app": {"app": {"name": "x", "identity": [{...}]}}}]}

i.e. exactly what `hcl2.loads(text, serialization_options=LOADS_OPTIONS)` returns (the classic
python-hcl2 shape: string values without quotes, block labels as keys, blocks as lists of dicts,
no `__is_block__` / `__comments__` markers, heredocs as their string value). Literals (strings
without interpolation, numbers, booleans, null, lists and objects of those) are converted by this
module; every other expression (references, interpolations, function calls, conditionals, `for`,
splats, heredocs, ...) is rendered by python-hcl2's own serializer on that subtree only, so
Terraform expressions stay their source text as hcl2.loads renders them (for example
`"${azurerm_user_assigned_identity.x.id}"`) and are never evaluated.

Positions (offsets from the Lark tokens / tree metadata, so line *and* column accurate):
`(0, "resource")` spans the blocks of that type (first to last), `(0, "resource", i)` the i-th
block, `(0, "resource", i, "<type>")` / `(..., "<name>")` the block (their key: the label),
then attributes (key: the name, value: the expression) and nested blocks the same way.
"""

from __future__ import annotations

from typing import Any

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.json import gc_paused, walk_positions

MAX_DEPTH = 200
USE_TREE_SITTER = True  # tests switch it off to compare with the lark reader

_LITERALS = {"true": True, "false": False, "null": None}
_SCALAR_EXPRS = frozenset(("string", "int_lit", "float_lit", "literal_value", "tuple", "object"))

_LOADS_OPTIONS = None


def loads_options():
    """The SerializationOptions that give the classic `hcl2.loads` shape."""
    global _LOADS_OPTIONS
    if _LOADS_OPTIONS is None:
        from hcl2 import SerializationOptions

        _LOADS_OPTIONS = SerializationOptions(
            with_comments=False,
            explicit_blocks=False,
            strip_string_quotes=True,
            preserve_heredocs=False,
        )
    return _LOADS_OPTIONS


class _Builder:
    def __init__(self):
        from hcl2.transformer import RuleTransformer
        from hcl2.utils import SerializationContext, process_escape_sequences
        from lark import Token, Tree

        self.Tree = Tree
        self.Token = Token
        self.options = loads_options()
        self.transformer = RuleTransformer()
        self.context_factory = SerializationContext
        self.unescape = process_escape_sequences

    # ---- delegation to python-hcl2's serializer -----------------------------------------------
    def delegate(self, tree) -> Any:
        rule = self.transformer.transform(tree)
        return rule.serialize(self.options, self.context_factory())

    # ---- structure ----------------------------------------------------------------------------
    def body(self, tree, depth: int) -> tuple[dict, dict]:
        """Return (value dict, children positions) for a `body` tree."""
        if depth > MAX_DEPTH:
            raise ParseError("hcl", "nesting too deep", *_where(tree))
        Tree = self.Tree
        result: dict = {}
        kids: dict = {}
        attribute_names: set = set()
        for child in tree.children:
            if not isinstance(child, Tree):
                continue
            if child.data == "attribute":
                name_tree, expr = child.children[0], child.children[-1]
                name_tok = _first_token(name_tree)
                name = str(name_tok.value)
                value, vkids = self.expression(expr, depth + 1)
                attribute_names.add(name)
                result[name] = value
                kids.pop(name, None)
                kids[name] = (name_tok.start_pos, name_tok.end_pos, _start(expr), _end(expr), vkids)
            elif child.data == "block":
                labels = [c for c in child.children if isinstance(c, Tree)
                          and c.data not in ("body", "new_line_or_comment")]
                body_tree = next(c for c in child.children if isinstance(c, Tree) and c.data == "body")
                name_tok = _first_token(labels[0])
                name = str(name_tok.value)
                if name in attribute_names:
                    raise ParseError("hcl", "duplicate attribute", name_tok.line, name_tok.column)
                value, vkids = self.body(body_tree, depth + 1)
                bstart, bend = _start(child), _end(child)
                for label in reversed(labels[1:]):
                    key = self.label(label)
                    value = {key: value}
                    vkids = {key: (_start(label), _end(label), bstart, bend, vkids)}
                # A block after an attribute of the same name raised above, so an existing
                # entry is always this block type's list.
                if name not in result:
                    result[name] = []
                    kids[name] = (name_tok.start_pos, name_tok.end_pos, bstart, bend, [])
                result[name].append(value)
                ks, ke, first_start, _last_end, items = kids[name]
                items.append((bstart, bend, vkids))
                kids[name] = (ks, ke, first_start, bend, items)
        return result, kids

    def label(self, tree) -> str:
        if tree.data == "string":
            text = self.plain_string(tree)
            return text if text is not None else self.delegate(tree)
        return str(_first_token(tree).value)

    # ---- expressions --------------------------------------------------------------------------
    def expression(self, tree, depth: int) -> tuple[Any, Any]:
        """Return (value, children positions) of an expression tree."""
        if depth > MAX_DEPTH:
            raise ParseError("hcl", "nesting too deep", *_where(tree))
        Tree = self.Tree
        inner = None
        if tree.data == "expr_term" and len(tree.children) == 1:
            inner = tree.children[0]
        if isinstance(inner, Tree) and inner.data in _SCALAR_EXPRS:
            kind = inner.data
            if kind == "string":
                text = self.plain_string(inner)
                if text is not None:
                    return text, None
            elif kind == "int_lit":
                return int(inner.children[0].value), None
            elif kind == "float_lit":
                raw = str(inner.children[0].value)
                if "e" not in raw.lower():
                    return float(raw), None
            elif kind == "literal_value":
                return _LITERALS[str(inner.children[0].value)], None
            elif kind == "tuple":
                values, kids = [], []
                for element in inner.children:
                    if isinstance(element, Tree) and element.data != "new_line_or_comment":
                        v, k = self.expression(element, depth + 1)
                        values.append(v)
                        kids.append((_start(element), _end(element), k))
                return values, kids
            elif kind == "object":
                return self.object(inner, depth)
        return self.delegate(tree), None

    def object(self, tree, depth: int) -> tuple[Any, Any]:
        Tree = self.Tree
        values: dict = {}
        kids: dict = {}
        for elem in tree.children:
            if not isinstance(elem, Tree) or elem.data != "object_elem":
                continue
            key_tree, expr = elem.children[0], elem.children[-1]
            key = self.object_key(key_tree)
            value, vkids = self.expression(expr, depth + 1)
            values[key] = value
            kids.pop(key, None)
            kids[key] = (_start(key_tree), _end(key_tree), _start(expr), _end(expr), vkids)
        return values, kids

    def object_key(self, key_tree) -> Any:
        Tree = self.Tree
        node = key_tree.children[0] if key_tree.children else None
        if isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
            inner = node.children[0]
            if isinstance(inner, Tree):
                if inner.data == "identifier":
                    return str(inner.children[0].value)
                if inner.data == "string":
                    text = self.plain_string(inner)
                    if text is not None:
                        return text
        key = self.delegate(key_tree)
        return str(key) if isinstance(key, (int, float)) else key

    def plain_string(self, tree) -> str | None:
        """Value of a quoted string made only of literal characters, else None."""
        Token = self.Token
        parts = []
        for part in tree.children:
            if isinstance(part, Token):
                continue  # the quotes
            if len(part.children) != 1:
                return None
            tok = part.children[0]
            if not isinstance(tok, Token) or tok.type != "STRING_CHARS":
                return None
            parts.append(self.unescape(str(tok.value)))
        return "".join(parts)


class _Unsupported(Exception):
    """A construct the tree-sitter reader does not convert itself: the file goes through lark."""


def _needs_hcl2(raw: str) -> bool:
    """Escapes and multi-line strings: python-hcl2 decides how they read."""
    return "\\" in raw or "\n" in raw


class _FastBuilder:
    """The same (value, positions) as `_Builder`, from a tree-sitter-hcl tree.

    tree-sitter parses HCL about 10x faster than lark (the slowest part of a cold scan). Blocks,
    attributes, literals, tuples, objects and plain traversals (`azurerm_x.y.id`) are converted
    here; every other expression is handed to python-hcl2 as a snippet so its rendering stays
    python-hcl2's. Anything unexpected raises `_Unsupported` and the whole file is read by lark.
    tests/test_documents_hcl.py checks both readers agree on every fixture and generated file."""

    def __init__(self, text: str, data: bytes):
        self.text = text
        self.b2c = None if len(data) == len(text) else _byte_to_char(data)
        self.lark = None

    def off(self, b: int) -> int:
        return b if self.b2c is None else self.b2c[b]

    def where(self, node) -> tuple[int, int]:
        """1-based line and code-point column of a node's start (as lark reports them)."""
        start = self.off(node.start_byte)
        return node.start_point[0] + 1, start - (self.text.rfind("\n", 0, start) + 1) + 1

    def body(self, node, depth: int) -> tuple[dict, dict]:
        if depth > MAX_DEPTH:
            raise ParseError("hcl", "nesting too deep", *self.where(node))
        result: dict = {}
        kids: dict = {}
        attribute_names: set = set()
        for child in node.named_children:
            kind = child.type
            if kind == "attribute":
                name_node, expr = child.named_children[0], child.named_children[-1]
                name = self.source(name_node)
                value, vkids = self.expression(expr, depth + 1)
                attribute_names.add(name)
                result[name] = value
                kids.pop(name, None)
                kids[name] = (self.off(name_node.start_byte), self.off(name_node.end_byte),
                              self.off(expr.start_byte), self.off(expr.end_byte), vkids)
            elif kind == "block":
                parts = child.named_children
                name_node = parts[0]
                labels = [c for c in parts[1:] if c.type in ("string_lit", "identifier")]
                body_node = next((c for c in parts if c.type == "body"), None)
                name = self.source(name_node)
                if name in attribute_names:
                    raise ParseError("hcl", "duplicate attribute", *self.where(name_node))
                value, vkids = self.body(body_node, depth + 1) if body_node is not None else ({}, {})
                bstart, bend = self.off(child.start_byte), self.off(child.end_byte)
                for label in reversed(labels):
                    key = self.label(label)
                    value = {key: value}
                    vkids = {key: (self.off(label.start_byte), self.off(label.end_byte), bstart, bend, vkids)}
                if name not in result:
                    result[name] = []
                    kids[name] = (self.off(name_node.start_byte), self.off(name_node.end_byte), bstart, bend, [])
                result[name].append(value)
                ks, ke, first_start, _last_end, items = kids[name]
                items.append((bstart, bend, vkids))
                kids[name] = (ks, ke, first_start, bend, items)
            elif kind != "comment":
                raise _Unsupported(kind)
        return result, kids

    def source(self, node) -> str:
        return self.text[self.off(node.start_byte):self.off(node.end_byte)]

    def label(self, node) -> str:
        if node.type == "identifier":
            return self.source(node)
        text = self.plain_string(node)
        if text is None:
            raise _Unsupported("template label")
        return text

    def plain_string(self, node) -> str | None:
        """A quoted string of literal characters only; escapes and `$${`/`%%{` go to python-hcl2."""
        parts = node.named_children
        if any(p.type != "template_literal" for p in parts[1:-1]):
            return None
        raw = self.between_quotes(node)
        return None if "${" in raw or "%{" in raw or _needs_hcl2(raw) else raw

    def between_quotes(self, node) -> str:
        # The source text, not tree-sitter's literal nodes: those leave out leading blanks.
        return self.text[self.off(node.start_byte) + 1:self.off(node.end_byte) - 1]

    def simple_template(self, node) -> str | None:
        """`"x-${var.p}"`: literal text and plain traversals render as their source text."""
        quoted = node.named_children[0]
        if quoted.type != "quoted_template":
            return None
        for part in quoted.named_children[1:-1]:
            if part.type == "template_interpolation":
                inner = [c for c in part.named_children if c.type == "expression"]
                if len(inner) != 1 or self.traversal(inner[0]) is None:
                    return None
                if self.source(part) != "${" + self.source(inner[0]) + "}":
                    return None  # `${ x }` or `${~x}`: python-hcl2 normalises those
            elif part.type != "template_literal":
                return None
        raw = self.between_quotes(quoted)
        return None if "%{" in raw or "$${" in raw or _needs_hcl2(raw) else raw

    def traversal(self, node) -> str | None:
        """`a.b[0].c[*].d` with no blanks or comments: python-hcl2 renders it as written."""
        parts = node.named_children
        if not parts or parts[0].type != "variable_expr" or len(parts) < 2:
            return None
        if any(p.type not in ("get_attr", "index", "splat") for p in parts[1:]):
            return None
        text = self.source(node)
        if any(ch in text for ch in " \t\r\n#/"):
            return None
        return text

    def expression(self, node, depth: int) -> tuple[Any, Any]:
        if depth > MAX_DEPTH:
            raise ParseError("hcl", "nesting too deep", *self.where(node))
        parts = [c for c in node.named_children if c.type != "comment"]
        if len(parts) == 1:
            inner = parts[0]
            kind = inner.type
            if kind == "literal_value":
                lit = inner.named_children[0]
                if lit.type == "string_lit":
                    text = self.plain_string(lit)
                    if text is not None:
                        return text, None
                elif lit.type == "numeric_lit":
                    raw = self.source(lit)
                    if raw.isdigit():
                        return int(raw), None
                    if "e" not in raw.lower() and raw.replace(".", "", 1).isdigit():
                        return float(raw), None
                elif lit.type == "bool_lit":
                    return self.source(lit) == "true", None
                elif lit.type == "null_lit":
                    return None, None
            elif kind == "collection_value":
                coll = inner.named_children[0]
                if coll.type == "tuple":
                    return self.tuple(coll, depth)
                if coll.type == "object":
                    return self.object(coll, depth)
            elif kind == "variable_expr":
                return self.source(inner), None  # python-hcl2 renders a bare name as itself
        if len(parts) == 1 and parts[0].type == "template_expr":
            text = self.simple_template(parts[0])
            if text is not None:
                return text, None
        text = self.traversal(node)
        if text is not None:
            return "${" + text + "}", None
        return self.delegate(node), None

    def tuple(self, node, depth: int) -> tuple[list, list]:
        values, kids = [], []
        for element in node.named_children:
            if element.type == "expression":
                v, k = self.expression(element, depth + 1)
                values.append(v)
                kids.append((self.off(element.start_byte), self.off(element.end_byte), k))
            elif element.type not in ("tuple_start", "tuple_end", "comment"):
                raise _Unsupported(element.type)
        return values, kids

    def object(self, node, depth: int) -> tuple[dict, dict]:
        values: dict = {}
        kids: dict = {}
        for elem in node.named_children:
            if elem.type in ("object_start", "object_end", "comment"):
                continue
            if elem.type != "object_elem":
                raise _Unsupported(elem.type)
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                raise _Unsupported("object element")
            key_node, expr = exprs
            key = self.object_key(key_node)
            value, vkids = self.expression(expr, depth + 1)
            values[key] = value
            kids.pop(key, None)
            kids[key] = (self.off(key_node.start_byte), self.off(key_node.end_byte),
                         self.off(expr.start_byte), self.off(expr.end_byte), vkids)
        return values, kids

    def object_key(self, node) -> str:
        parts = node.named_children
        if len(parts) == 1:
            inner = parts[0]
            if inner.type == "variable_expr":
                return self.source(inner)
            if inner.type == "literal_value" and inner.named_children[0].type == "string_lit":
                text = self.plain_string(inner.named_children[0])
                if text is not None:
                    return text
        return self.delegate(node, key=True)

    def delegate(self, node, key: bool = False) -> Any:
        """python-hcl2's value for one expression (or object key), parsed on its own."""
        import hcl2
        from lark.exceptions import LarkError

        source = self.source(node)
        snippet = f"__keyless = {{{source} = null}}\n" if key else f"__keyless = {source}\n"
        try:
            tree = hcl2.parses_to_tree(snippet)
            expr = tree.children[0].children[0].children[-1]
            if self.lark is None:
                self.lark = _Builder()
            if key:
                elem = next(t for t in expr.iter_subtrees_topdown() if t.data == "object_elem")
                return self.lark.object_key(elem.children[0])
            value, kids = self.lark.expression(expr, 0)
        except (LarkError, RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                StopIteration) as exc:
            raise _Unsupported("expression") from exc
        if kids is not None:
            raise _Unsupported("nested positions in a delegated expression")
        return value


def _byte_to_char(data: bytes) -> list[int]:
    """Character offset of every UTF-8 byte offset (tree-sitter counts bytes)."""
    table = []
    char = 0
    for byte in data:
        if byte & 0xC0 != 0x80:  # not a continuation byte: a new character starts here
            char += 1
        table.append(char - 1)
    table.append(char)
    return table


_TS_PARSER = None


def _tree_sitter_parser():
    """tree-sitter-hcl's parser, or None when it is not installed (lark then reads everything)."""
    global _TS_PARSER
    if _TS_PARSER is None:
        try:
            import tree_sitter
            import tree_sitter_hcl

            _TS_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
        except Exception:  # ImportError, or a binary built for another tree-sitter ABI
            _TS_PARSER = False
    return _TS_PARSER or None


def _first_token(tree):
    from lark import Token

    node = tree
    while not isinstance(node, Token):
        node = node.children[0]
    return node


def _start(tree) -> int:
    if isinstance(tree, str):  # Token
        return tree.start_pos
    return tree.meta.start_pos


def _end(tree) -> int:
    if isinstance(tree, str):
        return tree.end_pos
    return tree.meta.end_pos


def _where(tree) -> tuple[int | None, int | None]:
    try:
        return tree.meta.line, tree.meta.column
    except AttributeError:
        return None, None


def hcl_subkind(name: str) -> str:
    lower = name.lower()
    return "tfvars" if lower.endswith(".tfvars") else "terraform"


class HclDocument(Document):
    kind = "hcl"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: list[Any] = []
        self._positions: tuple | None = None

    def _parse(self) -> None:
        text = self.text[1:] if self.text.startswith("\ufeff") else self.text
        shift = len(self.text) - len(text)
        if shift:
            # Keep offsets aligned with self.text: replace the BOM by a space instead.
            text = " " + text
        parsed = self._parse_fast(text) if USE_TREE_SITTER else None
        value, kids = parsed if parsed is not None else self._parse_lark(text)
        self._values = [value]
        self._positions = (0, len(self.text), kids)
        self.subkind = hcl_subkind(self.name)

    def _parse_fast(self, text: str) -> tuple[Any, Any] | None:
        parser = _tree_sitter_parser()
        if parser is None:
            return None
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeError:
            return None
        tree = parser.parse(data)
        root = tree.root_node
        if root.has_error:
            return None  # lark gives the error message users know
        body = next((c for c in root.named_children if c.type == "body"), None)
        try:
            with gc_paused():
                return _FastBuilder(text, data).body(body, 0) if body is not None else ({}, {})
        except (_Unsupported, RecursionError):
            return None

    def _parse_lark(self, text: str) -> tuple[Any, Any]:
        import hcl2
        from lark.exceptions import LarkError, UnexpectedInput

        try:
            with gc_paused():
                tree = hcl2.parses_to_tree(text)
                body = tree.children[0]
                return _Builder().body(body, 0)
        except UnexpectedInput as exc:
            raise ParseError("hcl", _problem(exc), exc.line, exc.column) from None
        except LarkError:
            raise ParseError("hcl", "syntax error") from None
        except RecursionError:
            raise ParseError("hcl", "nesting too deep") from None
        except (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            # python-hcl2's serializer raises these for input its grammar accepted.
            raise ParseError("hcl", "unsupported construct") from None

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def _entry(self, path: tuple) -> tuple | None:
        if not path or path[0] != 0 or not self.ensure_parsed():
            return None
        return walk_positions(self._positions, tuple(path[1:]))


def _problem(exc) -> str:
    """The kind of a lark error. Never the token or character: an unterminated heredoc's token
    is the secret that follows it."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedEOF):
        return "unexpected end of input"
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok is None or tok.type == "$END" or not str(tok.value):
            return "unexpected end of input"
        return "unexpected token"
    if isinstance(exc, UnexpectedCharacters):
        return "unexpected character"
    return "syntax error"


register_kind("hcl", HclDocument)
