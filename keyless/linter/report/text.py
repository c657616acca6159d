"""Human output (the default):

    app/storage.py:15:15: KL201 [high] BlobServiceClient.from_connection_string uses a shared key; use DefaultAzureCredential
      [unsafe] help: Replace with BlobServiceClient(account_url=..., credential=DefaultAzureCredential()); grant Storage Blob Data Contributor (or Reader to read only)
    infra/bad.json:3: warning: invalid JSON: unexpected end of input, expected a value (line 3, column 1); only secret-scanned
    Found 1 finding (1 fixable with --unsafe-fixes).

A finding's message and its help are one line each (keyless/linter/messages.py).

`statistics` prints one line per rule instead (count, code, fix marker, name), like
`ruff --statistics`. Paths and messages are shown with control characters escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyless.linter.finding import Applicability, Severity
from keyless.linter.report import FileError, Report, summary_counts
from keyless.linter.report._common import FIX_MARKERS, printable

if TYPE_CHECKING:
    from keyless.linter.finding import Finding

# SGR parameters; combine with ";" (e.g. _BOLD_RED).
_BOLD = "1"
_DIM = "2"
_RED = "31"
_GREEN = "32"
_YELLOW = "33"
_BLUE = "34"
_CYAN = "36"
_BOLD_RED = "1;31"

_SEVERITY_STYLE = {
    Severity.CRITICAL: _BOLD_RED,
    Severity.HIGH: _RED,
    Severity.MEDIUM: _YELLOW,
    Severity.LOW: _CYAN,
    Severity.INFO: _BLUE,
}
_MARKER_STYLE = {
    Applicability.SAFE: _GREEN,
    Applicability.UNSAFE: _YELLOW,
    Applicability.DISPLAY_ONLY: _CYAN,
}


class _Painter:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}\x1b[0m" if self.enabled and text else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _finding_lines(f: "Finding", paint: _Painter, show_fixes: bool) -> list[str]:
    loc = f"{printable(f.path)}:{f.span.start.line}:{f.span.start.column}:"
    sev = f"[{f.severity.value}]"
    lines = [
        f"{paint(loc, _BOLD)} {paint(f.code, _BOLD_RED)} "
        f"{paint(sev, _SEVERITY_STYLE[f.severity])} {printable(f.message)}"
    ]
    if show_fixes and f.fix is not None:
        marker = FIX_MARKERS[f.fix.applicability]
        lines.append(
            f"  {paint(marker, _MARKER_STYLE[f.fix.applicability])} help: {printable(f.fix.message)}"
        )
    return lines


def _error_line(err: FileError, paint: _Painter) -> str:
    where = printable(err.path) + (f":{err.line}" if err.line else "")
    level = "warning" if err.level == "warning" else "error"
    style = _YELLOW if level == "warning" else _BOLD_RED
    return f"{paint(where + ':', _BOLD)} {paint(level + ':', style)} {printable(err.message)}"


def _statistics_lines(report: Report, paint: _Painter) -> list[str]:
    rows: dict[str, list] = {}  # code -> [count, name, best applicability]
    order = {Applicability.SAFE: 0, Applicability.UNSAFE: 1, Applicability.DISPLAY_ONLY: 2, None: 3}
    for f in report.findings:
        row = rows.setdefault(f.code, [0, f.name, None])
        row[0] += 1
        app = f.fix.applicability if f.fix is not None else None
        if order[app] < order[row[2]]:
            row[2] = app
    if not rows:
        return []
    items = sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0]))
    count_w = max(len(str(r[0])) for _, r in items)
    code_w = max(len(code) for code, _ in items)
    marker_w = max(len(FIX_MARKERS[r[2]]) if r[2] else 0 for _, r in items)
    out = []
    for code, (count, name, app) in items:
        marker = FIX_MARKERS[app] if app else ""
        pad = " " * (marker_w - len(marker))
        marker_col = (paint(marker, _MARKER_STYLE[app]) if app else "") + pad
        sep = " " if marker_w else ""
        out.append(
            f"{count:>{count_w}}  {paint(code.ljust(code_w), _BOLD_RED)}  {marker_col}{sep}{name}"
        )
    return out


def _summary(report: Report) -> str:
    counts = summary_counts(report.findings)
    remaining = counts.total
    parts = []
    if report.fixed:
        parts.append(f"{report.fixed} fixed, {remaining} remaining")
    fixable = []
    if counts.safe:
        fixable.append(f"{counts.safe} fixable with --fix")
    if counts.unsafe:
        how = "with" if counts.safe else "fixable with"
        fixable.append(f"{counts.unsafe} {how} --unsafe-fixes")
    if fixable:
        parts.append(", ".join(fixable))
    if remaining == 0 and not report.fixed:
        failed = sum(1 for e in report.errors if e.level != "warning")
        partial = len(report.errors) - failed
        if failed:
            return f"No findings, but {_plural(failed, 'file')} could not be checked."
        if partial:
            return f"No findings; {_plural(partial, 'file')} only partly checked."
        return "All checks passed!"
    total = remaining + report.fixed
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"Found {_plural(total, 'finding')}{detail}."


def render(report: Report) -> str:
    paint = _Painter(report.color)
    lines: list[str] = []
    if report.statistics:
        lines.extend(_statistics_lines(report, paint))
    else:
        for f in report.findings:
            lines.extend(_finding_lines(f, paint, report.show_fixes))
    for err in report.errors:
        lines.append(_error_line(err, paint))
    lines.append(paint(_summary(report), _BOLD))
    return "\n".join(lines) + "\n"


def render_notes(report: Report) -> str:
    paint = _Painter(report.color)
    return "".join(f"{paint('note:', _DIM)} {printable(n)}\n" for n in report.notes)
