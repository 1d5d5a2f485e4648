"""The app's Blob clients: no proxy look-ups unless the environment names a proxy, which is then used.

aiohttp's ``trust_env`` reads the proxy variables and the netrc file on a worker thread for
every request (two thread hops); the app's clients skip that unless ``HTTP_PROXY`` /
``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NETRC`` is set, as devhost's own storage clients do.
"""

from __future__ import annotations

import re
import uuid

import pytest
from azure.core.exceptions import ServiceRequestError

from agents.settings import StorageSettings
from agents.storage import blob_service_client, proxy_configured

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NETRC")


def test_only_a_named_proxy_or_netrc_counts_as_configured():
    assert not proxy_configured({})
    assert not proxy_configured({"HTTP_PROXY": "", "NO_PROXY": "*"})
    assert proxy_configured({"https_proxy": "http://proxy:3128"})
    assert proxy_configured({"NETRC": "/home/me/.netrc"})


async def test_uploads_skip_the_lookups_without_a_proxy_and_go_through_a_named_one(blob_storage, monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    storage = StorageSettings(connection_string=blob_storage.connection_string)
    container = f"proxy-{uuid.uuid4().hex[:12]}"
    async with blob_service_client(storage) as service:
        await service.get_container_client(container).create_container()
        await service.get_container_client(container).upload_blob("direct.json", b"{}")
        assert service._pipeline._transport.session.trust_env is False  # the session aiohttp uses

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: a request through it fails
    async with blob_service_client(storage, retry_total=0) as service:
        with pytest.raises(ServiceRequestError, match=re.escape("127.0.0.1:9")):
            await service.get_container_client(container).upload_blob("proxied.json", b"{}")
    monkeypatch.delenv("HTTP_PROXY")
    async with blob_service_client(storage) as service:
        await service.delete_container(container)
