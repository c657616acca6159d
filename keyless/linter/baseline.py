"""Baselines: adopt keyless on an existing repository and fail only on new findings.

A baseline is a multiset of (code, repo-relative path, fingerprint) with counts: no line numbers,
no timestamps, no secrets (a secret's fingerprint is a slow, salted, truncated derivation: see
docs/fingerprints.md), sorted keys. Moving lines never changes it; a second identical secret in the
same file is a new finding (the count grows).

The file is user data. A run judges only the entries it can see (`Scope`: the paths it was given
and the rules it ran); every other entry is kept as it is. Reading refuses anything malformed with
one line (BaselineError); writing goes through a temporary file in the same directory, so the old
baseline stays whole until the new one is complete.

Version 1 files (keyless 0.1) hold secret findings under an unsalted SHA-256; they are read, the
entries of scanned files are translated to the current form (`migrate`), and writing always
produces version 2.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from keyless.linter.finding import Finding

VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_BYTES = 64 * 1024 * 1024  # far above any real baseline; refuses a hostile multi-GB file
MAX_COUNT = 1_000_000
_CODE = re.compile(r"KL[0-9]{3}")
_HEX = re.compile(r"[0-9a-f]{16}|[0-9a-f]{64}")

Key = tuple[str, str, str]  # (code, path, fingerprint)


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class Scope:
    """What a run judged. `prefixes`: the repo-relative paths it was given (a directory covers
    everything under it; "" covers the whole project); `only`: exactly these files (changed-files
    mode); `codes`: the rules that ran. Entries outside the scope are kept untouched."""

    prefixes: tuple[str, ...] = ("",)
    only: frozenset[str] | None = None
    codes: frozenset[str] | None = None

    def covers(self, code: str, path: str) -> bool:
        if self.codes is not None and code not in self.codes:
            return False
        if self.only is not None:
            return path in self.only
        return any(p == "" or path == p or path.startswith(p + "/") for p in self.prefixes)


@dataclass
class Outcome:
    new: list[Finding]  # beyond the baseline: these fail the run
    stale: list[Key]  # entries in scope that match nothing any more
    moved: list[tuple[Finding, str]]  # secrets matched to their entry under another path (renames)
    updated: "Baseline"  # what --update-baseline writes
    kept: int = 0  # entries of `updated` outside the scope, kept as they were


@dataclass
class Baseline:
    counts: Counter = field(default_factory=Counter)
    # Entries of a version-1 file for rules whose keys are secrets: (code, path, old SHA-256).
    legacy: Counter = field(default_factory=Counter)

    @staticmethod
    def key(f: Finding) -> Key:
        return (f.code, f.path, f.fingerprint)

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> "Baseline":
        return cls(Counter(cls.key(f) for f in findings))

    # ---- reading -------------------------------------------------------------------------------
    @classmethod
    def read(cls, path: str, secret_rules: Callable[[], set[str]] | None = None) -> "Baseline":
        """Raises BaselineError (one line) for a missing, unreadable or malformed file.
        `secret_rules`: the codes whose keys are secrets (their version-1 entries are legacy)."""
        from keyless.linter.readfile import read_regular_file

        try:
            raw = read_regular_file(path, MAX_BYTES)
        except FileNotFoundError:
            raise BaselineError(f"baseline {path} not found (create it with `keyless baseline write`)") from None
        except OSError as exc:
            raise BaselineError(f"baseline {path} cannot be read: {exc.strerror or exc}") from None
        if len(raw) > MAX_BYTES:
            raise BaselineError(f"baseline {path} is larger than {MAX_BYTES // (1024 * 1024)} MB")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BaselineError(f"baseline {path} is not UTF-8 (byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(f"baseline {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                f"{exc.msg})") from None
        except RecursionError:
            raise BaselineError(f"baseline {path} is nested too deeply to be a baseline") from None
        except ValueError as exc:  # e.g. an integer literal too long to convert
            raise BaselineError(f"baseline {path} is not valid JSON ({str(exc).splitlines()[0][:80]})") from None
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise BaselineError(f"baseline {path}: not a keyless baseline (expected an object with 'findings')")
        version = data.get("version")
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise BaselineError(f"baseline {path}: unsupported version (this keyless reads versions "
                                f"{', '.join(map(str, READABLE_VERSIONS))})")
        secret = (secret_rules or secret_codes)() if version == 1 else set()
        out = cls()
        for i, e in enumerate(data["findings"], 1):
            problem = _entry_problem(e, version)
            if problem:
                raise BaselineError(f"baseline {path}: entry {i}: {problem}")
            count = e.get("count", 1)
            if "legacy-fingerprint" in e:
                out.legacy[(e["code"], e["path"], e["legacy-fingerprint"])] += count
            elif version == 1 and e["code"] in secret:
                out.legacy[(e["code"], e["path"], e["fingerprint"])] += count
            else:
                out.counts[(e["code"], e["path"], e["fingerprint"])] += count
        return out

    # ---- writing -------------------------------------------------------------------------------
    def to_json(self) -> str:
        entries = [{"code": c, "path": p, "fingerprint": fp, "count": n} for (c, p, fp), n in self.counts.items() if n > 0]
        # Entries of files no run has scanned since keyless 0.1: kept as they were until one does.
        entries += [{"code": c, "path": p, "legacy-fingerprint": fp, "count": n}
                    for (c, p, fp), n in self.legacy.items() if n > 0]
        entries.sort(key=lambda e: (e["code"], e["path"], e.get("fingerprint", ""), e.get("legacy-fingerprint", "")))
        return json.dumps({"version": VERSION, "tool": "keyless", "findings": entries}, indent=1) + "\n"

    def write(self, path: str) -> None:
        """Whole or not at all (keyless.linter.output.write_report: a temporary file in the same
        directory, flushed, then renamed; removed on every way out, SIGTERM included; links
        written through). Raises BaselineError (one line); the previous file is then unchanged."""
        from keyless.linter.output import OutputError, write_report

        try:
            write_report(path, self.to_json(), what="the baseline")
        except OutputError as exc:
            raise BaselineError(f"{exc}; the previous baseline is unchanged") from None

    def __len__(self) -> int:
        return sum(self.counts.values()) + sum(self.legacy.values())

    # ---- version 1 --------------------------------------------------------------------------------
    def legacy_paths(self, scope: Scope) -> set[str]:
        return {p for (c, p, _), n in self.legacy.items() if n > 0 and scope.covers(c, p)}

    def migrate(self, path: str, current: list[Finding], old_form: list[Finding]) -> int:
        """Translate the version-1 entries of `path`: `current` are this run's findings in the file,
        `old_form` the same file's findings with their keyless 0.1 fingerprints (computed again from
        the source, see finding.legacy_fingerprints). Returns how many entries were translated."""
        by_place = {(f.code, f.span): f.fingerprint for f in current if f.path == path}
        translation: dict[tuple[str, str], str] = {}
        for f in old_form:
            new_fp = by_place.get((f.code, f.span))
            if new_fp is not None:
                translation[(f.code, f.fingerprint)] = new_fp
        moved = 0
        for (c, p, old_fp), n in list(self.legacy.items()):
            if p != path or n <= 0:
                continue
            new_fp = translation.get((c, old_fp))
            if new_fp is None:
                continue  # nothing there any more: judged stale like any other entry
            del self.legacy[(c, p, old_fp)]
            self.counts[(c, p, new_fp)] += n
            moved += 1
        return moved

    # ---- judging a run ---------------------------------------------------------------------------
    def reconcile(self, findings: list[Finding], scope: Scope, *, hidden: Iterable[Finding] = (),
                  movable_codes: frozenset[str] | set[str] = frozenset()) -> Outcome:
        """Judge a run's findings. `hidden`: findings the run found but does not report (below the
        severity threshold): their entries are neither new nor stale. `movable_codes`: rules whose
        fingerprint is the secret's, matched across paths when the entry's own file no longer has
        it in this run (the file was renamed, or the secret moved to another file)."""
        budget = Counter(self.counts)
        leftover: list[Finding] = []
        for f in findings:
            k = self.key(f)
            if budget[k] > 0:
                budget[k] -= 1
            else:
                leftover.append(f)
        still_there: Counter = Counter()
        for f in hidden:
            k = self.key(f)
            if budget[k] > 0:
                budget[k] -= 1
                still_there[k] += 1
        # Entries in scope whose file no longer holds the secret, by (code, fingerprint).
        vanished: dict[tuple[str, str], list[str]] = {}
        for (c, p, fp), n in sorted(budget.items()):
            if n > 0 and c in movable_codes and scope.covers(c, p):
                vanished.setdefault((c, fp), []).append(p)
        new: list[Finding] = []
        moved: list[tuple[Finding, str]] = []
        for f in leftover:
            paths = vanished.get((f.code, f.fingerprint))
            old = next((p for p in paths or () if p != f.path and budget[(f.code, p, f.fingerprint)] > 0), None)
            if old is None:
                new.append(f)
                continue
            budget[(f.code, old, f.fingerprint)] -= 1
            moved.append((f, old))
        stale = sorted(k for k, n in budget.items() if n > 0 and scope.covers(k[0], k[1]))
        stale += sorted(k for k, n in self.legacy.items() if n > 0 and scope.covers(k[0], k[1]))
        kept = Counter({k: n for k, n in self.counts.items() if n > 0 and not scope.covers(k[0], k[1])})
        kept_legacy = Counter({k: n for k, n in self.legacy.items() if n > 0 and not scope.covers(k[0], k[1])})
        # A finding outside the scope (none today: runs report only what they scanned) would
        # double an entry that is kept as it is.
        current = Counter(self.key(f) for f in findings if scope.covers(f.code, f.path))
        updated = Baseline(kept + current + still_there, kept_legacy)
        return Outcome(new, stale, moved, updated, sum(kept.values()) + sum(kept_legacy.values()))

    def filter(self, findings: list[Finding]) -> list[Finding]:
        """The findings beyond the baseline (one file, editors): no stale entries, no renames."""
        budget = Counter(self.counts)
        new = []
        for f in findings:
            k = self.key(f)
            if budget[k] > 0:
                budget[k] -= 1
            else:
                new.append(f)
        return new


def _entry_problem(e: object, version: int) -> str | None:
    """What is wrong with one entry, in words that quote nothing from the file."""
    if not isinstance(e, dict):
        return "not an object"
    code, path = e.get("code"), e.get("path")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return "'code' must be a rule code such as KL101"
    if not isinstance(path, str) or not path or len(path) > 4096 or "\0" in path:
        return "'path' must be a non-empty repository path"
    fp_field = "legacy-fingerprint" if version >= 2 and "legacy-fingerprint" in e else "fingerprint"
    fp = e.get(fp_field)
    if not isinstance(fp, str) or not _HEX.fullmatch(fp):
        return f"'{fp_field}' must be 16 or 64 lower-case hex digits"
    if "count" in e:
        count = e["count"]
        if type(count) is not int or not 1 <= count <= MAX_COUNT:
            return f"'count' must be a whole number from 1 to {MAX_COUNT:,}"
    return None


def migrate_document(base: Baseline, doc, settings, current: list[Finding]) -> None:
    """Translate `doc`'s version-1 entries: lint it once more with keyless 0.1's fingerprints and
    pair the findings by place with `current` (this run's findings in the file)."""
    from keyless.linter.engine import lint_document
    from keyless.linter.finding import legacy_fingerprints

    with legacy_fingerprints():
        old = lint_document(doc, settings).findings
    base.migrate(doc.relpath, current, old)


def secret_codes() -> set[str]:
    """Rules whose finding keys are secrets (version-1 entries to translate; entries that follow
    a secret across paths)."""
    from keyless.linter.rule import load_registry

    return {cls.code for cls in load_registry() if cls.keys_are_secrets()}


def describe(key: Key) -> str:
    code, path, fp = key
    return f"{code} {path} {fp[:12]}"
