"""Python strings built from several literals: one decoded view per built string.

A connection string is often written as adjacent literals (implicit concatenation, usually across
lines) or as literals joined with `+`; each piece alone may lack the host or the key name the
recognisers need. `built_strings(doc)` yields, for every such string in the syntax tree, the joined
text and, for each of its characters, the offset in the file it came from:

- the pieces of a literal are found by a small lexer over the node's source (prefixes, the four
  quote forms, backslash escapes), so positions do not depend on the Python version's tokenizer;
- an f-string's replacement fields (`{account}`) become a same-length placeholder (`<xxxxxx>`),
  never a value: the literal parts are what is scanned;
- a piece with escapes maps all its characters to the piece (the value is what `ast` says).

Only strings of two or more pieces are returned: a single literal is read by the raw scan.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

from keyless.linter.finding import Position

if TYPE_CHECKING:
    from keyless.linter.documents import Document

_PREFIX_CHARS = frozenset("rRbBuUfF")


def _pieces(src: str) -> list[tuple[int, int, str, str]] | None:
    """(body start, body end, prefix, quote) of every string literal in `src`, which holds only
    literals, blanks, comments, parentheses and `+`; None when something else appears."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n\\()+":
            i += 1
            continue
        if c == "#":
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        j = i
        while j < n and j - i < 3 and src[j] in _PREFIX_CHARS:
            j += 1
        if j >= n or src[j] not in "\"'":
            return None
        prefix = src[i:j].lower()
        quote = src[j : j + 3] if src[j : j + 3] in ('"""', "'''") else src[j]
        start = j + len(quote)
        k = start
        raw = "r" in prefix
        while True:
            end = src.find(quote, k)
            if end < 0:
                return None
            b = end - 1
            slashes = 0
            while b >= start and src[b] == "\\" and not raw:
                slashes += 1
                b -= 1
            if slashes % 2 == 0:
                break
            k = end + 1
        out.append((start, end, prefix, quote))
        i = end + len(quote)
    return out


def _fstring_placeholders(body: str) -> str:
    """`{expr}` replaced by `<xxx>` of the same length; `{{` / `}}` kept."""
    out = list(body)
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c in "{}" and i + 1 < n and body[i + 1] == c:
            i += 2
            continue
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                depth += {"{": 1, "}": -1}.get(body[j], 0)
                j += 1
            width = j - i
            out[i:j] = list("<" + "x" * (width - 2) + ">") if width >= 2 else ["<"]
            i = j
            continue
        i += 1
    return "".join(out)


def _piece_text(src: str, start: int, end: int, prefix: str, quote: str) -> tuple[str, bool] | None:
    """(text, exact): the piece's characters as the view shows them; exact when they map one to one."""
    body = src[start:end]
    if "b" in prefix:
        return None
    if "f" in prefix:
        return _fstring_placeholders(body), "\\" not in body or "r" in prefix
    if "r" in prefix or "\\" not in body:
        return body, True
    try:
        value = ast.literal_eval(f"{prefix}{quote}{body}{quote}")
    except (ValueError, SyntaxError):
        return None
    return (value, False) if isinstance(value, str) else None


def _offset(doc: "Document", line: int, byte_col: int) -> int:
    return doc.lines.offset(Position(line, doc._column(line, byte_col)))


def _holds(node: ast.AST, hints: tuple[str, ...]) -> bool:
    """A literal (or an f-string's literal parts) holding one of `hints` (lower-case)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(h in node.value.lower() for h in hints)
    if isinstance(node, ast.JoinedStr):
        return any(_holds(v, hints) for v in node.values if isinstance(v, ast.Constant))
    return False


def built_strings(doc: "Document", hints: tuple[str, ...] = ()) -> Iterator[tuple[str, list[int], list[int]]]:
    """(joined text, starts, ends) for every string built from two or more literals: view
    character k comes from the file's characters starts[k]..ends[k]. With `hints`, only strings
    some literal of which holds one of them (a cheap test before any lexing)."""
    if not doc.ensure_parsed() or doc.tree is None:
        return
    done: set[int] = set()
    for node in ast.walk(doc.tree):
        if id(node) in done:
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            operands = _add_chain(node)
            if operands is None:
                continue
            done.update(id(op) for op in operands)
            if hints and not any(_holds(op, hints) for op in operands):
                continue
            spans = [(op.lineno, op.col_offset, op.end_lineno, op.end_col_offset) for op in operands]
        elif isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            if hints and not _holds(node, hints):
                continue
            spans = [(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)]
        else:
            continue
        got = _join(doc, spans)
        if got is not None:
            yield got


def _add_chain(node: ast.BinOp) -> list[ast.AST] | None:
    """The literal operands of `"a" + "b" + f"c"`; None when any operand is not a literal."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.Add):
            stack.append(cur.right)
            stack.append(cur.left)
        elif isinstance(cur, ast.JoinedStr) or (isinstance(cur, ast.Constant) and isinstance(cur.value, str)):
            out.append(cur)
        else:
            return None
    return out


def _join(doc: "Document", spans: list[tuple]) -> tuple[str, list[int], list[int]] | None:
    text = doc.text
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    count = 0
    for line, col, end_line, end_col in spans:
        if end_line is None or end_col is None:
            return None
        a, b = _offset(doc, line, col), _offset(doc, end_line, end_col)
        pieces = _pieces(text[a:b])
        if not pieces:
            return None
        for start, end, prefix, quote in pieces:
            got = _piece_text(text, a + start, a + end, prefix, quote)
            if got is None:
                return None
            piece, exact = got
            parts.append(piece)
            if exact:
                starts.extend(range(a + start, a + start + len(piece)))
                ends.extend(range(a + start + 1, a + start + len(piece) + 1))
            else:  # escapes: every character stands for the whole piece
                starts.extend([a + start] * len(piece))
                ends.extend([a + end] * len(piece))
            count += 1
    if count < 2:
        return None
    return "".join(parts), starts, ends
