"""What a finding's text may look like (docs/architecture.md, "Messages").

A message is ONE short line, ruff style: what is wrong, which resource/secret/setting (redacted),
and a one-phrase fix. The detail goes into the fix message ("help", also one line), the rule
docstring (`keyless explain`, SARIF `help.markdown`). tests/test_fixtures.py holds every finding of
every fixture to these limits, so a new rule keeps to them.
"""

from __future__ import annotations

from keyless.linter.lazyre import lazy_compile

MESSAGE_MAX = 120  # characters of a finding's message
HELP_MAX = 240  # characters of a fix message ("help:" in text output)
NAME_MAX = 32  # characters of a name taken from the scanned file (resource, setting) in a message

# Tests set this: a text over its limit is then left as it is, so the harness sees which rule
# composed it (the shortening below is a safety net, not how rules are meant to fit).
STRICT = False

_CONTROL = lazy_compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def short_name(name: str, limit: int = NAME_MAX) -> str:
    """A name from the scanned file as messages show it: at most `limit` characters, the middle
    elided (`{{ include "orders.ful…ame" . }}`), so a long expression or generated name never
    pushes the message past its limit. Never used on secrets (they go through `redact()`)."""
    if len(name) <= limit:
        return name
    head = (limit - 1) // 2 + (limit - 1) % 2
    return name[:head] + "…" + name[len(name) - (limit - 1 - head):]


def problems(text: str, limit: int, *, what: str = "message") -> list[str]:
    """Why `text` breaks the rules for a finding's message (or, with `what="help"`, its fix
    message); empty when it keeps them."""
    out = []
    if not text or not text.strip():
        out.append(f"empty {what}")
    if _CONTROL.search(text):
        out.append(f"{what} holds a line break or control character")
    if "\\n" in text:
        out.append(f"{what} holds a literal \\n")
    if len(text) > limit:
        out.append(f"{what} is {len(text)} characters (limit {limit})")
    if text != text.strip():
        out.append(f"{what} has leading or trailing blanks")
    return out


def trim_notes(text: str, limit: int = HELP_MAX) -> str:
    """`text` without its last parenthesised notes (` (API version ... defaults to false)`), one at
    a time from the end, until it is at most `limit` characters (or has no note left to drop)."""
    while len(text) > limit and text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += (text[i] == ")") - (text[i] == "(")
            if depth == 0:
                break
        if i == 0 or text[i - 1] != " ":
            break  # not a note: a call's closing parenthesis
        text = text[: i - 1]
    return text


def first_fitting(*candidates: str, limit: int = MESSAGE_MAX) -> str:
    """The first candidate message (fullest first) of at most `limit` characters, else the last."""
    return next((c for c in candidates if len(c) <= limit), candidates[-1])


def fit(text: str, notes: list[str], limit: int = HELP_MAX) -> str:
    """`text` and the notes that fit in `limit` characters, as ` (note; note)`: a help line keeps
    its instruction and adds as much context (where a value came from, why) as the limit leaves."""
    kept: list[str] = []
    for note in filter(None, notes):
        if len(text) + len(" (" + "; ".join(kept + [note]) + ")") <= limit:
            kept.append(note)
    return f"{text} ({'; '.join(kept)})" if kept else text


def fitting_list(items: list[str], room: int) -> str:
    """`a, b and c` in at most `room` characters: the items (repeats dropped) that fit, then
    `and N more`; at least the first item whatever its length."""
    items = list(dict.fromkeys(items))
    for k in range(len(items), 0, -1):
        rest = len(items) - k
        words = items[:k] + ([f"{rest} more"] if rest else [])
        text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        if len(text) <= room or k == 1:
            return text
    return ""


def drop_notes(text: str, limit: int = HELP_MAX) -> str:
    """`text` without its parenthesised notes (` (or Reader to read only)`), the last first and
    wherever they are, until it is at most `limit` characters. A note is a top-level group that
    follows a blank: a call's parentheses (`guid(a, b)`) are never one."""
    while len(text) > limit:
        notes, depth, start = [], 0, -1
        for i, ch in enumerate(text):
            if ch == "(":
                if depth == 0:
                    start = i
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
                if depth == 0 and start > 0 and text[start - 1] == " ":
                    notes.append((start - 1, i + 1))
        if not notes:
            return text
        begin, end = notes[-1]
        text = text[:begin] + text[end:]
    return text


def held_to(text: str, limit: int) -> str:
    """`text` at most `limit` characters, for every finding whatever composed it (a third-party
    rule, names from a big project): its notes dropped from the end, then cut at a word with `…`.
    Secrets reach messages already redacted, so a cut never shows more of one."""
    if len(text) <= limit or STRICT:
        return text
    text = drop_notes(text, limit)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    blank = cut.rfind(" ")
    if blank > limit // 2:
        cut = cut[:blank]
    return cut.rstrip(" ,;:(") + "…"
