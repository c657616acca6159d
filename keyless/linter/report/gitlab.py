"""`--output-format gitlab`: GitLab Code Quality report (a JSON array of Code Climate issues).

`fingerprint` is an MD5 (as GitLab suggests) of code, path, keyless fingerprint and an occurrence
number, so it is unique per issue and stable when lines move. Paths and descriptions are
printable text (`_common.printable`). Severity: info -> info,
low -> minor, medium -> major, high -> critical, critical -> blocker.
"""

from __future__ import annotations

import hashlib

from keyless.linter.report import Report
from keyless.linter.report._common import TOOL_NAME, dump_json, occurrence_indexes, printable

SEVERITY = {"info": "info", "low": "minor", "medium": "major", "high": "critical", "critical": "blocker"}


def issue_fingerprint(code: str, path: str, fingerprint: str, occurrence: int) -> str:
    data = f"{code}\0{path}\0{fingerprint}\0{occurrence}".encode("utf-8", "surrogatepass")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def render(report: Report) -> str:
    issues = []
    for f, n in zip(report.findings, occurrence_indexes(report.findings)):
        issues.append(
            {
                "type": "issue",
                "engine_name": TOOL_NAME,
                "check_name": f.code,
                "description": f"{f.code} {f.name}: {printable(f.message)}",
                "categories": ["Security"],
                "severity": SEVERITY[f.severity.value],
                "fingerprint": issue_fingerprint(f.code, f.path, f.fingerprint, n),
                "location": {"path": printable(f.path), "lines": {"begin": f.span.start.line, "end": f.span.end.line}},
            }
        )
    return dump_json(issues)
