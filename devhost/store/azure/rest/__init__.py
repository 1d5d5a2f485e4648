"""A lean client of the Table and Queue service REST APIs for the store's hot path.

The Azure SDKs spend most of a store operation's CPU in their pipelines (and a table
transaction's in ``email``-module MIME handling); this client sends the same requests from
one shared keep-alive ``aiohttp`` session: :class:`~.tables.Table` and :class:`~.queues.Queue`
over a :class:`~.http.RestSession`, authorised by an :class:`~.auth.Account`.  Entities and
message text are wire-compatible with ``azure-data-tables`` and ``azure-storage-queue``.
Creating tables and queues, deleting a hub, and blobs stay on the SDKs (cold path).
"""

from .auth import Account, ConnectionStringError
from .batch import Operation
from .entities import Entity, literal
from .errors import Conflict, NotFound, PreconditionFailed, RestError, TransactionFailed, TransportError
from .http import RestSession
from .queues import Queue, QueuedMessage
from .tables import Query, Table

__all__ = [
    # auth
    "Account",
    "Conflict",
    "ConnectionStringError",
    "Entity",
    "NotFound",
    # batch, entities
    "Operation",
    "PreconditionFailed",
    "Query",
    "Queue",
    "QueuedMessage",
    # errors
    "RestError",
    # http, queues, tables
    "RestSession",
    "Table",
    "TransactionFailed",
    "TransportError",
    "literal",
]
