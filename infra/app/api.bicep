// The function app: Flex Consumption (FC1), Python 3.11, the user-assigned identity for
// everything (deployment package, AzureWebJobsStorage, Application Insights, Azure OpenAI),
// basic publishing credentials off. Tagged azd-service-name=api so `azd deploy` finds it.
param name string
param planName string
param location string
param tags object

param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

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
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__blobServiceUri: 'https://${storageAccountName}.blob.${storageSuffix}'
  AzureWebJobsStorage__queueServiceUri: 'https://${storageAccountName}.queue.${storageSuffix}'
  AzureWebJobsStorage__tableServiceUri: 'https://${storageAccountName}.table.${storageSuffix}'
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
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

module plan 'br/public:avm/res/web/serverfarm:0.5.0' = {
  name: 'flex-consumption-plan'
  params: {
    name: planName
    location: location
    tags: tags
    kind: 'functionapp'
    skuName: 'FC1'
    reserved: true
    zoneRedundant: false
  }
}

module site 'br/public:avm/res/web/site:0.19.4' = {
  name: 'function-app'
  params: {
    name: name
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    kind: 'functionapp,linux'
    serverFarmResourceId: plan.outputs.resourceId
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetResourceId: empty(subnetId) ? null : subnetId
    basicPublishingCredentialsPolicies: [
      {
        name: 'ftp'
        allow: false
      }
      {
        name: 'scm'
        allow: false
      }
    ]
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${storageAccountName}.blob.${storageSuffix}/${deploymentContainerName}'
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
    configs: [
      {
        name: 'appsettings'
        properties: union(appSettings, hostStorageSettings, monitoringSettings, identitySettings, schedulerSettings)
      }
    ]
  }
}

output name string = site.outputs.name
output uri string = 'https://${site.outputs.defaultHostname}'
