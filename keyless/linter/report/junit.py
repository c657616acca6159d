"""`--output-format junit`: JUnit XML, one <testsuite> per file (as ruff does), one failing
<testcase> per finding and one <testcase> with an <error> per file that could not be checked.
A clean run gives a single passing test case, so CI test tabs show that keyless ran.

It is what Jenkins (xunit's junit-10.xsd, the strictest reader), GitLab and Azure DevOps
(PublishTestResults) accept: the file is `testsuite@file`, and each test case's name carries the
path and position, since the schema has no `testcase@file` or `@line` and GitLab keeps only one
test case per (classname, name). tests/data/junit-readers.json lists the constraints the tests
check.

The document is ASCII (other characters as character references); paths and messages are
printable text (`_common.printable`: control characters, which XML 1.0 cannot carry, as visible
escapes such as `\\x1b`), so the output always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from keyless.linter.report import Report
from keyless.linter.report._common import TOOL_NAME, is_pseudo_path, printable

# Characters outside the XML 1.0 `Char` production (tab, LF and CR are allowed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    o = ord(m.group(0))
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def xml_text(s: str) -> str:
    return _NOT_XML.sub(_visible, printable(s))


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, tag, {k: xml_text(str(v)) for k, v in attrs.items()})


def render(report: Report) -> str:
    suites: dict[str, list] = {}  # path -> [findings, errors]
    for f in report.findings:
        suites.setdefault(f.path, [[], []])[0].append(f)
    for e in report.errors:
        suites.setdefault(e.path, [[], []])[1].append(e)

    # No `skipped` on <testsuites>: junit-10.xsd does not allow it (it does on <testsuite>).
    root = ET.Element("testsuites", name=TOOL_NAME)
    total_tests = total_failures = total_errors = 0
    for path, (findings, problems) in suites.items():
        errors = [e for e in problems if e.level != "warning"]
        partial = [e for e in problems if e.level == "warning"]
        tests = len(findings) + len(problems)
        attrs: dict[str, object] = {"name": path, "tests": tests, "failures": len(findings), "errors": len(errors),
                                    "skipped": len(partial)}
        if not is_pseudo_path(path):
            attrs["file"] = path
        suite = _el(root, "testsuite", **attrs)
        names: set[str] = set()
        for f in findings:
            line, col = f.span.start.line, f.span.start.column
            # GitLab keeps one test case per (classname, name): the name carries the path and
            # position (junit-10.xsd has no testcase@file or @line), and a number if repeated.
            name = _unique(f"{f.code} {f.name} at {path}:{line}:{col}", names)
            case = _el(suite, "testcase", name=name, classname=f"{TOOL_NAME}.{f.code}")
            failure = _el(case, "failure", message=f.message, type=f.code)
            failure.text = xml_text(f"{path}:{line}:{col}: {f.code} [{f.severity.value}] {f.message}")
        for e in problems:
            where = f"{path}:{e.line}" if e.line else path
            if e.level == "warning":
                # Only partly checked (e.g. unparsable: secret-scanned only): the rest was skipped.
                case = _el(suite, "testcase", name=_unique(f"{where} only partly checked", names), classname=TOOL_NAME)
                _el(case, "skipped", message=e.message)
                continue
            case = _el(suite, "testcase", name=_unique(f"{where} could not be checked", names), classname=TOOL_NAME)
            err = _el(case, "error", message=e.message, type="file-error")
            err.text = xml_text(f"{where}: error: {e.message}")
        total_tests += tests
        total_failures += len(findings)
        total_errors += len(errors)
    if not suites:
        suite = _el(root, "testsuite", name=TOOL_NAME, tests=1, failures=0, errors=0, skipped=0)
        _el(suite, "testcase", name=f"{report.files_scanned} files checked", classname=TOOL_NAME)
        total_tests = 1
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    ET.indent(root)
    body = ET.tostring(root, encoding="us-ascii").decode("ascii")
    # ElementTree writes its own declaration for a non-UTF-8 encoding; keep ours uniform.
    body = body.split("?>", 1)[1].lstrip() if body.startswith("<?xml") else body
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _unique(name: str, seen: set[str]) -> str:
    candidate, n = name, 1
    while candidate in seen:
        n += 1
        candidate = f"{name} ({n})"
    seen.add(candidate)
    return candidate
