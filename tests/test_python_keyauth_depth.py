"""Python key-auth depth (issue #15): the Azure OpenAI v1 API, SAS signed with the account key
(KL209), Django/Flask settings, PEP 263 coding cookies, and the false positives removed
(Application Insights connection strings, emulator test code)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from conftest import write
from keyless.linter.config import Config
from keyless.linter.documents import decode, encode, make_document
from keyless.linter.engine import Settings, lint_paths, lint_source, resolve_selection, rule_set
from keyless.linter.finding import Applicability, Severity
from keyless.linter.fixes import fix_document
from keyless.linter.rule import load_registry
from keyless.linter.verify import Refused, Verifier
from keyless.rules.python.analysis import get_analysis

RULES = rule_set()


def findings(src: str, path: str = "app.py", codes=None):
    out = lint_source(textwrap.dedent(src), path, select=codes)
    return [f for f in out if codes is None or f.code in codes]


def fix(src: str, path: str = "app.py") -> str:
    doc = make_document(path, path, textwrap.dedent(src))

    def lint(d):
        return [f for r in RULES.rules if d.kind in r.kinds for f in r.check(d)]

    return fix_document(doc, lint, unsafe=True, rules_by_code=RULES.by_code).text


# ---- the Azure OpenAI v1 API ------------------------------------------------------------------------

def test_v1_key_is_flagged_on_the_key_argument_with_a_short_message():
    (f,) = findings("""\
        import os
        from openai import OpenAI
        client = OpenAI(base_url="https://contoso.openai.azure.com/openai/v1/",
                        api_key=os.environ["AZURE_OPENAI_API_KEY"])
    """, codes=["KL204"])
    assert (f.span.start.line, f.span.start.column) == (4, 25)
    assert len(f.message) <= 110 and "api_key" in f.message
    assert f.fix.applicability is Applicability.UNSAFE and "openai>=1.106" in f.fix.message


def test_v1_async_fix_uses_the_async_provider_and_credential():
    out = fix("""\
        import os
        from openai import AsyncOpenAI
        client = AsyncOpenAI(base_url="https://contoso.openai.azure.com/openai/v1/", api_key=os.environ["K"])
    """)
    tree = ast.parse(out)
    imports = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("azure.identity.aio", "get_bearer_token_provider") in imports
    assert ("azure.identity.aio", "DefaultAzureCredential") in imports
    assert 'api_key=get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")' in out
    assert not findings(out, codes=["KL204"])


def test_a_sync_client_never_reuses_an_async_token_provider():
    # regression: the reused provider was any get_bearer_token_provider, also azure.identity.aio's,
    # which a sync client cannot call
    out = fix("""\
        import os
        import azure.identity.aio
        from openai import AzureOpenAI
        aprovider = azure.identity.aio.get_bearer_token_provider(azure.identity.aio.DefaultAzureCredential(), "s")
        client = AzureOpenAI(azure_endpoint="https://contoso.openai.azure.com", api_key=os.environ["K"])
    """)
    assert "azure_ad_token_provider=aprovider" not in out
    assert "azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential()" in out


def test_v1_endpoint_default_of_an_environment_read_counts():
    src = """\
        import os
        from openai import OpenAI
        endpoint = os.getenv("OPENAI_ENDPOINT", "https://contoso.services.ai.azure.com")
        client = OpenAI(base_url=endpoint + "/openai/v1/", api_key=os.environ["OPENAI_API_KEY"])
    """
    assert [f.code for f in findings(src, codes=["KL204"])] == ["KL204"]
    assert not findings(src.replace("contoso.services.ai.azure.com", "api.openai.com"), codes=["KL204"])


def test_v1_key_picked_at_run_time_is_guidance_and_left_alone():
    src = """\
        import os
        from openai import OpenAI

        def make(token_provider):
            if api_key := os.getenv("AZURE_OPENAI_KEY"):
                return OpenAI(base_url="https://contoso.openai.azure.com/openai/v1/", api_key=api_key)
            return OpenAI(base_url="https://contoso.openai.azure.com/openai/v1/", api_key=token_provider)
    """
    (f,) = findings(src, codes=["KL204"])
    assert f.fix.applicability is Applicability.DISPLAY_ONLY and "at run time" in f.fix.message
    assert fix(src) == textwrap.dedent(src)


def test_v1_facts_say_key_or_token():
    src = textwrap.dedent("""\
        import os
        from openai import OpenAI
        a = OpenAI(base_url="https://contoso.openai.azure.com/openai/v1/", api_key=os.environ["K"])
        b = OpenAI(base_url="https://contoso.openai.azure.com/openai/v1/", api_key=lambda: "t")
    """)
    facts = [d for kind, d, _ in get_analysis(make_document("a.py", "a.py", src)).facts if kind == "py.sdk-client"]
    assert [(d["service"], d["auth"], d.get("code")) for d in facts] == [("openai", "key", "KL204"),
                                                                          ("openai", "token", None)]


# ---- KL209: SAS signed with the account key ------------------------------------------------------------

def test_a_sas_signed_with_a_read_back_key_is_flagged_and_the_client_is_not_rewritten():
    src = """\
        import os
        from azure.storage.blob import BlobServiceClient, generate_blob_sas

        service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
        sas = generate_blob_sas(service.account_name, "c", "b", account_key=service.credential.account_key)
    """
    by_code = {f.code: f for f in findings(src, codes=["KL201", "KL209"])}
    assert by_code["KL201"].fix.applicability is Applicability.DISPLAY_ONLY
    assert "user delegation key" in by_code["KL201"].fix.message
    assert by_code["KL209"].fix.applicability is Applicability.DISPLAY_ONLY
    assert "get_user_delegation_key" in by_code["KL209"].fix.message
    assert fix(src) == textwrap.dedent(src)


def test_a_literal_signing_key_is_masked_in_diffs():
    src = textwrap.dedent("""\
        from azure.storage.blob import generate_blob_sas
        sas = generate_blob_sas("acct", "c", "b", account_key="not-a-real-key-but-a-literal")
    """)
    doc = make_document("a.py", "a.py", src)
    spans = [src[a:b] for a, b in RULES.by_code["KL209"].sensitive_spans(doc)]
    assert '"not-a-real-key-but-a-literal"' in spans


def test_a_sas_signed_with_the_key_keeps_the_storage_switch_high(tmp_path):
    # regression: identity-based clients alone made KL260 say the switch "can be flipped safely",
    # although the code still signs SAS with the account key
    write(tmp_path, "infra/main.tf", '''
resource "azurerm_storage_account" "sa" {
  name                     = "ordersdata"
  resource_group_name      = "rg"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
''')
    write(tmp_path, "app/x.py", textwrap.dedent("""\
        import os
        from azure.identity import DefaultAzureCredential
        from azure.storage.blob import BlobServiceClient, generate_blob_sas

        client = BlobServiceClient("https://ordersdata.blob.core.windows.net", credential=DefaultAzureCredential())
        sas = generate_blob_sas("ordersdata", "c", "b", account_key=os.environ["AZURE_STORAGE_KEY"])
    """))
    reg = load_registry()
    st = Settings(root=str(tmp_path), select=resolve_selection(reg, ["KL260"]))
    (f,) = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), st, excludes=[], jobs=1).findings
    assert f.severity is Severity.HIGH
    assert "app/x.py:6" in f.message and "(app/x.py:6, KL209)" in f.fix.message
    assert "safe once" not in f.fix.message


def test_both_a_delegation_key_and_an_account_key_is_a_run_time_choice_not_judged():
    assert not findings("""\
        from azure.storage.blob import generate_container_sas
        def sas(self):
            return generate_container_sas(self.account, "c", user_delegation_key=self.udk, account_key=self.key)
    """, codes=["KL209"])


# ---- Django / Flask settings -----------------------------------------------------------------------------

def test_a_literal_settings_password_is_one_secret_finding_not_two():
    out = findings("""\
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql",
                                 "HOST": "db1.postgres.database.azure.com", "PASSWORD": "Xk9#mQ2vLp7zR4wTz"}}
    """, path="settings.py", codes=["KL106", "KL206"])
    assert [f.code for f in out] == ["KL106"]


def test_a_url_setting_used_by_create_engine_is_reported_once():
    out = findings("""\
        import os
        from sqlalchemy import create_engine
        SQLALCHEMY_DATABASE_URI = f"postgresql://app:{os.environ['PGPASSWORD']}@db1.postgres.database.azure.com/app"
        engine = create_engine(SQLALCHEMY_DATABASE_URI)
    """, codes=["KL206"])
    assert [(f.code, f.span.start.line) for f in out] == [("KL206", 3)]


def test_str_format_fields_are_read_from_their_arguments():
    src = """\
        import os
        DATABASE_URI = "postgresql://{u}:{p}@{h}/db".format(u="app", p=os.environ["PW"], h=os.environ["{}"])
    """
    assert not findings(src.replace('"{}"', '"DBHOST"'), codes=["KL206"])  # an unknown host stays unknown
    assert findings(src.replace('"{}"', '"AZURE_POSTGRESQL_HOST"'), codes=["KL206"])
    assert findings(src.replace('os.environ["{}"]', '"db1.postgres.database.azure.com"'), codes=["KL206"])


def test_settings_facts_feed_the_database_rules():
    src = textwrap.dedent("""\
        import os
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": os.environ["AZURE_PG_HOST"],
                                 "PASSWORD": os.environ["AZURE_PG_PASSWORD"]}}
    """)
    facts = [d for kind, d, _ in get_analysis(make_document("s.py", "s.py", src)).facts if kind == "py.sdk-client"]
    assert [(d["service"], d["auth"], d["code"]) for d in facts] == [("postgres", "key", "KL206")]


# ---- PEP 263 coding cookies ---------------------------------------------------------------------------------

LATIN1 = ('# -*- coding: latin-1 -*-\n'
          'import os\n'
          'from azure.storage.blob import BlobServiceClient\n'
          'd\u00e9j\u00e0 = "\u00e9t\u00e9"; svc = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])\n')


def test_a_latin1_file_is_parsed_with_exact_positions():
    text, fmt = decode(LATIN1.encode("latin-1"))
    doc = make_document("a.py", "a.py", text, fmt)
    assert doc.ensure_parsed() and doc.source_format.encoding == "iso-8859-1"
    (f,) = [f for f in RULES.by_code["KL201"].check(doc)]
    line = LATIN1.splitlines()[3]
    assert (f.span.start.line, f.span.start.column) == (4, line.index("BlobServiceClient") + 1)


def test_a_fix_writes_a_latin1_file_back_in_latin1(tmp_path, run_cli):
    path = tmp_path / "app.py"
    path.write_bytes(LATIN1.encode("latin-1"))
    (tmp_path / "keyless.toml").write_text("")
    code, out, err = run_cli("check", "app.py", "--fix", "--unsafe-fixes", "--no-cache", cwd=str(tmp_path))
    data = path.read_bytes()
    text = data.decode("latin-1")
    assert "d\u00e9j\u00e0" in text and "BlobServiceClient(os.environ[" in text
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # still Latin-1, not re-encoded as UTF-8


@pytest.mark.parametrize("data", [
    "# coding: utf-8\nx = 'caf\u00e9'\n".encode("latin-1"),  # says UTF-8 but is not: Python rejects it too
    b"# coding: no-such-codec\nx = '\xe9'\n",
    b"x = '\xe9'\n# coding: latin-1 is only read on the first two lines\n",
])
def test_undecodable_python_without_a_usable_cookie_stays_a_parse_error(data):
    text, fmt = decode(data)
    doc = make_document("a.py", "a.py", text, fmt)
    assert not doc.ensure_parsed() and doc.parse_error.problem == "undecodable bytes"
    assert encode(doc.text, doc.source_format) == data


def test_a_valid_utf8_file_keeps_utf8_whatever_its_cookie_says():
    data = "# -*- coding: latin-1 -*-\nx = 'caf\u00e9'\n".encode("utf-8")
    text, fmt = decode(data)
    doc = make_document("a.py", "a.py", text, fmt)
    assert doc.source_format.encoding == "utf-8" and encode(doc.text, doc.source_format) == data


def test_verification_refuses_a_result_the_declared_encoding_cannot_write():
    text, fmt = decode(LATIN1.encode("latin-1"))
    doc = make_document("a.py", "a.py", text, fmt)
    with pytest.raises(Refused, match="encoding"):
        Verifier(doc).check(doc.text + "euro = '\u20ac'\n")
    assert Verifier(doc).check(doc.text + "x = 1\n")


def test_stdin_reads_the_cookie_too(run_cli, tmp_path):
    code, out, err = run_cli("check", "-", "--stdin-filename", "app.py", "--no-cache",
                             input=LATIN1.encode("latin-1"), cwd=str(tmp_path))
    assert "KL201" in out and "only secret-scanned" not in err


# ---- false positives removed -----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    "AzureMonitorTraceExporter.from_connection_string(os.environ['APPLICATIONINSIGHTS_CONNECTION_STRING'])",
    "AzureMonitorMetricExporter.from_connection_string(cs)",
])
def test_azure_monitor_exporters_are_not_key_auth(call):
    assert not findings(f"""\
        import os
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter
        exporter = {call}
    """, codes=["KL201"])


def test_an_app_insights_connection_string_is_not_a_key_for_any_client():
    assert not findings("""\
        from azure.eventhub import EventHubProducerClient
        p = EventHubProducerClient.from_connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000000")
    """, codes=["KL201"])


@pytest.mark.parametrize("path,flagged", [
    ("tests/integration/cosmos.py", False),
    ("test_cosmos.py", False),
    ("pkg/cosmos_test.py", False),
    ("conftest.py", False),
    ("app/cosmos.py", True),  # not test code: the key may be a real account's
])
def test_cosmos_emulator_test_code_is_not_key_auth(path, flagged):
    src = """\
        import os
        from azure.cosmos import CosmosClient
        ENDPOINT = os.getenv("COSMOS_ENDPOINT", "https://localhost:8081")
        def client(endpoint, key):
            return CosmosClient(endpoint, credential=key)
    """
    assert bool(findings(src, path=path, codes=["KL202"])) is flagged


def test_test_code_without_emulator_hints_is_still_flagged():
    assert findings("""\
        import os
        from azure.cosmos import CosmosClient
        client = CosmosClient(os.environ["COSMOS_ENDPOINT"], credential=os.environ["COSMOS_KEY"])
    """, path="tests/test_real.py", codes=["KL202"])


# ---- fix verification: walrus bindings --------------------------------------------------------------------

def test_a_fix_that_would_leave_a_walrus_unused_is_refused():
    # regression: the verifier did not count `name :=` as an assignment, so a rewrite that left it
    # unused passed although pyflakes reports it
    src = """\
        import os
        from azure.storage.blob import BlobServiceClient

        def client():
            if key := os.getenv("AZURE_STORAGE_KEY"):
                return BlobServiceClient("https://acct.blob.core.windows.net", credential=key)
    """
    assert findings(src, codes=["KL202"])
    assert fix(src) == textwrap.dedent(src)


# ---- keys passed through `**mapping` (stop 19) ------------------------------------------------------

def test_a_key_credential_in_a_known_mapping_is_fixed_for_the_client_that_gets_it():
    src = """\
        import os
        from azure.core.credentials import AzureKeyCredential
        from azure.search.documents import SearchClient

        def search_client():
            client_args = {"credential": AzureKeyCredential(os.environ["SEARCH_KEY"])}
            return SearchClient(os.environ["SEARCH_ENDPOINT"], "products", **client_args)
    """
    (f,) = findings(src, codes=["KL202"])
    assert f.fix.applicability is Applicability.UNSAFE and "Search Index Data" in f.fix.message
    out = fix(src)
    assert '{"credential": DefaultAzureCredential()}' in out and "AzureKeyCredential" not in out
    ast.parse(out)


def test_a_string_key_in_a_known_mapping_is_reported_and_an_unknown_mapping_is_not():
    (f,) = findings("""\
        import os
        from azure.storage.blob import BlobServiceClient

        def blob_client():
            kwargs = {"credential": os.environ["STORAGE_KEY"]}
            return BlobServiceClient(os.environ["STORAGE_URL"], **kwargs)
    """, codes=["KL202"])
    assert f.span.start.line == 5 and f.fix.applicability is Applicability.DISPLAY_ONLY
    assert not findings("""\
        import os
        from azure.storage.blob import BlobServiceClient

        def blob_client(kwargs):
            return BlobServiceClient(os.environ["STORAGE_URL"], **kwargs)
    """, codes=["KL202"])
