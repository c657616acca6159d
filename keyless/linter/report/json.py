"""`--output-format json`: one JSON object, schema version 2 (2 added `history`).

The schema is `json_output.schema.json` next to this module and is documented in
docs/output-formats.md. Fields are only ever added in a new schema version. Paths and messages are
printable text (`_common.printable`), as in every other format; fix edits are the exact code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keyless.linter.report import Report, summary_counts
from keyless.linter.report._common import TOOL_NAME, dump_json, printable, rule_url, tool_version

if TYPE_CHECKING:
    from keyless.linter.finding import Finding, Fix, Position

SCHEMA_VERSION = 2


def _pos(p: "Position") -> dict[str, int]:
    return {"line": p.line, "column": p.column}


def _fix(fix: "Fix | None") -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "message": printable(fix.message),
        "applicability": fix.applicability.value,
        "edits": [
            {"content": e.content, "location": _pos(e.span.start), "end_location": _pos(e.span.end)}
            for e in fix.edits
        ],
    }


def finding_to_json(f: "Finding") -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "category": f.category.value,
        "severity": f.severity.value,
        "message": printable(f.message),
        "path": printable(f.path),
        "location": _pos(f.span.start),
        "end_location": _pos(f.span.end),
        "fix": _fix(f.fix),
        "fingerprint": f.fingerprint,
        "url": rule_url(f.code),
        "history": _provenance(f),
    }


def _provenance(f: "Finding") -> dict[str, Any] | None:
    """Where a `check --history` finding comes from; null for a working-tree finding."""
    p = f.provenance
    if p is None:
        return None
    return {
        "commit": p.commit,
        "author_date": p.date,
        "path": p.path,
        "line": p.line,
        "at_head": p.at_head,
        "removed_in": p.removed_in,
        "commits": p.commits,
        "shallow_boundary": p.boundary,
    }


def to_json(report: Report) -> dict[str, Any]:
    counts = summary_counts(report.findings)
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version()},
        "summary": {
            "files_scanned": report.files_scanned,
            "findings": counts.total,
            "fixable": counts.safe,
            "unsafe_fixable": counts.unsafe,
            "fixed": report.fixed,
            "errors": len(report.errors),
        },
        "findings": [finding_to_json(f) for f in report.findings],
        "errors": [
            {"path": printable(e.path), "line": e.line, "level": e.level, "message": printable(e.message)}
            for e in report.errors
        ],
        "history": report.history,
    }


def render(report: Report) -> str:
    return dump_json(to_json(report))
