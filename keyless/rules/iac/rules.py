"""IaC rules: key-auth (KL250-KL259; scripts and CI: KL280-KL282), missing-identity (KL301),
broad-role (KL401-KL403) and ambiguous-identity (KL501-KL505). Resources that still accept keys
(KL251, KL260-KL278, KL404) are in local_auth.py.

Every rule shares one extraction per document (`collect`, memoized) and one project model
(`check_project`, memoized in `project.memo`)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterable

from keyless.linter.finding import Applicability, Category, Finding, Severity
from keyless.linter.messages import HELP_MAX, MESSAGE_MAX, fit, fitting_list, short_name
from keyless.linter.rule import Fact, Project, Rule
from keyless.rules.iac.facts import (
    and_list,
    bare,
    client_id_help,
    fix_dict,
    fix_from_dict,
    list_to_span,
    parameters_note,
)

if TYPE_CHECKING:
    from keyless.rules.iac.model import DeployedScope

# keyless.rules.iac.model is imported by the project phase only (an editor's check of one file
# does not pay for it).

KEYWORDS = (
    "identity", "microsoft.", "azurerm_", "role", "aadpod", "services", "secure", "sensitive", "containers",
    "azure_client_secret", "resource_changes", "planned_values", "admin_enabled", "deploymenttemplate",
    "resources", "serviceaccount",
    # scripts, CI workflows and Dockerfiles (compose files have "services"); specific enough not to
    # pull other JSON/YAML into the IaC extractors
    "az ", "azd ", "azure/login", "azure/cli", "azurecli", "-azroleassignment", "connect-azaccount",
    "-azadspcredential", "-azadappcredential", "-azcontainerregistry", "get-az", "client_secret",
    "connection_string", "connectionstring", "accountkey", "_key",
    "params",  # a Bicep file whose resources live in the modules it passes values to
    'module "',  # a Terraform file that only calls local modules (tfcalls.py)
    "publish-profile",  # a workflow deploying with basic publishing credentials (KL273)
    "azure/actions/login", "aks-set-context",  # older actions taking `creds` (KL280)
)


class IacRule(Rule):
    kinds = frozenset({"json", "yaml", "hcl", "text", "shell", "powershell", "dockerfile", "makefile", "bicep"})
    keywords = KEYWORDS
    fix_applicability = Applicability.DISPLAY_ONLY

    def collect(self, doc) -> Iterable[Fact]:
        # Every IaC rule would return the same facts: the first one to run on a document emits them.
        # Imported here: the extractors and their regexes cost an editor's check of a .py file ~15 ms.
        from keyless.rules.iac.extract import EMITTED_KEY, extract

        if doc.memo.get(EMITTED_KEY):
            return ()
        doc.memo[EMITTED_KEY] = True
        return extract(doc)

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import build

        m = build(project)
        for f in m.issues.get(self.code, ()):
            yield self.from_issue(f)

    def from_issue(self, f: Fact, message: str | None = None, fix: dict | None = None) -> Finding:
        d = f.data
        sev = Severity(d["severity"]) if d.get("severity") else None
        return self.finding(f.path, list_to_span(d["span"]), key=d["key"], message=message or issue_message(d),
                            severity=sev, fix=fix_from_dict(fix or d.get("fix")))


def issue_message(d: dict, room: int = 0) -> str:
    """An `iac.issue`'s message, without its module note (` (via module 'x')`, which the help
    repeats in full) when it would not leave `room` characters under the limit."""
    message, note = d["message"], d.get("via_note") or ""
    if note and note in message and len(message) + room > MESSAGE_MAX:
        message = message.replace(note, "", 1)
    return message


# ---- key-auth ----------------------------------------------------------------------------------------

class RegistryPassword(IacRule):
    """Container images pulled with a registry username and password.

    ## What it does
    Flags Container Apps registries with `username`/`passwordSecretRef` (ARM, Bicep,
    `az containerapp --yaml`), Container Instances `imageRegistryCredentials` with a `password`, the
    Terraform equivalents (`registry { password_secret_name }`,
    `image_registry_credential { password }`), and in scripts and CI steps `--registry-password` on
    `az containerapp create|update|registry set` and `az container create`, and
    `--docker-registry-server-password`/`--container-registry-password` on `az webapp create` and
    `az webapp|functionapp config container set`.

    A registry that is not an Azure Container Registry (Docker Hub, `ghcr.io`, `quay.io`, a
    private host) cannot be pulled from with a managed identity: the finding (medium) says so and
    what to do instead, import the image into ACR (`az acr import`) or keep the password in Key
    Vault. A Container Apps registry whose `passwordSecretRef` names a Key Vault-backed secret
    (`keyVaultUrl`, `key_vault_secret_id`) is then not flagged.

    ## Why is this bad?
    The password is usually the ACR admin user's: shared, long-lived, with push rights on every
    repository. Anyone who reads the secret can replace your images.

    ## Example
    ```json
    "registries": [{"server": "contoso.azurecr.io", "username": "contoso", "passwordSecretRef": "acr-pw"}]
    ```

    ## Use instead
    ```json
    "registries": [{"server": "contoso.azurecr.io", "identity": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'pull')]"}]
    ```
    and grant that identity AcrPull on the registry.

    ## Fix safety
    Display-only: the identity needs the AcrPull role before the next revision pulls.
    """

    code = "KL250"
    name = "registry-password-auth"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "Container registry pulled with a username and password instead of a managed identity"


class KeyFedSetting(IacRule):
    """App settings, environment variables or secrets filled from account keys.

    ## What it does
    Flags values computed from `listKeys()`/`list*()` results (`listCredentials()` for a registry's
    admin password; a result read only for a user or key name, `.username` or `.keyName`, is no
    key), `.primaryKey`/`primaryConnectionString` members, account-key connection strings built with
    `concat`/`format`, and Terraform references such as
    `azurerm_storage_account.x.primary_connection_string`, `.primary_access_key` or
    `azurerm_container_registry.x.admin_password`, when they feed app settings, connection strings,
    container env or Container Apps secrets. For a registry's admin password the help says to pull
    with the app's identity (AcrPull) and turn the admin user off (KL251 names the setting as the
    registry's key user).

    In scripts and CI steps: the output of a key-listing command (`az storage account keys list`,
    `az storage account show-connection-string`, `az cosmosdb keys list`, `az redis list-keys`,
    `az servicebus ... authorization-rule keys list`, `Get-AzStorageAccountKey`, ...), followed
    through the script's variables, passed to `--settings`, `--env-vars`, `--set-env-vars`,
    `--secrets`, `--environment-variables` or `--secure-environment-variables`. In docker-compose
    `environment:` (and the `env_file:` it reads) and Dockerfile `ENV`/`ARG`: Azure connection
    strings and keys, by value (`AccountKey=`, `SharedAccessKey=`) or by a name that says so
    (`AZURE_STORAGE_CONNECTION_STRING`, `COSMOS_KEY`, `AZURE_OPENAI_API_KEY`, `AzureWebJobsStorage`);
    emulators (Azurite, `UseDevelopmentStorage=true`, `localhost`), Application Insights connection
    strings and endpoints are not flagged. The fix says what to use locally: `az login` (or
    `azd auth login`) and DefaultAzureCredential.

    ## Why is this bad?
    The app then authenticates with a shared key: it grants full access, cannot be scoped, keeps
    local auth enabled on the service, and leaks with any dump of the app's configuration.

    ## Example
    ```hcl
    app_settings = {
      STORAGE = azurerm_storage_account.sa.primary_connection_string
    }
    ```

    ## Use instead
    ```hcl
    app_settings = {
      STORAGE__blobServiceUri = azurerm_storage_account.sa.primary_blob_endpoint
    }
    ```
    with a managed identity and a data-plane role (e.g. Storage Blob Data Contributor).

    ## Fix safety
    Display-only: the code must switch to a token credential and the identity needs a role.
    """

    code = "KL252"
    name = "key-fed-app-setting"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "App setting, env or secret fed by an account key or key-based connection string"


class FunctionsStorageKey(IacRule):
    """Function app host storage reached with an account key.

    ## What it does
    Flags `storage_account_access_key` on Terraform function apps and an `AzureWebJobsStorage`
    setting built from `listKeys()` (or an `AccountKey=` connection string expression) in ARM.
    `WEBSITE_CONTENTAZUREFILECONNECTIONSTRING` is not flagged: the content share has no
    identity-based option.

    ## Why is this bad?
    The Functions host can use identity-based storage (`AzureWebJobsStorage__accountName`); the key
    gives anyone with the app settings full control of the account.

    ## Example
    ```hcl
    storage_account_access_key = azurerm_storage_account.sa.primary_access_key
    ```

    ## Use instead
    ```hcl
    storage_uses_managed_identity = true
    ```
    plus Storage Blob Data Owner, Storage Queue Data Contributor and Storage Table Data
    Contributor for the app's identity.

    ## Fix safety
    Display-only: the identity needs three role assignments first.
    """

    code = "KL253"
    name = "functions-storage-account-key"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "Function app host storage uses an account key"


class InlineAppSecret(IacRule):
    """Container Apps secrets with an inline value.

    ## What it does
    Flags Container Apps / jobs `configuration.secrets[].value` (and Terraform `secret { value }`)
    that are not Key Vault references. Values computed from keys are reported by KL252 instead.
    A placeholder a deployment tool fills in (`${VAR}`, `$(var)`, `#{token}#`, `{{ ... }}` in azd
    `*.tmpl.yaml`) is not an inline value: the value is not in the file.

    ## Why is this bad?
    The value lives in the template, the deployment history and Terraform state. A Key Vault
    reference (`keyVaultUrl` + `identity`) keeps it in one rotated place.

    ## Example
    ```yaml
    secrets:
      - name: api-key
        value: "{{ from pipeline }}"
    ```

    ## Use instead
    ```yaml
    secrets:
      - name: api-key
        keyVaultUrl: https://kv.vault.azure.net/secrets/api-key
        identity: system
    ```

    ## Fix safety
    Display-only: the secret must exist in Key Vault and the identity needs Key Vault Secrets User.
    """

    code = "KL254"
    name = "inline-container-app-secret"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Container Apps secret stored inline instead of a Key Vault reference"


class AciPlainEnvSecret(IacRule):
    """Container Instances environment variables that hold secrets in plain `value`.

    ## What it does
    Flags ACI `environmentVariables[].value` (ARM/YAML) and Terraform `environment_variables` whose
    names look like secrets (password, secret, token, key, connection string...).

    ## Why is this bad?
    Plain values are returned by the container group API and shown in the portal; `secureValue` /
    `secure_environment_variables` are not.

    ## Example
    ```yaml
    environmentVariables:
      - name: DB_PASSWORD
        value: hunter2
    ```

    ## Use instead
    ```yaml
    environmentVariables:
      - name: DB_PASSWORD
        secureValue: <from Key Vault at deploy time>
    ```

    ## Fix safety
    Display-only.
    """

    code = "KL255"
    name = "aci-plain-env-secret"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Container Instances env var that looks like a secret is set with a plain value"


class ScaleRuleSecret(IacRule):
    """KEDA scale rules authenticated with a secret where managed identity is supported.

    ## What it does
    Flags Container Apps scale rules (apps and event-driven jobs) that use `auth[].secretRef` for
    the Azure Queue, Service Bus or Event Hubs scalers, when the API version supports scale-rule
    `identity` (2024-02-02-preview and later previews, 2025-01-01 and later stable). Other scalers
    and older API versions are left alone: for them a secret is the only option.

    ## Why is this bad?
    The secret is a SAS connection string, which forces local (key) auth to stay enabled on the
    queue or namespace.

    ## Example
    ```json
    "custom": {"type": "azure-servicebus", "metadata": {"queueName": "q"}, "auth": [{"secretRef": "sb", "triggerParameter": "connection"}]}
    ```

    ## Use instead
    ```json
    "custom": {"type": "azure-servicebus", "metadata": {"queueName": "q", "namespace": "ns"}, "identity": "system"}
    ```

    ## Fix safety
    Display-only: the identity needs a receiver/reader role on the queue or namespace.
    """

    code = "KL256"
    name = "scale-rule-secret-auth"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Scale rule authenticates with a secret although the scaler supports managed identity"


class SecureParamDefault(IacRule):
    """Secure parameters (and sensitive Terraform variables) with a default value.

    ## What it does
    Flags ARM `securestring`/`secureobject` parameters with a `defaultValue` (except empty values
    and defaults built on `newGuid()`, such as `[concat(newGuid(), 'x')]`) and Terraform variables
    with `sensitive = true` and a literal default. A secure parameter that holds a name is not a
    secret: one used only where names go (a Key Vault secret's `name`, a `...Name` or `...Uri`
    property, a module parameter used that way), or named so (`dbPasswordSecretName`) and never
    used as a value; likewise a sensitive Terraform variable named for a name or an address
    (`db_password_secret_name`).

    ## Why is this bad?
    The default is committed with the template and silently used when the caller forgets the
    parameter: every deployment shares one known secret.

    ## Example
    ```json
    "adminPassword": {"type": "securestring", "defaultValue": "P@ssw0rd!"}
    ```

    ## Use instead
    ```json
    "adminPassword": {"type": "securestring"}
    ```
    passed from a Key Vault reference in the parameter file.

    ## Fix safety
    Display-only.
    """

    code = "KL257"
    name = "secure-parameter-default"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Secure parameter has a default value"


class SecretOutput(IacRule):
    """Deployment outputs that return keys or secure values.

    ## What it does
    Flags ARM outputs whose value calls a `list*()` function or returns a secure parameter (unless
    the output itself is `securestring`/`secureobject`; object and array outputs member by member;
    a secure parameter holding a name, see KL257, is not a secret), and Terraform outputs that
    return key attributes (`primary_access_key`, `primary_connection_string`...) without
    `sensitive = true`. Only the attribute counts: `azurerm_key_vault_secret.primary_key.id` is
    an id whatever the resource is called. Resource ids and `principalId` outputs are not flagged.

    ## Why is this bad?
    Outputs are stored in plain text in the deployment history (or printed by Terraform) and can be
    read by anyone with read access.

    ## Example
    ```json
    "outputs": {"key": {"type": "string", "value": "[listKeys(variables('sa'), '2023-01-01').keys[0].value]"}}
    ```

    ## Use instead
    Output the endpoint or resource id and let the consumer use its managed identity.

    ## Fix safety
    Display-only.
    """

    code = "KL258"
    name = "secret-in-output"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "Deployment output returns a key or secure value"


class ClientSecretInAppEnv(IacRule):
    """`AZURE_CLIENT_SECRET` set in a deployed app's environment.

    ## What it does
    Flags `AZURE_CLIENT_SECRET` in Container Apps/ACI env, App Service app settings, Terraform
    `env`/`app_settings`/`environment_variables` and Kubernetes container env, including Helm chart
    templates (env written in the template or merged from the chart's values.yaml; an entry inside
    an `if` branch is not flagged), docker-compose `environment:`/`env_file:` and Dockerfile
    `ENV`/`ARG` (an `ARG` is kept in the image's history).

    ## Why is this bad?
    `EnvironmentCredential` (first in `DefaultAzureCredential`) then signs in as a service principal
    with a client secret that must be stored, rotated and can leak, although the platform offers a
    managed identity (or workload identity on AKS).

    ## Example
    ```yaml
    env:
      - name: AZURE_CLIENT_SECRET
        secretRef: sp-secret
    ```

    ## Use instead
    Remove it, attach a managed identity and grant it the service principal's roles.

    ## Fix safety
    Display-only.
    """

    code = "KL259"
    name = "client-secret-in-app-env"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "AZURE_CLIENT_SECRET is set in a deployed app's environment"


class ServicePrincipalSecretLogin(IacRule):
    """Scripts and CI that sign in to Azure as a service principal with a client secret.

    ## What it does
    Flags GitHub Actions `azure/login` with `creds:` (the client-secret JSON of
    `az ad sp create-for-rbac --sdk-auth`) or `client-secret:`, and the older actions that take
    the same `creds` (`azure/actions/login`, `azure/aks-set-context@v1`); `az login --service-principal`
    with `-p`/`--password` (a certificate file is not flagged), `azd auth login --client-secret`
    and `Connect-AzAccount -ServicePrincipal -Credential` in scripts (`.sh`, `.ps1`, Dockerfile
    `RUN`, Makefiles, workflow and pipeline steps); and `ARM_CLIENT_SECRET`/`AZURE_CLIENT_SECRET`
    set in a workflow's or step's `env`. Azure Pipelines tasks that use a service connection
    (`AzureCLI@2` with `azureSubscription`) are not flagged: the connection holds the identity.

    ## Why is this bad?
    The secret lives in the CI system's secret store, works from anywhere until it expires and
    is rarely rotated. With OpenID Connect the workflow exchanges a short-lived token for access
    and there is no secret at all.

    ## Example
    ```yaml
    - uses: azure/login@v2
      with:
        creds: ${{ secrets.AZURE_CREDENTIALS }}
    ```

    ## Use instead
    ```yaml
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: azure/login@v2
        with:
          client-id: ${{ secrets.AZURE_CLIENT_ID }}
          tenant-id: ${{ secrets.AZURE_TENANT_ID }}
          subscription-id: ${{ secrets.AZURE_SUBSCRIPTION_ID }}
    ```
    after `az ad app federated-credential create` with the subject the job runs as:
    `repo:<owner>/<repo>:environment:<name>` for a job with an `environment`, else
    `repo:<owner>/<repo>:ref:refs/heads/<branch>` (push), `...:ref:refs/tags/<tag>` or
    `...:pull_request`. The fix names the subjects the workflow's triggers and environment give.
    One credential per subject:
    ```sh
    az ad app federated-credential create --id <app object id> --parameters '{"name": "github-main",
      "issuer": "https://token.actions.githubusercontent.com",
      "subject": "repo:<owner>/<repo>:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}'
    ```
    A script outside GitHub Actions signs in with a managed identity where it runs in Azure
    (`az login --identity`, `Connect-AzAccount -Identity`), with a federated token in other CI
    (`az login --service-principal -u <client id> --tenant <tenant> --federated-token <token>`), or
    as yourself (`az login`) on a workstation. Azure Pipelines: an Azure Resource Manager service
    connection with workload identity federation, used by an `AzureCLI@2` / `AzurePowerShell@5` task.

    ## Fix safety
    Unsafe for `azure/login` in plain block YAML (the `creds` entry becomes the three OIDC inputs
    and the job gets `permissions: id-token: write`, which also narrows the job's other token
    permissions to `contents: read` when it had none): the federated credential and the three
    secrets must exist first. Display-only elsewhere.
    """

    code = "KL280"
    name = "service-principal-secret-login"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "Signs in to Azure as a service principal with a client secret"
    fix_applicability = Applicability.UNSAFE


class ClientSecretMinted(IacRule):
    """Commands that create a client secret for a service principal.

    ## What it does
    Flags `az ad sp create-for-rbac` (unless it creates a certificate: `--create-cert`, `--cert`,
    `--keyvault`), `az ad sp credential reset` and `az ad app credential reset` (same exceptions),
    and `New-AzADSpCredential`/`New-AzADAppCredential` without `-CertValue`, in scripts and CI
    steps. The position is the command's verb.

    ## Why is this bad?
    The command prints a new long-lived secret that someone must then store (a CI secret, a
    `.env`, a Key Vault) and rotate; it is the start of every client-secret login.

    ## Example
    ```bash
    az ad sp create-for-rbac --name deploy --role contributor --scopes /subscriptions/$SUB --sdk-auth
    ```

    ## Use instead
    A managed identity for workloads running in Azure; for CI, an app registration with a
    federated credential (`az ad app federated-credential create`), which has no secret.

    ## Fix safety
    Display-only.
    """

    code = "KL281"
    name = "client-secret-created"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Creates a client secret for a service principal"


class ListedKeyExported(IacRule):
    """Keys listed by a script and written to a file, a CI variable or a store.

    ## What it does
    Follows the output of key-listing commands (`az storage account keys list`,
    `az storage account show-connection-string`, `az cosmosdb keys list`, `az servicebus ...
    authorization-rule keys list`, `az redis list-keys`, `az acr credential show`, SAS generation
    without `--as-user`, `Get-AzStorageAccountKey`, ...) through the script's variables and flags
    where it is written: a `.env`, `local.settings.json` or `appsettings*.json` file (`>`, `>>`,
    `tee`, `Out-File`, `Add-Content`), `$GITHUB_ENV`/`$GITHUB_OUTPUT`, `::set-output`,
    `##vso[task.setvariable]`, `azd env set`, `az keyvault secret set --value`,
    `az appconfig kv set --value`, pipeline variables and deployment `--parameters`. Keys that
    feed app settings or container env (`--settings`, `--env-vars`, `--secrets`,
    `--environment-variables`) are KL252; registry passwords are KL250.

    ## Why is this bad?
    The key outlives the script: later steps, the next developer and anyone who reads the file or
    the variable get full access to the account, and nobody rotates a key copied into five places.

    ## Example
    ```bash
    KEY=$(az storage account keys list -n $SA --query [0].value -o tsv)
    echo "AZURE_STORAGE_KEY=$KEY" >> .env
    ```

    ## Use instead
    Write the endpoint (`AZURE_STORAGE_ACCOUNT_URL`) and authenticate with `az login` locally and
    a managed identity in Azure, both through DefaultAzureCredential.

    ## Fix safety
    Display-only.
    """

    code = "KL282"
    name = "listed-key-exported"
    category = Category.KEY_AUTH
    severity = Severity.HIGH
    message = "Key listed by a script is written to a file, CI variable or store"


# ---- missing-identity ----------------------------------------------------------------------------------

class AppWithoutIdentity(IacRule):
    """Compute resources deployed without a managed identity.

    ## What it does
    Flags Container Apps and Container Apps jobs, Container Instances groups and App Service web and
    function apps (ARM, Bicep, Terraform HCL/JSON/plan, ACA and ACI YAML) with no
    `identity` or with type `None`. Container Apps dev add-ons (`configuration.service`: a managed
    postgres, redis or kafka) run no code of yours and are not flagged.

    In scripts and CI steps, `az containerapp create`, `az containerapp job create`,
    `az container create`, `az webapp create` and `az functionapp create` without an identity option
    (`--system-assigned`/`--user-assigned`, `--mi-*`, `--assign-identity`, `--registry-identity`,
    `--acr-identity`, a Flex Consumption `--deployment-storage-auth-type`) and with no later
    `az ... identity assign` for the same name (the same literal or variable) in the same file are
    reported at lower confidence, one severity lower, and the help says so: the identity may be
    added by a command the file does not show. Nothing is reported when the definition comes from
    elsewhere (`--yaml`, `--file`), when an option may be hidden in an expansion (`"${ARGS[@]}"`,
    splatting) or when a later `identity assign` names an app the script cannot compare. Identity types are normalised (`SystemAssigned,UserAssigned`,
    `SystemAssigned, UserAssigned`, any case); expressions that cannot be resolved are not flagged.
    An ARM identity type given as a parameter is read from its default and from the template's
    parameter files; a Terraform one given as `var.*` / `local.*` from the module's directory (see
    KL401).
    Severity is high when the same resource also uses key-based auth (registry passwords,
    key-fed settings, scale-rule secrets).

    ## Why is this bad?
    Without an identity the app can only reach registries, Key Vault and data services with keys,
    passwords and connection strings.

    ## Example
    ```hcl
    resource "azurerm_container_app" "api" {
      name = "api"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_container_app" "api" {
      name = "api"
      identity {
        type = "SystemAssigned"
      }
    }
    ```

    ## Fix safety
    Unsafe where the insertion point is certain (ARM JSON, Bicep, Terraform HCL, ACA/ACI YAML):
    the identity needs role assignments before code can use it. Display-only otherwise.
    """

    code = "KL301"
    name = "app-without-managed-identity"
    category = Category.MISSING_IDENTITY
    severity = Severity.MEDIUM
    message = "App has no managed identity"
    fix_applicability = Applicability.UNSAFE


# ---- broad-role -------------------------------------------------------------------------------------------

SCOPE_WORDS = {"resourceGroup": "resource-group", "managementGroup": "management-group", "subscription": "subscription",
               "tenant": "tenant", "resourceGroupOrBroader": "resource-group (or broader)"}


def deployed_note(deployed: DeployedScope) -> str:
    """Why an ARM role assignment is rated at the scope its parent templates deploy its template at."""
    from keyless.rules.iac.model import BROADEST_FIRST

    def deploy(parents: list[str]) -> str:
        return f"{and_list(parents)} deploy{'s' if len(parents) == 1 else ''}"

    if len(deployed.by) == 1:
        note = f"where {deploy(deployed.by[deployed.scope])} it"
    else:
        # Parents disagree: the broadest is the worst exposure this template really gets.
        note = "the broadest it is deployed at: " + ", ".join(
            f"{and_list(deployed.by[s])} ({SCOPE_WORDS[s]})" for s in BROADEST_FIRST if s in deployed.by)
    for parent, grandparent in deployed.via:
        note += f"; {grandparent} deploys {parent} there"
    return f" ({note})"


class BroadRoleAssignment(IacRule):
    """Owner, Contributor, User Access Administrator or RBAC Administrator at a broad scope.

    ## What it does
    Flags role assignments (ARM `Microsoft.Authorization/roleAssignments`, Terraform
    `azurerm_role_assignment`, `az role assignment create`, `az ad sp create-for-rbac --role`,
    `New-AzRoleAssignment` in scripts and CI steps) of Owner, Contributor, User Access Administrator
    or Role Based Access Control Administrator - by name or GUID - at management-group, subscription
    or resource-group scope, including assignments without `scope` in templates deployed at those
    scopes.

    In scripts, the position is the role argument. A role or scope given as a variable is read
    from the script's own assignments when they all agree (`SCOPE="/subscriptions/$SUB"`,
    `RG_ID=$(az group show ... --query id)`); a scope built from expansions is classified by its
    literal skeleton (`/subscriptions/$SUB/resourceGroups/$RG` is a resource group); anything else
    is not reported. Without `--scope`, older Azure CLI versions assign at the current subscription
    (or the `--resource-group`) and current ones reject the command; `New-AzRoleAssignment` without
    `-Scope` assigns at the current subscription (or `-ResourceGroupName`). The help says which. The
    help also names the data-plane roles matching the SDK clients the Python code of the same project
    uses (never another repository's code in the same scan), on the resources they use.

    ARM role ids and scopes given as parameters are read from their defaults and from the
    parameter files that deploy the template (`azuredeploy.parameters.json`,
    `main.parameters.<env>.json`, ...); a finding only a parameter file produces names it. A
    resource loop (Bicep `for` over an array, `items()` of a map or an index; ARM `copy` with
    `copyIndex()`) whose values are known is read once per item (at most 64); a loop over a
    parameter without a default, and a loop of module calls, stay unknown. An
    assignment without `scope` inside a nested deployment (`Microsoft.Resources/deployments`) is
    rated at the scope that deployment targets (its `scope`, `subscriptionId`, `resourceGroup`,
    else the nested template's `$schema`); when that is computed at deploy time it is reported at
    "resource-group (or broader)" scope, the narrowest it can be.

    Bicep is read as the ARM template its compiler emits: `.bicepparam` files and
    `main.parameters.json` are parameter files like the above, and a local module is a nested
    deployment evaluated with the values its caller passes. An assignment whose role a caller
    decides (azd's `core/security/role.bicep` given Contributor's GUID by `main.bicep`) is
    reported once, in the caller, on the `params` entry that passes it, and names the module;
    registry modules (`br:`, `ts:`) are not followed.

    A template's own deployment scope (its `$schema`: tenant, management group, subscription or
    resource group) is only a default: the template that deploys it through `templateLink`
    decides. When templates of the repository link to it - `relativePath`, or
    `uri(deployment().properties.templateLink.uri, '<path>')` with a literal path (also through
    variables, `concat` or `format`) - an assignment without `scope` is rated at the scope they
    deploy it at, and the help names them ("scope: where eslzArm/eslzArm.json deploys it"). A parent
    deploying without scope properties passes on its own scope, so chains are followed (cycles are
    ignored). When parents deploy it at different scopes, the broadest is reported and the help
    lists each; when one deploys it at a
    scope computed at deploy time, or the link is a URL, a parameter or a template spec, the
    template's own scope stays.

    Terraform `role_definition_name`, `role_definition_id` and `scope` written as `var.*` or
    `local.*` are resolved across the module, i.e. the file's directory: every `.tf` / `.tf.json`
    file in it, variable defaults, `terraform.tfvars` and `*.auto.tfvars`. The help says when the
    role or scope came from a variable ("role: from the default of var.role", "from
    terraform.tfvars"), since callers may pass other values. Named var files (`prod.tfvars`) are
    scenarios: a variable they set counts only when all of them agree. Sensitive variables,
    variables without a value and computed expressions (function calls, conditionals) are never
    guessed.

    ## Why is this bad?
    A compromised workload with Contributor on a subscription can read every key of every resource
    (`listKeys`) and delete them; Owner and the administrator roles can grant themselves more.

    ## Example
    ```hcl
    resource "azurerm_role_assignment" "app" {
      scope                = data.azurerm_subscription.current.id
      role_definition_name = "Contributor"
      principal_id         = azurerm_user_assigned_identity.app.principal_id
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_role_assignment" "app" {
      scope                = azurerm_storage_account.sa.id
      role_definition_name = "Storage Blob Data Contributor"
      principal_id         = azurerm_user_assigned_identity.app.principal_id
    }
    ```
    In Bicep (ARM templates likewise, with `[subscriptionResourceId(...)]`), roles are named by GUID;
    the help names the data-plane roles the project's Python code needs and the first one's GUID:
    ```bicep
    resource blobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
      name: guid(storage.id, app.id, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
      scope: storage
      properties: {
        roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe') // Storage Blob Data Contributor
        principalId: app.identity.principalId
        principalType: 'ServicePrincipal'
      }
    }
    ```

    ## Fix safety
    Display-only: narrowing a role can break operations the workload performs.
    """

    code = "KL401"
    name = "broad-role-assignment"
    category = Category.BROAD_ROLE
    severity = Severity.HIGH
    message = "Privileged role assigned at a broad scope"

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import build, deployed_scope, sdk_roles

        m = build(project)
        roles_by_project: dict[str, list] = {}
        for f in m.roles:
            d = f.data
            where = m.project_of(f.path)
            if where not in roles_by_project:
                roles_by_project[where] = sdk_roles(m, where)
            used = roles_by_project[where]  # only the code of the role's own project
            role, scope, scope_note = d["role"], d["scope"], d.get("scope_note", "")
            # The template's own deployment scope is a default: the templates linking to it decide.
            deployed = deployed_scope(m, f.path) if d.get("scope_is_default") else None
            if deployed is not None:
                scope, scope_note = deployed.scope, deployed_note(deployed)
            admin = role != "Contributor"
            # A nested deployment whose target is computed at deploy time is at least a resource group.
            sev = Severity.CRITICAL if admin and scope in ("subscription", "managementGroup", "tenant") else (
                Severity.HIGH if admin or scope not in ("resourceGroup", "resourceGroupOrBroader") else Severity.MEDIUM)
            why = {"Owner": "has full control",
                   "Contributor": "controls all resources and keys",
                   "User Access Administrator": "can grant any role",
                   "Role Based Access Control Administrator": "can grant roles"}[role]
            via, params = d.get("via_note", ""), parameters_note(d.get("parameters_from"))
            msg = f"'{role}' at {SCOPE_WORDS[scope]} scope {why}{via}{params}; use data-plane roles"
            moved = []  # what does not fit in the message goes to the help
            for part in (params, via):
                if part and len(msg) > MESSAGE_MAX:
                    msg = msg.replace(part, "", 1)
                    moved.append(bare(part))
            if used:  # the roles the Python code of this project needs, on the resources it uses
                cosmos = " (Cosmos DB: a sqlRoleAssignment)" if any(svc == "cosmos" for svc, *_ in used) else ""
                frame = "Assign {} (what the code uses) at resource scope instead" + cosmos
                grants = fitting_list([f"'{r}' on the {label}" for _, r, label, _ in used], HELP_MAX - len(frame) + 2)
                fixmsg = frame.format(grants)
            from keyless.rules.iac.roles import ROLES

            # ARM/Bicep name roles by GUID: the first built-in role's (Cosmos DB data roles are no
            # Azure RBAC roles: they have none here). Terraform can use role_definition_name.
            example = next((r for _, r, _, _ in used if r in ROLES), None) if used else "Storage Blob Data Reader"
            role_id = f"'{example}' is role {ROLES[example]}" if d.get("syntax") and example is not None else ""
            if not used:
                fixmsg = f"Assign a data-plane role (e.g. '{example}') at resource scope instead"
            scope_why = f"scope: {bare(scope_note)}" if scope_note else ""
            plain = bare(scope_note) == "the template's deployment scope"  # the default: says least
            notes = [f"role: {bare(d['role_note'])}" if d.get("role_note") else "",
                     *moved, "" if plain else scope_why,
                     "prefer eligible (PIM) assignments for people" if d.get("principal_type") in ("User", "Group")
                     else "", scope_why if plain else "", role_id]
            fixmsg = fit(fixmsg, [n for n in notes if n])
            yield self.finding(f.path, list_to_span(d["span"]), key=d["key"], message=msg, severity=sev,
                               fix=fix_from_dict(fix_dict(fixmsg, "display-only")))


class WildcardCustomRole(IacRule):
    """Custom role definitions that can write role assignments at a broad assignable scope.

    ## What it does
    Flags ARM `Microsoft.Authorization/roleDefinitions` (also as `azapi_resource`) and Terraform
    `azurerm_role_definition` whose `actions` contain `*`, or a narrower action that still
    includes `Microsoft.Authorization/roleAssignments/write` (`*/write`,
    `Microsoft.Authorization/*`, `Microsoft.Authorization/*/write`,
    `Microsoft.Authorization/roleAssignments/*` or `/write` itself), unless `notActions` takes
    that write back (`*` minus `Microsoft.Authorization/*/write` is Contributor's shape: it cannot
    grant access), and whose assignable scopes include a management group, subscription or resource group
    (unresolved scopes are not flagged). Actions (or whole permissions) given as a parameter or
    variable are read from its default and the parameter files.

    ## Why is this bad?
    Writing role assignments lets the holder grant itself, or anyone, any role: the role is Owner
    under another name and can escalate itself.

    ## Example
    ```hcl
    permissions { actions = ["*"] }
    assignable_scopes = [data.azurerm_subscription.current.id]
    ```

    ## Use instead
    List the needed actions, or use a built-in data-plane role.

    ## Fix safety
    Display-only.
    """

    code = "KL402"
    name = "wildcard-custom-role"
    category = Category.BROAD_ROLE
    severity = Severity.HIGH
    message = "Custom role can write role assignments ('*', '*/write', ...) at a broad assignable scope"


class RoleGuidMismatch(IacRule):
    """A role GUID that does not match the role name written next to it.

    ## What it does
    Looks at role GUIDs in templates, Bicep, Terraform and YAML whose variable name or comment names
    a built-in role (`var acrPullRole = '...' // AcrPull`). It flags the GUID when it belongs to a
    different built-in role, or when it is not a built-in role at all but is one typo away from the
    named role's GUID.

    ## Why is this bad?
    Copy-paste mistakes grant the wrong role: Sender instead of Receiver, Contributor instead of
    Reader, or a fabricated GUID that fails only at deployment time.

    ## Example
    ```bicep
    var acrPullRoleId = '8311e382-0749-4cb8-b61a-304f252e45ec' // AcrPull
    ```

    ## Use instead
    ```bicep
    var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
    ```

    ## Fix safety
    Unsafe when the GUID is not a built-in role (it is replaced by the named role's GUID).
    Display-only when it is another built-in role: either the GUID or the name may be the mistake.
    """

    code = "KL403"
    name = "role-guid-mismatch"
    category = Category.BROAD_ROLE
    severity = Severity.HIGH
    message = "Role GUID does not match the role named next to it"
    fix_applicability = Applicability.UNSAFE


# ---- ambiguous-identity ---------------------------------------------------------------------------------

class MultipleIdentitiesNoClientId(IacRule):
    """An app with several managed identities and no `AZURE_CLIENT_ID`.

    ## What it does
    Flags Container Apps, jobs, container groups and web/function apps that attach two or more
    identities (several user-assigned, or system-assigned plus user-assigned) while none of their
    containers/app settings sets `AZURE_CLIENT_ID`, unless the Python code linked to the app pins
    the identity (`managed_identity_client_id=` / `client_id=`). Identities that `identitySettings`
    keeps away from the app (`lifecycle: None`/`Init`) are not counted. System-assigned plus
    user-assigned is not ambiguous when the same template grants the system-assigned identity
    access (its principal id goes to a role assignment or a module): the code then gets the
    identity that was granted, and the user-assigned ones typically pull images. ARM identity types given as
    parameters are read from their defaults and from the template's parameter files; Terraform
    identity types, `identity_ids` and `app_settings` given as `var.*` / `local.*` from the
    module's directory (see KL401).

    ## Why is this bad?
    Without a client id, the identity endpoint uses the system-assigned identity when there is
    one (silently the wrong principal), and rejects the request when there are only user-assigned
    identities ("Multiple user assigned identities exist").

    ## Example
    ```hcl
    identity {
      type         = "UserAssigned"
      identity_ids = [azurerm_user_assigned_identity.pull.id, azurerm_user_assigned_identity.app.id]
    }
    ```

    ## Use instead
    ```hcl
    env {
      name  = "AZURE_CLIENT_ID"
      value = azurerm_user_assigned_identity.app.client_id
    }
    ```

    ## Fix safety
    Display-only: only the author knows which identity the code should use.
    """

    code = "KL501"
    name = "multiple-identities-without-client-id"
    category = Category.AMBIGUOUS_IDENTITY
    severity = Severity.MEDIUM
    message = "App has several managed identities but sets no AZURE_CLIENT_ID"

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import ambiguity, build, identity_words

        m = build(project)
        for f in m.apps:
            if not project.reported(f.path):
                continue
            d = f.data
            kind = ambiguity(d)
            if kind is None or d.get("client_id_env") is not False:
                continue
            linked = [c for p, links in m.links.items() for c in m.creds if c.path == p
                      for lk in links if lk.app is d or (lk.app_path == f.path and lk.app.get("key") == d.get("key"))]
            if linked and all(c.data.get("client_id") for c in linked):
                continue  # the code pins the identity itself
            if kind == "system+user":
                effect = "code without a client id silently gets the system-assigned identity's tokens"
                sev = Severity.HIGH
            else:
                effect = "token requests without a client id fail (\"Multiple user assigned identities exist\")"
                sev = Severity.MEDIUM
            params = parameters_note(d.get("parameters_from"))
            msg = f"{d['label']}{params} has {identity_words(d)} but no AZURE_CLIENT_ID"
            if params and len(msg) > MESSAGE_MAX:
                msg = msg.replace(params, "", 1)
            else:
                params = ""
            span = d.get("identity_span") or d["span"]
            help_ = client_id_help(d)
            fix = fix_dict(fit(f"{help_[:1].upper()}{help_[1:]}: {effect}",
                               [bare(n) for n in (d.get("ambiguity_note"), params) if n]), "display-only")
            yield self.finding(f.path, list_to_span(span), key=f"{d['key']}|client-id", message=msg, severity=sev,
                               fix=fix_from_dict(fix))


class AcaReferenceWithoutIdentity(IacRule):
    """Container Apps registries or Key Vault secrets that name no identity when several exist.

    ## What it does
    Flags registry entries without credentials and Key Vault-backed secrets (`keyVaultUrl`,
    `key_vault_secret_id`) that do not say which identity to use, on apps with two or more identities.

    ## Why is this bad?
    The platform cannot guess which identity holds AcrPull or Key Vault Secrets User; the revision
    fails to pull or to resolve the secret.

    ## Example
    ```yaml
    registries:
      - server: contoso.azurecr.io
    ```

    ## Use instead
    ```yaml
    registries:
      - server: contoso.azurecr.io
        identity: /subscriptions/.../userAssignedIdentities/pull
    ```

    ## Fix safety
    Display-only.
    """

    code = "KL502"
    name = "aca-reference-without-identity"
    category = Category.AMBIGUOUS_IDENTITY
    severity = Severity.MEDIUM
    message = "Registry or Key Vault secret names no identity on an app with several identities"


class WorkloadIdentityIncomplete(IacRule):
    """Kubernetes workload identity wiring that cannot work.

    ## What it does
    Every pod-bearing workload (Deployment, StatefulSet, DaemonSet, ReplicaSet,
    ReplicationController, Job, CronJob, Pod, and each item of a `kind: List`) is judged on its own
    pod template. For pods labelled `azure.workload.identity/use: "true"`: flags the ServiceAccount they run as
    when it lacks the `azure.workload.identity/client-id` annotation (and the pod does not set
    `AZURE_CLIENT_ID` itself), pods that run as the `default` ServiceAccount, and workloads that put
    the label on the Deployment's own metadata instead of the pod template. Also flags the reverse:
    workloads that run as a ServiceAccount annotated with `azure.workload.identity/client-id`
    without the label, when no pod running as that account carries it (nor the account itself, as
    webhook versions before 1.0 read it): the annotation only works on labelled pods. ServiceAccounts that are
    not in the repository are not guessed, and a ServiceAccount is matched only within the pod's
    own project (another repository's `api` account is not this one's). One finding per
    ServiceAccount names the first workload using it; the help lists the others.

    Helm chart templates are read too (without rendering): a name written as the same template
    action (`{{ include "app.serviceAccountName" . }}`) names the same ServiceAccount within a
    chart, `.Values` scalars and `toYaml` blocks come from the chart's values.yaml, and nothing is
    reported when an `if` branch decides the label or the annotations come from values or helpers
    that are not visible.

    ## Why is this bad?
    The webhook injects `AZURE_CLIENT_ID` from the ServiceAccount annotation and only mutates
    labelled pods; without them the SDK has no identity to exchange the federated token for.

    ## Example
    ```yaml
    kind: ServiceAccount
    metadata:
      name: api
    ```

    ## Use instead
    ```yaml
    kind: ServiceAccount
    metadata:
      name: api
      annotations:
        azure.workload.identity/client-id: <client id of the user-assigned identity>
    ```

    ## Fix safety
    Display-only: the client id comes from your identity.
    """

    code = "KL503"
    name = "workload-identity-incomplete"
    category = Category.AMBIGUOUS_IDENTITY
    severity = Severity.MEDIUM
    message = "Workload identity pod whose ServiceAccount has no client-id annotation"

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import build

        m = build(project)
        users: dict[int, list[Fact]] = {}  # ServiceAccount fact -> the workload-identity pods that use it
        accounts: dict[int, Fact] = {}
        yield from self.unlabelled_pods(m)
        for p in m.pods:
            d = p.data
            if d.get("workload_label_only") and d.get("wl_span"):
                yield self.finding(
                    p.path, list_to_span(d["wl_span"]), key=f"k8s|{d['kind']}|{d['namespace']}|{d['name']}|label",
                    message=(f"{d['kind']} '{short_name(d['name'])}' sets azure.workload.identity/use outside its pod "
                             "template; move it"),
                    fix=fix_from_dict(fix_dict("Move the label to spec.template.metadata.labels: the webhook only "
                                               "mutates labelled pods, so no token is projected", "display-only")))
                continue
            if not d.get("use") or d.get("env_client_id") or d.get("sa_unknown"):
                continue
            sa_name = d.get("sa") or "default"
            # A Helm-templated name ({{ include "app.serviceAccountName" . }}) names the same
            # account only within one chart.
            # ServiceAccounts of the pod's own project only (another repository's 'api' is not this one).
            sas = [s for s in m.sas if s.data["name"] == sa_name and (
                s.data.get("namespace") is None or d.get("namespace") is None or s.data["namespace"] == d["namespace"])
                and ("{{" not in sa_name or s.data.get("chart") == d.get("chart"))
                and m.project_of(s.path) == m.project_of(p.path)]
            if not sas:
                if sa_name == "default":
                    yield self.finding(
                        p.path, list_to_span(d["span"]), key=f"k8s|{d['kind']}|{d['namespace']}|{d['name']}|default-sa",
                        message=(f"{d['kind']} '{short_name(d['name'])}' uses workload identity as the 'default' "
                                 "ServiceAccount; use an annotated one"),
                        fix=fix_from_dict(fix_dict("Create a ServiceAccount annotated with "
                                                   "azure.workload.identity/client-id: <client id> and set "
                                                   "serviceAccountName (the default one has no annotation)",
                                                   "display-only")))
                continue
            for s in sas:
                if s.data.get("client_id") is not False:  # None: annotations we cannot see
                    continue
                accounts[id(s)] = s
                users.setdefault(id(s), []).append(p)
        for sid, pods in users.items():
            s, p, d = accounts[sid], pods[0], pods[0].data
            from_values = s.data.get("from_values") or {}  # Helm: what values.yaml supplied
            notes = [f"{what} from {origin}" for what, origin in from_values.items()]
            where = (f"to {from_values['annotations']}" if "annotations" in from_values
                     else "under metadata.annotations")
            more = f" and {len(pods) - 1} more" if len(pods) > 1 else ""
            used_by = f"used by {d['kind']} '{short_name(d['name'])}' ({p.path}){more}"
            yield self.finding(
                s.path, list_to_span(s.data["span"]),
                key=f"k8s|ServiceAccount|{s.data.get('namespace')}|{s.data['name']}|client-id",
                message=(f"ServiceAccount '{short_name(s.data['name'])}' lacks the azure.workload.identity/client-id "
                         "annotation; add it"),
                fix=fix_from_dict(fix_dict(fit(
                    "Add azure.workload.identity/client-id: <client id of the identity with the federated "
                    f"credential> {where} (the webhook sets AZURE_CLIENT_ID from it)", [used_by] + notes),
                    "display-only")))


    def unlabelled_pods(self, m) -> Iterable[Finding]:
        """Pods that run as a ServiceAccount annotated for workload identity without the `use`
        label, when no pod running as that account has it: the webhook injects nothing, so the SDK
        finds no federated token (DefaultAzureCredential goes on to the node's identity)."""
        by_account: dict[int, list[Fact]] = {}
        accounts: dict[int, Fact] = {}
        for p in m.pods:
            d = p.data
            if d.get("sa_unknown") or not d.get("sa"):
                continue
            for s in m.sas:
                sd = s.data
                if sd["name"] != d["sa"] or sd.get("client_id") is not True or sd.get("use_label") \
                        or m.project_of(s.path) != m.project_of(p.path) \
                        or (sd.get("namespace") and d.get("namespace") and sd["namespace"] != d["namespace"]) \
                        or ("{{" in d["sa"] and sd.get("chart") != d.get("chart")):
                    continue
                accounts[id(s)] = s
                by_account.setdefault(id(s), []).append(p)
        for sid, pods in by_account.items():
            if not all(p.data.get("use_absent") for p in pods):
                continue  # some pod of that account is labelled (or may be): the others may not need it
            s, p, d = accounts[sid], pods[0], pods[0].data
            more = f" and {len(pods) - 1} more" if len(pods) > 1 else ""
            yield self.finding(
                p.path, list_to_span(d["span"]), key=f"k8s|{d['kind']}|{d['namespace']}|{d['name']}|no-use-label",
                message=(f"{d['kind']} '{short_name(d['name'])}' runs as a workload identity account without "
                         "the use label; add it"),
                fix=fix_from_dict(fix_dict(fit(
                    'Add azure.workload.identity/use: "true" to the pod template labels: the webhook injects '
                    "no token into unlabelled pods (the SDK may use the node's identity)",
                    [f"also {len(pods) - 1} more workload{'s' if len(pods) > 2 else ''}" if more else "",
                     f"ServiceAccount '{short_name(s.data['name'])}' in {s.path}"]), "display-only")))


class AadPodIdentity(IacRule):
    """Deprecated aad-pod-identity resources and labels.

    ## What it does
    Flags `AzureIdentity`, `AzureIdentityBinding` and other `aadpodidentity.k8s.io` resources and the
    `aadpodidbinding` pod label, in manifests and Helm chart templates (a label merged from the
    chart's values.yaml counts; one inside an `if` branch does not).

    ## Why is this bad?
    aad-pod-identity was deprecated in October 2022 and archived in 2023: no fixes, NMI intercepts
    IMDS traffic for the whole node, and KEDA dropped support.

    ## Example
    ```yaml
    labels:
      aadpodidbinding: api
    ```

    ## Use instead
    ```yaml
    labels:
      azure.workload.identity/use: "true"
    ```
    with a ServiceAccount annotated with `azure.workload.identity/client-id` and a federated
    identity credential.

    ## Fix safety
    Display-only: the migration needs a federated credential.
    """

    code = "KL504"
    name = "aad-pod-identity-deprecated"
    category = Category.AMBIGUOUS_IDENTITY
    severity = Severity.MEDIUM
    message = "aad-pod-identity is deprecated; use workload identity"


class AmbiguousCredentialInCode(IacRule):
    """Python credentials without a client id that run in an app with several identities.

    ## What it does
    Links each Python file to the app that deploys it (azure.yaml services, directory names
    matching the app or image name, or the only app in the repository) and flags
    `DefaultAzureCredential()` without `managed_identity_client_id` when that app attaches two or
    more identities and sets no `AZURE_CLIENT_ID`, and `ManagedIdentityCredential()` without a
    client id whenever the app attaches two or more identities (it does not read
    `AZURE_CLIENT_ID` itself).

    Links never cross a project boundary (a nested git repository or submodule, a nested keyless
    configuration, an azd project with its own `azure.yaml`): scanning a folder that holds several
    repositories links each one's code only to its own apps. Generic names (`api`, `app`, `web`,
    `service`, `worker`, `func`, `backend`, `frontend`, `server`, `client`, `main`, ...) are never
    evidence: only a specific word shared by a directory and an app or image name links them, and
    only directories below the project's own directory count. Container Apps add-ons are no app.

    ## Why is this bad?
    The code gets a token for the system-assigned identity (silently the wrong principal) or fails
    with "Multiple user assigned identities exist".

    ## Example
    ```python
    credential = ManagedIdentityCredential()
    ```

    ## Use instead
    ```python
    credential = ManagedIdentityCredential(client_id=os.environ["AZURE_CLIENT_ID"])
    ```

    ## Fix safety
    Display-only.
    """

    code = "KL505"
    name = "ambiguous-credential-in-code"
    category = Category.AMBIGUOUS_IDENTITY
    severity = Severity.HIGH
    message = "Credential without a client id runs in an app with several managed identities"
    kinds = frozenset({"json", "yaml", "hcl", "bicep", "text"})

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import ambiguity, build, identity_words

        m = build(project)
        for c in m.creds:
            if not project.reported(c.path):
                continue
            d = c.data
            cls = d.get("cls")
            if d.get("client_id") or cls not in ("DefaultAzureCredential", "ManagedIdentityCredential"):
                continue
            for lk in m.links.get(c.path, ()):
                a = lk.app
                kind = ambiguity(a)
                if kind is None:
                    continue
                env = a.get("client_id_env")
                if cls == "DefaultAzureCredential" and env is not False:
                    continue
                at = f"{lk.app_path}:{a['span'][0]}"
                short_at = f"{posixpath.basename(lk.app_path)}:{a['span'][0]}"
                # The first that fits: the app and where it is deployed (the full path is in the help)
                msg = next((m for m in (
                    f"{cls}() without client id runs in {a['label']} ({at}) with several identities",
                    f"{cls}() without client id runs in an app with several identities ({at})",
                    f"{cls}() without client id runs in {a['label']} ({short_at}) with several identities",
                    f"{cls}() without client id runs in an app with several identities ({short_at})",
                ) if len(m) <= MESSAGE_MAX), f"{cls}() without client id runs in an app with several identities")
                effect = ("tokens silently come from the system-assigned identity" if kind == "system+user"
                          else "token requests fail (\"Multiple user assigned identities exist\")")
                if cls == "ManagedIdentityCredential":
                    fixmsg = 'Pass client_id=os.environ["AZURE_CLIENT_ID"]'
                    fixmsg += (" (ManagedIdentityCredential does not read AZURE_CLIENT_ID itself)" if env is True
                               else f" and {client_id_help(a)} in the deployment")
                else:
                    fixmsg = f"{client_id_help(a)[:1].upper()}{client_id_help(a)[1:]} (or pass managed_identity_client_id)"
                fixmsg = fit(fixmsg, ["" if at in msg else f"the app is at {at}", f"linked because {lk.reason}",
                                      f"else {effect.replace('silently ', '')}",
                                      bare(parameters_note(a.get("parameters_from")))])
                sp = list_to_span([d.get("line", 1), d.get("column", 1), d.get("end_line", d.get("line", 1)),
                                   d.get("end_column", d.get("column", 1))])
                yield self.finding(c.path, sp, key=f"{cls}|{a.get('key')}", message=msg,
                                   severity=Severity.HIGH if kind == "system+user" else Severity.MEDIUM,
                                   fix=fix_from_dict(fix_dict(fixmsg, "display-only")))
                break


RULES = [
    RegistryPassword, KeyFedSetting, FunctionsStorageKey, InlineAppSecret, AciPlainEnvSecret,
    ScaleRuleSecret, SecureParamDefault, SecretOutput, ClientSecretInAppEnv,
    ServicePrincipalSecretLogin, ClientSecretMinted, ListedKeyExported,
    AppWithoutIdentity,
    BroadRoleAssignment, WildcardCustomRole, RoleGuidMismatch,
    MultipleIdentitiesNoClientId, AcaReferenceWithoutIdentity, WorkloadIdentityIncomplete, AadPodIdentity,
    AmbiguousCredentialInCode,
]
