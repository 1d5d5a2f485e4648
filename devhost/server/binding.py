"""The durable client binding value and check-status payloads (``durable-protocol.md`` §5.1, §5.3)."""

from __future__ import annotations

import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
INSTANCE_PLACEHOLDER = "INSTANCEID"
CONNECTION = "Storage"


def management_urls(origin: str, hub: str, instance_id: str) -> dict[str, str]:
    """Every management URL of one instance (the binding uses the placeholder id)."""
    base = f"{origin}{WEBHOOK_PATH}/instances/{instance_id}"
    query = f"taskHub={quote(hub)}&connection={CONNECTION}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{base}?{query}",
        "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{base}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{base}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{base}?{query}",
        "restartPostUri": f"{base}/restart?{query}",
        "suspendPostUri": f"{base}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{base}/resume?reason={{text}}&{query}",
    }


def check_status_payload(origin: str, hub: str, instance_id: str) -> dict[str, str]:
    """The 202 body of a webhook start: management URLs without ``rewindPostUri``."""
    urls = management_urls(origin, hub, instance_id)
    urls.pop("rewindPostUri")
    return urls


def client_binding_json(origin: str, hub: str, rpc_base_url: str) -> str:
    """The JSON text handed to a ``durable_client_input`` parameter."""
    base = f"{origin}{WEBHOOK_PATH}"
    creation = f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
    return json.dumps({
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": creation,
            "createAndWaitOnNewInstancePostUri": (
                f"{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
            ),
        },
        "managementUrls": management_urls(origin, hub, INSTANCE_PLACEHOLDER),
        "baseUrl": base,
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": rpc_base_url if rpc_base_url.endswith("/") else rpc_base_url + "/",
    })
