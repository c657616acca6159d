"""`.bicep` / `.bicepparam` as their own file kind: every rule that read them as plain text before
(secret scanning, suppressions, KL403's GUID lines, the IaC collectors) still runs, with the same
findings for literal secrets."""

from __future__ import annotations

import os

import pytest

from conftest import FIXTURES, ROOT
from keyless.linter.documents import decode, make_document
from keyless.linter.engine import Settings, finish, lint_document, resolve_selection
from keyless.linter.rule import load_registry


def _settings(codes=None) -> Settings:
    registry = load_registry()
    return Settings(root=ROOT, select=resolve_selection(registry, codes))


def lint_as(text: str, relpath: str, kind: str | None, settings: Settings):
    doc = make_document(os.path.join(ROOT, relpath), relpath, text, kind=kind)
    res = lint_document(doc, settings)
    return finish([res], settings).findings, res


def _key(f):
    return (f.code, str(f.span), f.fingerprint, f.message, str(f.severity))


def _fixture_texts():
    out = []
    for root, _, files in os.walk(FIXTURES):
        for name in sorted(files):
            if name.endswith(".expect"):
                continue
            path = os.path.join(root, name)
            try:
                text, _ = decode(open(path, "rb").read())
            except Exception:
                continue
            out.append((os.path.relpath(path, FIXTURES), text))
    return sorted(out)


def test_secrets_and_suppressions_on_bicep_are_what_plain_text_gave():
    """Every fixture's text, as `main.bicep`: KL1xx findings (secret scanning, KL190/KL191) are
    identical whether the file is read as kind `bicep` or, as before, as plain text."""
    registry = load_registry()
    codes = sorted(c.code for c in registry if c.code.startswith("KL1"))
    settings = _settings(codes)
    compared = 0
    for rel, text in _fixture_texts():
        before, _ = lint_as(text, "infra/main.bicep", "text", settings)
        after, res = lint_as(text, "infra/main.bicep", None, settings)
        assert res is not None
        assert sorted(map(_key, after)) == sorted(map(_key, before)), rel
        compared += len(before)
    assert compared >= 50  # the fixtures hold many secrets: the comparison is not vacuous


BICEP_WITH_SECRETS = """\
param location string = resourceGroup().location
var conn = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net'
resource app 'Microsoft.Web/sites@2022-03-01' = {{
  name: 'app'
  properties: {{
    siteConfig: {{
      appSettings: [
        {{ name: 'STORAGE', value: conn }}
      ]
    }}
  }}
}}
"""


def _storage_key() -> str:
    import base64

    return base64.b64encode(bytes(range(7, 71))).decode()


def test_one_secret_one_finding_also_in_a_broken_file():
    settings = _settings()
    text = BICEP_WITH_SECRETS.format(key=_storage_key())
    found, res = lint_as(text, "infra/main.bicep", None, settings)
    secrets = [f for f in found if f.code.startswith("KL1")]
    assert len(secrets) == 1 and secrets[0].span.start.line == 2
    assert res.error is None
    broken = text.replace("name: 'app'", "name: 'app\n  x: = ]")  # unreadable resource body
    found_b, res_b = lint_as(broken, "infra/main.bicep", None, settings)
    assert [(f.code, f.span) for f in found_b if f.code.startswith("KL1")] == [(f.code, f.span) for f in secrets]
    assert res_b.error_kind == "parse" and "\n" not in res_b.error and _storage_key() not in res_b.error


@pytest.mark.parametrize("comment", [
    "// keyless: ignore[{code}] test data\n{line}",
    "/* keyless: ignore[{code}] test data */\n{line}",
    "{line} // keyless: ignore[{code}] test data",
    "{line} /* keyless: ignore[{code}] test data */",
])
def test_suppression_comments_work_in_bicep(comment):
    settings = _settings()
    text = BICEP_WITH_SECRETS.format(key=_storage_key())
    found, _ = lint_as(text, "infra/main.bicep", None, settings)
    (secret,) = [f for f in found if f.code.startswith("KL1")]
    lines = text.split("\n")
    lines[1] = comment.format(code=secret.code, line=lines[1])
    found2, _ = lint_as("\n".join(lines), "infra/main.bicep", None, settings)
    assert not [f for f in found2 if f.code == secret.code]


def test_suppression_without_reason_is_reported_in_bicep():
    settings = _settings()
    found, _ = lint_as("// keyless: ignore[KL101]\nparam a string\n", "main.bicep", None, settings)
    assert [f.code for f in found] == ["KL190"]


def test_guid_lines_still_run_on_bicep():
    path = os.path.join(FIXTURES, "KL403", "bad.bicep")
    text, _ = decode(open(path, "rb").read())
    found, _ = lint_as(text, "infra/roles.bicep", None, _settings(["KL403"]))
    assert {f.span.start.line for f in found} == {3, 5}


def test_lsp_language_ids_and_comment_style():
    from keyless.linter.lsp import LANGUAGE_KINDS, comment_style, suppression_edit

    assert LANGUAGE_KINDS["bicep"] == "bicep" and LANGUAGE_KINDS["bicep-params"] == "bicep"
    doc = make_document("untitled", "untitled", "param a string\n", kind="bicep")
    assert comment_style(doc) == ("//", "")
    assert suppression_edit is not None


def test_lsp_suppress_fix_stays_out_of_multiline_strings():
    from keyless.linter.lsp import _bicep_line_free

    text = "var a = '''\nline\n'''\nvar b = 1\n"
    doc = make_document("m.bicep", "m.bicep", text)
    assert [_bicep_line_free(doc, n) for n in (1, 2, 3, 4)] == [True, False, False, True]


def test_pre_commit_hook_types_cover_bicep_files(tmp_path):
    identify = pytest.importorskip("identify.identify")
    import yaml

    hooks = yaml.safe_load(open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "keyless"]
    for name in ("main.bicep", "main.bicepparam"):
        p = tmp_path / name
        p.write_text("param a string\n", encoding="utf-8")
        tags = identify.tags_from_path(str(p))
        assert set(hook.get("types", [])) <= tags, name
        assert not set(hook.get("exclude_types", [])) & tags
        assert "files" not in hook or __import__("re").search(hook["files"], name)
