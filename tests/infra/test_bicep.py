"""What the Bicep in infra/ promises, checked on the parsed templates (no Azure, no bicep CLI).

checkov cannot see inside registry modules (it does not download them), so the security
settings we pass to the Azure Verified Modules are asserted here: identity-only storage,
keyless Azure OpenAI and Application Insights, the data roles for the app identity and the
deploying user, identity-based app settings, Flex Consumption on Python 3.11+.
Parsing uses pycep (the parser checkov uses), so a template these tests read is one checkov
can scan.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pycep", reason="needs pycep-parser (bash .ci/iac installs it and runs these tests)")
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "0ad04412-c4d5-4796-b79c-f76d14c8d402": "Durable Task Data Contributor",
}
AVM_REFERENCE = re.compile(r"public:avm/(res|ptn|utl)/[a-z0-9-]+(/[a-z0-9-]+)+:\d+\.\d+\.\d+")


@functools.cache
def template(path: Path) -> dict[str, Any]:
    return BicepParser().parse(file_path=path)


def body(entry: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's properties, without its ``if`` / ``for`` wrappers."""
    config = entry["config"]
    while set(config) <= {"config", "condition", "loop_type"} and "config" in config:
        config = config["config"]
    return config


def modules(kind: str = "") -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in BICEP_FILES:
        for name, entry in (template(path).get("modules") or {}).items():
            if kind in entry["detail"].get("path", ""):
                yield path, name, entry


def avm_params(module_path: str) -> dict[str, Any]:
    """Parameters of the one reference to a verified module, e.g. avm/res/storage/storage-account."""
    found = [e for _, _, e in modules() if e["detail"].get("path") == module_path]
    assert len(found) == 1, f"expected one {module_path} module, found {len(found)}"
    return body(found[0])["params"]


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


def test_every_template_parses() -> None:
    assert (INFRA / "main.bicep") in BICEP_FILES
    for path in BICEP_FILES:
        assert template(path), path


def test_registry_modules_are_pinned_azure_verified_modules() -> None:
    registry = [(p, n, e) for p, n, e in modules() if e["type"] != "local"]
    assert registry
    for path, name, entry in registry:
        assert AVM_REFERENCE.fullmatch(entry["detail"]["full"]), f"{path.name}:{name}: {entry['detail']['full']}"


def test_local_modules_exist_and_receive_exactly_their_parameters() -> None:
    for path, name, entry in modules():
        if entry["type"] != "local":
            continue
        target = path.parent / entry["detail"]["path"]
        assert target.is_file(), f"{path.name}:{name}: {target} is missing"
        declared = template(target).get("parameters") or {}
        passed = set(body(entry).get("params") or {})
        required = {p for p, spec in declared.items() if spec.get("default") is None}
        assert passed <= set(declared), f"{path.name}:{name}: unknown params {passed - set(declared)}"
        assert required <= passed, f"{path.name}:{name}: missing params {required - passed}"


def test_storage_account_allows_only_entra_id_over_tls_1_2() -> None:
    params = avm_params("avm/res/storage/storage-account")
    assert params["allowSharedKeyAccess"] is False
    assert params["minimumTlsVersion"] == "TLS1_2"
    assert params["allowBlobPublicAccess"] is False
    assert params["supportsHttpsTrafficOnly"] is True


def test_openai_account_is_keyless_with_a_subdomain_and_one_parameterised_deployment() -> None:
    params = avm_params("avm/res/cognitive-services/account")
    assert params["disableLocalAuth"] is True
    assert params["kind"] == "kind" and params["customSubDomainName"]
    (deployment,) = params["deployments"]
    assert deployment["model"] == {"format": "OpenAI", "name": "modelName", "version": "modelVersion"}
    assert deployment["sku"] == {"name": "deploymentSku", "capacity": "deploymentCapacity"}
    openai = template(INFRA / "app" / "openai.bicep")["parameters"]
    assert openai["kind"]["decorators"][0]["argument"] == ["OpenAI", "AIServices"]


def test_log_analytics_and_application_insights_have_local_auth_off() -> None:
    assert avm_params("avm/res/insights/component")["disableLocalAuth"] is True
    assert avm_params("avm/res/operational-insights/workspace")["features"]["disableLocalAuth"] is True


def role_assignments() -> set[tuple[str, str, str]]:
    """(role id, principal parameter, principal type) for every role assignment loop."""
    found = set()
    for path in BICEP_FILES:
        parsed = template(path)
        for entry in (parsed.get("resources") or {}).values():
            if entry["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            loop = entry["config"].get("loop_type") or {}
            roles = parsed["variables"][loop["detail"]["array_name"]]["value"]
            properties = body(entry)["properties"]
            for role in roles:
                found.add((role, properties["principalId"], properties["principalType"]))
    return found


def test_app_identity_and_deploying_user_get_every_data_role() -> None:
    assigned = role_assignments()
    for role, label in ROLES.items():
        assert (role, "appPrincipalId", "ServicePrincipal") in assigned, f"app identity lacks {label}"
        assert (role, "userPrincipalId", "userPrincipalType") in assigned, f"deploying user lacks {label}"
    assert {role for role, _, _ in assigned} == set(ROLES)


def test_main_wires_the_app_identity_and_the_azd_principal_into_every_role_module() -> None:
    wired = [body(e)["params"] for _, _, e in modules("access") if e["type"] == "local"]
    wired += [body(e)["params"] for _, _, e in modules("rbac") if e["type"] == "local"]
    assert len(wired) == 3
    for params in wired:
        assert ref(params["appPrincipalId"]) == "identity.outputs.principalId"
        assert params["userPrincipalId"] == "principalId"
        assert params["userPrincipalType"] == "principalType"


def app_settings() -> dict[str, Any]:
    settings = dict(pairs(template(INFRA / "app" / "api.bicep")["variables"]))
    (api,) = [e for _, _, e in modules("app/api.bicep")]
    settings.update(pairs(body(api)["params"]["appSettings"]))
    return settings


def test_app_settings_use_the_identity_for_storage_monitoring_and_openai() -> None:
    settings = app_settings()
    for service in ("blob", "queue", "table"):
        assert settings[f"AzureWebJobsStorage__{service}ServiceUri"].startswith("https://${storageAccountName}.")
    assert settings["AzureWebJobsStorage__accountName"] == "storageAccountName"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_API_VERSION", "TASKHUB_NAME"):
        assert name in settings
    assert "Authentication=ManagedIdentity" in settings["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
    assert settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"] == "azureManaged"


def test_app_settings_hold_no_secrets_and_nothing_flex_consumption_rejects() -> None:
    settings = app_settings()
    forbidden = {"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION",
                 "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "AZURE_OPENAI_API_KEY"}
    assert not forbidden & set(settings)
    assert not [k for k in settings if k.upper().endswith(("_KEY", "_SECRET", "PASSWORD"))]


def test_function_app_runs_python_3_11_plus_on_flex_consumption_with_the_identity() -> None:
    assert avm_params("avm/res/web/serverfarm")["skuName"] == "FC1"
    site = avm_params("avm/res/web/site")
    assert site["kind"] == "functionapp,linux"
    assert site["httpsOnly"] is True
    assert site["siteConfig"]["minTlsVersion"] == "1.2"
    assert site["managedIdentities"] == {"userAssignedResourceIds": ["identityId"]}
    assert all(policy["allow"] is False for policy in site["basicPublishingCredentialsPolicies"])
    assert ("azd-service-name", "api") in list(pairs(site["tags"]))
    config = site["functionAppConfig"]
    assert config["runtime"]["name"] == "python"
    version = template(INFRA / "app" / "api.bicep")["parameters"][config["runtime"]["version"]]["default"]
    assert tuple(int(part) for part in version.split(".")) >= (3, 11)
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


def test_main_targets_the_subscription_and_exports_what_azd_and_the_cli_need() -> None:
    main = template(INFRA / "main.bicep")
    assert main["globals"]["scope"]["value"] == "subscription"
    outputs = set(main["outputs"])
    assert {
        "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "SERVICE_API_NAME",
        "SERVICE_API_URI", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "AZURE_STORAGE_ACCOUNT_NAME",
        "TASKHUB_NAME",
    } <= outputs


def test_parameters_file_matches_main_and_takes_the_azd_environment() -> None:
    declared = template(INFRA / "main.bicep")["parameters"]
    values = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert set(values) <= set(declared)
    assert {p for p, spec in declared.items() if spec.get("default") is None} <= set(values)
    assert values["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert values["location"]["value"] == "${AZURE_LOCATION}"
    assert values["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"
