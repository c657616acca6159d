"""KL105 cosmos-db-key, KL106 database-password, KL107 redis-access-key."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class CosmosDbKey(SecretRule):
    """Detects Azure Cosmos DB account keys.

    ## What it does
    Reports identifiable `ACDb` keys (checksum verified; the seed tells read-write, read-only, and
    the system, resource-token and data-encryption keys security-utilities also knows),
    `AccountKey=` values in `AccountEndpoint=https://<acct>.documents.azure.com:443/;...` strings,
    passwords in `mongodb://<acct>:<key>@<acct>.mongo.cosmos.azure.com` URIs, and 88-character keys
    assigned to Cosmos names or passed to `CosmosClient(url, credential="...")`. The Cosmos DB
    emulator key is never reported.

    ## Why is this bad?
    A primary key gives full read-write (and management of databases and containers) access to all
    data in the account.

    ## Example
    ```python
    client = CosmosClient("https://contoso.documents.azure.com:443/", credential="<88 chars>")
    ```

    ## Use instead
    ```python
    client = CosmosClient("https://contoso.documents.azure.com:443/", credential=DefaultAzureCredential())
    ```
    with a 'Cosmos DB Built-in Data Contributor' SQL role assignment and `disableLocalAuth: true`.

    ## Fix safety
    Display-only.
    """

    code = "KL105"
    name = "cosmos-db-key"
    severity = Severity.CRITICAL
    message = "Cosmos DB key in source"
    keywords = ("ACDb", "accountkey", "cosmos", "document")
    secret_kinds = frozenset({"cosmos-key"})


class DatabasePassword(SecretRule):
    """Detects literal passwords for Azure SQL, Azure Database for PostgreSQL and MySQL.

    ## What it does
    Parses ADO.NET / ODBC (`Password=`, `PWD=`, `{...}`-quoted values), JDBC
    (`jdbc:sqlserver://...;password=...`), libpq (`host=... password=...`) and URI forms
    (`postgresql://u:p@host`, `mysql://`, `mssql+pyodbc://`) and reports the password when the
    server is an Azure database host (`*.database.windows.net`, `*.postgres.database.azure.com`,
    `*.mysql.database.azure.com`, Synapse SQL). `password=` assignments (e.g.
    `psycopg2.connect(host=..., password="...")`) are reported when such a host is within a few
    lines, or when the variable name itself says so (`AZURE_SQL_PASSWORD`). A name that names a
    service (`POSTGRES_PASSWORD`, `MYSQL_PWD`, `REDIS_PASSWORD`) is judged by that service's hosts
    only: a registry or cache host nearer to it does not make it that host's secret.

    In infrastructure code the structure names the password: `administrator_login_password` /
    `administrator_password` / `sql_administrator_login_password` of the azurerm SQL, managed
    instance, Synapse, PostgreSQL, MySQL, MariaDB, Cosmos DB for PostgreSQL and Mongo vCore
    resources, ARM/Bicep `administratorLoginPassword` (`sqlAdministratorLoginPassword`), the
    Terraform variable default or ARM parameter default/parameter-file value such a property reads
    (or whose name says "database password", as a `.bicepparam` value's does); a Terraform module is its directory, so the
    variable's default in `variables.tf` counts when `main.tf` gives it to the server. Only literals
    count: `var.x` without a default, `random_password`, `[parameters('x')]`, Key Vault references
    and placeholders do not. A password known only by its name inside documentation (`README.md`)
    is a sample and is not reported.

    With lower confidence (medium, "Password"): the literal default of a Terraform variable named
    for a password (`admin_password`) in a module that deploys to Azure (an azurerm, azapi or
    azuread resource, data source or provider in one of its files) when no resource or local of the
    module reads it: it goes to a module call, an output or a caller's `-var`. One a database reads
    is the database password above; one another resource reads (a virtual machine's
    `admin_password`) is judged as that resource's inline password is. A `sensitive = true`
    variable's default is KL257's; a module that does not deploy to Azure (also for database-named
    variables), a name that is not a password's (`admin_password_secret_name`, `password_length`),
    an empty, `null`, placeholder or dictionary-word default are not reported.

    Precision choices: passwords for `localhost`, `127.0.0.1`, `host.docker.internal`, compose
    service names (`db`, `postgres`...) and non-Azure hosts are never reported; nor are
    placeholders, environment indirections, dictionary words (`password`, `postgres`), a password
    equal to the user name, or test-container defaults (`sa` / `Your_password123`).

    ## Why is this bad?
    SQL authentication passwords are long-lived, shared and usually belong to an admin login.

    ## Example
    ```
    Server=tcp:contoso.database.windows.net,1433;Database=app;User ID=admin;Password=<password>;
    ```

    ## Use instead
    `Server=tcp:contoso.database.windows.net,1433;Database=app;Authentication=Active Directory Default;`
    with a contained database user for the managed identity (`CREATE USER [app] FROM EXTERNAL
    PROVIDER`). PostgreSQL/MySQL: Entra authentication with a token from `DefaultAzureCredential`
    as the password.

    ## Fix safety
    Display-only.
    """

    code = "KL106"
    name = "database-password"
    severity = Severity.HIGH
    message = "Azure database password in source"
    # "password"/"passwd": a Terraform variable default named so is judged with its module's other
    # files (the scan they start is shared with KL112, whose keywords they are too)
    keywords = ("database.windows.net", "database.azure.com", "azuresynapse.net", "cosmos.azure.com", "azure",
                "administratorloginpassword", "administrator_login_password", "administrator_password",
                "password", "passwd")
    secret_kinds = frozenset({"db-password", "iac-password"})


class RedisAccessKey(SecretRule):
    """Detects Azure Cache for Redis access keys.

    ## What it does
    Reports identifiable `AzCa` keys (checksum verified), `password=` in StackExchange.Redis strings
    (`<name>.redis.cache.windows.net:6380,password=...,ssl=True`, options in any order and case),
    `rediss://:<key>@<name>.redis.cache.windows.net:6380` URIs, and `password=` / `REDIS_KEY`
    assignments near an Azure Redis host (with no host in sight, only a value of an access key's
    shape: `REDIS_PASSWORD=redis-stack-password` for a local container is not reported).
    `redis://localhost` and other non-Azure hosts are ignored.

    ## Why is this bad?
    An access key gives full control of the cache, including `FLUSHALL` and reading every cached
    session or token.

    ## Example
    ```python
    r = redis.Redis(host="contoso.redis.cache.windows.net", port=6380, ssl=True, password="<44 chars>")
    ```

    ## Use instead
    Microsoft Entra authentication with a token provider built on `DefaultAzureCredential`
    (redis-entraid), a Redis access policy for the managed identity, and access keys disabled.

    ## Fix safety
    Display-only.
    """

    code = "KL107"
    name = "redis-access-key"
    severity = Severity.HIGH
    message = "Azure Cache for Redis key in source"
    keywords = ("AzCa", "redis")
    secret_kinds = frozenset({"redis-key"})
