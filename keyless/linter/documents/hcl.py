"""HCL documents (Terraform .tf / .tfvars, other .hcl).

Parsed once with python-hcl2's Lark grammar (`hcl2.parses_to_tree`); the tree is then turned into
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
            raise ParseError(f"HCL nested deeper than {MAX_DEPTH} levels", _line(tree))
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
                    raise ParseError(f"HCL: attribute {name} is already defined", name_tok.line)
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
            raise ParseError(f"HCL nested deeper than {MAX_DEPTH} levels", _line(tree))
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


def _line(tree) -> int | None:
    try:
        return tree.meta.line
    except AttributeError:
        return None


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
        import hcl2
        from lark.exceptions import LarkError, UnexpectedInput

        text = self.text[1:] if self.text.startswith("\ufeff") else self.text
        shift = len(self.text) - len(text)
        if shift:
            # Keep offsets aligned with self.text: replace the BOM by a space instead.
            text = " " + text
        try:
            with gc_paused():
                tree = hcl2.parses_to_tree(text)
                body = tree.children[0]
                value, kids = _Builder().body(body, 0)
        except UnexpectedInput as exc:
            line = exc.line if isinstance(exc.line, int) and exc.line > 0 else None
            where = f" (line {line}, column {exc.column})" if line else ""
            detail = _describe(exc)
            raise ParseError(f"invalid HCL: {detail}{where}", line) from None
        except LarkError as exc:
            raise ParseError(f"invalid HCL: {str(exc).splitlines()[0][:200]}") from None
        except RecursionError:
            raise ParseError("invalid HCL: nesting too deep") from None
        except (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # python-hcl2's serializer raises these for input its grammar accepted.
            raise ParseError(f"invalid HCL: {type(exc).__name__}: {str(exc)[:200]}") from None
        self._values = [value]
        self._positions = (0, len(self.text), kids)
        self.subkind = hcl_subkind(self.name)

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def _entry(self, path: tuple) -> tuple | None:
        if not path or path[0] != 0 or not self.ensure_parsed():
            return None
        return walk_positions(self._positions, tuple(path[1:]))


def _describe(exc) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedEOF):
        return "unexpected end of input"
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        shown = repr(str(tok.value)[:30]) if tok is not None and str(tok.value) else "end of input"
        if tok is not None and tok.type == "$END":
            shown = "end of input"
        return f"unexpected {shown}"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r}"
    return str(exc).splitlines()[0][:200]


register_kind("hcl", HclDocument)
