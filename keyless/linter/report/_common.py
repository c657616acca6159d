"""Helpers shared by several output formats (kept free of heavy imports)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

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


@lru_cache(maxsize=1)
def docs_base_url() -> str | None:
    """The project's documentation URL from the package metadata (`[project.urls]`), if any:
    `Documentation`, else `Homepage` / `Repository` / `Source`."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        entries = metadata(TOOL_NAME).get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):  # pragma: no cover - not installed
        return None
    urls: dict[str, str] = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        if url.strip().startswith(("https://", "http://")):
            urls[label.strip().lower()] = url.strip()
    for label in ("documentation", "docs", "homepage", "repository", "source"):
        if label in urls:
            return urls[label]
    return None


def rule_url(code: str) -> str | None:
    """Where a rule is documented: `<docs URL>#kl101`, or None when the package declares no URL
    (then `keyless explain KL101` is the documentation)."""
    base = docs_base_url()
    return f"{base.split('#', 1)[0]}#{code.lower()}" if base else None


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


HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def doc_sections(doc: str) -> dict[str, str]:
    """Markdown `## Heading` sections of a rule docstring, keyed by lower-case heading; text before
    the first heading is keyed ''."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    in_code = False
    for line in doc.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        m = None if in_code else HEADING_RE.match(line)
        if m:
            current = m.group(1).strip().lower()
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
_UNSAFE = re.compile(f"[{_UNPRINTABLE}]|(?<=##)\\[|(?<=##[vV][sS][oO])\\[")
_CI_MARKER = re.compile(r"(?<=##)\[|(?<=##[vV][sS][oO])\[")
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
