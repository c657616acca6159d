"""Output formats. One module per format (`text`, `json`, `sarif`, ...), each exposing
`render(report) -> str`; `render(fmt, report)` imports only the module of the chosen format.

Reporters only reformat what the engine hands them: they never read source files, so no format
can carry a source excerpt (or the secret in it). Messages are already redacted by the rules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from keyless.linter.finding import Applicability

if TYPE_CHECKING:
    from keyless.linter.finding import Finding
    from keyless.linter.rule import Registry

FORMATS = ("text", "json", "sarif", "github", "azure", "junit", "gitlab")


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be checked (unreadable, undecodable...), or with level "warning" one
    that was only partly checked (e.g. unparsable, so only secret-scanned). A path in angle
    brackets (`<project>`) names no file."""

    path: str  # relative to Report.root, '/'-separated, like Finding.path
    message: str
    line: int | None = None
    level: str = "error"  # "error" or "warning"


@dataclass
class Report:
    findings: list["Finding"]  # what remains to report, filtered and sorted (path, line, col, code)
    errors: list[FileError]
    notes: list[str]  # e.g. "skipped big.bin: binary"; see render_notes()
    registry: "Registry"  # rule metadata (SARIF driver rules, docs URLs)
    files_scanned: int
    root: str  # absolute; Finding.path and FileError.path are relative to it (report/paths.py:
    # the repository root for machine formats, the current directory for text)
    fixed: int = 0  # fixes applied in this run (the fixed findings are not in `findings`)
    statistics: bool = False  # text: one line per rule instead of one per finding
    color: bool = False  # text: ANSI colours
    show_fixes: bool = True  # text: the indented "help:" line under a finding with a fix
    # `check --history`: revisions, head, repository_uri, commits, commits_from_cache, partial
    history: dict | None = None
    project_dir: str = ""  # the project (config) directory relative to `root`, '/'-separated; "" if the same


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    total: int
    safe: int  # fixable with --fix
    unsafe: int  # fixable only with --unsafe-fixes
    display_only: int  # fix shown as guidance, never applied
    by_code: dict[str, int] = field(default_factory=dict)  # sorted by code
    by_severity: dict[str, int] = field(default_factory=dict)  # severity value -> count


def summary_counts(findings: Iterable["Finding"]) -> SummaryCounts:
    total = safe = unsafe = display_only = 0
    by_code: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    for f in findings:
        total += 1
        by_code[f.code] = by_code.get(f.code, 0) + 1
        by_severity[f.severity.value] = by_severity.get(f.severity.value, 0) + 1
        if f.fix is not None:
            if f.fix.applicability is Applicability.SAFE:
                safe += 1
            elif f.fix.applicability is Applicability.UNSAFE:
                unsafe += 1
            else:
                display_only += 1
    return SummaryCounts(
        total, safe, unsafe, display_only, dict(sorted(by_code.items())), by_severity
    )


def render(fmt: str, report: Report) -> str:
    """The whole output of format `fmt` (ends with a newline unless empty)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(report)


def render_notes(report: Report) -> str:
    """What goes to stderr in every format: one `note: ...` line per note (stdout, or the `-o`
    file, carries the report only)."""
    if not report.notes:
        return ""
    from keyless.linter.report.text import render_notes as text_notes

    return text_notes(report)
