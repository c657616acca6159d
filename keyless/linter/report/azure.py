"""`--output-format azure`: Azure Pipelines logging commands, one issue per finding:

    ##vso[task.logissue type=error;sourcepath=/src/app.py;linenumber=3;columnnumber=9;code=KL101;]message

type: error (critical, high) or warning (medium, low, info). Paths and messages are first shown as
printable text (`_common.printable`), then escaped as the Azure Pipelines
task library (`taskcommand.ts`): `%` -> `%AZP25`, CR -> `%0D`, LF -> `%0A` everywhere, and in
property values also `;` -> `%3B`, `]` -> `%5D`. The agent decodes `%AZP25` back to `%`; a plain
`%25` would stay `%25` in the log.

`sourcepath` is absolute (scan root + path): the agent maps absolute paths under the checkout
to repository paths, as the logging-command documentation asks.
"""

from __future__ import annotations

import os

from keyless.linter.report import Report
from keyless.linter.report._common import is_pseudo_path, printable


def escape_data(s: str) -> str:
    return s.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(";", "%3B").replace("]", "%5D")


def _command(props: list[tuple[str, object]], message: str) -> str:
    rendered = "".join(f"{k}={escape_property(printable(str(v)))};" for k, v in props)
    return f"##vso[task.logissue {rendered}]{escape_data(printable(message))}"


def _source_path(root: str, path: str) -> str:
    return os.path.normpath(os.path.join(root, path))


def render(report: Report) -> str:
    lines = []
    for f in report.findings:
        kind = "error" if f.severity.sarif_level == "error" else "warning"
        props: list[tuple[str, object]] = [
            ("type", kind),
            ("sourcepath", _source_path(report.root, f.path)),
            ("linenumber", f.span.start.line),
            ("columnnumber", f.span.start.column),
            ("code", f.code),
        ]
        lines.append(_command(props, f"[{f.severity.value}] {f.message}"))
    for err in report.errors:
        props = [("type", "warning" if err.level == "warning" else "error")]
        if not is_pseudo_path(err.path):
            props.append(("sourcepath", _source_path(report.root, err.path)))
            if err.line:
                props.append(("linenumber", err.line))
        lines.append(_command(props, err.message))
    return "".join(line + "\n" for line in lines)
