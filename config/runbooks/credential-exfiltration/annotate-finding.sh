#!/bin/bash
# Writes the enrichment back to the Security Hub finding (BatchUpdateFindings): a note for
# people and UserDefinedFields for automation.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
role=$(role_name)
[ -n "$role" ] || die_input "the event names no IAM role (detail.resource.accessKeyDetails)"
enrich
instance=$(instance_id)
note=$(jq -nc --arg text "eventrouter: credentials of role $role (instance ${instance:-unknown}, environment $ENVIRONMENT, owner $OWNER) used from outside AWS; containment started." \
  '{Text: $text, UpdatedBy: "eventrouter"}')
fields=$(jq -nc --arg role "$role" --arg instance "$instance" --arg environment "$ENVIRONMENT" \
  --arg owner "$OWNER" '{RoleName: $role, InstanceId: $instance, Environment: $environment, Owner: $owner}')
batch_update_findings --note "$note" --user-defined-fields "$fields"
log "annotated the finding for role $role"
