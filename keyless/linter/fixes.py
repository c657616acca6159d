"""Applying fixes: pick non-overlapping edits, apply, re-lint, repeat; write files atomically.

Nothing is ever half-written: the new bytes go to a temporary file in the same directory (same
encoding, BOM, newlines, permissions) which replaces the original with one rename, and only if the
original did not change since it was read.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from keyless.linter.documents import Document, LineIndex, encode, make_document
from keyless.linter.finding import Applicability, Edit, Finding, Fix

MAX_PASSES = 10


def apply_edits(text: str, lines: LineIndex, edits: list[Edit]) -> str:
    """Apply non-overlapping edits given in `text`'s coordinates."""
    spans = sorted(((lines.offset(e.span.start), lines.offset(e.span.end), e.content) for e in edits),
                   key=lambda t: (t[0], t[1]))
    out: list[str] = []
    pos = 0
    for start, end, content in spans:
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos:start])
        out.append(content)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def allowed(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None:
        return False
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


def materialize(doc: Document, finding: Finding, rules_by_code: dict) -> Fix | None:
    if finding.fix is None:
        return None
    if not finding.fix.lazy:
        return finding.fix
    rule = rules_by_code.get(finding.code)
    if rule is None:
        return None
    try:
        return rule.materialize_fix(doc, finding)
    except Exception:  # a fix that cannot be computed is simply not offered
        return None


def with_concrete_fix(doc: Document | None, finding: Finding, rules_by_code: dict) -> Finding:
    """The finding with its lazy fix computed (JSON/SARIF show every fix's edits); when that
    cannot be done, the fix keeps its advice and offers no edits."""
    if finding.fix is None or not finding.fix.lazy:
        return finding
    fix = materialize(doc, finding, rules_by_code) if doc is not None else None
    return finding.with_(fix=fix if fix is not None else Fix(finding.fix.message, finding.fix.applicability))


@dataclass
class FixOutcome:
    text: str
    applied: int
    remaining: list[Finding]


def fix_document(doc: Document, lint, *, unsafe: bool, rules_by_code: dict) -> FixOutcome:
    """`lint(doc) -> list[Finding]` (already filtered by selection and suppressions)."""
    applied = 0
    current = doc
    findings = lint(current)
    seen_texts = {current.text}
    for _ in range(MAX_PASSES):
        chosen: list[Edit] = []
        taken: list[tuple[int, int]] = []
        progressed = False
        for f in findings:
            if not allowed(f.fix, unsafe):
                continue
            fix = materialize(current, f, rules_by_code)
            if fix is None or not fix.edits or not allowed(fix, unsafe):
                continue
            ranges = [(current.lines.offset(e.span.start), current.lines.offset(e.span.end)) for e in fix.edits]
            # Isolation: a fix whose edits touch another chosen fix waits for the next pass.
            if any(not (e2 < s1 or e1 < s2) for s1, e1 in ranges for s2, e2 in taken):
                continue
            chosen.extend(fix.edits)
            taken.extend(ranges)
            applied += 1
            progressed = True
        if not progressed:
            break
        new_text = apply_edits(current.text, current.lines, chosen)
        if new_text in seen_texts:  # a cycle: stop rather than loop
            break
        seen_texts.add(new_text)
        current = make_document(current.path, current.relpath, new_text, current.source_format)
        findings = lint(current)
    return FixOutcome(current.text, applied, findings)


class FileChanged(Exception):
    pass


def write_atomic(path: str, text: str, doc: Document, expected: bytes | None = None) -> None:
    """Write `text` back with the document's encoding, BOM and newlines; keep permissions.
    Refuses (FileChanged) when the file on disk is no longer the bytes that were linted."""
    data = encode(text, doc.source_format)
    directory = os.path.dirname(os.path.abspath(path)) or "."
    st = os.stat(path)
    if expected is not None:
        with open(path, "rb") as fh:
            if fh.read() != expected:
                raise FileChanged(f"{doc.relpath}: changed on disk since it was read; not fixed")
    fd, tmp = tempfile.mkstemp(prefix=".keyless-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except (PermissionError, AttributeError):
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def unified_diff(relpath: str, old: str, new: str) -> str:
    import difflib

    from keyless.linter.report._common import printable

    name = printable(relpath)  # a file name must not break the header or inject into a log
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{name}", tofile=f"b/{name}",
    ))


def write_text_atomic(path: str, text: str) -> None:
    """Reports and baselines: UTF-8, written whole or not at all."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".keyless-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        try:
            os.chmod(tmp, 0o644)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
