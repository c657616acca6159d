"""Resources that still accept keys or passwords (KL251, KL260-KL278) and Key Vaults that grant
access with vault-wide access policies (KL404).

Each rule declares its switch table: the ARM type, the property path, the value that turns keys
off, ARM's default by API version, and the azurerm spellings (4.x and 5.x) with the provider's
default. One checker (`resource_view.check_resource`) evaluates every table on the resource views
that the ARM/Bicep, Terraform azurerm and azapi front ends build, so a rule is written once for
every format. The project phase here adds what only the repository knows: whether its Python code
(or a deployment that passes the resource's key to an app: `iac.key-user`) still uses the service
with a key (then the finding is high and names that use), or only identity-based clients do (then
it says the switch can be flipped safely), and the data-plane role
that code needs. Only the code of the resource's own project counts (keyless.linter.projects): in
a scan of several repositories, one repository's key-based client never raises another's finding.
A Terraform resource's own key attribute (`azurerm_x.y.primary_access_key`, not a data source's)
counts only for the resources declared in that module's directory: an example directory's resource
at the same address is another resource. Any key a template reads counts only within its own
deployment (`model.deployment_of`: the file, the Bicep/Terraform modules and linked ARM templates
it deploys, and the templates that deploy it): one sample template's `listKeys()` never raises an
unrelated sample's storage account in the same repository.
"""

from __future__ import annotations

import posixpath
from typing import Any, ClassVar, Iterable

from keyless.linter.finding import Applicability, Category, Finding, Severity
from keyless.linter.messages import HELP_MAX, MESSAGE_MAX, drop_notes, fitting_list, trim_notes
from keyless.linter.rule import Project
from keyless.rules.iac.facts import fix_dict, fix_from_dict, list_to_span, parameters_note
from keyless.rules.iac.resource_view import Attr, Companion, Switch, always, from_api
from keyless.rules.iac.rules import IacRule, issue_message

# The services of `py.sdk-client` facts (keyless/rules/python/catalog.py) each rule stands for.


def declared_dir(issue) -> str:
    """The directory of the file that declares an issue's resource (a module's, when the issue
    was reported at its caller)."""
    via = issue.data.get("via")
    return posixpath.dirname(via[-1][1] if via else issue.path)


class ResourceAuthRule(IacRule):
    """Base of the resource rules: a switch table and the repository-aware project phase."""

    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    fix_applicability = Applicability.UNSAFE
    switches: ClassVar[tuple[Switch, ...]] = ()
    accepts: ClassVar[str] = "accepts keys"  # "... so it <accepts>"
    fix_note: ClassVar[str] = ""  # appended to "Set x = false"
    service: ClassVar[str] = ""  # how messages name the service
    sdk_services: ClassVar[tuple[str, ...]] = ()
    key_phrase: ClassVar[str] = "a key"  # "<path:line> uses <key_phrase> (KL201)"
    roles: ClassVar[str] = ""  # the data-plane role(s) callers need when the code tells nothing
    turn_off: ClassVar[str] = "turning keys off"
    advice: ClassVar[str] = ""  # what to do first when no code in the repository uses the service
    move: ClassVar[str] = "Move that code to a managed identity with {role}"  # what key users must do

    def check_project(self, project: Project) -> Iterable[Finding]:
        from keyless.rules.iac.model import build, deployment_of

        m = build(project)
        issues = m.issues.get(self.code, ())
        if not issues:
            return
        users: dict[str, tuple[list, list]] = {}  # project -> (key users, token users)
        for f in m.sdk:
            # Python SDK clients of the service, and templates that read this resource's key
            # (`iac.key-user` facts naming this rule: listKeys() into an app setting, a secret, ...).
            if f.data.get("service") not in self.sdk_services and f.data.get("rule") != self.code:
                continue
            key_users, token_users = users.setdefault(m.project_of(f.path), ([], []))
            (key_users if f.data.get("auth") == "key" else token_users if f.data.get("auth") == "token" else []).append(f)
        for key_users, token_users in users.values():
            key_users.sort(key=lambda f: (f.path, f.data.get("line", 0)))
            token_users.sort(key=lambda f: (f.path, f.data.get("line", 0)))
        for f in issues:
            d = f.data
            # Only the code of the resource's own project tells how the resource is used; a
            # deployment's key user counts for the resources of the type whose key it reads, in
            # its own deployment (its file, its modules and linked templates, their callers).
            key_users, token_users = users.get(m.project_of(f.path), ([], []))
            deployment = deployment_of(m, f.path)
            key_users = [k for k in key_users if k.data.get("switch_type") in (None, d.get("switch_type"))
                         and k.data.get("module_dir") in (None, declared_dir(f))
                         and (k.kind != "iac.key-user" or not k.data.get("rule")
                              or deployment_of(m, k.path) == deployment)]
            roles = self.needed_roles(key_users + token_users)
            role = " and ".join(roles)
            message, severity = issue_message(d), self.severity
            note = parameters_note(d.get("parameters_from"))
            if note and message.endswith(note):
                message = message[: -len(note)]
            else:  # inside the message's parentheses (facts.with_note), or none
                note = ""
            fix = d.get("fix") or fix_dict(f"Turn {self.service} key access off", "display-only")
            steps = fix["message"].rstrip(".")
            users_note = safe_once = ""
            if key_users:
                # The deployment's own key user (the same file hands this resource's key to an app) first.
                first = next((k for k in key_users if k.path == f.path), key_users[0])
                more = f" and {len(key_users) - 1} more" if len(key_users) > 1 else ""
                code = f", {first.data['code']}" if first.data.get("code") else ""
                where = f"{first.path}:{first.data.get('line', 1)}"
                line = first.data.get('line', 1)
                # the first that fits (the help names the full path in any case; the severity says it)
                base = f"{posixpath.basename(first.path)}:{line}"
                here = f"line {line}" if first.path == f.path else ""
                said = next((s for s in (f"{where} uses {self.key_phrase}", f"{base} uses {self.key_phrase}",
                                         f"{base} uses a key", f"{here} uses a key" if here else "",
                                         "the repository uses a key")
                             if s and len(f"{message}; {s}{note}") <= MESSAGE_MAX), "")
                if said:
                    message += f"; {said}"
                users_note = f" ({where}{code}{more})"
                steps = (f"{self.move.format(role=role)}{users_note}, then: "
                         f"{steps[:1].lower()}{steps[1:]}")
                severity = Severity.HIGH
            elif token_users:
                first = token_users[0]
                users_note = f" ({first.path}:{first.data.get('line', 1)})"
                safe_once = f"; safe once the identity-based clients{users_note} hold {role}"
                steps += safe_once
            elif self.advice:
                steps = f"{self.advice.rstrip('.')}. {steps}"
            elif not steps.lower().startswith("grant"):
                steps = f"Grant callers {role}, then: {steps[:1].lower()}{steps[1:]}"
            if len(steps) > HELP_MAX and d.get("via_full"):  # the message still names the module
                steps = steps.replace(d["via_full"], "", 1)
            steps = trim_notes(steps)
            if len(steps) > HELP_MAX and users_note:  # where the code is: the message says it
                steps = steps.replace(users_note, "", 1)
            if len(drop_notes(steps)) > HELP_MAX and safe_once:  # the code's roles: KL401's help names them
                steps = steps[: steps.rindex("; safe once ")]  # appended last
            steps = drop_notes(steps)
            if len(steps) > HELP_MAX and role in steps:  # the first roles, `and N more`
                bare_roles = [drop_notes(r, 0) for r in roles]
                steps = steps.replace(role, fitting_list(bare_roles, len(role) - (len(steps) - HELP_MAX)), 1)
            yield self.finding(f.path, list_to_span(d["span"]), key=d["key"], message=message + note, severity=severity,
                               fix=fix_from_dict({**fix, "message": steps}))

    def needed_roles(self, users: list) -> list[str]:
        from keyless.rules.python.catalog import role_for

        roles: list[str] = []
        access: dict[str, set] = {}
        for f in users:
            if "service" in f.data:  # a deployment's key user names no SDK service
                access.setdefault(f.data["service"], set()).add(f.data.get("access", "unknown"))
        from keyless.rules.python.catalog import ROLES

        for svc in sorted(access):
            kinds = access[svc]
            if svc not in ROLES:
                continue  # a key user the catalog has no role for (a CI deployment): the rule's own roles
            r = role_for(svc, "read" if kinds == {"read"} else "write" if "write" in kinds else "unknown")
            if all(r.partition(" (")[0] != seen.partition(" (")[0] for seen in roles):
                roles.append(r)  # one role once, with or without its note
        if not roles:
            return [self.roles]
        return [_quoted(r) for r in roles[:3]]


def _quoted(role: str) -> str:
    """`'Storage Blob Data Contributor' (or Reader to read only)`: the role's name in quotes; a
    description (`a Redis data access policy`) as it is."""
    if role.startswith("a "):
        return role
    name, paren, rest = role.partition(" (")
    return f"'{name}'{paren and ' (' + rest}"


def _lookup_is(view: Any, path: tuple[str, ...], allowed: set[str], absent_ok: bool = True) -> bool | None:
    v = view.lookup(path)
    if v.state == "unknown":
        return None
    if v.state == "absent":
        return absent_ok
    return isinstance(v.value, str) and v.value.lower() in allowed


_NON_SQL_CAPABILITIES = {"enablemongo", "enablecassandra", "enabletable", "enablegremlin"}


def _cosmos_nosql(view: Any) -> bool | None:
    """disableLocalAuth covers the NoSQL API; other APIs keep their own key-based auth."""
    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    kind = _lookup_is(view, ("kind",), {"globaldocumentdb"})
    if kind is not True:
        return kind
    caps = view.lookup(("capabilities",) if tf else ("properties", "capabilities"))
    if caps.state == "unknown":
        return None
    if caps.state == "absent":
        return True
    if not isinstance(caps.value, list):
        return None
    for c in caps.value:
        name = c.get("name") if isinstance(c, dict) else None
        if not isinstance(name, str):
            return None
        if name.lower() in _NON_SQL_CAPABILITIES:
            return False
    return True


def _policy_count(view: Any) -> str:
    from keyless.rules.iac.resource_view import granted

    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    v = view.lookup(("access_policy",) if tf else ("properties", "accessPolicies"))
    n = len(v.value) if v.state == "set" and isinstance(v.value, list) else 0
    n += granted(view)  # access-policy resources of this vault in the same file
    return f"; {n} polic{'y' if n == 1 else 'ies'} here" if n else ""


def _access_policies_granted(view: Any) -> int | None:
    """How many access policies a separate access-policy resource grants: an
    `azurerm_key_vault_access_policy` one; an ARM/azapi `vaults/accessPolicies` child those it
    lists, when its operation (its name) is `add` or `replace` (`remove` grants none)."""
    if view.fmt in ("tf", "tf-json", "tf-plan"):
        return 1
    op = view.own_name()
    if op is None:
        return None
    if op.lower() not in ("add", "replace"):
        return 0
    v = view.lookup(("properties", "accessPolicies"))
    return len(v.value) if v.state == "set" and isinstance(v.value, list) else None


def _sql_password(view: Any) -> str:
    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    v = view.lookup(("administrator_login_password",) if tf else ("properties", "administratorLoginPassword"))
    if v.state == "set" and v.literal and isinstance(v.value, str) and v.value:
        return "; password in the file"
    return ""


def _redis_entra(view: Any) -> str:
    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    if tf:
        v = view.lookup(("redis_configuration", "active_directory_authentication_enabled"))
        on = v.state == "set" and v.value is True
    else:
        v = view.lookup(("properties", "redisConfiguration", "aad-enabled"))
        on = v.state == "set" and str(v.value).lower() == "true"
    return "" if on or v.state == "unknown" else "; no Entra auth either"


def _local_auth(arm_type: str, label: str, *azurerm: str, prop: str = "disableLocalAuth", **kw: Any) -> Switch:
    """The common switch: an ARM boolean under `properties` (`prop`, dotted) whose true turns keys
    off and whose absence leaves them on, and the azurerm spellings `type.attribute`: an
    `..._enabled` one (true or absent keeps keys) or a 4.x `..._disabled` one (the other way round)."""
    attrs = []
    for spelling in azurerm:
        tf_type, attr = spelling.split(".")
        disabled = attr.endswith("_disabled")
        attrs.append(Attr(tf_type, (attr,), disabled, not disabled))
    return Switch(arm_type, ("properties", *prop.split(".")), True, always(False), tuple(attrs), label=label, **kw)


# ---- key-auth ----------------------------------------------------------------------------------------

class AcrAdminUser(ResourceAuthRule):
    """Azure Container Registry with the admin user enabled.

    ## What it does
    Flags `Microsoft.ContainerRegistry/registries` with `properties.adminUserEnabled: true` (ARM,
    Bicep, `azapi_resource`) and `azurerm_container_registry` with `admin_enabled = true`. Values
    given as ARM parameters are read from their defaults and from the parameter files that deploy
    the template (the message names the file); Terraform `var.*`/`local.*` from the module's
    directory (see KL401). The admin user is off by default, so an absent property is fine. In
    scripts and CI steps: `az acr create|update --admin-enabled [true]` and
    `New-AzContainerRegistry`/`Update-AzContainerRegistry -EnableAdminUser`.

    ## Why is this bad?
    The admin user is a single shared account with full push/pull rights; its passwords end up in
    app secrets and pipelines and are rarely rotated.

    ## Example
    ```hcl
    resource "azurerm_container_registry" "acr" {
      admin_enabled = true
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_container_registry" "acr" {
      admin_enabled = false
    }
    ```
    with an `AcrPull` role assignment for each pulling identity.

    ## Fix safety
    Unsafe where the value is a literal (it is replaced): apps still pulling with the admin
    password break. Display-only where it comes from a parameter or variable.
    """

    code = "KL251"
    name = "acr-admin-user-enabled"
    severity = Severity.HIGH
    message = "Container registry admin user is enabled"
    accepts = "allows admin login"
    service = "Container Registry"
    sdk_services = ("acr",)
    key_phrase = "a registry password"
    roles = "'AcrPull' (pull) or 'AcrPush'"
    turn_off = "turning the admin user off"
    switches = (
        Switch("Microsoft.ContainerRegistry/registries", ("properties", "adminUserEnabled"), False, always(False),
               (Attr("azurerm_container_registry", ("admin_enabled",), False, False),), label="Container registry"),
    )

    def check_project(self, project: Project) -> Iterable[Finding]:
        for f in super().check_project(project):
            # A shared push/pull account is worth a high even when no code in the repository uses it.
            yield _with_severity(f, Severity.HIGH) if f.severity is Severity.MEDIUM else f


class StorageSharedKey(ResourceAuthRule):
    """Storage accounts that accept Shared Key (account key and SAS) requests.

    ## What it does
    Flags `Microsoft.Storage/storageAccounts` whose `properties.allowSharedKeyAccess` is true or
    absent (null means allowed, in every API version), and `azurerm_storage_account` whose
    `shared_access_key_enabled` is true or absent (the provider's default is true). The severity
    and message depend on the repository: high when its Python code still uses the account key
    (the message names that line, KL201/KL202 flag it), medium otherwise; when every client is
    identity-based the help says the switch can be flipped once their identities hold the role.

    ## Why is this bad?
    As long as Shared Key is allowed, anyone holding an old account key, connection string or SAS
    still gets full data-plane access, whatever the code does now: the move to managed identity is
    not finished.

    ## Example
    ```json
    {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "properties": {}}
    ```

    ## Use instead
    ```json
    {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
     "properties": {"allowSharedKeyAccess": false}}
    ```
    and grant every caller a Storage data role (Storage Blob Data Contributor, ...). Terraform
    then needs the provider setting `storage_use_azuread = true`.

    ## Fix safety
    Unsafe: remaining key or SAS users (apps, Functions host storage, pipelines) stop working.
    The edit replaces a literal value or inserts the property into an object written out in the
    file; display-only where the value comes from a parameter or variable.
    """

    code = "KL260"
    name = "storage-shared-key-access"
    message = "Storage account accepts Shared Key (account key and SAS) requests"
    accepts = "accepts Shared Key"
    service = "Storage"
    sdk_services = ("storage-blob", "storage-queue", "storage-table", "storage-datalake", "storage-file")
    key_phrase = "the account key"
    roles = "a Storage data role (e.g. 'Storage Blob Data Contributor')"
    switches = (
        Switch("Microsoft.Storage/storageAccounts", ("properties", "allowSharedKeyAccess"), False, always(True),
               (Attr("azurerm_storage_account", ("shared_access_key_enabled",), False, True),), label="Storage account"),
    )


class CosmosLocalAuth(ResourceAuthRule):
    """Cosmos DB (NoSQL) accounts that accept account keys.

    ## What it does
    Flags `Microsoft.DocumentDB/databaseAccounts` whose `properties.disableLocalAuth` is false or
    absent, and `azurerm_cosmosdb_account` whose `local_authentication_enabled` (azurerm 5.x) is
    true or absent, or `local_authentication_disabled` (4.x) is false. Only NoSQL accounts: a
    `kind` other than `GlobalDocumentDB` or a Mongo, Cassandra, Table or Gremlin capability is
    left alone (those APIs keep their own key-based auth). Severity as for KL260.

    ## Why is this bad?
    The primary key is a master key: full read/write on every database, shared by every holder.

    ## Example
    ```hcl
    resource "azurerm_cosmosdb_account" "db" {
      local_authentication_enabled = true
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_cosmosdb_account" "db" {
      local_authentication_enabled = false
    }
    ```
    with a `azurerm_cosmosdb_sql_role_assignment` (Cosmos DB Built-in Data Contributor) per caller.

    ## Fix safety
    Unsafe: key-based clients (`CosmosClient(url, key)`) stop working.
    """

    code = "KL261"
    name = "cosmos-local-auth"
    message = "Cosmos DB account accepts account keys"
    accepts = "accepts account keys"
    service = "Cosmos DB"
    sdk_services = ("cosmos",)
    key_phrase = "the account key"
    roles = "'Cosmos DB Built-in Data Contributor' (a sqlRoleAssignment)"
    switches = (
        _local_auth("Microsoft.DocumentDB/databaseAccounts", "Cosmos DB account",
                    "azurerm_cosmosdb_account.local_authentication_enabled",
                    "azurerm_cosmosdb_account.local_authentication_disabled", applies=_cosmos_nosql),
    )


class ServiceBusLocalAuth(ResourceAuthRule):
    """Service Bus namespaces that accept SAS keys.

    ## What it does
    Flags `Microsoft.ServiceBus/namespaces` whose `properties.disableLocalAuth` is false or absent,
    and `azurerm_servicebus_namespace` whose `local_auth_enabled` is true or absent. Severity as for
    KL260.

    ## Why is this bad?
    SAS connection strings (often `RootManageSharedAccessKey`) grant send, listen and manage rights
    to whoever holds them, and keep working after the code moved to managed identity.

    ## Example
    ```hcl
    resource "azurerm_servicebus_namespace" "sb" {
      sku = "Standard"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_servicebus_namespace" "sb" {
      sku                = "Standard"
      local_auth_enabled = false
    }
    ```

    ## Fix safety
    Unsafe: SAS users (clients, KEDA scale rules with a connection string) stop working.
    """

    code = "KL262"
    name = "service-bus-local-auth"
    message = "Service Bus namespace accepts SAS keys"
    accepts = "accepts SAS keys"
    service = "Service Bus"
    sdk_services = ("servicebus",)
    key_phrase = "a SAS connection string"
    roles = "'Azure Service Bus Data Sender'/'Azure Service Bus Data Receiver'"
    switches = (
        _local_auth("Microsoft.ServiceBus/namespaces", "Service Bus namespace",
                    "azurerm_servicebus_namespace.local_auth_enabled"),
    )


class EventHubsLocalAuth(ResourceAuthRule):
    """Event Hubs namespaces that accept SAS keys.

    ## What it does
    Flags `Microsoft.EventHub/namespaces` whose `properties.disableLocalAuth` is false or absent,
    and `azurerm_eventhub_namespace` whose `local_authentication_enabled` is true or absent.
    Severity as for KL260.

    ## Why is this bad?
    SAS connection strings grant send/listen (often manage) rights to every holder and keep working
    after the code moved to managed identity.

    ## Example
    ```json
    {"type": "Microsoft.EventHub/namespaces", "properties": {"disableLocalAuth": false}}
    ```

    ## Use instead
    ```json
    {"type": "Microsoft.EventHub/namespaces", "properties": {"disableLocalAuth": true}}
    ```

    ## Fix safety
    Unsafe: SAS users (producers, consumers, Kafka clients with a connection string) stop working.
    """

    code = "KL263"
    name = "event-hubs-local-auth"
    message = "Event Hubs namespace accepts SAS keys"
    accepts = "accepts SAS keys"
    service = "Event Hubs"
    sdk_services = ("eventhubs",)
    key_phrase = "a SAS connection string"
    roles = "'Azure Event Hubs Data Sender'/'Azure Event Hubs Data Receiver'"
    switches = (
        _local_auth("Microsoft.EventHub/namespaces", "Event Hubs namespace",
                    "azurerm_eventhub_namespace.local_authentication_enabled"),
    )


class EventGridLocalAuth(ResourceAuthRule):
    """Event Grid topics and domains that accept access keys and SAS tokens.

    ## What it does
    Flags `Microsoft.EventGrid/topics` and `Microsoft.EventGrid/domains` whose
    `properties.disableLocalAuth` is false or absent, and `azurerm_eventgrid_topic` /
    `azurerm_eventgrid_domain` whose `local_auth_enabled` is true or absent. System topics have no
    such setting. Severity as for KL260.

    ## Why is this bad?
    The topic key lets anyone who holds it publish events, and keeps working after publishers move
    to managed identity.

    ## Example
    ```hcl
    resource "azurerm_eventgrid_topic" "t" {
      local_auth_enabled = true
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_eventgrid_topic" "t" {
      local_auth_enabled = false
    }
    ```
    with `EventGrid Data Sender` for each publisher.

    ## Fix safety
    Unsafe: publishers using the key or a SAS token stop working.
    """

    code = "KL264"
    name = "event-grid-local-auth"
    message = "Event Grid topic or domain accepts access keys"
    accepts = "accepts access keys and SAS tokens"
    service = "Event Grid"
    sdk_services = ("eventgrid",)
    key_phrase = "an access key"
    roles = "'EventGrid Data Sender'"
    switches = tuple(_local_auth(f"Microsoft.EventGrid/{t}s", f"Event Grid {t}", f"azurerm_eventgrid_{t}.local_auth_enabled")
                     for t in ("topic", "domain"))


class AppConfigurationLocalAuth(ResourceAuthRule):
    """App Configuration stores that accept access keys.

    ## What it does
    Flags `Microsoft.AppConfiguration/configurationStores` whose `properties.disableLocalAuth` is
    false or absent, and `azurerm_app_configuration` whose `local_auth_enabled` is true or absent.
    Severity as for KL260.

    ## Why is this bad?
    Access-key connection strings read (or write) every setting, and keep working after the app
    moved to managed identity.

    ## Example
    ```hcl
    resource "azurerm_app_configuration" "cfg" {
      sku = "standard"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_app_configuration" "cfg" {
      sku                = "standard"
      local_auth_enabled = false
    }
    ```

    ## Fix safety
    Unsafe: disabling local auth invalidates the existing access keys; key users stop working.
    """

    code = "KL265"
    name = "app-configuration-local-auth"
    message = "App Configuration store accepts access keys"
    accepts = "accepts access keys"
    service = "App Configuration"
    sdk_services = ("appconfig",)
    key_phrase = "an access-key connection string"
    roles = "'App Configuration Data Reader' (or Data Owner)"
    switches = (
        _local_auth("Microsoft.AppConfiguration/configurationStores", "App Configuration store",
                    "azurerm_app_configuration.local_auth_enabled"),
    )


class AiServicesLocalAuth(ResourceAuthRule):
    """Azure OpenAI / AI services / Cognitive Services accounts that accept API keys.

    ## What it does
    Flags `Microsoft.CognitiveServices/accounts` (Azure OpenAI, AI services, AI Foundry and single
    services) whose `properties.disableLocalAuth` is false or absent, `azurerm_cognitive_account`
    whose `local_auth_enabled` is true or absent, and the 4.x `azurerm_ai_services` whose
    `local_authentication_enabled` is. Severity as for KL260 (KL204/KL202 name the key users).

    ## Why is this bad?
    An API key is a bearer secret for the whole account: anyone who reads it runs models on your
    quota and reads your data.

    ## Example
    ```json
    {"type": "Microsoft.CognitiveServices/accounts", "kind": "OpenAI", "properties": {"customSubDomainName": "contoso"}}
    ```

    ## Use instead
    ```json
    {"type": "Microsoft.CognitiveServices/accounts", "kind": "OpenAI",
     "properties": {"customSubDomainName": "contoso", "disableLocalAuth": true}}
    ```
    Entra ID needs the custom subdomain endpoint.

    ## Fix safety
    Unsafe: `api_key=` clients stop working.
    """

    code = "KL266"
    name = "ai-services-local-auth"
    message = "Azure OpenAI / AI services account accepts API keys"
    accepts = "accepts API keys"
    service = "Azure OpenAI / AI services"
    sdk_services = ("openai", "cognitive", "ai-language", "ai-document", "ai-vision", "ai-services")
    key_phrase = "an API key"
    roles = "'Cognitive Services OpenAI User' (or 'Cognitive Services User')"
    switches = (
        _local_auth("Microsoft.CognitiveServices/accounts", "AI services account",
                    "azurerm_cognitive_account.local_auth_enabled", "azurerm_ai_services.local_authentication_enabled"),
    )


class SearchApiKeys(ResourceAuthRule):
    """AI Search services that accept API keys.

    ## What it does
    Flags `Microsoft.Search/searchServices` whose `properties.disableLocalAuth` is false or absent
    (then `authOptions` is `apiKeyOnly` by default, or `aadOrApiKey`), and `azurerm_search_service`
    whose `local_authentication_enabled` is true or absent. Severity as for KL260.

    ## Why is this bad?
    Admin keys manage every index; query keys read every document. Both are shared bearer secrets.

    ## Example
    ```hcl
    resource "azurerm_search_service" "s" {
      sku = "standard"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_search_service" "s" {
      sku                          = "standard"
      local_authentication_enabled = false
    }
    ```

    ## Fix safety
    Unsafe: `AzureKeyCredential` clients stop working (and `authOptions` must then be removed).
    """

    code = "KL267"
    name = "search-api-keys"
    message = "AI Search service accepts API keys"
    accepts = "accepts API keys"
    service = "AI Search"
    sdk_services = ("search",)
    key_phrase = "an API key"
    roles = "'Search Index Data Reader' (or Contributor)"
    switches = (
        _local_auth("Microsoft.Search/searchServices", "Search service",
                    "azurerm_search_service.local_authentication_enabled"),
    )


class SignalRLocalAuth(ResourceAuthRule):
    """SignalR and Web PubSub services that accept access keys.

    ## What it does
    Flags `Microsoft.SignalRService/signalR` and `Microsoft.SignalRService/webPubSub` whose
    `properties.disableLocalAuth` is false or absent, and `azurerm_signalr_service` /
    `azurerm_web_pubsub` whose `local_auth_enabled` is true or absent. Severity as for KL260.

    ## Why is this bad?
    The access key signs client tokens for every hub: whoever holds it can impersonate any user.

    ## Example
    ```hcl
    resource "azurerm_web_pubsub" "ps" {
      sku = "Standard_S1"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_web_pubsub" "ps" {
      sku                = "Standard_S1"
      local_auth_enabled = false
    }
    ```

    ## Fix safety
    Unsafe: servers using the connection string stop working.
    """

    code = "KL268"
    name = "signalr-local-auth"
    message = "SignalR / Web PubSub service accepts access keys"
    accepts = "accepts access keys"
    service = "SignalR / Web PubSub"
    sdk_services = ("webpubsub", "signalr")
    key_phrase = "an access-key connection string"
    roles = "'SignalR App Server' / 'Web PubSub Service Owner'"
    switches = (
        _local_auth("Microsoft.SignalRService/signalR", "SignalR service", "azurerm_signalr_service.local_auth_enabled"),
        _local_auth("Microsoft.SignalRService/webPubSub", "Web PubSub service", "azurerm_web_pubsub.local_auth_enabled"),
    )


class RedisAccessKeys(ResourceAuthRule):
    """Azure Cache for Redis and Azure Managed Redis that accept access keys.

    ## What it does
    Flags `Microsoft.Cache/redis` whose `properties.disableAccessKeyAuthentication` is false or
    absent, `azurerm_redis_cache` whose `access_keys_authentication_enabled` is true or absent, and
    Azure Managed Redis databases (`Microsoft.Cache/redisEnterprise/databases`
    `accessKeysAuthentication: 'Enabled'`, `azurerm_managed_redis` `default_database {
    access_keys_authentication_enabled = true }`; absent is not flagged there, the provider's
    default is off). Severity as for KL260 (KL207 names the password users).

    ## Why is this bad?
    The access key is the password of the default user: full access to every key, shared by all.

    ## Example
    ```hcl
    resource "azurerm_redis_cache" "r" {
      sku_name = "Standard"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_redis_cache" "r" {
      sku_name                           = "Standard"
      access_keys_authentication_enabled = false
      redis_configuration {
        active_directory_authentication_enabled = true
      }
    }
    ```

    ## Fix safety
    Unsafe: clients that send the access key as password stop working; Entra authentication must
    be enabled first.
    """

    code = "KL269"
    name = "redis-access-keys"
    message = "Redis cache accepts access keys"
    accepts = "accepts access keys"
    service = "Redis"
    sdk_services = ("redis",)
    key_phrase = "the access key"
    roles = "a Redis data access policy assignment"
    fix_note = " (enable Entra auth first)"
    switches = (
        _local_auth("Microsoft.Cache/redis", "Redis cache", "azurerm_redis_cache.access_keys_authentication_enabled",
                    prop="disableAccessKeyAuthentication", detail=_redis_entra),
        Switch("Microsoft.Cache/redisEnterprise/databases", ("properties", "accessKeysAuthentication"), "Disabled",
               always(None),
               (Attr("azurerm_managed_redis", ("default_database", "access_keys_authentication_enabled"), False, False),),
               label="Managed Redis database"),
    )


class SqlPasswordAuth(ResourceAuthRule):
    """Azure SQL servers and managed instances that accept SQL logins (passwords).

    ## What it does
    Flags `Microsoft.Sql/servers` and `Microsoft.Sql/managedInstances` whose
    `properties.administrators.azureADOnlyAuthentication` is false or absent, unless a child
    `azureADOnlyAuthentications` resource in the same template sets it to true, and
    `azurerm_mssql_server` / `azurerm_mssql_managed_instance` whose
    `azuread_administrator.azuread_authentication_only` (`azure_active_directory_administrator`
    ... `_enabled` for managed instances) is false or absent. An `azureADOnlyAuthentications`
    child that sets false on a server this file does not deploy (`existing`, or deployed by
    another template) is reported where it sets it. The message says when the administrator
    password is written in the file (never the password). Severity as for KL260 (KL206 names the
    password users).

    ## Why is this bad?
    The SQL administrator password opens every database on the server, and any SQL login keeps
    working after the app moved to a managed identity.

    ## Example
    ```hcl
    resource "azurerm_mssql_server" "sql" {
      administrator_login          = "sqladmin"
      administrator_login_password = var.sql_password
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_mssql_server" "sql" {
      azuread_administrator {
        login_username              = "sql-admins"
        object_id                   = var.sql_admins_group_id
        azuread_authentication_only = true
      }
    }
    ```

    ## Fix safety
    Unsafe: SQL logins (connection strings with `PWD=`) stop working; a Microsoft Entra
    administrator must exist first. Display-only when the administrator block is missing.
    """

    code = "KL270"
    name = "sql-password-auth"
    message = "Azure SQL server accepts SQL logins (passwords)"
    accepts = "accepts SQL logins"
    service = "Azure SQL"
    sdk_services = ("sql",)
    key_phrase = "a SQL password"
    roles = "a contained DB user per identity"
    turn_off = "turning SQL logins off"
    fix_note = " (needs an Entra admin)"
    switches = (
        Switch("Microsoft.Sql/servers", ("properties", "administrators", "azureADOnlyAuthentication"), True,
               always(False),
               (Attr("azurerm_mssql_server", ("azuread_administrator", "azuread_authentication_only"), True, False),),
               label="SQL server", detail=_sql_password,
               companions=(Companion("Microsoft.Sql/servers/azureADOnlyAuthentications",
                                     ("properties", "azureADOnlyAuthentication"), None, None, (), True),)),
        Switch("Microsoft.Sql/managedInstances", ("properties", "administrators", "azureADOnlyAuthentication"), True,
               always(False),
               (Attr("azurerm_mssql_managed_instance",
                     ("azure_active_directory_administrator", "azuread_authentication_only_enabled"), True, False),
                Attr("azurerm_mssql_managed_instance",
                     ("azure_active_directory_administrator", "azuread_authentication_only"), True, False)),
               label="SQL managed instance", detail=_sql_password,
               companions=(Companion("Microsoft.Sql/managedInstances/azureADOnlyAuthentications",
                                     ("properties", "azureADOnlyAuthentication"), None, None, (), True),)),
    )


class FlexibleServerPasswordAuth(ResourceAuthRule):
    """PostgreSQL and MySQL flexible servers that accept password logins.

    ## What it does
    Flags `Microsoft.DBforPostgreSQL/flexibleServers` whose `properties.authConfig.passwordAuth`
    is `Enabled` or absent (the default, and the only mode before `authConfig` existed) and
    `azurerm_postgresql_flexible_server` whose `authentication.password_auth_enabled` is true or
    absent; `Microsoft.DBforMySQL/flexibleServers` and `azurerm_mysql_flexible_server` unless a
    server parameter `aad_auth_only` = `ON` (`configurations` child, or
    `azurerm_mysql_flexible_server_configuration`) in the same file turns passwords off; such a
    parameter set to `OFF` on a server deployed elsewhere is reported where it is set. Severity as
    for KL260 (KL206 names the password users).

    ## Why is this bad?
    The administrator password opens every database and keeps working after the app moved to a
    managed identity.

    ## Example
    ```hcl
    resource "azurerm_postgresql_flexible_server" "pg" {
      administrator_password = var.pg_password
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_postgresql_flexible_server" "pg" {
      authentication {
        active_directory_auth_enabled = true
        password_auth_enabled         = false
      }
    }
    ```

    ## Fix safety
    Unsafe: password logins stop working; Microsoft Entra authentication and an Entra
    administrator must be set first.
    """

    code = "KL271"
    name = "flexible-server-password-auth"
    message = "PostgreSQL / MySQL flexible server accepts password logins"
    accepts = "accepts passwords"
    service = "Azure Database for PostgreSQL / MySQL"
    sdk_services = ("postgres", "mysql")
    key_phrase = "a password"
    roles = "an Entra DB role per identity"
    turn_off = "turning password logins off"
    fix_note = " (with Entra auth and an Entra admin)"
    switches = (
        Switch("Microsoft.DBforPostgreSQL/flexibleServers", ("properties", "authConfig", "passwordAuth"), "Disabled",
               always("Enabled"),
               (Attr("azurerm_postgresql_flexible_server", ("authentication", "password_auth_enabled"), False, True),),
               label="PostgreSQL flexible server"),
        Switch("Microsoft.DBforMySQL/flexibleServers", ("properties", "aad_auth_only"), "ON", always("OFF"),
               (Attr("azurerm_mysql_flexible_server", ("aad_auth_only",), "ON", "OFF"),),
               label="MySQL flexible server", setting="aad_auth_only",
               arm_fix_text="Add a flexibleServers/configurations child named 'aad_auth_only' with {setting}",
               tf_fix_text=("Add an azurerm_mysql_flexible_server_configuration with name = \"aad_auth_only\" and "
                            "value = \"ON\""),
               companions=(Companion("Microsoft.DBforMySQL/flexibleServers/configurations", ("properties", "value"),
                                     "azurerm_mysql_flexible_server_configuration", "aad_auth_only", ("value",),
                                     "ON"),)),
    )


class AksLocalAccounts(ResourceAuthRule):
    """AKS clusters with local accounts enabled.

    ## What it does
    Flags `Microsoft.ContainerService/managedClusters` whose `properties.disableLocalAccounts` is
    false or absent, and `azurerm_kubernetes_cluster` whose `local_account_disabled` is false or
    absent.

    ## Why is this bad?
    `az aks get-credentials --admin` returns a static cluster-admin certificate that bypasses
    Microsoft Entra ID and Azure RBAC, cannot be scoped and is not audited per user.

    ## Example
    ```hcl
    resource "azurerm_kubernetes_cluster" "aks" {
      local_account_disabled = false
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_kubernetes_cluster" "aks" {
      local_account_disabled = true
      azure_active_directory_role_based_access_control {
        azure_rbac_enabled = true
      }
    }
    ```

    ## Fix safety
    Unsafe: pipelines and people using admin kubeconfigs lose access; Microsoft Entra integration
    must be enabled first.
    """

    code = "KL272"
    name = "aks-local-accounts"
    message = "AKS cluster has local accounts enabled"
    accepts = "has local admin accounts"
    service = "AKS"
    roles = "an AKS RBAC role"
    turn_off = "turning local accounts off"
    fix_note = " (with Entra integration)"
    switches = (
        _local_auth("Microsoft.ContainerService/managedClusters", "AKS cluster",
                    "azurerm_kubernetes_cluster.local_account_disabled", prop="disableLocalAccounts"),
    )


def _web_switches(site: str, tf_types: tuple[str, ...], channel: str, attr: str) -> Switch:
    child = f"{site}/basicPublishingCredentialsPolicies"
    return Switch(site, ("basicPublishingCredentialsPolicies", channel, "allow"), False, always(True),
                  tuple(Attr(t, (attr,), False, True) for t in tf_types),
                  label="App Service slot" if site.endswith("/slots") else "App Service app",
                  setting=f"basicPublishingCredentialsPolicies/{channel}", shown=f"{channel} policy",
                  tf_shown=f"{attr.split('_', 1)[0]} setting", group="basic",
                  arm_fix_text=f"Add child basicPublishingCredentialsPolicies '{channel}' with {{setting}}",
                  companions=(Companion(child, ("properties", "allow"), None, channel, (), False),))


_WEB_APPS = ("azurerm_linux_web_app", "azurerm_windows_web_app", "azurerm_linux_function_app",
             "azurerm_windows_function_app")
_WEB_SLOTS = tuple(f"{t}_slot" for t in _WEB_APPS)


class AppServiceBasicAuth(ResourceAuthRule):
    """App Service and Functions apps that accept deployments with basic publishing credentials.

    ## What it does
    Flags `Microsoft.Web/sites` and `Microsoft.Web/sites/slots` unless child
    `basicPublishingCredentialsPolicies` resources named `ftp` and `scm` in the same file set
    `properties.allow` to false (absent means allowed), and `azurerm_linux_web_app`,
    `azurerm_windows_web_app`, `azurerm_linux_function_app`, `azurerm_windows_function_app`, their
    `_slot` resources and `azurerm_function_app_flex_consumption` whose
    `ftp_publish_basic_authentication_enabled` / `webdeploy_publish_basic_authentication_enabled`
    are true or absent (the provider's default is true). One finding per app names every channel
    left on.

    ## Why is this bad?
    The publishing profile (`AZURE_WEBAPP_PUBLISH_PROFILE` in a CI secret, a downloaded
    `.PublishSettings` file) holds a username and password that deploy code to the app over FTP,
    WebDeploy, Kudu zip deploy and local Git: whoever reads it replaces your code, and the password
    stays valid until it is reset. Deploying with `azure/login` (OIDC) and a managed identity needs
    no such password.

    ## Example
    ```bicep
    resource web 'Microsoft.Web/sites@2023-12-01' = {
      name: 'app-web'
      location: location
      properties: { serverFarmId: plan.id }
    }
    ```

    ## Use instead
    ```bicep
    resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
      parent: web
      name: 'ftp'
      properties: { allow: false }
    }
    resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
      parent: web
      name: 'scm'
      properties: { allow: false }
    }
    ```
    (Terraform: `ftp_publish_basic_authentication_enabled = false` and
    `webdeploy_publish_basic_authentication_enabled = false`.)

    ## Fix safety
    Unsafe: deployments with a publishing profile (GitHub `publish-profile:`, Visual Studio,
    FTP clients) stop working; deploy with `azure/login` and `azure/webapps-deploy` instead.
    """

    code = "KL273"
    name = "app-service-basic-auth"
    message = "App Service app accepts deployments with basic publishing credentials"
    accepts = "allows basic auth"
    service = "App Service deployments"
    roles = "'Website Contributor' for the deploying identity (azure/login with OIDC)"
    turn_off = "turning basic publishing credentials off"
    advice = "Deploy via azure/login (OIDC) with 'Website Contributor' first"
    move = "Deploy with azure/login (OIDC) and an identity holding 'Website Contributor' instead"
    sdk_services = ("appservice-deploy",)
    key_phrase = "a publishing profile"
    switches = (
        _web_switches("Microsoft.Web/sites", _WEB_APPS, "ftp", "ftp_publish_basic_authentication_enabled"),
        _web_switches("Microsoft.Web/sites", _WEB_APPS + ("azurerm_function_app_flex_consumption",), "scm",
                      "webdeploy_publish_basic_authentication_enabled"),
        _web_switches("Microsoft.Web/sites/slots", _WEB_SLOTS, "ftp", "ftp_publish_basic_authentication_enabled"),
        _web_switches("Microsoft.Web/sites/slots", _WEB_SLOTS, "scm", "webdeploy_publish_basic_authentication_enabled"),
    )


class IotHubLocalAuth(ResourceAuthRule):
    """IoT Hubs that accept hub-scoped shared access keys for the service APIs.

    ## What it does
    Flags `Microsoft.Devices/IotHubs` whose `properties.disableLocalAuth` is false or absent, and
    `azurerm_iothub` whose `local_authentication_enabled` is true or absent. Device and module SAS
    (`disableDeviceSAS`, `disableModuleSAS`) are separate switches for device connections and are
    not checked. Severity as for KL260.

    ## Why is this bad?
    A hub-level policy key (`iothubowner`, `service`) in a connection string manages every device
    and sends to any of them, and keeps working after the back end moved to a managed identity.

    ## Example
    ```hcl
    resource "azurerm_iothub" "hub" {
      name = "hub"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_iothub" "hub" {
      name                         = "hub"
      local_authentication_enabled = false
    }
    ```
    with `IoT Hub Data Contributor` for each back-end identity.

    ## Fix safety
    Unsafe: service clients with a hub connection string (`IoTHubRegistryManager.from_connection_string`)
    stop working.
    """

    code = "KL274"
    name = "iot-hub-local-auth"
    message = "IoT Hub accepts hub-scoped shared access keys"
    accepts = "accepts hub shared access keys"
    service = "IoT Hub"
    sdk_services = ("iot",)
    key_phrase = "a hub connection string"
    roles = "'IoT Hub Data Contributor' (or Data Reader)"
    switches = (
        _local_auth("Microsoft.Devices/IotHubs", "IoT Hub", "azurerm_iothub.local_authentication_enabled"),
    )


class MonitorLocalAuth(ResourceAuthRule):
    """Application Insights components and Log Analytics workspaces that accept ingestion with keys.

    ## What it does
    Flags `Microsoft.Insights/components` whose `properties.DisableLocalAuth` is false or absent,
    `Microsoft.OperationalInsights/workspaces` whose `properties.features.disableLocalAuth` is, and
    `azurerm_application_insights` / `azurerm_log_analytics_workspace` whose
    `local_authentication_enabled` (azurerm 5.x) is true or absent, or `local_authentication_disabled`
    (4.x) is false. Low severity: the instrumentation key and workspace key let their holder write
    (and so forge) telemetry, not read data.

    ## Why is this bad?
    Anyone with the connection string (often in front-end code or app settings) can send
    telemetry or logs, which lets an attacker forge alerts and hide activity. With local auth off
    only identities holding `Monitoring Metrics Publisher` ingest.

    ## Example
    ```hcl
    resource "azurerm_application_insights" "ai" {
      application_type = "web"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_application_insights" "ai" {
      application_type             = "web"
      local_authentication_enabled = false
    }
    ```
    and `configure_azure_monitor(credential=DefaultAzureCredential())` in the app.

    ## Fix safety
    Unsafe: agents and SDKs sending with the instrumentation key or workspace key stop ingesting.
    """

    code = "KL275"
    name = "monitor-local-auth"
    severity = Severity.LOW
    message = "Application Insights or Log Analytics accepts ingestion with keys"
    accepts = "accepts keyed telemetry"
    service = "Azure Monitor"
    roles = "'Monitoring Metrics Publisher'"
    turn_off = "turning local authentication off"
    switches = (
        _local_auth("Microsoft.Insights/components", "Application Insights",
                    "azurerm_application_insights.local_authentication_enabled",
                    "azurerm_application_insights.local_authentication_disabled", prop="DisableLocalAuth"),
        _local_auth("Microsoft.OperationalInsights/workspaces", "Log Analytics workspace",
                    "azurerm_log_analytics_workspace.local_authentication_enabled",
                    "azurerm_log_analytics_workspace.local_authentication_disabled", prop="features.disableLocalAuth"),
    )


def _batch_shared_key(value: Any) -> bool | None:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        return None
    return any(m.strip().lower() == "sharedkey" for m in value)


def _batch_without_shared_key(value: Any) -> list:
    kept = [m for m in value if isinstance(m, str) and m.strip().lower() != "sharedkey"]
    return kept or ["AAD"]


class BatchSharedKey(ResourceAuthRule):
    """Batch accounts that allow Shared Key authentication.

    ## What it does
    Flags `Microsoft.Batch/batchAccounts` whose `properties.allowedAuthenticationModes` lists
    `SharedKey`, and `azurerm_batch_account` whose `allowed_authentication_modes` does. When the
    list is absent the service decides, which is not written here: no finding.

    ## Why is this bad?
    The account key submits jobs that run code on the pool's nodes; it is shared by every holder
    and keeps working after clients moved to Microsoft Entra ID.

    ## Example
    ```hcl
    resource "azurerm_batch_account" "b" {
      allowed_authentication_modes = ["SharedKey", "AAD"]
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_batch_account" "b" {
      allowed_authentication_modes = ["AAD"]
    }
    ```

    ## Fix safety
    Unsafe: clients using `SharedKeyCredentials` stop working. The edit removes `SharedKey` and
    keeps the other modes.
    """

    code = "KL276"
    name = "batch-shared-key"
    message = "Batch account allows Shared Key authentication"
    accepts = "accepts shared keys"
    service = "Batch"
    roles = "'Azure Batch Data Contributor' (or a custom data role)"
    switches = (
        Switch("Microsoft.Batch/batchAccounts", ("properties", "allowedAuthenticationModes"), ["AAD"], always(None),
               (Attr("azurerm_batch_account", ("allowed_authentication_modes",), ["AAD"], None),),
               label="Batch account", insecure=_batch_shared_key, secured=_batch_without_shared_key),
    )


class MapsLocalAuth(ResourceAuthRule):
    """Azure Maps accounts that accept shared keys and SAS tokens.

    ## What it does
    Flags `Microsoft.Maps/accounts` whose `properties.disableLocalAuth` is false or absent, and
    `azurerm_maps_account` whose `local_authentication_enabled` is true or absent.

    ## Why is this bad?
    A Maps subscription key in a web page or app is usable by anyone who copies it, on your bill.

    ## Example
    ```hcl
    resource "azurerm_maps_account" "maps" {
      sku_name = "G2"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_maps_account" "maps" {
      sku_name                     = "G2"
      local_authentication_enabled = false
    }
    ```
    with `Azure Maps Data Reader` for each calling identity.

    ## Fix safety
    Unsafe: clients sending `subscription-key` stop working.
    """

    code = "KL277"
    name = "maps-local-auth"
    message = "Azure Maps account accepts shared keys"
    accepts = "accepts shared keys and SAS tokens"
    service = "Azure Maps"
    roles = "'Azure Maps Data Reader'"
    switches = (
        _local_auth("Microsoft.Maps/accounts", "Maps account", "azurerm_maps_account.local_authentication_enabled"),
    )


class AutomationLocalAuth(ResourceAuthRule):
    """Automation accounts that accept webhook and agent keys (local authentication).

    ## What it does
    Flags `Microsoft.Automation/automationAccounts` whose `properties.disableLocalAuth` is false or
    absent, and `azurerm_automation_account` whose `local_authentication_enabled` is true or absent.

    ## Why is this bad?
    Webhook URLs and agent registration keys start runbooks (which usually hold broad Azure
    rights) for whoever has them.

    ## Example
    ```hcl
    resource "azurerm_automation_account" "aa" {
      sku_name = "Basic"
    }
    ```

    ## Use instead
    ```hcl
    resource "azurerm_automation_account" "aa" {
      sku_name                     = "Basic"
      local_authentication_enabled = false
    }
    ```

    ## Fix safety
    Unsafe: webhooks and hybrid workers registered with a key stop working.
    """

    code = "KL278"
    name = "automation-local-auth"
    message = "Automation account accepts local authentication (webhooks, agent keys)"
    accepts = "accepts webhook/agent keys"
    service = "Automation"
    roles = "'Automation Job Operator'"
    turn_off = "turning local authentication off"
    switches = (
        _local_auth("Microsoft.Automation/automationAccounts", "Automation account",
                    "azurerm_automation_account.local_authentication_enabled"),
    )


# ---- broad-role ------------------------------------------------------------------------------------

class KeyVaultAccessPolicies(ResourceAuthRule):
    """Key Vaults that authorize data access with access policies instead of Azure RBAC.

    ## What it does
    Flags `Microsoft.KeyVault/vaults` whose `properties.enableRbacAuthorization` is false, or absent
    with an API version before 2026-02-01 (from 2026-02-01 a new vault defaults to Azure RBAC), and
    `azurerm_key_vault` whose `rbac_authorization_enabled` (azurerm 5.x, required there) or
    `enable_rbac_authorization` (4.x) is false or absent. The message counts the access policies
    written next to it (`; 2 policies here`), inline or as their own resources (`azurerm_key_vault_access_policy`, ARM,
    Bicep and azapi `Microsoft.KeyVault/vaults/accessPolicies` with operation `add` or
    `replace`). Access-policy resources of a vault this file does not deploy (declared `existing`,
    a data source, a variable, another module) give one finding per vault, at its first policy,
    naming the vault when its name resolves; a vault declared in another file of the same
    Terraform module is judged there (an RBAC vault ignores access policies).

    Category: `broad-role`, not `key-auth`. Access policies accept no keys: callers still
    authenticate with Microsoft Entra tokens. What is wrong is the authorization: a policy is
    vault-wide (every secret, key or certificate of the kind), cannot be scoped or made eligible
    (PIM), and anyone allowed to write the vault (Contributor, Key Vault Contributor) can add a
    policy granting themselves data access. That is a broad grant, like Contributor at a broad
    scope (KL401).

    ## Why is this bad?
    With RBAC each identity gets exactly `Key Vault Secrets User` on the vault (or one secret), and
    only role-assignment writers can grant access.

    ## Example
    ```json
    {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01",
     "properties": {"accessPolicies": [{"objectId": "...", "permissions": {"secrets": ["get", "list"]}}]}}
    ```

    ## Use instead
    ```json
    {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01",
     "properties": {"enableRbacAuthorization": true}}
    ```
    plus a `Key Vault Secrets User` role assignment per reading identity.

    ## Fix safety
    Unsafe: every access policy stops counting the moment RBAC is on; grant the roles first.
    """

    code = "KL404"
    name = "key-vault-access-policies"
    category = Category.BROAD_ROLE
    message = "Key Vault grants data access with vault-wide access policies instead of Azure RBAC"
    accepts = "uses access policies, not RBAC"
    service = "Key Vault"
    sdk_services = ("keyvault-secrets", "keyvault-keys", "keyvault-certificates")
    roles = "'Key Vault Secrets User' (or the key/certificate role)"
    turn_off = "switching it to Azure RBAC"
    switches = (
        Switch("Microsoft.KeyVault/vaults", ("properties", "enableRbacAuthorization"), True,
               from_api("2026-02-01", False, True),
               (Attr("azurerm_key_vault", ("rbac_authorization_enabled",), True, False),
                Attr("azurerm_key_vault", ("enable_rbac_authorization",), True, False)),
               label="Key vault", detail=_policy_count,
               companions=(Companion("Microsoft.KeyVault/vaults/accessPolicies", ("properties", "accessPolicies"),
                                     "azurerm_key_vault_access_policy", None, (), None,
                                     grants=_access_policies_granted, grant_noun="access polic(y|ies)"),)),
    )

    def check_project(self, project: Project) -> Iterable[Finding]:
        for f in super().check_project(project):
            # Key Vault has no keys to turn off: token users only tell which role to grant.
            if f.severity is Severity.HIGH:
                f = _with_severity(f, Severity.MEDIUM)
            yield f


def _with_severity(f: Finding, severity: Severity) -> Finding:
    import dataclasses

    return dataclasses.replace(f, severity=severity)


RESOURCE_RULES: list[type[ResourceAuthRule]] = [
    AcrAdminUser, StorageSharedKey, CosmosLocalAuth, ServiceBusLocalAuth, EventHubsLocalAuth, EventGridLocalAuth,
    AppConfigurationLocalAuth, AiServicesLocalAuth, SearchApiKeys, SignalRLocalAuth, RedisAccessKeys,
    SqlPasswordAuth, FlexibleServerPasswordAuth, AksLocalAccounts, AppServiceBasicAuth, IotHubLocalAuth,
    MonitorLocalAuth, BatchSharedKey, MapsLocalAuth, AutomationLocalAuth, KeyVaultAccessPolicies,
]
