"""`--output-format junit`: JUnit XML, one <testsuite> per file (as ruff does), one failing
<testcase> per finding and one <testcase> with an <error> per file that could not be checked.
A clean run gives a single passing test case, so CI test tabs show that keyless ran.

The document is ASCII (other characters as character references); paths and messages are
printable text (`_common.printable`: control characters, which XML 1.0 cannot carry, as visible
escapes such as `\\x1b`), so the output always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from keyless.linter.report import Report
from keyless.linter.report._common import TOOL_NAME, printable

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

    root = ET.Element("testsuites", name=TOOL_NAME)
    total_tests = total_failures = total_errors = total_skipped = 0
    for path, (findings, problems) in suites.items():
        errors = [e for e in problems if e.level != "warning"]
        partial = [e for e in problems if e.level == "warning"]
        tests = len(findings) + len(problems)
        suite = _el(root, "testsuite", name=path, tests=tests, failures=len(findings), errors=len(errors),
                    skipped=len(partial))
        for f in findings:
            line, col = f.span.start.line, f.span.start.column
            case = _el(
                suite, "testcase", name=f"{f.code} {f.name} at {line}:{col}", classname=f"{TOOL_NAME}.{f.code}",
                file=path, line=line,
            )
            failure = _el(case, "failure", message=f.message, type=f.code)
            failure.text = xml_text(f"{path}:{line}:{col}: {f.code} [{f.severity.value}] {f.message}")
        for e in problems:
            attrs: dict[str, object] = {"file": path}
            if e.line:
                attrs["line"] = e.line
            if e.level == "warning":
                # Only partly checked (e.g. unparsable: secret-scanned only): the rest was skipped.
                case = _el(suite, "testcase", name="file only partly checked", classname=TOOL_NAME, **attrs)
                _el(case, "skipped", message=e.message)
                continue
            case = _el(suite, "testcase", name="file could not be checked", classname=TOOL_NAME, **attrs)
            err = _el(case, "error", message=e.message, type="file-error")
            err.text = xml_text(f"{path}{':' + str(e.line) if e.line else ''}: error: {e.message}")
        total_tests += tests
        total_failures += len(findings)
        total_errors += len(errors)
        total_skipped += len(partial)
    if not suites:
        suite = _el(root, "testsuite", name=TOOL_NAME, tests=1, failures=0, errors=0, skipped=0)
        _el(suite, "testcase", name=f"{report.files_scanned} files checked", classname=TOOL_NAME)
        total_tests = 1
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    root.set("skipped", str(total_skipped))
    ET.indent(root)
    body = ET.tostring(root, encoding="us-ascii").decode("ascii")
    # ElementTree writes its own declaration for a non-UTF-8 encoding; keep ours uniform.
    body = body.split("?>", 1)[1].lstrip() if body.startswith("<?xml") else body
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
