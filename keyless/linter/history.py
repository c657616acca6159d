"""`keyless check --history`: credentials that commits added, even when a later commit removed them.

A key committed once stays in every clone forever: deleting it in the next commit fixes nothing
but the working tree. This module reads the lines each commit of a range added
(keyless.linter.gitlog) and reports the secrets among them with the same rules, and the same
pipeline, that scan the working tree:

1. a C-speed keyword test on each file's hunks skips files where no secret recogniser could
   start (most of a history);
2. the remaining files' added lines, with the unchanged line around each hunk, are scanned by the
   secret scanner in its permissive mode (every "is an Azure host near?" test passes), which
   over-approximates what the whole file would give on those lines; Python files whose hunks
   mention a key-auth API and add a string literal go on too;
3. only then is the file read at that commit (`git cat-file`) and linted exactly as a working-tree
   file (secret rules, plus key-auth rules whose finding shows a literal credential), keeping the
   findings on lines the commit added. Suppressions are those of the file at that commit.

Findings are grouped per secret (rule code and fingerprint) and path: one finding, with the first
commit that added it, the number of commits that added it, whether HEAD still holds it (then it is
reported at HEAD's position, the same finding a working-tree scan gives) or else the commit that
removed it. Per-commit results (secret-free: fingerprints, positions, redacted messages) are
cached under the commit id and the rule set, so a rerun reads only new commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from keyless.linter.finding import Applicability, Category, Finding, Fix, Provenance
from keyless.linter.gitlog import BlobReader, Commit, FileChange, GitError, PatchStream, check_revisions, run_git
from keyless.linter.messages import HELP_MAX, MESSAGE_MAX, drop_notes, first_fitting, held_to

CACHE_FORMAT = 1
SHORT = 10  # characters of a commit id in messages
_NOTE_LIMIT = 20


class HistoryError(Exception):
    """A history scan that cannot start (not a repository, unknown revision): exit 2."""


# ---- which revisions --------------------------------------------------------------------------

@dataclass
class HistoryRequest:
    revisions: list[str]  # as the user wrote them (empty: HEAD)
    all_refs: bool = False
    pre_push: bool = False
    pathspecs: list[str] = field(default_factory=list)


def pre_push_revisions(cwd: str, env: dict[str, str] | None = None) -> list[str]:
    """The commits pre-commit's pre-push stage is pushing: FROM..TO when it names them; for a push
    that starts a new history (pre-commit then names no range), the local branch's commits that no
    branch of the remote has."""
    env = os.environ if env is None else env
    start, end = env.get("PRE_COMMIT_FROM_REF", ""), env.get("PRE_COMMIT_TO_REF", "")
    if start and end:
        return [f"{start}..{end}"]
    local = env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    remote = env.get("PRE_COMMIT_REMOTE_NAME", "")
    if remote and not remote.startswith("-") and re.fullmatch(r"[A-Za-z0-9._/-]+", remote):
        return [local, "--not", f"--remotes={remote}"]
    return [local, "--not", "--remotes"]


# ---- the scan of one commit ---------------------------------------------------------------------

# Stage 0, on the raw hunks (lower-cased): where a recogniser of the secret scanner can start. A
# name (key, secret, password, pwd, pat, credential), a connection-string key, a SAS or function
# URL, credentials in a URI, a registry or service-principal command line. `[^\n]*` makes one
# match per line. Key signatures (case-sensitive) and DevOps PATs (52 base32 characters) are found
# by their own searches.
_ANCHORS = (b"key", b"secret", b"passw", b"pwd", b"pat", b"credential", b"sig=", b"code=", b"://", b"azurecr.io",
            b"--service-principal",
            # recognisers that need no name: Entra refresh tokens, APIM Git credentials, registry
            # pull secrets, PowerShell secure strings; values named by structure (variable defaults)
            b"refresh", b"git&", b"dockerconfigjson", b"convertto-securestring", b"default")
# The base64 values of a Kubernetes Secret's data carry no name the anchors know.
_SECRET_DATA_LINE = re.compile(rb"(?m)^[+ ][ \t]{1,40}[a-z0-9_.-]{1,253}:[ \t]{0,8}[\"']?[a-z0-9+/]{16,4096}={0,2}[\"']?[ \t]*$")
# One regex per anchor: a literal-prefixed pattern runs at C speed, an alternation of them does not.
_ANCHOR_LINE = {
    w: re.compile(re.escape(w) + {b"pat": rb"(?![a-z])", b"://": rb"[^\s/@]{0,256}@"}.get(w, b"") + rb"[^\n]*")
    for w in _ANCHORS
}
# Key signatures (case-sensitive): identifiable keys, CASK keys, Entra client secrets.
_SIGNATURE = re.compile(rb"[+AJ78](?:A(?:St|Ba|MC|Sb|Eh|Rm|CR)|CDb|PIM|zCa|IoT|ZEG|zSe|zFu|QQJ9|Q~)")
# Every signed key is a run of 40+ token characters: a translated copy finds runs in C.
_TOKEN = bytes(0x63 if (chr(i).isascii() and (chr(i).isalnum() or chr(i) in "+/=_~.-")) else 0x20 for i in range(256))
_BASE32 = bytes(0x61 if (0x61 <= i <= 0x7A or 0x32 <= i <= 0x37) else 0x20 for i in range(256))
_BASE32_RUN = re.compile(rb"a{52}")
_STRING_LITERAL = re.compile(r"""(["'])[^"'\s]{8,}\1""")


def _line_start(data: bytes, pos: int) -> int:
    return data.rfind(b"\n", 0, pos) + 1


@dataclass
class CommitResult:
    """What one commit added, secret-free (this is what the cache keeps)."""

    date: str
    findings: list[Finding] = field(default_factory=list)  # path and span in that commit
    renames: list[tuple[str, str]] = field(default_factory=list)  # (old, new) repository paths
    notes: list[str] = field(default_factory=list)
    binary: int = 0  # binary files skipped


class CommitScanner:
    """Scans the changes of commits: prefilter, permissive view scan, then the whole file."""

    def __init__(self, cwd: str, top: str | None, settings, rs, excludes: list[str]):
        from keyless.linter.engine import keywords_present  # noqa: F401  (warm import)

        self.cwd = cwd
        self.top = top
        self.settings = settings
        self.rs = rs
        self.blobs = BlobReader(cwd)
        self.max_size = settings.max_file_size
        self._excluded: dict[str, bool] = {}
        import pathspec

        # As discovery does: plain names and `*.ext` by set and suffix, other patterns by pathspec.
        self._exclude_names = {e for e in excludes if not any(ch in e for ch in "*?[/!\\")}
        self._exclude_suffixes = tuple(e[1:] for e in excludes
                                       if e.startswith("*.") and not any(ch in e[1:] for ch in "*?[/!\\"))
        rest = [e for e in excludes if e not in self._exclude_names
                and not (e.startswith("*.") and e[1:] in self._exclude_suffixes)]
        self._exclude_spec = pathspec.GitIgnoreSpec.from_lines(rest) if rest else None
        key_auth_words = sorted({k for r, kws in zip(rs.rules, rs.rule_keywords)
                                 if r.category is not Category.SECRET and kws for k in kws})
        self._key_auth_words = tuple(key_auth_words)
        self._key_auth_re = (re.compile(b"|".join(re.escape(w.encode("utf-8")) for w in key_auth_words))
                             if key_auth_words else None)
        self.stats = {"files": 0, "read": 0, "viewed": 0, "linted": 0}

    # -- paths ----------------------------------------------------------------------------------
    def relpath(self, gitpath: str) -> str:
        if self.top is None:
            return gitpath
        from keyless.linter.discovery import relative_to

        return relative_to(os.path.join(self.top, gitpath), self.settings.root)

    def excluded(self, relpath: str) -> bool:
        hit = self._excluded.get(relpath)
        if hit is None:
            parts = relpath.split("/")
            hit = (any(p in self._exclude_names for p in parts)
                   or bool(self._exclude_suffixes and parts[-1].endswith(self._exclude_suffixes))
                   or (self._exclude_spec is not None and self._exclude_spec.match_file(relpath)))
            self._excluded[relpath] = hit
        return hit

    def _select_lines(self, ch: FileChange, kind: str) -> bool:
        """Stage 0: fill `ch.added`/`ch.context` with the lines where a recogniser could start and
        their neighbours (all lines for a Python file that mentions a key-auth API, and for a
        merge's combined diff). False when no line qualifies."""
        from keyless.linter.gitlog import lines_at, parse_hunks

        body = ch.body
        low = body.lower()
        if kind == "python" and self._key_auth_re is not None and self._key_auth_re.search(low):
            parse_hunks(ch)
            return bool(ch.added)
        starts = []
        for word in _ANCHORS:
            if word in low:
                starts += [_line_start(low, m.start()) for m in _ANCHOR_LINE[word].finditer(low)]
        if b"kind: secret" in low or b'"kind": "secret"' in low:
            starts += [_line_start(low, m.start()) for m in _SECRET_DATA_LINE.finditer(low)]
        if len(body) >= 40 and b"c" * 40 in body.translate(_TOKEN):
            starts += [_line_start(body, m.start()) for m in _SIGNATURE.finditer(body)]
            runs = body.translate(_BASE32)  # DevOps PATs: 52 base32 characters
            if b"a" * 52 in runs:
                starts += [_line_start(body, m.start()) for m in _BASE32_RUN.finditer(runs)]
        if not starts:
            return False
        if ch.combined:
            parse_hunks(ch)
        else:
            lines_at(ch, starts)
        return bool(ch.added)

    # -- one commit -------------------------------------------------------------------------------
    def scan(self, commit: Commit) -> CommitResult:
        out = CommitResult(commit.date)
        for ch in commit.changes:
            if ch.status == "R" and ch.old_path:
                out.renames.append((ch.old_path, ch.path))
            if ch.status == "D" or not ch.path:
                continue
            relpath = self.relpath(ch.path)
            if self.excluded(relpath):
                continue
            self.stats["files"] += 1
            if ch.binary:
                self._binary(ch, relpath, out)
                continue
            if not ch.body:
                continue
            from keyless.linter.documents import classify

            if not self._select_lines(ch, classify(relpath)):
                continue
            out.findings.extend(self._changed_file(ch, relpath, ch.added, ch.context))
        return out

    def _binary(self, ch: FileChange, relpath: str, out: CommitResult) -> None:
        """git showed no text diff: a binary file, a file over the size cap, or a text file that
        .gitattributes marks binary (then the added lines are found here)."""
        if not ch.blob:
            return
        size, data = self.blobs.size_and_read(ch.blob, self.max_size)
        if size < 0:
            out.notes.append(f"{relpath}: object missing at commit {ch.blob[:SHORT]}: not scanned")
            return
        if data is None:
            out.notes.append(f"{relpath}: skipped, {size:,} bytes is over the size cap ({self.max_size:,} bytes)")
            return
        from keyless.linter.documents import BinaryFile, decode

        try:
            text, _ = decode(data)
        except BinaryFile:
            out.binary += 1
            return
        old_text = ""
        if ch.old_blob:
            _, old = self.blobs.size_and_read(ch.old_blob, self.max_size)
            try:
                old_text = decode(old)[0] if old is not None else ""
            except BinaryFile:
                old_text = ""
        added = _added_lines(old_text, text)
        if added:
            lines = [(n, text_line.encode("utf-8", "surrogateescape")) for n, text_line in added]
            out.findings.extend(self._changed_file(ch, relpath, lines, [], text=text))

    def _changed_file(self, ch: FileChange, relpath: str, added: list[tuple[int, bytes]],
                      context: list[tuple[int, bytes]], text: str | None = None) -> list[Finding]:
        from keyless.linter.documents import classify

        kind = classify(relpath)
        if not self._view_has_candidate(relpath, kind, added, context):
            return []
        if text is None:
            if not ch.blob:
                return []
            size, data = self.blobs.size_and_read(ch.blob, self.max_size)
            self.stats["read"] += 1
            if data is None:
                return []  # missing, or over the cap (git would have shown it as binary)
            from keyless.linter.documents import BinaryFile, decode

            try:
                text, _ = decode(data)
            except BinaryFile:
                return []
        lines = {n for n, _ in added}
        return self.lint(relpath, text, lines)

    def _view_has_candidate(self, relpath: str, kind: str, added, context) -> bool:
        """Stage 1: the secret scanner, permissive, on the added and context lines only."""
        from keyless.linter.documents import make_document
        from keyless.rules.secrets.scanner import Scanner

        self.stats["viewed"] += 1
        rows = sorted(added + context)
        view_lines: list[str] = []
        numbers: list[int] = []
        prev = None
        for n, raw in rows:
            if prev is not None and n != prev + 1:
                view_lines.append("")  # a gap: lines apart in the file stay apart
                numbers.append(-1)
            view_lines.append(raw.decode("utf-8", "surrogateescape"))
            numbers.append(n)
            prev = n
        text = "\n".join(view_lines)
        added_set = {n for n, _ in added}
        if kind == "python" and self._key_auth_words:
            low = text.lower()
            if any(w in low for w in self._key_auth_words) and any(
                    _STRING_LITERAL.search(raw.decode("utf-8", "surrogateescape")) for _, raw in added):
                return True
        doc = make_document(os.path.join(self.settings.root, relpath), relpath, text)
        for secret in Scanner(doc, permissive=True).run():
            first = doc.lines.position(secret.start).line
            last = doc.lines.position(max(secret.start, secret.end - 1)).line
            if any(0 < i <= len(numbers) and numbers[i - 1] in added_set for i in range(first, last + 1)):
                return True
        return False

    def lint(self, relpath: str, text: str, lines: set[int] | None) -> list[Finding]:
        """The working-tree pipeline on one version of a file: findings (on `lines` when given),
        after suppressions, per-file ignores and the severity threshold."""
        from keyless.linter.documents import make_document
        from keyless.linter.engine import finish, lint_document
        from keyless.linter.workspace import Workspace

        self.stats["linted"] += 1
        doc = make_document(os.path.join(self.settings.root, relpath), relpath, text)
        doc.workspace = Workspace(self.settings.root, listing={})  # no companions from today's disk
        res = lint_document(doc, self.settings, self.rs)
        kept = []
        for f in res.findings:
            if lines is not None and not any(n in lines for n in range(f.span.start.line, f.span.end.line + 1)):
                continue
            rule = self.rs.by_code.get(f.code)
            if rule is None or not rule.literal_credential(doc, f):
                continue
            kept.append(dataclasses.replace(f, fix_data=None))
        res.findings = kept
        res.facts = []
        return finish([res], self.settings, rs=self.rs).findings

    def close(self) -> None:
        self.blobs.close()


def _added_lines(old: str, new: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines `new` has that `old` does not (for files git would not
    diff as text)."""
    import difflib

    a, b = old.splitlines(), new.splitlines()
    out: list[tuple[int, str]] = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=len(b) > 2000).get_opcodes():
        if tag in ("replace", "insert"):
            out.extend((j + 1, b[j]) for j in range(j1, j2))
    return out


# ---- the cache ------------------------------------------------------------------------------------

class HistoryCache:
    """Per-commit results under the commit id: `<cache>/history-v1/<key>.json`, where the key
    covers the repository, the rule set and settings, excludes, pathspecs and keyless's code."""

    def __init__(self, path: str | None):
        self.path = path
        self.commits: dict[str, Any] = {}
        self.dirty = False
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    data = json.load(fh)
                if isinstance(data, dict) and isinstance(data.get("commits"), dict):
                    self.commits = data["commits"]
            except (OSError, ValueError):
                self.commits = {}

    @classmethod
    def open(cls, directory: str, git_dir: str, settings, excludes: list[str], pathspecs: list[str]) -> "HistoryCache":
        from keyless import __version__
        from keyless.linter.cache import code_stamp

        parts = [git_dir, settings.key(), code_stamp(), "\0".join(sorted(excludes)), "\0".join(pathspecs),
                 settings.root]
        key = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        return cls(os.path.join(directory, f"history-v{CACHE_FORMAT}-{__version__}", f"{key}.json"))

    def get(self, commit: str) -> CommitResult | None:
        from keyless.linter.cache import finding_from_json

        e = self.commits.get(commit)
        if e is None:
            return None
        try:
            if e == 0:
                return CommitResult("")
            date, findings, renames, notes, binary = e
            return CommitResult(date, [finding_from_json(f) for f in findings],
                                [(a, b) for a, b in renames], list(notes), int(binary))
        except (TypeError, ValueError, KeyError):
            return None

    def put(self, commit: str, r: CommitResult) -> None:
        from keyless.linter.cache import finding_to_json

        if not r.findings and not r.renames and not r.notes and not r.binary:
            self.commits[commit] = 0
        else:
            self.commits[commit] = [r.date, [finding_to_json(f) for f in r.findings], [list(x) for x in r.renames],
                                    r.notes, r.binary]
        self.dirty = True

    def save(self) -> None:
        if not self.path or not self.dirty:
            return
        from keyless.linter.fixes import write_text_atomic

        try:
            write_text_atomic(self.path, json.dumps({"format": CACHE_FORMAT, "commits": self.commits},
                                                    separators=(",", ":")))
            self.dirty = False
        except OSError:
            pass  # a read-only cache only costs time


# ---- the whole scan -------------------------------------------------------------------------------

@dataclass
class HistoryRun:
    """What a history scan found and how much of the history it could read."""

    findings: list[Finding]
    commits: int  # commits in the range
    from_cache: int
    partial: list[tuple[str, str]]  # (where, one-line reason): the scan is incomplete there
    notes: list[str]
    head: str | None
    repository_uri: str | None
    revisions: list[str]
    elapsed: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)


def repository_info(cwd: str) -> tuple[str | None, str]:
    """(work tree top or None for a bare repository, git directory)."""
    try:
        out = run_git(cwd, "rev-parse", "--is-bare-repository", "--absolute-git-dir").decode(
            "utf-8", "surrogateescape").splitlines()
    except GitError as exc:
        raise HistoryError(f"--history needs a git repository: {exc}") from None
    bare = out[0].strip() == "true"
    git_dir = out[1].strip() if len(out) > 1 else cwd
    if bare:
        return None, git_dir
    top = run_git(cwd, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    return top, git_dir


def list_commits(cwd: str, request: HistoryRequest) -> list[str]:
    """The range's commits, oldest first (parents before children)."""
    args = ["rev-list", "--reverse", "--topo-order", "--full-history"]
    if request.all_refs:
        args.append("--all")
    try:
        if request.pre_push:
            revs = pre_push_revisions(cwd)
            if "--not" in revs:  # LOCAL --not --remotes[=NAME]: options we built around a checked name
                args += check_revisions(revs[:1]) + revs[1:]
            else:
                args += ["--end-of-options", *check_revisions(revs)]
        else:
            revs = request.revisions if request.revisions else ([] if request.all_refs else ["HEAD"])
            args += ["--end-of-options", *check_revisions(revs)]
    except GitError as exc:
        raise HistoryError(f"--history: {exc}") from None
    args += ["--", *request.pathspecs]
    try:
        out = run_git(cwd, *args)
    except GitError as exc:
        msg = str(exc)
        if "unknown revision" in msg or "bad revision" in msg or "ambiguous argument" in msg:
            shown = " ".join(request.revisions) or "HEAD"
            if shown == "HEAD" and head_commit(cwd) is None:
                return []  # a repository without commits yet
            hint = ""
            if request.revisions and any(os.path.exists(r) for r in request.revisions):
                hint = f"; to scan a path's history, give the range first: --history HEAD {request.revisions[0]}"
            raise HistoryError(f"--history: unknown revision or range {shown!r}{hint}") from None
        raise HistoryError(f"--history: git rev-list failed: {msg}") from None
    return out.decode("ascii", "replace").split()


def shallow_boundaries(git_dir: str) -> set[str]:
    try:
        with open(os.path.join(git_dir, "shallow"), encoding="ascii", errors="replace") as fh:
            return {line.strip() for line in fh if line.strip()}
    except OSError:
        return set()


def head_commit(cwd: str) -> str | None:
    try:
        return run_git(cwd, "rev-parse", "--verify", "-q", "HEAD^{commit}").decode("ascii").strip() or None
    except GitError:
        return None


def remote_uri(cwd: str) -> str | None:
    """origin's URL for SARIF's versionControlProvenance, without any user name or password."""
    try:
        url = run_git(cwd, "config", "--get", "remote.origin.url").decode("utf-8", "replace").strip()
    except GitError:
        return None
    m = re.match(r"^([a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(.*)$", url, re.I)
    if m:
        return f"{m.group(1)}://{m.group(2)}"
    m = re.match(r"^(?:[^@/:]+@)?([^/:]+):(?!//)(.+)$", url)  # scp-like git@host:org/repo.git
    if m:
        return f"ssh://{m.group(1)}/{m.group(2)}"
    return None


def scan_history(request: HistoryRequest, settings, rs, excludes: list[str], *, cwd: str,
                 cache_dir: str | None, progress=None) -> HistoryRun:
    t0 = time.perf_counter()
    top, git_dir = repository_info(cwd)
    commits = list_commits(cwd, request)
    partial: list[tuple[str, str]] = []
    notes: list[str] = []
    boundaries = shallow_boundaries(git_dir)
    if boundaries:
        partial.append(("<history>", "shallow clone: commits before "
                        + ", ".join(sorted(b[:SHORT] for b in boundaries)[:3])
                        + " are not in this repository and were not scanned (fetch the full history: "
                        "git fetch --unshallow, or actions/checkout with fetch-depth: 0)"))
    cache = HistoryCache.open(cache_dir, git_dir, settings, excludes, request.pathspecs) if cache_dir else HistoryCache(None)
    scanner = CommitScanner(cwd, top, settings, rs, excludes)
    results: dict[str, CommitResult] = {}
    todo: list[str] = []
    for c in commits:
        hit = cache.get(c)
        if hit is not None:
            results[c] = hit
        else:
            todo.append(c)
    from_cache = len(results)
    stream = PatchStream(cwd, request.pathspecs, big_file_threshold=settings.max_file_size)
    failed: set[str] = set()
    try:
        done = 0
        for commit in stream.commits(todo):
            r = scanner.scan(commit)
            results[commit.id] = r
            done += 1
            if progress is not None and done % 200 == 0:
                progress(from_cache + done, len(commits))
        for cid, reason in stream.result.failed:
            failed.add(cid)
            partial.append((f"<commit {cid[:SHORT]}>", reason))
        for c in todo:
            if c in results and c not in failed:
                cache.put(c, results[c])
            elif c not in results:
                results[c] = CommitResult("")  # git printed nothing for it: no file matched
                if c not in failed:
                    cache.put(c, results[c])
        cache.save()
        order = {c: i for i, c in enumerate(commits)}
        findings = _resolve(results, order, commits, boundaries, scanner, cwd, top, notes)
    finally:
        scanner.close()
    binary = sum(r.binary for r in results.values())
    if binary:
        notes.append(f"history: {binary:,} binary file version{'s' if binary != 1 else ''} skipped")
    file_notes = [n for r in results.values() for n in r.notes]
    notes.extend(file_notes[:_NOTE_LIMIT])
    if len(file_notes) > _NOTE_LIMIT:
        notes.append(f"history: {len(file_notes) - _NOTE_LIMIT} more files skipped")
    head = head_commit(cwd)
    revisions = (pre_push_revisions(cwd) if request.pre_push else request.revisions or ["HEAD"])
    if request.all_refs:
        revisions = ["--all", *request.revisions]
    return HistoryRun(findings, len(commits), from_cache, partial, notes, head, remote_uri(cwd), revisions,
                      time.perf_counter() - t0, dict(scanner.stats))


# ---- from per-commit hits to findings -----------------------------------------------------------

@dataclass
class _Group:
    first: Finding
    commit: str
    date: str
    commits: set[str]
    path: str  # repository path in the first commit


def _resolve(results: dict[str, CommitResult], order: dict[str, int], commits: list[str], boundaries: set[str],
             scanner: CommitScanner, cwd: str, top: str | None, notes: list[str]) -> list[Finding]:
    groups: dict[tuple[str, str, str], _Group] = {}
    renames: dict[str, str] = {}
    for cid in commits:
        r = results.get(cid)
        if r is None:
            continue
        for old, new in r.renames:
            renames.setdefault(scanner.relpath(old), scanner.relpath(new))
        for f in r.findings:
            key = (f.code, f.fingerprint, f.path)
            g = groups.get(key)
            if g is None:
                groups[key] = _Group(f, cid, r.date, {cid}, f.path)
            else:
                g.commits.add(cid)
    if not groups:
        return []
    head = _HeadIndex(scanner, cwd, top)
    merged: dict[tuple[str, str, str], Finding] = {}
    for key, g in sorted(groups.items(), key=lambda kv: order.get(kv[1].commit, 0)):
        at_head = head.find(g.first, _forward(g.path, renames))
        boundary = g.commit in boundaries
        if at_head is not None:
            prov = Provenance(g.commit, g.date, g.path, g.first.span.start.line, True, None, len(g.commits), boundary)
            mkey = (at_head.code, at_head.fingerprint, at_head.path + f":{at_head.span.start.line}")
            prev = merged.get(mkey)
            if prev is not None and prev.provenance is not None:
                p = prev.provenance
                merged[mkey] = prev.with_(provenance=dataclasses.replace(p, commits=p.commits + len(g.commits)))
                continue
            merged[mkey] = _history_finding(at_head, prov)
            continue
        removed = head.removal(g, _forward(g.path, renames))
        prov = Provenance(g.commit, g.date, g.path, g.first.span.start.line, False, removed, len(g.commits), boundary)
        merged[(g.first.code, g.first.fingerprint, g.path)] = _history_finding(g.first, prov)
    return sorted(merged.values(), key=Finding.sort_key)


def _forward(path: str, renames: dict[str, str]) -> list[str]:
    """The path and the names later renames gave it."""
    out = [path]
    seen = {path}
    while out[-1] in renames and renames[out[-1]] not in seen and len(out) < 32:
        out.append(renames[out[-1]])
        seen.add(out[-1])
    return out


def _history_finding(f: Finding, prov: Provenance) -> Finding:
    short = prov.commit[:SHORT]
    date = prov.date[:10]
    since = "at or before" if prov.boundary else "in"
    removed = (prov.removed_in or "")[:SHORT]
    tail, compact = (  # the full facts, and what fits one line beside a long finding
        (f"in history since {short} ({date}): rotate it", f"in history since {short}: rotate it") if prov.at_head
        else (f"added {since} {short} ({date}), removed in {removed}, but still in history: rotate it",
              f"removed in {removed} but in history since {short}: rotate it") if removed
        else (f"added {since} {short} ({date}), not in HEAD but still in history: rotate it",
              f"not in HEAD, in history since {short}: rotate it"))
    # The finding's own advice ("; rotate it, use Entra ID") gives way to where the secret is in history.
    what = f.message.rsplit("; ", 1)[0]
    message = first_fitting(f"{what}; {tail}", f"{drop_notes(what, 0)}; {tail}", f"{drop_notes(what, 0)}; {compact}")
    rotate = ("Rotate the credential now (deleting it or rewriting history does not revoke it; every clone "
              "keeps it)")
    if prov.commits > 1:
        rotate += f" (added by {prov.commits} commits)"
    if f.fix is not None and f.fix.message:
        fix = Fix(f"{rotate}, then: {f.fix.message}", Applicability.DISPLAY_ONLY)
    else:
        fix = Fix(rotate, Applicability.DISPLAY_ONLY)
    fix = dataclasses.replace(fix, message=held_to(fix.message, HELP_MAX))
    return f.with_(message=held_to(message, MESSAGE_MAX), fix=fix, fix_data=None, provenance=prov)


class _HeadIndex:
    """HEAD's files (listed once, linted on demand) and removal search in between."""

    def __init__(self, scanner: CommitScanner, cwd: str, top: str | None):
        self.scanner = scanner
        self.cwd = cwd
        self.top = top
        self._tree: dict[str, str] | None = None
        self._linted: dict[str, list[Finding]] = {}
        self._by_rel: dict[str, str] | None = None

    def _list(self, rev: str, paths: list[str] | None = None) -> dict[str, str]:
        args = ["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", rev]
        if paths:
            args += ["--", *[f":(top,literal){p}" for p in paths]]
        try:
            raw = run_git(self.cwd, *args)
        except GitError:
            return {}
        out = {}
        from keyless.linter.gitlog import decode_path

        for entry in raw.split(b"\x00"):
            meta, tab, path = entry.partition(b"\t")
            parts = meta.split()
            if tab and len(parts) == 3 and parts[1] == b"blob":
                out[decode_path(path)] = parts[2].decode("ascii")
        return out

    def _rel_to_git(self) -> dict[str, str]:
        if self._by_rel is None:
            if self._tree is None:
                self._tree = self._list("HEAD")
            self._by_rel = {self.scanner.relpath(p): p for p in self._tree}
        return self._by_rel

    def _findings_of_blob(self, oid: str, relpath: str) -> list[Finding]:
        key = f"{oid}:{relpath}"
        hit = self._linted.get(key)
        if hit is None:
            size, data = self.scanner.blobs.size_and_read(oid, self.scanner.max_size)
            hit = []
            if data is not None:
                from keyless.linter.documents import BinaryFile, decode

                try:
                    hit = self.scanner.lint(relpath, decode(data)[0], None)
                except BinaryFile:
                    hit = []
            self._linted[key] = hit
        return hit

    def find(self, f: Finding, relpaths: list[str]) -> Finding | None:
        """The same secret (code and fingerprint) in HEAD's version of the file or its later names."""
        by_rel = self._rel_to_git()
        for rel in relpaths:
            gitpath = by_rel.get(rel)
            if gitpath is None or self._tree is None:
                continue
            for g in self._findings_of_blob(self._tree[gitpath], rel):
                if g.code == f.code and g.fingerprint == f.fingerprint:
                    return g
        return None

    def removal(self, g: _Group, relpaths: list[str]) -> str | None:
        """The first commit after the one that added the secret (on the way to HEAD) whose version
        of the file no longer holds it; None when HEAD does not descend from that commit."""
        by_rel = self._rel_to_git()
        gitpaths = sorted({self._gitpath(r) for r in relpaths} - {None})
        if not gitpaths:
            return None
        try:
            raw = run_git(self.cwd, "rev-list", "--reverse", "--topo-order", "--full-history", "--ancestry-path",
                          "--end-of-options", f"{g.commit}..HEAD", "--", *[f":(top,literal){p}" for p in gitpaths])
        except GitError:
            return None
        candidates = raw.decode("ascii", "replace").split()
        if not candidates:
            return None
        del by_rel

        def holds(commit: str) -> bool:
            listing = self._list(commit, gitpaths)
            for gitpath, oid in listing.items():
                rel = self.scanner.relpath(gitpath)
                if any(x.code == g.first.code and x.fingerprint == g.first.fingerprint
                       for x in self._findings_of_blob(oid, rel)):
                    return True
            return False

        lo, hi = 0, len(candidates)  # the first candidate that does not hold it
        while lo < hi:
            mid = (lo + hi) // 2
            if holds(candidates[mid]):
                lo = mid + 1
            else:
                hi = mid
        return candidates[lo] if lo < len(candidates) else None

    def _gitpath(self, relpath: str) -> str | None:
        if self.top is None:
            return relpath
        p = os.path.normpath(os.path.join(self.scanner.settings.root, relpath))
        rel = os.path.relpath(p, self.top)
        return None if rel.startswith("..") else rel.replace(os.sep, "/")


# ---- the command -----------------------------------------------------------------------------------

def history_settings(settings, registry):
    """The rules a history scan runs (the selection's secret rules and literal-credential rules)."""
    from keyless.linter.engine import rule_set
    from keyless.linter.rule import Registry

    classes = [cls for cls in registry if cls.code in settings.select and cls.reads_history()]
    if not classes:
        raise HistoryError("--history runs the secret rules (KL1xx) and the key-auth rules that show a literal "
                           "credential (KL2xx); the selection has none of them")
    hreg = Registry(classes)
    return dataclasses.replace(settings, select=frozenset(hreg.codes), concrete_fixes=False), rule_set(hreg)


def run(opts, cfg, settings, excludes, fmt: str, request: HistoryRequest) -> int:
    """`keyless check --history`: scan, baseline, report, exit code (0 clean, 1 findings, 2 error)."""
    from keyless.linter import session
    from keyless.linter.engine import RunResult
    from keyless.linter.rule import load_registry

    try:
        hsettings, rs = history_settings(settings, load_registry())
        cache_dir = None
        if opts.use_cache:
            from keyless.linter.config import default_cache_dir

            cache_dir = opts.cache_dir or cfg.path_setting("cache-dir") or default_cache_dir()
        run_ = scan_history(request, hsettings, rs, excludes, cwd=os.getcwd(), cache_dir=cache_dir,
                            progress=_progress(opts))
    except (HistoryError, GitError) as exc:
        session._err(str(exc))
        return session.EXIT_ERROR
    res = RunResult(findings=run_.findings, errors=[], notes=list(run_.notes), files_scanned=0, bytes_scanned=0)
    res.elapsed = run_.elapsed
    if not opts.quiet:
        res.notes.append(f"history: {run_.commits:,} commits ({run_.from_cache:,} from the cache) in "
                         f"{run_.elapsed:.1f} s")
    baseline_path = opts.baseline or cfg.path_setting("baseline")
    if baseline_path:
        from keyless.linter.baseline import Baseline, BaselineError

        if opts.update_baseline:
            try:
                old = Baseline.read(baseline_path) if os.path.exists(baseline_path) else Baseline.from_findings([])
            except BaselineError as exc:
                session._err(str(exc))
                return session.EXIT_ERROR
            new = Baseline.from_findings(res.findings)
            merged = Baseline(old.counts | new.counts, old.legacy)  # keep the working tree's entries too
            merged.write(baseline_path)
            if not opts.quiet:
                print(f"keyless: baseline {baseline_path} updated ({len(res.findings)} history findings)",
                      file=sys.stderr)
            return session.EXIT_CLEAN
        try:
            base = Baseline.read(baseline_path)
        except BaselineError as exc:
            session._err(str(exc))
            return session.EXIT_ERROR
        res.findings = base.filter(res.findings)
    history = {
        "revisions": run_.revisions,
        "head": run_.head,
        "repository_uri": run_.repository_uri,
        "commits": run_.commits,
        "commits_from_cache": run_.from_cache,
        "partial": bool(run_.partial),
    }
    warnings = [(where, reason, None) for where, reason in run_.partial]
    if session._emit(res, cfg, fmt, opts, settings, extra_warnings=warnings, history=history) is False:
        return session.EXIT_ERROR
    if run_.partial and getattr(opts, "strict", False):
        return session.EXIT_ERROR  # a partial scan is never a clean one
    if res.findings and not opts.exit_zero:
        return session.EXIT_FINDINGS
    return session.EXIT_CLEAN


def _progress(opts):
    if not getattr(opts, "progress", False) or not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        if time.monotonic() - start >= 1.0 and total:
            sys.stderr.write(f"\r{done:,}/{total:,} commits")
            if done >= total:
                sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()

    return show


__all__ = ["HistoryRequest", "HistoryError", "scan_history", "run", "pre_push_revisions", "CommitScanner",
           "HistoryCache"]
