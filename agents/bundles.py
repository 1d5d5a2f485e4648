"""Document bundles: normalise a request into a :class:`Bundle`, and pass large ones by reference.

A bundle whose JSON exceeds ``BATON_INLINE_BUNDLE_BYTES`` (32 KB) is written to
``BATON_BUNDLE_CONTAINER/<sha256>.json`` and replaced by a :class:`BundleRef`, so no Durable
message comes near its 48 KB limit; the name is the content hash, so writing it again on a
retry is harmless.  :func:`resolve` turns either form back into a bundle (checking the hash).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import unicodedata
from collections import OrderedDict
from typing import Any

from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from pydantic import ValidationError

from .inputs import AgentOptions, DocumentRequest
from .llm.errors import AgentError, PermanentAgentError, TransientAgentError
from .logs import AgentLogger
from .models import Bundle, BundleOptions, BundleRef, Document, count_words
from .settings import Settings
from .storage import StorageNotConfigured, shared_blob_service, upload_blob

COLLECT_DATA = "collect_data"
"""The agent that reads blobs (named in its errors)."""
MAX_BLOB_BYTES = 8 * 1024 * 1024
_PARALLEL_READS = 8
_MEMO_BYTES = 32 * 1024 * 1024


async def collect(request: DocumentRequest, options: AgentOptions, settings: Settings, log: AgentLogger) -> Bundle:
    """The request's documents, cleaned up, with the options that ride along."""
    if request.text is not None:
        sources = [(request.title or "", request.text, "request")]
    elif request.documents is not None:
        sources = [(d.title, d.text, "request") for d in request.documents]
    else:
        sources = [(d.title, d.text, d.source) for d in await _read_blobs(request.blobs or [], settings, log)]
    documents = [
        Document(title=title, text=text, source=source) for title, raw, source in sources if (text := normalise(raw))
    ]
    if not documents:
        raise PermanentAgentError("the request contains no text", kind="input", agent=COLLECT_DATA)
    title = request.title or documents[0].title or _title_from(documents[0].text)
    return Bundle(
        title=title,
        documents=documents,
        chars=sum(len(d.text) for d in documents),
        words=sum(count_words(d.text) for d in documents),
        options=BundleOptions(
            taxonomy=options.taxonomy or request.taxonomy,
            summary_words=options.summary_words or request.summary_words,
        ),
    )


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _title_from(text: str, words: int = 8) -> str:
    first = text.strip().split("\n", 1)[0].split()
    return " ".join(first[:words]) + (" …" if len(first) > words else "")


async def offload(bundle: Bundle, settings: Settings, log: AgentLogger) -> Bundle | BundleRef:
    """The bundle itself when small, else a reference to it in Blob storage."""
    body = json.dumps(bundle.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) <= settings.inline_bundle_bytes:
        return bundle
    if not settings.storage.configured:
        log.warning("bundle is %d bytes but no storage is configured: passing it inline", len(body))
        return bundle
    digest = hashlib.sha256(body).hexdigest()
    name = f"{digest}.json"
    try:
        await upload_blob(settings.storage, settings.bundle_container, name, body)
    except Exception as exc:
        raise storage_error(exc, f"storing the bundle {name}") from None
    _memo_put(digest, bundle, len(body))
    log.info("bundle of %d bytes stored as %s/%s", len(body), settings.bundle_container, name)
    return BundleRef(
        ref=f"{settings.bundle_container}/{name}", sha256=digest, title=bundle.title,
        documents=len(bundle.documents), chars=bundle.chars, words=bundle.words, bytes=len(body),
    )


async def resolve(value: Bundle | BundleRef, settings: Settings, agent: str) -> Bundle:
    """The bundle, loading it from Blob storage when ``value`` is a reference."""
    if isinstance(value, Bundle):
        return value
    remembered = _memo.get(value.sha256)
    if remembered is not None:
        return remembered[0]
    data = await read_blob(value.ref, settings, agent)
    if hashlib.sha256(data).hexdigest() != value.sha256:
        raise PermanentAgentError(f"bundle {value.ref} does not match its sha256", kind="input", agent=agent)
    try:
        bundle = Bundle.model_validate_json(data)
    except ValidationError:
        raise PermanentAgentError(f"bundle {value.ref} is not a valid bundle", kind="input", agent=agent) from None
    _memo_put(value.sha256, bundle, len(data))
    return bundle


async def read_blob(path: str, settings: Settings, agent: str) -> bytes:
    """The bytes of ``container/name`` in the app's storage account."""
    container, _, name = path.partition("/")
    try:
        client = shared_blob_service(settings.storage).get_blob_client(container, name)
        downloader = await client.download_blob()
        if (downloader.size or 0) > MAX_BLOB_BYTES:
            raise PermanentAgentError(f"blob {path} is larger than {MAX_BLOB_BYTES} bytes", kind="input", agent=agent)
        return await downloader.readall()
    except AgentError:
        raise
    except ResourceNotFoundError:
        raise PermanentAgentError(f"blob {path} does not exist", kind="input", agent=agent) from None
    except Exception as exc:
        raise storage_error(exc, f"reading blob {path}", agent) from None


async def _read_blobs(paths: list[str], settings: Settings, log: AgentLogger) -> list[Document]:
    gate = asyncio.Semaphore(_PARALLEL_READS)

    async def one(path: str) -> Document:
        async with gate:
            data = await read_blob(path, settings, COLLECT_DATA)
        title = path.rsplit("/", 1)[-1]
        return Document.model_construct(title=title, text=_blob_text(path, data), source=f"blob:{path}")

    documents = await asyncio.gather(*(one(p) for p in paths))
    log.info("read %d blob(s), %d bytes of text", len(documents), sum(len(d.text) for d in documents))
    return list(documents)


def _blob_text(path: str, data: bytes) -> str:
    text = data.decode("utf-8-sig", errors="replace")
    if path.lower().endswith(".json"):
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, dict) and isinstance(parsed.get("text"), str):
            return parsed["text"]
    return text


def storage_error(exc: BaseException, doing: str, agent: str = COLLECT_DATA) -> AgentError:
    """A storage failure as an agent error: missing config and 4xx are permanent, the rest transient."""
    if isinstance(exc, StorageNotConfigured):
        return PermanentAgentError(f"{doing}: {exc}", kind="config", agent=agent)
    if isinstance(exc, ServiceRequestError | ServiceResponseError | OSError | TimeoutError):
        return TransientAgentError(f"{doing}: storage unreachable ({type(exc).__name__})", kind="storage", agent=agent)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, HttpResponseError) and status and 400 <= status < 500 and status not in (408, 429):
        return PermanentAgentError(f"{doing}: storage answered {status}", kind="storage", agent=agent, status=status)
    return TransientAgentError(f"{doing}: {type(exc).__name__}", kind="storage", agent=agent, status=status)


_memo: OrderedDict[str, tuple[Bundle, int]] = OrderedDict()


def _memo_put(digest: str, bundle: Bundle, size: int) -> None:
    """Keep recently used bundles in memory (parallel agents read the same one)."""
    _memo[digest] = (bundle, size)
    _memo.move_to_end(digest)
    while sum(s for _, s in _memo.values()) > _MEMO_BYTES and len(_memo) > 1:
        _memo.popitem(last=False)
