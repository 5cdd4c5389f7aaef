#!/bin/bash
# Sets the finding's Workflow.Status to NOTIFIED (BatchUpdateFindings), for setups that notify
# some other way (a webhook or email target) and only need the status change.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

read_event
batch_update_findings --workflow Status=NOTIFIED
log "set Workflow.Status to NOTIFIED"
