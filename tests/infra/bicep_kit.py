"""Reading infra/ the way checkov does: every template parsed with pycep (checkov's Bicep parser).

pycep gives each template as nested dicts. Identifiers and string literals both come out as
plain strings (``location`` and ``'location'`` look alike), property access as
``{"operator": {"type": "property_accessor", ...}}``; ``ref`` turns that back into ``a.b.c``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
APP = INFRA / "app"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
API_VERSIONS: dict[str, str] = {
    key: value
    for key, value in json.loads((INFRA / "api-versions.json").read_text(encoding="utf-8")).items()
    if not key.startswith("$")
}

# Built-in role definition ids, checked against Microsoft's "Azure built-in roles" page.
ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a": "Storage Queue Data Message Sender",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "0ad04412-c4d5-4796-b79c-f76d14c8d402": "Durable Task Data Contributor",
}
ROLE_IDS = {name: role_id for role_id, name in ROLES.items()}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@functools.cache
def template(path: Path) -> dict[str, Any]:
    return BicepParser().parse(file_path=path)


def app(name: str) -> dict[str, Any]:
    """The parsed template infra/app/<name>.bicep."""
    return template(APP / f"{name}.bicep")


def main() -> dict[str, Any]:
    return template(INFRA / "main.bicep")


def body(entry: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's properties, without its ``if`` / ``for`` wrappers."""
    config = entry["config"]
    while set(config) <= {"config", "condition", "loop_type"} and "config" in config:
        config = config["config"]
    return config


def ref(node: Any) -> Any:
    """``a.b.c`` for pycep's nested property accessors; anything else unchanged."""
    if isinstance(node, dict) and (node.get("operator") or {}).get("type") == "property_accessor":
        operands = node["operator"]["operands"]
        return f"{ref(operands['operand_1'])}.{ref(operands['operand_2'])}"
    return node


def pairs(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of every object literal inside ``node``, however deeply nested."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key).strip("'"), value
            yield from pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from pairs(item)


def variable(parsed: dict[str, Any], name: str) -> Any:
    """A template variable's value, with variables it lists by name resolved one level."""
    value = parsed["variables"][name]["value"]
    if isinstance(value, list):
        return [parsed["variables"][v]["value"] if v in parsed["variables"] else v for v in value]
    return value


@dataclass(frozen=True)
class Resource:
    path: Path
    symbol: str
    type: str
    api_version: str
    existing: bool
    entry: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        return body(self.entry)

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.get("properties") or {}

    @property
    def condition(self) -> Any:
        return self.entry["config"].get("condition")

    @property
    def loop_array(self) -> str | None:
        loop = self.entry["config"].get("loop_type") or {}
        return (loop.get("detail") or {}).get("array_name")


def resources(kind: str = "", *, declared: bool = True) -> list[Resource]:
    """Resources of type ``kind`` (all when empty) in every template; ``declared``: no ``existing``."""
    found = []
    for path in BICEP_FILES:
        for symbol, entry in (template(path).get("resources") or {}).items():
            if kind and entry["type"] != kind:
                continue
            if declared and entry["existing"]:
                continue
            found.append(Resource(path, symbol, entry["type"], entry["api_version"], entry["existing"], entry))
    return found


def modules() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in BICEP_FILES:
        for name, entry in (template(path).get("modules") or {}).items():
            yield path, name, entry


def module_params(name: str) -> dict[str, Any]:
    """Parameters main.bicep passes to its module ``name``."""
    return body(main()["modules"][name])["params"]


@dataclass(frozen=True)
class RoleAssignment:
    file: str
    scope: str
    principal: str
    principal_type: str
    role: str
    condition: Any


def role_assignments() -> list[RoleAssignment]:
    """Every role assignment in infra/, one per role (loops over role lists expanded)."""
    found = []
    for res in resources("Microsoft.Authorization/roleAssignments"):
        parsed = template(res.path)
        props = res.properties
        role_expr = props["roleDefinitionId"]["function"]
        assert role_expr["type"] == "subscription_resource_id", f"{res.symbol}: not a built-in role reference"
        role_name = role_expr["parameters"]["resource_name_1"]
        if res.loop_array:
            assert role_name == res.entry["config"]["loop_type"]["detail"]["item_name"], res.symbol
            roles = variable(parsed, res.loop_array)
        else:
            roles = [parsed["variables"][role_name]["value"] if role_name in parsed["variables"] else role_name]
        for role in roles:
            assert GUID.fullmatch(role), f"{res.path.name}:{res.symbol}: {role!r} is not a role definition id"
            found.append(
                RoleAssignment(
                    res.path.name, res.body["scope"], ref(props["principalId"]), props["principalType"], role,
                    res.condition,
                )
            )
    return found
