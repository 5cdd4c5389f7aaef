#!/usr/bin/env bash
# The cluster backend (bus.backend: nats) against the local journal, side by side in one run:
#   1. journal      one router, durability: fsync (the SQLite journal)
#   2. 1 router     one router on a 3-node NATS JetStream cluster (replicas 3)
#   3. 2 routers    two routers on one 3-node cluster, the wrk load split between them
# For each: ingest requests/s and latency (wrk, one GuardDuty finding per POST /events) and
# end-to-end latency (POST sent to webhook call received, 200 events at 50/s, on an idle system).
# Routers and NATS nodes run on free loopback ports in a temp folder, removed at the end.
# The driver is scripts/bench_cluster.py (stdlib Python).
#   scripts/bench-cluster.sh [SECONDS] [CONNECTIONS]     defaults: 10 s, 32 connections
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
connections=${2:-32}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] ||
  { echo "nats-server is missing: scripts/deps.sh installs it" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 1; }
export EVENTROUTER_BIN=${EVENTROUTER_BIN:-$root/build/eventrouter}
export BENCH_COMMAND="${BENCH_COMMAND:-scripts/bench-cluster.sh $seconds $connections}"
exec python3 "$root/scripts/bench_cluster.py" "$seconds" "$connections"
