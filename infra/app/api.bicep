// The function app: Flex Consumption (FC1), Python 3.11, the user-assigned identity for
// everything (deployment package, AzureWebJobsStorage, the app's data account, Application
// Insights, Azure OpenAI), basic publishing credentials off. Tagged azd-service-name=api so
// `azd deploy` finds it.
param name string
param planName string
param location string
param tags object

param identityId string
param identityClientId string

@description('The host\'s account (AzureWebJobsStorage): task hub, host keys, deployment package.')
param hostStorageAccountName string
param deploymentContainerName string

@description('The app\'s data account (BATON_STORAGE): documents, results, cache, bundles, event queues.')
param dataStorageAccountName string

param applicationInsightsName string

@description('Log Analytics workspace that receives the app\'s FunctionAppLogs.')
param logAnalyticsWorkspaceId string

@description('Settings the app reads (AZURE_OPENAI_*, TASKHUB_NAME, BATON_*).')
param appSettings object

param pythonVersion string = '3.11'
param maximumInstanceCount int = 100
param instanceMemoryMB int = 2048

@description('Subnet for outbound virtual network integration; empty: none.')
param subnetId string = ''

@description('Durable Task Scheduler endpoint; empty: the task hub lives in AzureWebJobsStorage.')
param durableTaskSchedulerEndpoint string = ''

var storageSuffix = environment().suffixes.storage

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Identity-based host storage: no AzureWebJobsStorage connection string, the host and the
// Durable extension take these and authenticate as the user-assigned identity.
var hostStorageSettings = {
  AzureWebJobsStorage__accountName: hostStorageAccountName
  AzureWebJobsStorage__blobServiceUri: 'https://${hostStorageAccountName}.blob.${storageSuffix}'
  AzureWebJobsStorage__queueServiceUri: 'https://${hostStorageAccountName}.queue.${storageSuffix}'
  AzureWebJobsStorage__tableServiceUri: 'https://${hostStorageAccountName}.table.${storageSuffix}'
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
}

// The app's own data (and the connection its queue triggers name): another account, so a
// request that names a blob can never reach the host's keys in azure-webjobs-secrets.
var dataStorageSettings = {
  BATON_STORAGE__blobServiceUri: 'https://${dataStorageAccountName}.blob.${storageSuffix}'
  BATON_STORAGE__queueServiceUri: 'https://${dataStorageAccountName}.queue.${storageSuffix}'
  BATON_STORAGE__credential: 'managedidentity'
  BATON_STORAGE__clientId: identityClientId
}

var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// DefaultAzureCredential in the app (Azure OpenAI, result blobs) picks this identity.
var identitySettings = {
  AZURE_CLIENT_ID: identityClientId
}

// host.json says AzureStorage; these app settings override it for the scheduler backend.
var schedulerSettings = empty(durableTaskSchedulerEndpoint) ? {} : {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}

var allSettings = union(appSettings, hostStorageSettings, dataStorageSettings, monitoringSettings, identitySettings, schedulerSettings)
var settingsList = [for setting in items(allSettings): {
  name: setting.key
  value: setting.value
}]

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // #checkov:skip=CKV_AZURE_225: Flex Consumption scales per execution; zone redundancy there needs always-ready instances and a supporting region, an opt-in cost.
    reserved: true
    zoneRedundant: false
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    // #checkov:skip=CKV_AZURE_16: callers authenticate with function keys (README, Call the deployed API); App Service Authentication would put Entra sign-in in front of every endpoint.
    // #checkov:skip=CKV_AZURE_17: client certificates would break every HTTP client the README documents (curl, the baton CLI); function keys authenticate calls.
    // #checkov:skip=CKV_AZURE_222: the API is meant to be called from the internet with function keys; VNET_ENABLED isolates the data behind it, not the API.
    // #checkov:skip=CKV_AZURE_212: Flex Consumption scales to zero by design (pay per use); always-ready instances are an opt-in cost.
    // #checkov:skip=CKV_AZURE_213: Flex Consumption scales to zero; a health check would keep pinging a stopped app, and the platform monitors the host itself.
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      appSettings: settingsList
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${hostStorageAccountName}.blob.${storageSuffix}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// No FTP or SCM basic auth: azd deploys with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
