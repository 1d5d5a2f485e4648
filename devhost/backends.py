"""Durable storage backends an app may configure, and the rules that differ between them.

devhost runs every backend on its own stores; what it keeps from the configured one is the
naming rules, where the storage setting lives and whether the client accepts orchestrator
names that no local app registers (the Durable Task Scheduler's work-item filtering).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """One ``storageProvider.type``: its rules as devhost applies them."""

    type: str
    title: str
    hub_pattern: re.Pattern[str]
    hub_rule: str
    storage_setting_keys: tuple[str, ...]
    accepts_unregistered_orchestrators: bool = False


_AZURE_STORAGE_HUB = re.compile(r"[A-Za-z][A-Za-z0-9]{2,44}")
_AZURE_STORAGE_RULE = "use 3-45 letters and digits, starting with a letter"

AZURE_STORAGE = Backend(
    "AzureStorage", "Azure Storage", _AZURE_STORAGE_HUB, _AZURE_STORAGE_RULE,
    ("connectionName", "connectionStringName"),
)
DURABLE_TASK_SCHEDULER = Backend(
    "azureManaged", "Durable Task Scheduler", re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"),
    "use 1-64 letters, digits, '-' or '_', starting with a letter or digit", (),
    accepts_unregistered_orchestrators=True,
)
MSSQL = Backend("mssql", "Microsoft SQL Server", re.compile(r"\S.{0,49}", re.DOTALL), "use 1-50 characters", ())
NETHERITE = Backend(
    "netherite", "Netherite", _AZURE_STORAGE_HUB, _AZURE_STORAGE_RULE, ("StorageConnectionName",)
)

BACKENDS = {b.type.lower(): b for b in (AZURE_STORAGE, DURABLE_TASK_SCHEDULER, MSSQL, NETHERITE)}


def backend_for(provider_type: str | None) -> Backend:
    """The backend named by ``storageProvider.type`` (missing: Azure Storage); ``KeyError`` if unknown."""
    return BACKENDS[(provider_type or AZURE_STORAGE.type).lower()]


def connection_string_task_hub(value: str | None) -> str | None:
    """``TaskHub=`` of a Durable Task Scheduler connection string (``Endpoint=...;TaskHub=...``)."""
    for part in (value or "").split(";"):
        key, _, setting = part.partition("=")
        if key.strip().lower() == "taskhub" and setting.strip():
            return setting.strip()
    return None


def azure_storage_hub(hub: str) -> str:
    """A name Azure Storage accepts for tables and queues standing for ``hub``.

    Names valid for Azure Storage are kept; others (a scheduler hub like ``my-hub``) become
    their letters and digits plus a short hash, so two hubs never share tables.
    """
    if _AZURE_STORAGE_HUB.fullmatch(hub):
        return hub
    core = re.sub(r"[^A-Za-z0-9]", "", hub)
    if not core[:1].isalpha():
        core = "hub" + core
    digest = hashlib.sha256(hub.encode("utf-8")).hexdigest()[:8]
    return f"{core[:36]}{digest}"
