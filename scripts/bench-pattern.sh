#!/usr/bin/env bash
# Runs the pattern-matching benchmark (bench/pattern_bench.cpp) and prints, from that one run,
# every row's figure and the issue's two goals as throughput ratios:
#   A: 10,000 rules against 10 rules, per series;  B: 1,000 rules against simdjson's parse only.
#
#   scripts/bench-pattern.sh                 wall clock: 5 repetitions of every row, randomly
#                                            interleaved, medians (about two minutes)
#   scripts/bench-pattern.sh --instructions  instructions per event under callgrind, each of the
#                                            1,024 events once (deterministic; about four
#                                            minutes; needs valgrind)
#
# BUILD_DIR overrides build-pattern/ (configured RelWithDebInfo with the benchmarks on);
# REPETITIONS and MIN_TIME override the wall-clock run's 5 and 0.3 (seconds per repetition).
# See docs/benchmarks.md for what the rows are, and for figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${BUILD_DIR:-$root/build-pattern}")
mode=wall
case "${1:-}" in
  "") ;;
  --instructions) mode=instructions ;;
  *)
    echo "usage: $0 [--instructions]" >&2
    exit 2
    ;;
esac
if [[ $mode == instructions ]] && ! command -v valgrind >/dev/null; then
  echo "$0: --instructions needs valgrind (Debian: apt-get install valgrind)" >&2
  exit 2
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVENTROUTER_BENCH=ON \
  >/dev/null
cmake --build "$build" --target pattern_bench -j2 >/dev/null
bench=$build/bench/pattern_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $mode == wall ]]; then
  "$bench" --benchmark_repetitions="${REPETITIONS:-5}" --benchmark_min_time="${MIN_TIME:-0.3}" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$work/run.json" --benchmark_out_format=json >/dev/null 2>"$work/context"
  grep -E '^(Run on|Load Average)' "$work/context" || true
  python3 -c '
import json, statistics, sys
runs = {}
for r in json.load(open(sys.argv[1]))["benchmarks"]:
    if r.get("run_type") == "iteration":
        runs.setdefault(r["run_name"], []).append(r["items_per_second"])
medians = {name: statistics.median(values) for name, values in runs.items()}
for name in sorted(medians, key=lambda n: (n.split("/")[0] != "BM_SimdjsonParseOnly", n.split("/")[0],
                                           int(n.split("/")[1]) if "/" in n else 0)):
    print(name, medians[name])
' "$work/run.json" >"$work/figures"
  unit="events per second (medians)"
else
  rows=(BM_MatchRules/10 BM_MatchRules/100 BM_MatchRules/1000 BM_MatchRules/10000
    BM_MatchSparseRules/10 BM_MatchSparseRules/100 BM_MatchSparseRules/1000
    BM_MatchSparseRules/10000)
  match='eventrouter::pattern::Matcher::match(simdjson::padded_string_view, std::vector<unsigned int, std::allocator<unsigned int> >&) const'
  parse='simdjson::haswell::dom_parser_implementation::parse(*'
  run() { # OUT ITERATIONS TOGGLE FILTER
    # (With a fixed iteration count a row is named NAME/iterations:N.)
    PATTERN_BENCH_ITERATIONS=$2 valgrind --tool=callgrind --callgrind-out-file="$work/$1" \
      --toggle-collect="$3" "$bench" --benchmark_filter="^$4/" >/dev/null 2>&1
  }
  total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; }
  # Two runs at a time. Parse only is the difference of 3,072 and 1,024 events (the
  # benchmark's setup parses the fixtures too), collected on simdjson's parse.
  for i in "${!rows[@]}"; do
    run "row$i" 1024 "$match" "${rows[$i]}" &
    while (($(jobs -r | wc -l) >= 2)); do sleep 0.5; done
  done
  run parse1 1024 "$parse" BM_SimdjsonParseOnly &
  run parse3 3072 "$parse" BM_SimdjsonParseOnly &
  wait
  {
    echo "BM_SimdjsonParseOnly $((($(total "$work/parse3") - $(total "$work/parse1")) / 2048))"
    for i in "${!rows[@]}"; do echo "${rows[$i]} $(($(total "$work/row$i") / 1024))"; done
  } >"$work/figures"
  unit="instructions per event"
fi

python3 -c '
import sys
figures = dict((n, float(v)) for n, v in (line.split() for line in open(sys.argv[1])))
unit = sys.argv[2]
# Throughput: events per second as measured, or the inverse of instructions per event.
rate = {n: (v if unit.startswith("events") else 1 / v) for n, v in figures.items()}
print(unit + ":")
for name, value in figures.items():
    print(f"  {name:28s} {value:12,.0f}")
print("goals, as throughput ratios (each should reach 50 %):")
for series in ("BM_MatchRules", "BM_MatchSparseRules"):
    a = rate[series + "/10000"] / rate[series + "/10"]
    b = rate[series + "/1000"] / rate["BM_SimdjsonParseOnly"]
    print(f"  {series:20s} A (10,000 vs 10 rules) {a:6.1%}   B (1,000 rules vs parse only) {b:6.1%}")
' "$work/figures" "$unit"
