// baton on Azure: a Python Durable Functions app on the Flex Consumption plan, reaching
// Storage, Application Insights, Azure OpenAI and (optionally) the Durable Task Scheduler
// with one user-assigned managed identity. No keys or connection strings with secrets.
//
// `azd up` deploys this at subscription scope: it creates the resource group, then the
// local modules in ./app, each owning one concern and declaring its resources directly
// (no registry modules), so checkov and tests/infra see every resource. Resource types
// and API versions: api-versions.json.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region for every resource (must offer Flex Consumption).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying principal (azd fills it). It gets the same data roles as the app, for local runs against the cloud resources. Empty: no user role assignments.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId: User for a person, ServicePrincipal for a CI identity.')
param principalType string = 'User'

@description('Resource group name; empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Durable Functions task hub name (3-50 letters and digits, starting with a letter).')
param taskHubName string = 'batonhub'

// Azure OpenAI ---------------------------------------------------------------------------
@allowed([
  'OpenAI'
  'AIServices'
])
@description('Kind of the Azure OpenAI account created here.')
param openAiKind string = 'OpenAI'

@description('Region of the Azure OpenAI account; empty: same as location. Pick one that offers the model.')
param openAiLocation string = ''

@description('Model deployed to the new account.')
param openAiModelName string = 'gpt-4.1-mini'

@description('Version of that model.')
param openAiModelVersion string = '2025-04-14'

@description('Deployment SKU: GlobalStandard, Standard, DataZoneStandard, ...')
param openAiDeploymentSku string = 'GlobalStandard'

@minValue(1)
@description('Deployment capacity in thousands of tokens per minute.')
param openAiDeploymentCapacity int = 30

@description('Data-plane API version the app uses (AZURE_OPENAI_API_VERSION).')
param openAiApiVersion string = '2024-10-21'

@description('Use an existing Azure OpenAI endpoint (https://<name>.openai.azure.com/) instead of creating an account.')
param existingOpenAiEndpoint string = ''

@description('Deployment name on the existing endpoint; required with existingOpenAiEndpoint.')
param existingOpenAiDeployment string = ''

@description('Resource id of the existing account; when set, the app identity (and principalId) get Cognitive Services OpenAI User on it.')
param existingOpenAiResourceId string = ''

// Options --------------------------------------------------------------------------------
@description('Run the task hub on the Durable Task Scheduler (Consumption SKU) instead of Azure Storage.')
param useDurableTaskScheduler bool = false

@description('Put the app in a virtual network; Storage and Azure OpenAI are reached through private endpoints only.')
param vnetEnabled bool = false

@description('Maximum Flex Consumption instances.')
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Memory per Flex Consumption instance (MB).')
param instanceMemoryMB int = 2048

@description('Extra app settings (for example BATON_* tuning); they override the defaults.')
param extraAppSettings object = {}

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var useExistingOpenAi = !empty(existingOpenAiEndpoint)
var functionAppName = '${abbrs.functionApp}api-${resourceToken}'
var deploymentContainerName = 'app-package'

// The app's data account (BATON_STORAGE): a request may name blobs only in the input
// container (BATON_INPUT_CONTAINERS); the others are the app's own. Queues: workflow
// requests (and their poison queue) and lifecycle events; new inbox blobs reach the app
// through Event Grid's webhook (events.bicep); inbox-deadletter keeps undeliverable events.
var inputContainerName = 'inbox'
var resultsContainerName = 'workflow-results'
var cacheContainerName = 'baton-cache'
var bundleContainerName = 'baton-bundles'
var deadLetterContainerName = 'inbox-deadletter'
var dataContainerNames = [
  inputContainerName
  resultsContainerName
  cacheContainerName
  bundleContainerName
  deadLetterContainerName
]
var dataQueueNames = [
  'workflow-requests'
  'workflow-requests-poison'
  'workflow-events'
]

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourceGroup}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentity}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.logAnalyticsWorkspace}${resourceToken}'
    applicationInsightsName: '${abbrs.appInsights}${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.virtualNetwork}${resourceToken}'
    location: location
    tags: tags
  }
}

// The host's account (AzureWebJobsStorage): task hub, host keys, deployment package.
module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageAccount}${resourceToken}'
    location: location
    tags: tags
    containerNames: [
      deploymentContainerName
    ]
    privateServices: [
      'blob'
      'queue'
      'table'
    ]
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: vnetEnabled ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneIds: vnetEnabled ? network.outputs.storageDnsZoneIds : {}
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

// The app's data account (BATON_STORAGE): documents, results, cache, bundles, queues.
module dataStorage 'app/storage.bicep' = {
  name: 'data-storage'
  scope: rg
  params: {
    name: '${abbrs.storageAccount}data${resourceToken}'
    location: location
    tags: tags
    containerNames: dataContainerNames
    queueNames: dataQueueNames
    privateServices: [
      'blob'
      'queue'
    ]
    vnetEnabled: vnetEnabled
    allowTrustedServices: true
    privateEndpointSubnetId: vnetEnabled ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneIds: vnetEnabled ? network.outputs.storageDnsZoneIds : {}
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module events 'app/events.bicep' = {
  name: 'events'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopic}data-${resourceToken}'
    location: location
    tags: tags
    dataStorageAccountName: dataStorage.outputs.name
    containerName: inputContainerName
    deadLetterContainerName: deadLetterContainerName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module openAi 'app/openai.bicep' = if (!useExistingOpenAi) {
  name: 'openai'
  scope: rg
  params: {
    name: '${abbrs.cognitiveServicesAccount}${resourceToken}'
    location: empty(openAiLocation) ? location : openAiLocation
    tags: tags
    kind: openAiKind
    modelName: openAiModelName
    modelVersion: openAiModelVersion
    deploymentSku: openAiDeploymentSku
    deploymentCapacity: openAiDeploymentCapacity
    vnetEnabled: vnetEnabled
    privateEndpointSubnetId: vnetEnabled ? network.outputs.privateEndpointSubnetId : ''
    privateDnsZoneIds: vnetEnabled ? network.outputs.openAiDnsZoneIds : []
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module dts 'app/dts.bicep' = if (useDurableTaskScheduler) {
  name: 'dts'
  scope: rg
  params: {
    name: '${abbrs.durableTaskScheduler}${resourceToken}'
    location: location
    tags: tags
    taskHubName: taskHubName
  }
}

var openAiEndpoint = useExistingOpenAi ? existingOpenAiEndpoint : openAi.outputs.endpoint
var openAiDeployment = useExistingOpenAi ? existingOpenAiDeployment : openAi.outputs.deploymentName

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.serverFarm}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    dataStorageAccountName: dataStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    durableTaskSchedulerEndpoint: useDurableTaskScheduler ? dts.outputs.endpoint : ''
    appSettings: union({
      AZURE_OPENAI_ENDPOINT: openAiEndpoint
      AZURE_OPENAI_DEPLOYMENT: openAiDeployment
      AZURE_OPENAI_API_VERSION: openAiApiVersion
      TASKHUB_NAME: taskHubName
      BATON_INPUT_CONTAINERS: inputContainerName
      BATON_RESULTS_CONTAINER: resultsContainerName
      BATON_CACHE_CONTAINER: cacheContainerName
      BATON_BUNDLE_CONTAINER: bundleContainerName
      BATON_EVENTS_QUEUE: 'workflow-events'
    }, extraAppSettings)
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    hostStorageAccountName: storage.outputs.name
    dataStorageAccountName: dataStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    schedulerName: useDurableTaskScheduler ? dts.outputs.name : ''
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module openAiAccess 'app/openai-access.bicep' = if (!useExistingOpenAi) {
  name: 'openai-access'
  scope: rg
  params: {
    accountName: openAi.outputs.name
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

// An existing account may live in another resource group (or subscription): assign there.
module existingOpenAiAccess 'app/openai-access.bicep' = if (useExistingOpenAi && !empty(existingOpenAiResourceId)) {
  name: 'existing-openai-access'
  scope: resourceGroup(split(existingOpenAiResourceId, '/')[2], split(existingOpenAiResourceId, '/')[4])
  params: {
    accountName: last(split(existingOpenAiResourceId, '/'))
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

// azd writes these outputs into .azure/<env>/.env (see `azd env get-values`).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_API_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_OPENAI_ENDPOINT string = openAiEndpoint
output AZURE_OPENAI_DEPLOYMENT string = openAiDeployment
output AZURE_OPENAI_API_VERSION string = openAiApiVersion
output AZURE_STORAGE_ACCOUNT_NAME string = dataStorage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = dataStorage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = dataStorage.outputs.queueEndpoint
output AZURE_HOST_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_EVENT_GRID_SYSTEM_TOPIC string = events.outputs.topicName
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output TASKHUB_NAME string = taskHubName
output AZURE_DURABLE_TASK_SCHEDULER_ENDPOINT string = useDurableTaskScheduler ? dts.outputs.endpoint : ''
