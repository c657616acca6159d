"""Baselines: adopt keyless on an existing repository and fail only on new findings.

A baseline is a multiset of (code, repo-relative path, fingerprint) with counts: no line numbers,
no timestamps, no secrets (the fingerprint is a one-way hash), sorted keys. Moving lines never
changes it; a second identical secret in the same file is a new finding (the count grows).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from keyless.linter.finding import Finding

VERSION = 1


class BaselineError(Exception):
    pass


@dataclass
class Baseline:
    counts: Counter

    @staticmethod
    def key(f: Finding) -> tuple[str, str, str]:
        return (f.code, f.path, f.fingerprint)

    @classmethod
    def from_findings(cls, findings: list[Finding]) -> "Baseline":
        return cls(Counter(cls.key(f) for f in findings))

    @classmethod
    def read(cls, path: str) -> "Baseline":
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise BaselineError(f"baseline {path} not found (create it with `keyless baseline write`)") from None
        except (OSError, ValueError) as exc:
            raise BaselineError(f"baseline {path} is not readable JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
            raise BaselineError(f"baseline {path}: unsupported format (expected version {VERSION})")
        counts: Counter = Counter()
        for e in data["findings"]:
            try:
                counts[(e["code"], e["path"], e["fingerprint"])] += int(e.get("count", 1))
            except (KeyError, TypeError, ValueError):
                raise BaselineError(f"baseline {path}: malformed entry {e!r:.80}") from None
        return cls(counts)

    def to_json(self) -> str:
        entries = [
            {"code": c, "path": p, "fingerprint": fp, "count": n}
            for (c, p, fp), n in sorted(self.counts.items())
        ]
        return json.dumps({"version": VERSION, "tool": "keyless", "findings": entries}, indent=1) + "\n"

    def write(self, path: str) -> None:
        from keyless.linter.fixes import write_text_atomic

        write_text_atomic(path, self.to_json())

    def filter(self, findings: list[Finding], scanned: set[str] | None = None) -> tuple[list[Finding], list[str]]:
        """Findings beyond the baselined counts, and the stale entries (only for scanned files)."""
        budget = Counter(self.counts)
        new: list[Finding] = []
        for f in findings:
            k = self.key(f)
            if budget[k] > 0:
                budget[k] -= 1
            else:
                new.append(f)
        stale = [
            f"{c} {p} {fp[:12]}" for (c, p, fp), n in sorted(budget.items())
            if n > 0 and (scanned is None or p in scanned)
        ]
        return new, stale
