"""KL112 entra-client-secret, KL113 azure-devops-pat, KL118 entra-refresh-token."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule
from keyless.rules.secrets.scanner import ADO_HINTS


class EntraClientSecret(SecretRule):
    """Detects Microsoft Entra ID (Azure AD) application client secrets.

    ## What it does
    Reports current client secrets (`8Q~` at offset 3, 40 characters) whose embedded Marvin32 /
    base-66 checksum is valid, and `7Q~` secrets (37 characters), wherever they appear. Secrets
    without a signature are reported only in strong context: the value of `AZURE_CLIENT_SECRET`,
    `ARM_CLIENT_SECRET`, `client_secret=` / `clientSecret` / `AZUREAD-AKS-APPID-SECRET` (with a
    tenant, GUID client id or Azure mention nearby), a bare `secret` a few lines from a tenant ID,
    `backend "azurerm"` `client_secret`, the default of a Terraform variable an azurerm / azuread /
    azapi provider of the module signs in with (`client_secret = var.x`), a `client_secret`
    variable's default in a module that deploys to Azure (Entra-shaped values only),
    `ConvertTo-SecureString "..." -AsPlainText` next to an
    application ID, or `az login --service-principal -p ...`; a legacy 32-34 character value must
    also contain a symbol. An `8Q~`-shaped value whose checksum fails is reported only in such context.

    ## Why is this bad?
    A client secret lets anyone act as the application, with every role it holds, from anywhere,
    until the secret expires (often years).

    ## Example
    ```env
    AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000
    AZURE_CLIENT_SECRET=<40 chars with 8Q~>
    ```

    ## Use instead
    A managed identity (`DefaultAzureCredential()` picks it up) or workload identity federation
    (federated credentials for GitHub Actions, Azure Pipelines, Kubernetes): no secret at all.

    ## Fix safety
    Display-only: delete the secret from the app registration after switching.
    """

    code = "KL112"
    name = "entra-client-secret"
    severity = Severity.CRITICAL
    message = "Entra ID client secret in source"
    keywords = ("8Q~", "7Q~", "secret", "password", "passwd", "--service-principal")
    secret_kinds = frozenset({"entra-secret"})


class AzureDevOpsPat(SecretRule):
    """Detects Azure DevOps personal access tokens (PATs).

    ## What it does
    Reports new-format PATs (84-character CASK keys with the `AZDO` provider signature) anywhere,
    and legacy PATs (52 lower-case base32 characters) whose embedded CRC-32 checksum is valid, in
    files that mention Azure DevOps (`dev.azure.com`, `visualstudio.com`, `AZURE_DEVOPS_EXT_PAT`...).
    Tokens in `https://<pat>@dev.azure.com` / `https://user:<pat>@dev.azure.com` URLs, in
    `AZURE_DEVOPS_EXT_PAT=`-style variables and base64-encoded in `.npmrc` `_password=` lines are
    reported even without a checksum (high severity instead of critical).

    ## Why is this bad?
    A PAT acts as its user across every organisation it is scoped to: code, pipelines, artifact
    feeds, often with full scope.

    ## Example
    ```sh
    git clone https://build:<pat>@dev.azure.com/contoso/app/_git/app
    ```

    ## Use instead
    `$(System.AccessToken)` inside pipelines; elsewhere an Entra token for Azure DevOps from a
    managed identity or a workload-identity-federation service connection.

    ## Fix safety
    Display-only: revoke the PAT.
    """

    code = "KL113"
    name = "azure-devops-pat"
    severity = Severity.CRITICAL
    message = "Azure DevOps personal access token in source"
    keywords = ("JQQJ9", "pat", "devops", "vsts", "azdo") + ADO_HINTS
    secret_kinds = frozenset({"devops-pat"})


class EntraRefreshToken(SecretRule):
    """Detects Microsoft Entra ID refresh tokens.

    ## What it does
    Reports refresh tokens in the shape Entra ID issues them: a version (`0.` or `1.`), a
    base64url client-information part starting `A` (50 characters or more), then the token body,
    which starts `Ag` and runs to hundreds of characters (`0.AX...<50+>.AgAB...<250+>`), as found in
    MSAL token caches, `az` CLI caches, HTTP recordings and notebooks. The length and the `.Ag`
    body make the shape specific; a truncated token (`0.AXEA...`) or a repeated filler is not
    reported.

    ## Why is this bad?
    A refresh token is a user's sign-in: whoever holds it can obtain access tokens as that user
    (for the client and, for family-of-client-IDs tokens, other Microsoft clients) until the
    sessions are revoked, typically up to 90 days and renewed on every use.

    ## Example
    ```json
    {"refresh_token": "0.AXEA...<long>.AgABAAAAAAD...<long>"}
    ```

    ## Use instead
    Never commit token caches. Code running in Azure uses a managed identity (`DefaultAzureCredential()`),
    and locally the developer's own sign-in, so no token is ever stored in the repository.

    ## Fix safety
    Display-only: revoke the user's sessions (`az ad user revoke-sign-in-sessions`).
    """

    code = "KL118"
    name = "entra-refresh-token"
    severity = Severity.HIGH
    message = "Entra ID refresh token in source"
    keywords = (".Ag",)
    secret_kinds = frozenset({"entra-refresh-token"})
