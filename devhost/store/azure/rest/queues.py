"""One storage queue over the Queue service REST API: put, receive, delete and update the
visibility of messages, signed with SharedKey (or carrying the SAS token).

Message text travels as the Azure SDK sends it: UTF-8 XML, ``&``, ``<`` and ``>`` escaped
(``xml.etree``'s escaping), no base64, so SDK clients and DTFx-style tools read the same text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

from .auth import Account, http_date
from .errors import RestError
from .http import Reply, RestSession

API_VERSION = "2021-12-02"
_XML_HEAD = "<?xml version='1.0' encoding='utf-8'?>\n<QueueMessage><MessageText>"
_XML_TAIL = "</MessageText></QueueMessage>"


@dataclass(frozen=True)
class QueuedMessage:
    """A message as a put or a receive returned it; ``pop_receipt`` proves the current lock."""

    id: str
    pop_receipt: str
    content: str = ""
    dequeue_count: int = 0


class Queue:
    """Messages of queue ``name``."""

    def __init__(self, session: RestSession, account: Account, name: str) -> None:
        self.session = session
        self.account = account
        self.name = name

    async def put(self, text: str, *, visibility_timeout: int = 0, ttl: int = -1) -> QueuedMessage:
        """Enqueue ``text``, invisible for ``visibility_timeout`` seconds, living ``ttl``
        seconds (-1: forever)."""
        query = {"messagettl": str(ttl)}
        if visibility_timeout:
            query["visibilitytimeout"] = str(visibility_timeout)
        reply = await self._send("POST", "/messages", query, _message_xml(text))
        message = _messages(reply.body)
        if not message:
            raise RestError(reply.status, None, f"put to {self.name} answered no message")
        return message[0]

    async def receive(self, count: int, visibility_timeout: int) -> list[QueuedMessage]:
        """Up to ``count`` (1-32) visible messages, each invisible for ``visibility_timeout`` s."""
        query = {"numofmessages": str(count), "visibilitytimeout": str(visibility_timeout)}
        return _messages((await self._send("GET", "/messages", query)).body)

    async def delete(self, message_id: str, pop_receipt: str) -> None:
        """Delete a message; :class:`~.errors.NotFound` (or a 400) when the receipt is stale."""
        await self._send("DELETE", f"/messages/{quote(message_id, safe='')}", {"popreceipt": pop_receipt})

    async def update(self, message_id: str, pop_receipt: str, visibility_timeout: int,
                     content: str | None = None) -> str:
        """Make a message invisible for ``visibility_timeout`` seconds from now, its text
        replaced by ``content`` if given; the new receipt."""
        query = {"popreceipt": pop_receipt, "visibilitytimeout": str(visibility_timeout)}
        body = None if content is None else _message_xml(content)
        reply = await self._send("PUT", f"/messages/{quote(message_id, safe='')}", query, body)
        return reply.headers.get("x-ms-popreceipt", "")

    async def _send(self, method: str, path: str, query: dict[str, str], body: bytes | None = None) -> Reply:
        account = self.account
        full_path = f"{account.queue.prefix}/{self.name}{path}"
        encoded = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        if account.sas:
            encoded = f"{encoded}&{account.sas}" if encoded else account.sas
        url = account.queue.origin + full_path + (f"?{encoded}" if encoded else "")
        headers = {"x-ms-version": API_VERSION}
        content_type = ""
        if body is not None:
            content_type = "application/xml"
            headers["Content-Type"] = content_type
        length = len(body) if body else 0

        def sign() -> dict[str, str]:
            signed = {"x-ms-date": http_date(), "x-ms-version": API_VERSION}
            authorization = account.queue_authorization(method, full_path, query, signed, length, content_type)
            if authorization is not None:
                signed["Authorization"] = authorization
            return signed

        return await self.session.send(method, url, headers, body, sign)


def _message_xml(text: str) -> bytes:
    return (_XML_HEAD + escape(text) + _XML_TAIL).encode("utf-8")


def escape(text: str) -> str:
    """XML text escaping as ``xml.etree`` writes it (quotes stay as they are)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _messages(body: bytes) -> list[QueuedMessage]:
    """The ``QueueMessage`` elements of a put or receive answer."""
    out = []
    for element in ET.fromstring(body):
        out.append(QueuedMessage(
            id=element.findtext("MessageId") or "",
            pop_receipt=element.findtext("PopReceipt") or "",
            content=element.findtext("MessageText") or "",
            dequeue_count=int(element.findtext("DequeueCount") or 0),
        ))
    return out
