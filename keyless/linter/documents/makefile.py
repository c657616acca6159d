"""Makefiles: each recipe line is a shell script (read by the bash grammar).

A recipe line starts with a tab after a rule line; `\\`-continued lines belong to it (make
passes the backslash-newline on to the shell and drops the next line's leading tab). Make's own
syntax is undone with exact positions: the `@`, `-` and `+` prefixes are dropped, `$$` is the
shell's `$`, and a make reference (`$(VAR)`, `${VAR}`, `$(shell ...)`, `$@`) becomes a
same-length `${GGG}` expansion, an unknown value. `define` blocks are skipped.
"""

from __future__ import annotations

import re

from keyless.linter.documents import Document, register_kind
from keyless.linter.documents.shell import Script

_RULE = re.compile(r"^[^\t#=][^=]*?(?<![:?+!])::?(?![=])")
_VARIABLE = re.compile(r"^\s*(?:export\s+|override\s+)?[\w.-]+\s*(?::{1,3}|[?+!])?=")


class MakefileDocument(Document):
    kind = "makefile"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._recipes: list[list[tuple[int, int]]] = []

    def _parse(self) -> None:
        self._recipes = _recipes(self.text)

    def scripts(self) -> list[Script]:
        self.ensure_parsed()
        return [_script(self.text, lines) for lines in self._recipes]


def _lines(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl < 0:
            nl = len(text)
        end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        out.append((pos, end))
        pos = nl + 1
    return out


def _recipes(text: str) -> list[list[tuple[int, int]]]:
    """Each recipe line as its physical lines (start, end offsets)."""
    lines = _lines(text)
    recipes: list[list[tuple[int, int]]] = []
    in_rule = False
    in_define = False
    i = 0
    while i < len(lines):
        s, e = lines[i]
        line = text[s:e]
        if in_define:
            if line.strip() == "endef":
                in_define = False
            i += 1
            continue
        if line.startswith("\t") and in_rule:
            group = [(s, e)]
            while text[s:e].endswith("\\") and i + 1 < len(lines):
                i += 1
                s, e = lines[i]
                group.append((s, e))
            recipes.append(group)
            i += 1
            continue
        stripped = line.strip()
        if stripped.startswith("define ") or stripped == "define":
            in_define = True
        elif stripped and not stripped.startswith("#"):
            in_rule = bool(_RULE.match(line)) and not _VARIABLE.match(line)
        i += 1
    return recipes


_MAKE_REF = re.compile(r"\$\$|\$[({]|\$[^({$]")


def _script(text: str, group: list[tuple[int, int]]) -> Script:
    pieces: list[tuple[int, str, int]] = []
    for n, (s, e) in enumerate(group):
        pos = s + 1 if text[s:s + 1] == "\t" else s  # make drops the recipe prefix tab
        if n == 0:
            while pos < e and text[pos] in "@-+ \t":
                pos += 1
        line_end = e + 1 if n < len(group) - 1 else e  # keep the newline inside a continuation
        pieces.extend(_unmake(text, pos, min(line_end, len(text))))
    return Script.from_pieces(pieces, "bash")


def _unmake(text: str, start: int, end: int) -> list[tuple[int, str, int]]:
    out: list[tuple[int, str, int]] = []
    pos = start
    while pos < end:
        m = _MAKE_REF.search(text, pos, end)
        if m is None:
            out.append((pos, text[pos:end], 1))
            break
        if m.start() > pos:
            out.append((pos, text[pos:m.start()], 1))
        tok = m.group(0)
        if tok == "$$":
            out.append((m.start(), "$", 2))
            pos = m.end()
        elif tok in ("$(", "${"):
            close = _matching(text, m.start() + 1, end)
            n = close + 1 - m.start()
            out.append((m.start(), "${" + "G" * max(n - 3, 1) + "}" if n >= 4 else "${G}"[:n], 1))
            pos = close + 1
        else:  # $@, $<, $X: an automatic or one-letter variable
            out.append((m.start(), "$G", 1))
            pos = m.end()
    return out


def _matching(text: str, open_at: int, end: int) -> int:
    opener = text[open_at]
    closer = ")" if opener == "(" else "}"
    depth = 0
    for i in range(open_at, end):
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            depth -= 1
            if depth == 0:
                return i
    return end - 1


register_kind("makefile", MakefileDocument)
