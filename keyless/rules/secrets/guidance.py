"""The managed-identity fix for each kind of secret (display-only guidance; never contains a secret).

`{r}` is replaced by the resource name when known (account, namespace, server: names are not
secrets) or by a `<placeholder>` otherwise.
"""

from __future__ import annotations

import re

# service key -> (one-line fix used in the message, longer guidance used in the Fix)
GUIDANCE: dict[str, tuple[str, str]] = {
    "storage": (
        "use DefaultAzureCredential with the account URL and grant the identity 'Storage Blob Data Contributor'",
        "Connect with Microsoft Entra ID instead of the account key: "
        "`BlobServiceClient(account_url=\"https://{r}.blob.core.windows.net\", credential=DefaultAzureCredential())` "
        "(QueueServiceClient/TableServiceClient/ShareServiceClient likewise; Functions: "
        "`AzureWebJobsStorage__accountName={r}`). Grant the app's managed identity a data-plane role on the "
        "account ('Storage Blob Data Contributor', or 'Storage Blob Data Reader' / 'Storage Queue Data "
        "Contributor' / 'Storage Table Data Contributor' as needed), set allowSharedKeyAccess=false, and "
        "rotate this key: it is compromised once committed.",
    ),
    "sas": (
        "authenticate with DefaultAzureCredential, or mint a short-lived user-delegation SAS at runtime",
        "A SAS is a bearer token. Prefer Entra ID: `BlobServiceClient(account_url=\"https://{r}.blob.core.windows.net\", "
        "credential=DefaultAzureCredential())` with 'Storage Blob Data Reader/Contributor' for the managed "
        "identity. If a SAS must be handed out, create a short-lived user-delegation SAS at runtime "
        "(`get_user_delegation_key()` + `generate_blob_sas(user_delegation_key=...)`) instead of storing one. "
        "Revoke this token (rotate the signing key, or delete the stored access policy).",
    ),
    "servicebus": (
        "use ServiceBusClient(fully_qualified_namespace=..., credential=DefaultAzureCredential()) and an 'Azure Service Bus Data' role",
        "Use the namespace and a managed identity: `ServiceBusClient(fully_qualified_namespace=\"{r}.servicebus.windows.net\", "
        "credential=DefaultAzureCredential())` (Event Hubs: `EventHubProducerClient(fully_qualified_namespace=..., "
        "eventhub_name=..., credential=DefaultAzureCredential())`). Grant 'Azure Service Bus Data Sender'/'Receiver' "
        "(or 'Azure Event Hubs Data Sender'/'Receiver'), set disableLocalAuth=true and regenerate this key.",
    ),
    "eventhubs": (
        "use EventHubProducerClient(fully_qualified_namespace=..., credential=DefaultAzureCredential()) and an 'Azure Event Hubs Data' role",
        "Use `EventHubProducerClient(fully_qualified_namespace=\"{r}.servicebus.windows.net\", eventhub_name=\"<hub>\", "
        "credential=DefaultAzureCredential())` (or EventHubConsumerClient) and grant the managed identity "
        "'Azure Event Hubs Data Sender'/'Receiver'. Set disableLocalAuth=true and regenerate this key.",
    ),
    "relay": (
        "use Entra ID (DefaultAzureCredential) with an 'Azure Relay' role",
        "Authenticate Relay listeners/senders with Entra ID (a token from DefaultAzureCredential for "
        "https://relay.azure.net/.default) and grant 'Azure Relay Listener'/'Sender'/'Owner'; regenerate this key.",
    ),
    "iot": (
        "use the service SDK with DefaultAzureCredential ('IoT Hub Data Contributor'); devices should use X.509 or DPS",
        "Service side: authenticate to \"{r}.azure-devices.net\" with DefaultAzureCredential (e.g. "
        "`IoTHubRegistryManager.from_token_credential(\"{r}.azure-devices.net\", DefaultAzureCredential())`) and "
        "grant 'IoT Hub Data Contributor'/'IoT Hub Registry Contributor'; disable local auth. Device side: use "
        "X.509 certificates or DPS attestation, never a key in source. Regenerate this key.",
    ),
    "cosmos": (
        "use CosmosClient(url, credential=DefaultAzureCredential()) and a Cosmos DB data-plane role",
        "`CosmosClient(url=\"https://{r}.documents.azure.com:443/\", credential=DefaultAzureCredential())`; grant the "
        "managed identity 'Cosmos DB Built-in Data Contributor' (a Cosmos SQL role assignment: "
        "`az cosmosdb sql role assignment create`), set disableLocalAuth=true and regenerate this key.",
    ),
    "sql": (
        "connect with Entra authentication (no password) using the app's managed identity",
        "Azure SQL: `Server=tcp:{r}.database.windows.net,1433;Database=<db>;Authentication=Active Directory Default;` "
        "(or 'Active Directory Managed Identity') and `CREATE USER [<identity>] FROM EXTERNAL PROVIDER` + role. "
        "PostgreSQL/MySQL flexible server: enable Entra auth and pass a token as the password: "
        "`DefaultAzureCredential().get_token(\"https://ossrdbms-aad.database.windows.net/.default\").token`. "
        "Change this password.",
    ),
    "password": (
        "drop the default; pass the password at deploy time from Key Vault, or sign in with Entra ID",
        "Remove the default so the configuration holds no password: pass it at deploy time from Key Vault "
        "(a `data \"azurerm_key_vault_secret\"` or a pipeline secret), or generate it with `random_password` "
        "and store it in Key Vault; where the resource supports Microsoft Entra sign-in (databases, AKS, VMs with "
        "the AAD login extension) turn password sign-in off. Change this password: it is compromised once "
        "committed.",
    ),
    "redis": (
        "use Entra ID authentication for Azure Cache for Redis (DefaultAzureCredential) and disable access keys",
        "Enable Microsoft Entra authentication on \"{r}\", add the managed identity with a Redis access policy "
        "(Data Owner/Contributor), connect with a token provider (redis-entraid "
        "`create_from_default_azure_credential((\"https://redis.azure.com/.default\",))`, or "
        "Microsoft.Azure.StackExchangeRedis `ConfigureForAzureWithTokenCredentialAsync`), disable access-key "
        "authentication and regenerate this key.",
    ),
    "appconfig": (
        "use AzureAppConfigurationClient(base_url, credential=DefaultAzureCredential()) with 'App Configuration Data Reader'",
        "`AzureAppConfigurationClient(base_url=\"https://{r}.azconfig.io\", credential=DefaultAzureCredential())` (or "
        "`load(endpoint=..., credential=DefaultAzureCredential())`); grant 'App Configuration Data Reader', set "
        "disableLocalAuth=true and regenerate this access key.",
    ),
    "signalr": (
        "use AuthType=azure.msi in the connection string and grant 'SignalR App Server'",
        "Replace the key with managed identity: `Endpoint=https://{r}.service.signalr.net;AuthType=azure.msi;Version=1.0;` "
        "grant the identity 'SignalR App Server', set disableLocalAuth=true and regenerate this key.",
    ),
    "webpubsub": (
        "use WebPubSubServiceClient(endpoint, hub, credential=DefaultAzureCredential()) with 'Web PubSub Service Owner'",
        "`WebPubSubServiceClient(endpoint=\"https://{r}.webpubsub.azure.com\", hub=\"<hub>\", credential=DefaultAzureCredential())`; "
        "grant 'Web PubSub Service Owner', set disableLocalAuth=true and regenerate this key.",
    ),
    "functions": (
        "protect the function with Entra authentication and call it with a DefaultAzureCredential token",
        "Function keys are shared secrets, not identities. Enable App Service authentication (Entra ID) on \"{r}\" "
        "and call it with a token from DefaultAzureCredential (scope `api://<app-id>/.default`), using authLevel "
        "anonymous behind the platform auth. If a key must stay, keep it in Key Vault and reference it: "
        "`@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>/)`. Renew this key.",
    ),
    "ai": (
        "use azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(), \"https://cognitiveservices.azure.com/.default\")",
        "Use Entra ID: `AzureOpenAI(azure_endpoint=\"https://{r}.openai.azure.com\", api_version=..., "
        "azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(), "
        "\"https://cognitiveservices.azure.com/.default\"))` (other AI SDKs: `credential=DefaultAzureCredential()`); "
        "grant 'Cognitive Services OpenAI User' (or 'Cognitive Services User'), set disableLocalAuth=true and "
        "regenerate this key.",
    ),
    "search": (
        "use SearchClient(endpoint, index, credential=DefaultAzureCredential()) with a 'Search Index Data' role",
        "`SearchClient(endpoint=\"https://{r}.search.windows.net\", index_name=\"<index>\", credential=DefaultAzureCredential())`; "
        "enable RBAC on the service, grant 'Search Index Data Reader' (queries) or 'Search Index Data Contributor' / "
        "'Search Service Contributor', disable key auth and regenerate this key.",
    ),
    "entra": (
        "replace the client secret with a managed identity or workload identity federation",
        "Drop the app secret: run with a managed identity (`DefaultAzureCredential()` / `ManagedIdentityCredential()`), "
        "or use workload identity federation (a federated credential for GitHub Actions, Azure Pipelines or "
        "Kubernetes) so no secret exists. Delete this secret from the app registration "
        "(`az ad app credential delete`) now.",
    ),
    "devops": (
        "use System.AccessToken or a workload-identity service connection instead of a PAT",
        "Inside pipelines use `$(System.AccessToken)`; elsewhere get an Entra token for Azure DevOps "
        "(`az account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798`, or DefaultAzureCredential "
        "with scope `499b84ac-1321-427f-aa17-267ca6975798/.default`) from a managed identity or a workload identity "
        "federation service connection. Revoke this PAT.",
    ),
    "acr": (
        "use `az acr login` with a managed identity and 'AcrPull'/'AcrPush'; disable the admin user",
        "Log in with Entra ID: `az login --identity && az acr login --name {r}` (AKS: attach the registry so the "
        "kubelet identity gets 'AcrPull'; App Service/Container Apps: registry identity settings). Grant "
        "'AcrPull'/'AcrPush', set adminUserEnabled=false and regenerate this password.",
    ),
    "batch": (
        "authenticate to Batch with Entra ID (DefaultAzureCredential) instead of the shared key",
        "Use Entra ID for the Batch service API (`BatchClient(endpoint=\"https://{r}.<region>.batch.azure.com\", "
        "credential=DefaultAzureCredential())` in azure-batch 15+), grant an RBAC role carrying the Microsoft.Batch "
        "data actions on the account, restrict allowedAuthenticationModes to AAD and regenerate this key.",
    ),
    "maps": (
        "use Entra ID (DefaultAzureCredential + the Maps account client id) with 'Azure Maps Data Reader'",
        "Use `MapsSearchClient(credential=DefaultAzureCredential(), client_id=\"<maps-account-client-id>\")` (the "
        "client id is not a secret) and grant 'Azure Maps Data Reader'; for browsers use SAS tokens minted by a "
        "backend. Set disableLocalAuth=true and regenerate this key.",
    ),
    "eventgrid": (
        "use EventGridPublisherClient(endpoint, DefaultAzureCredential()) with 'EventGrid Data Sender'",
        "`EventGridPublisherClient(endpoint, credential=DefaultAzureCredential())`; grant 'EventGrid Data Sender', "
        "set disableLocalAuth=true and regenerate this key.",
    ),
    "acs": (
        "use the Communication Services client with DefaultAzureCredential",
        "`CommunicationIdentityClient(endpoint=\"https://{r}.communication.azure.com\", credential=DefaultAzureCredential())` "
        "(EmailClient/SmsClient likewise) with a role granting access to the resource; regenerate this key.",
    ),
    "entra-token": (
        "revoke the user's sessions and keep token caches out of the repository; apps should use a managed identity",
        "A refresh token is a user's sign-in: whoever holds it gets new access tokens for that user until the "
        "sessions are revoked (`az ad user revoke-sign-in-sessions` / `Revoke-MgUserSignInSession`, or the "
        "user's password reset). Remove the token cache from the repository (MSAL caches such as "
        "`msal_token_cache.json`, `~/.azure/`) and add it to .gitignore. Code that needs Azure access should "
        "use `DefaultAzureCredential()`: a managed identity in Azure, the developer's own sign-in locally.",
    ),
    "apim": (
        "keep API Management keys out of code; call the API with an Entra token (validate-jwt) or a Key Vault reference",
        "API Management keys are shared secrets. Protect the API with Entra ID (validate-jwt / validate-azure-ad-token "
        "policy) and call it with a DefaultAzureCredential token; if a subscription key is still required, load it "
        "from Key Vault (`@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>/)`). "
        "Regenerate this key.",
    ),
    "keyvault": (
        "use Entra ID where the service supports it; otherwise keep the key in Key Vault",
        "Authenticate with DefaultAzureCredential where the service supports Entra ID. A secret that must remain "
        "(no Entra support, third party) belongs in Key Vault: an app setting "
        "`@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>/)` read through the app's "
        "managed identity ('Key Vault Secrets User'). Regenerate this key.",
    ),
}

_NAME_RE = re.compile(r"[^a-z0-9-]+")


def kv_secret_name(setting: str) -> str:
    n = _NAME_RE.sub("-", setting.lower()).strip("-")
    return (n or "secret")[:127]


def fix_text(guide: str, resource: str, setting: str, kind: str) -> str:
    _, long = GUIDANCE.get(guide, GUIDANCE["keyvault"])
    text = long.replace("{r}", resource or "<name>")
    if setting and kind in ("env", "yaml", "json", "hcl"):
        text += (
            f" If the setting '{setting}' must keep a secret value, make it a Key Vault reference: "
            f"`@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/{kv_secret_name(setting)}/)`."
        )
    return text


def short_text(guide: str, resource: str) -> str:
    short, _ = GUIDANCE.get(guide, GUIDANCE["keyvault"])
    return short.replace("{r}", resource or "<name>")
