"""infra/ as written: every template parses, every resource is declared in our own Bicep (no
registry modules, so checkov sees it), and every resource type and API version comes from the
one pinned list, infra/api-versions.json. Nothing here compiles or deploys Bicep (no bicep CLI
is reachable in CI), so these checks and checkov (bash .ci/iac) are what stand between a
template and a broken or unsafe deployment.
"""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("pycep", reason="needs pycep-parser (bash .ci/iac installs it and runs these tests)")
from bicep_kit import API_VERSIONS, BICEP_FILES, INFRA, body, main, modules, pairs, ref, resources, template

API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
REGISTRY_MODULE = re.compile(r"^\s*module\s+\w+\s+'(br|ts)[:/]", re.MULTILINE)


def test_every_template_parses() -> None:
    assert (INFRA / "main.bicep") in BICEP_FILES
    assert len(BICEP_FILES) >= 10
    for path in BICEP_FILES:
        parsed = template(path)
        assert parsed.get("resources") or parsed.get("modules"), f"{path.name} declares nothing"


def test_no_registry_modules_so_the_scanner_sees_every_resource() -> None:
    for path in BICEP_FILES:
        assert not REGISTRY_MODULE.search(path.read_text(encoding="utf-8")), path.name
    for path, name, entry in modules():
        assert entry["type"] == "local", f"{path.name}:{name} is a {entry['type']} module"


def test_local_modules_exist_and_receive_exactly_their_parameters() -> None:
    for path, name, entry in modules():
        target = path.parent / entry["detail"]["path"]
        assert target.is_file(), f"{path.name}:{name}: {target} is missing"
        declared = template(target).get("parameters") or {}
        passed = set(body(entry).get("params") or {})
        required = {p for p, spec in declared.items() if spec.get("default") is None}
        assert passed <= set(declared), f"{path.name}:{name}: unknown params {passed - set(declared)}"
        assert required <= passed, f"{path.name}:{name}: missing params {required - passed}"


def test_every_resource_type_and_api_version_comes_from_the_pinned_list() -> None:
    used = set()
    for res in resources(declared=False):
        assert res.type in API_VERSIONS, f"{res.path.name}:{res.symbol}: {res.type} is not in api-versions.json"
        assert res.api_version == API_VERSIONS[res.type], (
            f"{res.path.name}:{res.symbol}: {res.type}@{res.api_version}, pinned {API_VERSIONS[res.type]}"
        )
        used.add(res.type)
    assert set(API_VERSIONS) == used, f"pinned but unused: {set(API_VERSIONS) - used}"


def test_pinned_api_versions_are_dated_and_ga_where_a_ga_version_exists() -> None:
    for kind, version in API_VERSIONS.items():
        assert API_VERSION.fullmatch(version), f"{kind}: {version}"
    previews = {kind for kind, version in API_VERSIONS.items() if version.endswith("-preview")}
    # Diagnostic settings have only preview versions since 2021-05-01-preview, the current one.
    assert previews == {"Microsoft.Insights/diagnosticSettings"}


def test_the_pinned_list_is_sorted_and_has_one_entry_per_type() -> None:
    raw = json.loads((INFRA / "api-versions.json").read_text(encoding="utf-8"))
    keys = [key for key in raw if not key.startswith("$")]
    assert keys == sorted(keys)


def test_main_wires_the_app_identity_and_the_azd_principal_into_every_role_module() -> None:
    wired = {name: body(entry)["params"] for _, name, entry in modules() if "rbac" in name or "Access" in name}
    assert set(wired) == {"rbac", "openAiAccess", "existingOpenAiAccess"}
    for params in wired.values():
        assert ref(params["appPrincipalId"]) == "identity.outputs.principalId"
        assert params["userPrincipalId"] == "principalId"
        assert params["userPrincipalType"] == "principalType"


def test_main_targets_the_subscription_and_exports_what_azd_and_the_cli_need() -> None:
    parsed = main()
    assert parsed["globals"]["scope"]["value"] == "subscription"
    outputs = set(parsed["outputs"])
    assert {
        "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "SERVICE_API_NAME",
        "SERVICE_API_URI", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "AZURE_STORAGE_ACCOUNT_NAME",
        "AZURE_STORAGE_BLOB_ENDPOINT", "AZURE_STORAGE_QUEUE_ENDPOINT", "AZURE_HOST_STORAGE_ACCOUNT_NAME",
        "TASKHUB_NAME",
    } <= outputs
    # The storage outputs users work with (upload to inbox, read results) name the data account.
    assert ref(parsed["outputs"]["AZURE_STORAGE_ACCOUNT_NAME"]["value"]) == "dataStorage.outputs.name"
    assert ref(parsed["outputs"]["AZURE_HOST_STORAGE_ACCOUNT_NAME"]["value"]) == "storage.outputs.name"


def test_parameters_file_matches_main_and_takes_the_azd_environment() -> None:
    declared = main()["parameters"]
    values = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert set(values) <= set(declared)
    assert {p for p, spec in declared.items() if spec.get("default") is None} <= set(values)
    assert values["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert values["location"]["value"] == "${AZURE_LOCATION}"
    assert values["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"


def test_function_app_runs_python_3_11_plus_on_flex_consumption_with_the_identity() -> None:
    (plan,) = resources("Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan.properties["reserved"] is True
    (site,) = resources("Microsoft.Web/sites")
    assert site.body["kind"] == "functionapp,linux"
    assert ref(site.properties["serverFarmId"]) == "plan.id"
    assert site.body["identity"]["type"] == "UserAssigned"
    assert list(site.body["identity"]["userAssignedIdentities"]) == ["'${identityId}'"]
    assert site.properties["httpsOnly"] is True
    config = site.properties["siteConfig"]
    assert config["minTlsVersion"] == "1.2" and config["ftpsState"] == "Disabled"
    assert config["remoteDebuggingEnabled"] is False
    assert ("azd-service-name", "api") in list(pairs(site.body["tags"]))
    app_config = site.properties["functionAppConfig"]
    assert app_config["runtime"]["name"] == "python"
    version = template(site.path)["parameters"][app_config["runtime"]["version"]]["default"]
    assert tuple(int(part) for part in version.split(".")) >= (3, 11)
    storage = app_config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}
    policies = {p.body["name"]: p for p in resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies")}
    assert set(policies) == {"ftp", "scm"}
    assert all(p.body["parent"] == "site" and p.properties == {"allow": False} for p in policies.values())

