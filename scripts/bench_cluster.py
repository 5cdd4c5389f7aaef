#!/usr/bin/env python3
"""The cluster backend against the local journal, side by side in one run (stdlib only).

Run through scripts/bench-cluster.sh, which checks for wrk and nats-server:
    bench_cluster.py SECONDS CONNECTIONS     (binary: EVENTROUTER_BIN, else build/eventrouter)

Three setups, one after the other, each on free loopback ports in its own temp folder:
  1. journal      one router, durability: fsync (the SQLite journal)
  2. 1 router     bus.backend: nats on a fresh 3-node JetStream cluster, replicas 3
  3. 2 routers    two routers (a, b) on a fresh 3-node cluster, the load split between them
Each setup first measures end-to-end latency on an idle system (E2E_EVENTS findings at
E2E_RATE per second, sent one at a time, round-robin over the routers, each with detail.n; a
rule sends those to a webhook on a loopback receiver here; latency = receive time minus the
time just before the POST), then ingest throughput and latency with wrk (one GuardDuty
finding per POST /events; two wrk processes at once, half the connections each, for two
routers). A second rule sends every GuardDuty finding to a queue file (fsync: never); after
wrk the script waits (bounded) for the queue files to catch up, and reports how long that took.
"""
import ctypes
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
import uuid
import http.client
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from nats_cluster import NatsCluster  # noqa: E402

E2E_EVENTS = 200
E2E_RATE = 50.0  # events per second
E2E_WAIT = 30  # s, for the last webhook calls
START_TIMEOUT = 30  # s, per router: listening, then /readyz 200
DRAIN_TIMEOUT = 120  # s, for the queue files to catch up after wrk
FIXTURE = ROOT / "tests" / "fixtures" / "events" / "guardduty-credential-exfiltration.json"
PLACEHOLDER = "@" * 12
# Like bench/ingest/post_event.lua, but each request's event gets its own id: the cluster
# stores an event id once within bus.nats.duplicate_window (a retried PutEvents), so a fixed
# body would be accepted and dropped as a duplicate. The id keeps the fixture's UUID shape,
# its last 12 hex digits being the wrk process, the thread and a counter.
LUA_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  local file = assert(io.open(os.getenv("EVENT_FILE"), "rb"))
  local body = file:read("*a")
  file:close()
  local at = assert(body:find("%s", 1, true))
  head, tail = body:sub(1, at - 1), body:sub(at + 12)
  proc = tonumber(os.getenv("WRK_INDEX"))
  counter = 0
end
function request()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    head .. string.format("%%x%%x%%010x", proc, tid, counter) .. tail)
end
""" % PLACEHOLDER
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# --- webhook receiver ------------------------------------------------------------------------

class Receiver:
    """A loopback HTTP server recording when each detail.n first arrives."""

    def __init__(self):
        self.arrived = {}  # n -> perf_counter() at arrival (the first one)
        self.duplicates = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the webhook target reuses connections

            def do_POST(self):
                now = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    n = json.loads(body)["detail"]["n"]
                except (ValueError, KeyError, TypeError):
                    return
                with receiver.lock:
                    if n in receiver.arrived:
                        receiver.duplicates += 1
                    else:
                        receiver.arrived[n] = now

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.arrived = {}
            self.duplicates = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- routers ---------------------------------------------------------------------------------

class Router:
    def __init__(self, binary, folder, receiver_port, nats_servers=None, name=None):
        self.folder = Path(folder)
        (self.folder / "rules.d").mkdir(parents=True)
        # log level info: the "listening on" line is an info line.
        config = ("listen: 127.0.0.1:0\nrules_dir: rules.d\nstate_dir: state\n"
                  "log: { level: info }\n")
        if nats_servers is None:
            config += "durability: fsync\n"
        else:
            config += ("bus:\n  backend: nats\n  nats:\n"
                       f"    servers: {nats_servers}\n    replicas: 3\n"
                       f"    max_bytes: 512MiB\n    router_name: {name}\n")
        (self.folder / "eventrouter.yaml").write_text(config)
        (self.folder / "rules.d" / "bench.yaml").write_text(
            "rules:\n"
            "  - name: guardduty-to-queue\n"
            "    event_pattern: { source: [aws.guardduty] }\n"
            "    targets: [{ id: q, type: queue_file, path: queue.jsonl, fsync: never }]\n"
            "  - name: guardduty-e2e\n"
            "    event_pattern: { source: [aws.guardduty], detail: { n: [{ exists: true }] } }\n"
            f"    targets: [{{ id: hook, type: webhook, url: 'http://127.0.0.1:{receiver_port}/in' }}]\n")
        self.log_path = self.folder / "log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "serve", "-c", str(self.folder / "eventrouter.yaml")],
                cwd=self.folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log, preexec_fn=_die_with_parent)
        self.port = None

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.port is None:
                found = re.search(r"listening on 127\.0\.0\.1:(\d+)",
                                  self.log_path.read_text(errors="replace"))
                if found:
                    self.port = int(found.group(1))
            if self.port is not None:
                try:
                    with urllib.request.urlopen(self.url + "/readyz", timeout=1) as answer:
                        if answer.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"router in {self.folder} not ready within {START_TIMEOUT} s "
                           f"(exit code {self.proc.poll()}):\n{self.log_tail()}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def queue_lines(self):
        try:
            with open(self.folder / "state" / "queue.jsonl", "rb") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0

    def log_tail(self, chars=2000):
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- measurements ----------------------------------------------------------------------------

def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def end_to_end(routers, receiver, event):
    """Sends E2E_EVENTS findings at E2E_RATE, one at a time; returns the latencies (ms) and
    what went wrong."""
    receiver.reset()
    connections = [http.client.HTTPConnection("127.0.0.1", r.port, timeout=10) for r in routers]
    sent, failures = {}, 0
    start = time.perf_counter()
    try:
        for n in range(E2E_EVENTS):
            delay = start + n / E2E_RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event["detail"]["n"] = n
            event["id"] = str(uuid.uuid4())  # the cluster drops a repeated id (duplicate_window)
            body = json.dumps(event).encode()
            conn = connections[n % len(connections)]
            sent[n] = time.perf_counter()
            try:
                conn.request("POST", "/events", body, {"Content-Type": "application/json"})
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    failures += 1
                    del sent[n]
            except (OSError, http.client.HTTPException):
                failures += 1
                del sent[n]
                conn.close()
    finally:
        for conn in connections:
            conn.close()
    deadline = time.monotonic() + E2E_WAIT
    while time.monotonic() < deadline:
        with receiver.lock:
            if all(n in receiver.arrived for n in sent):
                break
        time.sleep(0.05)
    with receiver.lock:
        latencies = [(receiver.arrived[n] - t) * 1000 for n, t in sent.items()
                     if n in receiver.arrived]
        duplicates = receiver.duplicates
    return {"latencies": latencies, "failed": failures, "missing": len(sent) - len(latencies),
            "duplicates": duplicates}


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def start_wrk(work, index, url, threads, connections, seconds):
    lua, body = work / "post_event.lua", work / "event.json"
    if not lua.exists():
        lua.write_text(LUA_SCRIPT)
        event = json.loads(FIXTURE.read_text())
        event["id"] = event["id"][:-12] + PLACEHOLDER
        body.write_text(json.dumps(event))
    return subprocess.Popen(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(lua), url + "/events"],
        env={**os.environ, "EVENT_FILE": str(body), "WRK_INDEX": str(index)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_die_with_parent)


def parse_wrk(output):
    def find(pattern, default=None):
        found = re.search(pattern, output, re.M)
        return found.group(1) if found else default
    rps = find(r"^Requests/sec:\s+([\d.]+)")
    if rps is None:
        raise RuntimeError("wrk printed no Requests/sec:\n" + output)
    return {"rps": float(rps),
            "p50": _ms(find(r"^\s+50%\s+(\S+)")),
            "p99": _ms(find(r"^\s+99%\s+(\S+)")),
            "requests": int(find(r"^\s+(\d+) requests in", "0")),
            "non2xx": int(find(r"Non-2xx or 3xx responses:\s+(\d+)", "0")),
            "socket_errors": find(r"^\s+Socket errors:\s+(.*)$", "")}


def throughput(routers, seconds, connections):
    """wrk against every router at once, the connections split between them (2 wrk threads in
    all); the requests/s summed, the latency percentiles the worst of the processes'."""
    threads = 2 if len(routers) == 1 else 1
    share = max(1, connections // len(routers))
    work = routers[0].folder.parent
    procs = [start_wrk(work, i, r.url, threads, share, seconds) for i, r in enumerate(routers)]
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 60)
        outputs.append(out)
    runs = [parse_wrk(out) for out in outputs]
    return {"rps": sum(r["rps"] for r in runs),
            "p50": max(r["p50"] for r in runs),
            "p99": max(r["p99"] for r in runs),
            "requests": sum(r["requests"] for r in runs),
            "non2xx": sum(r["non2xx"] for r in runs),
            "socket_errors": "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]),
            "share": share, "threads": threads}


def drain(routers, expected, before):
    """Seconds until the queue files hold at least `expected` more lines than `before` and
    stop growing, or None after DRAIN_TIMEOUT."""
    start = time.monotonic()
    last, stable_since = -1, start
    while time.monotonic() - start < DRAIN_TIMEOUT:
        lines = sum(r.queue_lines() for r in routers) - before
        now = time.monotonic()
        if lines != last:
            last, stable_since = lines, now
        elif lines >= expected and now - stable_since >= 0.5:
            return stable_since - start, lines
        time.sleep(0.1)
    return None, last


def run_setup(label, routers, receiver, seconds, connections):
    for router in routers:
        router.wait_ready()
    event = json.loads(FIXTURE.read_text())
    t = time.monotonic()
    e2e = end_to_end(routers, receiver, event)
    print(f"   end-to-end: {len(e2e['latencies'])}/{E2E_EVENTS} arrived "
          f"({time.monotonic() - t:.1f} s)", flush=True)
    before = sum(r.queue_lines() for r in routers)
    ingest = throughput(routers, seconds, connections)
    accepted = ingest["requests"] - ingest["non2xx"]
    print(f"   wrk: {ingest['rps']:,.0f} requests/s, {accepted} accepted, "
          f"{ingest['non2xx']} non-2xx", flush=True)
    drained, lines = drain(routers, accepted, before)
    print(f"   queue files: {lines} lines, "
          f"{'caught up' if drained is not None else 'NOT caught up'}", flush=True)
    # Events delivered per second over the load: the queue files' lines over wrk's time plus
    # the catch-up after it (None when they did not catch up).
    delivered = lines / (seconds + drained) if drained is not None else None
    return {"label": label, "e2e": e2e, "ingest": ingest, "drained": drained,
            "lines": lines, "accepted": accepted, "delivered": delivered}


# --- report ----------------------------------------------------------------------------------

def fmt_ms(value):
    if value != value:  # nan
        return "–"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 \
        else f"{value:.0f} ms"


def report(results, seconds, connections, command):
    base = results[0]
    base_e2e = base["e2e"]["latencies"]
    print()
    print(f"{'setup':<28} {'requests/s':>10} {'ingest p50':>11} {'ingest p99':>11} "
          f"{'e2e p50':>9} {'e2e p99':>9} {'delivered/s':>11}")
    for r in results:
        lat = r["e2e"]["latencies"]
        print(f"{r['label']:<28} {r['ingest']['rps']:>10,.0f} {fmt_ms(r['ingest']['p50']):>11} "
              f"{fmt_ms(r['ingest']['p99']):>11} {fmt_ms(percentile(lat, 50)):>9} "
              f"{fmt_ms(percentile(lat, 99)):>9} "
              f"{'–' if r['delivered'] is None else format(r['delivered'], ',.0f'):>11}")
    print("delivered/s: queue-file lines over wrk's seconds plus the catch-up after wrk ended")
    print()
    for r in results[1:]:
        lat = r["e2e"]["latencies"]
        print(f"{r['label']}: ingest {r['ingest']['rps'] / base['ingest']['rps']:.2f}x journal, "
              f"ingest p50 {r['ingest']['p50'] / base['ingest']['p50']:.2f}x, "
              f"p99 {r['ingest']['p99'] / base['ingest']['p99']:.2f}x; "
              f"e2e p50 {percentile(lat, 50) / percentile(base_e2e, 50):.2f}x, "
              f"p99 {percentile(lat, 99) / percentile(base_e2e, 99):.2f}x journal")
    print()
    for r in results:
        e, i = r["e2e"], r["ingest"]
        drained = (f"queue files caught up {r['drained']:.1f} s after wrk"
                   if r["drained"] is not None
                   else f"queue files NOT caught up after {DRAIN_TIMEOUT} s")
        print(f"{r['label']}: wrk {i['requests']} requests ({i['threads']} thread(s) x "
              f"{i['share']} connections per router), non-2xx {i['non2xx']}"
              f"{', socket errors ' + i['socket_errors'] if i['socket_errors'] else ''}; "
              f"{drained} ({r['lines']} lines for {r['accepted']} accepted); "
              f"e2e {len(e['latencies'])}/{E2E_EVENTS} arrived, {e['failed']} POSTs failed, "
              f"{e['missing']} missing, {e['duplicates']} duplicates")
    print()
    print(f"command: {command}")


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    binary = os.environ.get("EVENTROUTER_BIN") or str(ROOT / "build" / "eventrouter")
    command = os.environ.get("BENCH_COMMAND") or " ".join(sys.argv)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no eventrouter binary at {binary} (set EVENTROUTER_BIN)")

    # SIGTERM and SIGHUP end the run like Ctrl-C: through the finally below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))

    work = Path(tempfile.mkdtemp(prefix="bench-cluster."))
    receiver, routers, clusters = None, [], []
    print(f"eventrouter cluster benchmark: {seconds} s of wrk per setup, {connections} "
          f"connections, 2 wrk threads; end-to-end: {E2E_EVENTS} events at {E2E_RATE:.0f}/s "
          f"to a webhook; binary {binary}", flush=True)
    try:
        receiver = Receiver()
        results = []

        print("== journal: 1 router, durability: fsync", flush=True)
        journal = Router(binary, work / "journal", receiver.port)
        routers.append(journal)
        results.append(run_setup("journal (1 router)", [journal], receiver, seconds,
                                 connections))
        journal.stop()

        for count in (1, 2):
            print(f"== {count} router(s) + 3-node NATS JetStream cluster, replicas 3",
                  flush=True)
            nats = NatsCluster(work / f"nats{count}", nodes=3)
            clusters.append(nats)
            nats.start()
            group = [Router(binary, work / f"cluster{count}-{name}", receiver.port,
                            nats.servers_yaml(), name) for name in "ab"[:count]]
            routers.extend(group)
            results.append(run_setup(f"{count} router{'s' if count > 1 else ''} + 3-node NATS",
                                     group, receiver, seconds, connections))
            for router in group:
                router.stop()
            nats.stop()
        report(results, seconds, connections, command)
    except BaseException:
        for router in routers:
            if router.proc.poll() is None or router.proc.returncode not in (0, None):
                print(f"--- {router.folder.name} log (tail) ---\n{router.log_tail()}",
                      file=sys.stderr)
        raise
    finally:
        for router in routers:
            router.stop()
        for nats in clusters:
            nats.stop()
        if receiver is not None:
            receiver.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
