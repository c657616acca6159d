"""Project boundaries: a scan of a folder holding several repositories links each repository's code
only to its own deployments, never on generic words such as `api` (keyless.linter.projects)."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, resolve_selection
from keyless.linter.projects import find_boundaries, project_of
from keyless.linter.rule import Fact, Project, load_registry
from keyless.rules.iac import model as M

# ---- a workspace of repositories, each a git repository of its own --------------------------------

PAYMENTS_BICEP = """
param location string = resourceGroup().location

resource pull 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'payments-pull'
  location: location
}

resource runtime 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'payments-app'
  location: location
}

resource api 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'payments-api'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${pull.id}': {}
      '${runtime.id}': {}
    }
  }
  properties: {
    template: {
      containers: [
        { name: 'api', image: 'contoso.azurecr.io/payments-api:1' }
      ]
    }
  }
}

resource openai 'Microsoft.CognitiveServices/accounts@2023-05-01' = {
  name: 'payments-openai'
  location: location
  kind: 'OpenAI'
  sku: { name: 'S0' }
  properties: {}
}

resource owner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, 'payments-owner')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
    principalId: runtime.properties.principalId
  }
}
"""

ORDERS_TF = """
resource "azurerm_container_app" "api" {
  name                         = "orders-api"
  container_app_environment_id = azurerm_container_app_environment.env.id
  resource_group_name          = "rg"
  revision_mode                = "Single"
  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }
  template {
    container {
      name   = "api"
      image  = "contoso.azurecr.io/orders-api:1"
      cpu    = 0.5
      memory = "1Gi"
    }
  }
}
"""

CREDENTIAL_PY = """
from azure.identity import DefaultAzureCredential

credential = DefaultAzureCredential()
"""

OPENAI_KEY_PY = """
import os
from openai import AzureOpenAI

client = AzureOpenAI(azure_endpoint="https://catalog.openai.azure.com", api_key=os.environ["OPENAI_KEY"],
                     api_version="2024-02-01")
"""

BLOB_TOKEN_PY = """
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

blobs = BlobServiceClient("https://catalog.blob.core.windows.net", credential=DefaultAzureCredential())
blobs.get_container_client("x").upload_blob("a", b"b")
"""


def run(root, select, **kw):
    reg = load_registry()
    st = Settings(root=str(root), select=resolve_selection(reg, select))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[".git"], jobs=1, **kw).findings


def git_repo(root, name):
    os.makedirs(os.path.join(str(root), name, ".git"), exist_ok=True)


def workspace(tmp_path):
    """payments (Bicep) and orders (Terraform) deploy apps with two identities; catalog is only
    code. Every directory holding code is called `api`, and each is its own git repository."""
    for name in ("payments", "orders", "catalog"):
        git_repo(tmp_path, name)
    write(tmp_path, "payments/infra/main.bicep", PAYMENTS_BICEP)
    write(tmp_path, "payments/src/api/main.py", CREDENTIAL_PY)
    write(tmp_path, "orders/infra/main.tf", ORDERS_TF)
    write(tmp_path, "orders/api/main.py", CREDENTIAL_PY)
    write(tmp_path, "catalog/api/main.py", CREDENTIAL_PY)
    write(tmp_path, "catalog/api/ai.py", OPENAI_KEY_PY)
    write(tmp_path, "catalog/api/blobs.py", BLOB_TOKEN_PY)
    return tmp_path


def test_code_is_linked_only_within_its_own_repository(tmp_path):
    root = workspace(tmp_path)
    found = {(f.path, f.code) for f in run(root, ["KL505"])}
    # payments and orders: the only app of their repository; catalog deploys nothing.
    assert found == {("payments/src/api/main.py", "KL505"), ("orders/api/main.py", "KL505")}


def test_without_boundaries_the_same_tree_was_one_repository(tmp_path):
    """Without .git the three folders are one project: the regression case of the issue (every
    `api` directory linked to every app) must not come back through step 2 either."""
    root = workspace(tmp_path)
    for name in ("payments", "orders", "catalog"):
        os.rmdir(os.path.join(str(root), name, ".git"))
    found = {(f.path, f.code) for f in run(root, ["KL505"])}
    assert ("catalog/api/main.py", "KL505") not in found  # 'api' is no evidence


def test_resource_and_role_advice_read_only_their_own_repository(tmp_path):
    root = workspace(tmp_path)
    found = run(root, ["KL266", "KL401"])
    openai = [f for f in found if f.code == "KL266"]
    assert len(openai) == 1 and openai[0].path == "payments/infra/main.bicep"
    # catalog's API-key client is another repository's code: no 'high', no path of it.
    assert openai[0].severity.value == "medium" and "catalog/" not in openai[0].message
    role = [f for f in found if f.code == "KL401"]
    assert len(role) == 1 and "catalog" not in role[0].message and "Storage Blob Data" not in role[0].message


def test_resource_advice_reads_code_of_the_same_repository(tmp_path):
    root = workspace(tmp_path)
    write(root, "payments/src/api/ai.py", OPENAI_KEY_PY)
    openai = [f for f in run(root, ["KL266"]) if f.code == "KL266"]
    assert openai[0].severity.value == "high" and "ai.py:5 uses an API key" in openai[0].message
    assert "payments/src/api/ai.py:5" in openai[0].fix.message


def test_a_submodule_git_file_is_a_boundary(tmp_path):
    write(tmp_path, "infra/main.tf", ORDERS_TF)
    write(tmp_path, "vendor/lib/.git", "gitdir: ../../.git/modules/lib\n")
    write(tmp_path, "vendor/lib/api/main.py", CREDENTIAL_PY)
    write(tmp_path, "orders/main.py", CREDENTIAL_PY)
    found = {(f.path, f.code) for f in run(tmp_path, ["KL505"])}
    assert found == {("orders/main.py", "KL505")}


@pytest.mark.parametrize("marker,text", [
    ("azure.yaml", "name: billing\nservices:\n  api:\n    project: ./api\n    host: containerapp\n"),
    (".keyless.toml", "select = ['KL']\n"),
    ("keyless.toml", ""),
    ("pyproject.toml", "[project]\nname = 'billing'\n\n[tool.keyless]\nselect = ['KL']\n"),
])
def test_nested_projects_are_boundaries(tmp_path, marker, text):
    write(tmp_path, "infra/main.tf", ORDERS_TF)
    write(tmp_path, "orders/main.py", CREDENTIAL_PY)
    write(tmp_path, f"billing/{marker}", text)
    write(tmp_path, "billing/api/main.py", CREDENTIAL_PY)
    found = {(f.path, f.code) for f in run(tmp_path, ["KL505"])}
    assert found == {("orders/main.py", "KL505")}


def test_a_pyproject_without_keyless_is_no_boundary(tmp_path):
    """A Python package of a monorepo shares the repository's infrastructure."""
    write(tmp_path, "infra/main.tf", ORDERS_TF)
    write(tmp_path, "services/orders/pyproject.toml", "[project]\nname = 'orders'\n")
    write(tmp_path, "services/orders/main.py", CREDENTIAL_PY)
    found = {(f.path, f.code) for f in run(tmp_path, ["KL505"])}
    assert found == {("services/orders/main.py", "KL505")}


def test_cached_project_findings_follow_a_new_boundary(tmp_path):
    """The project rules' cache digest includes the boundaries: a `.git` appearing in a folder
    (nothing else changed) changes the result of a warm run."""
    from keyless.linter.cache import Cache

    write(tmp_path, "infra/main.tf", ORDERS_TF)
    write(tmp_path, "tool/main.py", CREDENTIAL_PY)
    cache_dir = tmp_path.parent / (tmp_path.name + "-cache")
    reg = load_registry()
    st = Settings(root=str(tmp_path), select=resolve_selection(reg, ["KL505"]))

    def warm():
        cache = Cache.open(str(cache_dir), st)
        res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), st, excludes=[".git"], jobs=1, cache=cache)
        cache.save()
        return {(f.path, f.code) for f in res.findings}

    assert warm() == {("tool/main.py", "KL505")}
    assert warm() == {("tool/main.py", "KL505")}
    git_repo(tmp_path, "tool")
    assert warm() == set()


# ---- the pieces --------------------------------------------------------------------------------

def test_find_boundaries_reads_markers_and_git(tmp_path):
    write(tmp_path, "a/azure.yaml", "name: a\n")
    write(tmp_path, "b/c/.keyless.toml", "")
    write(tmp_path, "d/pyproject.toml", "[project]\nname = 'd'\n")
    write(tmp_path, "e/src/x.py", "")
    os.makedirs(tmp_path / "e" / ".git")
    os.makedirs(tmp_path / "f" / ".git")  # no file with facts under it: not even looked at
    rels = ["a/azure.yaml", "b/c/.keyless.toml", "d/pyproject.toml", "e/src/x.py"]
    assert find_boundaries(str(tmp_path), rels, ["e/src/x.py"]) == {"a", "b/c", "e"}


def test_project_of_takes_the_deepest_boundary():
    bounds = frozenset({"ws/a", "ws/a/vendor/b"})
    assert project_of("ws/a/src/x.py", bounds) == "ws/a"
    assert project_of("ws/a/vendor/b/x.py", bounds) == "ws/a/vendor/b"
    assert project_of("ws/c/x.py", bounds) == ""
    assert project_of("/abs/ws/a/x.py", frozenset({"/abs/ws/a"})) == "/abs/ws/a"


def _app(path, name, images=()):
    return Fact("iac.app", path, {"name": name, "key": f"t/{name}", "images": list(images), "name_known": True})


@pytest.mark.parametrize("directory", ["api", "web", "worker", "func", "backend", "frontend", "service", "server",
                                       "client", "main", "app"])
def test_generic_directory_names_link_nothing(directory):
    apps = [_app("infra/a.tf", f"orders-{directory}", [f"contoso.azurecr.io/orders-{directory}:1"]),
            _app("infra/b.tf", f"billing-{directory}")]
    m = M.build(Project(facts=apps + [Fact("py.credential", f"src/{directory}/main.py", {})], root="."))
    assert m.links[f"src/{directory}/main.py"] == []


def test_a_specific_directory_name_still_links():
    apps = [_app("infra/a.tf", "orders-api"), _app("infra/b.tf", "billing-api")]
    m = M.build(Project(facts=apps + [Fact("py.credential", "src/orders/main.py", {})], root="."))
    assert [lk.app["name"] for lk in m.links["src/orders/main.py"]] == ["orders-api"]


def test_directories_above_the_project_are_no_evidence():
    """A workspace folder named like an app outside the project says nothing about its code."""
    apps = [_app("orders/infra/a.tf", "orders-api"), _app("orders/infra/b.tf", "orders-worker"),
            _app("billing/infra/a.tf", "billing-api")]
    facts = apps + [Fact("py.credential", "orders/tools/main.py", {})]
    m = M.build(Project(facts=facts, root=".", boundaries=frozenset({"orders", "billing"})))
    assert m.links["orders/tools/main.py"] == []


def test_real_git_repositories_side_by_side(tmp_path):
    """The same workspace made with `git init` (when git is installed)."""
    try:
        for name in ("payments", "orders", "catalog"):
            os.makedirs(tmp_path / name)
            subprocess.run(["git", "init", "-q", str(tmp_path / name)], check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available")
    write(tmp_path, "payments/infra/main.bicep", PAYMENTS_BICEP)
    write(tmp_path, "payments/src/api/main.py", CREDENTIAL_PY)
    write(tmp_path, "catalog/api/main.py", CREDENTIAL_PY)
    found = {(f.path, f.code) for f in run(tmp_path, ["KL505"])}
    assert found == {("payments/src/api/main.py", "KL505")}


def test_role_advice_for_cosmos_code_names_no_rbac_guid(tmp_path):
    """Cosmos DB data roles have no Azure RBAC GUID: the example assignment falls back to a role
    that has one (the project rule used to fail with an internal error)."""
    write(tmp_path, "infra/main.bicep", PAYMENTS_BICEP)
    write(tmp_path, "app/db.py", "from azure.identity import DefaultAzureCredential\n"
                                 "from azure.cosmos import CosmosClient\n"
                                 "c = CosmosClient('https://x.documents.azure.com', DefaultAzureCredential())\n"
                                 "c.get_database_client('d').get_container_client('c').read_item('i', 'p')\n")
    reg = load_registry()
    st = Settings(root=str(tmp_path), select=resolve_selection(reg, ["KL401"]))
    res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), st, excludes=[], jobs=1)
    assert not res.errors
    [f] = res.findings
    assert "Cosmos DB Built-in Data" in f.fix.message and "sqlRoleAssignment" in f.fix.message
