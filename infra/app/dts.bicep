// Optional: the Durable Task Scheduler, a managed backend for the task hub (instead of
// Azure Storage queues and tables). The app reaches it with its managed identity
// (Durable Task Data Contributor, see rbac.bicep); api.bicep points the Durable
// extension at it through app settings.
param name string
param location string
param tags object
param taskHubName string

@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Addresses allowed to call the scheduler; at least one entry (an empty list denies everything).')
param ipAllowlist array = [
  '0.0.0.0/0'
]

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: skuName
    }
    ipAllowlist: ipAllowlist
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
