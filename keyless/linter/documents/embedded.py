"""Documents inside documents: a notebook's code cells are Python held in JSON strings.

An `Embedded` is a virtual Document (its own kind, text and parse) plus where each of its
characters is written in the host file. The engine runs on it the rules that do not already read
the host's kind (the Python rules on a notebook; secret rules scan the host's raw text and, through
`keyless/rules/secrets/cells.py`, its code cells, so one secret still gives one finding), and `host_finding` maps findings back: spans exactly, lazy
fixes through `materialize`, which computes the fix on the virtual document and re-encodes its
edits for the host (`encode`, e.g. JSON string escapes and one list element per line).
"""

from __future__ import annotations

from typing import Any, Callable

from keyless.linter.finding import Edit, Finding, Fix, Position, Span

EMBEDDED_KEY = "embedded"  # fix_data marker of a finding made in an embedded document


class Embedded:
    def __init__(self, host: Any, doc: Any, origin: list[int], wide: dict[int, int] | None = None,
                 encode: Callable[[int, int, str], str | None] | None = None,
                 verify: Callable[[str], str | None] | None = None):
        self.host = host
        self.doc = doc
        self.origin = origin  # host offset of every character of doc.text, plus the end
        self.wide = wide or {}  # characters written with several host characters -> their width
        self.encode = encode  # (host_start, host_end, new text) -> host text, or None when impossible
        self.verify = verify  # new host text -> the embedded text it now holds (None: unreadable)

    # -- positions --------------------------------------------------------------------------------
    def host_offset(self, offset: int, end: bool = False) -> int | None:
        """Host offset of a document offset; `end`: of the position just after offset - 1."""
        if end and offset > 0:
            k = offset - 1
            if k >= len(self.origin) - 1 or self.origin[k] < 0:
                return None
            return self.origin[k] + self.wide.get(k, 1)
        if offset >= len(self.origin) or self.origin[offset] < 0:
            return None
        return self.origin[offset]

    def host_span(self, span: Span) -> Span | None:
        lines = self.doc.lines
        s, e = lines.offset(span.start), lines.offset(span.end)
        hs = self.host_offset(s)
        he = self.host_offset(e, end=True) if e > s else hs
        if hs is None or he is None:
            return None
        return self.host.lines.span(hs, he)

    # -- findings and fixes -----------------------------------------------------------------------
    def host_finding(self, f: Finding, index: int) -> Finding | None:
        span = self.host_span(f.span)
        if span is None:
            return None
        fix = f.fix
        data = f.fix_data
        if fix is not None and fix.lazy:
            data = {EMBEDDED_KEY: index, "span": [f.span.start.line, f.span.start.column, f.span.end.line,
                                                  f.span.end.column], "data": f.fix_data}
        elif fix is not None and fix.edits:
            fix = self.host_fix(fix)
        return f.with_(span=span, fix=fix, fix_data=data)

    def host_fix(self, fix: Fix) -> Fix:
        """The fix's edits in host coordinates, verified: applying them must leave the host
        readable and holding exactly the edited embedded text; else only the advice remains."""
        if not fix.edits or self.encode is None:
            return Fix(fix.message, fix.applicability) if fix.edits else fix
        lines = self.doc.lines
        inner: list[tuple[int, int, str]] = []
        host: list[tuple[int, int, str]] = []
        for e in fix.edits:
            s, t = lines.offset(e.span.start), lines.offset(e.span.end)
            hs = self.host_offset(s)
            he = self.host_offset(t, end=True) if t > s else hs
            if hs is None or he is None:
                return Fix(fix.message + " (no automatic rewrite: the edit crosses a cell boundary)", _display())
            content = self.encode(hs, he, e.content)
            if content is None:
                return Fix(fix.message + " (no automatic rewrite in this file)", _display())
            inner.append((s, t, e.content))
            host.append((hs, he, content))
        new_inner = _apply(self.doc.text, inner)
        new_host = _apply(self.host.text, host)
        if new_inner is None or new_host is None or self.verify is None or self.verify(new_host) != new_inner:
            return Fix(fix.message + " (no automatic rewrite: the edited file did not verify)", _display())
        hl = self.host.lines
        edits = tuple(Edit(hl.span(hs, he), c) for hs, he, c in host)
        return Fix(fix.message, fix.applicability, edits)


def _display():
    from keyless.linter.finding import Applicability

    return Applicability.DISPLAY_ONLY


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str | None:
    out = []
    pos = 0
    for s, e, c in sorted(edits, key=lambda x: (x[0], x[1])):
        if s < pos:
            return None
        out.append(text[pos:s])
        out.append(c)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def materialize(doc: Any, finding: Finding, rule: Any) -> Fix | None:
    """The lazy fix of a finding made in one of `doc`'s embedded documents."""
    data = finding.fix_data
    embedded = doc.embedded() if hasattr(doc, "embedded") else []
    index = data.get(EMBEDDED_KEY) if isinstance(data, dict) else None
    if not isinstance(index, int) or not 0 <= index < len(embedded):
        return None
    emb = embedded[index]
    sp = data.get("span") or [1, 1, 1, 1]
    inner = finding.with_(span=Span(Position(sp[0], sp[1]), Position(sp[2], sp[3])), fix_data=data.get("data"))
    fix = rule.materialize_fix(emb.doc, inner)
    if fix is None:
        return None
    return emb.host_fix(fix)
