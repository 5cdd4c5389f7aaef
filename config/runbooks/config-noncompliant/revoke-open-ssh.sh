#!/bin/bash
# For AWS Config's restricted-ssh rule going NON_COMPLIANT: removes the security group's
# ingress rules that open port 22 to the world (0.0.0.0/0 and ::/0). A rule that is already gone
# is not an error.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
[ "$(field '.detail.newEvaluationResult.complianceType')" = NON_COMPLIANT ] ||
  die_input "not a NON_COMPLIANT evaluation (detail.newEvaluationResult.complianceType)"
[ "$(field '.detail.resourceType')" = "AWS::EC2::SecurityGroup" ] ||
  die_input "not a security group (detail.resourceType)"
group=$(field '.detail.resourceId')
[ -n "$group" ] || die_input "the event names no security group (detail.resourceId)"
region=$(field '.detail.awsRegion // .region')

for range in '"IpRanges":[{"CidrIp":"0.0.0.0/0"}]' '"Ipv6Ranges":[{"CidrIpv6":"::/0"}]'; do
  permissions="[{\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,$range}]"
  if ! output=$(aws_change ec2 revoke-security-group-ingress --region "$region" \
    --group-id "$group" --ip-permissions "$permissions" 2>&1); then
    case $output in
      *InvalidPermission.NotFound*) log "no such rule on $group: $range" ;;
      *)
        log "$output"
        exit 1
        ;;
    esac
  elif [ -n "$output" ]; then
    printf '%s\n' "$output" >&2
  fi
done
log "revoked world-open SSH on $group"
