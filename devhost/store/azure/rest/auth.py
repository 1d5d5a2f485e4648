"""The storage account a connection string names, and how requests to it are authorised.

``Account.from_connection_string`` reads ``AccountName``/``AccountKey`` (Shared Key) or
``SharedAccessSignature`` (a SAS token appended to every request), and the table and queue
endpoints: explicit ``TableEndpoint``/``QueueEndpoint`` (Azurite's path-style endpoints
included), or ``https://{account}.{service}.{EndpointSuffix}``.  ``UseDevelopmentStorage=true``
must already be expanded (:func:`devhost.azurite.expand_connection_string`).

Signing follows the Storage REST reference ("Authorize with Shared Key"): tables use
*SharedKeyLite* (date and canonicalized resource), queues *SharedKey* (verb, standard
headers, ``x-ms-*`` headers and the canonicalized resource with its query parameters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit


class ConnectionStringError(ValueError):
    """The connection string cannot be used by the REST client."""


@dataclass(frozen=True)
class Endpoint:
    """Where one service of the account listens: ``origin`` (scheme://host:port) and the path
    prefix requests start with (``/devstoreaccount1`` for Azurite, empty for Azure)."""

    origin: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConnectionStringError(f"not an http(s) endpoint: {url!r}")
        return cls(f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"))


@dataclass(frozen=True)
class Account:
    """Name, credential and endpoints of one storage account."""

    name: str
    key: bytes | None
    sas: str | None
    table: Endpoint
    queue: Endpoint

    @classmethod
    def from_connection_string(cls, value: str) -> Account:
        parts: dict[str, str] = {}
        for item in value.split(";"):
            key, sep, val = item.partition("=")
            if sep:
                parts[key.strip().lower()] = val.strip()
        name = parts.get("accountname", "")
        key_text = parts.get("accountkey")
        sas = parts.get("sharedaccesssignature")
        if not key_text and not sas:
            raise ConnectionStringError("the connection string has neither AccountKey nor SharedAccessSignature")
        try:
            key = base64.b64decode(key_text, validate=True) if key_text else None
        except ValueError as exc:
            raise ConnectionStringError("AccountKey is not base64") from exc
        scheme = parts.get("defaultendpointsprotocol", "https")
        suffix = parts.get("endpointsuffix", "core.windows.net")

        def endpoint(service: str) -> Endpoint:
            explicit = parts.get(f"{service}endpoint")
            if explicit:
                return Endpoint.parse(explicit)
            if not name:
                raise ConnectionStringError(f"the connection string names no AccountName and no {service} endpoint")
            return Endpoint.parse(f"{scheme}://{name}.{service}.{suffix}")

        table, queue = endpoint("table"), endpoint("queue")
        if not name:  # path-style (emulator) endpoints name the account first, others in the host
            name = table.prefix.strip("/").split("/")[0] or (urlsplit(table.origin).hostname or "").split(".")[0]
        return cls(name, key, sas.lstrip("?") if sas else None, table, queue)

    # --- signing ------------------------------------------------------------------------------
    def table_headers(self, path: str) -> dict[str, str]:
        """``x-ms-date`` and (with a key) a SharedKeyLite ``Authorization`` for a table request
        to the encoded ``path`` (``comp`` is never used by the table client)."""
        date = http_date()
        if self.key is None:
            return {"x-ms-date": date}
        signed = self._sign(f"{date}\n/{self.name}{path}")
        return {"x-ms-date": date, "Authorization": f"SharedKeyLite {self.name}:{signed}"}

    def queue_authorization(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                            content_length: int, content_type: str = "") -> str | None:
        """SharedKey ``Authorization`` for a queue request (``None`` with a SAS token).
        ``query`` holds decoded values; ``headers`` must include ``x-ms-date``."""
        if self.key is None:
            return None
        canonical_headers = "".join(
            f"{k}:{v.strip()}\n" for k, v in sorted((k.lower(), v) for k, v in headers.items())
            if k.startswith("x-ms-")
        )
        resource = f"/{self.name}{path}" + "".join(
            f"\n{k}:{v}" for k, v in sorted((k.lower(), v) for k, v in query.items())
        )
        length = str(content_length) if content_length else ""
        to_sign = f"{method}\n\n\n{length}\n\n{content_type}\n\n\n\n\n\n\n{canonical_headers}{resource}"
        return f"SharedKey {self.name}:{self._sign(to_sign)}"

    def _sign(self, text: str) -> str:
        assert self.key is not None
        return base64.b64encode(hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The current time as an RFC 1123 date (computed once per second)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]
