"""Plain data shared by rules, the engine and reporters.

A Finding never holds a raw secret: rules build messages with `redact()` and fingerprints with
`secret_fingerprint()` (secrets) or `fingerprint()` (structural keys), so no later stage (reporter,
cache, baseline, LSP) can leak one.
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


# Every Azure key format is at least 32 characters; shorter values are passwords or tokens a person
# may have typed, whose first characters would narrow a guess too much.
PREFIX_MIN_LENGTH = 32


def redact(value: str, keep: int = 4, *, prefix: bool = True) -> str:
    """The only form in which a secret may appear in output: its length and, for values of
    PREFIX_MIN_LENGTH characters or more, the first `keep` characters. `prefix=False` (passwords
    and any value a person may have chosen) never shows a character (docs/fingerprints.md)."""
    value = value or ""
    if not prefix or len(value) < PREFIX_MIN_LENGTH:
        return f"{'*' * min(len(value), 3)}…({len(value)} chars)"
    return f"{value[:keep]}…({len(value)} chars)"


def fingerprint(*parts: str) -> str:
    """A stable fingerprint of a structural key (SHA-256 hex): resource and property names, never a
    secret. A secret goes through `secret_fingerprint`."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


# Secret fingerprints: scrypt (memory-hard) over the value, salted with a keyless-specific string
# and the rule code, truncated to 64 bits. docs/fingerprints.md gives the reasoning and the costs.
SECRET_FINGERPRINT_BYTES = 8
_SALT = b"keyless secret fingerprint v2\x00"
# (N, r, p): values a person may have chosen get the slow derivation (4 MiB of memory, ~10 ms of a
# core); key material a generator produced (>= 128 random bits: guessing is hopeless whatever the
# cost) a cheap one. Changing either changes every fingerprint: baselines would need a migration.
SCRYPT_GUESSABLE = (1 << 12, 8, 1)
SCRYPT_GENERATED = (1 << 4, 8, 1)
_memo: dict[bytes, str] = {}  # keyed by a digest: the raw value is not kept once hashed
_MEMO_MAX = 4096


def secret_fingerprint(code: str, value: str, *, generated: bool = False) -> str:
    """The fingerprint of a secret finding: stable across lines, files and machines, useless for
    confirming a guess cheaply. `generated`: the value is key material with at least 128 random
    bits (checked by the caller), so the cheap cost is enough."""
    raw = value.encode("utf-8", "surrogatepass")
    memo_key = hashlib.sha256(b"%s\x00%d\x00%s" % (code.encode("ascii", "replace"), generated, raw)).digest()
    hit = _memo.get(memo_key)
    if hit is not None:
        return hit
    n, r, p = SCRYPT_GENERATED if generated else SCRYPT_GUESSABLE
    salt = _SALT + (b"generated\x00" if generated else b"guessable\x00") + code.encode("ascii", "replace")
    digest = hashlib.scrypt(raw, salt=salt, n=n, r=r, p=p,
                            maxmem=256 * n * r + (1 << 20), dklen=SECRET_FINGERPRINT_BYTES).hex()
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[memo_key] = digest
    return digest


_legacy = False


class legacy_fingerprints:
    """Within this block secret findings carry the fingerprint keyless 0.1 computed (an unsalted
    SHA-256 of code and value): only to recognise the entries of an old baseline, never output."""

    def __enter__(self):
        global _legacy
        self._outer, _legacy = _legacy, True

    def __exit__(self, *exc):
        global _legacy
        _legacy = self._outer


def legacy_mode() -> bool:
    return _legacy


def is_secret_fingerprint(value: str) -> bool:
    """The current secret fingerprint form (16 hex digits; structural and legacy ones have 64)."""
    return len(value) == 2 * SECRET_FINGERPRINT_BYTES and all(c in "0123456789abcdef" for c in value)
