"""key-auth rules for Python (KL201-KL208): fixes, facts, laziness, docs."""

from __future__ import annotations

import ast
import glob
import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT
from keyless.linter.documents import make_document
from keyless.linter.finding import Applicability
from keyless.linter.fixes import apply_edits, fix_document
from keyless.rules.python import RULES

RULES_BY_CODE = {R.code: R() for R in RULES}
FIX_DIR = os.path.join(FIXTURES, "fix", "python")
PAIRS = sorted(p[: -len(".fixed.py")] for p in glob.glob(os.path.join(FIX_DIR, "*.fixed.py")))


def lint(doc):
    out = []
    for rule in RULES_BY_CODE.values():
        out.extend(rule.check(doc))
    return sorted(out, key=lambda f: f.sort_key())


def doc_of(text, rel="app.py"):
    return make_document(rel, rel, text)


def fix_text(text: str) -> str:
    return fix_document(doc_of(text), lint, unsafe=True, rules_by_code=RULES_BY_CODE).text


@pytest.mark.parametrize("base", PAIRS, ids=os.path.basename)
def test_fix_pair(base):
    before = open(base + ".py", encoding="utf-8").read()
    after = open(base + ".fixed.py", encoding="utf-8").read()
    fixed = fix_text(before)
    assert fixed == after
    ast.parse(fixed)
    # idempotent, and the rewritten lines are no longer flagged by any fixable finding
    assert fix_text(fixed) == fixed
    assert not [f for f in lint(doc_of(fixed)) if f.fix and f.fix.applicability is Applicability.UNSAFE]


@pytest.mark.parametrize("base", PAIRS, ids=os.path.basename)
def test_single_fix_edits_do_not_overlap_and_parse(base):
    text = open(base + ".py", encoding="utf-8").read()
    doc = doc_of(text)
    for f in lint(doc):
        if not (f.fix and f.fix.lazy):
            continue
        fix = RULES_BY_CODE[f.code].materialize_fix(doc, f)
        assert fix.applicability is Applicability.UNSAFE, fix.message
        assert "grant " in fix.message  # it names the role the identity needs
        ranges = sorted((doc.lines.offset(e.span.start), doc.lines.offset(e.span.end)) for e in fix.edits)
        assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))
        ast.parse(apply_edits(text, doc.lines, list(fix.edits)))


def test_detection_does_not_import_libcst():
    code = (
        "import sys, glob\n"
        "from keyless.linter.documents import decode, make_document\n"
        "from keyless.rules.python import RULES\n"
        f"for p in glob.glob({FIXTURES!r} + '/KL20*/*.py') + glob.glob({FIX_DIR!r} + '/*.py'):\n"
        "    doc = make_document(p, p, *decode(open(p, 'rb').read()))  # fixtures need not be UTF-8\n"
        "    for R in RULES:\n"
        "        list(R().check(doc)); list(R().collect(doc))\n"
        "assert 'libcst' not in sys.modules, 'libcst imported during detection'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_fix_data_and_messages_are_secret_free():
    secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
    text = ("from azure.servicebus import ServiceBusClient\n"
            f"c = ServiceBusClient.from_connection_string('Endpoint=sb://ns.servicebus.windows.net/;"
            f"SharedAccessKeyName=k;SharedAccessKey={secret};EntityPath=orders')\n")
    doc = doc_of(text)
    (f,) = lint(doc)
    assert secret not in json.dumps(f.fix_data) and secret not in f.message + f.fix.message
    assert "Azure Service Bus Data" in f.fix.message  # the help names the role
    fix = RULES_BY_CODE["KL201"].materialize_fix(doc, f)
    fixed = apply_edits(text, doc.lines, list(fix.edits))
    assert secret not in fixed
    assert 'ServiceBusClient("ns.servicebus.windows.net", credential=DefaultAzureCredential())' in fixed


def test_a_fix_that_cannot_be_computed_never_quotes_the_parser(monkeypatch):
    """libcst's and ast's error messages carry the source line (and the credential in it)."""
    import libcst

    from keyless.rules.python import fixes

    secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
    text = ("from azure.servicebus import ServiceBusClient\n"
            f"c = ServiceBusClient.from_connection_string('Endpoint=sb://ns.servicebus.windows.net/;"
            f"SharedAccessKeyName=k;SharedAccessKey={secret};EntityPath=orders')\n")
    doc = doc_of(text)
    (f,) = lint(doc)
    for error in (ValueError(f"bad {secret}"), SyntaxError(f"x = '{secret}'"),
                  libcst.ParserSyntaxError(f"near {secret}", lines=[f"x = '{secret}'"], raw_line=1, raw_column=0)):
        def fail(*a, error=error):
            raise error
        monkeypatch.setattr(fixes, "_materialize", fail)
        fix = RULES_BY_CODE["KL201"].materialize_fix(doc, f)
        assert fix.applicability is Applicability.DISPLAY_ONLY and not fix.edits
        assert secret[:8] not in fix.message and "could not be rewritten" in fix.message


def test_name_resolution_aliases_and_shadowing():
    text = (
        "import azure.storage.blob as b\n"
        "from azure.storage import blob\n"
        "X = b.BlobServiceClient\n"
        "c1 = X.from_connection_string(cs)\n"
        "c2 = blob.BlobServiceClient.from_connection_string(cs)\n"
        "def f():\n"
        "    X = object\n"
        "    return X.from_connection_string(cs)\n"
    )
    lines = sorted(f.span.start.line for f in lint(doc_of(text)))
    assert lines == [4, 5]


def test_facts():
    text = (
        "import os\n"
        "from azure.identity import DefaultAzureCredential, ManagedIdentityCredential\n"
        "from azure.servicebus import ServiceBusClient\n"
        "from azure.storage.blob import BlobServiceClient\n"
        "cred = ManagedIdentityCredential(client_id=os.environ['AZURE_CLIENT_ID'])\n"
        "dac = DefaultAzureCredential()\n"
        "svc = BlobServiceClient(os.environ['AZURE_STORAGE_ACCOUNT_URL'], credential=dac)\n"
        "svc.get_container_client('c').download_blob('x')\n"
        "sb = ServiceBusClient('ns.servicebus.windows.net', cred)\n"
        "with sb.get_queue_sender('q') as s:\n"
        "    s.send_messages([])\n"
    )
    facts = list(RULES_BY_CODE["KL201"].collect(doc_of(text)))
    json.dumps([f.data for f in facts])
    creds = [f.data for f in facts if f.kind == "py.credential"]
    assert [(c["cls"], c["client_id"], c["line"]) for c in creds] == [
        ("ManagedIdentityCredential", True, 5), ("DefaultAzureCredential", False, 6)]
    assert creds[0]["column"] == 8 and creds[0]["end_line"] == 5
    clients = {f.data["client"]: f.data for f in facts if f.kind == "py.sdk-client"}
    assert clients["BlobServiceClient"]["service"] == "storage-blob"
    assert clients["BlobServiceClient"]["access"] == "read"
    assert clients["ServiceBusClient"]["access"] == "write"


def test_rule_docs_have_sections():
    for R in RULES:
        doc = R.docs()
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
            assert section in doc, (R.code, section)
        assert R.kinds == frozenset({"python"})
        assert R.keywords and 201 <= int(R.code[2:]) <= 249


def test_syntax_error_file_is_quiet():
    assert lint(doc_of("def broken(:\n  BlobServiceClient.from_connection_string(x)\n")) == []
