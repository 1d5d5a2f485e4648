// Optional network isolation: a virtual network with one subnet delegated to the Flex
// Consumption app (outbound integration) and one for private endpoints, plus the private
// DNS zones that make the Storage (both accounts) and Azure OpenAI endpoints resolve to
// those endpoints.
param name string
param location string
param tags object

param addressPrefix string = '10.0.0.0/16'
param appSubnetPrefix string = '10.0.1.0/24'
param privateEndpointSubnetPrefix string = '10.0.2.0/24'

var storageSuffix = environment().suffixes.storage
var zoneNames = [
  'privatelink.blob.${storageSuffix}'
  'privatelink.queue.${storageSuffix}'
  'privatelink.table.${storageSuffix}'
  'privatelink.openai.azure.com'
  'privatelink.cognitiveservices.azure.com'
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // #checkov:skip=CKV_AZURE_182: Azure-provided DNS is what resolves the linked private DNS zones below; custom DNS servers would bypass them.
    // #checkov:skip=CKV_AZURE_183: Azure-provided DNS is what resolves the linked private DNS zones below; custom DNS servers would bypass them.
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zoneName in zoneNames: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in zoneNames: {
  parent: zones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    virtualNetwork: {
      id: vnet.id
    }
    registrationEnabled: false
  }
}]

output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
output storageDnsZoneIds object = {
  blob: zones[0].id
  queue: zones[1].id
  table: zones[2].id
}
output openAiDnsZoneIds array = [
  zones[3].id
  zones[4].id
]
