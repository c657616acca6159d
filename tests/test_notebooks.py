"""Jupyter notebooks: the Python rules run on code cells, positions and fixes land in the JSON."""

from __future__ import annotations

import json

from keygen import legacy_b64
from keyless.linter.documents import LineIndex, make_document
from keyless.linter.engine import lint_source, rule_set
from keyless.linter.fixes import apply_edits, materialize


def notebook(*cells, language="python", indent=1) -> str:
    def cell(src):
        if isinstance(src, tuple):  # ("markdown", source)
            return {"cell_type": src[0], "metadata": {}, "source": src[1]}
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}

    nb = {"cells": [cell(c) for c in cells], "metadata": {"kernelspec": {"language": language, "name": "k"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=indent) + "\n"


def lines_of(code: str) -> list[str]:
    return code.splitlines(keepends=True)


FCS = "client = BlobServiceClient.from_connection_string(os.environ['CONN'])\n"


def test_findings_point_into_the_json_exactly_through_escapes_and_astral_characters():
    src = ['import os\n', 'from azure.storage.blob import BlobServiceClient\n',
           'label = "caf\u00e9 \U0001F600 \\"q\\""; ' + FCS]
    text = notebook(src)
    [f] = lint_source(text, "nb.ipynb", select=["KL201"])
    line = text.splitlines()[f.span.start.line - 1]
    assert line[f.span.start.column - 1:].startswith("BlobServiceClient.from_connection_string(")
    assert line[f.span.end.column - 2] == ")"


def test_magics_and_other_interpreters_are_not_python_and_a_bad_cell_hides_nothing():
    text = notebook(["%pip install x\n", "!az login\n", "import os\n"],
                    ["%%bash\n", "BlobServiceClient.from_connection_string(x)\n"],
                    ["def broken(:\n"],
                    ["from azure.storage.blob import BlobServiceClient\n", FCS],
                    ("markdown", ["BlobServiceClient.from_connection_string(x)\n"]))
    found = [f.span.start.line for f in lint_source(text, "nb.ipynb", select=["KL201"])]
    assert len(found) == 1 and "client = " in text.splitlines()[found[0] - 1]


def test_other_kernels_are_left_alone():
    text = notebook(["from azure.storage.blob import BlobServiceClient\n", FCS], language="R")
    assert lint_source(text, "nb.ipynb", select=["KL201"]) == []


def test_one_secret_in_a_cell_is_one_finding():
    key = legacy_b64(64, seed="notebook")
    text = notebook([f'conn = "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key};EndpointSuffix=core.windows.net"\n'])
    secret = [f for f in lint_source(text, "nb.ipynb") if f.category.value == "secret"]
    assert len(secret) == 1 and key not in secret[0].message


def test_a_suppression_written_in_the_cell_applies():
    text = notebook(["from azure.storage.blob import BlobServiceClient\n",
                     "client = BlobServiceClient.from_connection_string(c)  # keyless: ignore[KL201] local demo only\n"])
    assert lint_source(text, "nb.ipynb", select=["KL201"]) == []


def _fixed(text: str, relpath: str = "nb.ipynb") -> str:
    doc = make_document(relpath, relpath, text)
    [f] = lint_source(text, relpath, select=["KL201"])
    fix = materialize(doc, f, rule_set().by_code)
    assert fix is not None and fix.edits, fix
    return apply_edits(text, LineIndex(text), list(fix.edits))


def test_fix_rewrites_the_cell_and_keeps_a_valid_notebook():
    text = notebook(["import os\n", "from azure.storage.blob import BlobServiceClient\n"], ["!echo hi\n", FCS])
    new = _fixed(text)
    nb = json.loads(new)
    code = "".join(nb["cells"][0]["source"]) + "".join(nb["cells"][1]["source"])
    assert "DefaultAzureCredential()" in code and "from_connection_string" not in code
    assert all(s.count("\n") <= 1 and (s.endswith("\n") or s is src[-1])
               for c in nb["cells"] for src in [c["source"]] for s in src)  # one line per element
    assert lint_source(new, "nb.ipynb", select=["KL201"]) == []


def test_fix_of_a_cell_written_as_one_string():
    text = notebook("from azure.storage.blob import BlobServiceClient\nimport os\n" + FCS)
    nb = json.loads(_fixed(text))
    assert "from azure.identity import DefaultAzureCredential" in nb["cells"][0]["source"]
    assert isinstance(nb["cells"][0]["source"], str)


def test_fix_on_a_compact_notebook():
    text = notebook(["from azure.storage.blob import BlobServiceClient\n", "import os\n", FCS], indent=None)
    assert "DefaultAzureCredential" in "".join(json.loads(_fixed(text))["cells"][0]["source"])


def test_a_suppression_without_reason_in_a_cell_is_reported():
    """The JSON string's own `\\n",` after the comment is not a reason."""
    text = notebook(["from azure.storage.blob import BlobServiceClient\n",
                     "client = BlobServiceClient.from_connection_string(c)  # keyless: ignore[KL201]\n"])
    got = {f.code for f in lint_source(text, "nb.ipynb", select=["KL201", "KL190"])}
    assert got == {"KL201", "KL190"}


def test_a_notebook_fix_is_verified_on_the_cells():
    from keyless.linter.verify import Refused, Verifier

    text = notebook(["import os\n", "from azure.storage.blob import BlobServiceClient\n", FCS])
    doc = make_document("nb.ipynb", "nb.ipynb", text)
    fixed = _fixed(text)
    assert Verifier(doc).check(fixed) == fixed  # leftover names in a notebook are fine
    broken = fixed.replace("DefaultAzureCredential()", "NoSuchCredential()")
    try:
        Verifier(doc).check(broken)
    except Refused as exc:
        assert "undefined name" in str(exc)
    else:
        raise AssertionError("a cell reading an undefined name was accepted")


# -- secrets in code cells: the JSON writes a double-quoted literal as \"...\" --

def test_a_double_quoted_key_in_a_code_cell_is_found_with_the_host_of_another_cell():
    key = legacy_b64(64, seed="notebook-quoted")
    text = notebook(["from azure.storage.blob import BlobServiceClient\n", f'account_key = "{key}"\n'],
                    ['client = BlobServiceClient("https://contosodata.blob.core.windows.net", credential=account_key)\n'])
    [f] = [f for f in lint_source(text, "nb.ipynb") if f.code == "KL101"]
    line = text.splitlines()[f.span.start.line - 1]
    assert line[f.span.start.column - 1:f.span.end.column - 1] == key  # exactly the key's characters
    assert "contosodata" in f.message and key not in f.message


def test_a_key_the_raw_text_already_reports_is_one_finding():
    key = legacy_b64(64, seed="notebook-once")
    text = notebook([f"conn = 'DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key}'\n"])
    assert [f.code for f in lint_source(text, "nb.ipynb") if f.category.value == "secret"] == ["KL101"]


def test_diff_of_a_notebook_masks_the_key_and_shows_the_code(run_cli, tmp_path):
    key = legacy_b64(64, seed="notebook-diff")
    (tmp_path / "nb.ipynb").write_text(notebook([
        "from azure.identity import ClientSecretCredential\n",
        "from azure.storage.blob import BlobServiceClient\n",
        f'account_key = "{key}"\n',
        "credential = ClientSecretCredential(\n", "    tenant_id=t, client_id=c, client_secret=s)\n",
        'client = BlobServiceClient("https://contosodata.blob.core.windows.net", credential=account_key)\n']))
    code, out, err = run_cli("check", "nb.ipynb", "--no-cache", "--diff", "--unsafe-fixes")
    assert key not in out + err and key[:8] not in out
    # code is not a credential: the rewritten lines are shown as they are
    assert '-    "credential = ClientSecretCredential(\\n",' in out
    assert '+    "credential = DefaultAzureCredential()\\n",' in out
    assert "credential=credential)" in out


def test_masking_keeps_an_ipython_magic_line_of_the_raw_text():
    from keyless.rules.secrets.scanner import credential_spans

    secret = "Zq8vT2mWn4Rk7Yp1Lx"
    text = notebook([f"%env DB_PASSWORD={secret}\n", "x = 1\n"])
    doc = make_document("nb.ipynb", "nb.ipynb", text)
    assert any(secret in text[s:e] for s, e in credential_spans(doc))

# ---- secrets that are only in what a cell printed, or in the notebook's metadata ----

def _notebook_with(outputs=(), metadata=None) -> str:
    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(settings())\n"],
                     "outputs": list(outputs)}],
          "metadata": {"kernelspec": {"language": "python", "name": "python3"}, **(metadata or {})},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1) + "\n"


def _secret_at_the_key(text: str, key: str) -> None:
    """One secret finding, on the .ipynb line and columns of the key, never showing it."""
    found = [f for f in lint_source(text, "nb.ipynb") if f.category.value == "secret"]
    assert len(found) == 1, found
    (f,) = found
    (line_no,) = [i for i, line in enumerate(text.splitlines(), start=1) if key in line]
    col = text.splitlines()[line_no - 1].index(key) + 1
    assert (f.span.start.line, f.span.start.column, f.span.end.line, f.span.end.column) == (
        line_no, col, line_no, col + len(key))
    assert key not in f.message and (f.fix is None or key not in f.fix.message)


def _connection_string(seed: str) -> tuple[str, str]:
    key = legacy_b64(64, seed=seed)
    return key, f"DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key};EndpointSuffix=core.windows.net"


def test_a_secret_only_in_a_stream_output_is_reported_at_its_line_in_the_notebook():
    key, conn = _connection_string("nb-stream")
    text = _notebook_with([{"name": "stdout", "output_type": "stream", "text": ["loaded\n", f"STORAGE={conn}\n"]}])
    assert key not in "".join(json.loads(text)["cells"][0]["source"])  # the code never had it
    _secret_at_the_key(text, key)


def test_a_secret_only_in_an_execute_result_is_reported_at_its_line_in_the_notebook():
    key, conn = _connection_string("nb-result")
    text = _notebook_with([{"data": {"text/plain": [f"'{conn}'"]}, "execution_count": 1, "metadata": {},
                            "output_type": "execute_result"}])
    _secret_at_the_key(text, key)


def test_a_secret_in_the_notebook_metadata_is_reported_at_its_line():
    key, conn = _connection_string("nb-metadata")
    _secret_at_the_key(_notebook_with(metadata={"azure": {"storage": conn}}), key)


def test_a_notebook_with_clean_outputs_and_metadata_has_no_secret():
    text = _notebook_with([{"name": "stdout", "output_type": "stream",
                            "text": ["AccountName=contoso;AccountKey=<your-key>;\n"]}],
                          metadata={"azure": {"storage": "DefaultEndpointsProtocol=https;AccountName=contoso"}})
    assert [f for f in lint_source(text, "nb.ipynb") if f.category.value == "secret"] == []
