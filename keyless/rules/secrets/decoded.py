"""Secrets behind an encoding: escaped strings and base64-encoded Kubernetes Secret data.

The scanner reads raw text. A credential can still be written so that no recogniser sees it:

- escaped: a connection string inside a JSON string inside JSON (`\\"AccountKey=...\\"`), a SAS URL
  whose `&` is `\\u0026` (test recordings, ARM outputs) or `&amp;` (XML), a URL-encoded
  connection string (`AccountKey%3D...%3B`);
- encoded: the `data:` of a Kubernetes `Secret` is base64, and a `.dockerconfigjson` entry holds a
  JSON document whose `auths.<registry>.auth` is base64 again.

`unescape` gives a decoded view of one line and, for every character of the view, the offset of
the raw text it came from, so a secret found in the view is reported on the raw characters that
encode it. `secret_data` lists the base64 values of Secret manifests with their raw spans; a
secret found in a decoded value is reported on the whole encoded value (base64 has no per-character
mapping). Every regex here is linear (literal-anchored alternatives, bounded repetition).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Iterator

from keyless.linter.lazyre import lazy_compile

if TYPE_CHECKING:
    from keyless.linter.documents import Document

# One escape: \uXXXX, \" \\ \/ \' , a URL-encoded structural character, an HTML entity.
_ESCAPE_RE = lazy_compile(
    r"\\u([0-9a-fA-F]{4})|\\([\"\\/'])|%(2[56BbCcFf]|3[AaBbDdFf]|40)|&(amp|quot|apos|#x2[67]|#3[89]|#x3[dD]|#61);"
)
_ENTITIES = {"amp": "&", "quot": '"', "apos": "'", "#x26": "&", "#x27": "'", "#38": "&", "#39": "'",
             "#x3d": "=", "#x3D": "=", "#61": "="}

# Cheap tests for "this text may hold an escape worth decoding" (on lower-cased text).
ESCAPE_HINTS = ("\\u00", '\\"', "\\/", "%3d", "%3b", "%26", "%2b", "%2f", "%3a", "%40", "&amp;", "&quot;", "&#")
ESCAPE_HINT_RE = lazy_compile(r'\\(?:u00|["/])|%(?:3[dba]|2[6bf]|40)|&(?:amp;|quot;|#)')


def _decode_one(escape: str) -> str:
    if escape[0] == "\\":
        return chr(int(escape[2:], 16)) if escape[1] == "u" else escape[1]
    if escape[0] == "%":
        return chr(int(escape[1:], 16))
    return _ENTITIES[escape[1:-1]]


class _Table(dict):
    """escape -> character, filled on first use (a dict lookup per escape keeps long lines fast)."""

    def __missing__(self, escape: str) -> str:
        ch = self[escape] = _decode_one(escape)
        return ch


_TABLE = _Table()


def unescape_view(text: str) -> str:
    """The decoded view of `text` (the text itself when it holds no escape)."""
    table = _TABLE
    return _ESCAPE_RE.sub(lambda m: table[m[0]], text)


def unescape(text: str) -> tuple[str, list[int]] | None:
    """(view, offsets) with offsets[i] the raw offset of view[i] and offsets[len(view)] the raw
    end; None when `text` holds no escape."""
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _ESCAPE_RE.finditer(text):
        if m.start() > pos:
            pieces.append(text[pos : m.start()])
            offsets.extend(range(pos, m.start()))
        pieces.append(_TABLE[m[0]])
        offsets.append(m.start())
        pos = m.end()
    if not pieces:
        return None
    pieces.append(text[pos:])
    offsets.extend(range(pos, len(text) + 1))
    return "".join(pieces), offsets


def b64decode_text(value: str) -> str | None:
    """A base64 value decoded to printable text (UTF-8), or None."""
    v = "".join(value.split())
    if len(v) < 8 or len(v) % 4:
        return None
    try:
        raw = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return None
    return text


def secret_data(doc: "Document") -> Iterator[tuple[int, str, str, int, int]]:
    """(document index, key, base64 value, raw start, raw end) of every `data:` entry of a
    Kubernetes Secret."""
    if doc.kind not in ("yaml", "json") or not doc.ensure_parsed():
        return
    for index, value in enumerate(doc.values):
        if not isinstance(value, dict) or value.get("kind") != "Secret" or not isinstance(value.get("data"), dict):
            continue
        for key, encoded in value["data"].items():
            if not isinstance(key, str) or not isinstance(encoded, str):
                continue
            entry = doc._entry((index, "data", key))
            if entry is None:
                continue
            start, end = entry[2], entry[3]
            raw = doc.text[start:end]
            # The scalar's own characters: skip quotes and trailing blanks, keep the positions exact.
            stripped = raw.strip()
            if stripped[:1] in "\"'" and stripped[-1:] == stripped[:1]:
                stripped = stripped[1:-1]
            i = raw.find(stripped) if stripped else -1
            if i < 0 or "".join(stripped.split()) != "".join(encoded.split()):
                continue
            yield index, key, encoded, start + i, start + i + len(stripped)
