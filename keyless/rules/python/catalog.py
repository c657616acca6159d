"""Static knowledge about Azure SDKs: which classes are clients of which service, how their
`from_connection_string` maps onto the credential-based constructor, and which data-plane role the
identity needs. Pure data (no imports beyond dataclasses) so detection stays cheap."""

from __future__ import annotations

from typing import NamedTuple


# service -> (role for read access, role for write access)
ROLES: dict[str, tuple[str, str]] = {
    "storage-blob": ("Storage Blob Data Reader", "Storage Blob Data Contributor"),
    "storage-datalake": ("Storage Blob Data Reader", "Storage Blob Data Contributor"),
    "storage-queue": ("Storage Queue Data Reader", "Storage Queue Data Contributor"),
    "storage-file": ("Storage File Data Privileged Reader", "Storage File Data Privileged Contributor"),
    "storage-table": ("Storage Table Data Reader", "Storage Table Data Contributor"),
    "servicebus": ("Azure Service Bus Data Receiver", "Azure Service Bus Data Sender"),
    "eventhubs": ("Azure Event Hubs Data Receiver", "Azure Event Hubs Data Sender"),
    "cosmos": ("Cosmos DB Built-in Data Reader", "Cosmos DB Built-in Data Contributor"),
    "appconfig": ("App Configuration Data Reader", "App Configuration Data Owner"),
    "keyvault-secrets": ("Key Vault Secrets User", "Key Vault Secrets Officer"),
    "keyvault-keys": ("Key Vault Crypto User", "Key Vault Crypto Officer"),
    "keyvault-certificates": ("Key Vault Certificate User", "Key Vault Certificates Officer"),
    "openai": ("Cognitive Services OpenAI User", "Cognitive Services OpenAI User"),
    "search": ("Search Index Data Reader", "Search Index Data Contributor"),
    "ai-language": ("Cognitive Services User", "Cognitive Services User"),
    "ai-document": ("Cognitive Services User", "Cognitive Services User"),
    "ai-vision": ("Cognitive Services User", "Cognitive Services User"),
    "ai-services": ("Cognitive Services User", "Cognitive Services User"),
    "eventgrid": ("EventGrid Data Sender", "EventGrid Data Sender"),
    "webpubsub": ("Web PubSub Service Owner", "Web PubSub Service Owner"),
    "signalr": ("SignalR App Server", "SignalR App Server"),
    "iot": ("IoT Hub Data Reader", "IoT Hub Data Contributor"),
    "acr": ("AcrPull", "AcrPush"),
    "sql": ("a contained database user (CREATE USER [<identity>] FROM EXTERNAL PROVIDER)",) * 2,
    "postgres": ("a Microsoft Entra role (pgaadauth_create_principal)",) * 2,
    "mysql": ("a Microsoft Entra user (CREATE AADUSER)",) * 2,
    "redis": ("a Redis data access policy assignment",) * 2,
}

SCOPES = {
    "storage": "https://storage.azure.com/.default",
    "sql": "https://database.windows.net/.default",
    "postgres": "https://ossrdbms-aad.database.windows.net/.default",
    "mysql": "https://ossrdbms-aad.database.windows.net/.default",
    "redis": "https://redis.azure.com/.default",
    "cognitive": "https://cognitiveservices.azure.com/.default",
    "search": "https://search.azure.com/.default",
}


def role_for(service: str, access: str) -> str:
    read, write = ROLES.get(service, ("the service's data-plane role",) * 2)
    if access == "read":
        return read
    if access == "write" or read == write:
        return write
    head, _, last = read.rpartition(" ")
    if head and write.startswith(head + " "):  # Storage Blob Data Contributor (or Reader to read only)
        return f"{write} (or {last} to read only)"
    return f"{write} (or {read} to read only)"


class ClientInfo(NamedTuple):
    cls: str
    service: str
    # constructor parameter that takes the endpoint (None: no credential-based constructor known)
    endpoint_param: str | None = None
    # connection-string flavour used to derive the endpoint (see derive_endpoint)
    endpoint_kind: str = ""
    # names of the positional parameters of from_connection_string after the connection string
    fcs_params: tuple[str, ...] = ()
    # positional index of `credential` in the constructor (None: keyword only / unknown)
    cred_pos: int | None = None
    # extra keyword arguments the token-credential constructor needs
    extra: tuple[tuple[str, str], ...] = ()
    access: str = "unknown"  # implied by the class itself (producer -> write)
    token_ok: bool = True  # accepts an azure-identity TokenCredential


def _mk(pkgs: tuple[str, ...], infos: list[ClientInfo], table: dict[str, ClientInfo]) -> None:
    for pkg in pkgs:
        for info in infos:
            table[f"{pkg}.{info.cls}"] = info


CLIENTS: dict[str, ClientInfo] = {}

_TI = (("token_intent", '"backup"'),)
_mk(("azure.storage.blob", "azure.storage.blob.aio"), [
    ClientInfo("BlobServiceClient", "storage-blob", "account_url", "blob", (), 1),
    ClientInfo("ContainerClient", "storage-blob", "account_url", "blob", ("container_name",), 2),
    ClientInfo("BlobClient", "storage-blob", "account_url", "blob", ("container_name", "blob_name", "snapshot"), 4),
], CLIENTS)
_mk(("azure.storage.queue", "azure.storage.queue.aio"), [
    ClientInfo("QueueServiceClient", "storage-queue", "account_url", "queue", (), 1),
    ClientInfo("QueueClient", "storage-queue", "account_url", "queue", ("queue_name",), 2),
], CLIENTS)
_mk(("azure.storage.fileshare", "azure.storage.fileshare.aio"), [
    ClientInfo("ShareServiceClient", "storage-file", "account_url", "file", (), 1, _TI),
    ClientInfo("ShareClient", "storage-file", "account_url", "file", ("share_name", "snapshot"), 3, _TI),
    ClientInfo("ShareDirectoryClient", "storage-file", "account_url", "file", ("share_name", "directory_path", "snapshot"), 4, _TI),
    ClientInfo("ShareFileClient", "storage-file", "account_url", "file", ("share_name", "file_path", "snapshot"), 4, _TI),
], CLIENTS)
_mk(("azure.storage.filedatalake", "azure.storage.filedatalake.aio"), [
    ClientInfo("DataLakeServiceClient", "storage-datalake", "account_url", "dfs", (), 1),
    ClientInfo("FileSystemClient", "storage-datalake", "account_url", "dfs", ("file_system_name",), 2),
    ClientInfo("DataLakeDirectoryClient", "storage-datalake", "account_url", "dfs", ("file_system_name", "directory_name"), 3),
    ClientInfo("DataLakeFileClient", "storage-datalake", "account_url", "dfs", ("file_system_name", "file_path"), 3),
], CLIENTS)
_mk(("azure.data.tables", "azure.data.tables.aio"), [
    ClientInfo("TableServiceClient", "storage-table", "endpoint", "table", ()),
    ClientInfo("TableClient", "storage-table", "endpoint", "table", ("table_name",)),
], CLIENTS)
_mk(("azure.servicebus", "azure.servicebus.aio"), [
    ClientInfo("ServiceBusClient", "servicebus", "fully_qualified_namespace", "sb", (), 1),
], CLIENTS)
_mk(("azure.servicebus.management", "azure.servicebus.aio.management", "azure.servicebus.management.aio"), [
    ClientInfo("ServiceBusAdministrationClient", "servicebus", "fully_qualified_namespace", "sb", (), 1, access="write"),
], CLIENTS)
_mk(("azure.eventhub", "azure.eventhub.aio"), [
    ClientInfo("EventHubProducerClient", "eventhubs", "fully_qualified_namespace", "eh", (), 2, access="write"),
    ClientInfo("EventHubConsumerClient", "eventhubs", "fully_qualified_namespace", "eh", ("consumer_group",), 3, access="read"),
], CLIENTS)
_mk(("azure.eventhub.extensions.checkpointstoreblob", "azure.eventhub.extensions.checkpointstoreblobaio",
     "azure.eventhub.extensions.checkpointstoreblob.aio"), [
    ClientInfo("BlobCheckpointStore", "storage-blob", "blob_account_url", "blob", ("container_name",), 2, access="write"),
], CLIENTS)
_mk(("azure.eventhub.extensions.checkpointstoretable", "azure.eventhub.extensions.checkpointstoretableaio"), [
    ClientInfo("TableCheckpointStore", "storage-table", "table_account_url", "table", ("table_name",), 2, access="write"),
], CLIENTS)
_mk(("azure.cosmos", "azure.cosmos.aio"), [
    ClientInfo("CosmosClient", "cosmos", "url", "cosmos", (), 1),
], CLIENTS)
_mk(("azure.appconfiguration", "azure.appconfiguration.aio"), [
    ClientInfo("AppConfigurationClient", "appconfig", "base_url", "appconfig", (), 1),
], CLIENTS)
_mk(("azure.messaging.webpubsubservice", "azure.messaging.webpubsubservice.aio"), [
    ClientInfo("WebPubSubServiceClient", "webpubsub", "endpoint", "webpubsub", ("hub",), 2),
], CLIENTS)
# IoT Hub service SDK: token auth goes through from_token_credential (no mechanical rewrite here).
_mk(("azure.iot.hub",), [
    ClientInfo("IoTHubRegistryManager", "iot", access="write"),
    ClientInfo("IoTHubJobManager", "iot", access="write"),
    ClientInfo("IoTHubConfigurationManager", "iot", access="write"),
    ClientInfo("IoTHubHttpRuntimeManager", "iot"),
    ClientInfo("DigitalTwinClient", "iot"),
], CLIENTS)
_mk(("azure.keyvault.secrets", "azure.keyvault.secrets.aio"), [ClientInfo("SecretClient", "keyvault-secrets")], CLIENTS)
_mk(("azure.keyvault.keys", "azure.keyvault.keys.aio"), [ClientInfo("KeyClient", "keyvault-keys")], CLIENTS)
_mk(("azure.keyvault.keys.crypto", "azure.keyvault.keys.crypto.aio"), [ClientInfo("CryptographyClient", "keyvault-keys")], CLIENTS)
_mk(("azure.keyvault.certificates", "azure.keyvault.certificates.aio"),
    [ClientInfo("CertificateClient", "keyvault-certificates")], CLIENTS)
_mk(("azure.search.documents", "azure.search.documents.aio"), [ClientInfo("SearchClient", "search")], CLIENTS)
_mk(("azure.search.documents.indexes", "azure.search.documents.indexes.aio"), [
    ClientInfo("SearchIndexClient", "search", access="write"),
    ClientInfo("SearchIndexerClient", "search", access="write"),
], CLIENTS)
_mk(("azure.ai.textanalytics", "azure.ai.textanalytics.aio"), [ClientInfo("TextAnalyticsClient", "ai-language", access="read")], CLIENTS)
_mk(("azure.ai.language.conversations", "azure.ai.language.conversations.aio"),
    [ClientInfo("ConversationAnalysisClient", "ai-language", access="read")], CLIENTS)
_mk(("azure.ai.language.questionanswering", "azure.ai.language.questionanswering.aio"),
    [ClientInfo("QuestionAnsweringClient", "ai-language", access="read")], CLIENTS)
_mk(("azure.ai.formrecognizer", "azure.ai.formrecognizer.aio"), [
    ClientInfo("DocumentAnalysisClient", "ai-document", access="read"),
    ClientInfo("DocumentModelAdministrationClient", "ai-document", access="write"),
    ClientInfo("FormRecognizerClient", "ai-document", access="read"),
    ClientInfo("FormTrainingClient", "ai-document", access="write"),
], CLIENTS)
_mk(("azure.ai.documentintelligence", "azure.ai.documentintelligence.aio"), [
    ClientInfo("DocumentIntelligenceClient", "ai-document", access="read"),
    ClientInfo("DocumentIntelligenceAdministrationClient", "ai-document", access="write"),
], CLIENTS)
_mk(("azure.ai.vision.imageanalysis", "azure.ai.vision.imageanalysis.aio"),
    [ClientInfo("ImageAnalysisClient", "ai-vision", access="read")], CLIENTS)
_mk(("azure.ai.vision.face", "azure.ai.vision.face.aio"), [ClientInfo("FaceClient", "ai-vision", access="read")], CLIENTS)
_mk(("azure.ai.contentsafety", "azure.ai.contentsafety.aio"), [ClientInfo("ContentSafetyClient", "ai-services", access="read")], CLIENTS)
_mk(("azure.ai.translation.text",), [ClientInfo("TextTranslationClient", "ai-services", access="read", token_ok=False)], CLIENTS)
_mk(("azure.ai.translation.document", "azure.ai.translation.document.aio"),
    [ClientInfo("DocumentTranslationClient", "ai-services")], CLIENTS)
# Azure AI Inference needs credential_scopes for Azure OpenAI endpoints: no blind rewrite.
_mk(("azure.ai.inference", "azure.ai.inference.aio"), [
    ClientInfo("ChatCompletionsClient", "openai", token_ok=False),
    ClientInfo("EmbeddingsClient", "openai", token_ok=False),
], CLIENTS)
_mk(("azure.eventgrid", "azure.eventgrid.aio"), [
    ClientInfo("EventGridPublisherClient", "eventgrid", access="write"),
    ClientInfo("EventGridClient", "eventgrid"),
], CLIENTS)
_mk(("azure.containerregistry", "azure.containerregistry.aio"), [ClientInfo("ContainerRegistryClient", "acr")], CLIENTS)
# Legacy (msrest) Cognitive Services SDKs: keys only through CognitiveServicesCredentials.
_mk(("azure.cognitiveservices.vision.computervision",), [ClientInfo("ComputerVisionClient", "ai-vision", token_ok=False)], CLIENTS)
_mk(("azure.cognitiveservices.vision.face",), [ClientInfo("FaceClient", "ai-vision", token_ok=False)], CLIENTS)
_mk(("azure.cognitiveservices.language.textanalytics",), [ClientInfo("TextAnalyticsClient", "ai-language", token_ok=False)], CLIENTS)

# Client classes that accept a bare string / dict account key as `credential`.
KEY_STRING_SERVICES = frozenset({"storage-blob", "storage-queue", "storage-file", "storage-datalake", "storage-table",
                                 "cosmos"})

# Methods that build a client from a URL and also take credential=.
FROM_URL_METHODS = frozenset({"from_blob_url", "from_container_url", "from_queue_url", "from_share_url",
                              "from_file_url", "from_directory_url", "from_table_url", "from_account_url"})

# Legacy storage SDK (<= v2) classes that take account_key / sas_token / connection_string.
LEGACY_STORAGE = {
    **{f"azure.storage.blob.{c}": "storage-blob" for c in ("BlockBlobService", "PageBlobService", "AppendBlobService",
                                                          "BaseBlobService")},
    **{f"azure.storage.blob.blockblobservice.{c}": "storage-blob" for c in ("BlockBlobService",)},
    "azure.storage.queue.QueueService": "storage-queue",
    "azure.storage.file.FileService": "storage-file",
    "azure.storage.table.TableService": "storage-table",
    "azure.cosmosdb.table.TableService": "storage-table",
    "azure.cosmosdb.table.tableservice.TableService": "storage-table",
    "azure.storage.common.CloudStorageAccount": "storage-blob",
    "azure.storage.CloudStorageAccount": "storage-blob",
    "azure.storage.blob.CloudStorageAccount": "storage-blob",
    "azure.servicebus.ServiceBusService": "servicebus",
    "azure.servicebus.control_client.ServiceBusService": "servicebus",
}

# from_connection_string whose string is not a secret (AI Foundry project connection strings,
# Application Insights connection strings of the Azure Monitor exporters and distro: an
# instrumentation key identifies the resource, it does not authenticate) or device-side SDKs
# without an Entra ID alternative.
NOT_KEY_FCS = ("azure.iot.device", "azure.ai.projects", "azure.monitor.opentelemetry")
# SDKs whose services accept keys only (Bing Search family): key credentials passed to them are not flagged.
NO_ENTRA_SDKS = ("azure.cognitiveservices.search.", "azure.cognitiveservices.language.spellcheck")

IOT_DEVICE_CLIENTS = frozenset({"IoTHubDeviceClient", "IoTHubModuleClient", "ProvisioningDeviceClient"})

# Key credential classes (construction = key auth).
KEY_CREDENTIALS = {
    "azure.core.credentials.AzureKeyCredential": "AzureKeyCredential",
    "azure.core.credentials.AzureNamedKeyCredential": "AzureNamedKeyCredential",
    "azure.core.credentials.AzureSasCredential": "AzureSasCredential",
    "msrest.authentication.CognitiveServicesCredentials": "CognitiveServicesCredentials",
    "msrest.authentication.ApiKeyCredentials": "ApiKeyCredentials",
}

IDENTITY_PKGS = ("azure.identity", "azure.identity.aio")
# Credentials that authenticate an app with a service-principal secret / user password.
SECRET_CREDENTIALS = {"ClientSecretCredential", "UsernamePasswordCredential", "CertificateCredential"}
LEGACY_SECRET_CREDENTIALS = {
    "azure.common.credentials.ServicePrincipalCredentials": "ServicePrincipalCredentials",
    "azure.common.credentials.UserPassCredentials": "UserPassCredentials",
    "msrestazure.azure_active_directory.ServicePrincipalCredentials": "ServicePrincipalCredentials",
    "msrestazure.azure_active_directory.UserPassCredentials": "UserPassCredentials",
}
# Azure ML SDK v1 (azureml-core): a workspace login as a service principal with its password.
AZUREML_SECRET_AUTH = {
    "azureml.core.authentication.ServicePrincipalAuthentication": "ServicePrincipalAuthentication",
    "azureml.core.ServicePrincipalAuthentication": "ServicePrincipalAuthentication",
}
# Azure ML SDK v1 blob datastores registered with the storage account's key or SAS (kept in the
# workspace's Key Vault); registered without one, the datastore uses identity-based access. (File
# share datastores are left out: identity-based access does not cover them.)
AZUREML_KEY_DATASTORES = {f"{mod}.Datastore.register_azure_blob_container"
                          for mod in ("azureml.core", "azureml.core.datastore")}
# Azure ML SDK v1 datastores registered with a service principal's secret (argument, position):
# registered without credentials, Data Lake Gen1/Gen2 and Azure SQL datastores use identity-based
# data access.
AZUREML_SECRET_DATASTORES = {f"{mod}.Datastore.{method}": pos
                             for mod in ("azureml.core", "azureml.core.datastore")
                             for method, pos in (("register_azure_data_lake", 5),
                                                 ("register_azure_data_lake_gen2", 6),
                                                 ("register_azure_sql_database", 6))}
# ... and with a database user's password (argument, position; None: keyword only).
AZUREML_PASSWORD_DATASTORES = {f"{mod}.Datastore.{method}": arg
                               for mod in ("azureml.core", "azureml.core.datastore")
                               for method, arg in (("register_azure_sql_database", ("password", None)),
                                                   ("register_azure_postgre_sql", ("user_password", 5)),
                                                   ("register_azure_my_sql", ("user_password", 5)))}
# ADAL (retired): AuthenticationContext methods that sign in with a secret (method -> what).
ADAL_CONTEXTS = frozenset({"adal.AuthenticationContext", "adal.authentication_context.AuthenticationContext"})
ADAL_SECRET_METHODS = {"acquire_token_with_client_credentials": "a client secret",
                       "acquire_token_with_username_password": "a user name and password"}
# MSAL confidential clients: client_credential is a secret string, a certificate dict or an assertion.
MSAL_CONFIDENTIAL = frozenset({"msal.ConfidentialClientApplication",
                               "msal.application.ConfidentialClientApplication"})
# Credentials worth reusing in a fix (token credentials meant for workloads).
REUSABLE_CREDENTIALS = {"DefaultAzureCredential", "ManagedIdentityCredential", "WorkloadIdentityCredential",
                        "ChainedTokenCredential"}

# OpenAI-compatible Azure classes: qualname -> (service label, key kwarg names, token kwarg names, fix kind)
OPENAI_CLASSES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {}
for _q in ("openai.AzureOpenAI", "openai.AsyncAzureOpenAI", "openai.lib.azure.AzureOpenAI",
           "openai.lib.azure.AsyncAzureOpenAI"):
    OPENAI_CLASSES[_q] = (("api_key",), ("azure_ad_token_provider", "azure_ad_token"), "openai")
for _pkg in ("langchain_openai", "langchain_openai.chat_models", "langchain_openai.embeddings",
             "langchain.chat_models", "langchain.embeddings", "langchain_community.chat_models",
             "langchain_community.embeddings", "langchain.llms", "langchain_openai.llms",
             "langchain_community.llms"):
    for _c in ("AzureChatOpenAI", "AzureOpenAIEmbeddings", "AzureOpenAI"):
        OPENAI_CLASSES[f"{_pkg}.{_c}"] = (("api_key", "openai_api_key"),
                                          ("azure_ad_token_provider", "azure_ad_async_token_provider",
                                           "azure_ad_token"), "langchain")
for _pkg in ("llama_index.llms.azure_openai", "llama_index.embeddings.azure_openai", "llama_index.llms",
             "llama_index.embeddings"):
    for _c in ("AzureOpenAI", "AzureOpenAIEmbedding", "AzureOpenAIMultiModal"):
        OPENAI_CLASSES[f"{_pkg}.{_c}"] = (("api_key",), ("azure_ad_token_provider",), "llamaindex")
for _pkg in ("semantic_kernel.connectors.ai.open_ai",):
    for _c in ("AzureChatCompletion", "AzureTextEmbedding", "AzureTextCompletion"):
        OPENAI_CLASSES[f"{_pkg}.{_c}"] = (("api_key",), ("ad_token_provider", "ad_token"), "semantic-kernel")

# The OpenAI client classes that reach the Azure OpenAI v1 API (`base_url=https://<resource>.openai.azure.com
# /openai/v1/`): qualname -> async. Since openai 1.106 `api_key` also takes a token provider.
OPENAI_V1_CLASSES = {"openai.OpenAI": False, "openai.AsyncOpenAI": True, "openai.Client": False,
                     "openai.AsyncClient": True, "openai._client.OpenAI": False, "openai._client.AsyncOpenAI": True}
# Hosts of Azure OpenAI / AI Foundry / AI Services endpoints (public and sovereign clouds).
AZURE_OPENAI_HOSTS = (".openai.azure.com", ".services.ai.azure.com", ".cognitiveservices.azure.com",
                      ".openai.azure.us", ".cognitiveservices.azure.us", ".openai.azure.cn",
                      ".cognitiveservices.azure.cn")
# Azure-hosted endpoints that take another provider's token (GitHub Models: a GitHub token).
NOT_AZURE_KEY_HOSTS = ("models.inference.ai.azure.com", "models.github.ai")

# Storage SAS helpers: qualname -> (service, position of the signing key, its keyword, whether a
# user delegation SAS, signed with a key obtained through Microsoft Entra ID, can replace it: "yes" for
# Blob and Data Lake, "newest-sdk" for Queue and Files (`user_delegation_key=` in their latest SDKs),
# "no" for account SAS and Table SAS). Blob, Queue and Files take `user_delegation_key=`; Data Lake
# takes the UserDelegationKey as `credential`.
SAS_FUNCTIONS: dict[str, tuple[str, int, str, str]] = {
    "azure.storage.blob.generate_blob_sas": ("storage-blob", 4, "account_key", "yes"),
    "azure.storage.blob.generate_container_sas": ("storage-blob", 2, "account_key", "yes"),
    "azure.storage.blob.generate_account_sas": ("storage-blob", 1, "account_key", "no"),
    "azure.storage.queue.generate_queue_sas": ("storage-queue", 2, "account_key", "newest-sdk"),
    "azure.storage.queue.generate_account_sas": ("storage-queue", 1, "account_key", "no"),
    "azure.storage.fileshare.generate_share_sas": ("storage-file", 2, "account_key", "newest-sdk"),
    "azure.storage.fileshare.generate_file_sas": ("storage-file", 3, "account_key", "newest-sdk"),
    "azure.storage.fileshare.generate_account_sas": ("storage-file", 1, "account_key", "no"),
    "azure.storage.filedatalake.generate_file_system_sas": ("storage-datalake", 2, "credential", "yes"),
    "azure.storage.filedatalake.generate_directory_sas": ("storage-datalake", 3, "credential", "yes"),
    "azure.storage.filedatalake.generate_file_sas": ("storage-datalake", 4, "credential", "yes"),
    "azure.storage.filedatalake.generate_account_sas": ("storage-datalake", 1, "account_key", "no"),
    "azure.data.tables.generate_table_sas": ("storage-table", 0, "credential", "no"),
    "azure.data.tables.generate_account_sas": ("storage-table", 0, "credential", "no"),
}

# --- databases & caches ---------------------------------------------------------------------
SQL_HOST = ".database.windows.net"
PG_HOST = ".postgres.database.azure.com"
MYSQL_HOST = ".mysql.database.azure.com"
REDIS_HOSTS = (".redis.cache.windows.net", ".redis.azure.net", ".redisenterprise.cache.azure.net")

DB_CONNECT = {
    "pyodbc.connect": "sql",
    "pymssql.connect": "sql",
    "pymssql.Connection": "sql",
    "aioodbc.connect": "sql",
    "aioodbc.create_pool": "sql",
    "psycopg.connect": "postgres",
    "psycopg.AsyncConnection.connect": "postgres",
    "psycopg.Connection.connect": "postgres",
    "psycopg2.connect": "postgres",
    "psycopg_pool.ConnectionPool": "postgres",
    "psycopg_pool.AsyncConnectionPool": "postgres",
    "psycopg2.pool.SimpleConnectionPool": "postgres",
    "psycopg2.pool.ThreadedConnectionPool": "postgres",
    "asyncpg.connect": "postgres",
    "asyncpg.create_pool": "postgres",
    "mysql.connector.connect": "mysql",
    "mysql.connector.MySQLConnection": "mysql",
    "mysql.connector.pooling.MySQLConnectionPool": "mysql",
    "pymysql.connect": "mysql",
    "pymysql.Connect": "mysql",
    "pymysql.connections.Connection": "mysql",
    "aiomysql.connect": "mysql",
    "aiomysql.create_pool": "mysql",
    "MySQLdb.connect": "mysql",
    "sqlalchemy.create_engine": "url",
    "sqlalchemy.ext.asyncio.create_async_engine": "url",
    "sqlalchemy.engine.create_engine": "url",
    "sqlalchemy.engine.URL.create": "url-parts",
    "sqlalchemy.URL.create": "url-parts",
    "sqlalchemy.engine.url.URL.create": "url-parts",
}

REDIS_CLIENTS = {
    "redis.Redis": "redis", "redis.StrictRedis": "redis", "redis.client.Redis": "redis",
    "redis.asyncio.Redis": "redis", "redis.asyncio.StrictRedis": "redis", "redis.cluster.RedisCluster": "redis",
    "redis.RedisCluster": "redis", "redis.asyncio.RedisCluster": "redis", "redis.asyncio.cluster.RedisCluster": "redis",
    "redis.ConnectionPool": "redis", "redis.asyncio.ConnectionPool": "redis",
    "redis.from_url": "url", "redis.Redis.from_url": "url", "redis.StrictRedis.from_url": "url",
    "redis.asyncio.from_url": "url", "redis.asyncio.Redis.from_url": "url", "redis.ConnectionPool.from_url": "url",
    "redis.asyncio.ConnectionPool.from_url": "url",
    "aioredis.from_url": "url", "aioredis.Redis": "redis", "aioredis.create_redis_pool": "url",
}

HTTP_FUNCS = {f"{m}.{v}" for m in ("requests", "httpx")
              for v in ("get", "post", "put", "patch", "delete", "request", "head", "options", "stream")}
HTTP_CLIENT_CTORS = {"requests.Session", "requests.session", "httpx.Client", "httpx.AsyncClient",
                     "aiohttp.ClientSession"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "request", "head", "options", "stream", "ws_connect"}

AZURE_HOST_HINTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".search.windows.net", ".api.cognitive.microsoft.com",
                    ".services.ai.azure.com", ".cognitive.microsoft.com", ".inference.ai.azure.com",
                    ".models.ai.azure.com", ".azure.com", ".windows.net", ".azure.net")
NOT_ENTRA_HOSTS = ("api.bing.microsoft.com", ".azure-api.net", "api.cognitive.microsofttranslator.com")

# Method-name heuristics for the access level of a client.
WRITE_PREFIXES = ("upload", "create", "delete", "set_", "send", "put", "append", "stage", "commit", "start_copy",
                  "copy", "merge", "update", "upsert", "replace", "insert", "submit", "schedule", "add_", "purge",
                  "clear", "index_documents", "begin_copy", "begin_create", "begin_delete", "begin_upsert",
                  "import_", "restore", "rename", "undelete", "acquire_lease", "publish", "patch", "batch",
                  "submit_transaction", "get_queue_sender", "get_topic_sender", "get_sender", "write",
                  "flush_data", "upsert_item", "create_item", "close_connection", "grant_permission", "remove_")
READ_PREFIXES = ("download", "list", "get", "receive", "query", "read", "search", "peek", "exists", "suggest",
                 "autocomplete", "analyze", "begin_analyze", "recognize", "detect", "extract", "translate",
                 "get_queue_receiver", "get_subscription_receiver", "get_receiver", "walk", "find")
SUBCLIENT_METHODS = ("get_blob_client", "get_container_client", "get_queue_client", "get_share_client",
                     "get_file_client", "get_directory_client", "get_file_system_client", "get_table_client",
                     "get_database_client", "get_container_client", "get_subdirectory_client",
                     "get_sub_directory_client", "create_container", "create_database", "create_table",
                     "create_database_if_not_exists", "create_container_if_not_exists", "create_queue",
                     "create_share", "create_file_system", "create_directory", "create_file",
                     "get_queue_sender", "get_queue_receiver", "get_topic_sender", "get_subscription_receiver",
                     "get_search_client")


def classify_method(name: str) -> str:
    if name.startswith(("get_queue_sender", "get_topic_sender")):
        return "write"
    if name.startswith(("get_queue_receiver", "get_subscription_receiver")):
        return "read"
    if name.endswith("_client") or name in ("close", "__enter__", "__exit__", "__aenter__", "__aexit__"):
        return "unknown"
    if name.startswith(WRITE_PREFIXES):
        return "write"
    if name.startswith(READ_PREFIXES):
        return "read"
    return "unknown"


# --- connection strings ------------------------------------------------------------------------

def parse_connection_string(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip().lower()] = v.strip()
    return out


def derive_endpoint(kind: str, text: str) -> tuple[str | None, str | None]:
    """Endpoint (not secret) and entity (EntityPath) from a literal connection string.
    Returns (None, None) when the string is not understood or is the storage emulator."""
    cs = parse_connection_string(text)
    if not cs:
        return None, None
    if kind in ("blob", "queue", "file", "dfs", "table"):
        if cs.get("usedevelopmentstorage", "").lower() == "true":
            return None, None
        explicit = {"blob": "blobendpoint", "queue": "queueendpoint", "file": "fileendpoint",
                    "table": "tableendpoint", "dfs": "blobendpoint"}[kind]
        if cs.get(explicit) and "{" not in cs[explicit]:
            ep = cs[explicit].rstrip("/")
            if kind == "dfs":
                ep = ep.replace(".blob.", ".dfs.")
            return ep, None
        acct = cs.get("accountname")
        if not acct or "{" in acct:
            return None, None
        proto = cs.get("defaultendpointsprotocol", "https") or "https"
        suffix = cs.get("endpointsuffix", "core.windows.net") or "core.windows.net"
        if "{" in proto or "{" in suffix:
            return None, None
        if kind == "table" and "table.cosmos" in text.lower():
            return f"https://{acct}.table.cosmos.azure.com", None
        return f"{proto}://{acct}.{kind}.{suffix}", None
    if kind in ("sb", "eh"):
        ep = cs.get("endpoint", "")
        if not ep or "{" in ep:
            return None, None
        host = ep.split("://", 1)[-1].rstrip("/")
        ent = cs.get("entitypath") or None
        if ent and "{" in ent:
            ent = None
        return host, ent
    key = {"cosmos": "accountendpoint", "appconfig": "endpoint", "webpubsub": "endpoint"}.get(kind)
    if key and cs.get(key) and "{" not in cs[key]:
        return cs[key].rstrip("/") + ("/" if kind == "cosmos" else ""), None
    return None, None


ENV_SUFFIX = {
    "storage-blob": "ACCOUNT_URL",
    "storage-queue": "QUEUE_ACCOUNT_URL",
    "storage-file": "FILE_ACCOUNT_URL",
    "storage-datalake": "DFS_ACCOUNT_URL",
    "storage-table": "TABLE_ENDPOINT",
    "servicebus": "FULLY_QUALIFIED_NAMESPACE",
    "eventhubs": "FULLY_QUALIFIED_NAMESPACE",
    "cosmos": "ENDPOINT",
    "appconfig": "ENDPOINT",
    "webpubsub": "ENDPOINT",
}
ENV_DEFAULT_PREFIX = {
    "storage-blob": "AZURE_STORAGE_", "storage-queue": "AZURE_STORAGE_", "storage-file": "AZURE_STORAGE_",
    "storage-datalake": "AZURE_STORAGE_", "storage-table": "AZURE_STORAGE_", "servicebus": "AZURE_SERVICEBUS_",
    "eventhubs": "AZURE_EVENTHUB_", "cosmos": "AZURE_COSMOS_", "appconfig": "AZURE_APPCONFIG_",
    "webpubsub": "AZURE_WEBPUBSUB_",
}
_CS_SUFFIXES = ("CONNECTION_STRING", "CONNECTIONSTRING", "CONNECTION_STR", "CONN_STRING", "CONN_STR", "CONNSTR",
                "CONN", "CS")


# The Functions host's own storage setting has identity-based forms of its own (one per service).
_FUNCTIONS_STORAGE_URIS = {"storage-blob": "blobServiceUri", "storage-queue": "queueServiceUri",
                           "storage-table": "tableServiceUri"}


def endpoint_env_name(conn_env: str, service: str) -> str:
    """AZURE_STORAGE_CONNECTION_STRING -> AZURE_STORAGE_ACCOUNT_URL (same prefix, endpoint suffix);
    AzureWebJobsStorage -> AzureWebJobsStorage__blobServiceUri (the setting an identity-based
    Functions host reads too, so the app and the host share one configuration)."""
    up = conn_env.upper()
    if up == "AZUREWEBJOBSSTORAGE" and service in _FUNCTIONS_STORAGE_URIS:
        return f"{conn_env}__{_FUNCTIONS_STORAGE_URIS[service]}"
    prefix = None
    for suf in _CS_SUFFIXES:
        if up.endswith(suf):
            prefix = conn_env[: len(conn_env) - len(suf)]
            break
    if prefix is None or (prefix and not prefix.endswith("_")) or not prefix:
        prefix = ENV_DEFAULT_PREFIX.get(service, "AZURE_")
    name = prefix + ENV_SUFFIX.get(service, "ENDPOINT")
    return name if conn_env.isupper() or conn_env.upper() == conn_env else name.upper()
