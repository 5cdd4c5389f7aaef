#!/usr/bin/env bash
# Ingest throughput and latency with wrk, side by side with a baseline, in one run:
#   1. GET /healthz           the HTTP stack alone (no body, no parsing)
#   2. POST /events           one GuardDuty finding per request (parse, check, normalise, match)
#   3. POST /events, batched  the seven fixture findings as one array per request
# The daemon runs from build/ on a free loopback port with a queue_file rule that matches every
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
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/rules.d"
cat > "$work/eventrouter.yaml" <<YAML
listen: 127.0.0.1:0
rules_dir: rules.d
state_dir: state
log: { level: info }
YAML
cat > "$work/rules.d/bench.yaml" <<YAML
rules:
  - name: guardduty-to-queue
    event_pattern: { source: [aws.guardduty] }
    targets: [{ id: q, type: queue_file, path: findings.jsonl, fsync: never }]
YAML
python3 - "$root/tests/fixtures/events" > "$work/batch.json" <<'PY'
import json, pathlib, sys
print(json.dumps([json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]))
PY

"$binary" serve -c "$work/eventrouter.yaml" 2> "$work/log" &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/log" >&2; exit 1; }
url=http://127.0.0.1:$port

run() {
  local name=$1; shift
  echo "== $name"
  wrk -t$threads -c"$connections" -d"${seconds}s" --latency "$@" | grep -E 'Requests/sec|Latency|50%|99%'
}
echo "eventrouter ingest benchmark: $seconds s per run, $connections connections, $threads wrk threads"
run "baseline: GET /healthz" "$url/healthz"
EVENT_FILE=$root/tests/fixtures/events/guardduty-credential-exfiltration.json \
  run "POST /events, 1 finding per request" -s "$root/bench/ingest/post_event.lua" "$url/events"
EVENT_FILE=$work/batch.json \
  run "POST /events, 7 findings per request" -s "$root/bench/ingest/post_event.lua" "$url/events"
echo "queue file lines written: $(wc -l < "$work/state/findings.jsonl" 2>/dev/null || echo 0)"
