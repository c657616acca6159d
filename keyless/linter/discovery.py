"""Find the files to lint: walk the given paths, honour .gitignore files, default and configured
excludes, and (with force_exclude) apply excludes to paths named explicitly, as pre-commit needs."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field

from keyless.linter.readfile import file_kind, read_regular_file

GITIGNORE_MAX_BYTES = 1024 * 1024


# Formats that never hold a readable credential; skipped quietly (other binaries get a note).
BINARY_EXTENSIONS = frozenset(
    ".png .jpg .jpeg .gif .bmp .ico .icns .tif .tiff .webp .svgz .psd .pdf .zip .gz .tgz .bz2 .xz .7z .rar "
    ".jar .war .whl .egg .exe .dll .so .dylib .a .o .obj .lib .pyc .pyo .class .woff .woff2 .ttf .otf .eot "
    ".mp3 .mp4 .wav .ogg .mov .avi .mkv .webm .flac .sqlite .db .parquet .avro .onnx .pt .bin".split()
)


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # as it should be opened
    relpath: str  # '/'-separated, relative to the project root (or the path as given, outside it)
    size: int
    mtime_ns: int


@dataclass
class Discovery:
    files: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # skipped with a reason (never changes the exit code)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, problem): exit code 2
    memo_changed: bool = False  # the directory memo must be saved
    named_file_dirs: set[str] = field(default_factory=set)  # directories of files named on the command line


def relative_to(path: str, root: str) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        return absolute.replace(os.sep, "/")
    if rel.startswith(".."):
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


class _Ignores:
    """A stack of .gitignore specs, each relative to the directory holding it."""

    def __init__(self, root: str, enabled: bool):
        self.root = root
        self.enabled = enabled
        self.cache: dict = {}

    def spec_for(self, directory: str):
        if directory in self.cache:
            return self.cache[directory]
        spec = None
        if self.enabled:
            gi = os.path.join(directory, ".gitignore")
            try:
                data = read_regular_file(gi, GITIGNORE_MAX_BYTES)[:GITIGNORE_MAX_BYTES]
                spec = _GitIgnore(data.decode("utf-8", errors="replace").splitlines())
            except OSError:  # absent, unreadable, or not a regular file (never blocks)
                spec = None
            if spec is not None and not spec.active:
                spec = None
        self.cache[directory] = spec
        return spec

    @staticmethod
    def ignored(rel: str, is_dir: bool, chain: list) -> bool:
        """`rel`: the entry's path relative to the walk's top; chain: (base prefix, spec) pairs."""
        result = False
        for prefix, spec in chain:
            include = spec.check(rel[len(prefix):] + ("/" if is_dir else ""))
            if include is not None:
                result = include
        return result


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class _GitIgnore:
    """One .gitignore file. pathspec decides (exact git semantics); one combined regex of all its
    patterns first answers the common case, a path no pattern matches, in a single C-level match
    (checking 100-line ignore files pattern by pattern dominated warm scans)."""

    def __init__(self, lines: list[str]):
        import pathspec

        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        active = [p for p in self.spec.patterns if p.include is not None]
        self.active = bool(active)
        regexes = [p.regex.pattern for p in active if getattr(p, "regex", None) is not None]
        self.any_pattern = None
        if regexes and len(regexes) == len(active):
            try:
                # Named groups would clash across patterns; matching only needs "does any match".
                self.any_pattern = re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', r)})" for r in regexes))
            except re.error:
                self.any_pattern = None

    def check(self, path: str) -> bool | None:
        if self.any_pattern is not None and self.any_pattern.match(path) is None:
            return None
        return self.spec.check_file(path).include


class _Links:
    """Symbolic links. By default a link is followed only to a regular file inside the project:
    a link that leaves it (`/etc/...`, `/proc/kmsg`, a home directory) is skipped with a note, and
    directory links are not walked (their target inside the project is walked anyway).
    `follow`: links that leave the project are followed too, and directory links walked (each
    directory once: a loop ends with a note)."""

    def __init__(self, root: str, follow: bool):
        self.follow = follow
        self.root_real = os.path.realpath(root)
        # Linked files are added after every walk, so a file reached both ways is reported under
        # its real path; linked directories (with `follow`) are walked after the real ones.
        self.files: list[tuple[str, os.stat_result, str]] = []
        self.dirs: list[tuple[str, str, list, str]] = []

    def inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        try:
            return os.path.commonpath([real, self.root_real]) == self.root_real
        except ValueError:  # another drive
            return False

    def resolve(self, path: str, rel: str, out: "Discovery") -> os.stat_result | None:
        """The target's stat when the link may be followed; otherwise None, with a note (dangling
        links, loops, special files and links leaving the project are notes, not errors)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.notes.append(f"{rel}: skipped, dangling symbolic link")
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                out.notes.append(f"{rel}: skipped, symbolic link loop")
            else:
                out.errors.append((rel, exc.strerror or str(exc)))
            return None
        if stat.S_ISDIR(st.st_mode):
            if not self.follow and not self.inside(path):
                out.notes.append(f"{rel}: skipped, symbolic link to a directory outside the project "
                                 "(--follow-symlinks follows it)")
            return st if self.follow else None
        if not stat.S_ISREG(st.st_mode):
            out.notes.append(f"{rel}: skipped, symbolic link to a {file_kind(st.st_mode)}")
            return None
        if not self.follow and not self.inside(path):
            out.notes.append(f"{rel}: skipped, symbolic link to a file outside the project "
                             "(--follow-symlinks follows it)")
            return None
        return st


def discover(paths: list[str], root: str, *, excludes: list[str], respect_gitignore: bool = True,
             force_exclude: bool = False, max_file_size: int, memo: dict | None = None,
             recursive: bool = True, follow_symlinks: bool = False) -> Discovery:
    """`memo`: a dict kept between runs (the result cache holds it) that lets unchanged
    directories skip listing and .gitignore matching."""
    out = Discovery()
    links = _Links(root, follow_symlinks)
    dir_memo = None
    if memo is not None:
        options = repr((sorted(excludes), respect_gitignore, os.path.abspath(root), follow_symlinks))
        if memo.get("options") != options:
            memo.clear()
            memo["options"] = options
            out.memo_changed = True
        dir_memo = memo.setdefault("dirs", {})

    # Plain names (the common case) are a set lookup; only real patterns go through pathspec.
    names = {e for e in excludes if not any(ch in e for ch in "*?[/!\\")}
    # `*.min.js`-style patterns are suffix checks.
    suffixes = tuple(e[1:] for e in excludes if e.startswith("*.") and not any(ch in e[1:] for ch in "*?[/!\\"))
    patterns = [e for e in excludes if e not in names and not (e.startswith("*.") and e[1:] in suffixes)]
    exclude_spec = None
    if patterns:  # pathspec is imported only for real patterns (not on an editor's warm check)
        import pathspec

        exclude_spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    ignores = _Ignores(root, respect_gitignore)
    seen: set[tuple[int, int]] = set()

    def excluded(rel: str, is_dir: bool) -> bool:
        name = rel.rsplit("/", 1)[-1]
        if name in names or (suffixes and not is_dir and name.endswith(suffixes)):
            return True
        return exclude_spec is not None and exclude_spec.match_file(rel + ("/" if is_dir else ""))

    def add(path: str, st: os.stat_result, rel: str | None = None) -> None:
        ident = (st.st_dev, st.st_ino)  # the same file reached twice (links, overlapping paths)
        if ident in seen:
            return
        seen.add(ident)
        rel = rel if rel is not None else relative_to(path, root)
        if st.st_size > max_file_size:
            out.notes.append(f"{rel}: skipped, {st.st_size:,} bytes is over the size cap ({max_file_size:,} bytes)")
            return
        out.files.append(Candidate(path, rel, st.st_size, st.st_mtime_ns))

    for given in paths:
        rel = relative_to(given, root)
        try:
            lst = os.lstat(given)
        except FileNotFoundError:
            out.errors.append((given, "no such file or directory"))
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                out.notes.append(f"{relative_to(given, root)}: skipped, symbolic link loop")
            else:
                out.errors.append((given, exc.strerror or str(exc)))
            continue
        st = lst
        if stat.S_ISLNK(lst.st_mode):
            # A link named on the command line (pre-commit passes committed links one by one)
            # obeys the policy of a link found in a walk; one to a directory of the project is
            # walked (its target is part of the project anyway).
            try:
                inside_dir = stat.S_ISDIR(os.stat(given).st_mode) and links.inside(given)
            except OSError:
                inside_dir = False
            resolved = os.stat(given) if inside_dir else links.resolve(given, rel, out)
            if resolved is None:
                continue
            st = resolved
        if stat.S_ISDIR(st.st_mode):
            if force_exclude and rel not in (".", "") and excluded(rel, True):
                continue
            _walk(given, root, out, add, excluded, ignores, dir_memo if recursive else None, recursive, links)
        elif stat.S_ISREG(st.st_mode):
            if force_exclude and (excluded(rel, False) or _under_excluded_dir(rel, excluded)):
                continue
            add(given, st)
            out.named_file_dirs.add(os.path.dirname(os.path.abspath(given)))
        else:
            out.notes.append(f"{rel}: skipped, not a regular file ({file_kind(st.st_mode)})")
    for path, st, rel in links.files:
        add(path, st, rel)
    out.files.sort(key=lambda c: c.relpath)
    return out


def _under_excluded_dir(rel: str, excluded) -> bool:
    parts = rel.split("/")[:-1]
    return any(excluded("/".join(parts[: i + 1]), True) for i in range(len(parts)))


def _gitignore_stamp(directory: str) -> str:
    try:
        st = os.stat(os.path.join(directory, ".gitignore"))
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


def _walk(top: str, root: str, out: Discovery, add, excluded, ignores: _Ignores, memo: dict | None = None,
          recursive: bool = True, links: _Links | None = None) -> None:
    # Iterative walk; symbolic links follow the _Links policy (directory links only with
    # --follow-symlinks, each real directory once).
    # Paths are built by concatenation (os.path.relpath per entry dominated warm scans).
    # `memo` (kept in the result cache) remembers each directory's kept entries under its mtime
    # and the stamps of the .gitignore files above it: an unchanged directory is not listed or
    # matched again, only its files are stat-ed (a warm rescan's discovery is then ~5x faster).
    top_abs = os.path.abspath(top)
    root_abs = os.path.abspath(root)
    top_rel = relative_to(top_abs, root_abs)
    base = "" if top_rel in (".", "") else top_rel + "/"
    chain0: list = []  # (prefix, directory holding a .gitignore); specs are loaded when needed
    stamp0 = ""
    # .gitignore files between the root and `top` apply too.
    if top_abs.startswith(root_abs) and not os.path.isabs(top_rel):
        d, prefix = root_abs, ""
        parts = [] if top_rel in (".", "") else top_rel.split("/")
        for i, part in enumerate([""] + parts):
            if part:
                d = os.path.join(d, part)
                prefix = "/".join(parts[:i]) + "/"
            if d != top_abs and ignores.enabled:
                stamp = _gitignore_stamp(d)
                stamp0 += "|" + stamp
                if stamp != "-":
                    chain0.append((prefix if part else "", d))
    links = links or _Links(root, False)
    walked: set[tuple[int, int]] = set()  # real directories entered through a link
    stack: list[tuple[str, str, list, str]] = [(top_abs, base, chain0, stamp0)]
    while stack or links.dirs:
        directory, rel_dir, chain, stamp = stack.pop() if stack else links.dirs.pop(0)
        try:
            dst = os.stat(directory)
        except OSError as exc:
            out.errors.append((rel_dir.rstrip("/") or ".", f"cannot list directory: {exc.strerror or exc}"))
            continue
        known = memo.get(directory) if memo is not None else None
        if known is not None and known[0] == dst.st_mtime_ns and known[1] == dst.st_ino:
            own = _gitignore_stamp(directory) if known[3] else "-"
            if known[2] == stamp + "|" + own:
                if not known[4]:
                    _replay(directory, rel_dir, known, chain, stamp + "|" + own, stack, add, out)
                    continue
                if directory != top_abs:
                    continue  # a virtualenv
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            out.errors.append((rel_dir.rstrip("/") or ".", f"cannot list directory: {exc.strerror or exc}"))
            continue
        has_gi = ignores.enabled and any(e.name == ".gitignore" for e in entries)
        own = _gitignore_stamp(directory) if has_gi else "-"
        my_stamp = stamp + "|" + own
        if directory != top_abs and any(e.name == "pyvenv.cfg" for e in entries):
            if memo is not None:
                memo[directory] = [dst.st_mtime_ns, dst.st_ino, my_stamp, has_gi, True, [], []]
                out.memo_changed = True
            continue  # a virtualenv, whatever its name
        if own != "-":
            chain = chain + [(rel_dir, directory)]
        specs = [(prefix, spec) for prefix, d in chain if (spec := ignores.spec_for(d)) is not None]
        kept_files: list[str] = []
        kept_dirs: list[str] = []
        clean = True  # only directories that gave no note or error are remembered
        for entry in entries:
            rel = rel_dir + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if excluded(rel, is_dir):
                continue
            if specs and _Ignores.ignored(rel, is_dir, specs):
                continue
            if is_dir:
                if recursive:
                    stack.append((entry.path, rel + "/", chain, my_stamp))
                kept_dirs.append(entry.name)
                continue
            dot = entry.name.rfind(".")
            if dot > 0 and entry.name[dot:].lower() in BINARY_EXTENSIONS:
                continue
            try:
                is_link = entry.is_symlink()
                st = None if is_link else entry.stat(follow_symlinks=False)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    out.notes.append(f"{rel}: skipped, symbolic link loop")
                else:
                    out.errors.append((rel, exc.strerror or str(exc)))
                clean = False
                continue
            if is_link:
                clean = False  # re-checked on every run: the target may move
                st = links.resolve(entry.path, rel, out)
                if st is None:
                    continue
                if stat.S_ISDIR(st.st_mode):  # only with --follow-symlinks
                    ident = (st.st_dev, st.st_ino)
                    if ident in walked or _is_ancestor(entry.path, directory):
                        out.notes.append(f"{rel}: skipped, symbolic link loop")
                    elif recursive:
                        walked.add(ident)
                        links.dirs.append((entry.path, rel + "/", chain, my_stamp))
                    continue
                links.files.append((entry.path, st, rel))
                continue
            elif not stat.S_ISREG(st.st_mode):
                out.notes.append(f"{rel}: skipped, not a regular file ({file_kind(st.st_mode)})")
                clean = False
                continue
            kept_files.append(entry.name)
            add(entry.path, st, rel)
        if memo is not None:
            out.memo_changed = True
            if clean:
                memo[directory] = [dst.st_mtime_ns, dst.st_ino, my_stamp, has_gi, False, kept_files, kept_dirs]
            else:
                memo.pop(directory, None)


def _is_ancestor(link: str, directory: str) -> bool:
    """The link points at the directory holding it or one above it (a loop)."""
    real, here = os.path.realpath(link), os.path.realpath(directory)
    try:
        return os.path.commonpath([real, here]) == real
    except ValueError:
        return False


def _replay(directory: str, rel_dir: str, known: list, chain: list, stamp: str, stack: list, add, out) -> None:
    """An unchanged directory: its remembered files (stat-ed again) and subdirectories."""
    if known[3]:
        chain = chain + [(rel_dir, directory)]
    sep = os.sep
    for name in known[5]:
        path = directory + sep + name
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue  # deleted since the directory's listing was taken (the mtime moved too)
        except OSError as exc:
            out.errors.append((rel_dir + name, exc.strerror or str(exc)))
            continue
        if stat.S_ISREG(st.st_mode):
            add(path, st, rel_dir + name)
    for name in known[6]:
        stack.append((directory + sep + name, rel_dir + name + "/", chain, stamp))
