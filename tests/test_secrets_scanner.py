"""The shared scanner: memo, one finding per secret, allowlist, redaction, hostile inputs."""

from __future__ import annotations

import pytest

import keygen as kg
from keyless.linter.documents import make_document
from keyless.linter.finding import Severity
from keyless.rules.secrets import RULES, allowlist
from keyless.rules.secrets.scanner import MEMO_KEY, classify_name, scan


def findings(text, rel="x.py"):
    doc = make_document(rel, rel, text)
    out = []
    for r in RULES:
        out.extend(r().check(doc))
    return doc, out


def test_scan_is_memoised_and_shared():
    doc = make_document("x.env", "x.env", f"AZURE_STORAGE_KEY={kg.legacy_b64(64)}\n")
    first = scan(doc)
    assert doc.memo[MEMO_KEY] is first
    assert scan(doc) is first


def test_identifiable_key_in_connection_string_is_one_finding():
    key = kg.identifiable("+ASt")
    text = f'c = "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key};EndpointSuffix=core.windows.net"\n'
    _, found = findings(text)
    assert len(found) == 1
    f = found[0]
    assert f.code == "KL101" and f.severity is Severity.CRITICAL
    said = f"{f.message} | {f.fix.message}"  # the message, and the help for what it has no room for
    assert "'contoso'" in f.message and "checksum verified" in said and "connection string" in said
    assert f.span.start.column == text.index(key) + 1
    assert "https://contoso.blob.core.windows.net" in f.fix.message


def test_seed_classifies_variant_and_severity():
    _, f = findings(f'q = "{kg.identifiable("AzSe", 1)}"\na = "{kg.identifiable("AzSe", 0)}"\n')
    assert [x.severity for x in f] == [Severity.MEDIUM, Severity.HIGH]
    assert "query key" in f[0].message and "admin key" in f[1].message
    _, f = findings(f'd = "{kg.identifiable("AIoT", 2)}"\n')
    assert f[0].code == "KL104" and f[0].severity is Severity.MEDIUM


def test_secret_never_in_output():
    secrets = [kg.legacy_b64(64, "z"), kg.aad_secret("z"), kg.hex32("z"), kg.ado_pat("z")]
    text = (f'c = "AccountName=a;AccountKey={secrets[0]};EndpointSuffix=core.windows.net"\n'
            f'AZURE_CLIENT_SECRET = "{secrets[1]}"\n'
            f'endpoint = "https://x.openai.azure.com"\napi_key = "{secrets[2]}"\n'
            f'url = "https://u:{secrets[3]}@dev.azure.com/o/p"\n')
    _, found = findings(text)
    assert {f.code for f in found} == {"KL101", "KL112", "KL111", "KL113"}
    for f in found:
        blob = f.message + (f.fix.message if f.fix else "") + f.fingerprint + repr(f.fix_data)
        for s in secrets:
            assert s not in blob


def test_fingerprint_survives_line_moves():
    key = kg.legacy_b64(64, "m")
    _, a = findings(f'c = "AccountName=a;AccountKey={key};"\n')
    _, b = findings(f'\n\n# moved\nc = "AccountName=a;AccountKey={key};"\n')
    assert a[0].fingerprint == b[0].fingerprint


@pytest.mark.parametrize("value", [
    "<your-key>", "{{ secrets.KEY }}", "${STORAGE_KEY}", "$(StorageKey)", "%STORAGE_KEY%", "your_password",
    "xxxxxxxxxxxx", "REDACTED", "changeme", "***", "password", "secret", "mypassword",
    "os.environ['X']", "[parameters('key')]", "var.storage_key", "/run/secrets/db_password",
    "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/x/)", "#{StorageKey}#", "__KEY__",
    "sha512-" + kg.legacy_b64(64), "5f1c2a3b-1111-4a2b-8c3d-0123456789ab",
])
def test_placeholders(value):
    assert allowlist.is_placeholder(value) or allowlist.is_reference(value)


def test_real_values_are_not_placeholders():
    for v in (kg.legacy_b64(64), kg.hex32(), kg.aad_secret(), kg.password()):
        assert not allowlist.is_placeholder(v)


def test_emulator_keys_by_digest():
    azurite = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    assert allowlist.is_emulator_key(azurite)
    assert not allowlist.is_emulator_key(kg.legacy_b64(64))
    import inspect

    from keyless.rules.secrets import allowlist as mod
    assert azurite not in inspect.getsource(mod)
    _, f = findings(f"AZURE_STORAGE_KEY={azurite}\n", "x.env")
    assert f == []


@pytest.mark.parametrize("text", [
    'headers = {"key": "ctrl+shift+down"}',
    "monkey = 'abcdef0123456789abcdef0123456789'",
    "public_key = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'",
    "secret_name = 'storage-key'",
    'client_id = "5f1c2a3b-1111-4a2b-8c3d-0123456789ab"',
    'password = input("password: ")',
    "db = psycopg2.connect(host='localhost', password='hunter2hunter2')",
    'conn = "Server=myserver.example.com;Database=d;User Id=u;Password=Xy7!kLm2pQ9w;"',
    'APPINSIGHTS = "InstrumentationKey=5f1c2a3b-1111-4a2b-8c3d-0123456789ab;IngestionEndpoint=https://x.in.applicationinsights.azure.com/"',
    "key = listKeys(resourceId('Microsoft.Storage/storageAccounts', 'x'), '2021-01-01').keys[0].value",
])
def test_lookalikes_not_reported(text):
    _, f = findings(text + "\n")
    assert f == [], [x.message for x in f]


def test_name_classification_by_words():
    assert classify_name("AZURE_STORAGE_KEY") == "storage"
    assert classify_name("secretDataCredential") is None or classify_name("secretDataCredential") != "acr"
    assert classify_name("ACR_PASSWORD") == "acr"
    assert classify_name("Ocp-Apim-Subscription-Key") == "ocp"
    assert classify_name("AZURE_OPENAI_API_KEY") == "ai"
    assert classify_name("storage_key_name") is None
    assert classify_name("public_key") is None


def test_k8s_name_value_pairs():
    key = kg.legacy_b64(64, "k8s")
    text = f"env:\n  - name: AZURE_STORAGE_KEY\n    value: \"{key}\"\n  - name: OTHER\n    valueFrom:\n      secretKeyRef: {{name: s, key: k}}\n"
    _, f = findings(text, "deploy.yaml")
    assert [(x.code, x.span.start.line) for x in f] == [("KL101", 3)]


# Hostile input, shaped after what the scanner's anchors and recognisers look for: each shape grows
# linearly with its length (the scaling method of tests/test_time_bounds.py, which already runs
# random base64 and `;key=` pairs through every file kind).
SCANNER_SHAPES = {
    "identifiable-key runs": lambda n: (("A" * 5000 + "+ASt") * max(1, n * 7 // 50_040) + "JQQJ9" * (n * 18 // 500)
                                        + "8Q~" * (n * 11 // 300)),
    "AccountKey pairs": ";AccountKey=",
    "password pairs": "password=x;",
    "URLs with user info": "https://a:b@",
    "SAS signatures": "&sig=",
    "secret-like names": "api_key_",
    "base32 near an Azure DevOps host": lambda n: "abcdefgh234567" * (n // 14) + " dev.azure.com",
}


@pytest.mark.parametrize("shape", sorted(SCANNER_SHAPES))
def test_the_scanner_is_linear_on_hostile_input(shape):
    from test_time_bounds import MAX_GROWTH, every_rule, growth

    ratio = growth("x.txt", SCANNER_SHAPES[shape], rules=every_rule())
    assert ratio <= MAX_GROWTH, f"{shape}: 4x the input took {ratio:.1f}x the time"
