"""Read a repository's history safely, as patches: which lines each commit added, and where.

`git log -p -U1` streams every commit of a range as one patch text; this module runs it as a
subprocess (no library: measured 4-5x faster than pygit2 and ~80x faster than dulwich) and parses
the hunks into `Commit`s, each with the lines its files gained and their line numbers in the
commit's version of the file. Merges are read as combined diffs (`--cc`): only lines that are new
against every parent count, so a merge never repeats its branches' commits but an "evil merge"
that adds a line of its own is still seen.

A repository is untrusted input. Nothing here lets its configuration run a program: no pager,
no external diff driver or textconv filter, no fsmonitor, no signature verification, no
submodule commands, and no fetch (a partial clone's missing objects stay missing: the scan
reports them instead of downloading). Revisions are passed after `--end-of-options`, so a range
can never be read as an option.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator

# A commit header in the stream. Diff lines always start with a known prefix character, so a line
# starting with NUL can only be ours (commit messages are never printed).
_SENTINEL = b"\x00KEYLESS\x00"
_FORMAT = "--format=%x00KEYLESS%x00%H%x00%P%x00%aI"
_RANGE = re.compile(rb"^[-+](\d+)(?:,(\d+))?$")
_MISSING = re.compile(r"unable to read ([0-9a-f]{40,64})|missing (?:blob|object) ([0-9a-f]{40,64})")
NULL_ID = re.compile(r"^0+$")


class GitError(Exception):
    """git could not be run or refused the request. The message is one line."""


@dataclass(slots=True)
class FileChange:
    """One file of one commit: the lines it gained (line number in the commit's version, text)."""

    path: str  # repository-relative, '/'-separated (undecodable bytes as surrogate escapes)
    old_path: str | None = None  # the name before a rename or copy
    status: str = "M"  # A added, M modified, R renamed, C copied, T type change
    blob: str | None = None  # the commit's version of the file (full object id)
    old_blob: str | None = None  # the (first) parent's version
    binary: bool = False  # git showed no text diff ("Binary files ... differ")
    body: bytes = b""  # the hunks, unparsed (see `parse_hunks` and `lines_at`)
    combined: bool = False  # a merge's combined diff (`diff --cc`)
    added: list[tuple[int, bytes]] = field(default_factory=list)
    context: list[tuple[int, bytes]] = field(default_factory=list)  # unchanged lines next to a hunk


@dataclass(slots=True)
class Commit:
    id: str
    parents: tuple[str, ...]
    date: str  # author date, ISO 8601 (strict)
    changes: list[FileChange] = field(default_factory=list)


def git_env() -> dict[str, str]:
    """The environment for every git process: no system config, no prompts, no pager, no lazy
    fetch, stable (untranslated) messages."""
    env = dict(os.environ)
    for name in ("GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_PAGER", "PAGER", "GIT_TRACE", "GIT_TRACE2",
                 "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_TRACE_PACKET", "GIT_CONFIG_PARAMETERS",
                 "GIT_CONFIG_COUNT"):
        env.pop(name, None)
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_LAZY_FETCH="1",  # git >= 2.45; older versions are stopped by protocol.allow=never
        GIT_OPTIONAL_LOCKS="0",
        GIT_PAGER="cat",
        PAGER="cat",
        LC_ALL="C",
        LANGUAGE="C",
    )
    return env


def git_args(*args: str, big_file_threshold: int | None = None) -> list[str]:
    """`git` with the configuration keys that could run a program, fetch, or change the patch
    format pinned to safe values (command-line `-c` wins over every config file)."""
    pinned = [
        "core.fsmonitor=false",
        "core.quotepath=false",
        "core.pager=cat",
        "protocol.allow=never",
        "diff.suppressBlankEmpty=false",
        "diff.noprefix=false",
        "diff.mnemonicPrefix=false",
        "diff.relative=false",
        "log.showSignature=false",
        "log.follow=false",
        "submodule.recurse=false",
    ]
    if big_file_threshold:
        # git treats bigger files as binary: no diff is computed for them at all.
        pinned.append(f"core.bigFileThreshold={big_file_threshold}")
    out = ["git", "--no-pager"]
    for item in pinned:
        out += ["-c", item]
    return out + list(args)


def run_git(cwd: str, *args: str, input: bytes | None = None) -> bytes:
    """Run a short git command; GitError (one line) when it fails."""
    try:
        proc = subprocess.run(git_args(*args), cwd=cwd, input=input, capture_output=True, env=git_env(),
                              stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise GitError(first_line(proc.stderr) or f"git {args[0]} exited with {proc.returncode}")
    return proc.stdout


def first_line(stderr: bytes) -> str:
    """git's own message (first line of stderr, 'fatal: ' dropped), decoded for display."""
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")[:300]
    return ""


def check_revisions(revs: Iterable[str]) -> list[str]:
    """Revision arguments from the user: never an option (a leading '-'), never empty."""
    out = []
    for rev in revs:
        if not rev or rev.startswith("-") or "\x00" in rev or "\n" in rev:
            raise GitError(f"not a revision: {rev!r}")
        out.append(rev)
    return out


# ---- C-quoted path names ------------------------------------------------------------------------

_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13,
            ord('"'): 34, ord("\\"): 92}


def unquote(raw: bytes) -> tuple[bytes, bytes]:
    """A path as git prints it: `"..."` with C escapes (\\n, \\", \\ooo octal bytes) when it holds
    unusual characters, else verbatim. Returns (name, rest of the input after it)."""
    if not raw.startswith(b'"'):
        return raw, b""
    out = bytearray()
    i, n = 1, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x22:  # closing quote
            return bytes(out), raw[i + 1:]
        if c == 0x5C and i + 1 < n:
            nxt = raw[i + 1]
            if 0x30 <= nxt <= 0x37 and i + 3 < n + 1:
                out.append(int(raw[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out), b""


def decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _strip_prefix(name: bytes, prefix: bytes) -> bytes:
    return name[len(prefix):] if name.startswith(prefix) else name


def _patch_name(raw: bytes) -> bytes:
    """The name on a `---`/`+++` line: quoted, or verbatim with the tab git appends to a name that
    holds a space."""
    if raw.startswith(b'"'):
        return unquote(raw)[0]
    return raw[:-1] if raw.endswith(b"\t") else raw


def _diff_git_paths(rest: bytes) -> tuple[bytes | None, bytes | None]:
    """`a/OLD b/NEW` from a `diff --git` line. Unquoted names with spaces are ambiguous unless both
    are the same name (the common case); then the line splits in the middle."""
    if rest.startswith(b'"'):
        old, tail = unquote(rest)
        tail = tail.lstrip(b" ")
        new, _ = unquote(tail) if tail.startswith(b'"') else (tail, b"")
        return _strip_prefix(old, b"a/"), _strip_prefix(new, b"b/")
    if rest.endswith(b'"'):
        j = rest.find(b' "')
        if j > 0:
            new, _ = unquote(rest[j + 1:])
            return _strip_prefix(rest[:j], b"a/"), _strip_prefix(new, b"b/")
    if len(rest) % 2 == 1:
        half = (len(rest) - 1) // 2
        old, new = rest[:half], rest[half + 1:]
        if old.startswith(b"a/") and new.startswith(b"b/") and old[2:] == new[2:]:
            return old[2:], new[2:]
    return None, None


# ---- the patch stream ---------------------------------------------------------------------------

_PIECE = re.compile(rb"\n(?=\x00KEYLESS\x00|diff --(?:git|cc|combined) )")
_CHUNK = 1 << 20


class PatchParser:
    """Turns `git log -p` output (our format, -U1, --cc for merges) into Commits.

    The stream is cut into commit headers and file sections with C-speed searches; a file
    section's hunks stay bytes (`FileChange.body`) until the caller asks for lines, so most of a
    large history is never looked at line by line."""

    def __init__(self) -> None:
        self.commit: Commit | None = None

    def feed(self, stream: IO[bytes]) -> Iterator[Commit]:
        """Every complete commit; the last one is returned by `close()`."""
        buf = b""
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            buf += chunk
            cut = max(buf.rfind(b"\n\x00KEYLESS\x00"), buf.rfind(b"\ndiff --"))
            if cut <= 0:
                continue
            done, buf = buf[:cut], buf[cut + 1:]
            yield from self._pieces(done)
        if buf:
            yield from self._pieces(buf)

    def close(self) -> Commit | None:
        done, self.commit = self.commit, None
        return done

    def _pieces(self, data: bytes) -> Iterator[Commit]:
        for piece in _PIECE.split(data):
            if piece.startswith(_SENTINEL):
                done = self.commit
                header = piece[len(_SENTINEL):].split(b"\n", 1)[0]
                self.commit = _new_commit(header)
                if done is not None:
                    yield done
            elif piece.startswith(b"diff --") and self.commit is not None:
                change = _section(piece)
                if change is not None:
                    self.commit.changes.append(change)


def _new_commit(header: bytes) -> Commit:
    parts = header.split(b"\x00")
    cid = parts[0].decode("ascii", "replace")
    parents = tuple(p.decode("ascii", "replace") for p in parts[1].split()) if len(parts) > 1 else ()
    date = parts[2].decode("ascii", "replace").strip() if len(parts) > 2 else ""
    return Commit(cid, parents, date)


def _section(piece: bytes) -> FileChange | None:
    """One file's part of a commit's patch: its header parsed, its hunks kept as bytes."""
    at = piece.find(b"\n@@")
    head = piece if at < 0 else piece[:at]
    body = b"" if at < 0 else piece[at + 1:]
    lines = head.split(b"\n")
    first = lines[0]
    if first.startswith(b"diff --git "):
        old, new = _diff_git_paths(first[11:])
    else:  # diff --cc NAME / diff --combined NAME
        old, new = None, unquote(first.split(b" ", 2)[2])[0]
    ch = FileChange(path=decode_path(new) if new is not None else "",
                    old_path=decode_path(old) if old is not None else None)
    for line in lines[1:]:
        if line.startswith(b"+++ "):
            name = _patch_name(line[4:])
            if name != b"/dev/null":
                ch.path = decode_path(_strip_prefix(name, b"b/"))
        elif line.startswith(b"--- "):
            name = _patch_name(line[4:])
            if name == b"/dev/null":
                ch.status, ch.old_path = "A", None
            elif ch.old_path is None:
                ch.old_path = decode_path(_strip_prefix(name, b"a/"))
        elif line.startswith(b"index "):
            ids = line[6:].split(b" ", 1)[0]
            old_id, _, new_id = ids.rpartition(b"..")
            ch.blob = None if NULL_ID.match(new_id.decode("ascii", "replace")) else new_id.decode("ascii", "replace")
            first_old = old_id.split(b",")[0].decode("ascii", "replace")
            ch.old_blob = None if not first_old or NULL_ID.match(first_old) else first_old
        elif line.startswith(b"new file mode"):
            ch.status, ch.old_path = "A", None
        elif line.startswith(b"rename from "):
            ch.old_path, ch.status = decode_path(unquote(line[12:])[0]), "R"
        elif line.startswith(b"rename to "):
            ch.path = decode_path(unquote(line[10:])[0])
        elif line.startswith(b"copy from "):
            ch.old_path, ch.status = decode_path(unquote(line[10:])[0]), "C"
        elif line.startswith(b"copy to "):
            ch.path = decode_path(unquote(line[8:])[0])
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            ch.binary = True
        elif line.startswith(b"deleted file mode"):
            ch.status = "D"
    if ch.status == "M" and ch.old_path is not None and ch.old_path == ch.path:
        ch.old_path = None
    ch.body = body
    ch.combined = not first.startswith(b"diff --git ")
    return ch


_HUNK_START = re.compile(rb"^(@+) (.*?) @+(?: |$)")


def parse_hunks(ch: FileChange) -> None:
    """All added lines of `ch` (with their line numbers in the new version) and the context lines
    around them, into `ch.added` and `ch.context`."""
    body = ch.body
    added = ch.added
    context = ch.context
    new_left = old_left = 0
    new_line = 0
    cols = 1
    plus_all = b"+"
    for line in body.split(b"\n"):
        if new_left > 0 or old_left > 0:
            c = line[:1]
            if cols == 1:
                if c == b"+":
                    added.append((new_line, line[1:]))
                    new_line += 1
                    new_left -= 1
                elif c == b"-":
                    old_left -= 1
                elif c == b"\\":
                    pass
                else:
                    context.append((new_line, line[1:]))
                    new_line += 1
                    new_left -= 1
                    old_left -= 1
                continue
            prefix = line[:cols]
            if c == b"\\" or b"-" in prefix:  # gone from the merge's result
                continue
            if prefix == plus_all:  # new against every parent: the merge's own line
                added.append((new_line, line[cols:]))
            else:
                context.append((new_line, line[cols:]))
            new_line += 1
            new_left -= 1
            continue
        if not line.startswith(b"@@"):
            continue  # lines a combined hunk dropped from its result
        m = _HUNK_START.match(line)
        if m is None:
            continue
        cols = len(m.group(1)) - 1
        plus_all = b"+" * cols
        old_count = new_start = new_count = 0
        ok = True
        for r in m.group(2).split(b" "):
            rm = _RANGE.match(r)
            if rm is None:
                ok = False
                break
            count = int(rm.group(2)) if rm.group(2) is not None else 1
            if r.startswith(b"+"):
                new_start, new_count = int(rm.group(1)), count
            else:
                old_count = count
        if not ok:
            continue
        new_line = new_start if new_count else new_start + 1
        new_left = new_count
        # A combined hunk is followed through its result lines only.
        old_left = old_count if cols == 1 else 0


_HUNK_HEAD = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@[^\n]*")


def lines_at(ch: FileChange, starts: Iterable[int]) -> None:
    """Only the lines of `ch.body` starting at `starts` (byte offsets, as found by the caller's
    searches) and the result line before and after each, into `ch.added` / `ch.context`. Line
    numbers are counted with C-speed searches between the wanted lines, so a big hunk costs little.
    Not for combined diffs (use parse_hunks)."""
    body = ch.body
    heads = []
    i = 0 if body.startswith(b"@@") else body.find(b"\n@@") + 1
    while i > 0 or (i == 0 and body.startswith(b"@@")):
        m = _HUNK_HEAD.match(body, i)
        if m is not None:
            heads.append((m.start(), m.end(), int(m.group(1))))
        i = body.find(b"\n@@", i + 2) + 1
        if i == 0:
            break
    if not heads:
        return
    head_starts = [h[0] for h in heads]
    wanted: set[int] = set()
    n = len(body)
    for p in starts:
        if p in wanted:
            continue
        wanted.add(p)
        q = p  # the result line before (skipping removed lines)
        for _ in range(4):
            if q <= 0:
                break
            q = body.rfind(b"\n", 0, q - 1) + 1
            c = body[q:q + 1]
            if c in (b"+", b" "):
                wanted.add(q)
                break
            if c != b"-":
                break
        q = p  # and after
        for _ in range(4):
            e = body.find(b"\n", q)
            if e < 0 or e + 1 >= n:
                break
            q = e + 1
            c = body[q:q + 1]
            if c in (b"+", b" "):
                wanted.add(q)
                break
            if c != b"-":
                break
    import bisect

    cur_hunk = -1
    line_no = 0
    last = 0
    for p in sorted(wanted):
        h = bisect.bisect_right(head_starts, p) - 1
        if h < 0:
            continue
        hs, he, new_start = heads[h]
        if p <= he:  # the hunk header itself
            continue
        if h != cur_hunk:
            cur_hunk, last = h, he
            line_no = new_start
        # result lines ('+' or ' ') that start between the last counted point and this line
        line_no += body.count(b"\n+", last, p) + body.count(b"\n ", last, p)
        last = p - 1  # from this line's own newline on, next time
        c = body[p:p + 1]
        end = body.find(b"\n", p)
        text = body[p + 1:end if end >= 0 else n]
        if c == b"+":
            ch.added.append((line_no, text))
        elif c == b" ":
            ch.context.append((line_no, text))


# ---- processes ------------------------------------------------------------------------------------

@dataclass
class StreamResult:
    """What a `log_patches` run left behind: commits whose patch was cut short, and why."""

    failed: list[tuple[str, str]] = field(default_factory=list)  # (commit id, one-line reason)
    missing_objects: set[str] = field(default_factory=set)


class PatchStream:
    """`git log -p` over a given list of commits (read from stdin, order kept). On a git failure in
    the middle (a missing object in a shallow snapshot or partial clone), the commit being read is
    marked and the stream resumes with the next one; the failed commit is read once more without
    the files whose objects are missing."""

    LOG_OPTIONS = (
        "-p", "-U1", "--cc", "--no-color", "--no-ext-diff", "--no-textconv", "--full-index",
        "--find-renames", "--diff-filter=ACMRT", "--src-prefix=a/", "--dst-prefix=b/", "--no-relative",
        "--submodule=short", "--no-show-signature", "--root", "-O/dev/null", "--no-walk=unsorted",
        "--no-follow", "--no-notes", "--no-mailmap",
    )

    def __init__(self, cwd: str, pathspecs: list[str], big_file_threshold: int | None = None):
        self.cwd = cwd
        self.pathspecs = pathspecs
        self.big_file_threshold = big_file_threshold
        self.result = StreamResult()

    def commits(self, ids: list[str]) -> Iterator[Commit]:
        todo = list(ids)
        while todo:
            state = _RunState()
            yield from self._run(todo, self.pathspecs, state)
            if state.failure is None:
                return
            bad = state.last_started or todo[0]
            index = todo.index(bad) if bad in todo else 0
            self.result.missing_objects |= state.failure.missing
            retried = yield from self._retry(bad, state.failure.missing)
            if not retried:
                self.result.failed.append((bad, state.failure.reason))
            todo = todo[index + 1:]

    def _retry(self, commit: str, missing: set[str]) -> Iterator[Commit]:
        """Read one commit again without the files whose objects are missing; True when that worked."""
        excluded: list[str] = []
        for _ in range(4):
            new = [p for p in self._paths_of_blobs(commit, missing) if p not in excluded]
            if not new:
                return False
            excluded += new
            specs = list(self.pathspecs) + [f":(exclude,literal){p}" for p in excluded]
            state = _RunState()
            collected = list(self._run([commit], specs, state))
            if state.failure is None:
                names = ", ".join(sorted(excluded))
                self.result.failed.append((commit, f"object missing (shallow snapshot or partial clone): "
                                                   f"not scanned: {names}"))
                yield from collected
                return True
            missing = state.failure.missing
            self.result.missing_objects |= missing
        return False

    def _paths_of_blobs(self, commit: str, blobs: set[str]) -> list[str]:
        if not blobs:
            return []
        try:
            raw = run_git(self.cwd, "diff-tree", "-r", "-z", "--root", "--no-renames", "--full-index", "-m",
                          "--no-ext-diff", "--no-textconv", "--end-of-options", commit)
        except GitError:
            return []
        out = set()
        fields = raw.split(b"\x00")
        i = 0
        while i < len(fields) - 1:
            meta = fields[i]
            if meta.startswith(b":"):
                parts = meta[1:].split(b" ")
                if len(parts) >= 4 and parts[3].decode("ascii", "replace") in blobs:
                    out.add(decode_path(fields[i + 1]))
                i += 2
            else:
                i += 1
        return sorted(out)

    def _run(self, ids: list[str], pathspecs: list[str], state: "_RunState") -> Iterator[Commit]:
        args = git_args("log", *self.LOG_OPTIONS, _FORMAT, "--stdin", "--end-of-options", "--", *pathspecs,
                        big_file_threshold=self.big_file_threshold)
        try:
            proc = subprocess.Popen(args, cwd=self.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=git_env(), bufsize=1024 * 1024)
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH)") from None
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        stderr_chunks: list[bytes] = []
        feeder = threading.Thread(target=_feed, args=(proc.stdin, ids), daemon=True)
        reader = threading.Thread(target=_drain, args=(proc.stderr, stderr_chunks), daemon=True)
        feeder.start()
        reader.start()
        parser = PatchParser()
        try:
            yield from parser.feed(proc.stdout)
            last = parser.close()
        finally:
            proc.stdout.close()
            rc = proc.wait()
            feeder.join()
            reader.join()
        if rc == 0:
            if last is not None:
                yield last
            return
        stderr = b"".join(stderr_chunks)
        missing = {a or b for a, b in _MISSING.findall(stderr.decode("utf-8", "replace"))}
        state.failure = _Failure(first_line(stderr) or f"git log exited with {rc}", missing)
        state.last_started = last.id if last is not None else None  # cut short: never yielded


@dataclass
class _RunState:
    failure: "_Failure | None" = None
    last_started: str | None = None


@dataclass
class _Failure:
    reason: str
    missing: set[str]


def _feed(pipe: IO[bytes], ids: list[str]) -> None:
    try:
        pipe.write("".join(f"{i}\n" for i in ids).encode("ascii"))
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _drain(pipe: IO[bytes], out: list[bytes]) -> None:
    total = 0
    for chunk in iter(lambda: pipe.read(65536), b""):
        if total < 1 << 20:  # a flood of warnings is not kept whole
            out.append(chunk)
            total += len(chunk)


class BlobReader:
    """`git cat-file --batch`: object contents by id, one long-lived process."""

    def __init__(self, cwd: str):
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.proc is None:
            try:
                self.proc = subprocess.Popen(git_args("cat-file", "--batch"), cwd=self.cwd, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env())
            except FileNotFoundError:
                raise GitError("git is not installed (or not on PATH)") from None
        return self.proc

    def size_and_read(self, oid: str, max_size: int) -> tuple[int, bytes | None]:
        """(size, content); content None when the object is missing (size -1) or bigger than
        max_size (then it is not read into memory)."""
        if not re.fullmatch(r"[0-9a-f]{40,64}", oid):
            return -1, None
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(oid.encode("ascii") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline()
        except (BrokenPipeError, OSError):
            self.close()
            return -1, None
        parts = header.split()
        if len(parts) != 3 or parts[1] == b"missing":
            if not header:
                self.close()
            return -1, None
        size = int(parts[2])
        if size > max_size:  # drained in chunks, never held in memory
            left = size
            while left > 0:
                chunk = proc.stdout.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            proc.stdout.read(1)
            return size, None
        data = _read_exact(proc.stdout, size)
        proc.stdout.read(1)  # the newline after the contents
        return size, data

    def close(self) -> None:
        if self.proc is not None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
            except OSError:
                pass
            self.proc.wait()
            self.proc = None


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n > 0:
        chunk = stream.read(min(n, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
