"""The app's data account (issue 10), blob events through Event Grid to the blob trigger's webhook (issue 14),
diagnostic settings and the private network option, read from the parsed templates."""

from __future__ import annotations

import pytest

pytest.importorskip("pycep", reason="needs pycep-parser (bash .ci/iac installs it and runs these tests)")
from bicep_kit import app, body, main, module_params, modules, pairs, ref, resources, variable

DATA_CONTAINERS = ["inbox", "workflow-results", "baton-cache", "baton-bundles", "inbox-deadletter"]
DATA_QUEUES = ["workflow-requests", "workflow-requests-poison", "workflow-events"]


def test_the_app_data_lives_in_its_own_account_apart_from_the_host_keys() -> None:
    host, data = module_params("storage"), module_params("dataStorage")
    assert main()["modules"]["storage"]["detail"]["path"] == main()["modules"]["dataStorage"]["detail"]["path"]
    assert host["name"] != data["name"], "the host and the data must be two accounts"
    assert variable(main(), host["containerNames"][0]) == "app-package" and len(host["containerNames"]) == 1
    assert "queueNames" not in host
    assert variable(main(), data["containerNames"]) == DATA_CONTAINERS
    assert variable(main(), data["queueNames"]) == DATA_QUEUES
    # The containers and queues are real resources of the account the module creates.
    storage = app("storage")["resources"]
    assert storage["containers"]["config"]["loop_type"]["detail"]["array_name"] == "containerNames"
    assert body(storage["containers"])["parent"] == "blobService"
    assert storage["queues"]["config"]["loop_type"]["detail"]["array_name"] == "queueNames"
    assert body(storage["queues"])["parent"] == "queueService"


def app_settings() -> dict[str, object]:
    settings = dict(pairs(app("api")["variables"]))
    settings.update(pairs(module_params("api")["appSettings"]))
    return settings


def test_app_settings_point_the_host_at_its_account_and_the_app_at_the_data_account() -> None:
    settings = app_settings()
    for service in ("blob", "queue", "table"):
        assert settings[f"AzureWebJobsStorage__{service}ServiceUri"].startswith("https://${hostStorageAccountName}.")
    assert settings["AzureWebJobsStorage__accountName"] == "hostStorageAccountName"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["BATON_STORAGE__blobServiceUri"] == "https://${dataStorageAccountName}.blob.${storageSuffix}"
    assert settings["BATON_STORAGE__queueServiceUri"] == "https://${dataStorageAccountName}.queue.${storageSuffix}"
    assert settings["BATON_STORAGE__credential"] == "managedidentity"
    assert settings["BATON_STORAGE__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    assert settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"] == "azureManaged"
    parsed = main()
    assert variable(parsed, settings["BATON_INPUT_CONTAINERS"]) == "inbox"
    assert variable(parsed, settings["BATON_RESULTS_CONTAINER"]) == "workflow-results"
    assert variable(parsed, settings["BATON_CACHE_CONTAINER"]) == "baton-cache"
    assert variable(parsed, settings["BATON_BUNDLE_CONTAINER"]) == "baton-bundles"
    assert settings["BATON_EVENTS_QUEUE"] == "workflow-events"  # turns the lifecycle publisher on
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_API_VERSION", "TASKHUB_NAME"):
        assert name in settings
    api = module_params("api")
    assert ref(api["hostStorageAccountName"]) == "storage.outputs.name"
    assert ref(api["dataStorageAccountName"]) == "dataStorage.outputs.name"
    # The deployment package stays in the host's account.
    (site,) = resources("Microsoft.Web/sites")
    package = site.properties["functionAppConfig"]["deployment"]["storage"]["value"]
    assert package.startswith("https://${hostStorageAccountName}.blob.")


def test_every_app_setting_reaches_the_site() -> None:
    (site,) = resources("Microsoft.Web/sites")
    assert site.properties["siteConfig"]["appSettings"] == "settingsList"
    loop = app("api")["variables"]["settingsList"]["value"]["loop_type"]
    assert loop == {"type": "object", "detail": {"item_name": "setting", "object_name": "allSettings"}}
    merged = app("api")["variables"]["allSettings"]["value"]["function"]
    assert merged["type"] == "union"
    assert set(merged["parameters"].values()) >= {
        "appSettings", "hostStorageSettings", "dataStorageSettings", "monitoringSettings", "identitySettings",
        "schedulerSettings",
    }


def test_the_system_topic_is_in_bicep_and_its_webhook_subscription_is_left_to_the_postdeploy_hook() -> None:
    (topic,) = resources("Microsoft.EventGrid/systemTopics")
    assert topic.body["identity"] == {"type": "SystemAssigned"}  # dead-letters with its own identity
    assert ref(topic.properties["source"]) == "account.id"
    assert topic.properties["topicType"] == "Microsoft.Storage.StorageAccounts"
    account = app("events")["resources"]["account"]
    assert account["existing"] and body(account)["name"] == "dataStorageAccountName"
    # The webhook URL holds the blobs_extension key, which exists only after deploy.
    assert resources("Microsoft.EventGrid/systemTopics/eventSubscriptions") == []
    assert "queueName" not in app("events").get("parameters", {})

    events = module_params("events")
    assert ref(events["dataStorageAccountName"]) == "dataStorage.outputs.name"
    assert variable(main(), events["containerName"]) == "inbox"
    assert variable(main(), events["deadLetterContainerName"]) == "inbox-deadletter"
    assert "inbox-deadletter" in variable(main(), module_params("dataStorage")["containerNames"])
    outputs = main()["outputs"]
    for name in ("AZURE_EVENT_GRID_SYSTEM_TOPIC", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME",
                 "SERVICE_API_URI", "AZURE_STORAGE_ACCOUNT_NAME"):  # what the hook reads from azd's environment
        assert name in outputs, name


DIAGNOSED = {
    "Microsoft.Web/sites", "Microsoft.Storage/storageAccounts/blobServices",
    "Microsoft.Storage/storageAccounts/queueServices", "Microsoft.Storage/storageAccounts/tableServices",
    "Microsoft.CognitiveServices/accounts", "Microsoft.EventGrid/systemTopics",
}


def test_diagnostic_settings_send_resource_logs_to_log_analytics() -> None:
    scoped = set()
    for setting in resources("Microsoft.Insights/diagnosticSettings"):
        target = {r.symbol: r.type for r in resources(declared=False) if r.path == setting.path}[setting.body["scope"]]
        scoped.add(target)
        assert setting.properties["workspaceId"] == "logAnalyticsWorkspaceId"
        logs = setting.properties["logs"]
        assert logs and all(log["enabled"] is True for log in logs)
    assert scoped == DIAGNOSED
    for _, name, entry in modules():
        params = body(entry)["params"]
        if "logAnalyticsWorkspaceId" in params:
            assert ref(params["logAnalyticsWorkspaceId"]) == "monitoring.outputs.logAnalyticsId", name
    wanting = {"storage", "dataStorage", "events", "openAi", "api"}
    assert wanting <= {name for _, name, e in modules() if "logAnalyticsWorkspaceId" in body(e)["params"]}


def test_vnet_option_covers_both_accounts_and_openai() -> None:
    assert module_params("storage")["privateServices"] == ["blob", "queue", "table"]
    assert module_params("dataStorage")["privateServices"] == ["blob", "queue"]
    for name in ("storage", "dataStorage", "openAi"):
        params = module_params(name)
        assert params["vnetEnabled"] == "vnetEnabled"
        assert ref(params["privateEndpointSubnetId"]["operator"]["operands"]["true_value"]) == (
            "network.outputs.privateEndpointSubnetId"
        )
    endpoints = {(r.path.name, r.symbol): r for r in resources("Microsoft.Network/privateEndpoints")}
    assert set(endpoints) == {("storage.bicep", "privateEndpoints"), ("openai.bicep", "privateEndpoint")}
    assert all(r.condition == "vnetEnabled" for r in endpoints.values())
    zones = variable(app("network"), "zoneNames")
    assert [z.split(".")[1] for z in zones] == ["blob", "queue", "table", "openai", "cognitiveservices"]
    # Event Grid keeps dead-lettering with VNET_ENABLED: the data account admits trusted services only.
    assert module_params("dataStorage")["allowTrustedServices"] is True
    assert "allowTrustedServices" not in module_params("storage")
