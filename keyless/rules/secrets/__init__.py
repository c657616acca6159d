"""Secret rules (KL101-KL189): credentials committed to the repository.

All rules share one scan per document (`scanner.scan`, memoised in `doc.memo["secrets"]`) and keep
the credential kinds they own. KL190-KL199 are reserved.

The scan reads raw text (scanner.py), plus decoded views whose findings are reported on the raw
characters: escaped strings and base64 Kubernetes Secret data (decoded.py), Python strings joined
from several literals (pystrings.py), and the literals Terraform / ARM structure names (iacvalues.py).
"""

from keyless.rules.secrets.ai import AiServicesKey
from keyless.rules.secrets.appservices import AppConfigurationSecret, FunctionKey, SignalRAccessKey
from keyless.rules.secrets.data import CosmosDbKey, DatabasePassword, RedisAccessKey
from keyless.rules.secrets.identity import AzureDevOpsPat, EntraClientSecret, EntraRefreshToken
from keyless.rules.secrets.messaging import IotHubKey, ServiceBusKey
from keyless.rules.secrets.platform import BatchAccountKey, ContainerRegistryPassword, IdentifiableKey, MapsKey
from keyless.rules.secrets.storage import SasToken, StorageAccountKey

RULES = [
    StorageAccountKey,
    SasToken,
    ServiceBusKey,
    IotHubKey,
    CosmosDbKey,
    DatabasePassword,
    RedisAccessKey,
    AppConfigurationSecret,
    SignalRAccessKey,
    FunctionKey,
    AiServicesKey,
    EntraClientSecret,
    AzureDevOpsPat,
    ContainerRegistryPassword,
    BatchAccountKey,
    MapsKey,
    IdentifiableKey,
    EntraRefreshToken,
]

__all__ = ["RULES"]
