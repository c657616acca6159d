"""The hook and the editor agree with CI (keyless.linter.context).

For any file F of a project, the findings reported for F by `keyless check F` (pre-commit, with a
cold or a warm cache), by `keyless check --stdin-filename F -`, by the language server when F is
opened or saved and by `keyless check .` are identical: project rules (KL505, KL401's role advice,
KL501, KL503...) see the whole repository whichever way the file comes in. Checked on the demo, on
the project fixtures and on generated repository layouts, also for a new file not saved yet and
after a file was deleted.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import FIXTURES, write

pytest.importorskip("pygls")

from keyless.linter.lsp import KeylessServer  # noqa: E402


def _cli(cwd, *args, stdin: str | None = None) -> list[dict]:
    """`keyless check ... --output-format json` in process; the JSON findings."""
    from click.testing import CliRunner

    from keyless.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, ["check", *args, "--output-format", "json", "--no-progress"],
                                 input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)
    assert res.exit_code in (0, 1), (args, res.exit_code, res.stderr)
    return json.loads(res.stdout)["findings"]


def _key(f: dict) -> tuple:
    return (f["path"], f["code"], f["location"]["line"], f["location"]["column"], f["end_location"]["line"],
            f["end_location"]["column"], f["fingerprint"], f["message"], f["severity"])


def _lsp_key(rel: str, f) -> tuple:
    return (rel, f.code, f.span.start.line, f.span.start.column, f.span.end.line, f.span.end.column, f.fingerprint,
            f.message, f.severity.value)


def lsp_findings(server: KeylessServer, root, rel: str, text: str, others: dict[str, str] | None = None) -> set:
    """What the language server publishes for `rel` when it is opened (or saved) with `text`: the
    lint that didOpen/didSave runs, with the other open buffers."""
    path = os.path.join(str(root), rel)
    uri = "file://" + path
    buffers = {os.path.join(str(root), k): v for k, v in (others or {}).items()}
    linted = server._lint(uri, text, 1, None, len, buffers)
    assert not getattr(linted, "project_pending", False)  # a small project: published in one go
    return {_lsp_key(rel, f) for f in linted.findings}


def project_files(root) -> list[str]:
    out = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "cache")]
        for name in names:
            rel = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            if rel not in ("keyless.toml", ".gitignore") and not rel.startswith("ignored/"):
                out.append(rel)
    return sorted(out)


def assert_agree(root, cache_dir, files: list[str] | None = None, server: KeylessServer | None = None) -> dict:
    """Every way of checking each file reports exactly what `keyless check .` reports for it."""
    files = files if files is not None else project_files(root)
    whole = _cli(root, ".", "--no-cache")
    by_path: dict[str, set] = {}
    for f in whole:
        by_path.setdefault(f["path"], set()).add(_key(f))
    assert set(by_path) <= set(files), sorted(set(by_path) - set(files))
    _cli(root, ".", "--cache-dir", cache_dir)  # a warm cache, as after a CI-like run
    server = server or KeylessServer()
    for rel in files:
        want = by_path.get(rel, set())
        with open(os.path.join(str(root), rel), encoding="utf-8") as fh:
            text = fh.read()
        cold = {_key(f) for f in _cli(root, rel, "--cache-dir", os.path.join(cache_dir, "cold-" + rel.replace("/", "_")))}
        assert cold == want, ("cold hook", rel)
        warm = {_key(f) for f in _cli(root, rel, "--cache-dir", cache_dir)}
        assert warm == want, ("warm hook", rel)
        stdin = {_key(f) for f in _cli(root, "--stdin-filename", rel, "-", "--cache-dir", cache_dir, stdin=text)}
        assert stdin == want, ("stdin", rel)
        stdin = {_key(f) for f in _cli(root, "--stdin-filename", rel, "-", "--no-cache", stdin=text)}
        assert stdin == want, ("stdin without a cache", rel)
        assert lsp_findings(server, root, rel, text) == want, ("language server", rel)
    return by_path


def _project(tmp_path, source: str, marker: str = "keyless.toml"):
    root = tmp_path / "p"
    shutil.copytree(source, root)
    if marker == "git":
        (root / ".git").mkdir()
    else:
        (root / marker).write_text("")
    return root


# ---- the demo and the project fixtures ------------------------------------------------------------

def test_demo_agrees_everywhere(tmp_path):
    root = _project(tmp_path, os.path.join(FIXTURES, "demo"), marker="git")
    by_path = assert_agree(root, str(tmp_path / "cache"))
    assert any(code == "KL505" for keys in by_path.values() for _, code, *_ in keys)
    assert any(f["code"] == "KL401" and "(what the code uses)" in f["fix"]["message"]
               for f in _cli(root, ".", "--no-cache"))  # the help names the roles the Python code needs


@pytest.mark.parametrize("fixture", ["KL505/project_azd", "KL505/project_parameters", "KL401/project_linked",
                                     "KL401/project_tf_module", "KL503/project_helm"])
def test_project_fixtures_agree_everywhere(tmp_path, fixture):
    root = _project(tmp_path, os.path.join(FIXTURES, *fixture.split("/")))
    assert_agree(root, str(tmp_path / "cache"))


def test_hook_reports_kl505_for_a_new_worker(tmp_path):
    """The issue's case: a commit adding app/worker.py passed the hook and then failed CI."""
    root = _project(tmp_path, os.path.join(FIXTURES, "KL505", "project_azd"))
    cache = str(tmp_path / "cache")
    shutil.rmtree(root / "src" / "worker")
    _cli(root, ".", "--cache-dir", cache)
    write(root, "src/worker/main.py", "from azure.identity import ManagedIdentityCredential\n\n"
                                      "mi = ManagedIdentityCredential()\n")
    hook = _cli(root, "src/worker/main.py", "--cache-dir", cache)
    assert [(f["path"], f["code"]) for f in hook] == [("src/worker/main.py", "KL505")]
    ci = [f for f in _cli(root, ".", "--no-cache") if f["path"] == "src/worker/main.py"]
    assert {_key(f) for f in hook} == {_key(f) for f in ci}


def test_unsaved_new_file_and_deleted_file(tmp_path):
    """A buffer not saved yet (stdin, the language server) sees the project as a saved file would;
    a deleted file's cached facts never linger."""
    root = _project(tmp_path, os.path.join(FIXTURES, "KL505", "project_azd"))
    cache = str(tmp_path / "cache")
    _cli(root, ".", "--cache-dir", cache)
    text = "from azure.identity import DefaultAzureCredential\n\ncredential = DefaultAzureCredential()\n"
    rel = "src/api/new_module.py"
    stdin = {_key(f) for f in _cli(root, "--stdin-filename", rel, "-", "--cache-dir", cache, stdin=text)}
    server = KeylessServer()
    editor = lsp_findings(server, root, rel, text)
    write(root, rel, text)
    saved = {_key(f) for f in _cli(root, ".", "--no-cache") if f["path"] == rel}
    assert saved and {c for _, c, *_ in saved} == {"KL505"}
    assert stdin == editor == saved

    # azure.yaml goes: the worker is no longer linked to its app through it.
    before = {_key(f) for f in _cli(root, "src/worker/main.py", "--cache-dir", cache)}
    os.remove(root / "azure.yaml")
    after = {_key(f) for f in _cli(root, "src/worker/main.py", "--cache-dir", cache)}
    assert after != before
    assert_agree(root, cache)


def test_open_buffers_count_and_a_saved_file_relints_nothing_stale(tmp_path):
    """The language server reads other open buffers over the disk: an unsaved edit of the
    Terraform app (a second identity) changes the worker's KL505 at once."""
    root = _project(tmp_path, os.path.join(FIXTURES, "KL505", "project_azd"))
    server = KeylessServer()
    worker = (root / "src" / "worker" / "main.py").read_text()
    main_tf = (root / "infra" / "main.tf").read_text()
    assert {k[1] for k in lsp_findings(server, root, "src/worker/main.py", worker)} == {"KL505"}
    single = main_tf.replace('type         = "SystemAssigned, UserAssigned"', 'type         = "UserAssigned"')
    assert single != main_tf
    assert lsp_findings(server, root, "src/worker/main.py", worker, {"infra/main.tf": single}) == set()
    assert {k[1] for k in lsp_findings(server, root, "src/worker/main.py", worker)} == {"KL505"}


def test_no_project_root_keeps_the_directory_rule(tmp_path):
    """Without a configuration file or a git root there is no project to read: a file named
    alone is checked with its own directory's files (and nothing above is walked)."""
    root = tmp_path / "p"
    shutil.copytree(os.path.join(FIXTURES, "KL505", "project_azd"), root)
    assert _cli(root, "src/worker/main.py", "--no-cache") == []


def test_hook_does_not_read_the_repository_for_a_file_without_facts(tmp_path, monkeypatch):
    """Project findings land on files that gave facts: a file that gives none (a README) needs no
    facts from the rest of the repository, cold or warm."""
    from keyless.linter import context

    root = _project(tmp_path, os.path.join(FIXTURES, "demo"))
    called = []
    real = context.ProjectContext.facts
    monkeypatch.setattr(context.ProjectContext, "facts", lambda self: called.append(1) or real(self))
    _cli(root, "README.md", "--no-cache")
    assert called == []
    _cli(root, "app/messaging.py", "--no-cache")
    assert called == [1]


# ---- modules: the values each caller passes decide ---------------------------------------------------

# A Python app reading a connection string, the Bicep that deploys it (an app setting fed by
# listKeys()), Bicep and Terraform modules whose parameter defaults would be findings that no
# caller keeps (every caller passes a safe value, one through a module of a module), and callers
# whose values make findings (reported at the caller).
MODULE_PROJECT = {
    "app/main.py": (
        "import os\n\nfrom azure.storage.blob import BlobServiceClient\n\n"
        'client = BlobServiceClient.from_connection_string(os.environ["STORAGE_CONNECTION"])\n'),
    "infra/main.bicep": (
        "module data 'modules/storage.bicep' = {\n  name: 'data'\n  params: {\n    name: 'stdata'\n"
        "    sharedKey: false\n  }\n}\n\n"
        "module platform 'modules/platform.bicep' = {\n  name: 'platform'\n  params: {\n    prefix: 'plat'\n  }\n}\n\n"
        "module orders 'modules/site.bicep' = {\n  name: 'orders'\n  params: {\n    siteName: 'orders'\n"
        "    identityType: 'None'\n  }\n}\n\n"
        "resource api 'Microsoft.Web/sites@2023-01-01' = {\n  name: 'api'\n  location: 'westeurope'\n"
        "  identity: {\n    type: 'SystemAssigned'\n  }\n  properties: {\n    siteConfig: {\n      appSettings: [\n"
        "        { name: 'STORAGE_CONNECTION', value: 'DefaultEndpointsProtocol=https;AccountName=stdata;"
        "AccountKey=${listKeys('stdata', '2023-01-01').keys[0].value}' }\n      ]\n    }\n  }\n}\n"),
    "infra/modules/platform.bicep": (
        "param prefix string\nparam keys bool = false\n\n"
        "module logs 'storage.bicep' = {\n  name: '${prefix}-logs'\n  params: {\n    name: '${prefix}logs'\n"
        "    sharedKey: keys\n  }\n}\n"),
    "infra/modules/storage.bicep": (
        "param name string\nparam sharedKey bool = true\n\n"
        "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: name\n  location: 'westeurope'\n"
        "  kind: 'StorageV2'\n  sku: { name: 'Standard_LRS' }\n  properties: {\n    allowSharedKeyAccess: sharedKey\n"
        "  }\n}\n"),
    "infra/modules/site.bicep": (
        "param siteName string\nparam identityType string = 'SystemAssigned'\n\n"
        "resource site 'Microsoft.Web/sites@2023-01-01' = {\n  name: siteName\n  location: 'westeurope'\n"
        "  identity: {\n    type: identityType\n  }\n  properties: {\n    siteConfig: {\n      appSettings: [\n"
        "        { name: 'STORAGE_ACCOUNT', value: 'stdata' }\n      ]\n    }\n  }\n}\n"),
    "tf/main.tf": (
        'module "orders_db" {\n  source                        = "./modules/cosmos"\n'
        '  name                          = "cosmos-orders"\n  local_authentication_disabled = true\n}\n\n'
        'module "billing_db" {\n  source                        = "./modules/cosmos"\n'
        '  name                          = "cosmos-billing"\n  local_authentication_disabled = true\n}\n\n'
        'module "archive" {\n  source      = "./modules/storage"\n  name        = "starchive"\n'
        "  shared_keys = true\n}\n"),
    "tf/modules/cosmos/variables.tf": (
        'variable "name" {\n  type = string\n}\n\n'
        'variable "local_authentication_disabled" {\n  type    = bool\n  default = false\n}\n'),
    "tf/modules/cosmos/main.tf": (
        'resource "azurerm_cosmosdb_account" "db" {\n  name                          = var.name\n'
        '  location                      = "westeurope"\n  resource_group_name           = "rg"\n'
        '  offer_type                    = "Standard"\n  kind                          = "GlobalDocumentDB"\n'
        "  local_authentication_disabled = var.local_authentication_disabled\n"
        '  consistency_policy {\n    consistency_level = "Session"\n  }\n'
        '  geo_location {\n    location          = "westeurope"\n    failover_priority = 0\n  }\n}\n'),
    "tf/modules/storage/main.tf": (
        'variable "name" {\n  type = string\n}\n\nvariable "shared_keys" {\n  type    = bool\n  default = false\n}\n\n'
        'resource "azurerm_storage_account" "sa" {\n  name                      = var.name\n'
        '  resource_group_name       = "rg"\n  location                  = "westeurope"\n'
        '  account_tier              = "Standard"\n  account_replication_type  = "LRS"\n'
        "  shared_access_key_enabled = var.shared_keys\n}\n"),
}
# What the modules' defaults decide when nobody calls them (the control below).
MODULE_DEFAULT_FINDINGS = [("infra/modules/storage.bicep", "KL260"), ("tf/modules/cosmos/main.tf", "KL261")]


def module_project(root, marker: str | None = "git"):
    for rel, text in MODULE_PROJECT.items():
        write(root, rel, text)
    if marker == "git":
        (root / ".git").mkdir()
    return root


def test_module_decisions_agree_everywhere(tmp_path):
    """A module checked alone (the hook, stdin, the editor) reports what `keyless check .` reports
    for it: not the findings its defaults decide when every caller passes other values, cold or
    warm; what a caller's value decides lands on the caller in every mode."""
    root = module_project(tmp_path / "p")
    by_path = assert_agree(root, str(tmp_path / "cache"))
    found = {(path, key[1]) for path, keys in by_path.items() for key in keys}
    assert {("app/main.py", "KL201"), ("infra/main.bicep", "KL252"), ("infra/main.bicep", "KL301"),
            ("tf/main.tf", "KL260")} <= found
    assert not found & set(MODULE_DEFAULT_FINDINGS)
    # Control: the modules' defaults do decide these findings when no caller is known (checked
    # without a project root, so with their own directory only): the project exercises the gap.
    alone = module_project(tmp_path / "alone", marker=None)
    for rel, code in MODULE_DEFAULT_FINDINGS:
        assert code in {f["code"] for f in _cli(alone, rel, "--no-cache")}, rel


# ---- the language server over its protocol -------------------------------------------------------

def _lsp_position(text: str, line: int, character: int) -> tuple[int, int]:
    """An LSP position (0-based line, UTF-16 units) as keyless's (1-based line, 1-based column in
    code points)."""
    import re

    lines = re.split(r"\r\n|\r|\n", text)
    column, units = 0, 0
    for ch in lines[line] if line < len(lines) else "":
        if units >= character:
            break
        units += 2 if ord(ch) > 0xFFFF else 1
        column += 1
    return line + 1, column + 1


async def _published_by_the_server(root, files: list[str], cache_dir: str) -> dict[str, set]:
    """Open every file in a real `keyless server` (stdio, as an editor runs it), one after the
    other and left open; the first diagnostics published for each, as (path, code, line, column,
    message)."""
    import asyncio
    import sys

    from lsprotocol import types as lsp
    from pygls.protocol import default_converter
    from pytest_lsp import LanguageClient

    client = LanguageClient(converter_factory=default_converter)
    published: dict[str, list] = {}

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(ls, params: lsp.PublishDiagnosticsParams):
        published.setdefault(params.uri, []).append(params.diagnostics)

    env = {**os.environ, "KEYLESS_CACHE_DIR": cache_dir}  # cold at first, then what the server wrote
    await client.start_io(sys.executable, "-m", "keyless", "server", env=env, cwd=str(root))
    out: dict[str, set] = {}
    try:
        await asyncio.wait_for(client.initialize_session(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(general=lsp.GeneralClientCapabilities(
                position_encodings=[lsp.PositionEncodingKind.Utf16])),
            root_uri=root.as_uri(), initialization_options={"debounceMs": 0},
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name="p")])), 120)
        for rel in files:
            text = (root / rel).read_text(encoding="utf-8")
            uri = (root / rel).as_uri()
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
                uri=uri, language_id="plaintext", version=1, text=text)))
            for _ in range(12_000):  # a hang guard: a lint takes well under a second here
                if published.get(uri):
                    break
                await asyncio.sleep(0.01)
            assert published.get(uri), f"nothing published for {rel}"
            out[rel] = {(rel, d.code, *_lsp_position(text, d.range.start.line, d.range.start.character), d.message)
                        for d in published[uri][0]}
    finally:
        await asyncio.wait_for(client.shutdown_session(), 60)
        await client.stop()
    return out


@pytest.mark.asyncio
@pytest.mark.parametrize("project", ["demo", "modules"])
async def test_the_language_server_publishes_what_check_reports(tmp_path, project):
    """What the editor shows for each file (publishDiagnostics of `keyless server`, positions and
    messages as the client gets them) is what `keyless check .` reports for it."""
    if project == "demo":
        root = _project(tmp_path, os.path.join(FIXTURES, "demo"), marker="git")
    else:
        root = module_project(tmp_path / "p")
    files = project_files(root)
    want: dict[str, set] = {rel: set() for rel in files}
    for f in _cli(root, ".", "--no-cache"):
        want[f["path"]].add((f["path"], f["code"], f["location"]["line"], f["location"]["column"], f["message"]))
    assert any(want.values())
    got = await _published_by_the_server(root, files, str(tmp_path / "server-cache"))
    assert got == want

# ---- generated layouts -----------------------------------------------------------------------------

IDENTITIES = {
    "none": None,
    "system": 'type = "SystemAssigned"',
    "one-user": 'type = "UserAssigned"\n    identity_ids = [azurerm_user_assigned_identity.a.id]',
    "two-users": ('type = "UserAssigned"\n    identity_ids = [azurerm_user_assigned_identity.a.id, '
                  "azurerm_user_assigned_identity.b.id]"),
    "system+user": 'type = "SystemAssigned, UserAssigned"\n    identity_ids = [azurerm_user_assigned_identity.a.id]',
}
CREDENTIALS = {
    "dac": "DefaultAzureCredential()",
    "dac-pinned": 'DefaultAzureCredential(managed_identity_client_id="11111111-1111-1111-1111-111111111111")',
    "mic": "ManagedIdentityCredential()",
    "mic-pinned": 'ManagedIdentityCredential(client_id="11111111-1111-1111-1111-111111111111")',
}
CLIENTS = {
    "blob": ("from azure.storage.blob import BlobServiceClient",
             'BlobServiceClient("https://acct.blob.core.windows.net", credential=credential)'),
    "secrets": ("from azure.keyvault.secrets import SecretClient",
                'SecretClient("https://kv.vault.azure.net", credential).get_secret("x")'),
    "bus": ("from azure.servicebus import ServiceBusClient", 'ServiceBusClient("ns.servicebus.windows.net", credential)'),
    "none": ("", ""),
}


def _tf_app(name: str, identity: str, client_id_env: bool, tagged: bool) -> str:
    ident = IDENTITIES[identity]
    tags = f'  tags = {{ "azd-service-name" = "{name}" }}\n' if tagged else ""
    env = ('      env {\n        name  = "AZURE_CLIENT_ID"\n'
           "        value = azurerm_user_assigned_identity.a.client_id\n      }\n") if client_id_env else ""
    return (f'resource "azurerm_container_app" "{name}" {{\n  name = "{name}"\n  resource_group_name = "rg"\n'
            f'  revision_mode = "Single"\n{tags}' + (f"  identity {{\n    {ident}\n  }}\n" if ident else "")
            + f'  template {{\n    container {{\n      name  = "{name}"\n      image = "contoso.azurecr.io/{name}:1"\n'
            f'      cpu = 0.5\n      memory = "1Gi"\n{env}    }}\n  }}\n}}\n')


SERVICE_NAMES = ["orders", "billing", "shipping", "catalog"]

service = st.fixed_dictionaries({
    "identity": st.sampled_from(sorted(IDENTITIES)),
    "client_id_env": st.booleans(),
    "credential": st.sampled_from(sorted(CREDENTIALS)),
    "client": st.sampled_from(sorted(CLIENTS)),
    "azd": st.booleans(),  # azure.yaml maps the service (else: directory name = app name)
    "app_file": st.sampled_from(["infra/main.tf", "infra/{name}.tf"]),
})
layout = st.fixed_dictionaries({
    "services": st.lists(service, min_size=1, max_size=3),
    "role": st.sampled_from([None, "Contributor", "Owner", "Reader"]),
    "role_scope": st.sampled_from(["sub", "var"]),  # literal subscription, or var.scope from variables.tf
    "workload_identity": st.sampled_from([None, "annotated", "missing"]),
    "marker": st.sampled_from(["keyless.toml", "git"]),
    "ignored": st.booleans(),
})


def build_layout(root, spec: dict) -> None:
    """A small repository from the spec: apps (Terraform), their Python code, azure.yaml, a role
    assignment whose scope may come from a sibling variables file, Kubernetes workload identity."""
    root.mkdir()
    if spec["marker"] == "git":
        (root / ".git").mkdir()
    else:
        (root / "keyless.toml").write_text("")
    tf: dict[str, str] = {}
    azd = []
    for i, svc in enumerate(spec["services"]):
        name = SERVICE_NAMES[i]
        target = svc["app_file"].format(name=name)
        tf[target] = tf.get(target, "") + _tf_app(name, svc["identity"], svc["client_id_env"], svc["azd"])
        if svc["azd"]:
            azd.append(f"  {name}:\n    project: ./services/{name}\n    host: containerapp\n    language: python\n")
        imp, use = CLIENTS[svc["client"]]
        code = ("import os\n\nfrom azure.identity import DefaultAzureCredential, ManagedIdentityCredential\n"
                f"{imp}\n\ncredential = {CREDENTIALS[svc['credential']]}\n" + (f"client = {use}\n" if use else ""))
        write(root, f"services/{name}/app.py" if svc["azd"] else f"{name}/app.py", code)
    if spec["role"]:
        scope = ("data.azurerm_subscription.current.id" if spec["role_scope"] == "sub" else "var.scope")
        tf["infra/roles.tf"] = (f'resource "azurerm_role_assignment" "app" {{\n  scope = {scope}\n'
                                f'  role_definition_name = "{spec["role"]}"\n'
                                "  principal_id = azurerm_user_assigned_identity.a.principal_id\n}\n")
        if spec["role_scope"] == "var":
            tf["infra/variables.tf"] = ('variable "scope" {\n  default = "/subscriptions/00000000-0000-0000-0000-'
                                        '000000000000"\n}\n')
    for rel, text in tf.items():
        write(root, rel, text)
    if azd:
        write(root, "azure.yaml", "name: gen\nservices:\n" + "".join(azd))
    if spec["workload_identity"]:
        annotations = ("  annotations:\n    azure.workload.identity/client-id: 11111111-1111-1111-1111-111111111111\n"
                       if spec["workload_identity"] == "annotated" else "")
        write(root, "k8s/serviceaccount.yaml", f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n{annotations}")
        write(root, "k8s/deployment.yaml",
              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    metadata:\n"
              "      labels:\n        azure.workload.identity/use: \"true\"\n    spec:\n      serviceAccountName: api\n"
              "      containers:\n        - name: api\n          image: contoso.azurecr.io/api:1\n")
    if spec["ignored"]:
        # A git-ignored app with several identities: neither a full run nor a hook may see it.
        write(root, ".gitignore", "ignored/\n")
        write(root, "ignored/app.tf", _tf_app("orders", "two-users", False, True))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=layout)
def test_generated_layouts_agree_everywhere(tmp_path_factory, spec):
    tmp = tmp_path_factory.mktemp("layout")
    root = tmp / "p"
    build_layout(root, spec)
    assert_agree(root, str(tmp / "cache"))


def test_language_server_publishes_first_when_the_repository_must_be_read(tmp_path, monkeypatch):
    """A cold context with many files to read: the file's own findings are published at once
    (project findings pending), the project findings come with the second lint."""
    from keyless.linter import lsp

    root = _project(tmp_path, os.path.join(FIXTURES, "KL505", "project_azd"))
    monkeypatch.setattr(lsp, "QUICK_PROJECT_FILES", 0)
    monkeypatch.setenv("KEYLESS_CACHE_DIR", str(tmp_path / "cache"))
    server = KeylessServer()
    path = str(root / "src" / "worker" / "main.py")
    text = (root / "src" / "worker" / "main.py").read_text()
    first = server._lint("file://" + path, text, 1, None, len, {}, True)
    assert first.project_pending and [f.code for f in first.findings] == []
    second = server._lint("file://" + path, text, 1, None, len, {}, False)
    assert not second.project_pending and [f.code for f in second.findings] == ["KL505"]
    third = server._lint("file://" + path, text, 1, None, len, {}, True)  # now cached: one go
    assert not third.project_pending and [f.code for f in third.findings] == ["KL505"]
