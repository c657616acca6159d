"""Plain data shared by rules, the engine and reporters.

A Finding never holds a raw secret: rules build messages with `redact()` and fingerprints with
`fingerprint()`, so no later stage (reporter, cache, baseline, LSP) can leak one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class Category(str, Enum):
    SECRET = "secret"
    KEY_AUTH = "key-auth"
    MISSING_IDENTITY = "missing-identity"
    BROAD_ROLE = "broad-role"
    AMBIGUOUS_IDENTITY = "ambiguous-identity"


# The hundreds digit of a code names its category (KL1xx secret ... KL5xx ambiguous-identity).
CATEGORY_BY_DIGIT = {
    "1": Category.SECRET,
    "2": Category.KEY_AUTH,
    "3": Category.MISSING_IDENTITY,
    "4": Category.BROAD_ROLE,
    "5": Category.AMBIGUOUS_IDENTITY,
}


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def sarif_level(self) -> str:
        return {"critical": "error", "high": "error", "medium": "warning"}.get(self.value, "note")

    @property
    def security_severity(self) -> str:
        """GitHub code scanning score (string, 0.0-10.0)."""
        return {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.5"}[self.value]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Applicability(str, Enum):
    SAFE = "safe"  # keeps the exact meaning
    UNSAFE = "unsafe"  # changes runtime behaviour (e.g. needs a role assignment)
    DISPLAY_ONLY = "display-only"  # guidance, never applied automatically


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line, 1-based column counted in Unicode code points."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Span:
    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, column: int, end_line: int, end_column: int) -> "Span":
        return cls(Position(line, column), Position(end_line, end_column))


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text in `span` with `content` (empty content deletes, empty span inserts)."""

    span: Span
    content: str


@dataclass(frozen=True, slots=True)
class Fix:
    message: str
    applicability: Applicability
    edits: tuple[Edit, ...] = ()
    # True when the rule computes edits on demand (e.g. libcst rewrites): see Rule.materialize_fix.
    lazy: bool = False


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a history finding (`check --history`) comes from. Commit ids are full."""

    commit: str  # the first commit that added the line
    date: str  # its author date (ISO 8601)
    path: str  # the file's path in that commit (relative to the scan root)
    line: int  # the line in that commit's version of the file
    at_head: bool  # HEAD still holds the secret: the finding's path and span are HEAD's
    removed_in: str | None = None  # the commit that removed it (not at HEAD, and HEAD descends from it)
    commits: int = 1  # commits that added it to this file, the first included
    boundary: bool = False  # the first commit is a shallow clone's oldest: it may be older still


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    category: Category
    severity: Severity
    message: str
    path: str  # repo-relative, '/'-separated
    span: Span
    fingerprint: str
    fix: Fix | None = None
    # Opaque, secret-free data a rule may keep for materialize_fix (JSON-serialisable).
    fix_data: Any = field(default=None, compare=False)
    provenance: Provenance | None = None  # history findings only

    def with_(self, **changes: Any) -> "Finding":
        return replace(self, **changes)

    def sort_key(self) -> tuple:
        return (self.path, self.span.start.line, self.span.start.column, self.code)


def redact(value: str, keep: int = 4) -> str:
    """The only form in which a secret may appear in output: a short prefix and its length."""
    value = value or ""
    if len(value) <= keep * 2:
        return f"{'*' * min(len(value), 3)}…({len(value)} chars)"
    return f"{value[:keep]}…({len(value)} chars)"


def fingerprint(*parts: str) -> str:
    """A stable, one-way fingerprint (SHA-256 hex). Pass the secret itself: it is hashed, never kept."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()
