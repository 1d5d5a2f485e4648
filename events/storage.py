"""Queue access to the app's storage account (``BATON_STORAGE``, else ``AzureWebJobsStorage``).

The same connection forms as :mod:`agents.storage`: a connection string (``UseDevelopmentStorage=true``
is Azurite's queue endpoint, 127.0.0.1:10001) or identity-based settings
(``BATON_STORAGE__queueServiceUri`` / ``__accountName``, ``__clientId``), and no proxy look-ups
unless the environment names a proxy (:func:`agents.storage.proxy_configured`).
"""

from __future__ import annotations

import os

from azure.identity.aio import DefaultAzureCredential
from azure.storage.queue.aio import QueueServiceClient

from agents.settings import APP_STORAGE, HOST_STORAGE
from agents.storage import EMULATOR_ACCOUNT, EMULATOR_KEY, StorageNotConfigured, proxy_configured

EMULATOR_QUEUE = f"http://127.0.0.1:10001/{EMULATOR_ACCOUNT}"


def queue_service_client() -> QueueServiceClient:
    """A new async client for the app's queues (send base64 text: what the Functions host expects)."""
    env = os.environ
    own = any(v for k, v in env.items() if k == APP_STORAGE or k.startswith(f"{APP_STORAGE}__"))
    prefix = APP_STORAGE if own else HOST_STORAGE
    connection = env.get(prefix)
    if connection:
        if connection.replace(" ", "").lower().startswith("usedevelopmentstorage=true"):
            connection = (f"DefaultEndpointsProtocol=http;AccountName={EMULATOR_ACCOUNT};"
                          f"AccountKey={EMULATOR_KEY};QueueEndpoint={EMULATOR_QUEUE};")
        return QueueServiceClient.from_connection_string(connection, use_env_settings=proxy_configured())
    uri = env.get(f"{prefix}__queueServiceUri")
    account = env.get(f"{prefix}__accountName")
    if not uri and account:
        uri = f"https://{account}.queue.core.windows.net"
    if not uri:
        raise StorageNotConfigured(f"set {APP_STORAGE} (or {HOST_STORAGE}), or its __queueServiceUri / __accountName")
    client_id = env.get(f"{prefix}__clientId")
    credential = DefaultAzureCredential(managed_identity_client_id=client_id) if client_id else DefaultAzureCredential()
    return QueueServiceClient(uri, credential=credential, use_env_settings=proxy_configured())

