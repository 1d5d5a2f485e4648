"""Host settings: ``host.json`` and ``local.settings.json`` as ``func start`` reads them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AppLoadError

DEFAULT_HUB = "TestHubName"
_APP_SETTING = re.compile(r"%([^%]+)%")


@dataclass(frozen=True)
class HostSettings:
    """The parts of ``host.json`` devhost honours."""

    hub_name: str = DEFAULT_HUB
    route_prefix: str = "api"
    max_concurrent_activities: int = 10
    max_concurrent_orchestrations: int = 10
    storage_connection_name: str = "AzureWebJobsStorage"
    partition_count: int = 4
    store_inputs_in_history: bool = False


def load_local_settings(app_dir: Path, *, override: bool = False) -> dict[str, str]:
    """Copy ``local.settings.json`` ``Values`` into ``os.environ``; returns what was read.

    Variables already set in the environment win unless ``override`` (so a shell or a test
    can point the app elsewhere without editing the file).
    """
    path = app_dir / "local.settings.json"
    if not path.is_file():
        return {}
    try:
        values = json.loads(path.read_text(encoding="utf-8")).get("Values") or {}
    except (ValueError, AttributeError) as exc:
        raise AppLoadError(f"{path}: not valid JSON: {exc}") from exc
    for key, value in values.items():
        if override or key not in os.environ:
            os.environ[key] = str(value)
    return {k: str(v) for k, v in values.items()}


def resolve_app_setting(value: str) -> str:
    """Expand ``%NAME%`` references from the environment, as the host does in host.json."""
    return _APP_SETTING.sub(lambda m: os.environ.get(m.group(1), ""), value)


def load_host_settings(app_dir: Path, hub_override: str | None = None) -> HostSettings:
    """Read ``host.json`` (missing file: defaults)."""
    path = app_dir / "host.json"
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise AppLoadError(f"{path}: not valid JSON: {exc}") from exc
    extensions = data.get("extensions") or {}
    durable = extensions.get("durableTask") or {}
    provider = durable.get("storageProvider") or {}
    hub = hub_override or resolve_app_setting(str(durable.get("hubName") or "")) or (
        os.environ.get("WEBSITE_SITE_NAME") or DEFAULT_HUB
    )
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,49}", hub):
        raise AppLoadError(
            f"{path}: task hub name '{hub}' is invalid: use 3-50 letters and digits, starting with a letter"
        )
    return HostSettings(
        hub_name=hub,
        route_prefix=str((extensions.get("http") or {}).get("routePrefix", "api")).strip("/"),
        max_concurrent_activities=int(durable.get("maxConcurrentActivityFunctions") or 10),
        max_concurrent_orchestrations=int(durable.get("maxConcurrentOrchestratorFunctions") or 10),
        storage_connection_name=str(
            provider.get("connectionName") or provider.get("connectionStringName") or "AzureWebJobsStorage"
        ),
        partition_count=int(provider.get("partitionCount") or 4),
        store_inputs_in_history=bool(durable.get("storeInputsInOrchestrationHistory", False)),
    )
