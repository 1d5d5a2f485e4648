// The Azure OpenAI account and its one model deployment. Keys are disabled: the app and
// the deploying user call it with Entra ID tokens (Cognitive Services OpenAI User, see
// openai-access.bicep). The custom subdomain is required for token auth.
param name string
param location string
param tags object

@allowed([
  'OpenAI'
  'AIServices'
])
param kind string = 'OpenAI'
param modelName string
param modelVersion string
param deploymentSku string
param deploymentCapacity int

param vnetEnabled bool = false
param privateEndpointSubnetId string = ''

@description('Private DNS zone ids for the account endpoint (openai, cognitiveservices).')
param privateDnsZoneIds array = []

@description('Log Analytics workspace that receives the account\'s resource logs.')
param logAnalyticsWorkspaceId string

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: kind
  sku: {
    name: 'S0'
  }
  properties: {
    // #checkov:skip=CKV_AZURE_134: without VNET_ENABLED the app reaches Azure OpenAI over its public endpoint (Entra ID only, keys off); VNET_ENABLED=true disables public access.
    // #checkov:skip=CKV_AZURE_238: the account calls no other Azure service, so an identity of its own would be an unused principal; callers authenticate with theirs.
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
    }
  }
}

resource deployment 'Microsoft.CognitiveServices/accounts/deployments@2025-06-01' = {
  parent: account
  name: modelName
  sku: {
    name: deploymentSku
    capacity: deploymentCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: modelName
      version: modelVersion
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
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

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-07-01' = if (vnetEnabled) {
  name: 'pe-${name}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: privateEndpointSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'pe-${name}'
        properties: {
          privateLinkServiceId: account.id
          groupIds: [
            'account'
          ]
        }
      }
    ]
  }
}

resource privateDnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = if (vnetEnabled) {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [for (zoneId, i) in privateDnsZoneIds: {
      name: 'zone-${i}'
      properties: {
        privateDnsZoneId: zoneId
      }
    }]
  }
}

output name string = account.name
output resourceId string = account.id
output endpoint string = 'https://${name}.openai.azure.com/'
output deploymentName string = deployment.name
