"""A scripted run against the real daemon, then one scrape of GET /metrics: every count must be
exactly what happened (issue 7: events received/rejected, matches, invocations by outcome,
attempts, dead letters, pending deliveries, journal size, reloads, HTTP requests, histograms)."""
import json
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import SOURCE_DIR, base_config, curl, post_json, wait_for

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')




def parse_metrics(text):
    """{(name, frozenset(labels)): value} for every sample, plus the TYPE of each family."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in samples, f"duplicate series: {line!r}"
        samples[key] = float(m.group(4))
    return samples, types


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples, self.types = parse_metrics(text)

    def get(self, name, **labels):
        key = (name, frozenset(labels.items()))
        assert key in self.samples, (f"no series {name}{labels} in /metrics; series of that name: "
                                     + repr([dict(k[1]) for k in self.samples if k[0] == name]))
        return self.samples[key]

    def series(self, name):
        """{frozenset(labels): value} of every series of `name`."""
        return {labels: v for (n, labels), v in self.samples.items() if n == name}

    def nonzero(self, name):
        return {tuple(sorted(labels)): v for labels, v in self.series(name).items() if v}


class Peer:
    """A loopback webhook receiver: /reject answers 400 (a permanent failure), /flaky answers
    503 to its first request and 200 afterwards."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with peer.lock:
                    peer.requests.append(self.path)
                    flaky_seen = sum(1 for p in peer.requests if p == "/flaky")
                if self.path == "/reject":
                    status = 400
                elif self.path == "/flaky":
                    status = 503 if flaky_seen == 1 else 200
                else:
                    status = 404
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path):
        with self.lock:
            return sum(1 for p in self.requests if p == path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.close()


def rules_yaml(workdir, peer_port):
    return f"""rules:
  - name: to-queue
    event_pattern: {{source: [test.app]}}
    targets:
      - id: queue
        type: queue_file
        path: {workdir / "default.jsonl"}
  - name: to-hook
    event_pattern: {{source: [test.app], detail-type: [Hook]}}
    targets:
      - id: reject
        type: webhook
        url: http://127.0.0.1:{peer_port}/reject
        timeout: 2s
      - id: flaky
        type: webhook
        url: http://127.0.0.1:{peer_port}/flaky
        timeout: 2s
  - name: sec-only
    bus: sec
    event_pattern: {{source: [test.app]}}
    targets:
      - id: queue
        type: queue_file
        path: {workdir / "sec.jsonl"}
"""


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def scrape(daemon):
    status, headers, body = curl(daemon.url + "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return Metrics(body)


def test_metrics_after_a_scripted_run(make_daemon, workdir, peer):
    daemon = make_daemon(
        base_config(extra="delivery:\n  backoff_base: 50ms\n  backoff_cap: 200ms\n"),
        rules={"r.yaml": rules_yaml(workdir, peer.port)})

    # A first scrape: nothing has happened yet.
    before = scrape(daemon)
    assert before.get("eventrouter_events_matched_total") == 0
    assert before.get("eventrouter_pending_deliveries") == 0
    assert before.get("eventrouter_rule_reloads_total", outcome="success") == 0
    assert before.get("eventrouter_rule_reloads_total", outcome="failure") == 0
    assert before.get("eventrouter_ingest_to_invocation_seconds_count") == 0
    # Every rule's match counter is there from the start; a target's series come with its first
    # invocation, so none exist yet.
    for rule in ("to-queue", "to-hook", "sec-only"):
        assert before.get("eventrouter_rule_matches_total", rule=rule) == 0
    for family in ("eventrouter_invocations_total", "eventrouter_invocation_attempts_total",
                   "eventrouter_dead_letters_total", "eventrouter_target_duration_seconds"):
        assert family not in before.types, before.text

    # 1. Three entries on the default bus: one for the queue, one nothing matches, one rejected
    #    (no detail-type), one rejected (detail not an object).
    status, _, body = post_json(daemon.url + "/events", json.dumps([
        {"source": "test.app", "detail-type": "Queue", "detail": {"n": 1, "id": "secret-id-1"}},
        {"source": "other.app", "detail-type": "Nobody", "detail": {"n": 2}},
        {"source": "test.app", "detail": {"n": 3}},
        {"source": "test.app", "detail-type": "Queue", "detail": 5},
    ]))
    assert status == 200 and body["FailedEntryCount"] == 2, body
    assert body["Entries"][2]["ErrorCode"] == "InvalidArgument"
    assert body["Entries"][3]["ErrorCode"] == "MalformedDetail"
    # 2. One on bus "sec".
    status, _, body = post_json(daemon.url + "/buses/sec/events", json.dumps(
        {"source": "test.app", "detail-type": "Queue", "detail": {"n": 4}}))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    # 3. One that goes to the queue and both webhooks (400: dead letter; 503 then 200: retried).
    status, _, body = post_json(daemon.url + "/events", json.dumps(
        {"source": "test.app", "detail-type": "Hook", "detail": {"n": 5}}))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    # 4. Requests refused whole or on the wrong route/method.
    status, _, _ = curl("-X", "POST", "-H", "Content-Type: application/json",
                        "--data-binary", "{not json", daemon.url + "/events")
    assert status == 400
    assert curl("-X", "PUT", daemon.url + "/events")[0] == 405  # GET lists the history
    assert curl(daemon.url + "/no/such/path")[0] == 404
    assert curl(daemon.url + "/healthz")[0] == 200

    default_queue, sec_queue = workdir / "default.jsonl", workdir / "sec.jsonl"
    dead_letters = daemon.state_dir / "dead-letters.jsonl"
    assert wait_for(lambda: len(lines(default_queue)) == 2 and len(lines(sec_queue)) == 1
                    and len(lines(dead_letters)) == 1 and peer.count("/flaky") == 2), (
        f"deliveries did not happen: queue {lines(default_queue)}, sec {lines(sec_queue)}, "
        f"dead letters {lines(dead_letters)}, peer {peer.requests}\n" + daemon.log())

    # 5. Reloads: SIGHUP (succeeds), a broken rule file dropped in (fails, old rules stay),
    #    the broken file removed (succeeds).
    # Each step waits for the reload's outcome, not its start: a file removed while a reload
    # still reads the folder would change what that reload sees.
    def reloads_done():
        return sum(1 for line in list(daemon.lines)
                   if "rules reloaded:" in line or "rules reload rejected with" in line)

    daemon.signal(signal.SIGHUP)
    assert wait_for(lambda: reloads_done() == 1), daemon.log()
    broken = workdir / "broken.yaml"
    broken.write_text("rules:\n  - name: broken\n    event_pattern: {source: 3}\n")
    broken.rename(daemon.rules_dir / "broken.yaml")
    assert wait_for(lambda: reloads_done() == 2), daemon.log()
    (daemon.rules_dir / "broken.yaml").unlink()
    assert wait_for(lambda: reloads_done() == 3), daemon.log()
    # Let a late watcher event (if any) show up before counting.
    time.sleep(1.0)

    # 6. One more event after the reloads, through the AWS PutEvents route.
    status, _, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-", daemon.url + "/",
        data=json.dumps({"Entries": [
            {"Source": "test.app", "DetailType": "Queue", "Detail": '{"n": 6}'}]}))
    assert status == 200 and json.loads(text)["FailedEntryCount"] == 0, text
    assert wait_for(lambda: len(lines(default_queue)) == 3), daemon.log()

    m = wait_for(lambda: (lambda s: s if s.get("eventrouter_pending_deliveries") == 0 else None)(
        scrape(daemon)))
    assert m, "pending deliveries never went back to 0"

    # Received, by bus; rejected, by reason.
    assert m.nonzero("eventrouter_events_received_total") == {
        (("bus", "default"),): 4, (("bus", "sec"),): 1}
    assert m.nonzero("eventrouter_events_rejected_total") == {
        (("reason", "InvalidArgument"),): 1, (("reason", "MalformedDetail"),): 1}
    assert m.nonzero("eventrouter_requests_rejected_total") == {
        (("reason", "MalformedJSON"),): 1}
    # Matched (events with at least one rule) and unmatched (by bus).
    assert m.get("eventrouter_events_matched_total") == 4
    assert m.nonzero("eventrouter_events_unmatched_total") == {(("bus", "default"),): 1}
    # TriggeredRules, by rule.
    assert m.nonzero("eventrouter_rule_matches_total") == {
        (("rule", "to-queue"),): 3, (("rule", "to-hook"),): 1, (("rule", "sec-only"),): 1}
    # Invocations by final outcome per rule/target.
    assert m.nonzero("eventrouter_invocations_total") == {
        (("outcome", "success"), ("rule", "to-queue"), ("target", "queue")): 3,
        (("outcome", "success"), ("rule", "sec-only"), ("target", "queue")): 1,
        (("outcome", "dead_lettered"), ("rule", "to-hook"), ("target", "reject")): 1,
        (("outcome", "retried"), ("rule", "to-hook"), ("target", "flaky")): 1,
        (("outcome", "success"), ("rule", "to-hook"), ("target", "flaky")): 1,
    }
    # Given up without a dead letter (the file could not be written): none here, but exported.
    assert m.get("eventrouter_invocations_total", outcome="failed", rule="to-hook",
                 target="reject") == 0
    attempts = {
        ("to-queue", "queue"): 3, ("sec-only", "queue"): 1,
        ("to-hook", "reject"): 1, ("to-hook", "flaky"): 2,
    }
    assert m.nonzero("eventrouter_invocation_attempts_total") == {
        (("rule", r), ("target", t)): n for (r, t), n in attempts.items()}
    assert m.nonzero("eventrouter_dead_letters_total") == {
        (("rule", "to-hook"), ("target", "reject")): 1}
    assert m.get("eventrouter_dead_letters_total", rule="to-hook", target="flaky") == 0
    # Gauges.
    assert m.get("eventrouter_pending_deliveries") == 0
    assert m.get("eventrouter_journal_bytes") > 0
    assert m.types["eventrouter_journal_bytes"] == "gauge"
    assert m.types["eventrouter_pending_deliveries"] == "gauge"
    # Reloads, by outcome.
    assert m.get("eventrouter_rule_reloads_total", outcome="success") == 2
    assert m.get("eventrouter_rule_reloads_total", outcome="failure") == 1
    # HTTP requests by route and status. This scrape is counted once it is answered, so the
    # /metrics line counts the earlier scrapes (the first one plus the polls for pending == 0).
    http = m.nonzero("eventrouter_http_requests_total")
    metrics_scrapes = http.pop((("route", "metrics"), ("status", "200")))
    assert metrics_scrapes >= 1
    assert http == {
        (("route", "events"), ("status", "200")): 2,
        (("route", "events"), ("status", "400")): 1,
        (("route", "events"), ("status", "405")): 1,
        (("route", "bus_events"), ("status", "200")): 1,
        (("route", "aws"), ("status", "200")): 1,
        (("route", "not_found"), ("status", "404")): 1,
        (("route", "healthz"), ("status", "200")): 1,
    }
    again = scrape(daemon)
    assert again.get("eventrouter_http_requests_total", route="metrics",
                     status="200") == metrics_scrapes + 1
    # Histograms: one ingest-to-invocation observation per delivery (its first attempt), one
    # target-duration observation per attempt.
    assert m.types["eventrouter_ingest_to_invocation_seconds"] == "histogram"
    assert m.get("eventrouter_ingest_to_invocation_seconds_count") == 6
    assert m.get("eventrouter_ingest_to_invocation_seconds_bucket", le="+Inf") == 6
    assert m.get("eventrouter_ingest_to_invocation_seconds_sum") >= 0
    # Target durations: one histogram per target type, whatever the rules and targets.
    assert m.types["eventrouter_target_duration_seconds"] == "histogram"
    by_type = {"queue_file": 3 + 1, "webhook": 1 + 2}
    assert m.series("eventrouter_target_duration_seconds_count") == {
        frozenset({("type", kind)}): n for kind, n in by_type.items()}
    for kind, n in by_type.items():
        assert m.get("eventrouter_target_duration_seconds_bucket", type=kind, le="+Inf") == n
    # Buckets are cumulative.
    buckets = sorted(((float(dict(labels)["le"]), v) for labels, v in
                      m.series("eventrouter_ingest_to_invocation_seconds_bucket").items()))
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)

    # No event field is ever a label: only these label names exist, and no label value is
    # taken from an event (ids, sources, detail-types, detail values).
    allowed = {"bus", "reason", "rule", "target", "outcome", "route", "status", "type", "le"}
    for (name, labels) in m.samples:
        for key, value in labels:
            assert key in allowed, f"{name} has an unexpected label {key}={value}"
    event_values = {"test.app", "other.app", "Queue", "Hook", "Nobody", "secret-id-1"}
    leaked = [(name, dict(labels)) for (name, labels) in m.samples
              if any(value in event_values for _, value in labels)]
    assert not leaked, leaked
    for value in event_values:
        assert f'"{value}"' not in m.text


# Rules that make the series created on first use appear: a delivery held back by its rate
# limit, a duplicate suppressed by dedup, a match held by storm control.
CONTROLS = """rules:
  - name: slow
    event_pattern: {source: [slow.app]}
    targets: [{id: q, type: queue_file, path: slow.jsonl, rate_limit_per_second: 1}]
  - name: once
    event_pattern: {source: [dup.app]}
    dedup: {key: [detail.n], window: 1h}
    targets: [{id: q, type: queue_file, path: once.jsonl}]
  - name: calm
    event_pattern: {source: [storm.app]}
    max_invocations: {count: 1, per: 1h}
    targets: [{id: q, type: queue_file, path: calm.jsonl}]
"""


def test_every_metric_named_in_the_operations_doc_exists(make_daemon, workdir, peer):
    """docs/operations.md's metric list and sample alerts name only metrics the daemon serves,
    once the things they count have happened."""
    # A scheduled rule has its fires counter (at 0) from the start, before its first due time.
    scheduled = ("rules:\n  - name: nightly\n    schedule: cron(0 3 * * ? *)\n    targets:\n"
                 "      - {id: q, type: queue_file, path: nightly.jsonl}\n")
    daemon = make_daemon(rules={"r.yaml": rules_yaml(workdir, peer.port), "s.yaml": scheduled,
                                "c.yaml": CONTROLS})
    # Labelled families show up with their first series: one rejected event, one received;
    # deliveries (one dead-lettered), waits, suppressions and holds create the target and
    # rule series that appear on first use.
    status, _, _ = post_json(daemon.url + "/events", json.dumps([
        {"source": "other.app", "detail-type": "X", "detail": {}}, {"source": "other.app"},
        {"source": "test.app", "detail-type": "Hook", "detail": {}},
        {"source": "slow.app", "detail-type": "X", "detail": {"n": 1}},
        {"source": "slow.app", "detail-type": "X", "detail": {"n": 2}},
        {"source": "slow.app", "detail-type": "X", "detail": {"n": 3}},
        {"source": "dup.app", "detail-type": "X", "detail": {"n": 1}},
        {"source": "dup.app", "detail-type": "X", "detail": {"n": 1}},
        {"source": "storm.app", "detail-type": "X", "detail": {"n": 1}},
        {"source": "storm.app", "detail-type": "X", "detail": {"n": 2}}]))
    assert status == 200
    dead_letters = daemon.state_dir / "dead-letters.jsonl"
    m = wait_for(lambda: (lambda s: s if s.get("eventrouter_pending_deliveries") == 0
                          and lines(dead_letters) else None)(scrape(daemon)))
    assert m, "the deliveries did not finish\n" + daemon.log()
    assert m.get("eventrouter_dedup_suppressed_total", rule="once") == 1
    assert m.get("eventrouter_storm_held_total", rule="calm") == 1
    assert m.get("eventrouter_target_waiting_deliveries", rule="slow", target="q") == 0
    families = set(m.types)
    text = (SOURCE_DIR / "docs" / "operations.md").read_text()
    named = set(re.findall(r"\beventrouter_[a-z0-9_]*[a-z0-9]", text))
    assert "eventrouter_pending_deliveries" in named and "eventrouter_journal_bytes" in named
    assert "eventrouter_dedup_suppressed_total" in named and "eventrouter_storm_held_total" in named
    missing = {name for name in named if name not in families
               and re.sub(r"_(bucket|count|sum)$", "", name) not in families}
    assert not missing, f"docs/operations.md names metrics /metrics does not have: {missing}"


def many_rules(count, peer_port, workdir):
    """`count` rules, one target each: webhooks (which have a concurrency limit by default) and
    queue files, alternating; rule n matches detail-type "rule-n"."""
    out = ["rules:"]
    for n in range(count):
        out.append(f"  - name: generated-rule-{n:05d}")
        out.append(f'    event_pattern: {{source: [many.app], detail-type: ["rule-{n}"]}}')
        if n % 2 == 0:
            out.append(f"    targets: [{{id: hook, type: webhook, "
                       f"url: 'http://127.0.0.1:{peer_port}/flaky', timeout: 2s}}]")
        else:
            out.append(f"    targets: [{{id: queue, type: queue_file, "
                       f"path: '{workdir / 'many.jsonl'}'}}]")
    return "\n".join(out) + "\n"


def test_a_scrape_of_many_rules_stays_small(make_daemon, workdir, peer):
    """Issue 18: with 10,000 rules a scrape must stay under 1 MB, so 100 bytes a rule; here
    2,000 rules, of which 20 have delivered (their targets' series exist, with the webhooks'
    first 503 retried)."""
    rules = 2000
    daemon = make_daemon(rules={"many.yaml": many_rules(rules, peer.port, workdir)})
    for first in range(0, 20, 10):
        status, _, body = post_json(daemon.url + "/events", json.dumps([
            {"source": "many.app", "detail-type": f"rule-{n}", "detail": {}}
            for n in range(first, first + 10)]))
        assert status == 200 and body["FailedEntryCount"] == 0, body
    assert wait_for(lambda: len(lines(workdir / "many.jsonl")) == 10
                    and peer.count("/flaky") == 11), daemon.log()
    m = wait_for(lambda: (lambda s: s if s.get("eventrouter_pending_deliveries") == 0 else None)(
        scrape(daemon)))
    assert m, "pending deliveries never went back to 0\n" + daemon.log()

    size = len(m.text.encode())
    assert size < rules * 100, f"{size} bytes for {rules} rules"
    assert m.text.count("\n") < rules + 500, f"{m.text.count(chr(10))} lines for {rules} rules"
    # Every rule keeps its match counter; only the targets that ran have target series.
    assert len(m.series("eventrouter_rule_matches_total")) == rules
    assert m.get("eventrouter_rule_matches_total", rule="generated-rule-01999") == 0
    assert len(m.series("eventrouter_invocation_attempts_total")) == 20
    assert m.get("eventrouter_invocations_total", rule="generated-rule-00002", target="hook",
                 outcome="success") == 1
    assert m.get("eventrouter_invocation_attempts_total", rule="generated-rule-00003",
                 target="queue") == 1
    assert m.get("eventrouter_target_duration_seconds_count", type="webhook") == 11
    assert m.get("eventrouter_target_duration_seconds_count", type="queue_file") == 10
