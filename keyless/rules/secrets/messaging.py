"""KL103 service-bus-key, KL104 iot-hub-key."""

from __future__ import annotations

from keyless.linter.finding import Severity
from keyless.rules.secrets.base import SecretRule


class ServiceBusKey(SecretRule):
    """Detects Service Bus, Event Hubs and Azure Relay shared access keys.

    ## What it does
    Reports identifiable keys (`+ASb`, `+AEh`, `+ARm`, checksum verified; the matching seed tells
    send / listen / manage), `SharedAccessKey=` values in `Endpoint=sb://...` connection strings
    (also inside Kafka `sasl.jaas.config` or `amqps://policy:key@ns.servicebus.windows.net`), and
    44-character keys assigned to Service Bus / Event Hubs names. Keys of `RootManageSharedAccessKey`
    or manage policies are critical.

    ## Why is this bad?
    A namespace key lets anyone send, receive or (for manage policies) reconfigure every queue,
    topic and event hub in the namespace, with no identity in the audit log.

    ## Example
    ```json
    {"ServiceBusConnection": "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<44 chars>"}
    ```

    ## Use instead
    ```python
    ServiceBusClient(fully_qualified_namespace="contoso.servicebus.windows.net",
                     credential=DefaultAzureCredential())
    ```
    Grant 'Azure Service Bus Data Sender'/'Receiver' (or the Event Hubs equivalents), set
    `disableLocalAuth: true`, regenerate the key.

    ## Fix safety
    Display-only: needs a role assignment and key regeneration.
    """

    code = "KL103"
    name = "service-bus-key"
    severity = Severity.HIGH
    message = "Service Bus / Event Hubs / Relay key in source"
    keywords = ("+ASb", "+AEh", "+ARm", "sharedaccesskey", "servicebus", "eventhub", "event_hub", "event-hub", "relay")
    secret_kinds = frozenset({"servicebus-key", "eventhubs-key", "relay-key", "messaging-key"})


class IotHubKey(SecretRule):
    """Detects IoT Hub, Device Provisioning Service and IoT device keys.

    ## What it does
    Reports identifiable `AIoT` keys (checksum verified; the seed tells hub / DPS / device) and
    `SharedAccessKey=` values in `HostName=<hub>.azure-devices.net;...` connection strings (service
    policies such as `iothubowner`, DPS `provisioningserviceowner`, and device strings with
    `DeviceId=`). Device keys are reported with medium severity: they only impersonate one device.
    `x509=true` strings carry no key and are ignored.

    ## Why is this bad?
    A hub policy key (e.g. `iothubowner`) controls every device identity and message route; a device
    key lets anyone impersonate the device and inject telemetry.

    ## Example
    ```env
    IOTHUB_CONNECTION_STRING=HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<44 chars>
    ```

    ## Use instead
    Service code: Entra ID with `DefaultAzureCredential` and 'IoT Hub Data Contributor'. Devices:
    X.509 certificates or DPS attestation (TPM), never a key in source.

    ## Fix safety
    Display-only.
    """

    code = "KL104"
    name = "iot-hub-key"
    severity = Severity.CRITICAL
    message = "IoT Hub / DPS / device key in source"
    keywords = ("AIoT", "sharedaccesskey", "iot", "device", "dps", "azure-devices")
    secret_kinds = frozenset({"iot-key"})
