"""Regressions from the application-code field test (docs/field-tests.md): shapes seen in real
repositories that were reported wrongly or fixed badly."""

from __future__ import annotations

import textwrap

from keyless.linter.engine import lint_source, rule_set
from keyless.linter.finding import Applicability
from keyless.linter.fixes import fix_document
from keyless.linter.documents import make_document

RULES = rule_set()


def findings(src: str, path: str = "app.py", codes=None):
    out = lint_source(textwrap.dedent(src), path, select=codes)
    return [f for f in out if codes is None or f.code in codes]


def fixed(src: str, path: str = "app.py", codes=None) -> str:
    src = textwrap.dedent(src)
    doc = make_document(path, path, src)
    lint = lambda d: lint_source(d.text, path, select=codes)  # noqa: E731
    return fix_document(doc, lint, unsafe=True, rules_by_code=RULES.by_code).text


def test_openai_key_or_provider_chosen_at_run_time_is_guidance():
    """`provider = None; if not key: provider = ...`: dropping the key would leave the client with
    no credential whenever the key is set, so the fix is advice, not a rewrite."""
    src = """\
        import os
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        from openai import AzureOpenAI

        def make():
            key = os.environ.get("AZURE_OPENAI_KEY")
            provider = None
            if not key:
                provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
            return AzureOpenAI(azure_endpoint="https://x.openai.azure.com", api_key=key, azure_ad_token_provider=provider)
    """
    (f,) = findings(src, codes=["KL204"])
    assert f.fix.applicability is Applicability.DISPLAY_ONLY and "run time" in f.fix.message
    assert fixed(src, codes=["KL204"]) == textwrap.dedent(src)


def test_openai_key_dropped_when_the_provider_is_always_set():
    src = """\
        import os
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        from openai import AzureOpenAI

        def make():
            provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
            return AzureOpenAI(azure_endpoint="https://x.openai.azure.com", api_key=os.environ["K"], azure_ad_token_provider=provider)
    """
    (f,) = findings(src, codes=["KL204"])
    assert f.fix.applicability is Applicability.UNSAFE
    assert "api_key" not in fixed(src, codes=["KL204"])


def test_connection_string_used_only_when_configured_is_guidance():
    """The graphrag-accelerator shape: a connection string overrides the managed identity when
    set. Rewriting the key branch alone would leave two identity paths and a pointless test."""
    src = """\
        import os
        from azure.cosmos import CosmosClient
        from azure.identity import DefaultAzureCredential

        def client():
            conn_string = os.getenv("COSMOS_CONNECTION_STRING")
            if conn_string:
                return CosmosClient.from_connection_string(conn_string)
            return CosmosClient(os.getenv("COSMOS_URI_ENDPOINT"), DefaultAzureCredential())

        def other():
            conn_string = os.getenv("COSMOS_CONNECTION_STRING")
            if not conn_string:
                c = CosmosClient(os.getenv("COSMOS_URI_ENDPOINT"), DefaultAzureCredential())
            else:
                c = CosmosClient.from_connection_string(conn_string)
            return c
    """
    fs = findings(src, codes=["KL201"])
    assert len(fs) == 2
    assert all(f.fix.applicability is Applicability.DISPLAY_ONLY and "drop that branch" in f.fix.message for f in fs)
    assert fixed(src, codes=["KL201"]) == textwrap.dedent(src)


def test_connection_string_with_a_guard_elsewhere_is_still_rewritten():
    src = """\
        import os
        from azure.storage.blob import BlobServiceClient

        def client():
            conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
            if not os.environ.get("ENABLED"):
                return None
            return BlobServiceClient.from_connection_string(conn)
    """
    (f,) = findings(src, codes=["KL201"])
    assert f.fix.applicability is Applicability.UNSAFE
    assert "DefaultAzureCredential()" in fixed(src, codes=["KL201"])


def test_openai_key_used_only_when_set_is_guidance():
    src = """\
        import os
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        from openai import AzureOpenAI

        def make():
            api_key = os.getenv("AZURE_OPENAI_API_KEY_OVERRIDE")
            if api_key:
                return AzureOpenAI(azure_endpoint="https://x.openai.azure.com", api_key=api_key)
            provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
            return AzureOpenAI(azure_endpoint="https://x.openai.azure.com", azure_ad_token_provider=provider)
    """
    (f,) = findings(src, codes=["KL204"])
    assert f.fix.applicability is Applicability.DISPLAY_ONLY and "drop that branch" in f.fix.message


def test_openai_fix_drops_the_check_that_the_key_is_set():
    """The azure-functions cookbook shape: `if ... or not api_key: return fallback` before the
    client. Keeping the check would keep the app requiring AZURE_OPENAI_KEY after the rewrite."""
    src = """\
        import os
        from openai import AzureOpenAI

        def chat(message):
            endpoint = os.getenv("AZURE_OPENAI_ENDPOINT")
            api_key = os.getenv("AZURE_OPENAI_KEY")
            if AzureOpenAI is None or not endpoint or not api_key:
                return "fallback"
            client = AzureOpenAI(
                api_key=api_key,
                api_version="2024-02-01",
                azure_endpoint=endpoint,
            )
            return client.chat.completions.create(model="m", messages=[{"role": "user", "content": message}])
    """
    (f,) = findings(src, codes=["KL204"])
    assert "the check that the key is set goes too" in f.fix.message
    new = fixed(src, codes=["KL204"])
    assert "if AzureOpenAI is None or not endpoint:" in new
    assert "AZURE_OPENAI_KEY" not in new and "api_key" not in new  # the read went with its last use
    assert "azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential()" in new
    compile(new, "app.py", "exec")


def test_openai_key_read_elsewhere_keeps_its_check():
    src = """\
        import os
        from openai import AzureOpenAI

        def chat():
            api_key = os.getenv("AZURE_OPENAI_KEY")
            if not os.getenv("X") or not api_key:
                return None
            print(len(api_key))
            return AzureOpenAI(api_key=api_key, api_version="2024-02-01", azure_endpoint="https://x.openai.azure.com")
    """
    (f,) = findings(src, codes=["KL204"])
    assert "check" not in f.fix.message
    assert "not api_key" in fixed(src, codes=["KL204"])


def test_search_key_fix_drops_the_check_that_the_key_is_set():
    src = """\
        import os
        from azure.core.credentials import AzureKeyCredential
        from azure.search.documents import SearchClient

        def search_client():
            endpoint = os.getenv("AI_SEARCH_ENDPOINT")
            api_key = os.getenv("AI_SEARCH_KEY")
            if (
                SearchClient is None
                or not endpoint
                or api_key is None
            ):
                return None
            return SearchClient(endpoint=endpoint, index_name="i", credential=AzureKeyCredential(api_key))
    """
    new = fixed(src, codes=["KL202"])
    assert "api_key" not in new and "AzureKeyCredential" not in new and "AI_SEARCH_KEY" not in new
    assert "or not endpoint\n    ):" in new and "credential=DefaultAzureCredential()" in new
    compile(new, "app.py", "exec")


def test_two_fixes_of_one_pass_share_one_import():
    """Each fix adds the azure.identity import it needs; applied together they must not leave
    `from azure.identity import DefaultAzureCredential` twice."""
    src = """\
        import os
        from azure.storage.blob import BlobServiceClient
        client = BlobServiceClient("https://acct1.blob.core.windows.net", credential=os.environ["AZURE_STORAGE_KEY"])
        from openai import AzureOpenAI
        c = AzureOpenAI(azure_endpoint="https://x1.openai.azure.com", api_key=os.environ["AZURE_OPENAI_KEY"], api_version="2024-02-01")
    """
    new = fixed(src)
    assert new.count("DefaultAzureCredential") == 3, new  # one import, two uses
    assert "from azure.identity import get_bearer_token_provider" in new
    compile(new, "app.py", "exec")


def test_functions_host_storage_setting_becomes_its_identity_based_form():
    src = """\
        import os
        from azure.data.tables import TableServiceClient
        from azure.storage.blob import BlobClient

        def copy(container, name):
            connection = os.environ["AzureWebJobsStorage"]
            blob = BlobClient.from_connection_string(connection, container_name=container, blob_name=name)
            table = TableServiceClient.from_connection_string(connection)
            return blob, table
    """
    new = fixed(src, codes=["KL201"])
    assert 'BlobClient(os.environ["AzureWebJobsStorage__blobServiceUri"], container_name=container' in new
    assert 'TableServiceClient(os.environ["AzureWebJobsStorage__tableServiceUri"], credential=' in new
    compile(new, "app.py", "exec")
