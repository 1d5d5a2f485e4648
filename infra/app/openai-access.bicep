// Cognitive Services OpenAI User on one Azure OpenAI account for the app identity and the
// deploying principal. Deployed into the account's own resource group, so it also serves
// an existing account elsewhere (existingOpenAiResourceId in main.bicep).
param accountName string
param appPrincipalId string
param userPrincipalId string = ''
param userPrincipalType string = 'User'

var openAiRoles = [
  '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd' // Cognitive Services OpenAI User
]

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' existing = {
  name: accountName
}

resource openAiForApp 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in openAiRoles: {
  name: guid(account.id, appPrincipalId, roleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource openAiForUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in openAiRoles: if (!empty(userPrincipalId)) {
  name: guid(account.id, userPrincipalId, roleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}]
