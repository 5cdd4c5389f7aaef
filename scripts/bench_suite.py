#!/usr/bin/env python3
"""The benchmark suite behind docs/benchmark-results.md, in one command, every figure against
its baseline in the same run (the machine is shared and noisy: only ratios within one run mean
anything):

  ingest    wrk -t1 -c32 POSTing the GuardDuty finding, against nginx answering `return 200`
            (one worker) as the ceiling: durability none and fsync, one matching rule, one rule
            that does not match, and many rules that do not match
  journal   for the fsync run with one matching rule: the bytes the daemon wrote to disk per
            acknowledged event (/proc/PID/io before and after), the journal's threads' share
            (/proc/PID/task/*/io), beside the event's size
  latency   open-loop senders at fixed rates; the percentiles come from the daemon's own
            timestamps (the histogram eventrouter_ingest_to_invocation_seconds)
  startup   `validate` time, start to /readyz 200, resident memory and /metrics size by rule
            count (scripts/bench_startup.py)

It writes OUT/results.md (the tables), OUT/results.json and, when gnuplot is installed,
OUT/ingest.png and OUT/startup.png. --short runs everything briefly with small rule counts
(the integration suite runs it, so the suite cannot rot); its figures mean nothing.

  scripts/bench_suite.py [--binary build/eventrouter] [--out build/bench-suite] [--short]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_startup  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FINDING = ROOT / "tests/fixtures/events/guardduty-credential-exfiltration.json"
POST_SCRIPT = ROOT / "bench/ingest/post_event.lua"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server this suite started; stopped with the suite, whatever happens."""
    running = []

    def __init__(self, args, log, cwd=None):
        self.log = log
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                                     cwd=cwd)
        Process.running.append(self)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @classmethod
    def stop_all(cls):
        for process in cls.running:
            process.stop()


def start_nginx(work: Path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    (work / "nginx").mkdir()
    conf = work / "nginx" / "nginx.conf"
    conf.write_text(f"""worker_processes 1;
daemon off;
pid {work}/nginx/nginx.pid;
error_log {work}/nginx/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 '{{"FailedEntryCount":0}}'; }}
  }}
}}
""")
    Process([nginx, "-c", str(conf), "-p", str(work / "nginx")], work / "nginx" / "stderr")
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: http_status(url + "/") == 200, "nginx did not answer")
    return url


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except OSError:
        return None


def wait_until(predicate, message, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise RuntimeError(message)


def rules_yaml(matching: bool, others: int):
    """One queue_file rule on GuardDuty findings (or on a source they do not have), plus
    `others` rules that never match them."""
    source = "aws.guardduty" if matching else "aws.not-guardduty"
    lines = ["rules:", f"""  - name: findings-to-queue
    event_pattern: {{source: [{source}]}}
    targets: [{{id: q, type: queue_file, path: findings.jsonl, fsync: never}}]"""]
    for i in range(others):
        lines.append(f"""  - name: other-{i}
    event_pattern:
      source: [custom.source{i}]
      detail: {{severity: [{{numeric: [">=", {i % 9}]}}]}}
    targets: [{{id: q, type: queue_file, path: other.jsonl}}]""")
    return "\n".join(lines) + "\n"


def start_daemon(binary, work: Path, name, durability, rules):
    folder = work / name
    (folder / "rules.d").mkdir(parents=True)
    (folder / "rules.d" / "rules.yaml").write_text(rules)
    (folder / "eventrouter.yaml").write_text(
        f"listen: 127.0.0.1:0\nrules_dir: rules.d\nstate_dir: state\n"
        f"durability: {durability}\nlog: {{level: info}}\n")
    process = Process([binary, "serve", "-c", str(folder / "eventrouter.yaml")], folder / "log")
    found = {}

    def ready():
        if "url" not in found:
            match = re.search(r"listening on (127\.0\.0\.1:\d+)", (folder / "log").read_text())
            if not match:
                return False
            found["url"] = "http://" + match.group(1)
        return http_status(found["url"] + "/readyz") == 200

    wait_until(ready, f"{name} was not ready: {(folder / 'log').read_text()[-2000:]}")
    return process, found["url"]


def bytes_written(pid):
    """What a process has written to storage so far, in all and by its journal's threads (the
    writer, which writes the write-ahead log, and the checkpointer, which copies it into the
    database file), from the kernel's per-task I/O accounting."""
    def write_bytes(io_file):
        for line in Path(io_file).read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
        return 0
    journal = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() in JOURNAL_THREADS:
                journal += write_bytes(task / "io")
        except OSError:
            pass  # a thread that ended meanwhile
    return {"all": write_bytes(f"/proc/{pid}/io"), "journal": journal}


# The names the journal gives its threads (src/delivery/journal.cpp).
JOURNAL_THREADS = {"er-journal", "er-checkpoint"}


def metric(url, name):
    """The value of a metric without labels (0 when absent)."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
        match = re.search("^" + name + r" ([\d.e+]+)$", answer.read().decode(), re.M)
    return float(match.group(1)) if match else 0.0


def settle(url, seconds=30):
    """Waits until no delivery is pending and the journal has stopped committing (the finishes
    written behind and the last checkpoint count too)."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        now = (metric(url, "eventrouter_pending_deliveries"),
               metric(url, "eventrouter_journal_commits"))
        if now[0] == 0 and now == last:
            break
        last = now
        time.sleep(0.5)
    time.sleep(0.5)  # the checkpointer's turn (it looks every 200 ms)


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s",
                          str(POST_SCRIPT), url],
                         env={**os.environ, "EVENT_FILE": str(FINDING)}, capture_output=True,
                         text=True, timeout=seconds + 60, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"requests_per_second": rate, "p99_ms": float(p99.group(1)) * scale,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0, "requests": requests}


def ingest(binary, work, seconds, many):
    nginx = start_nginx(work)
    cases = [
        ("none, 1 matching rule", "none", rules_yaml(True, 0)),
        ("fsync, 1 matching rule", "fsync", rules_yaml(True, 0)),
        ("none, 1 rule, no match", "none", rules_yaml(False, 0)),
        (f"none, {many:,} rules, no match", "none", rules_yaml(False, many - 1)),
        (f"fsync, {many:,} rules, no match", "fsync", rules_yaml(False, many - 1)),
    ]
    daemons = [(label, *start_daemon(binary, work, f"ingest-{i}", durability, rules))
               for i, (label, durability, rules) in enumerate(cases)]
    rows = [{"case": "nginx `return 200` (ceiling)", **wrk(nginx + "/", seconds)}]
    journal = None
    for label, process, url in daemons:
        measure_bytes = label == "fsync, 1 matching rule"
        if measure_bytes:
            settle(url)
            before = bytes_written(process.proc.pid)
        rows.append({"case": label, **wrk(url + "/events", seconds)})
        if measure_bytes:
            settle(url)
            after = bytes_written(process.proc.pid)
            events = rows[-1]["requests"] - rows[-1]["non_2xx"]
            journal = {"events": events, "event_bytes": FINDING.stat().st_size,
                       **{f"{part}_bytes_per_event": (after[part] - before[part]) / max(events, 1)
                          for part in ("all", "journal")}}
        process.stop()  # the next case runs alone
    ceiling = rows[0]["requests_per_second"]
    for row in rows:
        row["of_nginx"] = row["requests_per_second"] / ceiling
    return rows, journal


def histogram(url, name):
    """The cumulative buckets of a histogram without labels: [(upper bound, count)]."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
        text = answer.read().decode()
    buckets = []
    for match in re.finditer(name + r'_bucket\{le="([^"]+)"\} (\d+)', text):
        bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
        buckets.append((bound, int(match.group(2))))
    return buckets


def percentile(before, after, q):
    """The q-quantile of what the histogram counted between two scrapes, interpolated
    linearly inside its bucket (so it is as precise as the buckets are)."""
    counts = [(bound, a - b) for (bound, a), (_, b) in zip(after, before)]
    total = counts[-1][1]
    if total == 0:
        return None
    wanted = q * total
    lower, below = 0.0, 0
    for bound, cumulative in counts:
        if cumulative >= wanted:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((wanted - below) / inside if inside else 1)
        lower, below = bound, cumulative
    return lower


def open_loop(url, rate, batch, seconds, senders=8):
    """Sends `rate` events a second, `batch` per request, on a fixed schedule spread over
    `senders` connections (a late answer delays only its own connection's next request)."""
    import http.client
    body_one = json.loads(FINDING.read_text())
    body = json.dumps(body_one if batch == 1 else [body_one] * batch).encode()
    host, port = url.removeprefix("http://").split(":")
    interval = senders * batch / rate
    start = time.monotonic() + 0.2
    sent = [0] * senders
    failed = [0] * senders
    late = [0] * senders

    def sender(index):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        due = start + index * interval / senders
        while due < start + seconds:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            elif pause < -interval:
                late[index] += 1
            connection.request("POST", "/events", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                sent[index] += batch
            else:
                failed[index] += 1
            due += interval
        connection.close()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return sum(sent), sum(failed), sum(late)


def latency(binary, work, seconds, rates):
    rows = []
    name = "eventrouter_ingest_to_invocation_seconds"
    for rate, batch in rates:
        process, url = start_daemon(binary, work, f"latency-{rate}", "fsync",
                                    rules_yaml(True, 0))
        before = histogram(url, name)
        sent, failed, late = open_loop(url, rate, batch, seconds)
        time.sleep(1)  # the last deliveries start
        after = histogram(url, name)
        process.stop()
        rows.append({"events_per_second": rate, "events_per_request": batch, "sent": sent,
                     "failed_requests": failed, "late_sends": late,
                     **{f"p{int(q * 100)}_ms": (value * 1000 if value is not None else None)
                        for q in (0.5, 0.99)
                        for value in [percentile(before, after, q)]}})
    return rows


def startup(binary, work, counts):
    rows = []
    for count in counts:
        folder = work / f"startup-{count}"
        bench_startup.write_setup(folder, count)
        rows.append({"rules": count, **bench_startup.measure(binary, folder)})
    return rows


def markdown(results, command):
    out = [f"Produced by `{command}` on {results['when']}, load average "
           f"{results['load_average']} at the start. Only ratios within this run mean anything.",
           "", "## Ingest against nginx", "",
           "| case | requests/s | ÷ nginx | p99 | non-2xx |", "|---|---:|---:|---:|---:|"]
    for row in results["ingest"]:
        out.append(f"| {row['case']} | {row['requests_per_second']:,.0f} | {row['of_nginx']:.2f} "
                   f"| {row['p99_ms']:.2f} ms | {row['non_2xx']} |")
    by_case = {row["case"]: row["requests_per_second"] for row in results["ingest"]}
    matched, unmatched = by_case["none, 1 matching rule"], by_case["none, 1 rule, no match"]
    journal = results["journal"]
    event_kb = journal["event_bytes"] / 1000
    out += ["", f"One matching queue-file delivery costs {100 * (1 - matched / unmatched):.0f} % of "
            "the throughput of the same daemon with a rule that does not match.", "",
            "## Bytes written per event (`durability: fsync`, 1 matching rule)", "",
            f"Over the {journal['events']:,} events of that run, until the journal was idle again "
            "(`/proc/PID/io`; the journal's share from its threads' own accounting):", "",
            "| written by | per event |", "|---|---|",
            f"| journal bytes written per event "
            f"| {journal['journal_bytes_per_event'] / 1000:.1f} KB for a {event_kb:.1f} KB event "
            f"= {journal['journal_bytes_per_event'] / journal['event_bytes']:.2f} x |",
            f"| the whole daemon (journal, history, queue file) "
            f"| {journal['all_bytes_per_event'] / 1000:.1f} KB for a {event_kb:.1f} KB event "
            f"= {journal['all_bytes_per_event'] / journal['event_bytes']:.2f} x |", "",
            "## Latency, ingest to invocation (open loop, `durability: fsync`)", "",
            "| events/s | events per request | events sent | failed requests | late sends "
            "| p50 | p99 |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results["latency"]:
        p50 = "–" if row["p50_ms"] is None else f"{row['p50_ms']:.2f} ms"
        p99 = "–" if row["p99_ms"] is None else f"{row['p99_ms']:.2f} ms"
        out.append(f"| {row['events_per_second']:,} | {row['events_per_request']} | "
                   f"{row['sent']:,} | {row['failed_requests']} | {row['late_sends']} | "
                   f"{p50} | {p99} |")
    out += ["", "## Start-up and memory by rule count", "",
            "| rules | validate | start to ready | resident memory | /metrics |",
            "|---:|---:|---:|---:|---:|"]
    for row in results["startup"]:
        out.append(f"| {row['rules']:,} | {row['validate']:.2f} s | {row['ready']:.2f} s | "
                   f"{row['rss']:.0f} MB | {row['metrics']:,.0f} KB |")
    return "\n".join(out) + "\n"


def plot(results, out: Path):
    if shutil.which("gnuplot") is None:
        return False
    ingest_data = out / "ingest.dat"
    ingest_data.write_text("".join(f"\"{row['case'].replace('`', '')}\" "
                                   f"{row['requests_per_second']:.0f}\n"
                                   for row in results["ingest"]))
    startup_data = out / "startup.dat"
    startup_data.write_text("".join(f"{row['rules']} {row['ready']:.3f} {row['rss']:.1f}\n"
                                    for row in results["startup"]))
    script = f"""set terminal pngcairo size 1100,460 font ",10"
set bmargin 7
set rmargin 14
set output "{out}/ingest.png"
set title "Ingest, requests/s (wrk -t1 -c32, one run)"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -20 scale 0
set yrange [0:*]
set grid ytics
unset key
plot "{ingest_data}" using 0:2:xtic(1) with boxes lc rgb "#3b6ea5"
set output "{out}/startup.png"
set title "Start-up by rule count"
set logscale x
set xlabel "rules"
set ylabel "seconds to ready"
set y2label "resident MB"
set ytics nomirror
set y2tics
set key top left
set xtics rotate by 0
plot "{startup_data}" using 1:2 with linespoints title "start to ready (s)", \\
     "{startup_data}" using 1:3 axes x1y2 with linespoints title "resident memory (MB)"
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=60)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / "build/eventrouter"))
    parser.add_argument("--out", default=str(ROOT / "build/bench-suite"))
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is missing: scripts/deps.sh installs it")
    seconds = 2 if args.short else 10
    many = 500 if args.short else 10000
    rates = [(200, 1)] if args.short else [(1000, 1), (10000, 10)]
    counts = [10, 500] if args.short else [10, 1000, 10000]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    command = "scripts/bench-suite.sh" + (" --short" if args.short else "")
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "load_average": f"{os.getloadavg()[0]:.1f}", "short": args.short}
    with tempfile.TemporaryDirectory(prefix="eventrouter-bench-") as work:
        try:
            results["ingest"], results["journal"] = ingest(args.binary, Path(work), seconds,
                                                           many)
            results["latency"] = latency(args.binary, Path(work), seconds, rates)
            results["startup"] = startup(args.binary, Path(work), counts)
        finally:
            Process.stop_all()
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results, command))
    plotted = plot(results, out)
    print((out / "results.md").read_text())
    print(f"written: {out}/results.md, results.json" + (", ingest.png, startup.png" if plotted
                                                         else " (no plots: gnuplot is missing)"))


if __name__ == "__main__":
    main()
