// Blob events for the app: an Event Grid system topic on the data account. Its subscription
// delivers `Microsoft.Storage.BlobCreated` for the inbox container to the blob trigger's
// webhook (`/runtime/webhooks/blobs?functionName=Host.Functions.start_from_inbox&code=...`), the
// way Flex Consumption runs blob triggers (source EventGrid). That URL holds the blobs_extension
// system key, which exists only after deploy, so infra/hooks/postdeploy.sh (azd postdeploy)
// creates the subscription. The topic's identity writes undeliverable events to the
// dead-letter container, and only there.
param name string
param location string
param tags object

param dataStorageAccountName string

@description('Container whose new blobs start workflows.')
param containerName string = 'inbox'

@description('Container that keeps events Event Grid could not deliver after every retry (created in the data account by storage.bicep).')
param deadLetterContainerName string = 'inbox-deadletter'

@description('Log Analytics workspace that receives delivery failures.')
param logAnalyticsWorkspaceId string

var deadLetterWriterRole = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataStorageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' existing = {
  parent: account
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// The topic writes the events it gave up on, and only into the dead-letter container.
resource topicWritesDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topic.id, deadLetterWriterRole)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', deadLetterWriterRole)
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: topic
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output topicName string = topic.name
output subscriptionName string = '${containerName}-blob-created' // created by infra/hooks/postdeploy.sh
