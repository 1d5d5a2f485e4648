"""Host settings: ``host.json`` and ``local.settings.json`` as ``func start`` reads them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backends import AZURE_STORAGE, BACKENDS, Backend, backend_for, connection_string_task_hub
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
    backend: Backend = AZURE_STORAGE
    backend_connection_name: str | None = None


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


def resolve_app_setting(value: str, where: Path | str = "host.json") -> str:
    """Expand ``%NAME%`` references from the environment, as the host does in host.json.

    A name no setting defines is an error, worded as the WebJobs name resolver words it.
    """

    def lookup(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise AppLoadError(
                f"{where}: '%{match.group(1)}%' does not resolve to a value "
                "(define it in local.settings.json Values or the environment)"
            )
        return value

    return _APP_SETTING.sub(lookup, value)


def load_host_settings(app_dir: Path, hub_override: str | None = None) -> HostSettings:
    """Read ``host.json`` (missing file: defaults)."""
    path = app_dir / "host.json"
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise AppLoadError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise AppLoadError(f"{path}: expected a JSON object")
    extensions = data.get("extensions") or {}
    durable = extensions.get("durableTask") or {}
    provider = durable.get("storageProvider") or {}
    try:
        backend = backend_for(provider.get("type"))
    except KeyError:
        known = ", ".join(b.type for b in BACKENDS.values())
        raise AppLoadError(
            f"{path}: storageProvider.type '{provider.get('type')}' is not a Durable backend ({known})"
        ) from None
    connection_name = _backend_connection_name(backend, provider)
    hub = hub_override or resolve_app_setting(str(durable.get("hubName") or ""), path) or (
        (connection_string_task_hub(os.environ.get(connection_name or "")) if backend is not AZURE_STORAGE else None)
        or os.environ.get("WEBSITE_SITE_NAME") or DEFAULT_HUB
    )
    if not backend.hub_pattern.fullmatch(hub):
        raise AppLoadError(
            f"{path}: task hub name '{hub}' is invalid for the {backend.title} backend: {backend.hub_rule}"
        )
    storage = next((str(provider[k]) for k in backend.storage_setting_keys if provider.get(k)), "AzureWebJobsStorage")
    return HostSettings(
        hub_name=hub,
        route_prefix=str((extensions.get("http") or {}).get("routePrefix", "api")).strip("/"),
        max_concurrent_activities=_whole(durable, "maxConcurrentActivityFunctions", 10, path),
        max_concurrent_orchestrations=_whole(durable, "maxConcurrentOrchestratorFunctions", 10, path),
        storage_connection_name=storage,
        partition_count=_whole(provider, "partitionCount", 4, path),
        store_inputs_in_history=bool(durable.get("storeInputsInOrchestrationHistory", False)),
        backend=backend,
        backend_connection_name=connection_name,
    )


def _whole(section: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise AppLoadError(f"{path}: {key} must be a positive whole number, not {json.dumps(value)}")
    return int(value) or default


def _backend_connection_name(backend: Backend, provider: dict[str, Any]) -> str | None:
    """The setting that holds the configured backend's own connection string."""
    for key in ("connectionStringName", "connectionName", "StorageConnectionName"):
        if provider.get(key):
            return str(provider[key])
    return "AzureWebJobsStorage" if backend in (AZURE_STORAGE, BACKENDS["netherite"]) else None
