#!/bin/bash
# Contains the role: attaches an inline deny-all policy (PutRolePolicy). Sessions already issued
# are denied too, because an explicit Deny wins over every Allow. Remove the policy
# (POLICY_NAME, default eventrouter-deny-all) to restore the role.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
role=$(role_name)
[ -n "$role" ] || die_input "the event names no IAM role (detail.resource.accessKeyDetails)"
policy_name=${POLICY_NAME:-eventrouter-deny-all}
policy='{"Version":"2012-10-17","Statement":[{"Sid":"EventrouterContainment","Effect":"Deny","Action":"*","Resource":"*"}]}'
aws_change iam put-role-policy --role-name "$role" --policy-name "$policy_name" \
  --policy-document "$policy"
log "attached $policy_name to role $role"
