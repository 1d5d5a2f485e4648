// The app's user-assigned managed identity: every data-plane call (Storage, Application
// Insights, Azure OpenAI, Durable Task Scheduler) authenticates as it. Roles: rbac.bicep,
// openai-access.bicep.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
