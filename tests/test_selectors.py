"""Rule selectors: `ALL`, categories, codes, prefixes and names, accepted the same way everywhere
selectors are (--select/--extend-select/--ignore/--per-file-ignores, the configuration,
`baseline write`); an empty or unknown selector stays a usage error."""

from __future__ import annotations

import json

import pytest

from conftest import write
from keyless.linter.finding import Category
from keyless.linter.rule import Registry, Rule, RuleError, load_registry

KEY = "Zq8Xv2LmN4pR7sT1uW3yB5dF6gH9jK0aCeIoQtUx+/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd=="
# One secret finding (KL101) and one key-auth finding (KL201) in the same file.
APP = (
    "from azure.storage.blob import BlobServiceClient\n"
    f'CONN = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.windows.net"\n'
    "client = BlobServiceClient.from_connection_string(CONN)\n"
)


def codes_in(out: str) -> set[str]:
    return {f["code"] for f in json.loads(out)["findings"]}


@pytest.mark.parametrize("category", [c.value for c in Category])
def test_every_category_expands_to_exactly_its_rules(category):
    reg = load_registry()
    codes = reg.expand(category)
    assert codes, category
    assert codes == [c for c in reg.codes if reg.by_code[c].category.value == category]
    assert reg.expand(category.upper()) == codes  # case does not matter, as for codes


def test_a_rule_may_not_be_named_like_a_category():
    class Clash(Rule):
        """Docs."""

        code = "KL199"
        name = "secret"
        category = Category.SECRET
        message = "m"

    with pytest.raises(RuleError, match="category name"):
        Registry([Clash])


@pytest.fixture
def project(tmp_path):
    write(tmp_path, "app.py", APP)
    return tmp_path


def test_select_and_ignore_a_category_on_the_command_line(run_cli, project):
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    assert {"KL101", "KL201"} <= codes_in(out)
    rc, out, err = run_cli("check", ".", "--no-cache", "--output-format", "json", "--select", "secret")
    assert rc == 1, err
    assert codes_in(out) and all(c.startswith("KL1") for c in codes_in(out))
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", "--select", "key-auth,secret",
                         "--ignore", "secret")
    assert codes_in(out) and all(c.startswith("KL2") for c in codes_in(out))
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", "--select", "KL201",
                         "--extend-select", "Secret")
    assert {"KL101", "KL201"} <= codes_in(out)


def test_categories_in_the_configuration_and_per_file_ignores(run_cli, project):
    write(project, ".keyless.toml", 'select = ["key-auth"]\n')
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    assert codes_in(out) and all(c.startswith("KL2") for c in codes_in(out))
    write(project, ".keyless.toml", '[per-file-ignores]\n"app.py" = ["key-auth"]\n')
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    assert "KL101" in codes_in(out) and not any(c.startswith("KL2") for c in codes_in(out))
    write(project, ".keyless.toml", "")
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", "--per-file-ignores", "*.py:secret")
    assert "KL201" in codes_in(out) and not any(c.startswith("KL1") for c in codes_in(out))


def test_baseline_write_accepts_a_category(run_cli, project):
    rc, _, err = run_cli("baseline", "write", ".", "--no-cache", "--select", "secret", "-o", "b.json")
    assert rc == 0, err
    entries = json.loads((project / "b.json").read_text())
    assert "KL101" in json.dumps(entries) and "KL201" not in json.dumps(entries)


@pytest.mark.parametrize("selector", ["secrets", "key_auth", "category:secret", ""])
def test_near_miss_categories_stay_usage_errors(run_cli, project, selector):
    rc, out, err = run_cli("check", ".", "--no-cache", "--select", selector)
    assert rc == 2 and "All checks passed" not in out
    if selector:
        assert "Unknown rule selector" in err and "category" in err
