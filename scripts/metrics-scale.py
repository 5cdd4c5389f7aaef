#!/usr/bin/env python3
"""The size of one GET /metrics scrape with many rules, for one or more daemon binaries.

Each binary runs in turn on a free loopback port with RULES generated rules (one target each:
webhooks to a loopback receiver and queue files, alternating), then DELIVER events that match
the first DELIVER rules, one each. Three scrapes follow; the script prints their size in bytes
and lines, the median time of one scrape, and the ten largest metric families by bytes.

  scripts/metrics-scale.py [--rules N] [--deliver N] [BINARY ...]   default: build/eventrouter
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")
HISTOGRAM_SUFFIX = re.compile(r"_(bucket|sum|count)$")


class Receiver:
    """A loopback webhook peer that answers 200 to everything."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a daemon that stops drops its kept-alive connections: not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def rules_yaml(count, receiver_port, queue_path):
    out = ["rules:"]
    for n in range(count):
        out.append(f"  - name: bench-rule-{n:05d}")
        out.append(f'    event_pattern: {{source: [bench.metrics], detail-type: ["rule-{n}"]}}')
        if n % 2 == 0:
            out.append(f"    targets: [{{id: hook, type: webhook, "
                       f"url: 'http://127.0.0.1:{receiver_port}/hook', timeout: 2s}}]")
        else:
            out.append(f"    targets: [{{id: queue, type: queue_file, path: '{queue_path}', "
                       f"fsync: never}}]")
    return "\n".join(out) + "\n"


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def start(binary, folder, rules, receiver_port):
    (folder / "rules.d").mkdir(parents=True)
    (folder / "eventrouter.yaml").write_text(
        "listen: 127.0.0.1:0\nrules_dir: rules.d\nstate_dir: state\ndurability: none\n"
        "history: { enabled: false }\nlog: { level: info }\n")
    (folder / "rules.d" / "bench.yaml").write_text(
        rules_yaml(rules, receiver_port, folder / "queue.jsonl"))
    log = open(folder / "log", "w+")
    command = [str(pathlib.Path(binary).resolve()), "serve", "-c", str(folder / "eventrouter.yaml")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, cwd=folder)
    deadline = time.time() + 120
    while time.time() < deadline:
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", (folder / "log").read_text())
        if found:
            return process, f"http://127.0.0.1:{found.group(1)}"
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    sys.exit(f"{binary} did not start:\n" + (folder / "log").read_text()[-4000:])


def deliver(url, count):
    for first in range(0, count, 10):
        entries = [{"source": "bench.metrics", "detail-type": f"rule-{n}", "detail": {"n": n}}
                   for n in range(first, min(first + 10, count))]
        request = urllib.request.Request(url + "/events", data=json.dumps(entries).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
            assert body["FailedEntryCount"] == 0, body
    deadline = time.time() + 60
    while time.time() < deadline:
        if re.search(rb"^eventrouter_pending_deliveries 0$", get(url + "/metrics"), re.M):
            return
        time.sleep(0.2)
    sys.exit("deliveries did not finish within 60 s")


def families(text):
    """{family: [bytes, lines]} of the sample lines (histogram suffixes folded into their
    family), plus the HELP and TYPE lines."""
    sizes = {}
    for line in text.splitlines():
        if line.startswith("# "):
            name = line.split(" ", 3)[2]
        else:
            name = HISTOGRAM_SUFFIX.sub("", SAMPLE_NAME.match(line).group(1))
        size = sizes.setdefault(name, [0, 0])
        size[0] += len(line) + 1
        size[1] += 1
    return sizes


def measure(binary, rules, count, receiver):
    with tempfile.TemporaryDirectory(prefix="metrics-scale-") as work:
        process, url = start(binary, pathlib.Path(work), rules, receiver.port)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    get(url + "/healthz", timeout=5)
                    break
                except OSError:
                    time.sleep(0.2)
            deliver(url, count)
            took, text = [], b""
            for _ in range(3):
                began = time.perf_counter()
                text = get(url + "/metrics")
                took.append(time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait(timeout=30)
    decoded = text.decode()
    print(f"== {binary}: {rules} rules, {count} delivered")
    print(f"   {len(text):,} bytes, {decoded.count(chr(10)):,} lines, "
          f"{statistics.median(took) * 1000:.1f} ms per scrape (median of 3)")
    top = sorted(families(decoded).items(), key=lambda item: -item[1][0])[:10]
    for name, (size, lines) in top:
        print(f"   {size:>12,} bytes {lines:>9,} lines  {name}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=10000)
    parser.add_argument("--deliver", type=int, default=100)
    parser.add_argument("binaries", nargs="*", default=[str(ROOT / "build" / "eventrouter")])
    args = parser.parse_args()
    if not 0 <= args.deliver <= args.rules:
        sys.exit("--deliver must be between 0 and --rules")
    receiver = Receiver()
    try:
        for binary in args.binaries:
            measure(binary, args.rules, args.deliver, receiver)
    finally:
        receiver.close()


if __name__ == "__main__":
    main()
