"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

- `tool.driver.rules` lists every registered rule (sorted by code), so `ruleIndex` is stable.
  GitHub code scanning takes a result's severity from its rule's `security-severity` only, so a
  finding rated other than its rule's default (Owner at subscription scope: critical, where
  KL401 says high) gets a descriptor of its own, `KL401-critical`, appended after them: its
  `ruleId` depends only on the code and the severity, so it is stable across runs.
- `helpUri` is the rule's page (docs/rules/<CODE>.md at the installed revision) and
  `informationUri` the repository, when keyless knows where it was installed from.
- `automationDetails.id` is `keyless/` plus the project directory relative to the repository
  root (`keyless/services/api/`): GitHub and Azure DevOps keep one analysis per id.
- Locations are repo-relative URIs against `%SRCROOT%` (declared in `originalUriBaseIds`),
  percent-encoding the file name's exact bytes (a non-UTF-8 byte too); columns are Unicode code
  points (`columnKind`), end column exclusive as in keyless. Messages are printable text
  (`_common.printable`).
- `partialFingerprints["keyless/v1"]` (`"keyless/secret/v2"` for secrets) is the finding's
  line-independent fingerprint;
  `primaryLocationLineHash` is left to `upload-sarif`, which computes it from the checkout.
- `fixes` only for safe/unsafe fixes with concrete edits (display-only edits may not even parse).
- File errors become `invocations[0].toolExecutionNotifications`.
- No snippets, ever: a region is only line/column numbers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any
from keyless.linter.finding import Applicability, Category, is_secret_fingerprint
from keyless.linter.report import Report
from keyless.linter.report._common import (
    TOOL_NAME,
    project_url,
    is_pseudo_path,
    dump_json,
    heading,
    printable,
    rule_cwes,
    rule_description,
    rule_precision,
    rule_url,
    tool_version,
    uri_path,
)

if TYPE_CHECKING:
    from keyless.linter.finding import Finding, Severity, Span
    from keyless.linter.rule import Rule

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "keyless/v1"
# Secret findings' fingerprints changed form in keyless 0.2 (docs/fingerprints.md): a new key, so
# code scanning never compares the two forms.
SECRET_FINGERPRINT_KEY = "keyless/secret/v2"
# GitHub code scanning rejects a run with more results than this (and keeps the top 5,000).
MAX_RESULTS = 25_000


def _root_uri(root: str) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


_ABSOLUTE = re.compile(r"^(/|\\\\|[A-Za-z]:[\\/])")


def _artifact_location(path: str) -> dict[str, Any]:
    if _ABSOLUTE.match(path):
        # Outside the scan root (should not happen): an absolute file URI, no base.
        if path.startswith("/"):
            return {"uri": "file://" + uri_path(path)}
        return {"uri": PureWindowsPath(path).as_uri()}
    return {"uri": uri_path(path), "uriBaseId": SRCROOT}


def _region(span: "Span") -> dict[str, int]:
    start_line = max(span.start.line, 1)
    start_col = max(span.start.column, 1)
    end_line = max(span.end.line, start_line)
    end_col = max(span.end.column, 1)
    if end_line == start_line:
        end_col = max(end_col, start_col)
    return {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col}


def _help_text(markdown: str) -> str:
    """The docstring as plain text: headings lose their `#` marks (not comments in code blocks)."""
    lines = []
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        title = None if in_code else heading(line)
        lines.append(line if title is None else title)
    return "\n".join(lines).strip()


def _tags(category: Category, cwes: tuple[int, ...]) -> list[str]:
    return ["security", *(f"external/cwe/cwe-{c}" for c in cwes), category.value]


def rule_id(code: str, severity: "Severity", default: "Severity | None") -> str:
    """`KL401` for the rule's own severity, `KL401-critical` for another one."""
    return code if default is None or severity is default else f"{code}-{severity.value}"


def _descriptor(rule: "type[Rule]", severity: "Severity | None" = None) -> dict[str, Any]:
    docs = rule.docs()
    severity = severity or rule.severity
    desc: dict[str, Any] = {
        "id": rule_id(rule.code, severity, rule.severity),
        "name": rule.name,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule_description(rule)},
        "help": {"text": _help_text(docs) or rule.message, "markdown": docs or rule.message},
        "defaultConfiguration": {"level": severity.sarif_level},
        "properties": {
            "tags": _tags(rule.category, rule_cwes(rule, rule.category)),
            "precision": rule_precision(rule, rule.category),
            "security-severity": severity.security_severity,
        },
    }
    url = rule_url(rule.code)
    if url:
        desc["helpUri"] = url
    return desc


def _unknown_descriptor(f: "Finding") -> dict[str, Any]:
    """A finding whose rule is not in the registry (e.g. from a plugin not loaded now)."""
    return {
        "id": f.code,
        "name": f.name,
        "shortDescription": {"text": f.name},
        "defaultConfiguration": {"level": f.severity.sarif_level},
        "properties": {
            "tags": _tags(f.category, rule_cwes(None, f.category)),
            "precision": rule_precision(None, f.category),
            "security-severity": f.severity.security_severity,
        },
    }


def _fixes(f: "Finding") -> list[dict[str, Any]]:
    fix = f.fix
    if fix is None or not fix.edits or fix.applicability is Applicability.DISPLAY_ONLY:
        return []
    replacements = []
    for e in fix.edits:
        r = {"deletedRegion": _region(e.span), "insertedContent": {"text": e.content}}
        if r not in replacements:  # SARIF requires unique items
            replacements.append(r)
    return [
        {
            "description": {"text": printable(fix.message)},
            "artifactChanges": [{"artifactLocation": _artifact_location(f.path), "replacements": replacements}],
            "properties": {"applicability": fix.applicability.value},
        }
    ]


def _result(f: "Finding", rule_id: str, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": f.severity.sarif_level,
        "message": {"text": printable(f.message)},
        "locations": [
            {"physicalLocation": {"artifactLocation": _artifact_location(f.path), "region": _region(f.span)}}
        ],
        "partialFingerprints": {
            SECRET_FINGERPRINT_KEY if is_secret_fingerprint(f.fingerprint) else FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity.value, "category": f.category.value},
    }
    p = f.provenance
    if p is not None:  # `check --history`: the commit that added it (the location is HEAD's when at_head)
        result["properties"].update({
            "commit": p.commit, "commitDate": p.date, "commitPath": p.path, "commitLine": p.line,
            "presentAtHead": p.at_head, "removedIn": p.removed_in, "commits": p.commits,
        })
    fixes = _fixes(f)
    if fixes:
        result["fixes"] = fixes
    return result


def _notification(message: str, level: str, path: str | None = None, line: int | None = None) -> dict[str, Any]:
    n: dict[str, Any] = {"level": level, "message": {"text": printable(message)}}
    if path and not is_pseudo_path(path):
        phys: dict[str, Any] = {"artifactLocation": _artifact_location(path)}
        if line and line >= 1:
            phys["region"] = {"startLine": line}
        n["locations"] = [{"physicalLocation": phys}]
    return n


def to_sarif(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [_descriptor(r) for r in report.registry]
    index = {r["id"]: i for i, r in enumerate(rules)}

    findings = list(report.findings)
    notifications = [
        _notification(e.message, "warning" if e.level == "warning" else "error", e.path, e.line)
        for e in report.errors
    ]
    if len(findings) > MAX_RESULTS:
        keep = sorted(range(len(findings)), key=lambda i: (-findings[i].severity.rank, i))[:MAX_RESULTS]
        dropped = len(findings) - MAX_RESULTS
        findings = [findings[i] for i in sorted(keep)]
        notifications.append(
            _notification(
                f"{dropped} lower-severity results were left out: code scanning accepts at most "
                f"{MAX_RESULTS} results per run. Use another output format to see all of them.",
                "warning",
            )
        )

    # Descriptors for the severities findings have besides their rule's default, in a stable
    # order (code, then severity from the highest), after the registry's.
    defaults = {code: rule.severity for code, rule in report.registry.by_code.items()}
    split = sorted({(f.code, f.severity) for f in findings
                    if f.code in defaults and f.severity is not defaults[f.code]},
                   key=lambda cs: (cs[0], -cs[1].rank))
    for code, severity in split:
        index[rule_id(code, severity, defaults[code])] = len(rules)
        rules.append(_descriptor(report.registry.by_code[code], severity))

    results = []
    for f in findings:
        rid = rule_id(f.code, f.severity, defaults.get(f.code))
        if rid not in index:  # a rule not in the registry (a plugin not loaded now)
            index[rid] = len(rules)
            rules.append(_unknown_descriptor(f))
        results.append(_result(f, rid, index[rid]))

    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "fullName": f"{TOOL_NAME} {tool_version()} (Azure credentials and managed identity)",
        "version": tool_version(),
        "semanticVersion": tool_version(),
    }
    info = project_url()
    if info:
        driver["informationUri"] = info
    driver["rules"] = rules

    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run = {
        "tool": {"driver": driver},
        "automationDetails": {"id": automation_id(report)},
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(report.root)}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    history = report.history
    if history is not None and history.get("head"):
        # The revision scanned up to; repositoryUri is required: origin without credentials, else
        # the local directory.
        run["versionControlProvenance"] = [{
            "repositoryUri": history.get("repository_uri") or _root_uri(report.root),
            "revisionId": history["head"],
            "mappedTo": {"uriBaseId": SRCROOT},
        }]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def automation_id(report: Report) -> str:
    """`keyless/` plus the project directory relative to the repository root, `/`-terminated:
    the analysis category GitHub (everything up to the last `/`) and Azure DevOps group alerts
    by, so two projects of one repository never replace each other's alerts."""
    project = report.project_dir.strip("/")
    return f"{TOOL_NAME}/{project}/" if project else f"{TOOL_NAME}/"


def render(report: Report) -> str:
    return dump_json(to_sarif(report), compact=True)
