// The storage account behind AzureWebJobsStorage: the Durable task hub (queues, tables,
// blobs), the Flex Consumption deployment package and the saved workflow results.
// Identity only: shared keys are off, so there is no connection string to leak.
param name string
param location string
param tags object

@description('Blob containers to create (private).')
param containerNames array

@description('Reach the account through private endpoints only.')
param vnetEnabled bool = false
param privateEndpointSubnetId string = ''

@description('Private DNS zone ids keyed by storage service: blob, queue, table.')
param privateDnsZoneIds object = {}

var privateServices = [
  'blob'
  'queue'
  'table'
]

var containers = [for containerName in containerNames: {
  name: containerName
  publicAccess: 'None'
}]

var privateEndpoints = [for service in privateServices: {
  service: service
  subnetResourceId: privateEndpointSubnetId
  privateDnsZoneGroup: {
    privateDnsZoneGroupConfigs: [
      {
        privateDnsZoneResourceId: contains(privateDnsZoneIds, service) ? privateDnsZoneIds[service] : ''
      }
    ]
  }
}]

module account 'br/public:avm/res/storage/storage-account:0.27.1' = {
  name: 'storage-account'
  params: {
    name: name
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: containers
    }
    privateEndpoints: vnetEnabled ? privateEndpoints : []
  }
}

output name string = account.outputs.name
output resourceId string = account.outputs.resourceId
output blobEndpoint string = 'https://${name}.blob.${environment().suffixes.storage}/'
