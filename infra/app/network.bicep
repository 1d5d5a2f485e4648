// Optional network isolation: a virtual network with one subnet delegated to the Flex
// Consumption app (outbound integration) and one for private endpoints, plus the private
// DNS zones that make the Storage and Azure OpenAI endpoints resolve to those endpoints.
param name string
param location string
param tags object

param addressPrefix string = '10.0.0.0/16'
param appSubnetPrefix string = '10.0.1.0/24'
param privateEndpointSubnetPrefix string = '10.0.2.0/24'

var zoneNames = [
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.openai.azure.com'
  'privatelink.cognitiveservices.azure.com'
]

module vnet 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'virtual-network'
  params: {
    name: name
    location: location
    tags: tags
    addressPrefixes: [
      addressPrefix
    ]
    subnets: [
      {
        name: 'app'
        addressPrefix: appSubnetPrefix
        delegation: 'Microsoft.App/environments'
      }
      {
        name: 'private-endpoints'
        addressPrefix: privateEndpointSubnetPrefix
        privateEndpointNetworkPolicies: 'Disabled'
      }
    ]
  }
}

module zones 'br/public:avm/res/network/private-dns-zone:0.7.1' = [for zoneName in zoneNames: {
  name: 'dns-${split(zoneName, '.')[1]}'
  params: {
    name: zoneName
    location: 'global'
    tags: tags
    virtualNetworkLinks: [
      {
        virtualNetworkResourceId: vnet.outputs.resourceId
        registrationEnabled: false
      }
    ]
  }
}]

output appSubnetId string = vnet.outputs.subnetResourceIds[0]
output privateEndpointSubnetId string = vnet.outputs.subnetResourceIds[1]
output storageDnsZoneIds object = {
  blob: zones[0].outputs.resourceId
  queue: zones[1].outputs.resourceId
  table: zones[2].outputs.resourceId
}
output openAiDnsZoneIds array = [
  zones[3].outputs.resourceId
  zones[4].outputs.resourceId
]
