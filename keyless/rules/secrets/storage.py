"""KL101 storage-account-key, KL102 sas-token."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class StorageAccountKey(SecretRule):
    """Detects Azure Storage account keys committed to the repository.

    ## What it does
    Reports storage account keys: identifiable keys (`+ASt` signature, Marvin32 checksum verified),
    `AccountKey=` values in parsed connection strings (quoted values, any key order and case), and
    88-character base64 keys assigned to storage-specific names (`AZURE_STORAGE_KEY`,
    `account_key=`, `storage_account_key`, `"AccountKey": "..."`) or passed as `credential=` next to
    a `*.core.windows.net` URL. One finding per key, at the key itself.

    Also read: dictionary and builder pairs (`{ "AccountKey", "..." }`, `.Add("AccountKey", "...")`),
    XML (`<account_key>...</account_key>`, `<add key="StorageAccountKey" value="..."/>`), a value on
    the line after its name, `name:VALUE` written without a space, `os.getenv("...", "<default>")`,
    settings-field defaults (`Field("...")`), connection strings split over adjacent Python literals,
    JSON-escaped or URL-encoded connection strings, base64 `data:` of Kubernetes Secrets (reported on
    the encoded value; the message says it was decoded), `backend "azurerm"` `access_key` (also in
    `*.tfbackend` / backend `.hcl` files) and literal defaults of Terraform variables and ARM
    parameters named like a storage key.

    Not reported: the Azurite/emulator key and `devstoreaccount1`, `UseDevelopmentStorage=true`,
    Key Vault references, placeholders, `listKeys()` / Terraform references (see the key-auth rules).

    ## Why is this bad?
    An account key grants full control of every blob, queue, table and file share in the account,
    never expires, and cannot be scoped. Anyone with read access to the repository (or its history)
    has it.

    ## Example
    ```python
    conn = "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=<88 chars>;EndpointSuffix=core.windows.net"
    client = BlobServiceClient.from_connection_string(conn)
    ```

    ## Use instead
    ```python
    client = BlobServiceClient(account_url="https://contoso.blob.core.windows.net",
                               credential=DefaultAzureCredential())
    ```
    Grant the managed identity 'Storage Blob Data Contributor', disable shared-key access, rotate the key.

    ## Fix safety
    Display-only: switching to Entra ID needs a role assignment and a key rotation, which keyless
    cannot do for you.
    """

    code = "KL101"
    name = "storage-account-key"
    severity = Severity.CRITICAL
    message = "Storage account key in source"
    keywords = ("+ASt", "accountkey", "account_key", "account-key", "account.key", "storage", "core.windows.net")
    secret_kinds = frozenset({"storage-key"})


class SasToken(SecretRule):
    """Detects shared access signatures (SAS URLs and tokens) committed to the repository.

    ## What it does
    Parses query strings containing `sig=` (storage SAS URLs, `SharedAccessSignature=` in connection
    strings, `SharedAccessSignature sr=...&sig=...&se=...&skn=...` tokens for Service Bus, Event Hubs
    and IoT Hub) and reports those whose signature is a real HMAC-SHA256 value next to SAS fields.
    Severity follows the token: write/delete/create/add permissions (`sp`) raise it, an expiry
    (`se`) in the past lowers it to low, an expiry more than a year away (or none visible) raises it.
    A user-delegation SAS also dies with its delegation key: the earlier of `se` and `ske` counts.
    Query strings written with `\u0026`, `&amp;` or URL encoding are decoded first. One SAS repeated
    on a line (a URL and its token) is one finding. A token whose `sp` holds a letter no storage
    service knows (`sp=rqx`) is refused by the service and not reported.

    ## Why is this bad?
    A SAS is a bearer credential: whoever has the URL has the permissions until it expires or the
    signing key is rotated. Long-lived, writable SAS URLs in repositories are a common breach path.

    ## Example
    ```yaml
    upload_url: https://contoso.blob.core.windows.net/drop?sv=2022-11-02&sp=racwdl&se=2030-01-01T00:00:00Z&sig=...
    ```

    ## Use instead
    Authenticate with `DefaultAzureCredential` and a data-plane role; when a SAS must be handed
    out, mint a short-lived user-delegation SAS at runtime (`get_user_delegation_key()`).

    ## Fix safety
    Display-only: revoking the token (rotating the key or deleting the stored access policy) is a
    manual step.
    """

    code = "KL102"
    name = "sas-token"
    severity = Severity.HIGH
    message = "Shared access signature in source"
    keywords = ("sig=", "sig%3d")
    secret_kinds = frozenset({"sas"})
