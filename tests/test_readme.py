"""The README's rules table is generated from the registry; this keeps them in sync.
Regenerate with: KEYLESS_UPDATE_README=1 python -m pytest tests/test_readme.py"""

import os
import re

from conftest import ROOT
from keyless.cli import rules_markdown
from keyless.linter.rule import load_registry

START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def test_readme_rules_table_matches_registry():
    path = os.path.join(ROOT, "README.md")
    text = open(path, encoding="utf-8").read()
    table = rules_markdown(load_registry())
    block = f"{START}\n{table}\n{END}"
    current = re.search(re.escape(START) + r".*?" + re.escape(END), text, re.S)
    assert current, "README lacks the rules table markers"
    if os.environ.get("KEYLESS_UPDATE_README"):
        text = text.replace(current.group(0), block)
        open(path, "w", encoding="utf-8").write(text)
    assert current.group(0) == block or os.environ.get("KEYLESS_UPDATE_README"), "README rules table is stale"


def test_readme_starts_with_the_two_commands():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```bash\n(.*?)\n```", text, re.S)
    assert "pip install ." in blocks[0] and "keyless check fixtures/demo" in blocks[0]
    assert "pip install '.[test]'" in blocks[1] and "pytest" in blocks[1]


def test_readme_test_command_prints_the_pass_fail_count():
    """`-q` twice (the README's plus an `addopts` one) hides pytest's 'N passed' summary line."""
    import tomllib

    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    command = re.findall(r"```bash\n(.*?)\n```", text, re.S)[1]
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        addopts = tomllib.load(fh)["tool"]["pytest"]["ini_options"].get("addopts", "")
    quiet = command.split("pytest", 1)[1].split().count("-q") + str(addopts).split().count("-q")
    assert quiet <= 1 and "-qq" not in command + str(addopts)


def test_tests_need_nothing_outside_the_repository():
    """A clone made anywhere runs its own suite: no test reads a sibling of the checkout."""
    here = os.path.join(ROOT, "tests")
    for name in os.listdir(here):
        if name.endswith(".py"):
            text = open(os.path.join(here, name), encoding="utf-8").read()
            if name != os.path.basename(__file__):
                assert not re.search(r"parents\[2\]|dirname\(ROOT\)|SHARED\b", text), name
