// Log Analytics + workspace-based Application Insights, both with local (key) auth off:
// telemetry is accepted only from Entra ID identities (Monitoring Metrics Publisher, see
// rbac.bicep), which is why the app sets APPLICATIONINSIGHTS_AUTHENTICATION_STRING.
param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

@description('Days Log Analytics keeps data (30 is the free retention).')
param retentionInDays int = 30

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.13.0' = {
  name: 'log-analytics'
  params: {
    name: logAnalyticsName
    location: location
    tags: tags
    skuName: 'PerGB2018'
    dataRetention: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

module applicationInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'application-insights'
  params: {
    name: applicationInsightsName
    location: location
    tags: tags
    kind: 'web'
    applicationType: 'web'
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

output applicationInsightsName string = applicationInsights.outputs.name
output logAnalyticsName string = logAnalytics.outputs.name
