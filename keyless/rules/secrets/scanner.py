"""The shared secret scanner: one pass per document, memoised in `doc.memo["secrets"]`.

Every KL1xx rule calls `scan(doc)` and keeps the secrets whose kind maps to its code. The scan
works on raw text, so it treats every file kind the same way, and is organised as a few cheap,
anchored recognisers:

1. identifiable keys (HIS): literal signatures (`+ASt`, `ACDb`, ...) found with `str.find`, then the
   fixed-offset shape and the Marvin32 checksum (the matching seed classifies the key);
2. CASK keys (`JQQJ9` at offset 52), 3. Entra client secrets (`8Q~`/`7Q~`);
4. SAS tokens (`sig=`), 5. Function URLs (`code=` on `*.azurewebsites.net`);
6. URIs with credentials (`scheme://user:pass@host`);
7. names (`key`, `secret`, `passw`, `pwd`, `pat`, `credential`): connection strings around them are
   parsed (connstr.py) and `NAME = value` / `NAME: value` / `"NAME": "value"` / `--flag value`
   assignments are classified by the name, the value's shape and the Azure hosts nearby;
8. command lines (`docker login <x>.azurecr.io -p ...`, `az login --service-principal -p ...`,
   PowerShell `ConvertTo-SecureString "..." -AsPlainText` next to an application ID);
9. Azure DevOps legacy PATs (CRC32-checked) in files that mention Azure DevOps;
10. Entra refresh tokens and API Management Git credentials (fixed frames).

Views the raw text hides, scanned with the same recognisers and reported on the raw characters
(`_sub_scan`): escaped lines (decoded.py), base64 Kubernetes Secret data (decoded.py), Python
strings joined from several literals (pystrings.py); and structure-named literals of Terraform /
ARM (iacvalues.py) and generic keys under a named parent in YAML / JSON.

One secret gives one finding: candidates are keyed by the secret's span and merged (the strongest
recogniser wins, context from the others improves the message). Raw values stay in memory only.

Every regex here is linear: literal-anchored, no nested quantifiers, bounded repetitions.
"""

from __future__ import annotations

import base64
import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from keyless.linter.lazyre import lazy_compile
from keyless.linter.finding import Severity
from keyless.linter.rule import TEXT_WORDS_KEY, Budget, BudgetExceeded
from keyless.rules.secrets import allowlist, cells, connstr, decoded, formats, sas
from keyless.rules.secrets.hosts import AnyHost, HostIndex, is_local_host, service_of_host
from keyless.rules.secrets.kinds import KINDS, VARIANT_SEVERITY

if TYPE_CHECKING:
    from keyless.linter.documents import Document

MEMO_KEY = "secrets"
MASK_MEMO_KEY = "secrets-mask"

# Recogniser priorities (higher wins when two claim the same span).
P_CHECKSUM = 100
P_FRAME = 90
P_STRUCTURED = 60  # connection string, URI, SAS, command line
P_CONTEXT = 40  # NAME = value
P_SWEEP = 20


@dataclass(slots=True)
class Secret:
    kind: str
    start: int
    end: int
    value: str  # raw secret; in-process only (doc.memo is never serialised)
    confidence: str  # high | medium
    source: str  # how it was recognised
    priority: int
    variant: str = ""
    resource: str = ""  # account / namespace / server name (not a secret)
    host: str = ""
    setting: str = ""  # the variable / app setting holding it
    context: str = ""  # extra context from a merged recogniser
    severity_override: Severity | None = None
    extra: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return KINDS[self.kind].code

    @property
    def severity(self) -> Severity:
        if self.severity_override is not None:
            return self.severity_override
        sev = VARIANT_SEVERITY.get((self.kind, self.variant), KINDS[self.kind].severity)
        if self.confidence != "high" and sev is Severity.CRITICAL:
            sev = Severity.HIGH
        return sev


# ---- helpers ----------------------------------------------------------------------------------------

_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def ascii_lower(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # a few non-ASCII characters lower-case to two code points
        low = text.translate(_ASCII_LOWER)
    return low


B64_RE = lazy_compile(r"[A-Za-z0-9+/]+={0,2}")
HEX32_RE = lazy_compile(r"[0-9a-fA-F]{32}")
B64URL_RE = lazy_compile(r"[A-Za-z0-9_-]+")
BASE32_52_RE = lazy_compile(r"[a-z2-7]{52}")


def is_b64_bytes(v: str, nbytes: int) -> bool:
    """Exactly `nbytes` random-looking bytes in canonical base64 (the padding bits are zero, as in
    every key Azure issues: `...cET==` is not a 64-byte key)."""
    want = 4 * ((nbytes + 2) // 3)
    if len(v) != want or not B64_RE.fullmatch(v):
        return False
    raw = formats.b64decode_loose(v)
    if raw is None or len(raw) != nbytes or not allowlist.entropy_ok(v, 16):
        return False
    return base64.b64encode(raw).decode("ascii") == v


def is_b64_key(v: str, min_len: int = 40) -> bool:
    """Plausible legacy key material: base64, long enough, random-looking."""
    return len(v) >= min_len and len(v) <= 200 and bool(B64_RE.fullmatch(v)) and allowlist.entropy_ok(v, 12)


def is_hex32(v: str) -> bool:
    if len(v) != 32 or not HEX32_RE.fullmatch(v):
        return False
    if v.isdigit() or not (v.islower() or v.isupper() or v.isdigit()):
        # Azure AI keys are lower-case hex; mixed case is not a key.
        return False
    return len(set(v)) >= 8 and sum(c.isdigit() for c in v) >= 3 and sum(c.isalpha() for c in v) >= 3


def plausible_password(v: str, user: str = "") -> bool:
    if not v or allowlist.is_placeholder(v) or allowlist.is_reference(v):
        return False
    if user and v == user:
        return False
    if len(v) < 6 or v.lower() in ("password", "passw0rd", "p@ssw0rd", "pa55word"):
        return False
    if allowlist.looks_like_word_password(v):
        return False
    return True


_ENTRA_SECRET_CHARS_RE = lazy_compile(r"[A-Za-z0-9._~\-+/=@*:?\[\]]{30,48}")


def entra_secret_shape(v: str, shape_only: bool = False) -> bool:
    """A value shaped like an Entra client secret: the current `xxx8Q~...` form (without a valid
    checksum), the legacy forms, or (unless `shape_only`) any plausible 30-48 character token."""
    if len(v) == 40 and v[3:6] == "8Q~":
        return True
    if formats.looks_like_legacy_aad(v):
        return True
    return not shape_only and plausible_token(v, 30) and bool(_ENTRA_SECRET_CHARS_RE.fullmatch(v))


def plausible_token(v: str, min_len: int = 16) -> bool:
    return (len(v) >= min_len and not allowlist.is_placeholder(v) and not allowlist.is_reference(v)
            and allowlist.entropy_ok(v, 10) and " " not in v and not _WORDS_NAME_RE.fullmatch(v))


NAME_CHARS_STR = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
NAME_CHARS = frozenset(NAME_CHARS_STR)
STOP_VALUE = frozenset(" \t\r\n\"'`,;)]}<>&|")
QUOTES = "\"'`"

# Name stems that send a hit to the name handler (searched in the lower-cased text).
ANCHOR_RE = lazy_compile(r"key|secret|p(?:assw|wd|at)|credential")
# Every literal signature, first character first so the regex engine can skip quickly.
SIGNATURE_RE = lazy_compile(r"[+AJ78](?:A(?:St|Ba|MC|Sb|Eh|Rm|CR)|CDb|PIM|zCa|IoT|ZEG|zSe|zFu|QQJ9|Q~)")

# scan_signatures acts only on these (matched case-sensitively, so each one's lower case is in the
# lower-cased text wherever it is in the text; all are prefilter keywords: no search of the text).
_SIGNATURES_LOWER = tuple(sorted({s.lower() for s in (*formats.BY_SIGNATURE, "JQQJ9", "8Q~", "7Q~")}))

# Names ending like this hold identifiers or metadata, not secrets.
_DENY_SUFFIXES = (
    "name", "names", "id", "ids", "version", "file", "path", "url", "uri", "endpoint", "type", "types",
    "length", "size", "header", "ref", "reference", "policy", "expiry", "expiration", "rotation",
    "enabled", "required", "field", "env", "var", "hash", "vault", "keyvault", "prefix", "count", "len",
    "format", "label", "mode", "algorithm", "alg", "store", "provider", "bits", "source", "sources",
    "location", "kind", "scope", "secretname", "keyname", "uriwithversion", "identifier", "column",
    "param", "parameter", "template", "pattern", "regex", "hint", "description", "title", "help",
    "validator", "min", "max", "strength", "policyname", "filename", "hashed", "hashkey", "salt", "encrypted",
    "digest", "ttl", "timeout", "days",
)


_NORM_DELETE = str.maketrans("", "", "_.-$:@ ")


@lru_cache(maxsize=32768)  # the same keys come back in every template (`properties`, `type`, ...)
def _norm_name(name: str) -> str:
    return name.lower().translate(_NORM_DELETE)


@lru_cache(maxsize=32768)
def _names_azure_parent(key: str) -> bool:
    nk = _norm_name(key)
    return any(w in nk for w in _AZURE_PARENTS)


def _unchain(chain: tuple | None) -> tuple:
    """The path a chain of (parent chain, key) pairs stands for, root first."""
    keys: list = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    return tuple(reversed(keys))


@dataclass(slots=True)
class _Seg:
    start: int
    end: int
    quoted: bool


class Scanner:
    def __init__(self, doc: "Document", loose: bool = False, permissive: bool = False, nested: bool = False,
                 budget: Budget | None = None):
        # loose: also keep every value assigned to a credential-like name whose shape matches no
        # known format (only to mask text shown to people, e.g. diffs; never reported)
        self.loose = loose
        # permissive: `doc` holds only some lines of a file (the history scan's first pass), so
        # every test of what lies around a value (hosts, tenant words, local hosts) is assumed to
        # pass; the result is a superset of what the whole file gives at those lines.
        self.permissive = permissive
        self.doc = doc
        self.nested = nested  # scanning a decoded view: no further decoding
        # Prose with code samples: a password known only by its name there is a sample.
        self.docs = doc.relpath.lower().endswith(_DOC_SUFFIXES)
        # Source code whose strings are always quoted: an unquoted value there is code.
        self.code = doc.relpath.lower().endswith(_CODE_SUFFIXES)
        self.text = doc.text
        self.kind = doc.kind
        words = doc.memo.get(TEXT_WORDS_KEY)
        if words is not None and words.low is not None and len(words.low) == len(self.text):
            # the engine's lower-cased copy is ascii_lower's (same length): its prefilter
            # answers "is this word in self.low" for the words it searched
            self.low = words.low
            self._searched, self._present = words.searched, words.present
        else:
            self.low = ascii_lower(self.text)
            self._searched = self._present = frozenset()
        self._hosts: HostIndex | None = None
        self.found: dict[tuple[int, int], Secret] = {}
        self._seg_cache: dict[tuple[int, int], list[_Seg]] = {}
        self._seg_starts: dict[tuple[int, int], list[int]] = {}
        self._parsed: set[tuple[int, int]] = set()
        self._names_seen: set[int] = set()
        self._name_cache: dict[str, tuple[str, str | None]] = {}
        self._last_conn: tuple[int, int] = (0, 0)
        # Every recogniser's loop ticks it (Settings.file_budget); a decoded view spends its file's.
        self.budget = budget or Budget(doc)

    # -- infrastructure ------------------------------------------------------------------------------
    @property
    def hosts(self) -> HostIndex:
        if self._hosts is None:
            self._hosts = AnyHost() if self.permissive else HostIndex(self.low)  # type: ignore[assignment]
        return self._hosts

    def add(self, s: Secret) -> None:
        if s.end <= s.start:
            return
        if allowlist.is_emulator_key(s.value):
            return
        key = (s.start, s.end)
        old = self.found.get(key)
        if old is None:
            self.found[key] = s
            return
        win, lose = (s, old) if s.priority > old.priority else (old, s)
        if win.kind == lose.kind:  # another kind's resource is another resource
            win.resource = win.resource or lose.resource
            win.host = win.host or lose.host
        win.setting = win.setting or lose.setting
        if lose.source != win.source and not win.context and not P_CONTEXT <= lose.priority < P_STRUCTURED:
            win.context = lose.source  # (a name that held the value adds nothing: the winner says more)
        self.found[key] = win

    def line_bounds(self, pos: int) -> tuple[int, int]:
        lines = self.doc.lines
        idx = bisect.bisect_right(lines.starts, pos) - 1
        return lines.starts[idx], lines.line_end(idx + 1)

    def lines_around(self, pos: int, n: int) -> tuple[int, int]:
        """Offsets of the n lines before and after the line of `pos` (at most 1 KiB each way)."""
        lines = self.doc.lines
        idx = bisect.bisect_right(lines.starts, pos) - 1
        a = lines.starts[max(0, idx - n)]
        b = lines.line_end(min(len(lines.starts), idx + n + 1))
        return max(a, pos - 1024), min(b, pos + 1024)

    def region(self, pos: int) -> tuple[int, int]:
        """The line around pos, clipped to an 8 KiB window (huge minified lines)."""
        ls, le = self.line_bounds(pos)
        if le - ls <= 8192:
            return ls, le
        chunk = (pos - ls) // 4096
        return max(ls, ls + chunk * 4096 - 2048), min(le, ls + chunk * 4096 + 6144)

    def segments(self, rs: int, re_: int) -> list[_Seg]:
        key = (rs, re_)
        segs = self._seg_cache.get(key)
        if segs is not None:
            return segs
        t = self.text
        segs = []
        cur = rs
        i = rs
        quote = ""
        qstart = 0
        while True:
            m = _QUOTE_RE.search(t, i, re_)
            if not m:
                break
            k = m.start()
            q = t[k]
            if not quote:
                if q == "'" and k > rs and t[k - 1].isalnum():
                    i = k + 1
                    continue
                if k > cur:
                    segs.append(_Seg(cur, k, False))
                quote, qstart = q, k + 1
            elif q == quote and not (k > rs and t[k - 1] == "\\"):
                segs.append(_Seg(qstart, k, True))
                quote = ""
                cur = k + 1
            i = k + 1
        if quote:
            segs.append(_Seg(qstart, re_, True))
        elif cur < re_:
            segs.append(_Seg(cur, re_, False))
        self._seg_cache[key] = segs
        self._seg_starts[key] = [s.start for s in segs]
        return segs

    def segment_at(self, pos: int) -> _Seg | None:
        rs, re_ = self.region(pos)
        segs = self.segments(rs, re_)
        starts = self._seg_starts[(rs, re_)]
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and segs[i].start <= pos < segs[i].end:
            return segs[i]
        return None

    def setting_before(self, pos: int) -> str:
        """The variable / key name assigned just before `pos` (`NAME=`, `"NAME": "`, `NAME: `)."""
        ls, _ = self.line_bounds(pos)
        m = _SETTING_RE.search(self.text, max(ls, pos - 160), pos)
        return m.group(1) if m else ""

    def mentions(self, word: str) -> bool:
        """`word in self.low`, from the engine's prefilter when it searched the word."""
        return word in self._present if word in self._searched else word in self.low

    def mentions_any(self, words: tuple[str, ...]) -> bool:
        searched, present, low = self._searched, self._present, self.low
        for w in words:
            if (w in present) if w in searched else (w in low):
                return True
        return False

    # -- the scan ------------------------------------------------------------------------------------
    def run(self) -> list[Secret]:
        low = self.low
        try:
            if self.mentions_any(_SIGNATURES_LOWER):
                self.scan_signatures()
            if self.mentions("sig="):
                self.scan_sas()
            if "code=" in low:
                self.scan_function_urls()
            if "@" in low and "://" in low:
                self.scan_uris()
            self.scan_names()
            if "azurecr.io" in low or self.mentions("--service-principal"):
                self.scan_command_lines()
            if self.permissive or self.mentions_any(ADO_HINTS):
                self.scan_ado()
            if "convertto-securestring" in low:
                self.scan_secure_strings()
            if ".Ag" in self.text:
                self.scan_refresh_tokens()
            if self.mentions("git&"):
                self.scan_apim_git_keys()
            if not self.nested and (self.kind == "hcl" or self.doc.subkind == "bicepparam" or (
                    self.kind == "json" and (self.mentions("deploymenttemplate") or "deploymentparameters" in low))):
                self.scan_iac_values()
            if self.kind in ("yaml", "json") and not self.nested and self.mentions_any(_AZURE_PARENTS) and (
                    _GENERIC_LEAF_RE.search(low)):
                self.scan_nested_names()
            if self.permissive and not self.nested:
                self.scan_structure_candidates()
            if not self.nested:
                if self.kind == "python" and self._literals_joined_near_hint():
                    self.scan_built_strings()
                if "\\" in low or "%" in low or "&" in low:
                    self.scan_escaped()
                if self.kind in ("yaml", "json") and self.mentions("secret") and "data" in low:
                    self.scan_secret_manifests()
        except BudgetExceeded:
            pass  # the file's time is up: what was found stands, the engine reports a partial check
        return self.finish()

    # 0. decoded views ----------------------------------------------------------------------------------
    def _sub_scan(self, view: str, place, note: str) -> None:
        """Scan `view` (decoded text) and report what it holds at `place(start, end)` in the file."""
        from keyless.linter.documents import TextDocument

        sub = TextDocument(self.doc.path, self.doc.relpath, view)
        for s in Scanner(sub, loose=self.loose, permissive=self.permissive, nested=True, budget=self.budget).run():
            s.start, s.end = place(s.start, s.end)
            if (s.start, s.end) in self.found:
                continue  # the raw text said it already
            s.source += note
            self.add(s)

    def _escape_line_starts(self) -> list[int]:
        """Starts of the lines holding an escape (decoded.ESCAPE_HINTS), at most 10,000 of them.
        Every hint starts with `\\`, `%` or `&`: a C search for each of those characters, the
        pattern tried only there (thirteen searches of the whole text, one per hint, were most
        of this pass on large templates)."""
        low = self.low
        match = decoded.ESCAPE_HINT_RE.match
        starts: set[int] = set()
        misses = 0
        for ch in _ESCAPE_FIRST_CHARS:
            i = low.find(ch)
            while i >= 0:
                if match(low, i):
                    ls, le = self.line_bounds(i)
                    starts.add(ls)
                    if len(starts) >= 10_000:
                        return self._escape_line_starts_by_hint()  # the cap keeps the lines it always kept
                    i = low.find(ch, le)
                    continue
                misses += 1
                if misses > 4096:  # the character is common here for other reasons: one search per hint
                    return self._escape_line_starts_by_hint()
                i = low.find(ch, i + 1)
        return sorted(starts)

    def _escape_line_starts_by_hint(self) -> list[int]:
        low = self.low
        starts: set[int] = set()
        for hint in decoded.ESCAPE_HINTS:
            i = low.find(hint)
            while i >= 0 and len(starts) < 10_000:
                ls, le = self.line_bounds(i)
                starts.add(ls)
                i = low.find(hint, le)
        return sorted(starts)

    def scan_escaped(self) -> None:
        """Lines holding JSON/URL/HTML escapes, decoded (`\\u0026` -> `&`, `\\"` -> `"`, `%3D` -> `=`)."""
        starts = self._escape_line_starts()
        lines = self.doc.lines
        for ls in starts:
            le = lines.line_end(bisect.bisect_right(lines.starts, ls))
            for ws in range(ls, le, 65536):  # minified lines: bounded windows
                self.budget.tick()
                raw = self.text[ws : min(le, ws + 65536)]
                view = decoded.unescape_view(raw)
                if view == raw:
                    continue
                vlow = ascii_lower(view)
                if not (ANCHOR_RE.search(vlow) or SIGNATURE_RE.search(view) or "sig=" in vlow):
                    continue
                offsets: list[int] = []

                def place(a: int, b: int, ws=ws, raw=raw, offsets=offsets) -> tuple[int, int]:
                    if not offsets:  # computed once, only when the view holds a secret
                        offsets.extend(decoded.unescape(raw)[1])
                    return ws + offsets[a], ws + offsets[b]

                self._sub_scan(view, place, ", escaped")

    def scan_structure_candidates(self) -> None:
        """Permissive mode (a few lines of a file, which rarely parse on their own): the values the
        structure-reading passes could report there, as candidates for the whole file to decide:
        literals of defaults, parameter values and administrator passwords, base64 values of a
        Secret's data, literals next to a connection-string key, generic keys of a YAML/JSON view."""
        t = self.text
        tick = self.budget.tick
        for m in _CANDIDATE_LITERAL_RE.finditer(t):
            tick()
            value = m.group(2)
            if plausible_token(value, 6) or plausible_password(value):
                self.add(Secret("db-password", m.start(2), m.end(2), value, "medium", "candidate", P_SWEEP - 2))
        if self.kind in ("yaml", "json") and "data" in self.low:
            for m in _CANDIDATE_B64_RE.finditer(t):
                tick()
                self.add(Secret("storage-key", m.start(1), m.end(1), m.group(1), "medium", "candidate", P_SWEEP - 2))
        if self.kind == "python" and any(k in self.low for k in _BUILT_STRING_HINTS):
            for m in _ADJACENT_LITERALS_RE.finditer(t):
                tick()
                self.add(Secret("db-password", m.start(), m.end(), m.group(0), "medium", "candidate", P_SWEEP - 2))

    def scan_iac_values(self) -> None:
        """Literals that Terraform / ARM structure names: database administrator passwords, azurerm
        backend credentials, variable defaults and parameter values (see iacvalues.py)."""
        from keyless.rules.secrets import iacvalues

        for lit in iacvalues.literals(self.doc, named=lambda name: classify_name(name) is not None):
            self.budget.tick()
            value = lit.value
            if lit.what == "db":
                if not plausible_password(value):
                    continue
                s = Secret("db-password", lit.start, lit.end, value, "medium", lit.setting, P_STRUCTURED)
                s.extra = {"service": lit.detail}
                s.setting = lit.setting
                self.add(s)
            elif lit.what == "backend":
                s = None
                if lit.detail == "access_key" and is_b64_bytes(value, 64):
                    s = Secret("storage-key", lit.start, lit.end, value, "high", lit.setting, P_STRUCTURED)
                elif lit.detail == "client_secret" and not formats.classify_aad(value) and plausible_token(value, 30):
                    s = Secret("entra-secret", lit.start, lit.end, value, "medium", lit.setting, P_STRUCTURED)
                if s is not None:  # sas_token: the SAS recogniser reads it from the text
                    s.setting = lit.setting
                    self.add(s)
            else:
                cls = classify_name(lit.detail)
                if lit.what == "entra" or (cls in ("entra", "entra-weak") and "azure" in lit.flags):
                    # an Azure provider signs in with it, or a module deploying to Azure names it a
                    # client secret: that is the Entra context the name alone lacks
                    weak = lit.what != "entra" and cls == "entra-weak"
                    if not formats.classify_aad(value) and entra_secret_shape(value, weak):
                        self._structured("entra-secret", lit, value)
                elif cls == "password" and "azure" in lit.flags and "read" not in lit.flags:
                    # a password default in a module that deploys to Azure which no resource of it
                    # reads (a module call, an output, a caller's -var may): a database reader makes
                    # it a database password above, any other resource judges it as it judges its
                    # own inline password; a sensitive variable's default is KL257's
                    if "sensitive" not in lit.flags and not self.docs and plausible_password(value):
                        self._structured("iac-password", lit, value)
                elif cls is not None:
                    self._assignment(cls, _norm_name(lit.detail), lit.detail, lit.start, lit.end, value, True,
                                     source=lit.setting)

    def _structured(self, kind: str, lit: Any, value: str) -> None:
        s = Secret(kind, lit.start, lit.end, value, "medium", lit.setting, P_STRUCTURED)
        s.setting = lit.setting
        self.add(s)

    def scan_nested_names(self) -> None:
        """A generic key under a named parent (Helm values `cosmos: {key: ...}`, appsettings
        `"Storage": {"Key": "..."}`): the value is judged by the joined name (`cosmos.key`)."""
        if not self.doc.ensure_parsed():
            return
        budget = 20_000
        # A node's path is a chain (parent chain, key), unrolled only under a named parent.
        stack: list[tuple[Any, tuple]] = [(v, (None, i)) for i, v in enumerate(self.doc.values)]
        while stack and budget > 0:
            node, chain = stack.pop()
            budget -= 1
            self.budget.tick()
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for k, v in items:
                if isinstance(v, (dict, list)):
                    if isinstance(v, dict) and isinstance(k, str) and _names_azure_parent(k):
                        self._nested_leaves(k, v, _unchain((chain, k)))
                    stack.append((v, (chain, k)))

    def _nested_leaves(self, parent: str, node: dict, path: tuple) -> None:
        for leaf, value in node.items():
            if not isinstance(value, str) or not isinstance(leaf, str) or _norm_name(leaf) not in _GENERIC_LEAVES:
                continue
            joined = f"{parent}.{leaf}"
            cls = classify_name(joined)
            if cls is None or cls == classify_name(leaf):
                continue  # the parent adds nothing: the raw scan judged the leaf
            span = self.doc.locate((*path, leaf))
            if span is None:
                continue
            vs, ve = self.doc.lines.offset(span.start), self.doc.lines.offset(span.end)
            if self.text[vs : vs + 1] in QUOTES and self.text[ve - 1 : ve] == self.text[vs]:
                vs, ve = vs + 1, ve - 1
            if self.text[vs:ve] != value:
                continue
            self._assignment(cls, _norm_name(joined), joined, vs, ve, value, True, priority=P_CONTEXT + 5)

    def _literals_joined_near_hint(self) -> bool:
        """Two literals joined within a few lines of a connection-string key (cheap text test
        before walking the syntax tree)."""
        low, t = self.low, self.text
        for hint in _BUILT_STRING_HINTS:
            i = low.find(hint)
            while i >= 0:
                self.budget.tick()
                if _ADJACENT_LITERALS_RE.search(t, max(0, i - 400), i + 400):
                    return True
                i = low.find(hint, i + 400)
        return False

    def scan_built_strings(self) -> None:
        """Python strings joined from several literals (adjacent or `+`): scanned as one string."""
        from keyless.rules.secrets import pystrings

        for view, starts, ends in pystrings.built_strings(self.doc, _BUILT_STRING_HINTS):
            self.budget.tick()
            vlow = ascii_lower(view)
            if not (ANCHOR_RE.search(vlow) or "sig=" in vlow):
                continue
            self._sub_scan(view, lambda a, b, starts=starts, ends=ends: (starts[a], ends[b - 1]),
                           ", joined literals")

    def scan_secret_manifests(self) -> None:
        """Kubernetes Secret `data:` values are base64: decode them, one view per Secret (so a
        password and its base64-encoded host are read together), and report on the encoded value."""
        by_secret: dict[int, list[tuple[str, str, int, int]]] = {}
        for index, key, encoded, start, end in decoded.secret_data(self.doc):
            by_secret.setdefault(index, []).append((key, encoded, start, end))
        for entries in by_secret.values():
            rows: list[str] = []
            spans: list[tuple[int, int, int]] = []  # (view offset, raw start, raw end)
            at = 0
            for key, encoded, start, end in entries:
                self.budget.tick()
                plain = decoded.b64decode_text(encoded)
                if plain is None or not plain.strip():
                    continue
                if "dockerconfig" in key.lower() or key == ".dockercfg":
                    self._docker_config(plain, start, end)
                    continue
                row = f"{key}: {plain.strip()}" if "\n" not in plain.strip() else plain
                rows.append(row)
                spans.append((at, start, end))
                at += len(row) + 1
            if not rows:
                continue
            view = "\n".join(rows) + "\n"
            view_starts = [v for v, _, _ in spans]

            def place(a: int, b: int, spans=spans, view_starts=view_starts) -> tuple[int, int]:
                _, start, end = spans[bisect.bisect_right(view_starts, a) - 1]
                return start, end

            self._sub_scan(view, place, ", in Secret data")

    def _docker_config(self, text: str, start: int, end: int) -> None:
        """A `.dockerconfigjson`: `auths.<registry>.password` or `.auth` (base64 `user:password`)."""
        import json

        try:
            data = json.loads(text)
        except ValueError:
            return
        auths = data.get("auths", data) if isinstance(data, dict) else None
        if not isinstance(auths, dict):
            return
        for registry, entry in auths.items():
            if not isinstance(entry, dict) or service_of_host(str(registry)) != "acr":
                continue
            password = entry.get("password")
            if not isinstance(password, str) and isinstance(entry.get("auth"), str):
                raw = formats.b64decode_loose(entry["auth"])
                user_pass = raw.decode("utf-8", "replace") if raw else ""
                password = user_pass.partition(":")[2] or None
            if isinstance(password, str) and plausible_token(password, 16):
                s = Secret("acr-key", start, end, password, "medium", ".dockerconfigjson in Secret data", P_STRUCTURED)
                s.resource = str(registry).split(".", 1)[0]
                self.add(s)

    def finish(self) -> list[Secret]:
        items = sorted(self.found.values(), key=lambda s: (s.start, -(s.end - s.start), -s.priority))
        out: list[Secret] = []
        for s in items:
            if out and s.start < out[-1].end:  # overlapping: one secret, one finding
                if s.priority > out[-1].priority:
                    s.context = s.context or out[-1].source
                    s.setting = s.setting or out[-1].setting
                    if s.kind == out[-1].kind:
                        s.resource = s.resource or out[-1].resource
                    out[-1] = s
                continue
            out.append(s)
        # The same secret repeated on one line (a SAS URL and its token, a test recording that
        # quotes one URL many times) is one finding: the first occurrence.
        seen: set[tuple[int, str]] = set()
        kept: list[Secret] = []
        for s in out:
            ls, _ = self.line_bounds(s.start)
            key = (ls, _same_secret(s.value))
            if key in seen:
                continue
            seen.add(key)
            kept.append(s)
        return kept

    # 1. identifiable keys ----------------------------------------------------------------------------
    def scan_signatures(self) -> None:
        """One pass for every literal signature (HIS, CASK, Entra), dispatched by the match."""
        tick = self.budget.tick
        for m in SIGNATURE_RE.finditer(self.text):
            tick()
            sig = m.group(0)
            if sig == "JQQJ9":
                self._cask_at(m.start())
            elif sig in ("8Q~", "7Q~"):
                self._aad_at(m.start(), sig)
            elif sig in formats.BY_SIGNATURE:
                self._identifiable_at(m.start(), sig)

    def _identifiable_at(self, i: int, sig: str) -> None:
        t = self.text
        n = len(t)
        spec = formats.BY_SIGNATURE[sig]
        fam = formats.FAMILIES[spec.family]
        start = i - fam.sig_offset
        end = start + fam.length
        # The left edge must be a boundary; the right edge need not be (`<key>==ZZZZ`, a key glued
        # to the next token): the checksum decides, as in security-utilities' own scanner.
        if start >= 0 and end <= n and (start == 0 or t[start - 1] not in formats.KEYISH):
            token = t[start:end]
            variant = formats.validate_identifiable(token, sig)
            if variant:
                self.add(self._identifiable(spec.kind, token, start, end, variant))

    def _identifiable(self, kind: str, token: str, start: int, end: int, variant: str) -> Secret:
        s = Secret(kind, start, end, token, "high", "identifiable key, checksum verified", P_CHECKSUM, variant=variant)
        near = self.hosts.near(start, 600) if self.hosts.offsets else []
        for _, service, name in near:
            if _SERVICE_KIND.get(service) == kind or (kind == "iot-key" and service in ("iot", "dps")):
                s.resource = name
                break
        s.setting = self.setting_before(start)
        return s

    # 2. CASK -----------------------------------------------------------------------------------------
    def _cask_at(self, i: int) -> None:
        t = self.text
        n = len(t)
        start = i - 52
        if start < 0 or (start > 0 and t[start - 1].isalnum()):
            return
        for length in (88, 84):
            end = start + length
            if end > n or (end < n and (t[end].isalnum() or t[end] == "=")):
                continue
            info = formats.classify_cask(t[start:end])
            if info:
                s = Secret(info.kind, start, end, t[start:end], "high",
                           "CASK key" + (", checksum verified" if info.checksum_ok else ""),
                           P_FRAME + (5 if info.checksum_ok else 0), variant=info.variant)
                s.setting = self.setting_before(start)
                self.add(s)
                return

    # 3. Entra client secrets -------------------------------------------------------------------------
    def _aad_at(self, i: int, sig: str) -> None:
        t = self.text
        n = len(t)
        length = 40 if sig == "8Q~" else 37
        start, end = i - 3, i - 3 + length
        if start >= 0 and end <= n and (start == 0 or t[start - 1] not in _AAD_EDGE) and (
            end == n or t[end] not in _AAD_EDGE
        ):
            token = t[start:end]
            form = formats.classify_aad(token)
            if form:
                src = "Entra client secret, checksum verified" if form == "current" else "Entra client secret (7Q~ format)"
                s = Secret("entra-secret", start, end, token, "high", src, P_CHECKSUM)
                s.setting = self.setting_before(start)
                self.add(s)

    # 4. SAS --------------------------------------------------------------------------------------------
    def scan_sas(self) -> None:
        low = self.low
        done = -1  # end of the last token parsed: hits inside it belong to it
        i = low.find("sig=")
        while i >= 0:
            self.budget.tick()
            if i >= done and i > 0 and (low[i - 1] in "?&;" or (i > 4 and low[i - 5 : i] == "&amp;")):
                done = self._sas_at(i, done)
            i = low.find("sig=", i + 4)

    def _sas_at(self, i: int, floor: int) -> int:
        t, low = self.text, self.low
        ls, le = self.region(i)
        lo = max(ls, floor, i - 4096)
        qs = max([t.rfind(c, lo, i) for c in _SAS_LEFT_STOP_STR] + [lo - 1]) + 1
        qe = _SAS_TOKEN_RE.match(t, i, le).end()
        token_form = False
        prefix = low[max(ls, qs - 23) : qs]
        if prefix.rstrip().endswith("sharedaccesssignature"):
            token_form = True
        if low.startswith("sharedaccesssignature=", qs):
            qs += len("sharedaccesssignature=")
            if low.startswith("sharedaccesssignature ", qs):
                qs += len("sharedaccesssignature ")
                token_form = True
        params_l = connstr.parse_query(t, qs, qe)
        if params_l and params_l[0][0] not in sas.SAS_FIELDS and "=" in params_l[0][1]:
            # `SAS_TOKEN=sp=r&...`: the variable's name is not the token's first field
            qs = t.index("=", qs) + 1
            params_l = connstr.parse_query(t, qs, qe)
        params = {}
        for k, v, _, _ in params_l:
            params.setdefault(k, v)
        sig = next(((v, a, b) for k, v, a, b in params_l if k == "sig"), None)
        if sig is None or not sas.looks_like_sas(params):
            return qe
        value, vs, ve = sig
        if allowlist.is_placeholder(value):
            return qe
        info = sas.analyse(params, token_form=token_form or "skn" in params)
        # Where does it point? The URL before '?', or sr= in token form.
        host = ""
        if qs > ls and t[qs - 1] == "?":
            lo2 = max(ls, qs - 2048)
            us = max([t.rfind(c, lo2, qs - 1) for c in _URL_LEFT_STOP_STR] + [lo2 - 1]) + 1
            url = t[us : qs - 1]
            host = url.split("://", 1)[-1].split("/", 1)[0]
        elif "sr" in params and "." in params["sr"]:  # token form: sr=<resource URI>; storage: sr=b|c|...
            sr = unquote(unquote(params["sr"]))
            host = sr.split("://", 1)[-1].split("/", 1)[0]
        service = service_of_host(host) if host else None
        if service is None:
            near = self.hosts.nearest(i, {"storage", "messaging", "iot", "dps", "eventgrid"}, 800)
            service = near[0] if near else ""
        s = Secret("sas", vs, ve, value, "high" if info.fields.get("sv") or info.token_form else "medium",
                   "SAS token", P_STRUCTURED)
        s.host = host
        s.resource = host.split(".", 1)[0] if host and service else ""
        s.severity_override = info.severity()
        s.extra = {"service": service or "", "sas": info.describe(), "token_form": info.token_form}
        s.setting = self.setting_before(qs)
        self.add(s)
        return qe

    # 5. Function keys in URLs ------------------------------------------------------------------------
    def scan_function_urls(self) -> None:
        t, low = self.text, self.low
        i = low.find("code=")
        while i >= 0:
            self.budget.tick()
            if i > 0 and t[i - 1] in "?&":
                ls, le = self.region(i)
                vs = i + 5
                ve = vs
                while ve < le and t[ve] not in _SAS_RIGHT_STOP and t[ve] != "&" and ve - vs < 512:
                    ve += 1
                value = t[vs:ve]
                us = i
                while us > ls and t[us - 1] not in _URL_LEFT_STOP and i - us < 2048:
                    us -= 1
                url = t[us:i]
                host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
                if service_of_host(host) == "functions" and len(unquote(value)) >= 20 and plausible_token(unquote(value), 20):
                    s = Secret("function-key", vs, ve, value, "medium", "function URL ?code=", P_STRUCTURED)
                    s.resource = host.split(".", 1)[0]
                    s.host = host
                    self.add(s)
            i = low.find("code=", i + 5)

    # 6. URIs with credentials ------------------------------------------------------------------------
    def scan_uris(self) -> None:
        t = self.text
        i = t.find("://")
        while i >= 0:
            self.budget.tick()
            u = connstr.parse_userinfo_uri(t, i)
            if u is not None:
                self._uri(u, i)
            i = t.find("://", i + 3)

    def _uri(self, u: connstr.UriCred, at: int) -> None:
        service = service_of_host(u.host)
        if service is None or is_local_host(u.host):
            return
        if service == "devops":
            # https://<pat>@dev.azure.com or https://user:<pat>@dev.azure.com
            span = u.password_span if u.password else u.user_span
            value = self.text[span[0] : span[1]]
            if plausible_token(unquote(value), 20):
                verified = formats.is_ado_pat(value)
                s = Secret("devops-pat", span[0], span[1], value, "high" if verified else "medium",
                           "credentials in an Azure DevOps URL", P_STRUCTURED,
                           variant="" if verified else "unverified")
                s.host = u.host
                self.add(s)
            return
        if not u.password_span:
            return
        value = self.text[u.password_span[0] : u.password_span[1]]
        plain = unquote(value)
        kind = {"sql": "db-password", "postgres": "db-password", "mysql": "db-password", "redis": "redis-key",
                "cosmos": "cosmos-key", "messaging": "messaging-key", "acr": "acr-key"}.get(service)
        if kind is None:
            return
        if kind == "db-password":
            if not plausible_password(plain, u.user):
                return
        elif not plausible_token(plain, 16):
            return
        s = Secret(kind, u.password_span[0], u.password_span[1], value, "medium",
                   f"password in a {u.scheme or 'URL'} URI", P_STRUCTURED)
        s.host = u.host
        s.resource = u.host.split(".", 1)[0]
        s.extra = {"service": service, "user": u.user}
        s.setting = self.setting_before(at)
        self.add(s)

    # 7. names: connection strings and assignments ------------------------------------------------------
    def scan_names(self) -> None:
        t, low = self.text, self.low
        n = len(t)
        seen = self._names_seen
        cache = self._name_cache
        tick = self.budget.tick
        for m in ANCHOR_RE.finditer(low):
            tick()
            p = m.start()
            if low[p] == "p" and low[p + 1] == "a" and low[p + 2] == "t" and (
                (p > 0 and "a" <= low[p - 1] <= "z") or (p + 3 < n and "a" <= low[p + 3] <= "z")
            ):
                continue  # path, pattern, compat: not a PAT
            # expand to the whole name (C-speed strip over a bounded window)
            left = t[max(0, p - 96) : p]
            ns = p - (len(left) - len(left.rstrip(NAME_CHARS_STR)))
            if ns in seen:
                continue
            seen.add(ns)
            e = m.end()
            right = t[e : e + 96]
            ne = e + (len(right) - len(right.lstrip(NAME_CHARS_STR)))
            while ne > ns and t[ne - 1] in ".-":  # sentence ends, flags
                ne -= 1
            if ne <= ns:
                continue
            name = t[ns:ne]
            hit = cache.get(name)
            if hit is None:
                nn = _norm_name(name)
                hit = cache[name] = (nn, classify_name(name) if nn else None)
            if hit[1] is None and hit[0] not in _CONN_KEYS:
                continue
            self._name(ns, ne, name, hit[0], hit[1])

    def _name(self, ns: int, ne: int, name: str, nn: str, cls: str | None) -> None:
        t = self.text
        # Connection-string key: parse the string around it once.
        if nn in _CONN_KEYS and t[ne : ne + 3].lstrip(" ").startswith("="):
            last = self._last_conn
            if last[0] <= ns < last[1]:
                return  # inside the connection string parsed just before
            seg = self.segment_at(ns)
            if seg is not None:
                if (seg.start, seg.end) not in self._parsed:
                    self._parsed.add((seg.start, seg.end))
                    self._conn(seg)
                if t.find(";", seg.start, seg.end) >= 0:
                    self._last_conn = (seg.start, seg.end)
                    return  # part of a connection string: the parser above owns it
        if cls is None:
            return
        if cls == "keyish" and t[ne : ne + 4].lstrip(" \t\"'")[:1] not in ("=", ":"):
            return  # only `NAME = value` / `NAME: value` can hold the exact key this class wants
        # NAME <sep> VALUE
        got = self._value_after(ns, ne)
        if got is None:
            return
        vs, ve, quoted = got
        value = t[vs:ve]
        if not value:
            return
        if not quoted and self.kind in ("python", "hcl", "json") and cls != "call":
            return  # an expression, not a literal
        if not quoted and self.code and self._code_value(ns, ne, value):
            return  # an identifier, a call or a composite literal (`Meta{`, `getSecret(`), not a string
        if not quoted and t[vs - 1] == ":" and not (ns > 0 and t[ns - 1] in QUOTES) and cls not in TIGHT_CLASSES:
            return  # `name:value` with no space: only values of a strict shape
        self._assignment(cls, nn, name, vs, ve, value, quoted)

    def _code_value(self, ns: int, ne: int, value: str) -> bool:
        """In source code, an unquoted `value` after the name `ns:ne` is code when it reads as an
        identifier, a member path or the head of a call, index or composite literal, and the name
        is on a code line: not in a comment, not inside a string opened earlier on the line. A bare
        identifier with the exact shape of a key (32 hex characters) stays a value."""
        m = _CODE_VALUE_RE.fullmatch(value)
        if m is None or (m.group(1) is None and m.group(2) is None and is_hex32(value)):
            return False
        ls, _ = self.line_bounds(ns)
        t = self.text
        head = t[ls:ns].lstrip()
        if head.startswith(_COMMENT_STARTS):
            return False
        if ns > ls and t[ns - 1] in QUOTES and t[ne : ne + 1] == t[ns - 1]:
            ns -= 1  # a quoted name (`m["redisPassword"] = ...`): its own quotes open no string
        return not any(t.count(q, ls, ns) % 2 for q in QUOTES)

    def _value_after(self, ns: int, ne: int) -> tuple[int, int, bool] | None:
        t = self.text
        n = len(t)
        _, le = self.line_bounds(ns)
        p = ne
        before = t[ns - 1] if ns else ""
        after = t[ne] if ne < le else ""
        if before == "<" and after == ">":
            return self._xml_element(ns, ne, le)  # <account_key>VALUE</account_key>
        quoted_name = before == after and before in QUOTES and before != ""
        # closing quote / bracket of a dict key or header name
        k = 0
        while p < le and t[p] in "\"'`]" and k < 3:
            p += 1
            k += 1
        while p < le and t[p] in " \t":
            p += 1
        if p >= le:
            # `NAME` alone, the value on the next line: `DEFAULT_ACCOUNT_KEY\n    = "..."`
            m = _NEXT_LINE_ASSIGN_RE.match(t, p)
            if m and self.kind not in ("yaml", "env"):
                return self._literal_at(m.end(), 0)
            return self._name_value_pair(ns, ne)
        c = t[p]
        if quoted_name:
            if c == ",":
                # a key literal and its value: `{ "AccountKey", "..." }`, `.Add("AccountKey", "...")`,
                # `x['AccountKey'], '...'`, `os.getenv("AZURE_STORAGE_KEY", "...")`; never a value
                # or list item followed by the next key (`"K": "some-key", "NEXT": ...`, `['a_key'],`)
                if self._opens_pair(ns - 1):
                    got = self._literal_at(p + 1, 1)
                    return got if got is None or self._pair_value(got[0], got[1]) else None
                return self._name_value_pair(ns, ne)  # `{"name": "X", "value": "..."}`
            if c not in "=:" and _XML_KEY_ATTR_RE.search(t, max(0, ns - 12), ns):
                m = _XML_VALUE_ATTR_RE.match(t, ne + 1)  # <add key="StorageAccountKey" value="..."/>
                return self._literal_at(m.end() - 1, 0) if m else None
        elif c == "{" and p == ne:
            return self._literal_at(p + 1, 1)  # brace initialiser: `AzuriteAccountKey{"..."}`
        elif c.isalpha() and p > ne:
            m = _BICEP_PARAM_TYPE_RE.match(t, p, le)  # Bicep `param adminPassword string = '...'`
            if m and t[max(0, ns - 7) : ns].rstrip().endswith("param"):
                return self._literal_at(m.end(), 0)
        if c in ",}\r\n":
            return self._name_value_pair(ns, ne)
        if c == "(":
            if classify_name(t[ns:ne]) != "call":
                return None
            p += 1  # AzureKeyCredential("...")
            while p < le and t[p] in " \t":
                p += 1
            if _norm_name(t[ns:ne]) == "azurenamedkeycredential":
                # second argument: AzureNamedKeyCredential("name", "key")
                m = _SECOND_ARG_RE.match(t, p, le)
                if not m:
                    return None
                p = m.end()
        elif c == "=":
            if p + 1 < n and t[p + 1] == "=":
                return None  # comparison
            p += 1
            if p < n and t[p] == ">":
                p += 1
            q = p
            while q < le and t[q] in " \t\r":
                q += 1
            if q >= le and self.kind not in ("yaml", "env"):
                return self._literal_at(p, 1)  # `KEY =` and the literal on the next line
        elif c == ":":
            p += 1
            if p < n and t[p] == "=":
                p += 1
            elif self.kind == "python":
                m = _ANNOTATION_RE.match(t, p, le)  # password: str = "..."
                if m:
                    p = m.end()
            # `name:value` without a space (headers like `api-key:abc`, `key:VALUE` lines): the
            # caller accepts it only for names whose values have a strict shape (TIGHT_CLASSES)
        elif t[ns] == "-" and p > ne:
            pass  # --flag value
        else:
            return None
        while p < le and t[p] in " \t":
            p += 1
        if p >= le:
            return None
        if self.kind == "python" and t[p] in "FfSsdp":
            # a settings field's default: `key: str = Field("...")`, `Field(alias="K", default="...")`,
            # `SecretStr("...")`, dataclasses' `field(default="...")`
            m = _SETTINGS_CALL_RE.match(t, p, le)
            if m:
                got = self._literal_at(m.end(), 0)
                if got is None:
                    kw = _DEFAULT_KW_RE.search(t, m.end(), min(le, m.end() + 240))
                    got = self._literal_at(kw.end(), 0) if kw else None
                return got
        # string prefixes (Python f/r/b), YAML tags
        q = p
        while q < le and q - p < 2 and t[q] in "rRbBuUfF":
            q += 1
        fstring = False
        if q < le and t[q] in QUOTES and q > p:
            fstring = "f" in t[p:q].lower()
            p = q
        c = t[p]
        if c in QUOTES:
            end = t.find(c, p + 1, min(le, p + 2048))
            if end < 0 or (fstring and t.find("{", p, end) >= 0):
                return None  # unterminated, or an f-string with replacement fields (a template)
            return p + 1, end, True
        if c in "{[$(<%@#|>!&*":
            return None
        e = p
        while e < le and t[e] not in STOP_VALUE and e - p < 1024:
            e += 1
        if e < le and t[e] == "#" and e > p:  # YAML/shell trailing comment
            pass
        return p, e, False

    def _opens_pair(self, quote: int) -> bool:
        """The literal at `quote` is the first item of a pair: after `{`, after `(` (a call or a
        tuple), or after `[` that subscripts something (`parsed['AccountKey']`)."""
        t = self.text
        k = quote - 1
        while k >= 0 and t[k] in " \t":
            k -= 1
        if k < 0:
            return False
        if t[k] in "{(":
            return True
        return t[k] == "[" and k > 0 and (t[k - 1].isalnum() or t[k - 1] in "_)]")

    def _pair_value(self, vs: int, ve: int) -> bool:
        """The literal `vs:ve` after a quoted name and a comma is its value, not the next item of a
        list of names: it is not itself a name (`"dns_zone_partner_id"`) and no third literal
        follows (`ImportStep("password", "source_location", "source_id")`)."""
        t = self.text
        if _WORDS_NAME_RE.fullmatch(t, vs, ve):
            return False
        m = _NEXT_ITEM_RE.match(t, ve + 1)
        return m is None

    def _literal_at(self, p: int, lines: int) -> tuple[int, int, bool] | None:
        """A quoted literal starting at `p` after blanks and at most `lines` line breaks."""
        t = self.text
        n = len(t)
        limit = min(n, p + 256)
        while p < limit and t[p] in " \t\r\n/#":
            if t[p] in "/#":  # a comment line between the name and its value
                if not (t[p] == "#" or t.startswith("//", p)) or t[p - 1] not in " \t\n":
                    break
                e = t.find("\n", p, limit)
                if e < 0:
                    return None
                p = e + 1
                continue
            if t[p] == "\n":
                lines -= 1
                if lines < 0:
                    return None
            p += 1
        q = p
        while q < limit and q - p < 2 and t[q] in "rRbBuUfFL@$":  # string prefixes (Python, C#, C++)
            q += 1
        if q >= limit or t[q] not in QUOTES:
            return None
        _, le = self.line_bounds(q)
        end = t.find(t[q], q + 1, min(le, q + 2048))
        return (q + 1, end, True) if end > 0 else None

    def _xml_element(self, ns: int, ne: int, le: int) -> tuple[int, int, bool] | None:
        """`<account_key>VALUE</account_key>`: the element's text, on one line."""
        t = self.text
        vs = ne + 1
        ve = t.find("<", vs, le)
        if ve <= vs or not t.startswith("</" + t[ns:ne] + ">", ve):
            return None
        value = t[vs:ve]
        if value != value.strip() or any(c in value for c in " \t\"'"):
            return None
        return vs, ve, True

    def _name_value_pair(self, ns: int, ne: int) -> tuple[int, int, bool] | None:
        """`- name: X` + `value: ...` (Kubernetes env, ARM/App Service settings, Compose lists)."""
        t = self.text
        ls, _ = self.line_bounds(ns)
        if not _NAME_KEY_RE.search(t, max(ls, ns - 24), ns):
            return None
        limit = min(len(t), ne + 240)
        nxt = self.low.find("name", ne, limit)  # never borrow the next item's value
        m = _VALUE_KEY_RE.search(t, ne, nxt if nxt >= 0 else limit)
        if not m:
            return None
        p = m.end()
        _, le = self.line_bounds(p)
        if p < le and t[p] in QUOTES:
            end = t.find(t[p], p + 1, min(le, p + 2048))
            return (p + 1, end, True) if end > 0 else None
        e = p
        while e < le and t[e] not in STOP_VALUE and e - p < 1024:
            e += 1
        return (p, e, False) if e > p else None

    def _assignment(self, cls: str, nn: str, name: str, vs: int, ve: int, value: str, quoted: bool,
                    source: str = "", priority: int = 0) -> None:
        if len(value) < 6 or value == name or (len(name) >= 12 and name in value):
            return  # the name repeated (`Images\AcrPassword.png = Images\AcrPassword.png` in a .sln)
        if self.loose and not allowlist.is_placeholder(value) and not allowlist.is_reference(value):
            self.add(Secret("credential-looking", vs, ve, value, "medium", f"value of '{name}'", P_SWEEP - 1))
        if cls == "password" and _db_name_service(nn) is None and not (
            self.hosts.offsets and self.hosts.nearest(vs, {"sql", "postgres", "mysql", "redis", "acr"}, 600)
        ):
            return  # no Azure database host nearby: not ours (checked before the costlier tests)
        if allowlist.is_placeholder(value) or allowlist.is_reference(value):
            return
        setting = name.strip("-.\"'")
        hosts = self.hosts
        kind: str | None = None
        variant = ""
        confidence = "medium"

        def near(services: set[str], radius: int = 1500) -> tuple[str, str] | None:
            return hosts.nearest(vs, services, radius) if hosts.offsets else None

        def in_doc(services: set[str]) -> bool:
            return bool(hosts.present & services)

        resource = ""
        if cls == "conn":
            return  # handled by the connection-string parser
        if cls in ("storage", "accountkey", "cosmos", "batch", "acs") or (cls in ("generic", "apikey") and len(value) == 88):
            if not is_b64_bytes(value, 64):
                if cls == "acs" and is_b64_bytes(value, 32):
                    kind = "acs-key"
                else:
                    return
            elif cls == "storage":
                kind = "storage-key"
            elif cls == "cosmos":
                kind = "cosmos-key"
            elif cls == "batch":
                kind = "batch-key"
            elif cls == "acs":
                kind = "acs-key"
            else:
                h = near({"storage", "cosmos", "batch", "acs", "apim-management"})
                if h is None and cls in ("generic", "apikey"):
                    return
                svc = h[0] if h else "storage"
                resource = h[1] if h else ""
                kind = _SERVICE_KIND[svc]
                if svc == "apim-management":
                    variant = "direct management key"
        elif cls in ("messaging", "iot", "signalr", "webpubsub", "appconfig", "eventgrid") or (
            cls == "generic" and len(value) == 44
        ):
            if not is_b64_bytes(value, 32):
                return
            if cls == "generic":
                h = near({"messaging", "iot", "dps", "signalr", "webpubsub", "appconfig", "eventgrid", "redis"})
                if h is None:
                    return
                cls, resource = {"dps": "iot"}.get(h[0], h[0]), h[1]
                if cls == "redis":
                    kind = "redis-key"
            kind = kind or {"messaging": "messaging-key", "iot": "iot-key", "signalr": "signalr-key",
                            "webpubsub": "webpubsub-key", "appconfig": "appconfig-secret",
                            "eventgrid": "eventgrid-key"}[cls]
            if cls == "iot" and "device" in nn:
                variant = "device"
        elif cls in ("ai", "search", "apikey", "ocp") or (cls == "generic" and len(value) == 32):
            if is_hex32(value):
                if cls == "ai":
                    kind = "ai-key"
                elif cls == "search":
                    kind = "search-key"
                    variant = "query key" if "query" in nn else ""
                else:
                    h = near({"ai", "search", "apim", "maps"}, 4000)
                    if h is None:
                        if cls == "generic":
                            return
                        if cls == "ocp" or in_doc({"ai"}):
                            kind = "ai-key"
                        elif in_doc({"search"}):
                            kind = "search-key"
                        else:
                            return
                    else:
                        kind = {"ai": "ai-key", "search": "search-key", "apim": "apim-key", "maps": "maps-key"}[h[0]]
                        resource = h[1]
            elif cls == "search" and len(value) == 52 and value.isalnum() and allowlist.entropy_ok(value, 16):
                kind = "search-key"
            elif cls in ("apikey",) and near({"maps"}) and _maps_key(value):
                kind = "maps-key"
            else:
                return
        elif cls == "maps":
            if _maps_key(value) or is_hex32(value):
                kind = "maps-key"
            else:
                return
        elif cls == "redis":
            # without an Azure cache nearby, only a value of an access key's shape (a self-hosted
            # Redis's password, `REDIS_PASSWORD=redis-stack-password`, is not ours)
            if is_b64_bytes(value, 32) or plausible_token(value, 16) and near({"redis"}) is not None:
                kind = "redis-key"
            else:
                return
        elif cls == "function":
            if plausible_token(value, 20) and re.fullmatch(r"[A-Za-z0-9_\-=/+%]{20,200}", value):
                if "functions" in hosts.present or "function" in nn or "azurewebjobs" in nn:
                    kind = "function-key"
                    variant = "master key" if "master" in nn else ""
            if kind is None:
                return
        elif cls in ("entra", "entra-weak", "secret"):
            form = formats.classify_aad(value)
            if form:
                return  # reported by the identifiable scan at the same span
            if entra_secret_shape(value, cls != "entra"):
                kind = "entra-secret"
            if kind is None:
                return
            if cls == "entra-weak" and not self._entra_context(vs):
                return
            if cls == "secret" and not self._entra_context(vs, strict=True):
                return  # a bare `secret` is an Entra secret only next to a tenant and an app ID
        elif cls == "devops":
            if formats.is_ado_pat(value):
                kind, confidence = "devops-pat", "high"
            elif BASE32_52_RE.fullmatch(value) or (plausible_token(value, 40) and value.isalnum()):
                kind, variant = "devops-pat", "unverified"
            else:
                return
        elif cls == "acr":
            if "acr" not in nn and not near({"acr"}, 2000):
                return
            if not plausible_token(value, 16):
                return
            kind = "acr-key"
        elif cls == "password":
            # the service the name names wins over a nearer host of another one (`POSTGRES_PASSWORD`
            # next to a registry host is no registry password)
            h = near(_password_services(name) or _PASSWORD_HOSTS, 600)
            strong = _db_name_service(nn)
            if h is None and strong is None:
                return
            if h is not None and self._local_host_nearer(vs, h):
                return
            if h is None and self.docs:
                return  # a documentation sample (`administrator_login_password = "..."` in a README)
            svc = h[0] if h else strong
            if svc == "redis":
                # only the name says Redis: a self-hosted Redis's password unless it has an Azure key's shape
                kind = "redis-key" if plausible_token(value, 16) and (h is not None or is_b64_bytes(value, 32)) \
                    else None
            elif svc == "acr":
                kind = "acr-key" if plausible_token(value, 16) else None
            else:
                kind = "db-password" if plausible_password(value) else None
            if kind is None:
                return
            resource = h[1] if h else ""
        elif cls == "keyish":
            # `AZURE_MANAGEMENT_API_KEY=<88>` a line from `https://x.management.azure-api.net`
            if not is_b64_bytes(value, 64):
                return
            h = near({"apim-management", "storage", "cosmos", "batch"}, 400)
            if h is None:
                return
            kind, resource = _SERVICE_KIND[h[0]], h[1]
            if h[0] == "apim-management":
                variant = "direct management key"
        elif cls == "call":
            if is_b64_bytes(value, 64) or is_b64_bytes(value, 32) or is_hex32(value):
                L = len(value)
                services = {88: {"storage", "cosmos", "batch", "acs"},
                            44: {"messaging", "iot", "dps", "signalr", "webpubsub", "appconfig", "eventgrid", "redis"},
                            32: {"ai", "search", "maps", "apim"}}[L]
                h = near(services, 4000)
                if h is None:
                    return
                resource = h[1]
                kind = {"storage": "storage-key", "cosmos": "cosmos-key", "batch": "batch-key", "acs": "acs-key",
                        "messaging": "messaging-key", "iot": "iot-key", "dps": "iot-key", "signalr": "signalr-key",
                        "webpubsub": "webpubsub-key", "appconfig": "appconfig-secret", "eventgrid": "eventgrid-key",
                        "redis": "redis-key", "ai": "ai-key", "search": "search-key", "maps": "maps-key",
                        "apim": "apim-key"}[h[0]]
            else:
                return
        else:
            return
        if kind is None:
            return
        if not resource:
            for _, service, rname in (hosts.near(vs, 1500) if hosts.offsets else []):
                if _SERVICE_KIND.get(service) == kind:
                    resource = rname
                    break
        s = Secret(kind, vs, ve, value, confidence, source or f"value of '{setting}'", priority or P_CONTEXT,
                   variant=variant)
        s.setting = setting
        s.resource = resource
        if kind == "db-password":
            h = near({"sql", "postgres", "mysql"}, 600)
            s.extra = {"service": h[0] if h else (_db_name_service(nn) or "")}
        self.add(s)

    def _entra_context(self, pos: int, strict: bool = False) -> bool:
        """Entra hints near `pos`; strict: a tenant (a name or the login host) within a few lines, the
        service-principal triple (tenant, app, secret) that `secret = "..."` belongs to."""
        if self.permissive:
            return True
        if strict:
            a, b = self.lines_around(pos, 3)
            window = self.low[a:b]
            return "tenant" in window or "microsoftonline" in window or "onmicrosoft.com" in window
        a, b = max(0, pos - 1200), min(len(self.text), pos + 1200)
        window = self.low[a:b]
        if "microsoftonline" in window or "tenant" in window or "azure" in window or "onmicrosoft.com" in window:
            return True
        return bool(allowlist.GUID_RE.search(self.text, a, b))

    def _local_host_nearer(self, pos: int, h: tuple[str, str]) -> bool:
        """A `localhost`/`127.0.0.1`/`host.docker.internal` closer to the value than the Azure host."""
        if self.permissive:
            return False
        a, b = max(0, pos - 600), min(len(self.text), pos + 600)
        window = self.low[a:b]
        best = None
        for local in ("localhost", "127.0.0.1", "host.docker.internal"):
            j = window.find(local)
            while j >= 0:
                d = abs(a + j - pos)
                best = d if best is None else min(best, d)
                j = window.find(local, j + 1)
        if best is None:
            return False
        for d, service, _ in self.hosts.near(pos, 600):
            if service == h[0]:
                return best < d
        return True

    def _conn(self, seg: _Seg) -> None:
        t = self.text
        s = t[seg.start : seg.end]
        if "@microsoft.keyvault" in s.lower():
            return
        cs = connstr.parse_any(s, unquoted_context=not seg.quoted)
        if not cs.pairs:
            return
        roles = cs.roles()
        if cs.value("usedevelopmentstorage").lower() == "true":
            return
        if "instrumentationkey" in roles and not (roles & {"accountkey", "sharedaccesskey", "accesskey", "password"}):
            return  # Application Insights: not a secret
        host = ""
        for role in ("endpoint", "hostname", "server", "blobendpoint", "queueendpoint", "tableendpoint", "fileendpoint"):
            v = cs.value(role)
            if v:
                host = v.split("://", 1)[-1].split("/", 1)[0]
                break
        if not host and cs.url_host:
            host = cs.url_host.split("://", 1)[-1].split("/", 1)[0].split(";", 1)[0]
        service = service_of_host(host) if host else None
        account = cs.value("accountname")
        acct = cs.get("accountname")
        if acct is not None and self.kind == "python" and t[seg.start + acct.start - 1 : seg.start + acct.start] == "{":
            account = ""  # `AccountName={name}` in an f-string: a replacement field, not a name
        if not service and account and "core.windows.net" in cs.value("endpointsuffix").lower():
            service = "storage"
        local = bool(host) and is_local_host(host)
        setting = self.setting_before(seg.start)
        raw_keys = {p.key.lower().replace(" ", "") for p in cs.pairs}
        # A lone `AccountKey=<64-byte key>` (e.g. one fragment of a connection string split over
        # adjacent literals) is context enough: the key name and the exact key shape agree.
        hinted = service is not None or bool(roles & _CONN_HINT_ROLES) or any(
            p.role == "accountkey" and len(p.value) == 88 and p.value.endswith("==") and is_b64_key(p.value, 40)
            for p in cs.pairs)
        if not hinted or local:
            return
        for p in cs.pairs:
            if p.role not in connstr.SECRET_ROLES or p.role == "sharedaccesssignature":
                continue
            if p.role == "password" and service is None:
                continue
            v = p.value
            if len(v) < 6 or allowlist.is_placeholder(v) or allowlist.is_reference(v):
                continue
            kind = None
            variant = ""
            resource = ""
            if p.role == "accountkey":
                if account.lower() in allowlist.EMULATOR_ACCOUNT_NAMES or local or not is_b64_key(v, 40):
                    continue
                if service == "cosmos" or "accountendpoint" in raw_keys:
                    kind, resource = "cosmos-key", host.split(".", 1)[0]
                elif service == "batch":
                    kind, resource = "batch-key", host.split(".", 1)[0]
                else:
                    kind, resource = "storage-key", account or (host.split(".", 1)[0] if service == "storage" else "")
            elif p.role == "sharedaccesskey":
                if local or not is_b64_key(v, 40):
                    continue
                resource = host.split(".", 1)[0]
                if service in ("iot", "dps") or "hostname" in roles or "deviceid" in roles:
                    kind = "iot-key"
                    variant = "device" if "deviceid" in roles else ("dps" if service == "dps" else "hub")
                elif service == "messaging" or "sharedaccesskeyname" in roles:
                    kind = "messaging-key"
                    policy = cs.value("sharedaccesskeyname")
                    if "manage" in policy.lower() or "owner" in policy.lower():
                        variant = "manage"
                    if policy:
                        variant = variant or ""
                        resource = resource or ""
                else:
                    continue
            elif p.role == "accesskey":
                if local or not is_b64_key(v, 40):
                    continue
                resource = host.split(".", 1)[0]
                if service == "signalr" or (service is None and "version" in roles):
                    kind = "signalr-key"
                elif service == "webpubsub":
                    kind = "webpubsub-key"
                elif service == "acs":
                    kind = "acs-key"
                else:
                    continue
            elif p.role == "secret":
                if "id" not in roles or not ("endpoint" in roles) or local:
                    continue
                if service not in (None, "appconfig") or not is_b64_key(v, 20):
                    continue
                kind, resource = "appconfig-secret", host.split(".", 1)[0]
            elif p.role == "password":
                if local or service is None:
                    continue
                user = cs.value("user")
                if service in ("sql", "postgres", "mysql"):
                    if not plausible_password(v, user):
                        continue
                    kind = "db-password"
                elif service == "redis":
                    if not plausible_token(v, 16):
                        continue
                    kind = "redis-key"
                elif service == "cosmos":
                    if not is_b64_key(v, 40):
                        continue
                    kind = "cosmos-key"
                else:
                    continue
                resource = host.split(".", 1)[0].replace("tcp:", "")
            if kind is None:
                continue
            exact = (p.role == "accountkey" and is_b64_bytes(v, 64)) or (
                p.role in ("sharedaccesskey", "accesskey") and is_b64_bytes(v, 32))
            sec = Secret(kind, seg.start + p.start, seg.start + p.end, v, "high" if exact else "medium",
                         "connection string", P_STRUCTURED, variant=variant)
            sec.resource = "" if "{" in resource or "}" in resource else resource  # templated names
            sec.host = host
            sec.setting = setting
            sec.extra = {"policy": cs.value("sharedaccesskeyname"), "entity": cs.value("entitypath"),
                         "service": service or "", "form": cs.form, "user": cs.value("user"),
                         "database": cs.value("database")}
            self.add(sec)

    # 8. command lines ---------------------------------------------------------------------------------
    def scan_command_lines(self) -> None:
        low = self.low
        seen: set[int] = set()
        for needle in ("azurecr.io", "--service-principal"):
            i = low.find(needle)
            while i >= 0:
                self.budget.tick()
                ls, le = self.line_bounds(i)
                if ls not in seen:
                    seen.add(ls)
                    self._command_line(ls, le)
                i = low.find(needle, i + 1)

    def _command_line(self, ls: int, le: int) -> None:
        low = self.low[ls:le]
        if " login" not in low and "login " not in low:
            if '"auth"' in low:
                self._docker_auth(ls, le)
            return
        sp = "--service-principal" in low
        acr = "azurecr.io" in low
        registry = _REGISTRY_RE.search(low) if acr else None  # once per line, not once per flag
        for m in _PASSWORD_FLAG_RE.finditer(self.text, ls, le):
            vs, ve = m.start(1), m.end(1)
            value = self.text[vs:ve]
            if value[:1] in QUOTES:
                value, vs, ve = value[1:-1], vs + 1, ve - 1
            if not value or allowlist.is_placeholder(value) or allowlist.is_reference(value):
                continue
            if value.startswith("-") or value.endswith((".pem", ".crt", ".pfx")):
                continue
            if sp:
                if formats.classify_aad(value):
                    continue  # reported by the identifiable scan
                if not plausible_token(value, 16):
                    continue
                s = Secret("entra-secret", vs, ve, value, "medium", "az login --service-principal password", P_STRUCTURED)
            elif acr:
                if not plausible_token(value, 16):
                    continue
                s = Secret("acr-key", vs, ve, value, "medium", "docker login password", P_STRUCTURED)
                s.resource = registry.group(1) if registry else ""
            else:
                continue
            self.add(s)

    def _docker_auth(self, ls: int, le: int) -> None:
        m = re.search(r'"auth"\s*:\s*"([A-Za-z0-9+/=]{16,512})"', self.text[ls:le])
        if not m:
            return
        raw = formats.b64decode_loose(m.group(1))
        if not raw or b":" not in raw:
            return
        user, _, pw = raw.partition(b":")
        if not plausible_token(pw.decode("latin-1"), 16):
            return
        s = Secret("acr-key", ls + m.start(1), ls + m.end(1), m.group(1), "medium",
                   "docker config auth for an Azure container registry", P_STRUCTURED)
        self.add(s)

    def scan_secure_strings(self) -> None:
        """PowerShell `ConvertTo-SecureString [-String] "<literal>" -AsPlainText`: a password in
        clear, a service principal's when the script names an application or tenant next to it."""
        low = self.low
        i = low.find("convertto-securestring")
        while i >= 0:
            self.budget.tick()
            ls, le = self.line_bounds(i)
            m = _SECURE_STRING_RE.match(self.text, i, le)
            if m and "-asplaintext" in low[ls:le]:
                vs, ve = m.start(2), m.end(2)
                value = self.text[vs:ve]
                a, b = self.lines_around(i, 3)
                window = low[a:b]
                if (plausible_token(value, 12) and not allowlist.looks_like_word_password(value)
                        and (self.permissive or any(w in window for w in _SP_WORDS))):
                    if not formats.classify_aad(value):  # a signed secret is reported by its own recogniser
                        s = Secret("entra-secret", vs, ve, value, "medium",
                                   "ConvertTo-SecureString -AsPlainText", P_STRUCTURED)
                        self.add(s)
            i = low.find("convertto-securestring", le)

    # 10. Entra refresh tokens and API Management Git keys -------------------------------------------
    def scan_refresh_tokens(self) -> None:
        for m in _REFRESH_TOKEN_RE.finditer(self.text):
            self.budget.tick()
            token = m.group(0)
            if not allowlist.entropy_ok(token, 24) or allowlist.is_placeholder(token):
                continue
            s = Secret("entra-refresh-token", m.start(), m.end(), token, "high", "Entra refresh token", P_FRAME)
            s.setting = self.setting_before(m.start())
            self.add(s)

    def scan_apim_git_keys(self) -> None:
        """`git&<expiry yyyymmddhhmm>&<64-byte key>`: the password of an API Management
        configuration repository (`<name>.scm.azure-api.net`)."""
        for m in _APIM_GIT_RE.finditer(self.text):
            self.budget.tick()
            key = m.group(1)
            if not is_b64_bytes(key, 64):
                continue
            s = Secret("apim-key", m.start(), m.end(), m.group(0), "high", "API Management Git credential",
                       P_FRAME, variant="repository (Git) key")
            h = self.hosts.nearest(m.start(), {"apim", "apim-management"}, 1500) if self.hosts.offsets else None
            s.resource = h[1] if h else ""
            s.setting = self.setting_before(m.start())
            self.add(s)

    # 9. Azure DevOps legacy PATs ------------------------------------------------------------------------
    def scan_ado(self) -> None:
        t = self.text
        # The sweep regex is slow on long text; a translated copy says in C whether any run of 52
        # base32 characters exists at all.
        has_run = b"a" * 52 in t.encode("ascii", "replace").translate(_BASE32_RUN_TABLE)
        for m in (_ADO_SWEEP_RE.finditer(t) if has_run else ()):
            self.budget.tick()
            token = m.group(0)
            kind = formats.is_ado_pat(token)
            if kind:
                s = Secret("devops-pat", m.start(), m.end(), token, "high", "Azure DevOps PAT, checksum verified",
                           P_CHECKSUM, variant=f"{kind} PAT")
                s.setting = self.setting_before(m.start())
                self.add(s)
        low = self.low
        i = low.find("_password=")
        while i >= 0:
            self.budget.tick()
            ls, le = self.region(i)  # not the whole line: a minified file is one huge line
            if low.find("dev.azure.com", ls, le) >= 0 or low.find("visualstudio.com", ls, le) >= 0:
                vs = i + len("_password=")
                ve = vs
                while ve < le and t[ve] not in STOP_VALUE and ve - vs < 512:
                    ve += 1
                val = t[vs:ve].strip("\"'")
                raw = formats.b64decode_loose(val) if val else None
                if raw and raw.isascii():
                    pat = raw.decode("ascii")
                    if formats.is_ado_pat(pat) or plausible_token(pat, 40):
                        s = Secret("devops-pat", vs, vs + len(val), val, "medium",
                                   ".npmrc _password (base64-encoded PAT)", P_STRUCTURED)
                        self.add(s)
            i = low.find("_password=", i + 10)


_QUOTE_RE = lazy_compile(r"[\"'`]")
# The registry name starts a word and gives nothing back: linear on long runs of letters.
_REGISTRY_RE = lazy_compile(r"(?<![a-z0-9-])([a-z0-9-]++)\.azurecr\.io")
_NAME_KEY_RE = lazy_compile(r"(?i)\bname[\"']?\s*[:=]\s*[\"']?$")
_VALUE_KEY_RE = lazy_compile(r"(?i)\b(?:value|secretValue)[\"']?\s*[:=]\s*(?=\S)")
_SECOND_ARG_RE = lazy_compile(r"(?:\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[A-Za-z_][A-Za-z0-9_.]{0,100})\s*,\s*")
_BICEP_PARAM_TYPE_RE = lazy_compile(r"(?:string|securestring|object|secureObject|int|bool|array)[ \t]*=(?!=)", re.I)
_SETTINGS_CALL_RE = lazy_compile(r"(?:pydantic\.|dataclasses\.)?(?:Field|field|SecretStr|SecretBytes|Secret)\([ \t]*(?:default[ \t]*=[ \t]*)?")
_DEFAULT_KW_RE = lazy_compile(r"\bdefault[ \t]*=[ \t]*(?=[\"'])")
_NEXT_LINE_ASSIGN_RE = lazy_compile(r"[ \t]*\r?\n(?:[ \t]{0,80}//[^\n]{0,200}\n){0,2}[ \t]{0,80}=(?![=>])")
_XML_KEY_ATTR_RE = lazy_compile(r"\b(?:key|name)[ \t]{0,4}=[ \t]{0,4}[\"']$")
_XML_VALUE_ATTR_RE = lazy_compile(r"[ \t]{1,40}value[ \t]{0,4}=[ \t]{0,4}[\"']")
_ANNOTATION_RE = lazy_compile(r"\s*[A-Za-z_][A-Za-z0-9_.\[\]| ]{0,60}=(?!=)")
_AAD_EDGE = formats.AAD_CHARS | frozenset("+/")
_SAS_LEFT_STOP = frozenset(" \t\r\n\"'`<>()[]{},?;|\\")
_SAS_LEFT_STOP_STR = " \t\r\n\"'`<>()[]{},?;|\\"
_URL_LEFT_STOP_STR = " \t\r\n\"'`<>()[]{},;|\\"
_SAS_TOKEN_RE = lazy_compile(r"[^ \t\r\n\"'`<>()\[\]{},;|\\#]{0,4096}")
_URL_LEFT_STOP = frozenset(" \t\r\n\"'`<>()[]{},;|\\")
_SAS_RIGHT_STOP = frozenset(" \t\r\n\"'`<>()[]{},;|\\#")
_SETTING_RE = lazy_compile(r"([A-Za-z_][A-Za-z0-9_.:\-]{0,80})[\"'\]]?\s*(?::|=|=>)\s*[\"'{]?\s*$")
_PASSWORD_FLAG_RE = lazy_compile(r"(?:(?<=\s)|^)(?:-p|--password|--client-secret|--secret)(?:[ \t]+|=)(\"[^\"\n]{1,512}\"|'[^'\n]{1,512}'|[^\s\"'|;&]{1,512})", re.M)
# Keys that say "a secret" but not whose: their parent key tells (`cosmos: {key: ...}`).
_GENERIC_LEAVES = frozenset({"key", "secret", "password", "pwd", "accesskey", "primarykey", "secondarykey", "apikey",
                             "key1", "key2", "sharedkey", "clientsecret", "token", "masterkey", "accountkey"})
# Parent keys that name an Azure service (`docSearch` is Algolia's, `search` alone proves nothing).
_AZURE_PARENTS = ("storage", "cosmos", "documentdb", "servicebus", "eventhub", "redis", "openai", "aoai", "cognitive",
                  "azureai", "aiservice", "azuresearch", "aisearch", "cognitivesearch", "signalr", "webpubsub",
                  "appconfig", "eventgrid", "batch", "iothub", "azure", "entra", "aad", "serviceprincipal")
# (no leading \b: a literal first character lets the regex engine skip ahead)
_GENERIC_LEAF_RE = lazy_compile(r"(?:key[12]?|secret|password|pwd|token)[\"']?[ \t]*:")
# Two literals joined: adjacent (`"a" "b"`, across a line break) or with `+`.
_ADJACENT_LITERALS_RE = lazy_compile(
    r"[\"'][ \t]*(?:\+[ \t]*)?(?:\\?\r?\n(?:[ \t]*#[^\n]{0,300}\n){0,2}[ \t]*(?:\+[ \t]*)?)?[rRbBuUfF]{0,2}[\"']")
_ESCAPE_FIRST_CHARS = "\\%&"  # the first character of every decoded.ESCAPE_HINTS
_DOC_SUFFIXES = (".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", ".html", ".htm")
# Languages whose string values are always quoted (Python is read by its own parser), Bicep included.
_CODE_SUFFIXES = (".go", ".cs", ".vb", ".fs", ".java", ".kt", ".kts", ".scala", ".groovy", ".js", ".mjs", ".cjs",
                  ".jsx", ".ts", ".mts", ".cts", ".tsx", ".rs", ".c", ".cc", ".cpp", ".cxx", ".h", ".hpp", ".m",
                  ".swift", ".dart", ".php", ".rb", ".bicep", ".bicepparam")
_COMMENT_STARTS = ("//", "/*", "*", "#", "--", "'", "<!--")
# Code after `=`/`:`: an identifier or member path (group 1: a member access), then maybe the
# opener of a call, index or composite literal and whatever follows it (group 2). Possessive: linear.
# Words joined by `_.-` (`dns_zone_partner_id`, `function-error-text`): a name, never a random token.
_WORDS_NAME_RE = lazy_compile(r"[A-Za-z]++(?:[_.-][A-Za-z]++)++")
# A further quoted item after a comma (blanks and one line break between): a list, not a pair.
_NEXT_ITEM_RE = lazy_compile(r"[ \t]*+,[ \t]*+\r?\n?[ \t]*+[\"'`]")
_CODE_VALUE_RE = lazy_compile(
    r"[A-Za-z_$][\w$]*+((?:(?:\.|::|\?\.|!\.)[A-Za-z_$][\w$]*+)++)?+([!?]?[({\[].*)?+"
)
# Permissive candidates (see scan_structure_candidates): a literal assigned to a structure-named key.
_CANDIDATE_LITERAL_RE = lazy_compile(
    r"(?i)\b(default|defaultvalue|value|key|password|secret|administrator_password|administrator_login_password"
    r"|sql_administrator_login_password|administratorloginpassword|access_key|client_secret)[\"']?[ \t]{0,8}[:=][ \t]{0,8}"
    r"[\"']([^\"'\r\n]{6,512})[\"']")
_CANDIDATE_B64_RE = lazy_compile(r"(?m)^[ \t]{1,40}[A-Za-z0-9_.-]{1,253}:[ \t]{0,8}[\"']?([A-Za-z0-9+/]{16,4096}={0,2})[\"']?[ \t]*$")
# Keys of the strings worth joining (connection strings, URLs with a SAS).
_BUILT_STRING_HINTS = ("accountkey", "sharedaccess", "accesskey", "password", "pwd=", "secret=", "sig=")
_SECURE_STRING_RE = lazy_compile(r"(?i)convertto-securestring(?:[ \t]++-string)?[ \t]++([\"'])([^\"'\r\n$`]{1,256})\1")
_SP_WORDS = ("applicationid", "appid", "clientid", "client_id", "serviceprincipal", "-tenant", "tenantid")
# Entra refresh token: version, client-info part, optional `.<digit>`, the `Ag...` body, optional tail.
# Possessive runs: each stops at the next '.', so a failed match never backtracks into them.
_REFRESH_TOKEN_RE = lazy_compile(
    r"(?<![A-Za-z0-9_.-])[01]\.A[A-Za-z0-9_-]{50,400}+(?:\.[0-9])?\.Ag[A-Za-z0-9_-]{250,8000}+"
    r"(?:\.A[A-Za-z0-9_-]{200,8000}+)?(?![A-Za-z0-9_-])")
_APIM_GIT_RE = lazy_compile(r"(?<![A-Za-z0-9])git&[0-9]{12}&([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])")
_ADO_SWEEP_RE = lazy_compile(r"(?<![A-Za-z0-9])[a-z2-7]{52}(?![A-Za-z0-9])")
_BASE32_RUN_TABLE = bytes(0x61 if (0x61 <= i <= 0x7A or 0x32 <= i <= 0x37) else 0x20 for i in range(256))
ADO_HINTS = ("dev.azure.com", "visualstudio.com", "azure_devops", "azure-devops", "azuredevops", "ado_pat", "ado-pat",
             "azdo", "vsts", "system_accesstoken", "personal access token", "personal_access_token", "ext_pat")

_CONN_HINT_ROLES = frozenset({"accountname", "sharedaccesskeyname", "hostname", "deviceid", "endpoint", "id",
                              "version", "endpointsuffix", "defaultendpointsprotocol"})
# Name classes whose values are checked against an exact key shape (64/32-byte base64, Entra
# formats): safe to read from a `name:VALUE` written without a space.
TIGHT_CLASSES = frozenset({"storage", "accountkey", "cosmos", "batch", "acs", "messaging", "iot", "signalr",
                           "webpubsub", "appconfig", "eventgrid", "entra"})
_CONN_KEYS = frozenset({"accountkey", "sharedaccesskey", "accesskey", "secret", "password", "pwd"})

_SERVICE_KIND = {
    "storage": "storage-key", "messaging": "messaging-key", "iot": "iot-key", "dps": "iot-key", "cosmos": "cosmos-key",
    "sql": "db-password", "postgres": "db-password", "mysql": "db-password", "redis": "redis-key",
    "appconfig": "appconfig-secret", "signalr": "signalr-key", "webpubsub": "webpubsub-key",
    "functions": "function-key", "ai": "ai-key", "search": "search-key", "acr": "acr-key", "batch": "batch-key",
    "maps": "maps-key", "eventgrid": "eventgrid-key", "acs": "acs-key", "apim": "apim-key", "apim-management": "apim-key",
    "devops": "devops-pat",
}


def _same_secret(value: str) -> str:
    """A secret's value as its encodings agree on it (`%2B`/`%2b`/`+`)."""
    return unquote(value) if "%" in value else value


def _maps_key(v: str) -> bool:
    return 40 <= len(v) <= 48 and bool(B64URL_RE.fullmatch(v)) and allowlist.entropy_ok(v, 16)


_PASSWORD_HOSTS = frozenset({"sql", "postgres", "mysql", "redis", "acr"})


def _password_services(name: str) -> frozenset[str]:
    """The services a password's name names (`POSTGRES_PASSWORD`, `sqlAdminPassword`), empty when
    it names none (`DB_PASSWORD`)."""
    listed = name_words(name)
    words, joined = set(listed), "".join(listed)
    named = set()
    if "postgres" in joined or words & {"pg", "psql", "pgsql"}:
        named.add("postgres")
    if "mysql" in joined or "mariadb" in joined:
        named.add("mysql")
    if words & {"mssql", "sqlserver", "azuresql", "tsql"}:
        named.add("sql")
    elif "sql" in words:  # `SQL_PASSWORD`: some SQL database (PostgreSQL and MySQL are too), not a cache or registry
        named |= {"sql", "postgres", "mysql"}
    if "redis" in joined:
        named.add("redis")
    if words & {"acr", "registry", "docker"}:
        named.add("acr")
    return frozenset(named)


def _db_name_service(nn: str) -> str | None:
    """A password variable whose name alone says 'Azure database'."""
    if nn in ("administratorloginpassword", "sqladministratorloginpassword"):
        return "azure-db"  # the ARM / Bicep property of Azure SQL, Synapse, PostgreSQL and MySQL servers
    if "azure" not in nn:
        return None
    for word, svc in (("sql", "sql"), ("postgres", "postgres"), ("pg", "postgres"), ("mysql", "mysql"),
                      ("redis", "redis"), ("acr", "acr"), ("registry", "acr")):
        if word in nn:
            return svc
    return None


_AI_WORDS = ("openai", "cognitive", "azureai", "aiservices", "aiservice", "speech", "translator", "vision",
             "formrecognizer", "documentintelligence", "textanalytics", "contentsafety", "luis", "faceapi",
             "anomalydetector", "personalizer", "languageservice", "aoai", "docintel", "azureaifoundry")


# With "secret", these words name an Entra application's client secret (AZUREAD-AKS-APPID-SECRET).
_ENTRA_APP_WORDS = frozenset({"appid", "app", "application", "client", "spn", "principal", "serviceprincipal",
                              "aad", "azuread", "entra"})

_CLASS_CACHE: dict[str, str | None] = {}
_CAMEL_RE = lazy_compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """`AZURE_OPENAI_API_KEY` / `azureOpenAIApiKey` / `x-functions-key` -> lower-case words."""
    return [w.lower() for w in _CAMEL_RE.findall(name)]


def classify_name(name: str) -> str | None:
    """Map a variable / key / header / flag name to the family of secret it may hold (cached)."""
    try:
        return _CLASS_CACHE[name]
    except KeyError:
        pass
    cls = _classify_name(name)
    if len(_CLASS_CACHE) < 50_000:
        _CLASS_CACHE[name] = cls
    return cls


def _classify_name(name: str) -> str | None:
    nn = _norm_name(name)
    if not nn or nn.startswith("public") or (nn.endswith(_DENY_SUFFIXES) and nn not in _CONN_KEYS):
        return None
    words = name_words(name)
    w = set(words)
    joined = "".join(words)
    if joined in ("azurekeycredential", "azurenamedkeycredential", "keycredential", "azuresascredential"):
        return "call"
    haskey = "key" in w or "apikey" in w or joined.endswith("key")
    if any(x in joined for x in ("clientsecret", "clientpassword", "spsecret", "serviceprincipalsecret",
                                 "spnsecret", "aadsecret", "entrasecret")) or (
            "secret" in w and w & _ENTRA_APP_WORDS):
        strong = bool(w & {"azure", "arm", "aad", "azuread", "entra", "msal", "spn", "az"}) or "serviceprincipal" in joined
        return "entra" if strong else "entra-weak"
    if "devops" in joined or w & {"ado", "azdo", "vsts", "pat"}:
        if haskey or w & {"pat", "token", "password"}:
            return "devops"
    if "redis" in joined and (haskey or w & {"password", "pass", "pwd", "secret"}):
        return "redis"
    if w & {"acr", "registry", "docker"} and w & {"password", "pass", "pwd", "secret", "passwd"}:
        return "acr"
    if w & {"password", "pass", "passwd", "pwd"} or joined.endswith("password"):
        return "password"
    if not haskey and not (w & {"credential", "credentials", "secret"}):
        return None
    if "storage" in joined:
        return "storage"
    if joined in ("accountkey", "azureaccountkey"):
        return "accountkey"
    if joined == "secret":
        return "secret"
    if "cosmos" in joined or "documentdb" in joined:
        return "cosmos"
    if "batch" in w:
        return "batch"
    if "servicebus" in joined or "eventhub" in joined or "relay" in w:
        return "messaging"
    if "iothub" in joined or w & {"iot", "dps"} or "devicekey" in joined:
        return "iot"
    if "signalr" in joined:
        return "signalr"
    if "webpubsub" in joined:
        return "webpubsub"
    if "appconfig" in joined:
        return "appconfig"
    if "eventgrid" in joined or "aegsas" in joined:
        return "eventgrid"
    if "communication" in w or "acs" in w:
        return "acs"
    if w & {"maps", "atlas"}:
        return "maps"
    if w & {"function", "functions"} or "azurewebjobs" in joined or joined == "hostkey":
        return "function"
    if "search" in w:
        return "search"
    if any(x in joined for x in _AI_WORDS) or w & {"ai", "aoai", "face", "luis", "speech", "vision"}:
        return "ai"
    if "ocpapimsubscriptionkey" in joined:
        return "ocp"
    if joined in ("apikey", "subscriptionkey", "azureapikey", "azurekey"):
        return "apikey"
    if joined in ("key", "key1", "key2", "accesskey", "primarykey", "secondarykey", "sharedkey", "authkey",
                  "credential", "primaryaccesskey", "secondaryaccesskey"):
        return "generic"
    if joined.endswith("accountkey"):  # DEFAULT_ACCOUNT_KEY, AzureDefaultAccountKey, SecondaryAccountKey
        return "accountkey"
    if words and words[-1] in ("key", "apikey"):
        return "keyish"  # any other *_KEY name: only an exact 64-byte key right next to its host
    return None


def credential_spans(doc: "Document") -> list[tuple[int, int]]:
    """Offsets of every credential-looking value in the text, whatever suppressions say: what
    `scan` finds plus any value assigned to a credential-like name (`api_key="..."`,
    `credential=...`, `AzureKeyCredential("...")`) that is not a placeholder or a reference.
    For masking text shown to people (diffs); memoised."""
    spans = doc.memo.get(MASK_MEMO_KEY)
    if spans is None:
        found = {(s.start, s.end) for s in scan(doc)}
        loose = {(s.start, s.end) for s in Scanner(doc, loose=True).run()}
        found.update(cells.code_cell_spans(doc, loose, lambda d: Scanner(d, loose=True).run()))
        spans = doc.memo[MASK_MEMO_KEY] = sorted(found)
    return spans


def scan(doc: "Document") -> list[Secret]:
    """All secrets in the document (memoised: every KL1xx rule shares one scan)."""
    cached = doc.memo.get(MEMO_KEY)
    if cached is None:
        cached = cells.with_code_cells(doc, Scanner(doc).run(), lambda d: Scanner(d).run())
        doc.memo[MEMO_KEY] = cached
    return cached
