"""Project-wide IaC model: apps linked with the Python code of the same repository."""

from __future__ import annotations

from conftest import write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, resolve_selection
from keyless.linter.rule import load_registry

TF = '''
data "azurerm_subscription" "current" {}

resource "azurerm_container_app" "orders" {
  name                         = "orders"
  container_app_environment_id = azurerm_container_app_environment.env.id
  resource_group_name          = "rg"
  revision_mode                = "Single"
  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }
  template {
    container {
      name   = "orders"
      image  = "contoso.azurecr.io/orders:1"
      cpu    = 0.5
      memory = "1Gi"
    }
  }
}

resource "azurerm_role_assignment" "app" {
  scope                = data.azurerm_subscription.current.id
  role_definition_name = "Contributor"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}
'''

PY = '''
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from azure.servicebus import ServiceBusClient

cred = DefaultAzureCredential()
blobs = BlobServiceClient("https://orders.blob.core.windows.net", credential=cred)
blobs.get_container_client("x").upload_blob("a", b"b")
bus = ServiceBusClient("orders.servicebus.windows.net", cred)
'''


def run(root, select):
    reg = load_registry()
    st = Settings(root=str(root), select=resolve_selection(reg, select))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings


def test_code_linked_to_single_app_and_roles_named(tmp_path):
    write(tmp_path, "infra/main.tf", TF)
    write(tmp_path, "orders/app.py", PY)
    found = run(tmp_path, ["KL401", "KL501", "KL505"])
    by = {f.code: f for f in found}
    assert set(by) == {"KL401", "KL501", "KL505"}, [(f.code, f.path) for f in found]
    msg, help_ = by["KL505"].message, by["KL505"].fix.message
    assert by["KL505"].path == "orders/app.py"
    assert "infra/main.tf" in msg and "linked because" in help_ and "system-assigned" in help_
    assert "Storage Blob Data" in by["KL401"].fix.message and "Azure Service Bus Data" in by["KL401"].fix.message
    assert "azurerm_user_assigned_identity.app.client_id" in by["KL501"].fix.message


def test_code_pinning_client_id_quiets_resource_finding(tmp_path):
    write(tmp_path, "infra/main.tf", TF)
    write(tmp_path, "orders/app.py", PY.replace("DefaultAzureCredential()",
                                                 'DefaultAzureCredential(managed_identity_client_id="x")'))
    found = run(tmp_path, ["KL501", "KL505"])
    assert found == []


def test_tests_and_unlinked_code_are_not_blamed(tmp_path):
    write(tmp_path, "infra/main.tf", TF)
    write(tmp_path, "infra/second.tf", TF.replace('"orders"', '"billing"').replace(".orders", ".billing")
          .replace('"azurerm_container_app" "orders"', '"azurerm_container_app" "billing"')
          .replace('data "azurerm_subscription" "current" {}', "").replace('"azurerm_role_assignment" "app"', '"azurerm_role_assignment" "app2"'))
    write(tmp_path, "tests/test_app.py", PY)
    write(tmp_path, "shared/util.py", PY)
    found = run(tmp_path, ["KL505"])
    assert found == []  # two apps, no directory/azd link: no guess
