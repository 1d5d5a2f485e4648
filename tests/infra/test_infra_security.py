"""Security properties asserted on the resources themselves (not on what a module is passed):
keys and local auth off everywhere, TLS 1.2, private containers, every role assignment's
principal, role and scope (least privilege per account), and no secret in any output or app
setting."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("pycep", reason="needs pycep-parser (bash .ci/iac installs it and runs these tests)")
from bicep_kit import BICEP_FILES, ROLES, app, module_params, pairs, ref, resources, role_assignments, template

APP_PRINCIPAL = ("appPrincipalId", "ServicePrincipal")
USER_PRINCIPAL = ("userPrincipalId", "userPrincipalType")
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|SAS|CONNECTION_?STRING)$", re.IGNORECASE)
# Application Insights' connection string is an ingestion address, not a credential: the
# component has local auth off, so it accepts only Entra ID tokens. The scheduler's holds an
# endpoint and Authentication=ManagedIdentity (asserted below).
NOT_A_SECRET = {"APPLICATIONINSIGHTS_CONNECTION_STRING", "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}


def test_every_storage_account_takes_only_entra_id_over_tls_1_2() -> None:
    accounts = resources("Microsoft.Storage/storageAccounts")
    assert accounts
    for account in accounts:
        props = account.properties
        assert props["allowSharedKeyAccess"] is False, account.symbol
        assert props["defaultToOAuthAuthentication"] is True
        assert props["allowBlobPublicAccess"] is False
        assert props["allowCrossTenantReplication"] is False
        assert props["minimumTlsVersion"] == "TLS1_2"
        assert props["supportsHttpsTrafficOnly"] is True
        assert props["networkAcls"]["bypass"] == "AzureServices"


def test_every_blob_container_is_private() -> None:
    containers = resources("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert containers
    assert all(c.properties == {"publicAccess": "None"} for c in containers)


def test_every_openai_account_is_keyless_with_a_subdomain() -> None:
    (account,) = resources("Microsoft.CognitiveServices/accounts")
    assert account.properties["disableLocalAuth"] is True
    assert account.properties["customSubDomainName"] == "name"
    assert account.body["kind"] == "kind"
    assert app("openai")["parameters"]["kind"]["decorators"][0]["argument"] == ["OpenAI", "AIServices"]
    (deployment,) = resources("Microsoft.CognitiveServices/accounts/deployments")
    assert deployment.properties["model"] == {"format": "OpenAI", "name": "modelName", "version": "modelVersion"}
    assert deployment.body["sku"] == {"name": "deploymentSku", "capacity": "deploymentCapacity"}


def test_application_insights_and_log_analytics_have_local_auth_off() -> None:
    (component,) = resources("Microsoft.Insights/components")
    assert component.properties["DisableLocalAuth"] is True
    assert ref(component.properties["WorkspaceResourceId"]) == "logAnalytics.id"
    (workspace,) = resources("Microsoft.OperationalInsights/workspaces")
    assert workspace.properties["features"]["disableLocalAuth"] is True


def assigned(file: str, scope: str) -> dict[tuple[str, str], set[str]]:
    """(principal, principal type) -> role names assigned in ``file`` on ``scope``."""
    found: dict[tuple[str, str], set[str]] = {}
    for item in role_assignments():
        if item.file == file and item.scope == scope:
            found.setdefault((item.principal, item.principal_type), set()).add(ROLES[item.role])
    return found


def test_every_role_assignment_uses_a_known_built_in_role() -> None:
    everything = role_assignments()
    assert everything
    unknown = [a for a in everything if a.role not in ROLES]
    assert not unknown, unknown
    scopes = {(a.file, a.scope) for a in everything}
    assert scopes == {
        ("rbac.bicep", "hostStorage"), ("rbac.bicep", "dataStorage"), ("rbac.bicep", "applicationInsights"),
        ("rbac.bicep", "scheduler"), ("openai-access.bicep", "account"), ("events.bicep", "queue"),
        ("events.bicep", "deadLetterContainer"),
    }


def test_host_account_gives_the_app_only_what_the_functions_host_and_durable_need() -> None:
    assert assigned("rbac.bicep", "hostStorage") == {
        APP_PRINCIPAL: {"Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor"},
    }
    # Queues and tables on the host account are the Durable Azure Storage backend's; the
    # scheduler replaces it, and then they are not granted.
    not_with_scheduler = {"operator": {"type": "not", "operands": {"bool_value": "withScheduler"}}}
    for item in role_assignments():
        if item.scope == "hostStorage":
            owner = ROLES[item.role] == "Storage Blob Data Owner"
            assert item.condition == (None if owner else not_with_scheduler), item
    # Nobody else gets anything on the account that holds the host's keys.
    assert not [a for a in role_assignments() if a.scope == "hostStorage" and a.principal != "appPrincipalId"]


def test_data_account_gives_data_roles_only_not_owner() -> None:
    expected = {"Storage Blob Data Contributor", "Storage Queue Data Contributor"}
    assert assigned("rbac.bicep", "dataStorage") == {APP_PRINCIPAL: expected, USER_PRINCIPAL: expected}


def test_monitoring_scheduler_and_openai_roles_for_the_app_and_the_deploying_user() -> None:
    metrics = {"Monitoring Metrics Publisher"}
    assert assigned("rbac.bicep", "applicationInsights") == {APP_PRINCIPAL: metrics, USER_PRINCIPAL: metrics}
    scheduler = {"Durable Task Data Contributor"}
    assert assigned("rbac.bicep", "scheduler") == {APP_PRINCIPAL: scheduler, USER_PRINCIPAL: scheduler}
    openai = {"Cognitive Services OpenAI User"}
    assert assigned("openai-access.bicep", "account") == {APP_PRINCIPAL: openai, USER_PRINCIPAL: openai}


def test_event_grid_may_only_send_to_its_one_queue_and_dead_letter_into_one_container() -> None:
    topic = ("topic.identity.principalId", "ServicePrincipal")
    assert assigned("events.bicep", "queue") == {topic: {"Storage Queue Data Message Sender"}}
    assert assigned("events.bicep", "deadLetterContainer") == {topic: {"Storage Blob Data Contributor"}}
    scopes = {r.symbol: r for r in resources(declared=False) if r.path.name == "events.bicep" and r.existing}
    assert scopes["queue"].type == "Microsoft.Storage/storageAccounts/queueServices/queues"
    assert scopes["queue"].body["name"] == "queueName" and scopes["queue"].body["parent"] == "queueService"
    container = scopes["deadLetterContainer"]
    assert container.type == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert container.body["name"] == "deadLetterContainerName" and container.body["parent"] == "blobService"


def test_user_assignments_exist_only_when_azd_passes_a_principal() -> None:
    users = [a for a in role_assignments() if a.principal == "userPrincipalId"]
    assert len(users) == 5
    for item in users:
        assert "withUser" in str(item.condition) or "'item_to_test': 'userPrincipalId'" in str(item.condition), item


def test_no_template_reads_keys_or_declares_secret_outputs() -> None:
    for path in BICEP_FILES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\blist[A-Z]\w*\(", text), f"{path.name} calls a list* function (keys, SAS)"
        assert "@secure()" not in text.split("output ", 1)[-1], f"{path.name}: secure output"
        for name, output in (template(path).get("outputs") or {}).items():
            assert not SECRET_NAME.search(name), f"{path.name}: output {name}"
            assert "ConnectionString" not in str(output), f"{path.name}: output {name} exposes a connection string"


def app_settings() -> dict[str, object]:
    """Every app setting the function app gets: api.bicep's own and those main.bicep passes."""
    settings = dict(pairs(app("api")["variables"]))
    settings.update(pairs(module_params("api")["appSettings"]))
    return settings


def test_app_settings_hold_no_secrets_and_nothing_flex_consumption_rejects() -> None:
    settings = app_settings()
    forbidden = {"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION",
                 "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "AZURE_OPENAI_API_KEY",
                 "BATON_STORAGE"}
    assert not forbidden & set(settings)
    names = [k for k in settings if k.isupper() or "__" in k]
    assert not [k for k in names if SECRET_NAME.search(k) and k not in NOT_A_SECRET]
    assert "AccountKey" not in str(settings) and "SharedAccessSignature" not in str(settings)
    # Every storage and scheduler connection authenticates as the managed identity.
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["BATON_STORAGE__credential"] == "managedidentity"
    assert "Authentication=ManagedIdentity" in settings["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
