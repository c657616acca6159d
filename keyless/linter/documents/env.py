""".env documents: `KEY=VALUE` lines, the dialect docker compose / python-dotenv accept.

* `KEY=VALUE`, `export KEY=VALUE`, blanks around `=` are ignored;
* unquoted values end at the line end; ` #` (whitespace then `#`) starts an inline comment;
* `'single'` values are literal; `"double"` values may span lines and understand the escapes
  `\\n \\r \\t \\" \\\\ \\$` (other backslashes are kept); text after the closing quote is ignored;
* full-line `#` comments, blank lines, CRLF / CR line ends; lines that are not assignments are
  skipped, never an error (env files in the wild are messy). Duplicate keys: the last one wins.

`values[0]` is `{name: value}`; `locate((0, name))` is the value's span (inside the quotes for a
quoted value), `locate_key((0, name))` the name's span.
"""

from __future__ import annotations

import re
from typing import Any

from keyless.linter.documents import Document, register_kind

_ASSIGN = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*")
_LINE_END = re.compile(r"\r\n|\r|\n")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
_DQ_ESCAPE = re.compile(r"\\(.)", re.S)


def parse_env(text: str) -> tuple[dict[str, str], dict[str, tuple[int, int, int, int, None]]]:
    values: dict[str, str] = {}
    positions: dict[str, tuple[int, int, int, int, None]] = {}
    n = len(text)
    i = 1 if text.startswith("\ufeff") else 0
    line_end = _LINE_END.search
    assign = _ASSIGN.match
    while i < n:
        m_end = line_end(text, i)
        eol = m_end.start() if m_end else n
        nxt = m_end.end() if m_end else n
        m = assign(text, i, eol)
        if m is None:
            i = nxt
            continue
        key = m.group(1)
        ks, ke = m.span(1)
        j = m.end()
        quote = text[j] if j < eol else ""
        if quote == "'":
            close = text.find("'", j + 1, eol)
            if close < 0:  # unterminated: take the rest of the line
                value, vs, ve = text[j + 1:eol], j + 1, eol
            else:
                value, vs, ve = text[j + 1:close], j + 1, close
        elif quote == '"':
            close = _find_closing_quote(text, j + 1)
            if close < 0:  # unterminated: take the rest of the line
                close = eol
            else:
                # The value may span lines: continue after the line holding the closing quote.
                m_end = line_end(text, close)
                nxt = m_end.end() if m_end else n
            raw = text[j + 1:close]
            value = _DQ_ESCAPE.sub(_unescape, raw) if "\\" in raw else raw
            vs, ve = j + 1, close
        else:
            ve = eol
            hash_at = _inline_comment(text, j, eol)
            if hash_at >= 0:
                ve = hash_at
            while ve > j and text[ve - 1] in " \t":
                ve -= 1
            value, vs = text[j:ve], j
        values[key] = value
        positions.pop(key, None)
        positions[key] = (ks, ke, vs, ve, None)
        i = nxt
    return values, positions


def _find_closing_quote(text: str, i: int) -> int:
    while True:
        q = text.find('"', i)
        if q < 0:
            return -1
        backslashes = 0
        k = q - 1
        while k >= i and text[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return q
        i = q + 1


def _inline_comment(text: str, start: int, end: int) -> int:
    if start < end and text[start] == "#":
        return start  # `KEY=#...`: an empty value followed by a comment
    i = text.find("#", start, end)
    while i >= 0:
        if text[i - 1] in " \t":
            return i
        i = text.find("#", i + 1, end)
    return -1


def _unescape(m: re.Match) -> str:
    c = m.group(1)
    return _ESCAPES.get(c, "\\" + c)


class EnvDocument(Document):
    kind = "env"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: list[Any] = []
        self._positions: dict = {}

    def _parse(self) -> None:
        values, self._positions = parse_env(self.text)
        self._values = [values]

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def _entry(self, path: tuple):
        if not self.ensure_parsed():
            return None
        if tuple(path) == (0,):
            return (0, len(self.text), 0, len(self.text))
        if len(path) != 2 or path[0] != 0:
            return None
        return self._positions.get(path[1]) if isinstance(path[1], str) else None

register_kind("env", EnvDocument)
