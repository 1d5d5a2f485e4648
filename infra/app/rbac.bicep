// Data-plane roles for the app identity (ServicePrincipal) and, when azd passes one, the
// deploying principal, so the same code runs locally against these resources.
// Azure OpenAI roles are in openai-access.bicep (the account may be in another group).
param storageAccountName string
param applicationInsightsName string

@description('Durable Task Scheduler name; empty: not deployed.')
param schedulerName string = ''

param appPrincipalId string

@description('Deploying principal; empty: no assignments for it.')
param userPrincipalId string = ''
param userPrincipalType string = 'User'

// Built-in role definition ids (the same in every tenant).
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]
var monitoringRoles = [
  '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
]
var schedulerRoles = [
  '0ad04412-c4d5-4796-b79c-f76d14c8d402' // Durable Task Data Contributor
]

var withUser = !empty(userPrincipalId)
var withScheduler = !empty(schedulerName)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = if (withScheduler) {
  name: withScheduler ? schedulerName : 'none'
}

resource storageForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoles: {
  name: guid(storage.id, appPrincipalId, roleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource storageForUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoles: if (withUser) {
  name: guid(storage.id, userPrincipalId, roleId)
  scope: storage
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
