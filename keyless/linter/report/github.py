"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding:

    ::error title=keyless (KL101),file=app.py,line=3,col=9,endLine=3,endColumn=40::[critical] message

Level: error (critical, high), warning (medium), notice (low, info). GitHub shows at most 10
annotations of each level per step (and 50 per job), so findings are printed most severe first
(critical before high, then in the engine's order); file problems follow. Paths and messages are
first shown as printable text (`_common.printable`: control characters and CI command markers as
backslash escapes), then escaped by the workflow-command rules: `%`, CR and LF in the message;
additionally `:` and `,` in properties.
"""

from __future__ import annotations

from keyless.linter.report import Report
from keyless.linter.report._common import TOOL_NAME, is_pseudo_path, printable

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, props: list[tuple[str, object]], message: str) -> str:
    rendered = ",".join(f"{k}={escape_property(printable(str(v)))}" for k, v in props)
    return f"::{level} {rendered}::{escape_data(printable(message))}"


def render(report: Report) -> str:
    lines = []
    for f in sorted(report.findings, key=lambda f: -f.severity.rank):  # stable: engine order within a level
        s, e = f.span.start, f.span.end
        props: list[tuple[str, object]] = [
            ("title", f"{TOOL_NAME} ({f.code})"),
            ("file", f.path),
            ("line", s.line),
            ("col", s.column),
            ("endLine", e.line),
            ("endColumn", e.column),
        ]
        lines.append(_command(_LEVEL[f.severity.sarif_level], props, f"[{f.severity.value}] {f.message}"))
    for err in report.errors:
        props = [("title", f"{TOOL_NAME} (file {err.level})")]
        if not is_pseudo_path(err.path):
            props.append(("file", err.path))
            if err.line:
                props.append(("line", err.line))
        lines.append(_command("warning" if err.level == "warning" else "error", props, err.message))
    return "".join(line + "\n" for line in lines)
