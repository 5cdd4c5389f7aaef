"""Scheduled rules as a user meets them: the Scheduled Event reaches the rule's targets (and only
theirs) at every due time, a failing target retries and dead-letters like any delivery, a
disabled or removed schedule stops firing, bad expressions are refused with their position, and
routers sharing a NATS cluster deliver each due time once.

Schedules run on a test clock (EVENTROUTER_TEST_SCHEDULE_CLOCK="60,ORIGIN"): a scheduled minute
passes every real second, so rate(1 minute) fires about once a second."""
import json
import re
import subprocess
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster_peers import Receiver, cluster_config
from conftest import BINARY, Daemon, base_config, curl, wait_for
from nats_cluster import SKIP_REASON, NatsCluster, available

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def fast_clock(monkeypatch):
    """Schedules run 60 times faster, from now on (the daemons inherit the variable)."""
    monkeypatch.setenv("EVENTROUTER_TEST_SCHEDULE_CLOCK", f"60,{int(time.time())}")


class Hook:
    """A loopback webhook that keeps each request's path and JSON body; paths in `failing`
    answer 503."""

    def __init__(self, failing=()):
        self.failing = set(failing)
        self.lock = threading.Lock()
        self.requests = []  # (path, event)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.strip("/")
                with hook.lock:
                    hook.requests.append((path, json.loads(body)))
                self.send_response(503 if path in hook.failing else 200)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path}"

    def events(self, path):
        with self.lock:
            return [event for p, event in self.requests if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook(failing={"failing"})
    yield h
    h.close()


def scheduled_rule(name, schedule, url, extra=""):
    return f"""  - name: {name}
    schedule: {schedule}
{extra}    targets:
      - {{id: hook, type: webhook, url: "{url}"}}
"""


def fires(url, rule):
    """eventrouter_schedule_fires_total of `rule`, or 0."""
    _, _, text = curl(url + "/metrics")
    found = re.search(r'eventrouter_schedule_fires_total\{rule="%s"\} (\d+)' % re.escape(rule),
                      text)
    return int(found.group(1)) if found else 0


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def test_a_schedule_sends_the_scheduled_event_to_its_rule_only(make_daemon, hook, fast_clock):
    rules = "rules:\n" + scheduled_rule("heartbeat", "rate(1 minute)", hook.url("beat")) + \
        scheduled_rule("on-ops", "cron(* * * * ? *)", hook.url("ops"), "    bus: ops\n") + \
        scheduled_rule("off", "rate(1 minute)", hook.url("off"), "    state: DISABLED\n") + f"""
  - name: catches-aws-events
    event_pattern: {{source: [aws.events]}}
    targets:
      - {{id: hook, type: webhook, url: "{hook.url('pattern')}"}}
"""
    daemon = make_daemon(rules={"s.yaml": rules})
    assert wait_for(lambda: len(hook.events("beat")) >= 3, timeout=20), daemon.log()
    events = hook.events("beat")[:3]
    for event in events:
        assert set(event) == {"version", "id", "detail-type", "source", "account", "time",
                              "region", "resources", "detail"}
        assert event["version"] == "0"
        assert UUID.match(event["id"]), event["id"]
        assert event["detail-type"] == "Scheduled Event"
        assert event["source"] == "aws.events"
        assert event["account"] == "000000000000"
        assert event["region"] == "us-east-1"
        assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/heartbeat"]
        assert event["detail"] == {}
        assert parse_time(event["time"]).second == 0
    # One event per due time, on whole minutes (of schedule time), each with its own id.
    # (Deliveries run in parallel, so they may arrive out of order.)
    events = hook.events("beat")
    times = sorted(parse_time(e["time"]) for e in events)
    assert len(set(times)) == len(times)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap % timedelta(minutes=1) == timedelta(0) for gap in gaps), times
    assert min(gaps) == timedelta(minutes=1), times
    assert len({e["id"] for e in events}) == len(events)

    # A rule on another bus names its bus in the ARN.
    assert wait_for(lambda: hook.events("ops"), timeout=10), daemon.log()
    assert hook.events("ops")[0]["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/ops/on-ops"]
    # Not matched against patterns; a disabled schedule does not fire.
    assert hook.events("pattern") == []
    assert hook.events("off") == []

    status, _, body = curl(daemon.url + "/rules")
    shown = {r["name"]: r for r in json.loads(body)["rules"]}
    assert shown["heartbeat"]["schedule"] == "rate(1 minute)"
    assert "event_pattern" not in shown["heartbeat"]
    assert shown["heartbeat"]["match_count"] >= 3
    assert fires(daemon.url, "heartbeat") >= 3
    assert fires(daemon.url, "off") == 0


def test_a_reload_that_disables_a_schedule_stops_it(make_daemon, hook, fast_clock):
    rule = scheduled_rule("heartbeat", "rate(1 minute)", hook.url("beat"))
    daemon = make_daemon(rules={"s.yaml": "rules:\n" + rule})
    assert wait_for(lambda: len(hook.events("beat")) >= 1, timeout=20), daemon.log()
    (daemon.rules_dir / "s.yaml").write_text(
        "rules:\n" + scheduled_rule("heartbeat", "rate(1 minute)", hook.url("beat"),
                                    "    state: DISABLED\n"))
    assert daemon.wait_for_log("rules reloaded", 10), daemon.log()
    time.sleep(1.5)  # a fire in flight when the reload came may still land
    before = len(hook.events("beat"))
    time.sleep(3)  # three scheduled minutes
    assert len(hook.events("beat")) == before


def test_a_failing_scheduled_target_retries_then_dead_letters(make_daemon, hook, fast_clock,
                                                              backend):
    rules = f"""rules:
  - name: sweep
    schedule: rate(1 minute)
    targets:
      - id: down
        type: webhook
        url: "{hook.url('failing')}"
        retry_policy: {{maximum_retry_attempts: 1, maximum_event_age_seconds: 60}}
"""
    config = backend.config(extra="delivery: {backoff_base: 50ms, backoff_cap: 100ms}\n")
    daemon = make_daemon(config, rules={"s.yaml": rules})
    letters = wait_for(lambda: backend.dead_letters(daemon), timeout=30)
    assert letters, daemon.log()
    letter = letters[0]
    assert letter["rule"] == "sweep" and letter["target"] == "down"
    event = json.loads(letter["event"]) if isinstance(letter["event"], str) else letter["event"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/sweep"]
    # The first attempt and one retry, then the dead letter.
    attempts = [e for e in hook.events("failing") if e["id"] == event["id"]]
    assert len(attempts) == 2, attempts


def validate(daemon):
    return subprocess.run([BINARY, "validate", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=30)


def test_validate_and_start_refuse_bad_schedules(workdir):
    rules = """rules:
  - name: typo
    targets: [{id: q, type: queue_file, path: q.jsonl}]
    schedule: cron(0 12 ? * MOX *)
  - name: both
    event_pattern: {source: [x]}
    schedule: rate(5 minutes)
    targets: [{id: q, type: queue_file, path: q.jsonl}]
  - name: singular
    schedule: rate(5 minute)
    targets: [{id: q, type: queue_file, path: q.jsonl}]
  - name: february
    schedule: cron(0 0 30 2 ? *)
    targets: [{id: q, type: queue_file, path: q.jsonl}]
"""
    daemon = Daemon(workdir / "d", base_config(), {"x.yaml": rules})
    result = validate(daemon)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert ("rules.d/x.yaml:4:15: schedule: cron field 5 (day-of-week) 'MOX' at character 15: "
            "expected 1-7, SUN-SAT, ?, *, L or #") in out
    assert ("rules.d/x.yaml:7:5: rule 'both' has both event_pattern and schedule; give exactly "
            "one") in out
    assert ("rules.d/x.yaml:10:15: schedule: rate unit 'minute' at character 8: use 'minutes' "
            "for a value other than 1") in out
    assert "rules.d/x.yaml:13:15: schedule: cron(0 0 30 2 ? *) of rule 'february' never fires" \
        in out
    # The daemon refuses to start with the same report.
    proc = subprocess.run([BINARY, "serve", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1
    assert "'MOX' at character 15" in proc.stderr


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_routers_sharing_a_cluster_deliver_each_due_time_once(tmp_path, fast_clock):
    receiver = Receiver()
    rules = {"s.yaml": f"""rules:
  - name: heartbeat
    schedule: rate(1 minute)
    targets:
      - {{id: hook, type: webhook, url: "{receiver.url('hook')}"}}
"""}
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        routers = [Daemon(tmp_path / name, cluster_config(nats, name), rules).start()
                   for name in ("a", "b")]
        try:
            for router in routers:
                assert router.wait_for_log("stream EVENTROUTER ready", 20), router.log()
            # Both routers publish every due time from here on.
            assert wait_for(lambda: all(fires(r.url, "heartbeat") >= 2
                                        for r in routers), timeout=20)
            assert wait_for(lambda: len(receiver.received("hook")) >= 5, timeout=20)
            time.sleep(1)  # deliveries of the last due time settle
            assert receiver.duplicates("hook") == {}
        finally:
            for router in routers:
                router.stop()
            receiver.close()
