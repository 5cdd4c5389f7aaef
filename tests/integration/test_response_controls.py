"""Dedup and storm control through the running daemon, with a real loopback webhook: GuardDuty
re-sends, refires on a higher severity, dedup state across a restart, and a storm of findings
summed up in one digest."""

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import base_config, curl, fixture_text, post_json, wait_for


class Hook:
    """A loopback webhook that keeps every body it is sent (answering 200)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bodies = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    hook.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/in"

    def received(self):
        with self.lock:
            return list(self.bodies)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def guardduty_rule(url, controls):
    return f"""rules:
  - name: guardduty-high
    event_pattern: {{source: [aws.guardduty], detail: {{severity: [{{numeric: [">=", 7]}}]}}}}
{controls}
    targets:
      - id: hook
        type: webhook
        url: {url}
        timeout: 2s
  - name: everything
    event_pattern: {{source: [aws.guardduty]}}
    targets:
      - id: all
        type: webhook
        url: {url}
        timeout: 2s
"""


DEDUP = """    dedup:
      key: [detail.id]
      window: 6h
      refire_when_changed: [detail.severity]"""


def finding(count, severity=8):
    event = json.loads(fixture_text("guardduty-credential-exfiltration.json"))
    event["detail"]["service"]["count"] = count
    event["detail"]["severity"] = severity
    event["id"] = f"event-{count}-{severity}"
    return event


def post(daemon, events):
    status, _, body = post_json(daemon.url + "/events", json.dumps(events))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    return body


def to_rule(hook):
    """Ids of the events delivered. Both rules send to one receiver: an event `guardduty-high`
    delivered appears twice (once for `everything`, which has no dedup)."""
    return [b["id"] for b in hook.received()]


def metric(daemon, line_start):
    _, _, text = curl(daemon.url + "/metrics")
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def settle(daemon):
    assert wait_for(lambda: "eventrouter_pending_deliveries 0" in curl(daemon.url + "/metrics")[2],
                    timeout=20)


def test_guardduty_resends_are_delivered_once_and_a_higher_severity_again(make_daemon, hook,
                                                                         backend):
    # On the cluster backend the router that takes the events decides (one router here).
    daemon = make_daemon(backend.config(), rules={"r.yaml": guardduty_rule(hook.url, DEDUP)})
    for count in (3, 4, 5, 6):
        post(daemon, [finding(count)])
    # `everything` has no dedup: four deliveries; `guardduty-high` one.
    assert wait_for(lambda: len(hook.received()) >= 5, timeout=20)
    settle(daemon)
    time.sleep(0.3)  # nothing else is on its way
    ids = to_rule(hook)
    assert sorted(ids) == sorted(["event-3-8", "event-3-8", "event-4-8", "event-5-8",
                                  "event-6-8"]), ids
    assert metric(daemon, 'eventrouter_dedup_suppressed_total{rule="guardduty-high"}') == 3

    post(daemon, [finding(7, severity=9)])  # GuardDuty raised the severity: delivered again
    post(daemon, [finding(8, severity=9)])  # and then suppressed again
    assert wait_for(lambda: len(hook.received()) >= 8, timeout=20)
    settle(daemon)
    time.sleep(0.3)
    ids = to_rule(hook)
    assert len(ids) == 8 and ids.count("event-7-9") == 2 and ids.count("event-8-9") == 1, ids
    assert metric(daemon, 'eventrouter_dedup_suppressed_total{rule="guardduty-high"}') == 4

    # GET /rules shows the settings.
    _, _, body = curl(daemon.url + "/rules")
    rule = next(r for r in json.loads(body)["rules"] if r["name"] == "guardduty-high")
    assert rule["dedup"] == {"key": ["detail.id"], "window": "6h",
                             "refire_when_changed": ["detail.severity"]}


def test_dedup_state_survives_a_restart(make_daemon, hook):
    daemon = make_daemon(base_config(), rules={"r.yaml": guardduty_rule(hook.url, DEDUP)})
    post(daemon, [finding(3)])
    settle(daemon)
    assert to_rule(hook).count("event-3-8") == 2
    assert daemon.stop() == 0
    daemon.start()
    post(daemon, [finding(4)])
    settle(daemon)
    ids = to_rule(hook)
    assert ids.count("event-4-8") == 1, ids  # only `everything`: guardduty-high remembered it
    assert metric(daemon, 'eventrouter_dedup_suppressed_total{rule="guardduty-high"}') == 1
    # A higher severity after the restart still refires against the stored values.
    post(daemon, [finding(5, severity=9)])
    settle(daemon)
    assert to_rule(hook).count("event-5-9") == 2


def test_with_durability_none_dedup_state_is_memory_only(make_daemon, hook):
    daemon = make_daemon(base_config(extra="durability: none\n"),
                         rules={"r.yaml": guardduty_rule(hook.url, DEDUP)})
    post(daemon, [finding(3)])
    post(daemon, [finding(4)])
    assert wait_for(lambda: len(hook.received()) == 3, timeout=20)
    daemon.stop()
    daemon.start()
    post(daemon, [finding(5)])
    assert wait_for(lambda: to_rule(hook).count("event-5-8") == 2, timeout=20)


STORM_RULE = """rules:
  - name: storm
    event_pattern: {{source: [aws.guardduty]}}
    max_invocations: {{count: 5, per: 3s, digest_field: detail.type}}
    targets:
      - id: hook
        type: webhook
        url: {url}
        timeout: 2s
"""

TYPES = ["Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce",
         "CryptoCurrency:EC2/BitcoinTool.B"]


def small_finding(n):
    return {"source": "aws.guardduty", "detail-type": "GuardDuty Finding",
            "id": f"storm-{n:04d}", "account": "123456789012", "region": "us-east-1",
            "detail": {"id": f"finding-{n}", "type": TYPES[n % 3], "severity": 5}}


def test_a_storm_gives_count_deliveries_then_one_digest(make_daemon, hook, backend):
    # The cluster's router counts the events as it takes them from the stream, later than
    # ingest: a longer window keeps the whole storm in one window on a busy machine.
    per = "3s" if backend.name == "journal" else "10s"
    rules = STORM_RULE.format(url=hook.url).replace("per: 3s", f"per: {per}")
    daemon = make_daemon(backend.config(), rules={"r.yaml": rules})
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    started = time.time()
    for first in range(0, 1000, 250):  # four requests of 250 findings (60 KiB each)
        post(daemon, [small_finding(n) for n in range(first, first + 250)])
    assert time.time() - started < 3, "the storm must fit in the window for this test"
    digests = wait_for(lambda: [b for b in hook.received() if b["source"] == "eventrouter"],
                       timeout=30)
    assert len(digests) == 1, hook.received()
    settle(daemon)
    time.sleep(0.5)  # nothing else is on its way
    received = hook.received()
    findings = [b for b in received if b["source"] == "aws.guardduty"]
    assert sorted(b["id"] for b in findings) == [f"storm-{n:04d}" for n in range(5)]
    digest = [b for b in received if b["source"] == "eventrouter"]
    assert len(digest) == 1
    digest = digest[0]
    assert digest["detail-type"] == "Eventrouter Storm Digest"
    assert digest["account"] == "123456789012" and digest["region"] == "us-east-1"
    detail = digest["detail"]
    assert detail["rule"] == "storm"
    assert detail["delivered"] == 5 and detail["held"] == 995
    assert detail["first_held_event_id"] == "storm-0005"
    assert detail["last_held_event_id"] == "storm-0999"
    assert detail["distinct"] == {"detail.type": sorted(TYPES)}
    assert detail["distinct_truncated"] is False
    assert detail["window_start"] < detail["window_end"]
    assert metric(daemon, 'eventrouter_storm_held_total{rule="storm"}') == 995
    # Held events are archived: a replay (which bypasses storm control) delivers them all.
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    status, _, body = post_json(daemon.url + "/replays", json.dumps(
        {"name": "after-storm", "rule": "storm", "from": since, "to": until}))
    # The cluster's routers plan replayed events as they take them: no count of deliveries.
    assert status == 200 and body["events_replayed"] >= 1000, body
    replayed = wait_for(lambda: len([b for b in hook.received() if b.get("replay-name")]) == 1000,
                        timeout=60)
    assert replayed
    assert metric(daemon, 'eventrouter_storm_held_total{rule="storm"}') == 995


def test_the_open_window_digest_goes_out_at_shutdown(make_daemon, hook):
    rules = STORM_RULE.format(url=hook.url).replace("per: 3s", "per: 1h")
    daemon = make_daemon(base_config(), rules={"r.yaml": rules})
    post(daemon, [small_finding(n) for n in range(8)])
    assert wait_for(lambda: len(hook.received()) == 5, timeout=15)
    assert daemon.stop() == 0
    # Recorded at shutdown; delivered then, or at the next start from the journal.
    if not any(b["source"] == "eventrouter" for b in hook.received()):
        daemon.start()
    digests = wait_for(lambda: [b for b in hook.received() if b["source"] == "eventrouter"],
                       timeout=15)
    assert len(digests) == 1
    assert digests[0]["detail"]["held"] == 3 and digests[0]["detail"]["delivered"] == 5


def test_routers_of_a_cluster_share_their_dedup_keys(tmp_path):
    """A duplicate taken by another router (here: router b, started after router a delivered the
    first copy and stopped) is suppressed: the keys live in the cluster's bucket."""
    from cluster_peers import Receiver, cluster_config
    from conftest import Daemon
    from nats_cluster import NatsCluster, available
    if not available():
        pytest.skip("nats-server is not installed (scripts/deps.sh installs it)")
    receiver = Receiver()
    rules = {"r.yaml": f"""rules:
  - name: guardduty-high
    event_pattern: {{source: [aws.guardduty]}}
{DEDUP}
    targets:
      - {{id: high, type: webhook, url: "{receiver.url('high')}"}}
"""}
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        a = Daemon(tmp_path / "a", cluster_config(nats, "a"), rules).start()
        b = Daemon(tmp_path / "b", cluster_config(nats, "b"), rules)
        try:
            assert a.wait_for_log("stream EVENTROUTER ready", 20)
            post(a, [finding(3)])
            assert wait_for(lambda: receiver.received("high") == {"event-3-8"}, timeout=20)
            assert a.stop() == 0
            b.start()
            assert b.wait_for_log("stream EVENTROUTER ready", 20)
            post(b, [finding(4)])  # the same finding, re-sent: b takes it
            assert wait_for(lambda: metric(
                b, 'eventrouter_dedup_suppressed_total{rule="guardduty-high"}') == 1, timeout=20)
            post(b, [finding(5, severity=9)])  # a higher severity fires on b
            assert wait_for(lambda: "event-5-9" in receiver.received("high"), timeout=20)
            time.sleep(0.5)
            assert receiver.received("high") == {"event-3-8", "event-5-9"}
        finally:
            a.stop()
            b.stop()
            receiver.close()
