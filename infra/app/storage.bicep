// One storage account, identity only: shared keys are off, so there is no connection
// string to leak. main.bicep makes two: the host's (AzureWebJobsStorage: the task hub,
// the host's key store `azure-webjobs-secrets`, the deployment package) and the app's data
// (documents, results, cache, bundles, the event queues), so that what a request can reach
// never includes the host's keys.
param name string
param location string
param tags object

@description('Blob containers to create (private).')
param containerNames array = []

@description('Queues to create.')
param queueNames array = []

@description('Storage services that get a private endpoint when vnetEnabled (blob, queue, table).')
param privateServices array

@description('Reach the account through private endpoints only.')
param vnetEnabled bool = false

@description('With vnetEnabled: keep the public endpoint for trusted Azure services only (Event Grid delivering to a queue with its managed identity); every other caller is denied.')
param allowTrustedServices bool = false
param privateEndpointSubnetId string = ''

@description('Private DNS zone ids keyed by storage service: blob, queue, table.')
param privateDnsZoneIds object = {}

@description('Log Analytics workspace that receives the blob, queue and table resource logs.')
param logAnalyticsWorkspaceId string

var privateOnly = vnetEnabled && !allowTrustedServices

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // #checkov:skip=CKV_AZURE_206: LRS is enough for a task hub and re-creatable app data; pick ZRS/GRS here for production data.
    // #checkov:skip=CKV_AZURE_35: Flex Consumption without VNET_ENABLED reaches storage over its public endpoint (identity only, no keys); VNET_ENABLED=true sets defaultAction Deny.
    // #checkov:skip=CKV_AZURE_59: public network access is needed without a virtual network (identity only, no keys); VNET_ENABLED=true disables it or restricts it to trusted services.
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [for containerName in containerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-06-01' = {
  parent: account
  name: 'default'
}

// Resource logs (reads, writes, deletes) of each service, to Log Analytics.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
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

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
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

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
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

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-07-01' = [for service in privateServices: if (vnetEnabled) {
  name: 'pe-${name}-${service}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: privateEndpointSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'pe-${name}-${service}'
        properties: {
          privateLinkServiceId: account.id
          groupIds: [
            service
          ]
        }
      }
    ]
  }
}]

resource privateDnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = [for (service, i) in privateServices: if (vnetEnabled) {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: service
        properties: {
          privateDnsZoneId: vnetEnabled ? privateDnsZoneIds[service] : ''
        }
      }
    ]
  }
}]

output name string = account.name
output resourceId string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
