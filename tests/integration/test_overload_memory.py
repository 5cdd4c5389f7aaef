"""Bounded memory under overload: with a webhook that is down, ingest takes events until the
pending deliveries hold delivery.max_pending_bytes, then answers 503 TooManyPendingBytes with
Retry-After; resident memory stays near the bound; every acknowledged event is delivered once
the receiver comes up, and the memory the backlog used is given back. In both durability modes."""
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import SANITIZED, base_config, fixture_text, free_port, post_json, wait_for

MIB = 1 << 20
BOUND = 8 * MIB
BATCH = 10  # findings per request
MAX_REQUESTS = 2000
LOAD_SECONDS = 90


class Receiver:
    """A loopback webhook receiver on a given port, recording each finding's number."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.numbers = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.numbers.add(json.loads(body)["detail"].get("n"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128  # the whole backlog connects at once

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        with self.lock:
            return set(self.numbers)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def metric(daemon, name):
    with urllib.request.urlopen(daemon.url + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def hook_rule(port):
    return f"""rules:
  - name: findings
    event_pattern: {{source: [aws.guardduty]}}
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:{port}/in
        timeout: 2s
"""


@pytest.mark.parametrize("durability", ["none", "fsync"])
def test_memory_stays_bounded_under_overload_and_is_given_back(make_daemon, durability):
    port = free_port()
    config = base_config(extra=f"durability: {durability}\nallow_unauthenticated: true\n"
                               "delivery:\n  max_pending_bytes: 8MiB\n"
                               # Retries every 0.3 to 3 s: deliveries stay pending while the
                               # port is closed and go out soon after the receiver starts.
                               "  backoff_base: 3s\n  backoff_cap: 3s\n")
    daemon = make_daemon(config, rules={"hook.yaml": hook_rule(port)})
    finding = json.loads(fixture_text("guardduty-credential-exfiltration.json"))
    baseline = rss_kib(daemon.proc.pid)

    acknowledged, refusal, n = set(), None, 0
    deadline = time.time() + LOAD_SECONDS
    for _ in range(MAX_REQUESTS):
        if time.time() > deadline:
            break
        batch = []
        for _ in range(BATCH):
            batch.append({**finding, "id": f"00000000-0000-4000-8000-{n:012d}",
                          "detail": {**finding["detail"], "n": n}})
            n += 1
        status, headers, body = post_json(daemon.url + "/events", json.dumps(batch))
        if status == 200:
            assert body["FailedEntryCount"] == 0, body
            acknowledged.update(item["detail"]["n"] for item in batch)
            continue
        refusal = (status, headers, body)
        break

    assert refusal is not None, f"no refusal after {len(acknowledged)} acknowledged findings"
    status, headers, body = refusal
    assert status == 503, refusal
    assert body["error"]["code"] == "TooManyPendingBytes", body
    assert "delivery.max_pending_bytes" in body["error"]["message"]
    assert int(headers["retry-after"]) > 0
    # The bound holds what 8 MiB of 2.6 KB findings and their deliveries take: some thousands.
    assert 1000 < len(acknowledged) < BOUND // 2600, len(acknowledged)
    held = metric(daemon, "eventrouter_pending_bytes")
    assert BOUND <= held < BOUND + BATCH * 8 * 1024, held  # past it by one request at most
    loaded = rss_kib(daemon.proc.pid)
    if not SANITIZED:  # what is resident under AddressSanitizer is mostly its own
        assert loaded < baseline + 3 * BOUND // 1024, (
            f"resident {loaded} KiB, baseline {baseline} KiB, bound {BOUND // 1024} KiB")

    # Still refused while nothing drains.
    status, _, body = post_json(daemon.url + "/events", json.dumps([finding]))
    assert (status, body["error"]["code"]) == (503, "TooManyPendingBytes")

    receiver = Receiver(port)
    try:
        missing = lambda: acknowledged - receiver.received()
        assert wait_for(lambda: not missing(), timeout=60), (
            f"{len(missing())} acknowledged findings never delivered, e.g. {sorted(missing())[:5]}")
        assert wait_for(lambda: metric(daemon, "eventrouter_pending_bytes") == 0, timeout=20)
        # The backlog is gone, so its memory is given back to the system.
        if not SANITIZED:
            assert daemon.wait_for_log(r"malloc_trim gave memory back", timeout=10), (
                daemon.log()[-3000:])
            drained = rss_kib(daemon.proc.pid)
            print(f"\n{durability}: {len(acknowledged)} findings acknowledged; resident KiB: "
                  f"baseline {baseline}, loaded {loaded}, drained {drained}")
            assert drained < loaded, (baseline, loaded, drained)
        # Ingest takes events again.
        status, _, _ = post_json(daemon.url + "/events", json.dumps([finding]))
        assert status == 200
    finally:
        receiver.close()
