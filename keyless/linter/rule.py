"""The rule plugin contract and the registry that loads rules from the `keyless.rules` entry points.

A rule is a class with metadata (code, name, category, severity, message, docs in its docstring) and
one or more of three hooks:

- `check(doc)`: per-file findings for a parsed Document;
- `collect(doc)`: secret-free Facts for the project model (apps, identities, SDK clients used...);
- `check_project(project)`: findings that need every file's facts (e.g. cross-file identity links).

Built-in rules are registered through the same entry-point group third-party rules use; an entry
point may resolve to a Rule subclass, an iterable of them, or a module exposing `RULES`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
import types
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator, NamedTuple

from keyless.linter.finding import (
    CATEGORY_BY_DIGIT,
    Applicability,
    Category,
    Finding,
    Fix,
    Severity,
    Span,
    fingerprint,
    legacy_mode,
    secret_fingerprint,
)
from keyless.linter.messages import HELP_MAX, MESSAGE_MAX, held_to

if TYPE_CHECKING:
    from keyless.linter.documents import Document

ENTRY_POINT_GROUP = "keyless.rules"
CODE_RE = re.compile(r"^KL[1-5][0-9]{2}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CATEGORY_NAMES = frozenset(c.value for c in Category)
ALL_KINDS = frozenset({"python", "yaml", "json", "hcl", "env", "text", "shell", "powershell", "dockerfile",
                       "makefile", "notebook", "bicep"})


class Fact(NamedTuple):
    """A secret-free record a rule extracts from one file for the project model. (A NamedTuple:
    a run over one file may load the facts of a whole repository from the cache, and a frozen
    dataclass costs ~3 us more per instance.)"""

    kind: str
    path: str
    data: dict[str, Any]


@dataclass
class Project:
    """What project rules see: every collected fact, the scan root, and a memo for shared models.

    `report_paths`: when not None, only findings on these paths are kept (a run that names files
    one by one still gives the rules every file's facts). A hint: a rule may skip work for other
    paths, and one that ignores it is still right."""

    facts: list[Fact]
    root: str
    memo: dict[str, Any] = field(default_factory=dict)
    report_paths: frozenset[str] | None = None
    # Directories below the root that start a project of their own (keyless.linter.projects).
    boundaries: frozenset[str] = frozenset()

    def reported(self, path: str) -> bool:
        return self.report_paths is None or path in self.report_paths

    def of_kind(self, *kinds: str) -> list[Fact]:
        return [f for f in self.facts if f.kind in kinds]

    def project_of(self, path: str) -> str:
        """The project (nested repository, config root or azd project) a file belongs to: its
        directory, or "" for the scan's root project. Code is linked only within one project."""
        from keyless.linter.projects import project_of

        return project_of(path, self.boundaries, self.memo.setdefault("keyless.projects", {}))


class Rule:
    """Base class. Subclasses set the ClassVars and override the hooks they need."""

    code: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[Category]
    severity: ClassVar[Severity] = Severity.HIGH
    message: ClassVar[str]  # one-line summary; findings may carry a more specific message
    kinds: ClassVar[frozenset[str]] = ALL_KINDS
    # Literal keywords (matched case-insensitively by the prefilter). The rule runs on a file only
    # if one of them occurs in it; an empty tuple means "always run".
    keywords: ClassVar[tuple[str, ...]] = ()
    fix_applicability: ClassVar[Applicability | None] = None
    status: ClassVar[str] = "stable"
    since: ClassVar[str] = "0.1.0"
    # Old names that suppressions may still use.
    old_names: ClassVar[tuple[str, ...]] = ()
    # Whether `check --history` runs the rule on what commits added. None: per-file secret rules
    # do, and rules of other categories that override `literal_credential`.
    history_scan: ClassVar[bool | None] = None
    # A `secret` rule's finding key is the secret itself: its fingerprint is the slow, salted
    # secret_fingerprint. A secret-category rule whose keys hold no secret (suppression comments)
    # sets this to False and keeps the plain structural fingerprint.
    key_is_secret: ClassVar[bool | None] = None

    @classmethod
    def keys_are_secrets(cls) -> bool:
        return cls.key_is_secret if cls.key_is_secret is not None else cls.category is Category.SECRET

    # -- hooks ---------------------------------------------------------------------------------
    def check(self, doc: "Document") -> Iterable[Finding]:
        return ()

    def collect(self, doc: "Document") -> Iterable[Fact]:
        return ()

    def check_project(self, project: Project) -> Iterable[Finding]:
        return ()

    def materialize_fix(self, doc: "Document", finding: Finding) -> Fix | None:
        """Compute the edits of a lazy fix (called only when a fix is applied or displayed)."""
        return finding.fix

    def sensitive_spans(self, doc: "Document") -> Iterable[tuple[int, int]]:
        """Text offsets (start, end) that must never be shown, whatever suppressions say: `--diff`
        masks them. Secret rules give every credential-looking value."""
        return ()

    def literal_credential(self, doc: "Document", finding: Finding) -> bool:
        """Whether `finding` shows a credential written literally in `doc`. A history scan reports
        only those: a commit that added `AzureKeyCredential(os.environ["KEY"])` leaked nothing,
        one that added `AzureKeyCredential("<the key>")` did."""
        return self.category is Category.SECRET

    @classmethod
    def reads_history(cls) -> bool:
        if cls.history_scan is not None:
            return cls.history_scan
        if cls.check is Rule.check:
            return False
        return cls.category is Category.SECRET or cls.literal_credential is not Rule.literal_credential

    # -- helpers for rule authors --------------------------------------------------------------
    def finding(
        self,
        path: str,
        span: Span,
        *,
        key: str,
        message: str | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
        fix_data: Any = None,
        generated_key: bool = False,
    ) -> Finding:
        """Build a Finding. `key` identifies it stably (the secret itself, or a structural name):
        it is hashed into the fingerprint and never stored. `generated_key`: the secret is key
        material with at least 128 random bits (a cheaper derivation is then enough)."""
        if self.keys_are_secrets() and not legacy_mode():
            fp = secret_fingerprint(self.code, key, generated=generated_key)
        else:
            fp = fingerprint(self.code, key)
        if fix is not None and len(fix.message) > HELP_MAX:
            fix = dataclasses.replace(fix, message=held_to(fix.message, HELP_MAX))
        return Finding(
            code=self.code,
            name=self.name,
            category=self.category,
            severity=severity or self.severity,
            message=held_to(message or self.message, MESSAGE_MAX),
            path=path,
            span=span,
            fingerprint=fp,
            fix=fix,
            fix_data=fix_data,
        )

    # -- documentation ---------------------------------------------------------------------------
    @classmethod
    def docs(cls) -> str:
        import inspect  # only `rules`/`explain` need the docs; inspect costs an editor's check ~10 ms
        import textwrap

        return textwrap.dedent(inspect.getdoc(cls) or "").strip()

    @classmethod
    def summary(cls) -> str:
        doc = cls.docs()
        return doc.split("\n\n", 1)[0].replace("\n", " ").strip() if doc else cls.message

    @classmethod
    def is_project_rule(cls) -> bool:
        return cls.check_project is not Rule.check_project


class RuleError(Exception):
    pass


# ---- the per-file time budget ---------------------------------------------------------------------

DEADLINE_KEY = "keyless.deadline"  # doc.memo: thread CPU time after which the file's check stops
PARTIAL_KEY = "keyless.partial"  # doc.memo: set when it stopped


# ---- the engine's one lower-cased copy of a file, and the prefilter's answers ------------------------

TEXT_WORDS_KEY = "keyless.text-words"  # doc.memo while the engine runs a file's rules


class TextWords(NamedTuple):
    low: str  # doc.text.lower()
    searched: frozenset[str]  # the prefilter's keywords (lower case)
    present: frozenset[str]  # those that occur in `low`


def text_lower(doc: Any) -> str:
    """`doc.text.lower()`, lower-cased once per file by the engine (rules used to each make a copy)."""
    words = doc.memo.get(TEXT_WORDS_KEY)
    return words.low if words is not None and words.low is not None else doc.text.lower()


def mentions(doc: Any, word: str) -> bool:
    """`word` (lower case) occurs in `text_lower(doc)`: the prefilter's answer when it searched for
    the word, one substring search otherwise."""
    words = doc.memo.get(TEXT_WORDS_KEY)
    if words is not None and word in words.searched:
        return word in words.present
    return word in text_lower(doc)


class BudgetExceeded(Exception):
    """The file's time budget (Settings.file_budget) is spent: what was found so far stands and the
    file is reported as only partly checked."""


class Budget:
    """For long loops in rules: `tick()` every iteration raises BudgetExceeded once the file's time
    is up (the clock is read every 64 ticks)."""

    __slots__ = ("doc", "deadline", "n")

    def __init__(self, doc: Any):
        self.doc = doc
        self.deadline = doc.memo.get(DEADLINE_KEY)
        self.n = 0

    def tick(self) -> None:
        if self.deadline is None:
            return
        self.n += 1
        if not self.n & 63 and time.thread_time() > self.deadline:
            self.doc.memo[PARTIAL_KEY] = True
            raise BudgetExceeded()


def validate_rule(cls: type[Rule]) -> None:
    where = f"{cls.__module__}.{cls.__qualname__}"
    code = getattr(cls, "code", None)
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise RuleError(f"{where}: code {code!r} is not KL + 3 digits (KL1xx-KL5xx)")
    if CATEGORY_BY_DIGIT[code[2]] is not getattr(cls, "category", None):
        raise RuleError(f"{where}: {code} must have category {CATEGORY_BY_DIGIT[code[2]].value}")
    if not NAME_RE.match(getattr(cls, "name", "") or ""):
        raise RuleError(f"{where}: name must be kebab-case")
    if not getattr(cls, "message", None):
        raise RuleError(f"{where}: message is required")
    if not _has_docs(cls):
        raise RuleError(f"{where}: the docstring is the rule's documentation and is required")
    unknown = set(cls.kinds) - ALL_KINDS
    if unknown:
        raise RuleError(f"{where}: unknown file kinds {sorted(unknown)}")


def _has_docs(cls: type) -> bool:
    """Whether `cls.docs()` is non-empty, without formatting every rule's documentation at start-up:
    the first docstring along the class's MRO (as inspect.getdoc finds it) holds more than blanks."""
    for klass in cls.__mro__:
        if klass is not object and isinstance(klass.__dict__.get("__doc__"), str):
            return bool(klass.__doc__.strip())
    return False


def _rules_from(obj: Any) -> Iterator[type[Rule]]:
    if isinstance(obj, type) and issubclass(obj, Rule):
        yield obj
    elif isinstance(obj, types.ModuleType):
        yield from _rules_from(getattr(obj, "RULES", ()))
    else:
        for item in obj:
            yield from _rules_from(item)


class Registry:
    def __init__(self, rules: Iterable[type[Rule]]):
        self.by_code: dict[str, type[Rule]] = {}
        self.alias: dict[str, str] = {}
        for cls in rules:
            validate_rule(cls)
            if cls.name in CATEGORY_NAMES:  # `--select secret` must mean one thing: the category
                raise RuleError(f"{cls.__module__}.{cls.__qualname__}: name {cls.name!r} is a category name")
            other = self.by_code.get(cls.code)
            if other is not None and other is not cls:
                raise RuleError(f"rule code {cls.code} is defined twice: {other.__module__} and {cls.__module__}")
            self.by_code[cls.code] = cls
            self.alias[cls.name] = cls.code
            for old in cls.old_names:
                self.alias[old] = cls.code
        self.codes = sorted(self.by_code)

    def __iter__(self) -> Iterator[type[Rule]]:
        return (self.by_code[c] for c in self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def get(self, code_or_name: str) -> type[Rule] | None:
        key = code_or_name.strip()
        return self.by_code.get(key.upper()) or self.by_code.get(self.alias.get(key, ""))

    def expand(self, selector: str) -> list[str]:
        """`ALL`, a category (`secret`, `key-auth`...), a full code, a code prefix (KL1, KL10) or a
        rule name -> codes. Unknown -> []."""
        sel = selector.strip()
        if sel.upper() == "ALL":
            return list(self.codes)
        if sel.lower() in CATEGORY_NAMES:
            return [c for c in self.codes if self.by_code[c].category.value == sel.lower()]
        if sel in self.alias:
            return [self.alias[sel]]
        up = sel.upper()
        if re.fullmatch(r"KL[0-9]{0,3}", up):
            return [c for c in self.codes if c.startswith(up)]
        return []


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    import importlib

    rules: list[type[Rule]] = []
    for name, value in sorted(plugin_entry_points()):
        try:
            module, _, attr = value.partition(":")
            obj: Any = importlib.import_module(module.strip())
            for part in filter(None, attr.split("[", 1)[0].strip().split(".")):
                obj = getattr(obj, part)
            rules.extend(_rules_from(obj))
        except RuleError:
            raise
        except Exception as exc:  # a broken plugin must not take the scan down silently
            raise RuleError(f"rule plugin {name!r} ({value}) failed to load: {exc}") from exc
    return Registry(rules)


def plugin_entry_points() -> list[tuple[str, str]]:
    """(name, "module:attr") of every `keyless.rules` entry point.

    Reading every installed distribution's metadata (importlib.metadata) costs an editor's on-save
    check ~30 ms, so the list is kept in the user cache under a fingerprint of the import path's
    directories: installing, upgrading or removing a package (or an editable .pth) changes the
    mtime of the directory it lands in, and the list is read again. The current directory (on the
    path of `python -m keyless`) counts by the distributions it holds, not by its mtime, which
    every file created in it moves."""
    from keyless.linter.config import default_cache_dir

    stamp = [sys.version, sys.executable]
    try:
        cwd = os.getcwd()
    except OSError:  # removed under us
        cwd = None
    for entry in sys.path:
        try:
            if entry in ("", ".") or os.path.abspath(entry) == cwd:
                stamp.append(f"cwd:{_distributions_in(entry or '.')}")
            else:
                stamp.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            stamp.append(f"{entry}:-")
    import hashlib
    import json

    key = hashlib.sha256("\n".join(stamp).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    path = os.path.join(default_cache_dir(), "entry-points", f"{key}.json")
    try:
        with open(path, encoding="utf-8") as fh:
            cached = json.load(fh)
        if isinstance(cached, list) and all(isinstance(x, list) and len(x) == 2 for x in cached):
            return [(str(a), str(b)) for a, b in cached]
    except (OSError, ValueError):
        pass
    from importlib.metadata import entry_points

    found = sorted({(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)})
    try:
        from keyless.linter.fixes import write_text_atomic

        write_text_atomic(path, json.dumps(found))
        _prune(os.path.dirname(path), keep=128)
    except OSError:
        pass  # a read-only cache only costs time
    return found


def _distributions_in(directory: str) -> str:
    """The installed distributions (metadata directories, eggs) in a directory, with their mtimes."""
    with os.scandir(directory) as entries:
        found = sorted(f"{e.name}@{e.stat().st_mtime_ns}" for e in entries
                       if e.name.endswith((".dist-info", ".egg-info", ".egg", ".egg-link")))
    return ",".join(found)


def _prune(directory: str, keep: int) -> None:
    """Each interpreter and import path gets its own list: keep the most recently written ones."""
    entries = sorted(os.scandir(directory), key=lambda e: e.stat().st_mtime_ns, reverse=True)
    for entry in entries[keep:]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass
