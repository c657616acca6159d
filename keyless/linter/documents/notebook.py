"""Jupyter notebooks (`.ipynb`): JSON whose code cells are Python.

The file is read with the json module and its raw text is secret-scanned like any text file,
outputs included (the code cells once more as Python: `keyless/rules/secrets/cells.py`); only the cells' `source` strings get positions (one scan from string to string). The code cells of a Python notebook (nbformat 4) become one embedded
Python document, cells in order, so a name set in one cell is known in the next; each character
keeps its place in the JSON (escapes such as `\\"` and `\\n` included). IPython lines (`%magic`,
`!shell`) become a same-length `0` expression statement, and cells run by another interpreter
(`%%bash`, `%%writefile`, ...) are left out. When the cells do not parse together, each cell is
its own document. A fix's edits are written back as JSON strings, one list element per line, and
kept only when the edited file still reads back to the edited code.
"""

from __future__ import annotations

import json
from typing import Any

from json.decoder import scanstring

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.embedded import Embedded

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = frozenset({"%%time", "%%timeit", "%%capture", "%%prun", "%%debug", "%%python", "%%python3"})
_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class NotebookDocument(Document):
    """Read with the json module; only the code cells' strings get positions (a notebook's bulk
    is its outputs, which only the secret rules read, as raw text)."""

    kind = "notebook"
    embedded_kinds = frozenset({"python"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: list[Any] = []

    def _parse(self) -> None:
        try:
            value = json.loads(self.text, strict=False)
        except (ValueError, RecursionError):
            # keyless's own JSON reader says what is wrong in the parse-error vocabulary (and
            # accepts the comments and trailing commas some tools leave)
            from keyless.linter.documents.json import JsonSyntaxError, parse_json

            try:
                value, _ = parse_json(self.text)
            except JsonSyntaxError as exc:
                pos = self.lines.position(exc.offset)
                raise ParseError("json", exc.problem, pos.line, pos.column) from None
            except RecursionError:
                raise ParseError("json", "nesting too deep") from None
        self._values = [value]
        self.subkind = "notebook"

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def embedded(self) -> list[Embedded]:
        cached = self.memo.get("notebook.embedded")
        if cached is None:
            cached = self.memo["notebook.embedded"] = self._cells() if self.ensure_parsed() else []
        return cached

    def _cells(self) -> list[Embedded]:
        cells = _code_cells(self.text, self.values[0])
        if not cells:
            return []
        from keyless.linter.documents.python import PythonDocument

        def build(group: list[_Cell]) -> Embedded:
            text, origin, wide = _join(group)
            doc = PythonDocument(self.path, self.relpath, text)
            return Embedded(self, doc, origin, wide, encode=self._encoder(group), verify=self._verifier(group))

        whole = build(cells)
        if whole.doc.ensure_parsed() or len(cells) == 1:
            return [whole]
        return [build([c]) for c in cells]

    def _encoder(self, group: list["_Cell"]):
        elements = sorted(e for c in group for e in c.elements)
        starts = [e[0] for e in elements]

        def encode(host_start: int, host_end: int, content: str) -> str | None:
            import bisect

            k = bisect.bisect_right(starts, host_start) - 1
            if k < 0 or host_start > elements[k][1]:
                return None
            separator = elements[k][2]  # what closes one list element and opens the next
            out = []
            for ch in content:
                if ch == "\n":
                    out.append("\\n" + separator)
                else:
                    out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
            return "".join(out)

        return encode

    def _verifier(self, group: list["_Cell"]):
        indexes = [c.index for c in group]

        def verify(new_text: str) -> str | None:
            try:
                value = json.loads(new_text, strict=False)
            except (ValueError, RecursionError):
                return None
            cells = {c.index: c for c in _code_cells(new_text, value)}
            if any(i not in cells for i in indexes):
                return None
            return _join([cells[i] for i in indexes])[0]

        return verify


class _Cell:
    __slots__ = ("index", "text", "origin", "wide", "elements")

    def __init__(self, index: int, text: str, origin: list[int], wide: dict[int, int],
                 elements: list[tuple[int, int, str]]):
        self.index = index
        self.text = text
        self.origin = origin
        self.wide = wide
        # (body start, body end, separator) of each JSON string of `source`: the separator
        # written for a new line break ("" for a lone string, `",\n    "` in a list)
        self.elements = elements


def _is_python(root: dict) -> bool:
    meta = root.get("metadata") if isinstance(root.get("metadata"), dict) else {}
    for holder, key in ((meta.get("kernelspec"), "language"), (meta.get("language_info"), "name")):
        if isinstance(holder, dict) and isinstance(holder.get(key), str):
            return holder[key].lower() == "python"
    return True  # nbformat does not require the metadata; Python is the default kernel


def _code_cells(text: str, root: Any) -> list[_Cell]:
    if not isinstance(root, dict) or not isinstance(root.get("cells"), list) or not _is_python(root):
        return []
    sources = _source_tokens(text)
    out = []
    k_src = 0
    for k, cell in enumerate(root["cells"]):
        if not isinstance(cell, dict) or "source" not in cell:
            continue
        source = cell.get("source")
        pieces = source if isinstance(source, list) else [source]
        if not all(isinstance(p, str) for p in pieces):
            continue
        # the next "source" key in the text whose strings are this cell's (a "source" key inside
        # outputs or metadata is passed over)
        while k_src < len(sources) and [v for v, _, _ in sources[k_src][1]] != pieces:
            k_src += 1
        if k_src >= len(sources):
            break
        listed, tokens = sources[k_src]
        k_src += 1
        if cell.get("cell_type") != "code" or isinstance(source, list) != listed:
            continue
        chars: list[str] = []
        origin: list[int] = []
        wide: dict[int, int] = {}
        elements: list[tuple[int, int, str]] = []
        for piece, (_, start, end) in zip(pieces, tokens):
            elements.append((start + 1, end - 1, _separator(text, start) if listed else ""))
            decoded = _json_string_origin(text, start + 1, end - 1)
            if decoded is None or decoded[0] != piece:
                break
            s, o, w = decoded
            for i, width in w.items():
                wide[len(chars) + i] = width
            chars.extend(s)
            origin.extend(o)
        else:
            if not chars:
                continue
            masked = _mask_ipython("".join(chars))
            if masked is not None:
                out.append(_Cell(k, masked, origin, wide, elements))
    return out


def _source_tokens(text: str) -> list[tuple[bool, list[tuple[str, int, int]]]]:
    """Every `"source": ...` value in the text, in order: (written as a list, [(string, start,
    end) of each JSON string, quotes included]). One pass from string to string with the json
    module's own string scanner: outside strings a `"` always opens one."""
    out = []
    pos = 0
    n = len(text)
    find = text.find
    while True:
        q = find('"', pos)
        if q < 0:
            return out
        try:
            value, end = scanstring(text, q + 1, False)
        except ValueError:
            return out
        pos = end
        if value != "source":
            continue
        i = end
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n or text[i] != ":":
            continue
        i += 1
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i < n and text[i] == '"':
            value, end = scanstring(text, i + 1, False)
            out.append((False, [(value, i, end)]))
            pos = end
        elif i < n and text[i] == "[":
            tokens = []
            i += 1
            while True:
                while i < n and text[i] in " \t\r\n,":
                    i += 1
                if i >= n or text[i] != '"':
                    break
                value, end = scanstring(text, i + 1, False)
                tokens.append((value, i, end))
                i = end
            out.append((True, tokens))
            pos = i


def _json_string_origin(text: str, start: int, end: int) -> tuple[str, list[int], dict[int, int]] | None:
    """The characters of the JSON string body text[start:end], each with its offset and, for
    escapes, its width. Runs without a backslash are copied whole."""
    parts: list[str] = []
    origin: list[int] = []
    wide: dict[int, int] = {}
    size = 0
    i = start
    while i < end:
        j = text.find("\\", i, end)
        if j < 0:
            j = end
        if j > i:
            parts.append(text[i:j])
            origin.extend(range(i, j))
            size += j - i
        if j >= end:
            break
        nxt = text[j + 1] if j + 1 < end else ""
        if nxt == "u":
            try:
                code = int(text[j + 2:j + 6], 16)
            except ValueError:
                return None
            width = 6
            if 0xD800 <= code < 0xDC00 and text[j + 6:j + 8] == "\\u":
                try:
                    low = int(text[j + 8:j + 12], 16)
                except ValueError:
                    return None
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    width = 12
            ch = chr(code)
        elif nxt in _JSON_ESCAPES:
            ch, width = _JSON_ESCAPES[nxt], 2
        else:
            return None
        wide[size] = width
        parts.append(ch)
        origin.append(j)
        size += 1
        i = j + width
    return "".join(parts), origin, wide


def _mask_ipython(code: str) -> str | None:
    """IPython syntax -> same-length Python; None for a cell another interpreter runs."""
    lines = code.split("\n")
    first = lines[0].strip()
    if first.startswith("%%"):
        if first.split()[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = _blank(lines[0])
    for n, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (n == 0 and first.startswith("%%")):
            lines[n] = _blank(line)
    return "\n".join(lines)


def _blank(line: str) -> str:
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    return indent + ("0" + " " * (len(body) - 1) if body else "")


def _join(cells: list[_Cell]) -> tuple[str, list[int], dict[int, int]]:
    """Cells in order, each ending with a line break (a virtual one, offset -1, when missing)."""
    parts: list[str] = []
    origin: list[int] = []
    wide: dict[int, int] = {}
    size = 0
    for c in cells:
        parts.append(c.text)
        origin.extend(c.origin)
        for i, w in c.wide.items():
            wide[size + i] = w
        size += len(c.text)
        if not c.text.endswith("\n"):
            parts.append("\n")
            origin.append(-1)
            size += 1
    origin.append(-1)
    return "".join(parts), origin, wide


def _separator(text: str, quote: int) -> str:
    """How to split a list element at a new line break: close the string, then open the next
    one on its own line with the same indentation (or after `, ` on a one-line list)."""
    line_start = text.rfind("\n", 0, quote) + 1
    before = text[line_start:quote]
    return f'",\n{before}"' if not before.strip() else '", "'


register_kind("notebook", NotebookDocument)
