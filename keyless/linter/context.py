"""The rest of the repository behind a run that names files one by one.

Project rules (KL505's link from code to the app that runs it, KL401's role advice from the SDK
clients the code uses, any plugin's `check_project`) need every file's facts. The pre-commit hook
passes only the changed files, an editor checks one buffer (`--stdin-filename`, the language
server): without the rest of the repository those runs would miss what `keyless check .` in CI
reports on the same file. So such a run lists the whole project root as a full scan would (same
excludes, same .gitignore) and gives the project rules the facts of every other file, from the
cache when the file and what it read are unchanged, else from a facts-only pass; findings are still
reported only for the named files. Companions (a Terraform module's other files, an ARM template's
parameter files, a Helm chart's values) come from the same listing.

Project findings land on files that gave facts (Project's contract), so when none of the named
files gave one, the rest of the repository is not read at all.

The project root is the directory of the keyless configuration file that applies (`.keyless.toml`,
`keyless.toml` or a `pyproject.toml` with `[tool.keyless]`, found upwards from the named path), else
the closest directory holding `.git`. Without either there is no project to read: the named files
are checked with their own directory's files only.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from keyless.linter.config import Config
from keyless.linter.discovery import Candidate, discover
from keyless.linter.engine import FileResult, Settings, run_files


def wanted(cfg: Config, paths: list[str], root: str) -> bool:
    """Does a run over `paths` need the rest of the project? Not when one of them is the root (or
    holds it), nor when there is no project root to read (see the module docstring)."""
    if not getattr(cfg, "project_root", False):
        return False
    root = os.path.abspath(root)
    for p in paths:
        a = os.path.abspath(p)
        if os.path.isdir(a) and (a == root or root.startswith(a.rstrip(os.sep) + os.sep)):
            return False
    return True


def needed(results: Iterable[FileResult]) -> bool:
    """Do the project rules need the rest of the repository for these results? Only when one of
    them gave facts: project findings land on files that gave facts."""
    return any(r.facts or r.facts_pending for r in results)


class ProjectContext:
    """The project root's listing and companions for a run that lints `named` itself; `facts()`
    the facts of every other listed file.

    `buffers` (absolute path -> text: stdin, editor buffers, the checked one included) win over the
    disk: a listed file open in an editor gives its facts from its text, and a buffer not saved yet
    joins the listing. What a changed buffer influenced is never cached. `reuse`: an earlier
    context's results (the language server), kept when unchanged so their facts are not loaded
    again."""

    def __init__(self, cfg: Config, settings: Settings, excludes: list[str], *, named: Iterable[Candidate] = (),
                 buffers: dict[str, str] | None = None, cache: Any = None, jobs: int | None = None,
                 reuse: dict[str, FileResult] | None = None):
        from keyless.linter.workspace import Workspace, reldir_of

        self.settings, self.cache, self.jobs, self.reuse = settings, cache, jobs, reuse
        self.buffers = buffers or {}
        self.notes: list[str] = []
        memo = cache.discovery_memo() if cache is not None else None
        disc = discover([settings.root], settings.root, excludes=excludes, respect_gitignore=cfg.respect_gitignore,
                        max_file_size=settings.max_file_size, memo=memo)
        if disc.memo_changed and cache is not None:
            cache.dirty = True
        self.listing: list[Candidate] = disc.files  # every file a scan of the root would lint
        by_rel = {c.relpath: c for c in self.listing}
        listed = set(by_rel)
        self.named = {c.relpath for c in named}
        for c in named:
            by_rel.setdefault(c.relpath, c)
        self.buffer_rel: dict[str, str] = {}
        for path, text in self.buffers.items():
            rel = _relpath(path, settings.root)
            if rel is not None:
                self.buffer_rel[rel] = path
                by_rel.setdefault(rel, Candidate(path, rel, len(text), -1))  # not saved yet
        self.workspace = Workspace.from_candidates(settings.root, by_rel.values(), settings.max_file_size)
        self.workspace.buffers = dict(self.buffers)
        self.changed = {rel for rel, path in self.buffer_rel.items() if _differs(path, self.buffers[path])}
        self.new_dirs = {reldir_of(rel) for rel in by_rel if rel not in listed}
        self.listed = listed
        self._hits: dict[str, FileResult] | None = None
        self._results: list[FileResult] | None = None

    def _touched(self, deps: dict) -> bool:
        """Did the file read a changed buffer (or list a directory holding an unsaved one)?"""
        for key in deps:
            kind, _, target = key.partition(":")
            if (target in self.changed) if kind == "f" else (target in self.new_dirs):
                return True
        return False

    def _lookup(self) -> dict[str, FileResult]:
        if self._hits is None:
            self._hits = {}
            for c in self.listing:
                if c.relpath in self.named or c.relpath in self.changed or self.cache is None:
                    continue
                hit = self.cache.get_facts(c, self.workspace)
                if hit is not None and not self._touched(hit.deps):
                    self._hits[c.relpath] = hit
        return self._hits

    def pending(self) -> int:
        """How many files `facts()` must read (not in the cache, or read a changed buffer)."""
        hits = self._lookup()
        return sum(1 for c in self.listing if c.relpath not in self.named and c.relpath not in hits)

    def facts(self) -> list[FileResult]:
        """The facts of every listed file the run does not lint (computed once)."""
        if self._results is not None:
            return self._results
        hits = self._lookup()
        results: list[FileResult] = []
        todo: list[Candidate] = []
        for c in self.listing:
            if c.relpath in self.named:
                continue
            if c.relpath in self.changed:
                results.append(self._buffer_facts(c))
            elif c.relpath in hits:
                results.append(hits[c.relpath])
            else:
                todo.append(c)
        fresh = {r.relpath: r for r in run_files(todo, self.settings, jobs=self.jobs, workspace=self.workspace,
                                                 facts_only=True, notes=self.notes)} if todo else {}
        for c in todo:
            r = fresh.get(c.relpath)
            if r is None:
                continue
            results.append(r)
            if self.cache is not None and not self._touched(r.deps) and r.error_kind not in ("internal", "partial"):
                self.cache.put_facts(c, r)
        if self.cache is not None:
            self.cache.prune_facts_only(self.listed)
        if self.reuse:
            results = [_reused(r, self.reuse.get(r.relpath)) for r in results]
        self._results = results
        return results

    def _buffer_facts(self, c: Candidate) -> FileResult:
        from keyless.linter.documents import make_document
        from keyless.linter.engine import lint_document

        path = self.buffer_rel[c.relpath]
        doc = make_document(path, c.relpath, self.buffers[path])
        doc.workspace = self.workspace
        return lint_document(doc, self.settings, facts_only=True)


def _relpath(path: str, root: str) -> str | None:
    from keyless.linter.discovery import relative_to

    rel = relative_to(path, root)
    return None if os.path.isabs(rel) else rel


def _differs(path: str, text: str) -> bool:
    """Is this buffer other than what the disk holds (edited, or not saved yet)?"""
    from keyless.linter.documents import BinaryFile, decode

    try:
        with open(path, "rb") as fh:
            return decode(fh.read())[0] != text
    except (OSError, BinaryFile):
        return True


def _reused(r: FileResult, old: FileResult | None) -> FileResult:
    if old is not None and r.facts_pending and not old.facts_pending and old.facts_digest() == r.facts_sha:
        return old
    return r
