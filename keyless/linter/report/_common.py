"""Helpers shared by several output formats (kept free of heavy imports)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from keyless.linter.lazyre import lazy_compile
from keyless.linter.finding import Applicability, Category

if TYPE_CHECKING:
    from keyless.linter.finding import Finding
    from keyless.linter.rule import Rule

TOOL_NAME = "keyless"

FIX_MARKERS = {
    Applicability.SAFE: "[*]",
    Applicability.UNSAFE: "[unsafe]",
    Applicability.DISPLAY_ONLY: "[guidance]",
}

# One CWE per category; a rule may override with a `cwe` class attribute (int or tuple of ints).
CWE_BY_CATEGORY = {
    Category.SECRET: (798,),  # Use of Hard-coded Credentials
    Category.KEY_AUTH: (522,),  # Insufficiently Protected Credentials (long-lived shared keys)
    Category.MISSING_IDENTITY: (522,),  # no identity: the app has to hold a credential
    Category.BROAD_ROLE: (732,),  # Incorrect Permission Assignment for Critical Resource
    Category.AMBIGUOUS_IDENTITY: (287,),  # Improper Authentication (which principal signs in?)
}

# GitHub code scanning precision; a rule may override with a `precision` class attribute.
PRECISION_BY_CATEGORY = {
    Category.SECRET: "high",
    Category.KEY_AUTH: "high",
    Category.MISSING_IDENTITY: "medium",
    Category.BROAD_ROLE: "high",
    Category.AMBIGUOUS_IDENTITY: "medium",
}
PRECISIONS = ("very-high", "high", "medium", "low")


def tool_version() -> str:
    from keyless import __version__

    return __version__


RULE_PAGES = "docs/rules"  # docs/rules/<CODE>.md in keyless's repository, generated from the registry


@lru_cache(maxsize=1)
def project_source() -> tuple[str, str] | None:
    """Where this keyless comes from, for links to its rule pages: (repository URL, revision).

    - A `Repository` (else `Source`, `Homepage`) entry of `[project.urls]` in the package metadata,
      at the release tag `v<version>`;
    - else, for an install from a git URL (`pip install git+https://host/org/keyless@REV`), the
      URL and the commit pip recorded (PEP 610 `direct_url.json`).

    None otherwise (an install from a local directory): reports then carry no links, and
    `keyless explain CODE` is the documentation. Only https URLs count, and never their user
    information (a token in the install URL must not reach a report)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        dist = distribution(TOOL_NAME)
    except (ImportError, PackageNotFoundError):  # pragma: no cover - not installed
        return None
    urls: dict[str, str] = {}
    for entry in dist.metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in ("repository", "source", "homepage"):
        base = _public_https(urls.get(label, ""))
        if base:
            return base, f"v{dist.version}"
    try:
        import json

        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except (ValueError, OSError):
        return None
    vcs = direct.get("vcs_info") if isinstance(direct, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and isinstance(vcs.get("commit_id"), str):
        base = _public_https(str(direct.get("url", "")))
        if base and re.fullmatch(r"[0-9a-f]{7,64}", vcs["commit_id"]):
            return base, vcs["commit_id"]
    return None


def _public_https(url: str) -> str | None:
    """`url` without user information, query, fragment and a trailing `.git`; None unless https."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if parts.scheme != "https" or not host:
        return None
    path = parts.path.rstrip("/")
    path = path[: -len(".git")] if path.endswith(".git") else path
    return urlunsplit(("https", host + port, path, "", ""))


def project_url() -> str | None:
    """The repository's URL (SARIF `tool.driver.informationUri`), when known."""
    source = project_source()
    return source[0] if source else None


def rule_url(code: str) -> str | None:
    """The rule's page, docs/rules/<CODE>.md, in the repository at the installed revision (file
    links as GitHub, GitLab, Bitbucket and Azure Repos write them); None when unknown."""
    source = project_source()
    if source is None:
        return None
    base, rev = source
    from urllib.parse import quote

    host = base.split("/", 3)[2].lower()
    page = f"{RULE_PAGES}/{code}.md"
    if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        kind = "GC" if re.fullmatch(r"[0-9a-f]{40}", rev) else "GT"
        return f"{base}?path=/{page}&version={kind}{quote(rev, safe='')}"
    if "gitlab" in host:
        return f"{base}/-/blob/{quote(rev, safe='')}/{page}"
    if host == "bitbucket.org":
        return f"{base}/src/{quote(rev, safe='')}/{page}"
    return f"{base}/blob/{quote(rev, safe='')}/{page}"


def rule_cwes(rule: "type[Rule] | None", category: Category) -> tuple[int, ...]:
    cwe = getattr(rule, "cwe", None)
    if isinstance(cwe, int):
        return (cwe,)
    if isinstance(cwe, (tuple, list)) and all(isinstance(c, int) for c in cwe):
        return tuple(cwe)
    return CWE_BY_CATEGORY.get(category, ())


def rule_precision(rule: "type[Rule] | None", category: Category) -> str:
    precision = getattr(rule, "precision", None)
    if precision in PRECISIONS:
        return precision
    return PRECISION_BY_CATEGORY.get(category, "medium")


_HEADING_MARK = lazy_compile(r"#{1,6}\s+")


def heading(line: str) -> str | None:
    """The text of a Markdown `## Heading` line without its closing `#`s, else None. Trimmed in
    Python: one regex that did it all (lazy text, then optional blanks, hashes, blanks) backtracked
    cubically on `# a` followed by long runs of blanks."""
    m = _HEADING_MARK.match(line)
    return None if m is None else line[m.end():].rstrip().rstrip("#").rstrip()


def doc_sections(doc: str) -> dict[str, str]:
    """Markdown `## Heading` sections of a rule docstring, keyed by lower-case heading; text before
    the first heading is keyed ''."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    in_code = False
    for line in doc.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        title = None if in_code else heading(line)
        if title is not None:
            current = title.strip().lower()
            sections.setdefault(current, [])
        else:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def rule_description(rule: "type[Rule]") -> str:
    """One paragraph: the text before the first heading, else the first paragraph of
    `## What it does`, else the rule's message."""
    sections = doc_sections(rule.docs())
    for key in ("", "what it does"):
        body = sections.get(key, "")
        if body:
            return " ".join(body.split("\n\n", 1)[0].split())
    return rule.message


def is_pseudo_path(path: str) -> bool:
    """`<project>`, `<stdin>`...: a FileError about no particular file."""
    return path.startswith("<") and path.endswith(">")


def occurrence_indexes(findings: Iterable["Finding"]) -> list[int]:
    """0 for the first finding with a given (code, path, fingerprint), 1 for the second...
    Lets formats that need unique IDs keep them stable without using line numbers."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for f in findings:
        key = (f.code, f.path, f.fingerprint)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(n)
    return out


def dump_json(obj: Any, *, compact: bool = False) -> str:
    # ASCII output: machine formats survive any stdout encoding; parsers read \u escapes. CI
    # command markers inside strings (a fix's code, say) are written with a \u escape too, which
    # every JSON reader decodes back to the same text.
    import json

    if compact:
        text = json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n"
    else:
        text = json.dumps(obj, ensure_ascii=True, indent=2) + "\n"
    return _CI_MARKER.sub(r"\\u005b", text)


# What a file name or a message must never carry into a terminal or a CI log (docs/output-formats.md,
# "Untrusted text"): C0/C1 control characters, bidirectional controls ("Trojan Source") and line
# separators, lone surrogates (bytes of a file name that are not UTF-8), and the `[` that makes a
# CI log command: Azure Pipelines runs the first `##vso[` anywhere on a line, GitHub Actions a
# `##[` anywhere and a `::` at the start of a line.
_UNPRINTABLE = "\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = lazy_compile(f"[{_UNPRINTABLE}]|(?<=##)\\[|(?<=##[vV][sS][oO])\\[")
_CI_MARKER = lazy_compile(r"(?<=##)\[|(?<=##[vV][sS][oO])\[")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    named = _NAMED.get(c)
    if named:
        return named
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that is not UTF-8, kept by surrogateescape: show the byte
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def printable(s: str) -> str:
    """`s` as every output shows untrusted text (file names, messages): the characters above as
    backslash escapes (`\\n`, `\\x1b`, `\\u202e`, `\\xff` for a non-UTF-8 byte, `##\\x5b`), and a
    leading `::` as `\\x3a:`. The result is one line of valid Unicode that no terminal or CI
    runner acts on. Plain text, including non-ASCII letters, is unchanged."""
    out = _UNSAFE.sub(_escape, s)
    rest = out.lstrip()
    if rest.startswith("::"):  # GitHub runs a workflow command at the start of a line (after blanks)
        out = out[: len(out) - len(rest)] + "\\x3a" + rest[1:]
    return out


def uri_path(path: str) -> str:
    """A relative path as a URI reference: percent-encoded UTF-8, and a non-UTF-8 byte (kept by
    surrogateescape) as itself, so the URI names exactly the file's bytes."""
    from urllib.parse import quote

    return quote(path.encode("utf-8", "surrogateescape"), safe="/")
