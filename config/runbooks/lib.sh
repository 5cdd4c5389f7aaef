# shellcheck shell=bash
# Shared helpers for eventrouter's example runbooks. Sourced, never run.
#
# Conventions every runbook follows:
#   - the event (or the part an input_transformer selected) arrives as JSON on stdin;
#   - DRY_RUN=1 makes no change in AWS: every mutating call is logged to stderr instead of run
#     (read-only calls such as describe-instances still run, so a dry run shows real context);
#   - exit 0 on success, 2 when the input can never work (permanent: list 2 in the target's
#     permanent_exit_codes), anything else (an AWS CLI failure) is worth retrying.
set -euo pipefail

readonly EXIT_BAD_INPUT=2

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die_input() {
  log "$*"
  exit "$EXIT_BAD_INPUT"
}

# A dry run changes nothing in AWS, so it can run (and show what it would do) without the AWS
# CLI: the shipped rules work on a fresh machine. jq is needed either way.
required_tools=(jq)
[ "${DRY_RUN:-0}" = 1 ] || required_tools+=(aws)
for tool in "${required_tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "'$tool' is required on PATH"
    exit 1
  }
done

# Reads the event from stdin into EVENT; it must be a JSON object.
read_event() {
  EVENT=$(cat)
  printf '%s' "$EVENT" | jq -e 'type == "object"' >/dev/null 2>&1 ||
    die_input "stdin is not a JSON object"
}

# The value of a jq expression over the event, or nothing.
field() { printf '%s' "$EVENT" | jq -r "($1) // empty"; }

# Read-only AWS calls: always run, except in a dry run without the AWS CLI, where they are
# logged and answer nothing (callers treat that as "unknown").
aws_read() {
  if [ "${DRY_RUN:-0}" = 1 ] && ! command -v aws >/dev/null 2>&1; then
    log "DRY_RUN: no aws CLI, skipped: aws $*"
    return 1
  fi
  aws "$@"
}

# Mutating AWS calls: skipped (and logged) with DRY_RUN=1.
aws_change() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    log "DRY_RUN: aws $*"
    return 0
  fi
  aws "$@"
}

# --- GuardDuty credential-exfiltration findings (directly, or as imported by Security Hub) ---

region() { field '.region // .detail.region // .detail.findings[0].Region'; }

# The IAM role whose instance credentials were used.
role_name() {
  field '.detail.resource.accessKeyDetails.userName //
         (.detail.findings[0].Resources[]? | select(.Type == "AwsIamAccessKey")
            | .Details.AwsIamAccessKey.PrincipalName)'
}

# The EC2 instance the role belongs to.
instance_id() {
  field '.detail.resource.instanceDetails.instanceId //
         (.detail.resource.accessKeyDetails.principalId | select(. != null) | split(":")[1]) //
         (.detail.findings[0].Resources[]? | select(.Type == "AwsEc2Instance") | .Id
            | split("/") | last)'
}

# The finding as Security Hub knows it: [{"Id": ..., "ProductArn": ...}].
finding_identifiers() {
  printf '%s' "$EVENT" | jq -c --arg region "$(region)" '
    if .detail.findings then [{Id: .detail.findings[0].Id, ProductArn: .detail.findings[0].ProductArn}]
    elif .detail.arn then [{Id: .detail.arn,
                            ProductArn: ("arn:aws:securityhub:" + $region + "::product/aws/guardduty")}]
    else empty end'
}

# Sets ENVIRONMENT and OWNER from the instance's tags ("unknown" when absent or unreadable).
enrich() {
  local instance tags
  ENVIRONMENT=unknown
  OWNER=unknown
  instance=$(instance_id)
  [ -n "$instance" ] || return 0
  if tags=$(aws_read ec2 describe-instances --region "$(region)" --instance-ids "$instance" \
    --query 'Reservations[0].Instances[0].Tags' --output json); then
    ENVIRONMENT=$(printf '%s' "$tags" | jq -r '[.[]? | select(.Key == "Environment") | .Value][0] // "unknown"')
    OWNER=$(printf '%s' "$tags" | jq -r '[.[]? | select(.Key == "Owner") | .Value][0] // "unknown"')
  else
    log "could not read the tags of $instance; continuing without them"
  fi
}

# The context the runbooks share, as one JSON object.
context_json() {
  jq -nc --arg role "$(role_name)" --arg instance "$(instance_id)" --arg environment "$ENVIRONMENT" \
    --arg owner "$OWNER" --arg finding "$(field '.detail.id // .detail.findings[0].Id')" \
    --arg type "$(field '.detail.type // .detail.findings[0].Types[0]')" \
    --arg remote_ip "$(field '.detail.service.action.awsApiCallAction.remoteIpDetails.ipAddressV4')" \
    '{finding: $finding, type: $type, role: $role, instance: $instance,
      environment: $environment, owner: $owner, remote_ip: $remote_ip}'
}

# Runs BatchUpdateFindings and fails if Security Hub did not process the finding.
batch_update_findings() {
  local identifiers result
  identifiers=$(finding_identifiers)
  [ -n "$identifiers" ] || die_input "the event names no finding (detail.arn or detail.findings)"
  result=$(aws_change securityhub batch-update-findings --region "$(region)" \
    --finding-identifiers "$identifiers" "$@") || return 1
  if [ -n "$result" ] &&
    ! printf '%s' "$result" | jq -e '(.UnprocessedFindings // []) | length == 0' >/dev/null; then
    log "Security Hub did not process the finding: $result"
    return 1
  fi
}
