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

var dnsZoneConfigs = [for zoneId in privateDnsZoneIds: {
  privateDnsZoneResourceId: zoneId
}]

var privateEndpoints = [
  {
    service: 'account'
    subnetResourceId: privateEndpointSubnetId
    privateDnsZoneGroup: {
      privateDnsZoneGroupConfigs: dnsZoneConfigs
    }
  }
]

module account 'br/public:avm/res/cognitive-services/account:0.13.2' = {
  name: 'openai-account'
  params: {
    name: name
    location: location
    tags: tags
    kind: kind
    sku: 'S0'
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
    privateEndpoints: vnetEnabled ? privateEndpoints : []
    deployments: [
      {
        name: modelName
        model: {
          format: 'OpenAI'
          name: modelName
          version: modelVersion
        }
        sku: {
          name: deploymentSku
          capacity: deploymentCapacity
        }
      }
    ]
  }
}

output name string = account.outputs.name
output resourceId string = account.outputs.resourceId
output endpoint string = 'https://${name}.openai.azure.com/'
output deploymentName string = modelName
