"""The bounded tree-sitter parse (keyless/linter/documents/tree_sitter_budget.py) that the Bicep
and shell readers share: a parse past its read budget is cancelled, never a clean one."""

from __future__ import annotations

import pytest

from keyless.linter.documents import tree_sitter_budget
from keyless.linter.documents.tree_sitter_budget import bounded_parse


@pytest.fixture
def parser():
    import tree_sitter
    import tree_sitter_bicep

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


def _resource(entry: str, count: int) -> bytes:
    return ("resource r 'T@v' = {\n" + "".join(entry.format(i) for i in range(count)) + "}\n").encode()


CLEAN = _resource("  p{}: 'value'\n", 2000)  # ~40 kB: ten chunks
BROKEN = _resource("  p{}: {{ = }}\n", 2000)  # every entry broken: error recovery re-reads and re-reads


def test_a_clean_parse_within_the_budget_returns_the_tree(parser):
    tree = bounded_parse(parser, CLEAN)
    assert tree is not None and not tree.root_node.has_error
    assert tree.root_node.end_byte == len(CLEAN)


def test_the_allowance_grows_with_the_input(monkeypatch, parser):
    # no fixed budget at all: the reads allowed for each chunk of a linear parse are enough
    monkeypatch.setattr(tree_sitter_budget, "READ_BUDGET", 0)
    assert len(CLEAN) > 8 * tree_sitter_budget.READ_CHUNK
    tree = bounded_parse(parser, CLEAN)
    assert tree is not None and not tree.root_node.has_error


def test_a_runaway_parse_is_cancelled_and_the_parser_stays_usable(monkeypatch, parser):
    monkeypatch.setattr(tree_sitter_budget, "READ_BUDGET", 50)
    assert len(BROKEN) < len(CLEAN) * 1.2  # the same allowance would fit a clean input of its size
    assert bounded_parse(parser, BROKEN) is None
    tree = bounded_parse(parser, CLEAN)  # reset after the cancel: the next parse starts afresh
    assert tree is not None and not tree.root_node.has_error
    assert tree.root_node.end_byte == len(CLEAN)


def test_the_default_budget_lets_a_broken_but_small_input_finish(parser):
    tree = bounded_parse(parser, _resource("  p{}: {{ = }}\n", 20))
    assert tree is not None and tree.root_node.has_error
