#!/usr/bin/env sh
# azd postdeploy hook: subscribe the inbox blob trigger to the data account's BlobCreated events.
#
# The Flex Consumption plan runs a blob trigger only with source="EventGrid": Event Grid delivers
# BlobCreated to the blobs extension's webhook,
#   https://<app>/runtime/webhooks/blobs?functionName=Host.Functions.<function>&code=<blobs_extension key>
# The key exists only once the app is deployed and its host has started, so this subscription is
# made here (after `azd deploy`), not in Bicep; the system topic itself is in infra/app/events.bicep.
# Idempotent: `create` updates an existing subscription of the same name.
set -eu

FUNCTION_NAME="${INBOX_FUNCTION_NAME:-start_from_inbox}"
CONTAINER="${INBOX_CONTAINER:-inbox}"
DEAD_LETTERS="${INBOX_DEADLETTER_CONTAINER:-inbox-deadletter}"
SUBSCRIPTION="${CONTAINER}-blob-created"
: "${AZURE_RESOURCE_GROUP:?run through azd (azd deploy / azd up), which sets the environment's outputs}"
: "${AZURE_FUNCTION_APP_NAME:?}" "${SERVICE_API_URI:?}" "${AZURE_EVENT_GRID_SYSTEM_TOPIC:?}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?}"

# The host creates the blobs_extension system key when it first indexes an EventGrid blob trigger.
key=""
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
        --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "postdeploy: waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME (attempt $attempt)"
  sleep 10
done
if [ -z "$key" ]; then
  echo "postdeploy: error: $AZURE_FUNCTION_APP_NAME has no blobs_extension system key; is the app running?" >&2
  exit 1
fi

endpoint="${SERVICE_API_URI%/}/runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}&code=${key}"
account_id=$(az storage account show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_STORAGE_ACCOUNT_NAME" \
             --query id --output tsv)

az eventgrid system-topic event-subscription create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$AZURE_EVENT_GRID_SYSTEM_TOPIC" \
  --name "$SUBSCRIPTION" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --event-delivery-schema eventgridschema \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${CONTAINER}/" \
  --max-delivery-attempts 30 \
  --event-ttl 1440 \
  --deadletter-identity systemassigned \
  --deadletter-identity-endpoint "${account_id}/blobServices/default/containers/${DEAD_LETTERS}" \
  --output none
echo "postdeploy: $AZURE_EVENT_GRID_SYSTEM_TOPIC/$SUBSCRIPTION delivers BlobCreated in '$CONTAINER' to Host.Functions.$FUNCTION_NAME"
