"""The durable client binding value and check-status payloads (``durable-protocol.md`` §5.1, §5.3)."""

from __future__ import annotations

import functools
import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
INSTANCE_PLACEHOLDER = "INSTANCEID"
CONNECTION = "Storage"


def management_urls(origin: str, hub: str, instance_id: str, code: str | None = None) -> dict[str, str]:
    """Every management URL of one instance (the binding uses the placeholder id).

    With keys on, each URL ends with ``&code=`` and the extension's system key, as the host's do.
    """
    base = f"{origin}{WEBHOOK_PATH}/instances/{instance_id}"
    query = f"taskHub={quote(hub)}&connection={CONNECTION}" + (f"&code={quote(code)}" if code else "")
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


def check_status_payload(origin: str, hub: str, instance_id: str, code: str | None = None) -> dict[str, str]:
    """The 202 body of a webhook start: management URLs without ``rewindPostUri``."""
    urls = management_urls(origin, hub, instance_id, code)
    urls.pop("rewindPostUri")
    return urls


@functools.lru_cache(maxsize=64)  # the same few origins on every invocation
def client_binding_json(origin: str, hub: str, rpc_base_url: str, code: str | None = None) -> str:
    """The JSON text handed to a ``durable_client_input`` parameter."""
    base = f"{origin}{WEBHOOK_PATH}"
    creation = f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
    required = f"code={quote(code)}" if code else ""
    return json.dumps({
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": creation + (f"?{required}" if required else ""),
            "createAndWaitOnNewInstancePostUri": (
                f"{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
                + (f"&{required}" if required else "")
            ),
        },
        "managementUrls": management_urls(origin, hub, INSTANCE_PLACEHOLDER, code),
        "baseUrl": base,
        "requiredQueryStringParameters": required,
        "rpcBaseUrl": rpc_base_url if rpc_base_url.endswith("/") else rpc_base_url + "/",
    })
