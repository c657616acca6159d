"""Inline suppressions: `keyless: ignore[KL101, KL102] reason` in any comment syntax.

A comment on line N covers findings that start on line N (trailing comment) or N+1 (comment on the
line above). The reason is mandatory (`is_real_reason`: a placeholder such as `TODO: reason` is no
reason) and unknown codes never suppress anything: both problems are reported by the meta rules
KL190/KL191 (keyless/rules/meta.py), which reuse `parse_directives`.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyless.linter.lazyre import lazy_compile

MARKER = "keyless:"
# `keyless: ignore[...]` must sit in a comment: some comment opener precedes it on the line. The
# code list stops at the next `keyless:` (else every unclosed `ignore[` rescans the whole line).
_DIRECTIVE = lazy_compile(r"keyless:[ \t]*+ignore[ \t]*+\[((?:(?!keyless:)[^\]\r\n])*+)\]([^\r\n]*)")
_COMMENT_OPENERS = ("#", "//", "/*", "<!--", ";", "--", "{#", "@*", "'", "REM ", "rem ")
_CLOSERS = lazy_compile(r"(\*/|-->|#}|\*@)\s*$")
# A comment written in a JSON string (a notebook cell's source line) ends with the string's `\n",`
# (and, in compact JSON, the closing brackets).
_JSON_LINE_END = lazy_compile(r'(?:\\n)?"[\s,\]}]*$')
_CODE_SPLIT = lazy_compile(r"[\s,]+")
_LINES = lazy_compile(r"\r\n|\r|\n")


# Words that only stand in for a reason (what an editor or a hurried hand types in its place).
_PLACEHOLDER_WORDS = frozenset("""
    todo fixme xxx tbd tbc wip reason reasons here why because n a an na none null nil placeholder add
    write explain explanation fill in me insert your the later ignore ignored suppress suppressed
""".split())
_WORD = lazy_compile(r"[^\W_]+")


def is_real_reason(reason: str) -> bool:
    """True for a reason a reviewer can act on: a word of two or more letters or digits that is not
    a placeholder. Not a reason: nothing, one character, punctuation only, or placeholder words only
    (`TODO`, `TODO: reason`, `FIXME`, `xxx`, `...`, `n/a`, `<reason>`).
    The one definition KL190, the suppression map and the editor's quick fix share."""
    return any(len(w) >= 2 and w not in _PLACEHOLDER_WORDS for w in _WORD.findall(reason.lower()))


@dataclass(frozen=True, slots=True)
class Directive:
    line: int  # 1-based line of the comment
    column: int  # 1-based column of `keyless:`
    end_column: int
    codes: tuple[str, ...]  # as written (normalised to upper case)
    reason: str


def parse_directives(text: str) -> list[Directive]:
    if MARKER not in text:
        return []
    out: list[Directive] = []
    line_no = 0
    for line in _LINES.split(text):  # \n, \r\n, \r only: the same lines as LineIndex
        line_no += 1
        if MARKER not in line:
            continue
        for m in _DIRECTIVE.finditer(line):
            before = line[: m.start()]
            if not any(op in before for op in _COMMENT_OPENERS):
                continue
            codes = tuple(c.upper() for c in _CODE_SPLIT.split(m.group(1).strip()) if c)
            reason = _CLOSERS.sub("", _JSON_LINE_END.sub("", m.group(2))).strip().lstrip(":-–— \t").strip()
            out.append(Directive(line_no, m.start() + 1, m.end() + 1, codes, reason))
    return out


def suppression_map(directives: list[Directive], known: set[str], aliases: dict[str, str]) -> dict[int, frozenset[str]]:
    """line -> codes suppressed there. Only known codes (or rule names) with a real reason count."""
    by_line: dict[int, set[str]] = {}
    for d in directives:
        if not is_real_reason(d.reason):
            continue
        codes = set()
        for c in d.codes:
            if c in known:
                codes.add(c)
            elif c.lower() in aliases:
                codes.add(aliases[c.lower()])
        if not codes:
            continue
        for line in (d.line, d.line + 1):
            by_line.setdefault(line, set()).update(codes)
    return {k: frozenset(v) for k, v in by_line.items()}
