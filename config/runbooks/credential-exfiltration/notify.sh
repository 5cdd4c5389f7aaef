#!/bin/bash
# Notifies the owners (an SNS topic: NOTIFY_TOPIC_ARN), then sets the finding's
# Workflow.Status to NOTIFIED, so NOTIFIED always means someone was told. MARK_NOTIFIED=0 skips
# the second step.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
[ -n "${NOTIFY_TOPIC_ARN:-}" ] || die_input "set NOTIFY_TOPIC_ARN in the target's env"
role=$(role_name)
[ -n "$role" ] || die_input "the event names no IAM role (detail.resource.accessKeyDetails)"
enrich
subject="[security] credentials of $role used outside AWS ($ENVIRONMENT)"
message=$(context_json)
aws_change sns publish --region "$(region)" --topic-arn "$NOTIFY_TOPIC_ARN" \
  --subject "${subject:0:100}" --message "$message" >/dev/null
if [ "${MARK_NOTIFIED:-1}" = 1 ]; then
  batch_update_findings --workflow Status=NOTIFIED
fi
log "notified $NOTIFY_TOPIC_ARN about role $role"
