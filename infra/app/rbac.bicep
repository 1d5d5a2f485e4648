// Data-plane roles for the app identity (ServicePrincipal) and, when azd passes one, the
// deploying principal, so the same code runs locally against the cloud resources.
// Least privilege per account:
// - host account (AzureWebJobsStorage): only the app identity, and only what the Functions
//   host needs (Blob Data Owner: host keys, leases, the deployment package) plus what the
//   Durable Azure Storage backend needs (queues, tables), which the scheduler replaces.
// - data account (BATON_STORAGE): Blob and Queue Data Contributor, read/write of blobs and
//   messages, without Owner's ACL and ownership rights; the deploying principal too.
// Azure OpenAI roles are in openai-access.bicep (the account may be in another group);
// Event Grid's role is in events.bicep.
param hostStorageAccountName string
param dataStorageAccountName string
param applicationInsightsName string

@description('Durable Task Scheduler name; empty: not deployed, the task hub lives in the host account.')
param schedulerName string = ''

param appPrincipalId string

@description('Deploying principal; empty: no assignments for it.')
param userPrincipalId string = ''
param userPrincipalType string = 'User'

// Built-in role definition ids (the same in every tenant).
var hostRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
]
var durableStorageRoles = [
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]
var dataRoles = [
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
]
var monitoringRoles = [
  '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
]
var schedulerRoles = [
  '0ad04412-c4d5-4796-b79c-f76d14c8d402' // Durable Task Data Contributor
]

var withUser = !empty(userPrincipalId)
var withScheduler = !empty(schedulerName)

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: hostStorageAccountName
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataStorageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = if (withScheduler) {
  name: withScheduler ? schedulerName : 'none'
}

resource hostStorageForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in hostRoles: {
  name: guid(hostStorage.id, appPrincipalId, roleId)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource durableStorageForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in durableStorageRoles: if (!withScheduler) {
  name: guid(hostStorage.id, appPrincipalId, roleId)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource dataStorageForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in dataRoles: {
  name: guid(dataStorage.id, appPrincipalId, roleId)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource dataStorageForUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in dataRoles: if (withUser) {
  name: guid(dataStorage.id, userPrincipalId, roleId)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}]

resource monitoringForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in monitoringRoles: {
  name: guid(applicationInsights.id, appPrincipalId, roleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource monitoringForUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in monitoringRoles: if (withUser) {
  name: guid(applicationInsights.id, userPrincipalId, roleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}]

resource schedulerForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in schedulerRoles: if (withScheduler) {
  name: guid(scheduler.id, appPrincipalId, roleId)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource schedulerForUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in schedulerRoles: if (withScheduler && withUser) {
  name: guid(scheduler.id, userPrincipalId, roleId)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}]
