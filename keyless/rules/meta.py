"""Rules about keyless's own suppression comments."""

from __future__ import annotations

import re

from keyless.linter.finding import Category, Severity, Span, redact
from keyless.linter.rule import Rule, load_registry
from keyless.linter.suppression import is_real_reason, parse_directives


class SuppressionWithoutReason(Rule):
    """A `keyless: ignore[...]` comment that gives no real reason.

    ## What it does
    Flags suppression comments with no explanation after the codes, e.g.
    `# keyless: ignore[KL101]`, or only a placeholder: one character, punctuation, or words that
    stand in for a reason (`TODO`, `TODO: reason`, `FIXME`, `xxx`, `...`, `n/a`, `<reason>`).
    Such a comment suppresses nothing: the finding it names stays reported.

    ## Why is this bad?
    A suppressed secret finding is a decision somebody will have to re-check later (is this key
    really an emulator key? was it rotated?). Without the reason, nobody can. Secret scanners whose
    suppressions need no reason accumulate silent exceptions.

    ## Example
    ```python
    KEY = "..."  # keyless: ignore[KL101]
    ```

    ## Use instead
    ```python
    KEY = "..."  # keyless: ignore[KL101] Azurite emulator key, only used by tests
    ```

    ## Fix safety
    No fix: only a person can write the reason.
    """

    code = "KL190"
    name = "suppression-without-reason"
    category = Category.SECRET  # suppressions exist to silence findings; this keeps the gate honest
    history_scan = False  # about today's directives, not about what a commit leaked
    key_is_secret = False  # keys are rule codes
    severity = Severity.MEDIUM
    message = "Suppression comment has no reason; it suppresses nothing until one is written"
    keywords = ("keyless:",)
    cwe = ()  # not a credential weakness: no CWE tag in SARIF

    def check(self, doc):
        for d in parse_directives(doc.text):
            if not is_real_reason(d.reason):
                span = Span.of(d.line, d.column, d.line, d.end_column)
                msg = None if not d.reason.strip() else (
                    "Suppression reason is a placeholder, not a reason; it suppresses nothing until one is written")
                yield self.finding(doc.relpath, span, key=f"{','.join(d.codes)}", message=msg)


class UnknownSuppressionCode(Rule):
    """A `keyless: ignore[...]` comment naming a code that does not exist.

    ## What it does
    Flags suppression comments whose codes are not keyless rule codes or rule names.

    ## Why is this bad?
    A typo in a suppression must never turn into a blanket suppression. keyless ignores unknown
    codes (the finding stays), and this rule tells you the comment is not doing what you meant.

    ## Example
    ```yaml
    # keyless: ignore[KL1O1] test key
    ```

    ## Use instead
    ```yaml
    # keyless: ignore[KL101] test key
    ```

    ## Fix safety
    No fix.
    """

    code = "KL191"
    name = "unknown-suppression-code"
    category = Category.SECRET
    history_scan = False
    key_is_secret = False  # keys are the unknown codes
    severity = Severity.MEDIUM
    message = "Suppression names an unknown rule code"
    keywords = ("keyless:",)
    cwe = ()  # not a credential weakness: no CWE tag in SARIF

    def check(self, doc):
        reg = load_registry()
        for d in parse_directives(doc.text):
            unknown = [c for c in d.codes if reg.get(c) is None]
            if unknown or not d.codes:
                span = Span.of(d.line, d.column, d.line, d.end_column)
                key = ", ".join(unknown) if unknown else "no code"
                yield self.finding(doc.relpath, span, key=key,
                                   message=f"Suppression names an unknown rule code ({shown_codes(unknown)}); "
                                           "it suppresses nothing")


# What KL191 may echo of the text inside `ignore[...]`: code- or name-like words, a few of them.
# Anything else (a pasted key, control characters, a long line) shows only as a redacted token.
_CODE_LIKE = re.compile(r"[A-Z][A-Z0-9_.-]{0,23}")
_SHOWN_CODES = 3


def shown_codes(unknown: list[str]) -> str:
    if not unknown:
        return "no code"
    shown = [c if _CODE_LIKE.fullmatch(c) else redact(c) for c in unknown[:_SHOWN_CODES]]
    more = len(unknown) - _SHOWN_CODES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


RULES = [SuppressionWithoutReason, UnknownSuppressionCode]
