"""Rule documentation from the registry: `keyless rules`, `keyless explain`, and the pages under
docs/rules/ (generated with `keyless explain --all --format markdown --output-dir docs/rules`; a
test keeps them in sync). Also where a rule lives: its code, fixtures and tests, so a newcomer goes
from a code to everything about it in one step."""

from __future__ import annotations

import inspect
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Iterable

from keyless.linter.report._common import FIX_MARKERS

if TYPE_CHECKING:
    from keyless.linter.rule import Registry, Rule

# The repository layout: fixtures/<CODE>/ and tests/ next to the keyless package in a checkout
# (not in an installed copy, where the package's parent is site-packages).
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKOUT = os.path.dirname(_PACKAGE_DIR)
IN_CHECKOUT = all(os.path.exists(os.path.join(CHECKOUT, name)) for name in ("pyproject.toml", "fixtures", "tests"))
RULE_PAGES_DIR = "docs/rules"


def fix_label(rule: "type[Rule]") -> str:
    return rule.fix_applicability.value if rule.fix_applicability else "none"


def source_file(rule: "type[Rule]") -> tuple[str, int | None]:
    """The rule class's file, relative to the directory holding its top-level package
    (`keyless/rules/secrets/storage.py` for a built-in rule), and its first line when known."""
    module = sys.modules.get(rule.__module__)
    top = sys.modules.get(rule.__module__.split(".", 1)[0])
    try:
        path = inspect.getsourcefile(rule) or ""
        line: int | None = inspect.getsourcelines(rule)[1]
    except (TypeError, OSError):
        path, line = getattr(module, "__file__", "") or "", None
    base = os.path.dirname(os.path.dirname(os.path.abspath(top.__file__))) if getattr(top, "__file__", None) else ""
    if path and base and os.path.abspath(path).startswith(base + os.sep):
        path = os.path.relpath(os.path.abspath(path), base)
    return path.replace(os.sep, "/"), line


def fixtures_dir(code: str) -> str | None:
    """`fixtures/<CODE>` when this keyless runs from a checkout that has it."""
    return f"fixtures/{code}" if IN_CHECKOUT and os.path.isdir(os.path.join(CHECKOUT, "fixtures", code)) else None


def tests_naming(code: str) -> list[str]:
    """Test files of the checkout that name the code (besides the fixtures harness)."""
    tests = os.path.join(CHECKOUT, "tests")
    if not IN_CHECKOUT:
        return []
    pattern = re.compile(rf"\b{re.escape(code)}\b")
    found = []
    for name in sorted(os.listdir(tests)):
        if name.endswith(".py") and name.startswith("test_"):
            try:
                with open(os.path.join(tests, name), encoding="utf-8") as fh:
                    if pattern.search(fh.read()):
                        found.append(f"tests/{name}")
            except (OSError, UnicodeDecodeError):
                continue
    return found


def location(rule: "type[Rule]", *, with_tests: bool = True) -> dict[str, Any]:
    path, line = source_file(rule)
    out: dict[str, Any] = {
        "module": rule.__module__,
        "class": rule.__qualname__,
        "file": path,
        "line": line,
        "fixtures": fixtures_dir(rule.code),
    }
    if with_tests:
        out["tests"] = tests_naming(rule.code)
    return out


def where_lines(rule: "type[Rule]") -> list[str]:
    """`keyless explain`'s "where it lives" block."""
    loc = location(rule)
    lines = [f"Code:     {loc['file']}{':' + str(loc['line']) if loc['line'] else ''} "
             f"({loc['module']}.{loc['class']})"]
    if loc["fixtures"]:
        lines.append(f"Fixtures: {loc['fixtures']}/ (bad* must be flagged, good* must not; "
                     "tests/test_fixtures.py checks them)")
    else:
        lines.append(f"Fixtures: fixtures/{rule.code}/ in the source repository")
    if loc["tests"]:
        lines.append(f"Tests:    {', '.join(loc['tests'])}")
    return lines


def rule_json(rule: "type[Rule]", *, with_tests: bool = True) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "category": rule.category.value,
        "severity": rule.severity.value,
        "summary": rule.summary(),
        "message": rule.message,
        "kinds": sorted(rule.kinds),
        "fix": rule.fix_applicability.value if rule.fix_applicability else None,
        "status": rule.status,
        "since": rule.since,
        "explanation": rule.docs(),
        "source": location(rule, with_tests=with_tests),
    }


def explain_text(rule: "type[Rule]") -> str:
    head = [
        f"# {rule.name} ({rule.code})",
        "",
        f"Category: {rule.category.value}  Severity: {rule.severity.value}  Fix: {fix_label(rule)}  "
        f"File kinds: {', '.join(sorted(rule.kinds))}",
        *where_lines(rule),
        "",
    ]
    return "\n".join(head) + "\n" + rule.docs() + "\n"


def _demote(doc: str) -> str:
    """The docstring under a page title: its `## ` headings stay level 2; a `# ` heading becomes
    level 2 too, so a page has exactly one title."""
    out, in_code = [], False
    for line in doc.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        out.append("#" + line if not in_code and re.match(r"# ", line) else line)
    return "\n".join(out)


def rule_page(rule: "type[Rule]") -> str:
    """docs/rules/<CODE>.md: stable content only (no line numbers, no test list, which move with
    every edit elsewhere); `keyless explain CODE` gives those."""
    loc = location(rule, with_tests=False)
    fixtures = loc["fixtures"] or f"fixtures/{rule.code}"
    lines = [
        f"# {rule.code} {rule.name}",
        "",
        "<!-- Generated from the rule registry by `keyless explain --all --format markdown "
        f"--output-dir {RULE_PAGES_DIR}`; do not edit. -->",
        "",
        "| Category | Severity | Fix | File kinds | Status |",
        "|---|---|---|---|---|",
        f"| {rule.category.value} | {rule.severity.value} | {fix_label(rule)} | "
        f"{', '.join(sorted(rule.kinds))} | {rule.status} since {rule.since} |",
        "",
        f"Code: [`{loc['file']}`](../../{loc['file']}) (`{loc['class']}`). "
        f"Fixtures: [`{fixtures}/`](../../{fixtures}/), checked by `tests/test_fixtures.py`. "
        f"Tests that name the rule: `keyless explain {rule.code}` lists them.",
        "",
        _demote(rule.docs()),
        "",
    ]
    return "\n".join(lines)


def rules_index(registry: Iterable["type[Rule]"]) -> str:
    lines = [
        "# keyless rules",
        "",
        "<!-- Generated from the rule registry by `keyless explain --all --format markdown "
        f"--output-dir {RULE_PAGES_DIR}`; do not edit. -->",
        "",
        "| Code | Name | Category | Severity | Fix |",
        "|---|---|---|---|---|",
    ]
    for rule in registry:
        lines.append(f"| [{rule.code}]({rule.code}.md) | `{rule.name}` | {rule.category.value} | "
                     f"{rule.severity.value} | {fix_label(rule)} |")
    return "\n".join(lines) + "\n"


def all_pages(registry: "Registry") -> dict[str, str]:
    """File name -> content of every page under docs/rules/."""
    pages = {"README.md": rules_index(registry)}
    for rule in registry:
        pages[f"{rule.code}.md"] = rule_page(rule)
    return pages


def all_markdown(registry: "Registry") -> str:
    """Every page in one Markdown document (`keyless explain --all --format markdown`)."""
    return "\n".join(rule_page(rule) for rule in registry)


def write_pages(registry: "Registry", directory: str) -> list[str]:
    """Write every page (and remove stale KLxxx.md pages of rules that no longer exist)."""
    os.makedirs(directory, exist_ok=True)
    pages = all_pages(registry)
    for name in os.listdir(directory):
        if re.fullmatch(r"KL[0-9]{3}\.md", name) and name not in pages:
            os.remove(os.path.join(directory, name))
    written = []
    for name, text in pages.items():
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        written.append(path)
    return written


# ---- `keyless rules` ------------------------------------------------------------------------------

def rules_text(registry: "Registry") -> str:
    from keyless.linter.documents import KIND_FILES
    from keyless.linter.finding import CATEGORY_BY_DIGIT, Applicability, Category

    width = max(len(m) for m in FIX_MARKERS.values())
    cat_width = max(len(c.value) for c in Category)
    lines = []
    for rule in registry:
        marker = FIX_MARKERS.get(rule.fix_applicability, "") if rule.fix_applicability else ""
        lines.append(f"{rule.code}  {marker:<{width}}  {rule.category.value:<{cat_width}}  "
                     f"{rule.severity.value:<8}  {rule.name}")
    lines += [
        "",
        "Legend:",
        f"  fix       {FIX_MARKERS[Applicability.SAFE]} safe (--fix applies it)  "
        f"{FIX_MARKERS[Applicability.UNSAFE]} needs --unsafe-fixes  "
        f"{FIX_MARKERS[Applicability.DISPLAY_ONLY]} advice only, never applied  (blank: no fix)",
        "  category  " + ", ".join(f"{c.value} KL{d}xx" for d, c in CATEGORY_BY_DIGIT.items()),
        "  severity  info < low < medium < high < critical (--severity hides findings below a level)",
        "  select    ALL, a category (--select secret), a code or prefix (KL101, KL1) or a rule name",
        "",
        "File kinds (`keyless explain CODE` names the kinds a rule reads):",
    ]
    for kind, files in KIND_FILES.items():
        lines.append(f"  {kind:<11} {files}")
    return "\n".join(lines) + "\n"
