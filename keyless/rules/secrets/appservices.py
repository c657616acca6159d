"""KL108 app-configuration-secret, KL109 signalr-access-key, KL110 function-key."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class AppConfigurationSecret(SecretRule):
    """Detects Azure App Configuration access keys.

    ## What it does
    Reports the `Secret=` of `Endpoint=https://<name>.azconfig.io;Id=<id>;Secret=<secret>`
    connection strings, CASK keys with the `AZAC` provider signature, and 44-character secrets
    assigned to App Configuration names. The `Id` is a name and is not reported.

    ## Why is this bad?
    The access key reads (or, for read-write keys, changes) every setting and feature flag, which
    often include further connection strings.

    ## Example
    ```env
    APPCONFIG_CONNECTION_STRING=Endpoint=https://contoso.azconfig.io;Id=abcd-l0-s0:xyz;Secret=<44 chars>
    ```

    ## Use instead
    `AzureAppConfigurationClient(base_url="https://contoso.azconfig.io", credential=DefaultAzureCredential())`
    with 'App Configuration Data Reader', and `disableLocalAuth: true`.

    ## Fix safety
    Display-only.
    """

    code = "KL108"
    name = "app-configuration-secret"
    severity = Severity.HIGH
    message = "App Configuration access key in source"
    keywords = ("azconfig", "config", "secret", "AZAC")
    secret_kinds = frozenset({"appconfig-secret"})


class SignalRAccessKey(SecretRule):
    """Detects Azure SignalR Service and Web PubSub access keys.

    ## What it does
    Reports the `AccessKey=` of `Endpoint=https://<n>.service.signalr.net;AccessKey=...;Version=1.0;`
    and `Endpoint=https://<n>.webpubsub.azure.com;AccessKey=...` connection strings, CASK keys with
    the `AWPS` signature, and keys assigned to SignalR / Web PubSub names. Strings using
    `AuthType=azure.msi` carry no key.

    ## Why is this bad?
    The access key signs client and server tokens: anyone holding it can impersonate any user and
    broadcast to every connection.

    ## Example
    ```json
    {"Azure:SignalR:ConnectionString": "Endpoint=https://contoso.service.signalr.net;AccessKey=<key>;Version=1.0;"}
    ```

    ## Use instead
    `Endpoint=https://contoso.service.signalr.net;AuthType=azure.msi;Version=1.0;` with the
    'SignalR App Server' role (Web PubSub: `WebPubSubServiceClient(..., credential=DefaultAzureCredential())`
    and 'Web PubSub Service Owner').

    ## Fix safety
    Display-only.
    """

    code = "KL109"
    name = "signalr-access-key"
    severity = Severity.HIGH
    message = "SignalR / Web PubSub access key in source"
    keywords = ("accesskey", "access_key", "access-key", "signalr", "pubsub", "AWPS")
    secret_kinds = frozenset({"signalr-key", "webpubsub-key"})


class FunctionKey(SecretRule):
    """Detects Azure Functions keys (function, host and master keys).

    ## What it does
    Reports identifiable `AzFu` keys (checksum verified; function / master / system key from the
    seed), `?code=` values on `*.azurewebsites.net` URLs, and values of `x-functions-key` headers
    or function-key settings. Legacy keys have no signature, so without a `code=` URL parameter or a
    function-key name nothing is reported (a bare 40-56 character token is too ambiguous).

    ## Why is this bad?
    A function key authorises calls to the function (a master key to every function and the admin
    API) and is shared by every caller, so it cannot be attributed or scoped.

    ## Example
    ```sh
    curl "https://contoso-api.azurewebsites.net/api/orders?code=<key>"
    ```

    ## Use instead
    Protect the app with App Service authentication (Entra ID) and call it with a token from
    `DefaultAzureCredential`; keep any remaining key in Key Vault (`@Microsoft.KeyVault(...)`).

    ## Fix safety
    Display-only.
    """

    code = "KL110"
    name = "function-key"
    severity = Severity.HIGH
    message = "Azure Functions key in source"
    keywords = ("AzFu", "azurewebsites", "function", "azurewebjobs")
    secret_kinds = frozenset({"function-key"})
