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

    def ignored(self, path: str, is_dir: bool, chain: list) -> bool:
        result = False
        for base, spec in chain:
            rel = os.path.relpath(path, base).replace(os.sep, "/") + ("/" if is_dir else "")
            res = spec.check_file(rel)
            if res.include is not None:
                result = res.include
        return result


def discover(paths: list[str], root: str, *, excludes: list[str], respect_gitignore: bool = True,
             force_exclude: bool = False, max_file_size: int) -> Discovery:
    out = Discovery()
    import pathspec

    # Plain names (the common case) are a set lookup; only real patterns go through pathspec.
    names = {e for e in excludes if not any(ch in e for ch in "*?[/!\\")}
    patterns = [e for e in excludes if e not in names]
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
    ignores = _Ignores(root, respect_gitignore)
    seen: set[str] = set()

    def excluded(rel: str, is_dir: bool) -> bool:
        if rel.rsplit("/", 1)[-1] in names:
            return True
        return exclude_spec is not None and exclude_spec.match_file(rel + ("/" if is_dir else ""))

    def add(path: str, st: os.stat_result) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        rel = relative_to(path, root)
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
    chain0: list = []
    # .gitignore files between the root and `top` apply too.
    top_abs = os.path.abspath(top)
    root_abs = os.path.abspath(root)
    if top_abs.startswith(root_abs):
        d = root_abs
        parts = os.path.relpath(top_abs, root_abs).split(os.sep)
        for part in [""] + ([] if parts == ["."] else parts):
            d = os.path.join(d, part) if part else d
            spec = ignores.spec_for(d)
            if spec is not None and d != top_abs:
                chain0.append((d, spec))
    stack: list[tuple[str, list]] = [(top_abs, chain0)]
    while stack:
        directory, chain = stack.pop()
        spec = ignores.spec_for(directory)
        if spec is not None:
            chain = chain + [(directory, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            out.errors.append((relative_to(directory, root), f"cannot list directory: {exc.strerror or exc}"))
            continue
        if any(e.name == "pyvenv.cfg" for e in entries) and directory != top_abs:
            continue  # a virtualenv, whatever its name
        for entry in entries:
            path = entry.path
            rel = relative_to(path, root)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if excluded(rel, is_dir):
                continue
            if chain and ignores.ignored(path, is_dir, chain):
                continue
            if is_dir:
                stack.append((path, chain))
                continue
            dot = entry.name.rfind(".")
            if dot > 0 and entry.name[dot:].lower() in BINARY_EXTENSIONS:
                continue
            try:
                if entry.is_symlink():
                    st = os.stat(path)  # follow file links; a dangling one raises
                    if not stat.S_ISREG(st.st_mode):
                        continue
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
            add(path, st)
