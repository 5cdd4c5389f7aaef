#!/usr/bin/env bash
# Ingest throughput and latency with wrk, side by side with a baseline, in one run:
#   1. GET /healthz           the HTTP stack alone (no body, no parsing)
#   2. POST /events           one GuardDuty finding per request (parse, check, normalise, match)
#   3. POST /events, batched  the seven fixture findings as one array per request
# 2 and 3 run against two daemons side by side: durability: none (memory only) and
# durability: fsync (the journal, committed and fsynced before each 200). Both record each
# event's history (the default); 2 runs again against two daemons with history.enabled: false,
# so that the history's cost shows as the ratio of the neighbouring lines.
# The daemons run from build/ on free loopback ports with a queue_file rule that matches every
# GuardDuty finding, so matching and delivery are part of the cost.
#   scripts/bench-ingest.sh [SECONDS] [CONNECTIONS]      defaults: 10 s, 32 connections
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
connections=${2:-32}
threads=2
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
binary=${EVENTROUTER_BIN:-$root/build/eventrouter}

work=$(mktemp -d)
trap 'kill $(cat "$work"/*/pid 2>/dev/null) 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
python3 - "$root/tests/fixtures/events" > "$work/batch.json" <<'PY'
import json, pathlib, sys
print(json.dumps([json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]))
PY

# Starts a daemon with the given durability and history setting in $work/<name>; prints its URL.
start_daemon() {
  local name=$1 durability=$2 history=${3:-true} dir=$work/$1
  mkdir -p "$dir/rules.d"
  cat > "$dir/eventrouter.yaml" <<YAML
listen: 127.0.0.1:0
rules_dir: rules.d
state_dir: state
durability: $durability
history: { enabled: $history }
log: { level: info }
YAML
  cat > "$dir/rules.d/bench.yaml" <<YAML
rules:
  - name: guardduty-to-queue
    event_pattern: { source: [aws.guardduty] }
    targets: [{ id: q, type: queue_file, path: findings.jsonl, fsync: never }]
YAML
  # Called in $(...): the daemon must not hold the substitution's stdout open.
  "$binary" serve -c "$dir/eventrouter.yaml" > /dev/null 2> "$dir/log" &
  echo $! > "$dir/pid"
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log" >&2; exit 1; }
  echo "http://127.0.0.1:$port"
}
memory=$(start_daemon memory none)
durable=$(start_daemon durable fsync)
memory_no_history=$(start_daemon memory-no-history none false)
durable_no_history=$(start_daemon durable-no-history fsync false)

run() {
  local name=$1; shift
  echo "== $name"
  wrk -t$threads -c"$connections" -d"${seconds}s" --latency "$@" | grep -E 'Requests/sec|Latency|50%|99%'
}
one=$root/tests/fixtures/events/guardduty-credential-exfiltration.json
echo "eventrouter ingest benchmark: $seconds s per run, $connections connections, $threads wrk threads"
run "baseline: GET /healthz" "$memory/healthz"
EVENT_FILE=$one run "POST /events, 1 finding per request, durability: none, history off" \
  -s "$root/bench/ingest/post_event.lua" "$memory_no_history/events"
EVENT_FILE=$one run "POST /events, 1 finding per request, durability: none" \
  -s "$root/bench/ingest/post_event.lua" "$memory/events"
EVENT_FILE=$one run "POST /events, 1 finding per request, durability: fsync, history off" \
  -s "$root/bench/ingest/post_event.lua" "$durable_no_history/events"
EVENT_FILE=$one run "POST /events, 1 finding per request, durability: fsync" \
  -s "$root/bench/ingest/post_event.lua" "$durable/events"
EVENT_FILE=$work/batch.json run "POST /events, 7 findings per request, durability: none" \
  -s "$root/bench/ingest/post_event.lua" "$memory/events"
EVENT_FILE=$work/batch.json run "POST /events, 7 findings per request, durability: fsync" \
  -s "$root/bench/ingest/post_event.lua" "$durable/events"
for name in memory durable memory-no-history durable-no-history; do
  echo "$name: queue file lines written: $(wc -l < "$work/$name/state/findings.jsonl" 2>/dev/null || echo 0)"
done
commits=$(curl -s "$durable/metrics" | sed -n 's/^eventrouter_journal_commits \(.*\)/\1/p')
echo "durable: journal commits: $commits"
history_dropped=$(curl -s "$durable/metrics" | sed -n 's/^eventrouter_history_records_dropped_total \(.*\)/\1/p')
echo "durable: history records dropped: ${history_dropped:-0}"
