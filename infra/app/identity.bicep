// The app's user-assigned managed identity: every data-plane call (Storage, Application
// Insights, Azure OpenAI, Durable Task Scheduler) authenticates as it. Roles: rbac.bicep.
param name string
param location string
param tags object

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'user-assigned-identity'
  params: {
    name: name
    location: location
    tags: tags
  }
}

output resourceId string = identity.outputs.resourceId
output clientId string = identity.outputs.clientId
output principalId string = identity.outputs.principalId
