"""The managed-identity fix for each kind of secret (display-only guidance; never contains a secret).

A finding's message says what was found and one phrase of what to do (`ACTIONS`); its help (the
fix message) says how, in the terms of the file the secret is in: Python code for Python, the
resource's key switch in Bicep, ARM JSON or HCL for templates, `az login` for scripts and a local
`.env` file, a service connection for pipelines. `{r}` is replaced by the resource name when known
(account, namespace, server: names are not secrets) or by a `<placeholder>` otherwise.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from keyless.linter.messages import HELP_MAX


class Guide(NamedTuple):
    action: str  # the one phrase of the message: "rotate it, use Entra ID"
    python: str  # the Python code to use instead (a sentence fragment)
    role: str = ""  # what the identity needs ("" when nothing to grant)
    rule: str = ""  # the KL2xx rule whose switch turns the service's keys off ("" when none)
    endpoint: str = ""  # what the app keeps instead of the secret
    renew: str = "regenerate this key"  # how to make the committed value worthless
    anywhere: bool = False  # `python` is no code but a sentence, the same advice for every kind of file


GUIDANCE: dict[str, Guide] = {
    "storage": Guide(
        "rotate it, use Entra ID",
        "`BlobServiceClient(\"https://{r}.blob.core.windows.net\", credential=DefaultAzureCredential())` "
        "(Queue/Table/Share clients likewise)",
        "'Storage Blob Data Contributor' or similar", "KL260",
        "https://{r}.blob.core.windows.net", "rotate this key"),
    "sas": Guide(
        "revoke it, use Entra ID",
        "`BlobServiceClient(\"https://{r}.blob.core.windows.net\", credential=DefaultAzureCredential())`, or a "
        "user delegation SAS made at run time (`get_user_delegation_key()`)",
        "'Storage Blob Data Reader' or 'Contributor'", "KL260", "https://{r}.blob.core.windows.net",
        "revoke it (rotate the signing key or its access policy)"),
    "servicebus": Guide(
        "rotate it, use Entra ID",
        "`ServiceBusClient(\"{r}.servicebus.windows.net\", credential=DefaultAzureCredential())`",
        "'Azure Service Bus Data Sender'/'Receiver'", "KL262", "{r}.servicebus.windows.net"),
    "eventhubs": Guide(
        "rotate it, use Entra ID",
        "`EventHubProducerClient(\"{r}.servicebus.windows.net\", \"<hub>\", credential=DefaultAzureCredential())`",
        "'Azure Event Hubs Data Sender'/'Receiver'", "KL263", "{r}.servicebus.windows.net"),
    "relay": Guide(
        "rotate it, use Entra ID",
        "a token from `DefaultAzureCredential().get_token(\"https://relay.azure.net/.default\")`",
        "'Azure Relay Sender'/'Listener'", "", "{r}.servicebus.windows.net"),
    "iot": Guide(
        "rotate it, use Entra ID (devices: X.509)",
        "`IoTHubRegistryManager.from_token_credential(\"{r}.azure-devices.net\", DefaultAzureCredential())` "
        "(devices: X.509 or DPS, never a key)",
        "'IoT Hub Data Contributor'", "KL274", "{r}.azure-devices.net"),
    "cosmos": Guide(
        "rotate it, use Entra ID",
        "`CosmosClient(\"https://{r}.documents.azure.com:443/\", credential=DefaultAzureCredential())`",
        "'Cosmos DB Built-in Data Contributor' (a sqlRoleAssignment)", "KL261", "https://{r}.documents.azure.com"),
    "sql": Guide(
        "change it, use Entra ID",
        "`Authentication=ActiveDirectoryDefault` in the connection string (no password)",
        "a database user", "KL270", "", "change this password"),
    "ossrdbms": Guide(
        "change it, use Entra ID",
        "a `DefaultAzureCredential()` token for https://ossrdbms-aad.database.windows.net/.default as the password",
        "a database role", "KL271", "", "change this password"),
    "password": Guide(
        "change it, drop the default",
        "Remove the default: pass the password at deploy time from Key Vault (an azurerm_key_vault_secret data "
        "source or a pipeline secret) or generate it (random_password); with Entra sign-in, turn passwords off",
        "", "", "", "change this password", anywhere=True),
    "redis": Guide(
        "rotate it, use Entra ID",
        "redis-entraid: `credential_provider=create_from_default_azure_credential((\"https://redis.azure.com/.default\",))`",
        "a Redis data access policy", "KL269", "{r}"),
    "appconfig": Guide(
        "rotate it, use Entra ID",
        "`AzureAppConfigurationClient(\"https://{r}.azconfig.io\", credential=DefaultAzureCredential())`",
        "'App Configuration Data Reader'", "KL265", "https://{r}.azconfig.io"),
    "signalr": Guide(
        "rotate it, use Entra ID",
        "the connection string `Endpoint=https://{r}.service.signalr.net;AuthType=azure.msi;Version=1.0;`",
        "'SignalR App Server'", "KL268", "https://{r}.service.signalr.net"),
    "webpubsub": Guide(
        "rotate it, use Entra ID",
        "`WebPubSubServiceClient(\"https://{r}.webpubsub.azure.com\", \"<hub>\", credential=DefaultAzureCredential())`",
        "'Web PubSub Service Owner'", "KL268", "https://{r}.webpubsub.azure.com"),
    "functions": Guide(
        "renew it, protect the function with Entra ID",
        "Use App Service authentication (Entra ID) on the function and call it with a token for "
        "`api://<app-id>/.default` (DefaultAzureCredential)", "", "", "", "renew this key", anywhere=True),
    "ai": Guide(
        "rotate it, use Entra ID",
        "`AzureOpenAI(azure_endpoint=..., azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(), "
        "\"https://cognitiveservices.azure.com/.default\"))`",
        "'Cognitive Services OpenAI User'", "KL266", "https://{r}.openai.azure.com"),
    "search": Guide(
        "rotate it, use Entra ID",
        "`SearchClient(\"https://{r}.search.windows.net\", \"<index>\", credential=DefaultAzureCredential())`",
        "'Search Index Data Reader' (or 'Contributor')", "KL267", "https://{r}.search.windows.net"),
    "entra": Guide(
        "delete it, use a managed identity or federation",
        "`DefaultAzureCredential()`: a managed identity in Azure, workload identity federation in CI",
        "the roles the app needs", "", "", "delete this secret from the app registration"),
    "devops": Guide(
        "revoke it, use System.AccessToken or federation",
        "Use `$(System.AccessToken)` in pipelines, else an Entra token for Azure DevOps (`az account get-access-token "
        "--resource 499b84ac-1321-427f-aa17-267ca6975798`) from a managed identity or a federated service connection",
        "", "", "", "revoke this PAT", anywhere=True),
    "acr": Guide(
        "regenerate it, pull with an identity",
        "`az login --identity && az acr login --name {r}` (AKS: attach the registry)",
        "'AcrPull' (or 'AcrPush')", "KL251", "{r}.azurecr.io", "regenerate this password"),
    "batch": Guide(
        "rotate it, use Entra ID",
        "`BatchClient(\"https://{r}.<region>.batch.azure.com\", credential=DefaultAzureCredential())`",
        "a Batch data role", "KL276", ""),
    "maps": Guide(
        "rotate it, use Entra ID",
        "`MapsSearchClient(credential=DefaultAzureCredential(), client_id=\"<maps account client id>\")`",
        "'Azure Maps Data Reader'", "KL277", ""),
    "eventgrid": Guide(
        "rotate it, use Entra ID",
        "`EventGridPublisherClient(endpoint, credential=DefaultAzureCredential())`",
        "'EventGrid Data Sender'", "KL264", ""),
    "acs": Guide(
        "rotate it, use Entra ID",
        "`CommunicationIdentityClient(\"https://{r}.communication.azure.com\", credential=DefaultAzureCredential())`",
        "a Communication Services role", "", "https://{r}.communication.azure.com"),
    "entra-token": Guide(
        "revoke the sessions, drop the token cache",
        "`DefaultAzureCredential()` (a managed identity in Azure, your own sign-in locally)",
        "", "", "", "revoke the user's sessions (`az ad user revoke-sign-in-sessions`)"),
    "apim": Guide(
        "regenerate it, use Entra tokens",
        "an Entra token from `DefaultAzureCredential()` checked by a validate-jwt policy", "", "", ""),
    "keyvault": Guide(
        "rotate it, keep it out of the repository",
        "`DefaultAzureCredential()` where the service supports Entra ID", "", "", ""),
}

# The OpenAI client on the Azure OpenAI v1 API takes the token provider as `api_key`.
_OPENAI_V1 = ("`OpenAI(base_url=\".../openai/v1/\", api_key=get_bearer_token_provider(DefaultAzureCredential(), "
              "\"https://cognitiveservices.azure.com/.default\"))`")

_NAME_RE = re.compile(r"[^a-z0-9-]+")


def kv_secret_name(setting: str) -> str:
    n = _NAME_RE.sub("-", setting.lower()).strip("-")
    return (n or "secret")[:127]


def guide_of(key: str) -> Guide:
    return GUIDANCE.get(key, GUIDANCE["keyvault"])


def short_text(guide: str, resource: str = "") -> str:
    """The one phrase of the message: what to do, whatever the file."""
    return guide_of(guide).action


def fix_text(guide: str, resource: str, setting: str, doc: Any) -> str:
    """The help: how to replace the secret, in the terms of the file it is in (one line of at most
    HELP_MAX characters: the role, then the endpoint, are left out when there is no room)."""
    g = guide_of(guide)
    text = _fix_text(g, guide, resource, setting, doc, with_role=True)
    if len(text) > HELP_MAX:
        text = _fix_text(g, guide, resource, setting, doc, with_role=False)
    if len(text) > HELP_MAX:
        text = _fix_text(g._replace(endpoint=""), guide, resource, "", doc, with_role=False)
    return text


def _fix_text(g: Guide, guide: str, resource: str, setting: str, doc: Any, with_role: bool) -> str:
    r = resource or "<name>"
    role = f" with {g.role}" if g.role and with_role else ""
    kind = getattr(doc, "kind", "")
    subkind = getattr(doc, "subkind", "") or ""
    if guide == "entra-token":  # a user's sign-in, wherever it sits: nothing to configure instead
        return _join("Delete the token cache from the repository and add it to .gitignore; apps use "
                     "DefaultAzureCredential", g.renew)
    if g.anywhere:
        return _join(g.python.replace("{r}", r), g.renew)
    if kind in ("python", "notebook"):
        code = g.python
        if guide == "ai" and "openai/v1" in getattr(doc, "text", ""):
            code = _OPENAI_V1
        return _join(f"Use {code}".replace("{r}", r), f"grant {g.role}" if g.role and with_role else "", g.renew)
    if kind == "env" or (kind == "json" and subkind == "local-settings"):
        keep = f" and keep only the endpoint ({g.endpoint.replace('{r}', r)})" if g.endpoint else ""
        return _join(f"Delete it{keep}; DefaultAzureCredential uses your `az login` locally, the app's managed "
                     f"identity{role} in Azure", g.renew)
    if kind in ("bicep", "hcl") or (kind == "json" and subkind in ("arm", "arm-parameters", "tf-json")):
        syntax = "hcl" if kind == "hcl" or subkind == "tf-json" else ("bicep" if kind == "bicep" else "json")
        switch = key_switch(g.rule, syntax)
        store = {"bicep": "a @secure() parameter filled by getSecret()",
                 "json": "a secure parameter fed by a Key Vault reference",
                 "hcl": "an azurerm_key_vault_secret data source"}[syntax]
        return _join(f"Give the app a managed identity{role}" + (f" and set {switch}" if switch else ""),
                     f"a secret that must stay comes from {store}", g.renew)
    grant = f" and grant {g.role}" if g.role and with_role else ""
    if kind == "yaml" and "pipeline" in (getattr(doc, "subkinds", None) or ()):
        return _join("Use a service connection with workload identity federation (GitHub: azure/login with OIDC); a "
                     "secret that must stay is a secret variable or Key Vault", g.renew)
    if kind == "yaml":
        return _join(f"Use the workload's managed identity (AKS: workload identity){grant}; keep a secret that must "
                     "stay in Key Vault (keyVaultUrl secrets, the CSI driver)", g.renew)
    if kind in ("shell", "powershell", "dockerfile", "makefile"):
        return _join(f"Sign in with `az login --identity` (CI: a federated token){grant}; read a secret that must "
                     "stay at run time (`az keyvault secret show`)", g.renew)
    if kind == "json" and setting:  # app settings: App Service reads Key Vault references
        return _join(f"Keep only the endpoint and use DefaultAzureCredential{grant.replace(' and', ';', 1)}; else a "
                     "Key Vault reference "
                     f"(`@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/"
                     f"{kv_secret_name(setting)}/)`)", g.renew)
    return _join(f"Authenticate with DefaultAzureCredential (every Azure SDK has it){grant}; keep a secret that "
                 "must stay in Key Vault", g.renew)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def key_switch(code: str, syntax: str) -> str:
    """The setting that turns the service's keys off (rule `code`'s switch) in `syntax` (json,
    bicep, hcl); "" when there is none."""
    if not code:
        return ""
    from keyless.linter.rule import load_registry
    from keyless.rules.iac.resource_view import nested

    rule = load_registry().get(code)
    switches = getattr(rule, "switches", ()) if rule is not None else ()
    if not switches:
        return ""
    sw = switches[0]
    if syntax == "hcl":
        return nested("hcl", sw.azurerm[0].path, sw.azurerm[0].secure, block=True) if sw.azurerm else ""
    return nested(syntax, sw.path, sw.secure)
