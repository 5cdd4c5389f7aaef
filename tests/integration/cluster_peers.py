"""What the cluster backend's tests share: routers configured for a NATS cluster, a webhook
receiver that counts deliveries per target and event, and a load that posts events to several
routers and keeps the ids of those a router acknowledged."""
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def cluster_config(nats, router_name, ack_wait="3s", replicas=None, extra=""):
    replicas = replicas or nats.size()
    return f"""listen: 127.0.0.1:0
rules_dir: rules.d
state_dir: state
log: {{level: info}}
delivery: {{backoff_base: 200ms, backoff_cap: 1s}}
bus:
  backend: nats
  nats:
    servers: {nats.servers_yaml()}
    replicas: {replicas}
    ack_wait: {ack_wait}
    router_name: {router_name}
    max_bytes: 64MiB
{extra}"""


class Receiver:
    """A webhook receiver on loopback: /PATH records each request's event id under PATH; paths
    listed in `delays` answer after that many seconds (a slow responder)."""

    def __init__(self, delays=None, failing=()):
        self.delays = delays or {}
        self.failing = set(failing)
        self.lock = threading.Lock()
        self.deliveries = Counter()  # (target, event id) -> times received
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.path.strip("/")
                try:
                    event_id = json.loads(body).get("id", "")
                except ValueError:
                    event_id = ""
                with receiver.lock:
                    receiver.deliveries[(target, event_id)] += 1
                time.sleep(receiver.delays.get(target, 0))
                self.send_response(500 if target in receiver.failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, target):
        return f"http://127.0.0.1:{self.server.server_address[1]}/{target}"

    def received(self, target):
        with self.lock:
            return {event for (t, event), n in self.deliveries.items() if t == target}

    def duplicates(self, target, events=None):
        with self.lock:
            return {event: n for (t, event), n in self.deliveries.items()
                    if t == target and n > 1 and (events is None or event in events)}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def post_event(url, n, timeout=10):
    """Posts one event; returns its id when the router acknowledged it (200), else None."""
    body = json.dumps({"source": "loadgen", "detail-type": "Finding", "detail": {"n": n}}).encode()
    request = urllib.request.Request(url + "/events", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
            if answer.get("FailedEntryCount", 1) == 0:
                return answer["Entries"][0]["EventId"]
    except (urllib.error.URLError, OSError, ValueError):
        pass
    return None


class Load:
    """Posts events at about `rate` a second, in turn to each live router, until stopped or
    `limit` events; a refused or failed post is retried (as a new event) on the next router,
    as a client with several routers behind a load balancer would."""

    def __init__(self, urls, rate=40, limit=2000):
        self.urls = list(urls)
        self.rate = rate
        self.limit = limit
        self.acknowledged = []
        self.refused = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def run(self):
        n = 0
        turn = 0
        while self.running and n < self.limit:
            url = self.urls[turn % len(self.urls)]
            turn += 1
            event_id = post_event(url, n)
            if event_id is None:
                self.refused += 1
                time.sleep(0.05)  # as a client honouring Retry-After would, if more briefly
                continue
            self.acknowledged.append(event_id)
            n += 1
            time.sleep(1.0 / self.rate)

    def stop(self):
        self.running = False
        self.thread.join(30)

    def drop(self, url):
        """Stops sending to `url` (its router was killed)."""
        self.urls = [u for u in self.urls if u != url] or self.urls


def metric(url, name):
    """The value of an unlabelled metric, or 0."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0
