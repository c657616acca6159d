"""Parse errors name a position and a kind, never source text.

A file is often broken right where a secret sits (an unterminated heredoc, an unquoted password
that starts with `*`), and a parse warning reaches every output format, `-o` files, SARIF
notifications, CI annotations and the cache. ParseError builds its message from a fixed vocabulary
(keyless.linter.documents.PARSE_PROBLEMS), so no reader can quote its input.
"""

from __future__ import annotations

import ast
import json
import os
import re

import pytest

import keygen
from conftest import ROOT, write
from keyless.linter.documents import PARSE_FORMATS, PARSE_PROBLEMS, ParseError, make_document

SECRET = "Kx" + keygen.hex32(seed="parse-error") + "Qz"  # alphanumeric: also a valid identifier
KEYWORDS = "azure azurerm DefaultAzureCredential identity Microsoft.Web/sites"
MESSAGE = re.compile(r"invalid (?P<format>[A-Za-z. ]+): (?P<problem>.+?)( \(line \d+(, column \d+)?\))?")


def from_vocabulary(message: str) -> bool:
    m = MESSAGE.fullmatch(message)
    return bool(m) and m["format"] in PARSE_FORMATS.values() and m["problem"] in PARSE_PROBLEMS

# Broken files, each breaking where the secret sits, for every reader that can fail. Each of these
# echoed the secret (or a piece of it) before parse errors were built from the vocabulary.
BROKEN = {
    "python": {
        "glued.py": f"# {KEYWORDS}\nx = 12{SECRET}\n",
        "unterminated.py": f'# {KEYWORDS}\nx = "{SECRET}\n',
        "character.py": f"# {KEYWORDS}\nx = \u20ac{SECRET}\n",
    },
    "hcl": {
        "heredoc.tf": f'# {KEYWORDS}\nresource "azurerm_x" "y" {{\n  password = <<EOF\n{SECRET}\nEOT\n}}\n',
        "interpolation.tf": f'# {KEYWORDS}\nresource "azurerm_x" "y" {{\n  password = "${{a {SECRET}}}"\n}}\n',
        "glued.tf": f'# {KEYWORDS}\nresource "azurerm_x" "y" {{\n  password = 12{SECRET}\n}}\n',
        "directive.tf": f'# {KEYWORDS}\nresource "azurerm_x" "y" {{\n  password = "%{{ {SECRET} }}"\n}}\n',
        "duplicate.tf": f'# {KEYWORDS}\nresource "azurerm_x" "y" {{\n  {SECRET} = 1\n  {SECRET} {{\n  }}\n}}\n',
    },
    "yaml": {
        "alias.yaml": f"# {KEYWORDS}\npassword: *{SECRET}\n",
        "escape.yaml": f'# {KEYWORDS}\npassword: "\\q{SECRET}"\n',
        "tag.yaml": f"# {KEYWORDS}\npassword: !<{SECRET}> x\nother: [\n",
        "anchor.yaml": f"# {KEYWORDS}\na: &{SECRET} 1\nb: &{SECRET} 2\nc: [\n",
        "token.yaml": f"# {KEYWORDS}\nkey: value\n{SECRET}\n- item\n",
    },
    "json": {
        "bare.json": '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",'
                     f' "password": {SECRET}}}\n',
        "glued.json": '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",'
                      f' "password": 12{SECRET}}}\n',
        "escape.json": '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",'
                       f' "password": "\\q{SECRET}"}}\n',
    },
    "notebook": {
        "bare.ipynb": f'{{"cells": [{{"cell_type": "code", "source": ["import azure"], "x": {SECRET}}}]}}\n',
        "unterminated.ipynb": f'{{"cells": [{{"cell_type": "code", "source": ["DefaultAzureCredential {SECRET}\n',
    },
    "bicep": {
        "unterminated.bicep": f"// {KEYWORDS}\nresource r 'Microsoft.Web/sites@2022-03-01' = {{\n"
                              f"  password: '{SECRET}\n}}\n",
        "glued.bicep": f"// {KEYWORDS}\nvar password = 12{SECRET}\n",
        "garbage.bicep": f"// {KEYWORDS}\n{SECRET} = 1\nparam ok string\n",
        "decorator.bicep": f"// {KEYWORDS}\n@secure({SECRET}\nparam password string\n",
    },
    "helm": {
        "chart/templates/action.yaml": f"# {KEYWORDS}\napiVersion: v1\nkind: Secret\ndata:\n  password: {{{{ \"{SECRET} }}}}\n",
        "chart/templates/alias.yaml": f"# {KEYWORDS}\napiVersion: v1\nkind: Secret\nstringData:\n"
                                      f"  password: *{SECRET}\n  name: {{{{ .Values.name }}}}\n",
    },
}
COMPANIONS = {"chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 1.0.0\n", "chart/values.yaml": "name: x\n"}


def pieces(secret: str, n: int = 8) -> set[str]:
    return {secret[i:i + n] for i in range(len(secret) - n + 1)}


def leaked(text: str) -> str | None:
    return next((p for p in pieces(SECRET) if p in text), None)


def test_the_message_is_built_from_the_vocabulary_only():
    # A reader that passes its parser's message (source text) gets the generic kind instead.
    e = ParseError("yaml", f"found undefined alias {SECRET!r}", 3, 7)
    assert str(e) == "invalid YAML: syntax error (line 3, column 7)"
    assert str(ParseError(f"x{SECRET}", "undefined alias")) == "invalid text: undefined alias"
    assert str(ParseError("hcl", "unexpected token", "3", 1)) == "invalid HCL: unexpected token"
    e = ParseError("json", "unexpected character", 2)
    assert (str(e), e.line, e.column) == ("invalid JSON: unexpected character (line 2)", 2, None)
    import pickle

    back = pickle.loads(pickle.dumps(ParseError("python", "unclosed bracket", 4, 2)))
    assert (str(back), back.line, back.column) == ("invalid Python: unclosed bracket (line 4, column 2)", 4, 2)
    from keyless.linter.documents import _KIND_MODULES

    assert set(_KIND_MODULES) | {"text"} <= set(PARSE_FORMATS)  # Document._parse_recorded names doc.kind


def _problem_arguments():
    """(file, line, problem) for every problem any reader passes to the error types that carry a
    parse problem; ParseError's first argument must be a PARSE_FORMATS key, written out."""
    carriers = {"ParseError": 1, "JsonSyntaxError": 0, "TemplateError": 0}
    out = []
    for base, _, files in os.walk(os.path.join(ROOT, "keyless")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(base, name)
            tree = ast.parse(open(path, encoding="utf-8").read())
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in carriers):
                    continue
                index = carriers[node.func.id]
                if node.func.id == "ParseError":
                    fmt = node.args[0] if node.args else None
                    known = (isinstance(fmt, ast.Constant) and fmt.value in PARSE_FORMATS) or (
                        isinstance(fmt, ast.Attribute) and fmt.attr == "kind")  # Document.kind
                    assert known, \
                        f"{path}:{node.lineno}: ParseError(format, problem, line, column) with a PARSE_FORMATS key"
                    if len(node.args) < 2:
                        continue
                arg = node.args[index]
                out.append((os.path.relpath(path, ROOT), node.lineno, arg))
    return out


def test_every_reader_names_its_problems_from_the_vocabulary():
    """Static: a literal problem must be a vocabulary word (a typo would silently read as the
    generic kind); anything else must be a lookup of the reader's own mapping, never an
    f-string or str(exc)."""
    calls = _problem_arguments()
    assert len(calls) > 20, "the scan found the readers' errors"
    for path, line, arg in calls:
        where = f"{path}:{line}"
        if isinstance(arg, ast.Constant):
            assert arg.value in PARSE_PROBLEMS, f"{where}: {arg.value!r} is not in PARSE_PROBLEMS"
        else:
            assert not isinstance(arg, ast.JoinedStr), f"{where}: a parse problem built from text"
            assert not (isinstance(arg, ast.Call) and getattr(arg.func, "id", "") in ("str", "repr", "format")), where


@pytest.mark.parametrize("reader,name", [(r, n) for r, files in BROKEN.items() for n in files])
def test_each_reader_reports_a_kind_and_a_position_never_the_text(tmp_path, reader, name):
    for rel, text in {**COMPANIONS, **BROKEN[reader]}.items():
        write(tmp_path, rel, text)
    from keyless.linter.workspace import Workspace

    text = BROKEN[reader][name]
    doc = make_document(str(tmp_path / name), name, text)
    doc.workspace = Workspace(str(tmp_path))
    assert not doc.ensure_parsed(), f"{name} parsed: the case tests nothing"
    err = doc.parse_error
    assert isinstance(err, ParseError) and err.problem in PARSE_PROBLEMS and err.fmt in PARSE_FORMATS
    assert from_vocabulary(str(err)), str(err)
    assert err.line is not None, str(err)
    assert leaked(str(err)) is None, str(err)


def test_env_files_never_fail_to_parse():
    doc = make_document("/x/.env", ".env", f"=\n'{SECRET}\nexport\n\"{SECRET}\n")
    assert doc.ensure_parsed() and doc.parse_error is None


def test_python_positions_are_exact():
    doc = make_document("/x/a.py", "a.py", "x = 1\ny = (\u20ac\n")
    assert not doc.ensure_parsed()
    assert (doc.parse_error.problem, doc.parse_error.line, doc.parse_error.column) == ("invalid character", 2, 6)


def test_parse_warnings_never_reach_any_output_with_source_text(run_cli, tmp_path):
    """Every format to stdout and to `-o`, SARIF notifications, annotations, stderr and the cache."""
    repo = tmp_path / "repo"
    every = {rel: text for files in BROKEN.values() for rel, text in files.items()}
    for rel, text in {**COMPANIONS, **every}.items():
        write(repo, rel, text)
    art = tmp_path / "artifacts"
    art.mkdir()
    cache = tmp_path / "cache"
    outputs: dict[str, str] = {}
    for fmt in ("text", "json", "sarif", "github", "azure", "junit", "gitlab"):
        rc, out, err = run_cli("check", ".", "--output-format", fmt, "--cache-dir", str(cache), cwd=repo)
        assert rc in (0, 1), (fmt, out, err)
        outputs[f"stdout.{fmt}"], outputs[f"stderr.{fmt}"] = out, err
        rc, out, err = run_cli("check", ".", "--output-format", fmt, "-o", str(art / f"report.{fmt}"),
                               "--cache-dir", str(cache), cwd=repo)
        outputs[f"o.stderr.{fmt}"] = out + err
    for root, _, files in os.walk(tmp_path):
        if root.startswith(str(repo)):
            continue
        for name in files:
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as fh:
                outputs[os.path.join(root, name)] = fh.read()
    assert any(k.startswith(str(cache)) for k in outputs), "the cache was not written"

    # Every broken file is reported as a partial check (otherwise the test proves nothing)...
    report = json.loads(outputs["stdout.json"])
    warned = {e["path"] for e in report["errors"] if e["level"] == "warning"}
    assert set(every) <= warned, sorted(set(every) - warned)
    sarif = json.loads(outputs["stdout.sarif"])
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) >= len(every)
    assert outputs["stdout.github"].count("::warning title=keyless (file warning)") >= len(every)
    assert outputs["stdout.azure"].count("type=warning;sourcepath=") >= len(every)
    # ...with a kind and a position, and nothing of the secret anywhere.
    for e in report["errors"]:
        assert from_vocabulary(e["message"].removesuffix("; only secret-scanned")), e
    leaks = [(where, hit) for where, text in outputs.items() if (hit := leaked(text))]
    assert not leaks, leaks[:5]
