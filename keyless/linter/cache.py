"""Result cache: per-file results keyed by content hash + resolved settings + keyless version.

One JSON file per (settings, version) under the user cache directory. An entry stores the file's
mtime/size (to skip re-reading unchanged files), its SHA-256, and the secret-free result: findings
(messages are already redacted), facts and suppression lines. Written atomically.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict

from keyless import __version__
from keyless.linter.discovery import Candidate
from keyless.linter.engine import FileResult, Settings
from keyless.linter.finding import Applicability, Category, Edit, Finding, Fix, Position, Severity, Span
from keyless.linter.rule import Fact

FORMAT = 2


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.environ.get("LOCALAPPDATA", ""), "keyless") if sys.platform == "win32"
        else os.path.join(os.path.expanduser("~"), "Library", "Caches") if sys.platform == "darwin"
        else os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "keyless")


def _span(d) -> Span:
    return Span(Position(*d[0]), Position(*d[1]))


def finding_to_json(f: Finding) -> dict:
    d = {
        "code": f.code, "name": f.name, "category": f.category.value, "severity": f.severity.value,
        "message": f.message, "path": f.path,
        "span": [[f.span.start.line, f.span.start.column], [f.span.end.line, f.span.end.column]],
        "fingerprint": f.fingerprint, "fix_data": f.fix_data,
    }
    if f.fix is not None:
        d["fix"] = {
            "message": f.fix.message, "applicability": f.fix.applicability.value, "lazy": f.fix.lazy,
            "edits": [{"span": [[e.span.start.line, e.span.start.column], [e.span.end.line, e.span.end.column]],
                       "content": e.content} for e in f.fix.edits],
        }
    return d


def finding_from_json(d: dict) -> Finding:
    fix = None
    if d.get("fix"):
        fx = d["fix"]
        fix = Fix(fx["message"], Applicability(fx["applicability"]),
                  tuple(Edit(_span(e["span"]), e["content"]) for e in fx["edits"]), fx["lazy"])
    return Finding(d["code"], d["name"], Category(d["category"]), Severity(d["severity"]), d["message"],
                   d["path"], _span(d["span"]), d["fingerprint"], fix, d.get("fix_data"))


class Cache:
    def __init__(self, path: str, entries: dict):
        self.path = path
        self.entries = entries
        self.dirty = False

    @classmethod
    def open(cls, directory: str | None, settings: Settings) -> "Cache":
        directory = directory or default_cache_dir()
        py = f"{sys.version_info[0]}{sys.version_info[1]}"
        import hashlib

        root_key = hashlib.sha256(settings.root.encode()).hexdigest()[:12]
        path = os.path.join(directory, f"v{FORMAT}-{__version__}-py{py}", f"{root_key}-{settings.key()}.json")
        entries: dict = {}
        try:
            with open(path, encoding="utf-8") as fh:
                entries = json.load(fh)
            if not isinstance(entries, dict):
                entries = {}
        except (OSError, ValueError):
            entries = {}
        return cls(path, entries)

    def exclude_pattern(self, root: str) -> str | None:
        """The cache directory, as an exclude, when it lives inside the scanned tree."""
        top = os.path.dirname(os.path.dirname(os.path.abspath(self.path)))
        rel = os.path.relpath(top, root)
        if rel.startswith("..") or os.path.isabs(rel):
            return None
        return "/" + rel.replace(os.sep, "/") + "/"

    def get(self, c: Candidate, workspace=None) -> FileResult | None:
        e = self.entries.get(c.relpath)
        if not e or e.get("mtime") != c.mtime_ns or e.get("size") != c.size:
            return None
        deps = e.get("deps")
        if deps and (workspace is None or not workspace.unchanged(deps)):
            return None  # a companion (sibling module file, parameter file...) changed
        try:
            r = e["result"]
            return FileResult(
                relpath=c.relpath,
                findings=[finding_from_json(f) for f in r["findings"]],
                facts=[Fact(f["kind"], f["path"], f["data"]) for f in r["facts"]],
                suppressions={int(k): frozenset(v) for k, v in r["suppressions"].items()},
                error=r.get("error"), error_line=r.get("error_line"), error_kind=r.get("error_kind", ""),
                note=r.get("note"), size=c.size, content_hash=e.get("sha256"), deps=deps or {},
                facts_sha=e.get("facts_sha"),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, c: Candidate, r: FileResult) -> None:
        self.entries[c.relpath] = {
            "mtime": c.mtime_ns, "size": c.size, "sha256": r.content_hash, "deps": r.deps,
            "facts_sha": r.facts_digest(),
            "result": {
                "findings": [finding_to_json(f) for f in r.findings],
                "facts": [asdict(f) for f in r.facts],
                "suppressions": {str(k): sorted(v) for k, v in r.suppressions.items()},
                "error": r.error, "error_line": r.error_line, "error_kind": r.error_kind, "note": r.note,
            },
        }
        self.dirty = True

    # Project findings are stored under a digest of every file's facts: a warm rescan with no
    # fact changed skips building the project model. The key cannot be a path (paths never hold NUL).
    PROJECT_KEY = "\0project"

    def project_findings(self, digest: str) -> list[Finding] | None:
        e = self.entries.get(self.PROJECT_KEY)
        if not isinstance(e, dict) or e.get("digest") != digest:
            return None
        try:
            return [finding_from_json(f) for f in e["findings"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put_project_findings(self, digest: str, findings: list[Finding]) -> None:
        self.entries[self.PROJECT_KEY] = {"digest": digest, "findings": [finding_to_json(f) for f in findings]}
        self.dirty = True

    DISCOVERY_KEY = "\0discovery"

    def discovery_memo(self) -> dict:
        """Directory listings discovery may reuse (keyless.linter.discovery.discover)."""
        memo = self.entries.get(self.DISCOVERY_KEY)
        if not isinstance(memo, dict):
            memo = self.entries[self.DISCOVERY_KEY] = {}
        return memo

    def save(self) -> None:
        if not self.dirty:
            return
        from keyless.linter.fixes import write_text_atomic

        try:
            write_text_atomic(self.path, json.dumps(self.entries, separators=(",", ":")))
        except OSError:
            pass  # a read-only cache location only costs speed
