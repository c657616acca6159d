"""key-auth rules for Python (KL201-KL209). Detection is one shared `ast` pass (analysis.py);
fixes are libcst rewrites computed lazily in fixes.py."""

from __future__ import annotations

from typing import ClassVar, Iterable

from keyless.linter.finding import Applicability, Category, Finding, Fix, Severity
from keyless.linter.rule import Fact, Rule


_APPL = {"unsafe": Applicability.UNSAFE, "display-only": Applicability.DISPLAY_ONLY}


def get_analysis(doc):
    """The shared analysis, imported on first use: a check of a file of another kind (an editor's
    Bicep or YAML buffer) registers these rules but never loads the analysis."""
    from keyless.rules.python.analysis import get_analysis as analyse

    return analyse(doc)


class KeyAuthRule(Rule):
    """Base: findings come from the shared analysis, filtered by code."""

    category = Category.KEY_AUTH
    kinds = frozenset({"python"})
    severity = Severity.HIGH
    fix_applicability: ClassVar[Applicability | None] = Applicability.UNSAFE

    def check(self, doc) -> Iterable[Finding]:
        an = get_analysis(doc)
        for hit in an.hits:
            if hit.code != self.code:
                continue
            appl = _APPL[hit.fix_kind]
            lazy = appl is Applicability.UNSAFE and hit.fix_data is not None
            fix = Fix(hit.fix_message, appl, lazy=lazy)
            yield self.finding(doc.relpath, doc.node_span(hit.node), key=hit.key, message=hit.message, fix=fix,
                               fix_data=hit.fix_data if lazy else None)

    def sensitive_spans(self, doc) -> Iterable[tuple[int, int]]:
        for node in get_analysis(doc).credential_literals:
            sp = doc.node_span(node)
            yield doc.lines.offset(sp.start), doc.lines.offset(sp.end)

    def materialize_fix(self, doc, finding: Finding) -> Fix | None:
        if finding.fix is None or not finding.fix.lazy:
            return finding.fix
        from keyless.rules.python import fixes  # libcst is imported only here

        return fixes.materialize(doc, finding)

    def literal_credential(self, doc, finding: Finding) -> bool:
        """The analysis marks hits whose credential argument is a string literal (also through a
        variable): `AzureKeyCredential("...")`, `ClientSecretCredential(t, c, "...")`,
        `AzureOpenAI(api_key="...")`."""
        for hit in get_analysis(doc).hits:
            if hit.code == self.code and hit.literal and doc.node_span(hit.node) == finding.span:
                return True
        return False


class ConnectionStringAuth(KeyAuthRule):
    """Azure SDK client built from a connection string (shared key / SAS auth).

    ## What it does
    Flags `X.from_connection_string(...)` on Azure SDK clients: Storage (Blob, Queue, File Share,
    Data Lake), Tables, Service Bus, Event Hubs producers/consumers and checkpoint stores, Cosmos DB,
    App Configuration, IoT Hub service clients and Web PubSub. Names are resolved through import
    aliases (`import azure.storage.blob as blob`, `from ... import BlobServiceClient as BSC`) and
    re-assigned variables. The value may be a literal, an environment read, a settings object or a
    variable: the finding is about the authentication mode, not the value.

    Not flagged: storage/Cosmos emulator connection strings (`UseDevelopmentStorage=true`,
    `devstoreaccount1`, `localhost:8081`), test code (`tests/`, `test_*.py`, `*_test.py`,
    `conftest.py`) whose module talks to the Cosmos DB or storage emulator (a `localhost:8081` or
    Azurite endpoint, `devstoreaccount1`, or an emulator's published key), a connection string
    whose name says it is the emulator's (`AZURITE_CONN_STR`, `COSMOS_EMULATOR_CONNECTION_STRING`,
    also when imported from a conftest whose literal cannot be seen), test code reading a variable
    that the project's pytest configuration sets to an emulator (pytest-env's `env` in `pytest.ini`,
    `tox.ini` `[pytest]`, `setup.cfg` `[tool:pytest]`, `pyproject.toml`), IoT *device* clients
    (`IoTHubDeviceClient.create_from_connection_string`), which have no Entra ID alternative, and
    Application Insights connection strings (the Azure Monitor OpenTelemetry exporters and distro,
    or any `InstrumentationKey=...` string): an instrumentation key identifies the resource and
    grants nothing.

    ## Why is this bad?
    A connection string embeds an account key or SAS. Anyone who reads it (logs, app settings,
    source control) gets full data-plane access, it cannot be scoped to one app, and rotating it
    breaks every consumer. A managed identity has no secret to leak and its access is an auditable
    Azure RBAC role assignment.

    ## Example
    ```python
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    ```

    ## Use instead
    ```python
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient(os.environ["AZURE_STORAGE_ACCOUNT_URL"], credential=DefaultAzureCredential())
    ```
    and grant the app's identity `Storage Blob Data Contributor` (or Reader) on the account.

    ## Fix safety
    Unsafe: the rewritten client authenticates as the app's identity, which needs the data-plane role
    named in the fix message. The endpoint is derived from a literal connection string (account names
    and hosts are not secrets), or read from an environment variable named after the original one
    (`..._CONNECTION_STRING` → `..._ACCOUNT_URL` / `..._FULLY_QUALIFIED_NAMESPACE` / `..._ENDPOINT`;
    the Functions host's `AzureWebJobsStorage` → `AzureWebJobsStorage__blobServiceUri` /
    `__queueServiceUri` / `__tableServiceUri`, the settings of an identity-based host), which you must set. File Share clients get `token_intent="backup"`. A client built in a branch of
    `if conn_str:` (the connection string used only when configured, the identity otherwise) gets
    guidance: drop that branch. No fix is offered when the
    value comes from a settings object or a parameter, or when the client's key is read back later
    (`client.credential.account_key`, e.g. to sign a SAS, also through a client derived from it):
    a token credential has no key, so that code would break; sign with a user delegation key first.
    A credential of the module is reused only when it is bound once and on every path to the call.
    """

    code = "KL201"
    name = "connection-string-auth"
    message = "Azure SDK client authenticates with a connection string (shared key)"
    # Also hosts the project facts (collect), so its keywords cover every client/credential we model.
    keywords = ("from_connection_string", "azure", "redis", "psycopg", "pyodbc", "pymssql", "asyncpg",
                "pymysql", "mysql", "sqlalchemy", "openai", "Credential")

    def collect(self, doc) -> Iterable[Fact]:
        an = get_analysis(doc)
        for kind, data, node in an.facts:
            data = dict(data)
            if kind == "py.credential":
                sp = doc.node_span(node)
                data.update(line=sp.start.line, column=sp.start.column, end_line=sp.end.line,
                            end_column=sp.end.column)
            yield Fact(kind=kind, path=doc.relpath, data=data)


class KeyCredential(KeyAuthRule):
    """Shared-key credential objects and account keys passed as `credential`.

    ## What it does
    Flags construction of `AzureKeyCredential`, `AzureNamedKeyCredential`, `AzureSasCredential`
    (azure-core) and the legacy msrest `CognitiveServicesCredentials` / `ApiKeyCredentials`; a string
    or dict account key / SAS passed as `credential=` to Storage, Tables or Cosmos clients (also
    `CosmosClient(url, key)`, `ContainerClient(url, name, key)`); legacy storage SDK classes given
    `account_key=`; and Azure ML SDK v1 blob datastores registered with `account_key=` or
    `sas_token=` (`Datastore.register_azure_blob_container`), which identity-based data access
    replaces.

    The key may also reach the client through `**mapping` when the mapping's contents are known
    where it is defined: a dict literal or `dict(credential=...)` the name is bound to, plus
    `mapping["credential"] = ...` in the same scope (`client_args = {"credential": key}`,
    `BlobServiceClient(url, **client_args)`). A mapping that is a parameter, comes from a call or
    unpacks another mapping is unknown and not judged. A string key found this way gets guidance,
    not a rewrite.

    A non-literal `credential=` value counts as a key when it is a string (literal, f-string,
    environment read) or a name whose identifier says so (`*key*`, `*sas*`, `*secret*`); names bound to
    azure-identity credentials are not flagged, nor are clients of a local emulator: a `localhost` /
    `127.0.0.1` endpoint, the Cosmos DB or Azurite published key, the `devstoreaccount1` account, or
    test code whose module talks to the emulator or whose pytest configuration sets the key variable
    to the emulator's (see KL201). Test code passing a literal that cannot
    be a key (`AzureKeyCredential("")`, `"test"`, `"fake-key"`: a client built only to be mocked) is
    not flagged either.

    ## Why is this bad?
    Keys grant full data-plane access, are shared by every caller and must be rotated by hand. With
    Microsoft Entra ID the app gets a scoped, auditable role assignment and no secret to leak.

    ## Example
    ```python
    client = SearchClient(endpoint, "docs", AzureKeyCredential(os.environ["SEARCH_KEY"]))
    ```

    ## Use instead
    ```python
    client = SearchClient(endpoint, "docs", DefaultAzureCredential())
    ```
    and grant the identity the data-plane role (here `Search Index Data Reader`).

    ## Fix safety
    Unsafe: the key credential is replaced by `DefaultAzureCredential()` (or an existing credential
    object of the module), which needs the role named in the fix message. Only offered when every
    client the credential is passed to is known to accept a TokenCredential; otherwise the fix is
    display-only guidance (e.g. Azure Maps needs a client id, Azure AI Inference needs
    `credential_scopes`). Also guidance only: a key credential object read elsewhere
    (`generate_table_sas(cred, ...)`, `cred.update(new_key)`) and a client whose key is read back
    (`client.credential.account_key`), which a token credential cannot serve. A check that the key
    is set before the call (`if not endpoint or not key: return None`) loses its key test when that
    test and the credential are the key's only reads in the function.
    """

    code = "KL202"
    name = "key-credential"
    message = "Azure client authenticates with a shared key credential"
    keywords = ("AzureKeyCredential", "AzureNamedKeyCredential", "AzureSasCredential", "credential",
                "CognitiveServicesCredentials", "ApiKeyCredentials", "account_key", "CosmosClient", "sas_token",
                "shared_access_key",
                # clients taking a key positionally (`ContainerClient(url, name, key)`)
                "azure.storage", "checkpointstore")


class ClientSecretCredentialRule(KeyAuthRule):
    """Service principal authenticating with a client secret or password.

    ## What it does
    Flags `ClientSecretCredential`, `UsernamePasswordCredential` (deprecated, no MFA) and
    `CertificateCredential(password=...)` from azure-identity (sync and `aio`), and the legacy
    `ServicePrincipalCredentials` / `UserPassCredentials` (azure-common, msrestazure) and Azure ML
    SDK v1's `ServicePrincipalAuthentication` (azureml-core).

    Also the retired ADAL library: `AuthenticationContext(...).acquire_token_with_client_credentials`
    (a client secret) and `acquire_token_with_username_password`; MSAL's
    `ConfidentialClientApplication` whose `client_credential` is a secret (a string, an environment
    read, or a name that says secret or password); and Azure ML v1 Data Lake (Gen1, Gen2) and Azure
    SQL datastores registered with `client_secret=` (registered without credentials they use
    identity-based data access).

    Not flagged: ADAL's `acquire_token_with_client_certificate` and an MSAL `client_credential`
    that is a certificate dict (`{"private_key": ..., "thumbprint": ...}`), a `client_assertion`
    dict (a federated credential, which a managed identity can supply) or the result of a call,
    as `CertificateCredential` without a password is not: a certificate is not a password typed
    into settings. Methods of other classes with the same names are not ADAL's.

    ## Why is this bad?
    A client secret is a long-lived password for an app registration: it expires, must be rotated,
    is copied into app settings and CI, and leaks like any key. Workloads running on Azure can use a
    managed identity (or workload identity federation on Kubernetes) instead, with no secret at all.

    ## Example
    ```python
    credential = ClientSecretCredential(tenant_id, client_id, os.environ["AZURE_CLIENT_SECRET"])
    ```

    ## Use instead
    ```python
    credential = DefaultAzureCredential()  # or ManagedIdentityCredential(client_id=...)
    ```

    ## Fix safety
    Unsafe: the managed identity must be granted the roles the service principal had. The fix writes
    `ManagedIdentityCredential(client_id=<same expression>)` when the client id was read from
    `AZURE_CLIENT_ID`, otherwise `DefaultAzureCredential()`; remove `AZURE_CLIENT_SECRET` from the
    environment, or `DefaultAzureCredential` keeps using it first. Legacy msrest credentials get
    display-only guidance (the SDK must be upgraded), and so does `ServicePrincipalAuthentication`
    (`MsiAuthentication()` on Azure compute, or azure-ai-ml's `MLClient` with a token credential),
    ADAL and MSAL sign-ins (azure-identity's `DefaultAzureCredential`; for MSAL user sign-in, the
    managed identity's token as a `client_assertion`) and datastores (register without a secret).
    """

    code = "KL203"
    name = "client-secret-credential"
    message = "Service principal authenticates with a client secret"
    keywords = ("ClientSecretCredential", "UsernamePasswordCredential", "CertificateCredential",
                "ServicePrincipalCredentials", "UserPassCredentials", "ServicePrincipalAuthentication",
                "acquire_token_with_", "ConfidentialClientApplication", "register_azure_")


class OpenAIApiKey(KeyAuthRule):
    """Azure OpenAI client authenticating with an API key.

    ## What it does
    Flags `AzureOpenAI` / `AsyncAzureOpenAI` (openai>=1) created with `api_key=` or without any
    credential (the SDK then reads `AZURE_OPENAI_API_KEY`), LangChain `AzureChatOpenAI` /
    `AzureOpenAIEmbeddings` with `api_key` / `openai_api_key` (or none), LlamaIndex `AzureOpenAI` /
    `AzureOpenAIEmbedding` with `api_key` and no `use_azure_ad`, Semantic Kernel Azure connectors with
    `api_key`, and the legacy module configuration `openai.api_type = "azure"` + `openai.api_key = ...`.

    The Azure OpenAI v1 API: `OpenAI` / `AsyncOpenAI` with a `base_url` that is an Azure OpenAI,
    AI Foundry or AI Services endpoint (`https://<resource>.openai.azure.com/openai/v1/`,
    `*.services.ai.azure.com`, `*.cognitiveservices.azure.com`) and a string `api_key` (or none:
    the SDK then reads `OPENAI_API_KEY`). The base URL counts when its host is visible: a literal,
    or built from a module constant or an environment read's default; a name or environment
    variable that says `AZURE` (`AZURE_OPENAI_ENDPOINT`) also counts, as for the database rules.
    Any other base URL (api.openai.com, Ollama, GitHub Models on `models.inference.ai.azure.com`,
    an unnamed variable) is not judged.

    Not flagged: clients given `azure_ad_token_provider` / `azure_ad_token`, v1 clients whose
    `api_key` is a token provider (a callable) or an Entra token, plain `OpenAI(...)` (not Azure),
    and calls that forward `**kwargs` without an explicit key.

    ## Why is this bad?
    An Azure OpenAI key grants every deployment of the resource to whoever holds it and cannot be
    tied to one app. Entra ID tokens from a managed identity are scoped by the `Cognitive Services
    OpenAI User` role and leave nothing to leak.

    ## Example
    ```python
    client = AzureOpenAI(azure_endpoint=endpoint, api_key=os.environ["AZURE_OPENAI_API_KEY"],
                         api_version="2024-06-01")
    ```

    ## Use instead
    ```python
    token_provider = get_bearer_token_provider(DefaultAzureCredential(),
                                               "https://cognitiveservices.azure.com/.default")
    client = AzureOpenAI(azure_endpoint=endpoint, azure_ad_token_provider=token_provider,
                         api_version="2024-06-01")
    ```
    With the v1 API the token provider goes in `api_key` (openai >= 1.106 takes a callable there),
    as Microsoft documents it for Entra ID ("How to configure Azure OpenAI with Microsoft Entra ID
    authentication" and "Switch between OpenAI and Azure OpenAI endpoints", learn.microsoft.com):
    ```python
    client = OpenAI(base_url="https://<resource>.openai.azure.com/openai/v1/", api_key=token_provider)
    ```
    `AsyncOpenAI` awaits its provider: use `azure.identity.aio.get_bearer_token_provider` with an
    `azure.identity.aio` credential.

    ## Fix safety
    Unsafe: the identity needs `Cognitive Services OpenAI User` on the resource, and the resource needs
    a custom-subdomain endpoint. The fix swaps `api_key=` for
    `azure_ad_token_provider=get_bearer_token_provider(credential, scope)` (reusing an existing token
    provider or credential of the module, when it is bound once and on every path to the call), adds
    `use_azure_ad=True` for LlamaIndex, and adds the `azure.identity` import. A call that already
    passes `azure_ad_token_provider` / `azure_ad_token` only loses its key argument; when it picks
    the key or the token at run time (`provider if not key else None`, or a provider variable also
    set to None, assigned only when no key is configured) the fix is guidance only.
    For the v1 API the fix puts the token provider in `api_key` (sync provider for `OpenAI`,
    `azure.identity.aio` provider and credential for `AsyncOpenAI`); it needs openai >= 1.106.
    A reused provider must match the client (a sync client never gets an async provider). A key
    the code picks at run time (`if api_key := os.getenv(...): Client(api_key=api_key)`, or a client
    built in a branch of `if api_key:`) gets guidance only: the rewrite would leave the branch
    meaningless.
    A check that the key is set before the call (`if not endpoint or not api_key: return ...`) loses
    its key test when that test and the call are the key's only reads in the function, so the
    rewritten app no longer requires the key.
    Legacy `openai.api_key` and Semantic Kernel get display-only guidance.
    """

    code = "KL204"
    name = "openai-api-key"
    message = "Azure OpenAI client authenticates with an API key"
    keywords = ("AzureOpenAI", "AzureChatOpenAI", "AzureOpenAIEmbedding", "api_key", "AzureChatCompletion",
                "AzureTextEmbedding", "AzureTextCompletion", "base_url")


class ApiKeyHeader(KeyAuthRule):
    """Raw HTTP call to an Azure AI / Search endpoint with a key header.

    ## What it does
    Flags `requests`, `httpx` and `aiohttp` calls (module functions, sessions and clients) whose
    `headers` (a dict literal, `dict(...)`, or a name bound to one, including `headers["api-key"] = ...`)
    carry `api-key` or `Ocp-Apim-Subscription-Key`.

    `api-key` is a common header name outside Azure, so it is only flagged when the URL is visibly an
    Azure endpoint: an Azure host (`*.openai.azure.com`, `*.search.windows.net`,
    `*.cognitiveservices.azure.com`, ...), an `api-version=` query or `/openai/deployments` path, or an
    environment variable / identifier naming Azure, OpenAI or Cognitive Services.
    `Ocp-Apim-Subscription-Key` is Azure-specific and flagged unless the URL is an API Management
    gateway (`*.azure-api.net`, or a key or URL named after it: `apim_key`, `APIM_GATEWAY_URL`, or a
    key typed in at a `getpass`/`input` prompt that asks for API Management's, in a module that
    calls no Azure AI host or REST path; its subscription keys are APIM's own mechanism)
    or Bing (no Entra ID). A module calling `formrecognizer/...` with a key named `apim_key` sends the
    AI resource's own key and is flagged.

    ## Why is this bad?
    The header carries the resource's master key. Azure AI services and AI Search accept
    `Authorization: Bearer <token>` from a managed identity instead.

    ## Example
    ```python
    requests.post(f"{endpoint}/openai/deployments/gpt/chat/completions?api-version=2024-06-01",
                  headers={"api-key": key}, json=body)
    ```

    ## Use instead
    ```python
    token = credential.get_token("https://cognitiveservices.azure.com/.default").token
    requests.post(url, headers={"Authorization": f"Bearer {token}"}, json=body)
    ```

    ## Fix safety
    Display-only: the token must be fetched (and refreshed) somewhere suitable, which a mechanical
    rewrite cannot decide. The message names the token scope and the role.
    """

    code = "KL205"
    name = "api-key-header"
    message = "HTTP request authenticates to an Azure endpoint with a key header"
    severity = Severity.MEDIUM
    fix_applicability = Applicability.DISPLAY_ONLY
    keywords = ("api-key", "Ocp-Apim-Subscription-Key", "api_key")


class DatabasePasswordAuth(KeyAuthRule):
    """Azure SQL / PostgreSQL / MySQL connection with a password.

    ## What it does
    Flags `pyodbc`/`aioodbc` connection strings with `PWD=`/`Password=` (also
    `Authentication=ActiveDirectoryPassword`), `pymssql`, SQLAlchemy URLs (`create_engine`,
    `URL.create`, `odbc_connect=`), `psycopg`/`psycopg2`/`psycopg_pool`/`asyncpg` and
    `mysql.connector`/`pymysql`/`aiomysql`/`MySQLdb` connections that pass a password, **when the
    host is an Azure database host**: a literal `*.database.windows.net`,
    `*.postgres.database.azure.com` or `*.mysql.database.azure.com` (also inside f-strings), or an
    environment variable / identifier whose name contains `AZURE`. A host that comes from an
    unrelated variable or env var (`DB_HOST`) is unknown and not flagged: local and non-Azure
    databases use passwords legitimately.

    Azure ML SDK v1 datastores registered with a database password are flagged too:
    `Datastore.register_azure_sql_database(password=...)` (registered without a user and password,
    it uses identity-based data access) and `register_azure_postgre_sql` / `register_azure_my_sql`
    with `user_password` (these keep the password in the workspace; the job can connect with an
    Entra token of the compute's identity instead).

    A password that is an Entra access token (`credential.get_token(...).token`, or a name containing
    `token`) is the recommended pattern and not flagged, nor is
    `Authentication=ActiveDirectoryMsi|ManagedIdentity|Default` or `attrs_before={1256: token}`.

    Settings too: Django `DATABASES` entries with a stock backend (`django.db.backends.postgresql`,
    `...mysql`, PostGIS, `mssql`) whose `HOST` is an Azure database host and whose `PASSWORD` is read
    from somewhere (an environment variable, a setting); `dj_database_url.parse/config(...)`; and URL
    settings (`SQLALCHEMY_DATABASE_URI`, `DATABASE_URL`, `DB_URI`, ... as module or class attributes,
    `config[...]` items or keyword arguments such as `app.config.update(...)`) whose URL, also
    built with f-strings or `str.format`, carries a password for an Azure host. A password written
    in the code is reported once, as a secret (KL106), not here. A custom `ENGINE` (which may fetch
    tokens itself) and a `PASSWORD` later replaced by a token are not flagged. In Django, the
    documented keyless setup (Service Connector's Python-Django sample) makes `PASSWORD` a Microsoft
    Entra token for `https://ossrdbms-aad.database.windows.net/.default`; a long-running app fetches
    a fresh one per connection in a `DatabaseWrapper` subclass (`get_connection_params`). With
    SQLAlchemy, a `do_connect` event listener sets the token as the connection's password.

    ## Why is this bad?
    Database passwords are shared secrets that live in app settings and leak with them. Azure SQL,
    PostgreSQL and MySQL flexible servers accept Microsoft Entra tokens from a managed identity.

    ## Example
    ```python
    psycopg2.connect(host="app.postgres.database.azure.com", user="app", password=os.environ["PGPASSWORD"])
    ```

    ## Use instead
    ```python
    token = DefaultAzureCredential().get_token("https://ossrdbms-aad.database.windows.net/.default").token
    psycopg2.connect(host="app.postgres.database.azure.com", user="<identity name>", password=token,
                     sslmode="require")
    ```
    Azure SQL with pyodbc: `Authentication=ActiveDirectoryMsi` in the connection string, or the
    token as `SQL_COPT_SS_ACCESS_TOKEN` (1256):
    ```python
    token = DefaultAzureCredential().get_token("https://database.windows.net/.default").token.encode("utf-16-le")
    pyodbc.connect(conn_str_without_uid_pwd, attrs_before={1256: struct.pack(f"<I{len(token)}s", len(token), token)})
    ```

    ## Fix safety
    Display-only: the database user for the identity must be created, and tokens expire (pools need a
    refresh hook), so the fix shows the replacement snippet (token as password, or the
    `SQL_COPT_SS_ACCESS_TOKEN` `attrs_before` form for pyodbc) instead of editing the call.
    """

    code = "KL206"
    name = "database-password-auth"
    message = "Azure database connection authenticates with a password"
    fix_applicability = Applicability.DISPLAY_ONLY
    keywords = ("database.windows.net", "database.azure.com", "pyodbc", "pymssql", "psycopg", "asyncpg",
                "mysql", "sqlalchemy", "aioodbc", "DATABASES", "database_ur", "db_ur", "register_azure_")


class RedisPasswordAuth(KeyAuthRule):
    """Azure Cache for Redis connection with the access key.

    ## What it does
    Flags `redis.Redis` / `StrictRedis` / `RedisCluster` / `ConnectionPool` (sync and asyncio),
    `redis.from_url` and `aioredis` connections that pass a password (argument or `:password@` in the
    URL) **to an Azure Redis host**: a literal `*.redis.cache.windows.net`, `*.redis.azure.net` or
    `*.redisenterprise.cache.azure.net`, or an env var / identifier whose name contains `AZURE`.
    `redis.Redis(host="localhost", password=...)` and hosts from unrelated variables are not flagged.
    Connections with `credential_provider=` (redis-entraid) or a token as password are correct.

    Settings too: Django `CACHES` with a Redis backend whose `LOCATION` URL carries a password read
    from elsewhere (`f"rediss://:{os.environ['REDIS_KEY']}@x.redis.cache.windows.net:6380"`) or
    whose `OPTIONS` `PASSWORD` is one, for an Azure host; and Redis URL settings
    (`CELERY_BROKER_URL`, `CACHE_REDIS_URL`, `REDIS_URL`, ...). A password written in the code is the
    secret rules' finding, not this one.

    ## Why is this bad?
    The Redis access key is shared by every client and grants full access to the cache. Azure Cache
    for Redis and Azure Managed Redis support Microsoft Entra authentication with managed identities.

    ## Example
    ```python
    r = redis.Redis(host="cache.redis.cache.windows.net", port=6380, ssl=True, password=os.environ["REDIS_KEY"])
    ```

    ## Use instead
    ```python
    from redis_entraid.cred_provider import create_from_default_azure_credential

    provider = create_from_default_azure_credential(("https://redis.azure.com/.default",))
    r = redis.Redis(host="cache.redis.cache.windows.net", port=6380, ssl=True, credential_provider=provider)
    ```

    ## Fix safety
    Display-only: it needs the `redis-entraid` package and a data access policy assignment for the
    identity's object ID, so the fix shows the replacement snippet.
    """

    code = "KL207"
    name = "redis-password-auth"
    message = "Azure Cache for Redis connection authenticates with the access key"
    severity = Severity.MEDIUM
    fix_applicability = Applicability.DISPLAY_ONLY
    keywords = ("redis",)


class ClientSecretEnv(KeyAuthRule):
    """Code that reads or sets `AZURE_CLIENT_SECRET`, or uses `EnvironmentCredential`.

    ## What it does
    Flags `os.environ["AZURE_CLIENT_SECRET"]`, `os.getenv("AZURE_CLIENT_SECRET")`,
    `os.environ.get(...)`, assignments to it, settings classes with an `azure_client_secret` field,
    and `EnvironmentCredential()`. A read that is passed straight to a credential already flagged by
    KL203 is not reported twice.

    ## Why is this bad?
    `AZURE_CLIENT_SECRET` is a service-principal password. When it is set, `EnvironmentCredential`
    (and therefore `DefaultAzureCredential`, which tries it first) authenticates with the secret
    instead of the managed identity.

    ## Example
    ```python
    os.environ["AZURE_CLIENT_SECRET"] = vault_secret
    credential = DefaultAzureCredential()
    ```

    ## Use instead
    ```python
    credential = ManagedIdentityCredential(client_id=os.environ["AZURE_CLIENT_ID"])
    ```

    ## Fix safety
    Display-only: removing a secret from the environment is a deployment change.
    """

    code = "KL208"
    name = "client-secret-env"
    message = "Service-principal secret read from or set in the environment"
    severity = Severity.MEDIUM
    fix_applicability = Applicability.DISPLAY_ONLY
    keywords = ("AZURE_CLIENT_SECRET", "EnvironmentCredential")


class AccountKeySas(KeyAuthRule):
    """Shared access signature signed with the storage account key.

    ## What it does
    Flags the Storage SDKs' SAS helpers given the account key: `generate_blob_sas`,
    `generate_container_sas`, `generate_account_sas` (Blob, Queue, File Share, Data Lake),
    `generate_queue_sas`, `generate_share_sas`, `generate_file_sas` (`account_key=`, by keyword or
    position), Data Lake's `generate_file_system_sas` / `generate_directory_sas` / `generate_file_sas`
    with an account key as `credential`, and Tables' `generate_table_sas` / `generate_account_sas`
    (signed with an `AzureNamedKeyCredential`). The finding points at the key argument.

    Not flagged: a SAS signed with a user delegation key (`user_delegation_key=`, or a Data Lake
    `credential` from `get_user_delegation_key`; a call that passes both a delegation key and an
    account key chooses at run time and is not judged), and SAS for the storage emulator (the
    `devstoreaccount1` account, Azurite's published key, or test code talking to Azurite).

    ## Why is this bad?
    Signing needs the account key in the app, and the key grants everything on the account; a SAS
    signed with it stays valid until it expires or the key is rotated, and nobody can tell who
    issued it. A user delegation SAS is signed with a key obtained through Microsoft Entra ID: the
    app needs no secret, the SAS can never exceed the signer's own role, and revoking the
    delegation keys (or the role) invalidates it.

    ## Example
    ```python
    sas = generate_blob_sas(account, "photos", name, account_key=os.environ["STORAGE_KEY"],
                            permission=BlobSasPermissions(read=True), expiry=expiry)
    ```

    ## Use instead
    ```python
    service = BlobServiceClient(account_url, credential=DefaultAzureCredential())
    delegation_key = service.get_user_delegation_key(start, expiry)
    sas = generate_blob_sas(account, "photos", name, user_delegation_key=delegation_key,
                            permission=BlobSasPermissions(read=True), expiry=expiry)
    ```
    The signing identity needs `Storage Blob Delegator` (the data roles such as `Storage Blob Data
    Reader` include its `generateUserDelegationKey` action) and a data role that covers the
    permissions the SAS grants. Blob and Data Lake SAS support this; Queue and File Share SAS only
    in the newest SDK versions (`user_delegation_key=`); an account SAS or a Table SAS can only be
    signed with the key: give the code that uses it its own identity and a data-plane role instead.

    ## Fix safety
    Display-only: the delegation key must be requested (and cached until it expires) through a
    client that authenticates with Entra ID, which a mechanical rewrite cannot place. Clients whose
    key is read back to sign a SAS (`client.credential.account_key`) are not rewritten by KL201 /
    KL202 either, so the two fixes never disagree.
    """

    code = "KL209"
    name = "account-key-sas"
    message = "SAS signed with the storage account key"
    fix_applicability = Applicability.DISPLAY_ONLY
    keywords = ("_sas",)


RULES = [ConnectionStringAuth, KeyCredential, ClientSecretCredentialRule, OpenAIApiKey, ApiKeyHeader,
         DatabasePasswordAuth, RedisPasswordAuth, ClientSecretEnv, AccountKeySas]
