"""Find the files to lint: walk the given paths, honour .gitignore files, default and configured
excludes, and (with force_exclude) apply excludes to paths named explicitly, as pre-commit needs."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field


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
    notes: list[str] = field(default_factory=list)  # skipped with a reason
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, problem)


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
            import pathspec

            gi = os.path.join(directory, ".gitignore")
            try:
                with open(gi, encoding="utf-8", errors="replace") as fh:
                    spec = pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
            except OSError:
                spec = None
        self.cache[directory] = spec
        return spec

    @staticmethod
    def ignored(rel: str, is_dir: bool, chain: list) -> bool:
        """`rel`: the entry's path relative to the walk's top; chain: (base prefix, spec) pairs."""
        result = False
        for prefix, spec in chain:
            sub = rel[len(prefix):] + ("/" if is_dir else "")
            res = spec.check_file(sub)
            if res.include is not None:
                result = res.include
        return result


def discover(paths: list[str], root: str, *, excludes: list[str], respect_gitignore: bool = True,
             force_exclude: bool = False, max_file_size: int) -> Discovery:
    out = Discovery()
    import pathspec

    # Plain names (the common case) are a set lookup; only real patterns go through pathspec.
    names = {e for e in excludes if not any(ch in e for ch in "*?[/!\\")}
    # `*.min.js`-style patterns are suffix checks.
    suffixes = tuple(e[1:] for e in excludes if e.startswith("*.") and not any(ch in e[1:] for ch in "*?[/!\\"))
    patterns = [e for e in excludes if e not in names and not (e.startswith("*.") and e[1:] in suffixes)]
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
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
        try:
            st = os.stat(given)
        except FileNotFoundError:
            if os.path.islink(given):
                out.errors.append((given, "dangling symbolic link"))
            else:
                out.errors.append((given, "no such file or directory"))
            continue
        except OSError as exc:
            out.errors.append((given, exc.strerror or str(exc)))
            continue
        rel = relative_to(given, root)
        if stat.S_ISDIR(st.st_mode):
            if force_exclude and rel not in (".", "") and excluded(rel, True):
                continue
            _walk(given, root, out, add, excluded, ignores)
        elif stat.S_ISREG(st.st_mode):
            if force_exclude and (excluded(rel, False) or _under_excluded_dir(rel, excluded)):
                continue
            add(given, st)
        else:
            out.notes.append(f"{rel}: skipped, not a regular file")
    out.files.sort(key=lambda c: c.relpath)
    return out


def _under_excluded_dir(rel: str, excluded) -> bool:
    parts = rel.split("/")[:-1]
    return any(excluded("/".join(parts[: i + 1]), True) for i in range(len(parts)))


def _walk(top: str, root: str, out: Discovery, add, excluded, ignores: _Ignores) -> None:
    # Iterative walk; symlinked directories are not followed (no loops), symlinked files are.
    # Paths are built by concatenation (os.path.relpath per entry dominated warm scans).
    top_abs = os.path.abspath(top)
    root_abs = os.path.abspath(root)
    top_rel = relative_to(top_abs, root_abs)
    base = "" if top_rel in (".", "") else top_rel + "/"
    chain0: list = []
    # .gitignore files between the root and `top` apply too.
    if top_abs.startswith(root_abs) and not os.path.isabs(top_rel):
        d, prefix = root_abs, ""
        parts = [] if top_rel in (".", "") else top_rel.split("/")
        for i, part in enumerate([""] + parts):
            if part:
                d = os.path.join(d, part)
                prefix = "/".join(parts[:i]) + "/"
            spec = ignores.spec_for(d)
            if spec is not None and d != top_abs:
                chain0.append((prefix if part else "", spec))
    stack: list[tuple[str, str, list]] = [(top_abs, base, chain0)]
    while stack:
        directory, rel_dir, chain = stack.pop()
        spec = ignores.spec_for(directory)
        if spec is not None:
            chain = chain + [(rel_dir, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            out.errors.append((rel_dir.rstrip("/") or ".", f"cannot list directory: {exc.strerror or exc}"))
            continue
        if directory != top_abs and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtualenv, whatever its name
        for entry in entries:
            rel = rel_dir + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if excluded(rel, is_dir):
                continue
            if chain and _Ignores.ignored(rel, is_dir, chain):
                continue
            if is_dir:
                stack.append((entry.path, rel + "/", chain))
                continue
            dot = entry.name.rfind(".")
            if dot > 0 and entry.name[dot:].lower() in BINARY_EXTENSIONS:
                continue
            try:
                if entry.is_symlink():
                    st = os.stat(entry.path)  # follow file links; a dangling one raises
                else:
                    st = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    continue
            except FileNotFoundError:
                out.notes.append(f"{rel}: skipped, dangling symbolic link")
                continue
            except OSError as exc:
                out.errors.append((rel, exc.strerror or str(exc)))
                continue
            add(entry.path, st, rel)
