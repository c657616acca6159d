"""Secrets in a notebook's code cells, read as the Python they are.

The secret rules scan a notebook's raw JSON text once (outputs and markdown included). In that
text a code cell's `key = "..."` is written `key = \\"...\\"` inside a JSON string, where no
recogniser sees a quoted literal, and a Python expression such as `credential=storage_key` reads
like an unquoted value. So the code cells (the notebook's embedded Python document, every cell in
order) are scanned too, as Python, and what they hold is mapped back to the characters of the file:

- `with_code_cells`: the raw scan's secrets plus the cells' secrets that the raw scan did not
  already report on the same characters (one secret, one finding);
- `code_cell_spans`: for masking, the cells' credential-looking values replace the raw text's in
  code (a name is not a secret there), while the raw text's stay everywhere else (outputs, IPython
  magics, which the Python view blanks out).
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from keyless.linter.documents import Document
    from keyless.rules.secrets.scanner import Secret


def _cells(doc: "Document") -> list:
    if getattr(doc, "kind", "") != "notebook":
        return []
    try:
        return [e for e in doc.embedded() if e.doc.kind == "python"]
    except (RecursionError, ValueError):
        return []


def _mapped(emb, secrets: Iterable["Secret"]) -> list["Secret"]:
    out = []
    for s in secrets:
        hs = emb.host_offset(s.start)
        he = emb.host_offset(s.end, end=True) if s.end > s.start else None
        if hs is not None and he is not None and he > hs:
            out.append(dataclasses.replace(s, start=hs, end=he))
    return out


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans[: bisect.bisect_left(spans, (end, end))])


def with_code_cells(doc: "Document", found: list["Secret"], run: Callable[["Document"], list["Secret"]]
                    ) -> list["Secret"]:
    """`found` (the raw text's secrets) plus those `run` finds in the code cells and the raw text
    did not report on overlapping characters."""
    cells = _cells(doc)
    if not cells:
        return found
    taken = sorted((s.start, s.end) for s in found)
    same = {(s.start, s.end): s for s in found}
    extra = []
    for emb in cells:
        for s in _mapped(emb, run(emb.doc)):
            raw = same.get((s.start, s.end))
            if raw is not None:  # the raw text's reading of the same characters: add what the cells know
                raw.resource = raw.resource or s.resource
                raw.host = raw.host or s.host
                raw.setting = raw.setting or s.setting
            elif not _overlaps(taken, s.start, s.end):
                extra.append(s)
    if not extra:
        return found
    return sorted(found + extra, key=lambda s: (s.start, -(s.end - s.start)))


def code_cell_spans(doc: "Document", raw_spans: set[tuple[int, int]],
                    run: Callable[["Document"], list["Secret"]]) -> set[tuple[int, int]]:
    """Masking spans: the raw text's `raw_spans` outside code, the cells' own (`run`) inside."""
    cells = _cells(doc)
    if not cells:
        return raw_spans
    host = doc.text
    code: set[int] = set()  # host offsets of code characters the Python view reads as written
    for emb in cells:
        text = emb.doc.text
        for k, h in enumerate(emb.origin[: len(text)]):
            # a masked IPython line (`%env X=...` read as `0000...`) keeps its raw-text masking
            if h >= 0 and (text[k] == host[h] or host[h] == "\\"):
                code.add(h)
    out = {sp for sp in raw_spans if sp[0] not in code}
    for emb in cells:
        out.update((s.start, s.end) for s in _mapped(emb, run(emb.doc)))
    return out
