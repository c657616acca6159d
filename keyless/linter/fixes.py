"""Applying fixes: pick non-overlapping edits, verify, apply, re-lint, repeat; write files safely.

Every fix is verified before it is kept (verify.py: the result compiles or re-parses, binds every
name it reads, leaves nothing unused); a refused fix is dropped and reported as a DroppedFix.
Nothing is ever half-written: the new bytes go to a temporary file in the same directory (same
encoding, BOM, newlines, permissions) which replaces the original with one rename, and only if the
original did not change since it was read (see write_atomic for links and read-only files).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field

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
    fix = finding.fix
    if fix.lazy:
        rule = rules_by_code.get(finding.code)
        if rule is None:
            return None
        try:
            if isinstance(finding.fix_data, dict) and "embedded" in finding.fix_data:
                from keyless.linter.documents.embedded import materialize as materialize_embedded

                fix = materialize_embedded(doc, finding, rule)  # a notebook cell's fix, in JSON
            else:
                fix = rule.materialize_fix(doc, finding)
        except Exception:  # a fix that cannot be computed is simply not offered
            return None
    return _with_newline(fix, doc.source_format.newline) if fix is not None else None


def _with_newline(fix: Fix, newline: str) -> Fix:
    """Line breaks a fix inserts follow the file's own (a CRLF file gets no LF lines)."""
    if not any(_BREAK.search(e.content) for e in fix.edits):
        return fix
    edits = tuple(Edit(e.span, _BREAK.sub(newline, e.content)) for e in fix.edits)
    return Fix(fix.message, fix.applicability, edits, fix.lazy)


_BREAK = re.compile(r"\r\n|\r|\n")


def with_concrete_fix(doc: Document | None, finding: Finding, rules_by_code: dict) -> Finding:
    """The finding with its lazy fix computed and verified (JSON/SARIF show every fix's edits, and
    tools apply them): the edits are those of the verified result (with the leftovers removed).
    A fix that cannot be computed keeps its advice and offers no edits; one that fails verification
    becomes guidance that says why."""
    from keyless.linter.verify import Refused

    if finding.fix is None or not finding.fix.lazy:
        return finding
    fix = materialize(doc, finding, rules_by_code) if doc is not None else None
    if fix is None:
        return finding.with_(fix=Fix(finding.fix.message, finding.fix.applicability))
    if fix.edits:
        try:
            fix = Fix(fix.message, fix.applicability, text_edits(doc, apply_verified(doc, fix)))
        except Refused as exc:
            fix = Fix(f"{fix.message} (not applied automatically: {exc})", Applicability.DISPLAY_ONLY)
    return finding.with_(fix=fix)


def text_edits(doc: Document, new: str) -> tuple[Edit, ...]:
    """Line-level edits turning the document's text into `new`."""
    import difflib

    a, b = _LINES.findall(doc.text), _LINES.findall(new)
    starts = [0]
    for piece in a:
        starts.append(starts[-1] + len(piece))
    return tuple(Edit(doc.lines.span(starts[i1], starts[i2]), "".join(b[j1:j2]))
                 for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
                 if tag != "equal")


def apply_verified(doc: Document, fix: Fix) -> str:
    """The document's text with one fix applied and verified; raises verify.Refused."""
    from keyless.linter.verify import Refused, Verifier

    try:
        text = apply_edits(doc.text, doc.lines, list(fix.edits))
    except ValueError:
        raise Refused("its edits overlap") from None
    return Verifier(doc).check(text)


@dataclass(frozen=True)
class DroppedFix:
    """A fix verification refused: where, which rule, why (never source text)."""

    path: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} fix not applied: {self.reason}"


@dataclass
class FixOutcome:
    text: str
    applied: int  # fixes applied
    remaining: list[Finding]
    fixed: int = 0  # findings of the original text that the fixed text no longer has
    dropped: list[DroppedFix] = field(default_factory=list)


def fix_document(doc: Document, lint, *, unsafe: bool, rules_by_code: dict) -> FixOutcome:
    """`lint(doc) -> list[Finding]` (already filtered by selection and suppressions).

    Each pass takes the fixes whose edits do not touch each other's and verifies the result
    (verify.py). When it fails, the fixes are verified one by one, each with those kept before it;
    a fix that fails is dropped with a reason (`dropped`) and not tried again."""
    from keyless.linter.verify import Refused, Verifier

    applied = 0
    current = doc
    findings = original = lint(current)
    seen_texts = {current.text}
    dropped: list[DroppedFix] = []
    refused: set[tuple[str, str]] = set()  # (code, fingerprint): never retried in a later pass
    for _ in range(MAX_PASSES):
        candidates: list[tuple[Finding, Fix]] = []
        taken: list[tuple[int, int]] = []
        for f in findings:
            if not allowed(f.fix, unsafe) or (f.code, f.fingerprint) in refused:
                continue
            fix = materialize(current, f, rules_by_code)
            if fix is None or not fix.edits or not allowed(fix, unsafe):
                continue
            ranges = [(current.lines.offset(e.span.start), current.lines.offset(e.span.end)) for e in fix.edits]
            # Isolation: a fix whose edits touch another chosen fix waits for the next pass.
            if any(not (e2 < s1 or e1 < s2) for s1, e1 in ranges for s2, e2 in taken):
                continue
            candidates.append((f, fix))
            taken.extend(ranges)
        if not candidates:
            break
        verifier = Verifier(current)
        try:  # the pass as a whole (fixes may only be valid together, e.g. a rename and its uses)
            new_text = verifier.check(apply_edits(current.text, current.lines,
                                                  [e for _, fix in candidates for e in fix.edits]))
            count = len(candidates)
        except (Refused, ValueError):  # one by one, each with the ones kept before it
            chosen: list[Edit] = []
            new_text, count = current.text, 0
            for f, fix in candidates:
                try:
                    trial = verifier.check(apply_edits(current.text, current.lines, chosen + list(fix.edits)))
                except (Refused, ValueError) as exc:
                    refused.add((f.code, f.fingerprint))
                    dropped.append(DroppedFix(f.path, f.span.start.line, f.code, str(exc) or "its edits overlap"))
                    continue
                chosen.extend(fix.edits)
                new_text, count = trial, count + 1
        if not count or new_text in seen_texts:  # nothing left, or a cycle: stop rather than loop
            break
        applied += count
        seen_texts.add(new_text)
        current = make_document(current.path, current.relpath, new_text, current.source_format)
        findings = lint(current)
    return FixOutcome(current.text, applied, findings, findings_gone(original, findings), dropped)


def findings_gone(before: list[Finding], after: list[Finding]) -> int:
    """How many findings of `before` `after` no longer has (matched by rule and fingerprint)."""
    left = Counter((f.code, f.fingerprint) for f in after)
    gone = 0
    for f in before:
        k = (f.code, f.fingerprint)
        if left[k]:
            left[k] -= 1
        else:
            gone += 1
    return gone


class FileChanged(Exception):
    pass


class WriteRefused(Exception):
    """A file keyless will not rewrite (read-only, a link leaving the project, not a regular file)."""


def write_atomic(path: str, text: str, doc: Document, expected: bytes | None = None,
                 root: str | None = None) -> str:
    """Write `text` back with the document's encoding, BOM and newlines; returns the path written.

    - A symlink is written through: its target is fixed (only inside `root`, when given), the
      link stays a link. A hard-linked file is rewritten in place, so every name keeps the inode.
    - A read-only file is refused (WriteRefused), never made writable.
    - Otherwise the bytes go to a temporary file next to the target, created with the original's
      permissions or narrower, which replaces it with one rename; SIGINT/SIGTERM wait until the
      write is done or undone, so no temporary file is left behind.
    Refuses (FileChanged) when the file on disk is no longer the bytes that were linted."""
    data = encode(text, doc.source_format)
    target = os.path.realpath(path)
    if root is not None and not _inside(target, os.path.realpath(root)):
        raise WriteRefused(f"{doc.relpath}: the file lies outside the project (through a link); not fixed")
    st = os.stat(target)
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused(f"{doc.relpath}: not a regular file; not fixed")
    if not st.st_mode & stat.S_IWUSR or not os.access(target, os.W_OK):
        raise WriteRefused(f"{doc.relpath}: read-only file; not fixed")
    with _signals_deferred():
        if expected is not None:
            with open(target, "rb") as fh:
                if fh.read() != expected:
                    raise FileChanged(f"{doc.relpath}: changed on disk since it was read; not fixed")
        if st.st_nlink > 1:
            _rewrite_in_place(target, data)
        else:
            _replace(target, data, st)
    return target


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def _replace(target: str, data: bytes, st: os.stat_result) -> None:
    directory = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".keyless-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), st.st_mode & 0o600)  # never wider than the original while written
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            try:
                os.fchown(fh.fileno(), st.st_uid, st.st_gid)
            except (PermissionError, AttributeError):
                pass
            os.fchmod(fh.fileno(), st.st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _rewrite_in_place(target: str, data: bytes) -> None:
    """Hard links share one inode: only writing into it keeps them. Space is reserved first, so a
    full disk fails before the first byte changes."""
    with open(target, "r+b") as fh:
        if len(data) > os.fstat(fh.fileno()).st_size:
            try:
                os.posix_fallocate(fh.fileno(), 0, len(data))
            except (AttributeError, OSError) as exc:
                if getattr(exc, "errno", None) == errno.ENOSPC:
                    raise
        fh.seek(0)
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends, then let them act (the default action of
    SIGTERM ends the process only after the block cleaned up)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    names = [n for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    old = {}
    for n in names:
        sig = getattr(signal, n)
        try:
            old[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if pending:
            os.kill(os.getpid(), pending[0])


def unified_diff(relpath: str, old: str, new: str) -> str:
    import difflib

    from keyless.linter.report._common import printable

    name = printable(relpath)  # a file name must not break the header or inject into a log
    return "".join(difflib.unified_diff(
        _LINES.findall(old), _LINES.findall(new), fromfile=f"a/{name}", tofile=f"b/{name}",
    ))


_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # LineIndex's lines, with their breaks
_SPLIT = re.compile(r"(\r\n|\r|\n)")


def masked_diff(relpath: str, old: str, new: str, old_spans, new_spans) -> str:
    """A unified diff in which every sensitive span (offsets into `old` / `new`) is shown only in
    its `redact(prefix=False)` form (its length), in changed and context lines alike. When a masked line is part of a hunk
    the patch no longer applies, and the header says so."""
    import difflib

    a, masked_a = _masked_lines(old, old_spans)
    b, masked_b = _masked_lines(new, new_spans)
    groups = list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(3))
    if not groups:
        return ""
    touched = set()
    for group in groups:
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        touched |= {i for i in masked_a if i1 <= i < i2} | {("b", j) for j in masked_b if j1 <= j < j2}
    from keyless.linter.report._common import printable

    name = printable(relpath)  # a file name must not break the header or inject into a log
    body = "".join(difflib.unified_diff(a, b, fromfile=f"a/{name}", tofile=f"b/{name}"))
    if not touched:
        return body
    return (f"# keyless: credentials are masked on {len(touched)} line(s) of this diff: it shows the change "
            f"but does not apply as a patch (run --fix to apply it)\n" + body)


def _masked_lines(text: str, spans) -> tuple[list[str], set[int]]:
    """`text` split into lines, each sensitive span replaced by its redacted form; and the indexes
    of the lines that changed."""
    from keyless.linter.finding import redact

    spans = sorted({(s, e) for s, e in spans if e > s})
    if not spans:
        return _LINES.findall(text), set()
    out, pos = [], 0
    for s, e in spans:
        if e <= pos:
            continue
        s = max(s, pos)
        out.append(text[pos:s])
        value = text[s:e]
        # a line break inside a span stays, so the lines keep their numbers; no prefix: a span may
        # be a password, and a diff needs none of a credential's characters to show the change
        out.extend(part if i % 2 or not part else redact(part, prefix=False)
                   for i, part in enumerate(_SPLIT.split(value)))
        pos = e
    out.append(text[pos:])
    masked = "".join(out)
    before, after = _LINES.findall(text), _LINES.findall(masked)
    return after, {i for i, (x, y) in enumerate(zip(before, after)) if x != y}


def write_text_atomic(path: str, text: str) -> None:
    """Reports and baselines: UTF-8, written whole or not at all (no temporary file left, even on
    SIGINT/SIGTERM)."""
    with _signals_deferred():
        _write_text_atomic(path, text)


def _write_text_atomic(path: str, text: str) -> None:
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
