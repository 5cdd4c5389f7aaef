#!/bin/bash
# Prints the context of a credential-exfiltration finding as JSON: the role, its instance, and
# the instance's Environment and Owner tags. eventrouter logs it; the other runbooks reuse it.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
[ -n "$(role_name)" ] || die_input "the event names no IAM role (detail.resource.accessKeyDetails)"
enrich
context_json
