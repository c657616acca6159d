"""KL114 container-registry-password, KL115 batch-account-key, KL116 maps-key, KL117 identifiable-key."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class ContainerRegistryPassword(SecretRule):
    """Detects Azure Container Registry passwords and tokens.

    ## What it does
    Reports identifiable ACR keys (`+ACR`, checksum verified), `-p` / `--password` values of
    `docker login <name>.azurecr.io` (and podman/helm/oras logins), `"auth"` entries for
    `*.azurecr.io` in Docker `config.json` and in the base64 `.dockerconfigjson` of a Kubernetes
    pull secret (`auths.<registry>.password` or `.auth`), and `ACR_PASSWORD` / `REGISTRY_PASSWORD`
    values near an `azurecr.io` host. `--password-stdin` and `az acr login` carry no secret; other
    registries' passwords are not Azure credentials.

    ## Why is this bad?
    The admin password (or a repository-scoped token) lets anyone push images, i.e. run their code
    wherever the registry is trusted.

    ## Example
    ```sh
    docker login contoso.azurecr.io -u contoso -p <password>
    ```

    ## Use instead
    `az login --identity && az acr login --name contoso`, kubelet identity with 'AcrPull', and the
    admin user disabled.

    ## Fix safety
    Display-only.
    """

    code = "KL114"
    name = "container-registry-password"
    severity = Severity.HIGH
    message = "Container registry password in source"
    keywords = ("+ACR", "acr")
    secret_kinds = frozenset({"acr-key"})


class BatchAccountKey(SecretRule):
    """Detects Azure Batch account keys.

    ## What it does
    Reports identifiable `+ABa` keys (checksum verified) and 88-character keys assigned to Batch
    names (`BATCH_ACCOUNT_KEY`, `batch_key`) or next to a `*.batch.azure.com` URL (e.g.
    `SharedKeyCredentials(account, "<key>")`).

    ## Why is this bad?
    The key controls every pool, job and task in the account: anyone can run code on your nodes.

    ## Example
    ```python
    creds = SharedKeyCredentials("contoso", "<88 chars>")
    client = BatchServiceClient(creds, batch_url="https://contoso.westeurope.batch.azure.com")
    ```

    ## Use instead
    Entra ID authentication for the Batch service (`DefaultAzureCredential`), an RBAC role with the
    Batch data actions, and `allowedAuthenticationModes` restricted to AAD.

    ## Fix safety
    Display-only.
    """

    code = "KL115"
    name = "batch-account-key"
    severity = Severity.CRITICAL
    message = "Batch account key in source"
    keywords = ("+ABa", "batch")
    secret_kinds = frozenset({"batch-key"})


class MapsKey(SecretRule):
    """Detects Azure Maps shared keys.

    ## What it does
    Reports CASK keys with the `AZMP` provider signature, and keys assigned to Maps names
    (`AZURE_MAPS_KEY`, `maps_subscription_key`) or sent as `subscription-key` to
    `atlas.microsoft.com`. The Maps client id (`x-ms-client-id`, a GUID) is not a secret.

    ## Why is this bad?
    A shared key authorises every Maps API on the account and is billed to you; keys embedded in
    front-end code are harvested quickly.

    ## Example
    ```js
    const url = `https://atlas.microsoft.com/search/address/json?api-version=1.0&subscription-key=<key>`;
    ```

    ## Use instead
    Entra ID with `DefaultAzureCredential` and the account's client id ('Azure Maps Data Reader');
    for browsers, short-lived SAS tokens from a backend.

    ## Fix safety
    Display-only.
    """

    code = "KL116"
    name = "maps-key"
    severity = Severity.HIGH
    message = "Azure Maps key in source"
    keywords = ("AZMP", "maps", "atlas")
    secret_kinds = frozenset({"maps-key"})


class IdentifiableKey(SecretRule):
    """Detects other Microsoft identifiable and CASK keys: API Management, Event Grid,
    Communication Services, Fluid Relay, Mixed Reality, Azure ML, and unclassified CASK keys.

    ## What it does
    Reports keys whose format carries a Microsoft signature and checksum: identifiable `APIM`
    (direct management / subscription / gateway / repository, from the checksum seed), `+AMC`
    (ML web service classic), `AZEG` (Event Grid), and CASK keys (`JQQJ9` at offset 52) with the
    `AZEG`, `AZCS`, `AZFR`, `AZMR`, `msql` providers or an unknown provider. Also `accesskey=` in
    `endpoint=https://<n>.communication.azure.com/;accesskey=...` strings and Event Grid keys in
    `aeg-sas-key` headers or next to an `*.eventgrid.azure.net` endpoint. These formats are designed
    to be found with near-zero false positives. Older API Management keys: the configuration
    repository's Git password (`git&<expiry yyyymmddhhmm>&<64-byte key>`) and a 64-byte management
    key assigned to a `*_KEY` name within a few lines of a `*.management.azure-api.net` host.

    ## Why is this bad?
    Each is a long-lived shared key for an Azure resource; the identifiable format exists precisely
    so that leaks like this one can be caught and revoked.

    ## Example
    ```yaml
    headers:
      aeg-sas-key: <44 chars ending in AZEG...=>
    ```

    ## Use instead
    Entra ID with `DefaultAzureCredential` where the service supports it (Event Grid: 'EventGrid
    Data Sender'; Communication Services); otherwise a Key Vault reference
    `@Microsoft.KeyVault(SecretUri=...)` read through a managed identity.

    ## Fix safety
    Display-only.
    """

    code = "KL117"
    name = "identifiable-key"
    severity = Severity.HIGH
    message = "Microsoft identifiable key in source"
    keywords = ("APIM", "+AMC", "AZEG", "JQQJ9", "communication", "eventgrid", "event_grid", "aeg", "azure-api",
                "fluidrelay", "mixedreality", "git&")
    secret_kinds = frozenset({"apim-key", "eventgrid-key", "acs-key", "fluidrelay-key", "mixedreality-key", "ml-key",
                              "sql-key", "cask-key"})
