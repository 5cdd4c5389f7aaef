"""A slow or hanging webhook receiver costs only its own deliveries: while a burst of events
piles deliveries up behind such receivers, /healthz and ingest keep answering promptly (ingest
with 503 + Retry-After once delivery.max_pending_deliveries is reached), each webhook target
has at most max_concurrency requests at its receiver, on kept-alive connections, and the
daemon never runs out of local ports."""
import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import base_config

SLOW_SECONDS = 0.5       # the slow receiver's time per request
MAX_CONCURRENCY = 4      # each webhook target's limit in this test
MAX_PENDING = 200        # delivery.max_pending_deliveries
LOAD_SECONDS = 4         # how long the clients post
CLIENTS = 4              # posting threads
MAX_POSTS_PER_CLIENT = 3000
HEALTHZ_BOUND = 1.0      # seconds: a behaviour bound (answered at all, and soon), not a benchmark
INGEST_BOUND = 2.0


class Peak:
    """Counts what is open now, per key, and remembers the most seen at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = {}
        self.peak = {}
        self.connections = {}  # key -> distinct client ports
        self.requests = {}

    def enter(self, key, port):
        with self.lock:
            self.now[key] = self.now.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self.now[key])
            self.connections.setdefault(key, set()).add(port)
            self.requests[key] = self.requests.get(key, 0) + 1

    def leave(self, key):
        with self.lock:
            self.now[key] -= 1


class SlowReceiver:
    """HTTP/1.1 with keep-alive; every request takes SLOW_SECONDS. Keyed by path: one path per
    webhook target."""

    def __init__(self):
        self.peak = Peak()
        peak = self.peak

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                peak.enter(self.path, self.client_address[1])
                try:
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    time.sleep(SLOW_SECONDS)
                finally:
                    # Before the answer leaves: the client may reuse the slot at once.
                    peak.leave(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request, client_address):
                pass  # clients that go away at the end

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class HangingReceiver:
    """Accepts connections and never answers. A connection counts as open until the client
    closes it (as the webhook does when its timeout passes); closes are noticed at each accept,
    before the new connection is counted: the webhook closes a timed-out connection before its
    slot opens another, so nothing is counted that was not open at once."""

    def __init__(self):
        self.peak = Peak()
        self.open = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    @staticmethod
    def closed_by_client(conn):
        # Reads what has arrived (the request, unanswered) to find an end of stream behind it.
        while True:
            try:
                data = conn.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return False
            except OSError:
                return True
            if not data:
                return True

    def accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, address = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            for old in [c for c in self.open if self.closed_by_client(c)]:
                self.open.remove(old)
                old.close()
                self.peak.leave("all")
            self.open.append(conn)
            self.peak.enter("all", address[1])

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def receivers():
    slow, hanging = SlowReceiver(), HangingReceiver()
    yield slow, hanging
    slow.stop()
    hanging.stop()


def rules_for(slow_port, hanging_port):
    # Five webhook targets on one rule, as in the report that found the problem: three to the
    # slow receiver (one path each), two to the one that never answers.
    targets = []
    for n in range(3):
        targets.append(f"""      - id: slow-{n}
        type: webhook
        url: http://127.0.0.1:{slow_port}/slow-{n}
        max_concurrency: {MAX_CONCURRENCY}
        retry_policy: {{maximum_retry_attempts: 2}}
        dead_letter: {{path: dlq.jsonl}}
""")
    for n in range(2):
        targets.append(f"""      - id: hang-{n}
        type: webhook
        url: http://127.0.0.1:{hanging_port}/hang-{n}
        max_concurrency: {MAX_CONCURRENCY}
        timeout: 1s
        retry_policy: {{maximum_retry_attempts: 1}}
        dead_letter: {{path: dlq.jsonl}}
""")
    return """rules:
  - name: fan-out
    event_pattern: {source: [load]}
    targets:
""" + "".join(targets)


def timed_request(conn, method, path, body=None):
    """One request on `conn` (kept alive): (status, headers, body, seconds)."""
    started = time.monotonic()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read()
    return response.status, dict(response.getheaders()), text, time.monotonic() - started


def test_slow_and_hanging_receivers_cost_only_their_own_deliveries(make_daemon, receivers):
    slow, hanging = receivers
    config = base_config(extra=f"""durability: none
delivery:
  max_pending_deliveries: {MAX_PENDING}
  shutdown_grace: 1s
""").replace("level: debug", "level: info")
    daemon = make_daemon(config_text=config,
                         rules={"fan-out.yaml": rules_for(slow.port, hanging.port)})

    stop_load = threading.Event()
    load_over = threading.Event()
    results = []  # (status, retry_after, code, seconds) per ingest request
    errors = []
    healthz = []  # seconds per /healthz
    lock = threading.Lock()

    def connect():
        return http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)

    def client(n):
        event = json.dumps({"source": "load", "detail-type": "burst", "detail": {"client": n}})
        conn = connect()
        for _ in range(MAX_POSTS_PER_CLIENT):
            if stop_load.is_set():
                break
            try:
                status, headers, text, seconds = timed_request(conn, "POST", "/events", event)
            except (OSError, http.client.HTTPException) as e:  # timeouts too: no answer in time
                with lock:
                    errors.append(repr(e))
                conn.close()
                conn = connect()
                continue
            code = json.loads(text)["error"]["code"] if status == 503 else ""
            with lock:
                results.append((status, headers.get("Retry-After"), code, seconds))
        conn.close()

    def probe():
        # Every 100 ms during the load and for two seconds after it, each on a new connection
        # (as a health checker does).
        end = None
        while end is None or time.monotonic() < end:
            if end is None and load_over.is_set():
                end = time.monotonic() + 2
            conn = connect()
            try:
                status, _, _, seconds = timed_request(conn, "GET", "/healthz")
                with lock:
                    healthz.append(seconds if status == 200 else float("inf"))
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append("healthz: " + repr(e))
            finally:
                conn.close()
            time.sleep(0.1)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    prober = threading.Thread(target=probe)
    prober.start()
    for thread in clients:
        thread.start()
    time.sleep(LOAD_SECONDS)
    stop_load.set()
    for thread in clients:
        thread.join(15)
    load_over.set()
    prober.join(15)
    assert not any(t.is_alive() for t in clients + [prober]), "a client did not finish"

    log = daemon.log()
    assert not errors, f"requests failed or timed out: {errors[:5]}"
    assert healthz and max(healthz) < HEALTHZ_BOUND, \
        f"/healthz took up to {max(healthz):.2f}s over {len(healthz)} probes"

    statuses = {status for status, _, _, _ in results}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses, "no event was accepted"
    # The pending bound engages: the slow targets drain 3 x 4 / 0.5 s = 24 deliveries a second,
    # far below what the clients post.
    shed = [r for r in results if r[0] == 503]
    assert shed, f"ingest never answered 503 ({len(results)} requests)"
    assert all(code == "TooManyPendingDeliveries" and retry_after for _, retry_after, code, _ in
               shed), shed[:3]
    slowest = max(seconds for _, _, _, seconds in results)
    assert slowest < INGEST_BOUND, f"an ingest answer took {slowest:.2f}s"

    # Each target's requests at its receiver stay within max_concurrency, on reused
    # connections.
    for n in range(3):
        path = f"/slow-{n}"
        assert slow.peak.requests.get(path, 0) > 0, f"{path} got nothing"
        assert slow.peak.peak[path] <= MAX_CONCURRENCY, (path, slow.peak.peak[path])
        assert len(slow.peak.connections[path]) <= MAX_CONCURRENCY, \
            (path, len(slow.peak.connections[path]), slow.peak.requests[path])
    # Both hanging targets share one receiver: at most their two limits' worth of connections.
    # Timed-out requests free their slots: the queued deliveries behind them went out.
    assert hanging.peak.requests.get("all", 0) > 2 * MAX_CONCURRENCY, hanging.peak.requests
    assert hanging.peak.peak["all"] <= 2 * MAX_CONCURRENCY, hanging.peak.peak["all"]

    assert "Cannot assign requested address" not in log
    assert "local resources exhausted" not in log
    assert daemon.stop(15) == 0, log
