"""KL111 ai-services-key."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class AiServicesKey(SecretRule):
    """Detects Azure AI services keys: Azure OpenAI, Cognitive Services / AI services and AI Search.

    ## What it does
    Reports CASK keys with the `ACOG` provider signature (the service, e.g. OpenAI or Speech, is
    read from the key), identifiable AI Search keys (`AzSe`, admin vs query from the checksum seed;
    query keys are medium severity), and legacy 32-character hex keys **only in key context**: an
    Azure-specific name (`AZURE_OPENAI_API_KEY`, `Ocp-Apim-Subscription-Key`, `speech_key`,
    `search_api_key`...), or a generic name (`api_key`, `api-key` header, `subscription_key`,
    `AzureKeyCredential("...")`) in a file that mentions an Azure AI endpoint
    (`*.openai.azure.com`, `*.cognitiveservices.azure.com`, `*.services.ai.azure.com`,
    `*.search.windows.net`). A bare 32-hex string (an MD5 digest, a GUID without dashes) is never
    reported.

    ## Why is this bad?
    Keys are account-wide, shared by every caller and bill to your subscription; leaked OpenAI keys
    are actively abused.

    ## Example
    ```python
    client = AzureOpenAI(azure_endpoint="https://contoso.openai.azure.com", api_key="<32 hex>", api_version="2024-06-01")
    ```

    ## Use instead
    ```python
    token_provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    client = AzureOpenAI(azure_endpoint="https://contoso.openai.azure.com", azure_ad_token_provider=token_provider, api_version="2024-06-01")
    ```
    Grant 'Cognitive Services OpenAI User' and set `disableLocalAuth: true`.

    ## Fix safety
    Display-only.
    """

    code = "KL111"
    name = "ai-services-key"
    severity = Severity.HIGH
    message = "Azure AI services key in source"
    keywords = ("ACOG", "AzSe", "key", "credential")
    secret_kinds = frozenset({"ai-key", "search-key"})
