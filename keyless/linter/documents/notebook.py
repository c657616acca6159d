"""Jupyter notebooks (`.ipynb`): JSON whose code cells are Python.

The file is read as JSON (positions of every string) and its raw text is secret-scanned like any
text file, outputs included. The code cells of a Python notebook (nbformat 4) become one embedded
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

from keyless.linter.documents import register_kind
from keyless.linter.documents.embedded import Embedded
from keyless.linter.documents.json import JsonDocument, walk_positions

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = frozenset({"%%time", "%%timeit", "%%capture", "%%prun", "%%debug", "%%python", "%%python3"})
_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class NotebookDocument(JsonDocument):
    kind = "notebook"

    def embedded(self) -> list[Embedded]:
        cached = self.memo.get("notebook.embedded")
        if cached is None:
            cached = self.memo["notebook.embedded"] = self._cells() if self.ensure_parsed() else []
        return cached

    def _cells(self) -> list[Embedded]:
        cells = _code_cells(self.text, self.values[0], self._positions)
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
            from keyless.linter.documents.json import JsonSyntaxError, parse_json

            try:
                value, positions = parse_json(new_text)
            except (JsonSyntaxError, RecursionError):
                return None
            cells = {c.index: c for c in _code_cells(new_text, value, positions)}
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


def _code_cells(text: str, root: Any, positions: Any) -> list[_Cell]:
    if not isinstance(root, dict) or not isinstance(root.get("cells"), list) or not _is_python(root):
        return []
    out = []
    for k, cell in enumerate(root["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source")
        pieces = source if isinstance(source, list) else [source]
        paths = [("cells", k, "source", j) for j in range(len(pieces))] if isinstance(source, list) \
            else [("cells", k, "source")]
        chars: list[str] = []
        origin: list[int] = []
        wide: dict[int, int] = {}
        elements: list[tuple[int, int, str]] = []
        ok = True
        for piece, path in zip(pieces, paths):
            entry = walk_positions(positions, path)
            if not isinstance(piece, str) or entry is None:
                ok = False
                break
            elements.append((entry[2] + 1, entry[3] - 1, _separator(text, entry[2]) if isinstance(source, list) else ""))
            decoded = _json_string_origin(text, entry[2] + 1, entry[3] - 1)
            if decoded is None or decoded[0] != piece:
                ok = False
                break
            s, o, w = decoded
            for i, width in w.items():
                wide[len(chars) + i] = width
            chars.extend(s)
            origin.extend(o)
        if not ok or not chars:
            continue
        masked = _mask_ipython("".join(chars))
        if masked is None:
            continue
        out.append(_Cell(k, masked, origin, wide, elements))
    return out


def _json_string_origin(text: str, start: int, end: int) -> tuple[str, list[int], dict[int, int]] | None:
    """The characters of the JSON string body text[start:end], each with its offset and, for
    escapes, its width."""
    chars: list[str] = []
    origin: list[int] = []
    wide: dict[int, int] = {}
    i = start
    while i < end:
        ch = text[i]
        if ch != "\\":
            chars.append(ch)
            origin.append(i)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < end else ""
        if nxt == "u":
            try:
                code = int(text[i + 2:i + 6], 16)
            except ValueError:
                return None
            width = 6
            if 0xD800 <= code < 0xDC00 and text[i + 6:i + 8] == "\\u":
                try:
                    low = int(text[i + 8:i + 12], 16)
                except ValueError:
                    return None
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    width = 12
            wide[len(chars)] = width
            chars.append(chr(code))
            origin.append(i)
            i += width
            continue
        if nxt not in _JSON_ESCAPES:
            return None
        wide[len(chars)] = 2
        chars.append(_JSON_ESCAPES[nxt])
        origin.append(i)
        i += 2
    return "".join(chars), origin, wide


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
