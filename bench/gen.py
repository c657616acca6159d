"""Deterministic generator for the synthetic half of the benchmark corpus (stdlib only).

Writes realistic-looking Azure project files: Python modules using the Azure SDKs, Container Apps /
Kubernetes / pipeline / compose YAML, ARM templates and parameter files, Terraform, `.env`, Markdown
and plain data files. Everything comes from one `random.Random(seed)`, so the same arguments give
the same bytes on every machine.

A small, known number of synthetic secrets is planted (`planted` entries of the manifest: path,
line, shape). Their values are random bytes from the seeded generator in the shape of an Azure key;
they are not, and never were, real credentials.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string

WORDS = (
    "order invoice customer product catalog inventory payment shipment ledger report audit event "
    "telemetry device sensor reading profile account session cart basket review rating search index "
    "document image thumbnail upload export batch job queue message notification email "
    "tenant region store warehouse supplier contract policy claim quote booking ticket schedule "
    "metric alert incident backup archive snapshot feature flag setting secretless identity token "
    "chat prompt embedding vector chunk summary translation speech vision form receipt"
).split()
VERBS = "get list create update delete sync process load save render publish handle fetch compute build".split()
REGIONS = ["eastus", "eastus2", "westeurope", "northeurope", "westus3", "uksouth", "swedencentral", "japaneast"]
LOREM = (
    "the service stores every record in a container and publishes an event when the status changes "
    "requests are authenticated with the managed identity of the app and the role assignment is scoped "
    "to the resource group deployment uses bicep or terraform and the pipeline runs on every pull request "
    "configuration comes from app settings and key vault references so no value is kept in the repository "
    "the worker scales on queue length and retries failed messages with an exponential back off"
).split()


def _w(r: random.Random) -> str:
    return r.choice(WORDS)


def _ident(r: random.Random, n: int = 2) -> str:
    return "_".join(_w(r) for _ in range(n))


def _camel(r: random.Random, n: int = 2) -> str:
    return "".join(_w(r).capitalize() for _ in range(n))


def _name(r: random.Random) -> str:
    return f"{_w(r)}{_w(r)}{r.randint(1, 999)}"


def _sentence(r: random.Random, lo: int = 8, hi: int = 24) -> str:
    words = [r.choice(LOREM) for _ in range(r.randint(lo, hi))]
    return " ".join(words).capitalize() + "."


def _guid(r: random.Random) -> str:
    h = "%032x" % r.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# ---- synthetic secret shapes (random bytes; never real keys) ---------------------------------------

def _b64(r: random.Random, nbytes: int) -> str:
    return base64.b64encode(r.randbytes(nbytes)).decode()


def _entra_secret(r: random.Random) -> str:
    alpha = string.ascii_letters + string.digits
    tail = alpha + "_~.-"
    return "".join(r.choice(alpha) for _ in range(3)) + "8Q~" + "".join(r.choice(tail) for _ in range(34))


def secret_line(r: random.Random, kind: str) -> tuple[str, str]:
    """One line carrying a planted synthetic secret, in a form that suits the file kind.
    Returns (shape, line)."""
    acct = f"st{_w(r)}{r.randint(100, 999)}"
    shapes = {
        "storage-key": f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={_b64(r, 64)};EndpointSuffix=core.windows.net",
        "cosmos-key": f"AccountEndpoint=https://cosmos-{_w(r)}.documents.azure.com:443/;AccountKey={_b64(r, 64)};",
        "service-bus": f"Endpoint=sb://sb-{_w(r)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={_b64(r, 32)}",
        "sas": f"https://{acct}.blob.core.windows.net/{_w(r)}?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2031-01-01T00:00:00Z&spr=https&sig={_b64(r, 32).replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}",
        "entra-secret": _entra_secret(r),
        "ai-key": "%032x" % r.getrandbits(128),
    }
    shape = r.choice(sorted(shapes))
    value = shapes[shape]
    var = {
        "storage-key": "AZURE_STORAGE_CONNECTION_STRING", "cosmos-key": "COSMOS_CONNECTION_STRING",
        "service-bus": "SERVICEBUS_CONNECTION_STRING", "sas": "EXPORT_CONTAINER_SAS_URL",
        "entra-secret": "AZURE_CLIENT_SECRET", "ai-key": "AZURE_OPENAI_API_KEY",
    }[shape]
    if kind == "python":
        return shape, f'{var} = "{value}"'
    if kind == "env":
        return shape, f"{var}={value}"
    if kind == "yaml":
        return shape, f"{var.lower()}: \"{value}\""
    if kind == "tf":
        return shape, f'  {var.lower()} = "{value}"'
    if kind == "md":
        return shape, f"    export {var}=\"{value}\""
    return shape, f'"{var}": "{value}",'


# ---- file kinds ------------------------------------------------------------------------------------

PY_IMPORTS = [
    "from azure.identity import DefaultAzureCredential",
    "from azure.identity import ManagedIdentityCredential",
    "from azure.storage.blob import BlobServiceClient",
    "from azure.keyvault.secrets import SecretClient",
    "from azure.cosmos import CosmosClient",
    "from azure.servicebus import ServiceBusClient, ServiceBusMessage",
    "from azure.search.documents import SearchClient",
    "from azure.core.credentials import AzureKeyCredential",
    "from azure.eventhub import EventHubProducerClient",
    "from openai import AzureOpenAI",
]


def _py_func(r: random.Random) -> list[str]:
    name = f"{r.choice(VERBS)}_{_ident(r)}"
    arg = _w(r)
    t = r.randrange(12)
    out = [f"def {name}({arg}_id: str, limit: int = {r.randint(5, 500)}) -> dict:",
           f'    """{_sentence(r)}"""']
    if t == 0:
        out += [
            "    credential = DefaultAzureCredential()",
            f'    service = BlobServiceClient(account_url=os.environ["STORAGE_ACCOUNT_URL"], credential=credential)',
            f'    container = service.get_container_client("{_w(r)}s")',
            f"    blobs = [b.name for b in container.list_blobs(name_starts_with={arg}_id)]",
            "    return {\"count\": len(blobs), \"items\": blobs[:limit]}",
        ]
    elif t == 1:
        out += [
            '    service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])',
            f'    blob = service.get_blob_client("{_w(r)}", f"{{{arg}_id}}.json")',
            "    data = json.loads(blob.download_blob().readall())",
            "    return data",
        ]
    elif t == 2:
        out += [
            f'    client = SearchClient(os.environ["SEARCH_ENDPOINT"], "{_w(r)}-index", AzureKeyCredential(os.environ["SEARCH_KEY"]))',
            f"    results = client.search(search_text={arg}_id, top=limit)",
            "    return {\"hits\": [dict(x) for x in results]}",
        ]
    elif t == 3:
        out += [
            "    client = AzureOpenAI(",
            '        azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],',
            '        api_version="2024-06-01",',
            "        azure_ad_token_provider=token_provider,",
            "    )",
            f'    reply = client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": {arg}_id}}])',
            "    return {\"text\": reply.choices[0].message.content}",
        ]
    elif t == 4:
        out += [
            '    client = CosmosClient(os.environ["COSMOS_ENDPOINT"], credential=DefaultAzureCredential())',
            f'    container = client.get_database_client("{_w(r)}db").get_container_client("{_w(r)}s")',
            f'    items = container.query_items("SELECT * FROM c WHERE c.{arg}Id = @id", parameters=[{{"name": "@id", "value": {arg}_id}}], enable_cross_partition_query=True)',
            "    return {\"items\": list(items)[:limit]}",
        ]
    elif t == 5:
        out += [
            '    with ServiceBusClient(os.environ["SERVICEBUS_FQDN"], DefaultAzureCredential()) as client:',
            f'        with client.get_queue_sender("{_w(r)}-queue") as sender:',
            f'            sender.send_messages(ServiceBusMessage(json.dumps({{"id": {arg}_id}})))',
            "    return {\"sent\": 1}",
        ]
    else:
        a, b = _w(r), _w(r)
        out += [
            f"    {a}s = load_{a}s({arg}_id)",
            f"    totals: dict[str, float] = {{}}",
            f"    for {a} in {a}s[:limit]:",
            f"        key = {a}.get(\"{b}\", \"unknown\")",
            f"        totals[key] = totals.get(key, 0.0) + float({a}.get(\"amount\", 0))",
            f"        if totals[key] > {r.randint(100, 10000)}:",
            f"            logger.warning(\"{b} %s over threshold\", key)",
            f"    return {{\"{arg}\": {arg}_id, \"totals\": totals}}",
        ]
    return out + ["", ""]


def gen_python(r: random.Random, target: int) -> list[str]:
    lines = [f'"""{_sentence(r)}"""', "", "from __future__ import annotations", "", "import json",
             "import logging", "import os", ""]
    lines += sorted(r.sample(PY_IMPORTS, r.randint(2, 6)))
    lines += ["", "logger = logging.getLogger(__name__)", ""]
    if r.random() < 0.5:
        lines += ["from azure.identity import get_bearer_token_provider", "",
                  'token_provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")', ""]
    lines += [""]
    size = sum(len(x) + 1 for x in lines)
    while size < target:
        if r.random() < 0.15:
            cls = _camel(r)
            block = [f"class {cls}:", f'    """{_sentence(r)}"""', "",
                     f"    def __init__(self, name: str, size: int = {r.randint(1, 99)}) -> None:",
                     "        self.name = name", "        self.size = size", "",
                     f"    def {r.choice(VERBS)}(self) -> str:",
                     f'        return f"{{self.name}}-{_w(r)}-{{self.size}}"', "", ""]
        else:
            block = _py_func(r)
        lines += block
        size += sum(len(x) + 1 for x in block)
    return lines


def gen_yaml(r: random.Random, target: int) -> list[str]:
    flavour = r.choice(["aca", "k8s", "k8s", "pipeline", "compose"])
    lines: list[str] = []
    app = _name(r)
    while sum(len(x) + 1 for x in lines) < target:
        if flavour == "aca":
            lines += ["properties:", "  managedEnvironmentId: /subscriptions/%s/resourceGroups/rg-%s/providers/Microsoft.App/managedEnvironments/env-%s" % (_guid(r), app, app),
                      "  configuration:", "    activeRevisionsMode: Single", "    ingress:", "      external: true",
                      f"      targetPort: {r.choice([80, 8000, 8080, 3000])}", "    registries:",
                      f"      - server: cr{app}.azurecr.io", "        identity: system", "  template:", "    containers:",
                      f"      - name: {app}", f"        image: cr{app}.azurecr.io/{app}:{r.randint(1, 90)}.{r.randint(0, 9)}",
                      "        resources:", "          cpu: 0.5", "          memory: 1Gi", "        env:"]
            for _ in range(r.randint(3, 12)):
                k = _ident(r).upper()
                lines += [f"          - name: {k}", f"            value: \"{_w(r)}-{r.randint(1, 99)}\""]
            lines += ["    scale:", "      minReplicas: 0", f"      maxReplicas: {r.randint(2, 30)}", "---"]
        elif flavour == "k8s":
            lines += ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {app}", "  labels:",
                      f"    app: {app}", "    azure.workload.identity/use: \"true\"", "spec:", f"  replicas: {r.randint(1, 5)}",
                      "  selector:", "    matchLabels:", f"      app: {app}", "  template:", "    metadata:", "      labels:",
                      f"        app: {app}", "    spec:", f"      serviceAccountName: sa-{app}", "      containers:",
                      f"        - name: {app}", f"          image: cr{app}.azurecr.io/{app}:latest", "          env:"]
            for _ in range(r.randint(3, 12)):
                k = _ident(r).upper()
                if r.random() < 0.3:
                    lines += [f"            - name: {k}", "              valueFrom:", "                secretKeyRef:",
                              f"                  name: {app}-secrets", f"                  key: {_w(r)}"]
                else:
                    lines += [f"            - name: {k}", f"              value: \"{_w(r)}\""]
            lines += ["---", "apiVersion: v1", "kind: Service", "metadata:", f"  name: {app}", "spec:", "  ports:",
                      "    - port: 80", f"      targetPort: {r.choice([8000, 8080])}", "---"]
        elif flavour == "pipeline":
            lines += ["trigger:", "  - main", "pool:", "  vmImage: ubuntu-latest", "steps:"]
            for _ in range(r.randint(3, 10)):
                lines += ["  - task: AzureCLI@2", f"    displayName: {_sentence(r, 2, 5)}", "    inputs:",
                          "      azureSubscription: sc-workload-identity", "      scriptType: bash",
                          "      scriptLocation: inlineScript", "      inlineScript: |",
                          f"        az {r.choice(['storage blob upload', 'containerapp update', 'deployment group create'])} --resource-group rg-{app} --name {_name(r)} --auth-mode login"]
            lines += ["---"]
        else:
            lines += ["services:"]
            for _ in range(r.randint(2, 6)):
                svc = _w(r)
                lines += [f"  {svc}:", f"    image: {svc}:{r.randint(1, 9)}", "    environment:",
                          f"      - AZURE_CLIENT_ID=${{AZURE_CLIENT_ID}}", f"      - {svc.upper()}_URL=http://{svc}:8080",
                          "    ports:", f"      - \"{r.randint(3000, 9000)}:8080\""]
            lines += ["---"]
    if lines and lines[-1] == "---":
        lines.pop()
    return lines


def _arm_resource(r: random.Random) -> dict:
    name = _name(r)
    t = r.randrange(5)
    if t == 0:
        return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
                "name": f"[concat('st', uniqueString(resourceGroup().id), '{name[:6]}')]", "location": "[parameters('location')]",
                "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
                "properties": {"allowSharedKeyAccess": r.random() < 0.4, "minimumTlsVersion": "TLS1_2",
                               "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False}}
    if t == 1:
        settings = [{"name": _ident(r).upper(), "value": f"{_w(r)}-{r.randint(1, 99)}"} for _ in range(r.randint(3, 10))]
        if r.random() < 0.3:
            settings.append({"name": "AzureWebJobsStorage",
                             "value": "[format('DefaultEndpointsProtocol=https;AccountName={0};AccountKey={1}', variables('storageName'), listKeys(resourceId('Microsoft.Storage/storageAccounts', variables('storageName')), '2023-01-01').keys[0].value)]"})
        res = {"type": "Microsoft.Web/sites", "apiVersion": "2022-09-01", "name": f"app-{name}",
               "location": "[parameters('location')]", "kind": r.choice(["app,linux", "functionapp,linux"]),
               "properties": {"serverFarmId": "[resourceId('Microsoft.Web/serverfarms', variables('planName'))]",
                              "httpsOnly": True, "siteConfig": {"linuxFxVersion": "PYTHON|3.11", "appSettings": settings}}}
        if r.random() < 0.6:
            res["identity"] = {"type": "SystemAssigned"}
        return res
    if t == 2:
        return {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
                "name": f"[guid(resourceGroup().id, '{name}')]",
                "properties": {"roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '%s')]" % r.choice(
                    ["ba92f5b4-2d11-453d-a403-e96b0029c9fe", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
                     "b24988ac-6180-42a0-ab88-20f7382dd24c", "4633458b-17de-408a-b874-0445c86b69e6"]),
                               "principalId": "[reference(resourceId('Microsoft.Web/sites', variables('appName')), '2022-09-01', 'full').identity.principalId]",
                               "principalType": "ServicePrincipal"}}
    if t == 3:
        return {"type": "Microsoft.App/containerApps", "apiVersion": "2023-05-01", "name": f"ca-{name}",
                "location": "[parameters('location')]", "identity": {"type": "UserAssigned", "userAssignedIdentities": {
                    "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))]": {}}},
                "properties": {"managedEnvironmentId": "[resourceId('Microsoft.App/managedEnvironments', variables('envName'))]",
                               "configuration": {"ingress": {"external": True, "targetPort": 8080}},
                               "template": {"containers": [{"name": name, "image": f"mcr.microsoft.com/{_w(r)}:latest",
                                                            "env": [{"name": _ident(r).upper(), "value": _w(r)} for _ in range(r.randint(2, 8))]}]}}}
    return {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01", "name": f"kv-{name}",
            "location": "[parameters('location')]",
            "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                           "enableRbacAuthorization": True, "enableSoftDelete": True}}


def gen_arm(r: random.Random, target: int) -> tuple[list[str], str]:
    """An ARM template (or, 1 time in 5, a parameters file)."""
    if r.random() < 0.2:
        doc = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
               "contentVersion": "1.0.0.0",
               "parameters": {_camel(r): {"value": f"{_w(r)}-{r.randint(1, 99)}"} for _ in range(r.randint(3, 20))}}
        return json.dumps(doc, indent=2).split("\n"), "parameters"
    resources = []
    doc = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
           "contentVersion": "1.0.0.0",
           "metadata": {"description": _sentence(r)},
           "parameters": {"location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                          "environmentName": {"type": "string", "allowedValues": ["dev", "test", "prod"]}},
           "variables": {"storageName": "[concat('st', uniqueString(resourceGroup().id))]",
                         "appName": f"app-{_name(r)}", "planName": f"plan-{_name(r)}",
                         "identityName": f"id-{_name(r)}", "envName": f"cae-{_name(r)}"},
           "resources": resources,
           "outputs": {"endpoint": {"type": "string", "value": "[reference(variables('appName')).defaultHostName]"}}}
    size = 600
    while size < target:
        res = _arm_resource(r)
        resources.append(res)
        size += len(json.dumps(res, indent=2)) + 8 * 4
    return json.dumps(doc, indent=2).split("\n"), "template"


def gen_tf(r: random.Random, target: int) -> list[str]:
    lines = ["terraform {", "  required_providers {", "    azurerm = {", '      source  = "hashicorp/azurerm"',
             '      version = "~> 3.100"', "    }", "  }", "}", ""]
    while sum(len(x) + 1 for x in lines) < target:
        name = _ident(r)
        t = r.randrange(5)
        if t == 0:
            lines += [f'resource "azurerm_storage_account" "{name}" {{', f'  name                     = "st{_w(r)}{r.randint(100, 999)}"',
                      "  resource_group_name      = azurerm_resource_group.main.name",
                      "  location                 = azurerm_resource_group.main.location",
                      '  account_tier             = "Standard"', '  account_replication_type = "LRS"',
                      f"  shared_access_key_enabled = {r.choice(['true', 'false', 'false'])}", '  min_tls_version          = "TLS1_2"', "}", ""]
        elif t == 1:
            lines += [f'resource "azurerm_linux_web_app" "{name}" {{', f'  name                = "app-{_name(r)}"',
                      "  resource_group_name = azurerm_resource_group.main.name",
                      "  location            = azurerm_resource_group.main.location",
                      "  service_plan_id     = azurerm_service_plan.main.id", ""]
            if r.random() < 0.6:
                lines += ["  identity {", '    type = "SystemAssigned"', "  }", ""]
            lines += ["  site_config {", "    application_stack {", '      python_version = "3.11"', "    }", "  }", "", "  app_settings = {"]
            for _ in range(r.randint(2, 8)):
                lines.append(f'    "{_ident(r).upper()}" = "{_w(r)}"')
            lines += ["  }", "}", ""]
        elif t == 2:
            lines += [f'resource "azurerm_role_assignment" "{name}" {{', "  scope                = azurerm_resource_group.main.id",
                      f'  role_definition_name = "{r.choice(["Storage Blob Data Reader", "Contributor", "Owner", "Key Vault Secrets User"])}"',
                      "  principal_id         = azurerm_linux_web_app.main.identity[0].principal_id", "}", ""]
        elif t == 3:
            lines += [f'variable "{name}" {{', '  type        = string', f'  description = "{_sentence(r, 4, 10)}"',
                      f'  default     = "{_w(r)}"', "}", ""]
        else:
            lines += [f'resource "azurerm_container_app" "{name}" {{', f'  name                         = "ca-{_name(r)}"',
                      "  container_app_environment_id = azurerm_container_app_environment.main.id",
                      "  resource_group_name          = azurerm_resource_group.main.name", '  revision_mode                = "Single"', "",
                      "  template {", "    container {", f'      name   = "{_w(r)}"', '      image  = "mcr.microsoft.com/k8se/quickstart:latest"',
                      "      cpu    = 0.25", '      memory = "0.5Gi"', "      env {", f'        name  = "{_ident(r).upper()}"',
                      f'        value = "{_w(r)}"', "      }", "    }", "  }", "}", ""]
    return lines


def gen_env(r: random.Random, target: int) -> list[str]:
    lines = [f"# {_sentence(r, 3, 8)}"]
    while sum(len(x) + 1 for x in lines) < target:
        k = _ident(r).upper()
        v = r.choice([f"https://{_w(r)}-{r.randint(1, 99)}.azurewebsites.net", _w(r), str(r.randint(1, 9999)),
                      f"{_w(r)}.{r.choice(['blob.core.windows.net', 'vault.azure.net', 'servicebus.windows.net'])}",
                      "<your-key-here>", "true", r.choice(REGIONS)])
        lines.append(f"{k}={v}")
    return lines


def gen_md(r: random.Random, target: int) -> list[str]:
    lines = [f"# {_camel(r, 3)}", ""]
    while sum(len(x) + 1 for x in lines) < target:
        lines += [f"## {_sentence(r, 2, 5)}", ""]
        for _ in range(r.randint(1, 4)):
            lines += [_sentence(r, 20, 60), ""]
        if r.random() < 0.4:
            lines += ["```bash", f"az login", f"azd env set AZURE_LOCATION {r.choice(REGIONS)}",
                      f"az storage blob list --account-name st{_w(r)} --container-name {_w(r)} --auth-mode login", "```", ""]
    return lines


def gen_data(r: random.Random, target: int) -> list[str]:
    """A plain JSON data file (sample data, not IaC): one record per line."""
    lines = ["["]
    size = 2
    while size < target:
        rec = json.dumps({"id": _guid(r), "name": _camel(r), "category": _w(r), "price": round(r.uniform(1, 500), 2),
                          "description": _sentence(r, 10, 30), "tags": r.sample(WORDS, 3)})
        lines.append("  " + rec + ",")
        size += len(rec) + 4
    lines[-1] = lines[-1].rstrip(",")
    lines.append("]")
    return lines


def gen_text(r: random.Random, target: int) -> list[str]:
    lines = []
    while sum(len(x) + 1 for x in lines) < target:
        lines.append(f"{r.randint(2020, 2025)}-0{r.randint(1, 9)}-1{r.randint(0, 9)}T1{r.randint(0, 9)}:{r.randint(10, 59)}:{r.randint(10, 59)}Z INFO {_w(r)}.{_w(r)} {_sentence(r, 4, 14)}")
    return lines


# kind -> (weight, generator, extension, median size in bytes)
KINDS = {
    "python": (30, "py", 7000),
    "yaml": (14, "yaml", 3500),
    "arm": (12, "json", 12000),
    "tf": (13, "tf", 5000),
    "env": (4, "env", 500),
    "md": (14, "md", 6000),
    "data": (5, "json", 20000),
    "text": (8, "log", 15000),
}
GENERATORS = {"python": gen_python, "yaml": gen_yaml, "tf": gen_tf, "env": gen_env, "md": gen_md,
              "data": gen_data, "text": gen_text}
PLANT_KIND = {"python": "python", "yaml": "yaml", "tf": "tf", "env": "env", "md": "md", "data": "json",
              "text": "text", "arm": "json"}


def generate(out_dir: str, *, seed: int, min_files: int, min_bytes: int, planted: int) -> dict:
    """Write files under out_dir until both minimums are reached. Returns the manifest."""
    r = random.Random(seed)
    kinds = sorted(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    # Decide up front which file numbers get a planted secret (ARM templates excluded: their
    # secrets are parameter defaults, which a JSON line cannot carry without breaking the template).
    plant_at = set(r.sample(range(min_files), planted)) if planted else set()
    files = 0
    total = 0
    by_kind: dict[str, list[int]] = {}
    planted_list = []
    project = None
    while files < min_files or total < min_bytes:
        if files % 40 == 0:
            project = f"{_w(r)}-{_w(r)}-{files // 40:04d}"
        kind = r.choices(kinds, weights)[0]
        if kind in ("arm", "data") and files in plant_at:
            kind = "python"
        weight, ext, median = KINDS[kind]
        # Log-normal sizes (a long tail of big files), capped at 1.5 MB.
        target = int(min(1_500_000, max(200, r.lognormvariate(0, 0.9) * median)))
        if kind == "arm":
            lines, sub = gen_arm(r, target)
            rel = f"{project}/infra/{_w(r)}-{files}.{'parameters.' if sub == 'parameters' else ''}json"
        elif kind == "env":
            lines = gen_env(r, target)
            rel = f"{project}/{r.choice(['', 'src/', 'app/'])}.env.{files}"
            if r.random() < 0.5:
                rel = f"{project}/svc{files}/.env"
        else:
            lines = GENERATORS[kind](r, target)
            sub = {"python": "src", "yaml": "deploy", "tf": "infra", "md": "docs", "data": "data", "text": "logs"}[kind]
            rel = f"{project}/{sub}/{_ident(r)}_{files}.{ext}"
        if files in plant_at:
            shape, line = secret_line(r, PLANT_KIND[kind])
            # Insert where the file stays valid: module level, a locals block, a new top-level key,
            # a fenced block between paragraphs.
            if kind == "python":
                spots = [i for i, x in enumerate(lines) if x.startswith(("def ", "class "))] or [len(lines)]
                block, offset = [line, ""], 0
            elif kind == "tf":
                spots = [i for i, x in enumerate(lines) if x.startswith(("resource ", "variable "))] or [len(lines)]
                block, offset = ["locals {", line, "}", ""], 1
            elif kind == "yaml":
                spots, block, offset = [0], [line], 0
            elif kind == "md":
                spots = [i for i, x in enumerate(lines) if x == ""] or [len(lines)]
                block, offset = ["```bash", line, "```", ""], 1
            else:
                spots, block, offset = list(range(1, len(lines) + 1)), [line], 0
            at = r.choice(spots)
            lines[at:at] = block
            planted_list.append({"path": rel, "line": at + offset + 1, "shape": shape, "kind": kind})
        data = ("\n".join(lines) + "\n").encode()
        path = os.path.join(out_dir, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        files += 1
        total += len(data)
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += 1
        by_kind[kind][1] += len(data)
    return {"seed": seed, "files": files, "bytes": total, "by_kind": by_kind, "planted": planted_list}
