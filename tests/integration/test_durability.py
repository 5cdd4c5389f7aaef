"""At-least-once delivery: the journal, restarts, outages, dead letters, redrive, replay,
backpressure, a full disk and a damaged journal, against the real binary and real peers. The
tests that take `backend` run against the local journal and against a NATS JetStream server."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import (BINARY, SOURCE_DIR, Daemon, base_config, curl, free_port, post_json,
                      wait_for)

FAST_RETRIES = "delivery:\n  backoff_base: 100ms\n  backoff_cap: 500ms\n"




class Webhook:
    """A loopback HTTP receiver whose behaviour the test switches: ok, 503, hang or down
    (nothing listening on its port)."""

    def __init__(self):
        self.mode = "ok"
        self.received = []  # bodies answered with 200
        self.event_ids = []  # their X-Eventrouter-Event-Id headers, for failure messages
        self.lock = threading.Lock()
        self.server = None
        self.port = None
        self._serve()

    def _serve(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = hook.mode
                if mode == "hang":
                    time.sleep(3)
                    return
                status = {"ok": 200, "400": 400}.get(mode, 503)
                if status == 200:
                    with hook.lock:
                        hook.received.append(body.decode())
                        hook.event_ids.append(self.headers.get("X-Eventrouter-Event-Id"))
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            # A resumed journal starts every delivery at once: with the default backlog of 5,
            # connections wait for SYN retransmission and fail the webhook's 1 s timeout.
            request_queue_size = 128

        self.server = Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode):
        if mode == "down" and self.mode != "down":
            self.server.shutdown()
            self.server.server_close()
        elif mode != "down" and self.mode == "down":
            self._serve()
        self.mode = mode

    def ids(self):
        with self.lock:
            return {json.loads(body)["detail"]["n"] for body in self.received}

    def close(self):
        if self.mode != "down":
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


def webhook_rule(port, extra=""):
    return f"""rules:
  - name: to-hook
    event_pattern: {{source: [test.app]}}
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:{port}/in
        timeout: 1s
{extra}"""


def queue_rule(path):
    return f"""rules:
  - name: to-queue
    event_pattern: {{source: [test.app]}}
    targets:
      - id: queue
        type: queue_file
        path: {path}
"""


def event(n, **detail):
    return {"source": "test.app", "detail-type": "Test", "detail": {"n": n, **detail}}


def post_events(daemon, events):
    return post_json(daemon.url + "/events", json.dumps(events))


def read_jsonl(path):
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- crash safety -------------------------------------------------------------------------


def test_kill_9_loses_no_acknowledged_event(make_daemon, workdir, backend):
    """Steady load, kill -9 at random moments, restart: every event that got a 200 reaches the
    queue file at least once."""
    queue = workdir / "delivered.jsonl"
    daemon = make_daemon(backend.config(), rules={"q.yaml": queue_rule(queue)})
    acked, lock, stop = set(), threading.Lock(), threading.Event()
    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def load():
        while not stop.is_set():
            with counter_lock:
                first = next(counter) * 5
            batch = [event(first + i) for i in range(5)]
            cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                   "-H", "Content-Type: application/json", "--data-binary", json.dumps(batch),
                   daemon.url + "/events"]
            code = subprocess.run(cmd, capture_output=True, text=True).stdout
            if code == "200":
                with lock:
                    acked.update(range(first, first + 5))
            elif not stop.is_set():
                time.sleep(0.02)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    import random
    rng = random.Random(7)
    kills = 5
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 1.2))
            daemon.proc.kill()  # SIGKILL: no shutdown, no flush
            daemon.proc.wait()
            daemon.pump.join(5)
            daemon.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    def delivered():
        return {line["detail"]["n"] for line in read_jsonl(queue)}

    wait_for(lambda: acked <= delivered(), timeout=30)
    got = delivered()
    lost = acked - got
    print(f"\ncrash test ({backend.name}): {kills} kills, acknowledged {len(acked)}, delivered {len(got & acked)}, "
          f"lost {len(lost)} (lines in queue file: {len(read_jsonl(queue))})")
    assert len(acked) > 100, "the load generator barely ran"
    assert not lost, (f"{len(lost)} acknowledged events never delivered, e.g. {sorted(lost)[:10]}"
                      f"\n--- daemon log (last lines) ---\n" + "\n".join(daemon.lines[-40:]))


def test_kill_9_right_after_the_200s_loses_no_acknowledged_event(make_daemon, webhook):
    """A 200 means committed: concurrent senders (whose requests the journal commits together)
    get their 200s while the target fails, then SIGKILL at once. After the restart every
    acknowledged event, each with a finding-sized text (spread over several of the journal's
    small pages), reaches the target whole."""
    webhook.set("503")
    daemon = make_daemon(base_config(extra=FAST_RETRIES),
                         rules={"h.yaml": webhook_rule(webhook.port)})
    acked, lock = set(), threading.Lock()
    note = "an access key used from an unusual network; " * 40

    def sender(first):
        for n in range(first, first + 30):
            status, _, _ = post_events(daemon, [event(n, note=note)])
            if status == 200:
                with lock:
                    acked.add(n)

    threads = [threading.Thread(target=sender, args=(t * 1000,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    daemon.proc.kill()  # SIGKILL straight after the last 200: no shutdown, no flush
    daemon.proc.wait()
    daemon.pump.join(5)
    assert len(acked) == 240, "every request should have been acknowledged"
    assert not webhook.ids() & acked, "the target failed every delivery before the kill"

    webhook.set("ok")
    daemon.start()
    assert wait_for(lambda: acked <= webhook.ids(), timeout=60), (
        f"{len(acked - webhook.ids())} acknowledged events lost\n" + daemon.log())
    assert all(json.loads(body)["detail"]["note"] == note for body in webhook.received)


def test_sigterm_keeps_waiting_deliveries_for_the_next_start(make_daemon, webhook, backend):
    webhook.set("503")
    daemon = make_daemon(backend.config(extra=FAST_RETRIES),
                         rules={"h.yaml": webhook_rule(webhook.port)})
    status, _, _ = post_events(daemon, [event(i) for i in range(3)])
    assert status == 200
    assert daemon.wait_for_log(r"failed \(attempt 2\)")
    assert daemon.stop() == 0
    # Not dead-lettered as "ShuttingDown": they stay in the journal, or go back to the cluster.
    assert backend.dead_letters(daemon) == []
    if backend.name == "nats":
        assert any("handed 3 unfinished events back to the cluster" in l for l in daemon.lines)

    webhook.set("ok")
    daemon.lines.clear()
    daemon.start()
    if backend.name == "journal":
        assert daemon.wait_for_log(r"resumed 3 unfinished deliveries")
    assert wait_for(lambda: webhook.ids() == {0, 1, 2}), daemon.log()
    assert wait_for(lambda: "eventrouter_pending_deliveries 0" in curl(daemon.url + "/metrics")[2])


# --- outages, dead letters, redrive -----------------------------------------------------------


def test_events_survive_a_webhook_outage(make_daemon, webhook, backend):
    """503, then a hang past the timeout, then a refused connection; then recovery."""
    webhook.set("503")
    daemon = make_daemon(backend.config(extra=FAST_RETRIES),
                         rules={"h.yaml": webhook_rule(webhook.port)})
    for i in range(10):
        assert post_events(daemon, [event(i)])[0] == 200
    assert daemon.wait_for_log(r"ERROR_FROM_TARGET")
    webhook.set("hang")
    assert daemon.wait_for_log(r"TIMEOUT", timeout=15)
    webhook.set("down")
    assert daemon.wait_for_log(r"CONNECTION_FAILURE", timeout=15)
    assert webhook.ids() == set()
    webhook.set("ok")
    assert wait_for(lambda: webhook.ids() == set(range(10)), timeout=30), daemon.log()
    assert backend.dead_letters(daemon) == []


def test_exhausted_retries_dead_letter_then_redrive_delivers(make_daemon, webhook, workdir,
                                                            backend):
    webhook.set("503")
    dlq = workdir / "dlq" / "hook.jsonl"
    rule = webhook_rule(webhook.port, f"""        retry_policy: {{maximum_retry_attempts: 2}}
        dead_letter: {{path: {dlq}}}
""")
    daemon = make_daemon(backend.config(extra=FAST_RETRIES), rules={"h.yaml": rule})
    assert post_events(daemon, [event(1), event(2)])[0] == 200
    letters = wait_for(lambda: len(backend.dead_letters(daemon)) == 2 and backend.dead_letters(daemon))
    assert letters, daemon.log()
    for letter in letters:
        assert letter["rule"] == "to-hook" and letter["target"] == "hook"
        assert letter["attributes"] == {
            "ERROR_CODE": "ERROR_FROM_TARGET",
            "ERROR_MESSAGE": letter["attributes"]["ERROR_MESSAGE"],
            "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
            "RETRY_ATTEMPTS": 2,
        }
        assert "503" in letter["attributes"]["ERROR_MESSAGE"]
    assert {letter["event"]["detail"]["n"] for letter in letters} == {1, 2}
    assert webhook.ids() == set()

    webhook.set("ok")
    # A filter that matches nothing leaves the file alone.
    status, _, body = post_json(daemon.url + "/dead-letters/redrive",
                                json.dumps({"rule": "other"}))
    assert status == 200 and body["redriven"] == 0
    assert len(backend.dead_letters(daemon)) == 2
    status, _, body = post_json(daemon.url + "/dead-letters/redrive",
                                json.dumps({"rule": "to-hook", "target": "hook"}))
    assert status == 200, body
    assert body["redriven"] == 2 and body["skipped"] == 0
    assert wait_for(lambda: webhook.ids() == {1, 2}), daemon.log()
    assert backend.dead_letters(daemon) == []


def test_redrive_skips_dead_letters_of_removed_targets(make_daemon, webhook):
    daemon = make_daemon(rules={"h.yaml": webhook_rule(webhook.port)})
    letter = {"time": "2026-11-28T10:00:00.000Z", "rule": "gone", "target": "t",
              "attributes": {"ERROR_CODE": "TIMEOUT", "ERROR_MESSAGE": "x", "RETRY_ATTEMPTS": 0},
              "event": event(5) | {"id": "e5"}, "payload": "{}"}
    dlq = daemon.state_dir / "dead-letters.jsonl"
    dlq.write_text(json.dumps(letter) + "\n" + "not json\n")
    status, _, body = post_json(daemon.url + "/dead-letters/redrive", "{}")
    assert status == 200
    assert body["redriven"] == 0 and body["skipped"] == 1
    assert "rule gone target t is not loaded" in body["skipped_reasons"][0]
    assert dlq.read_text().splitlines() == [json.dumps(letter), "not json"]
    status, _, body = post_json(daemon.url + "/dead-letters/redrive", '{"rule": 5}')
    assert status == 400 and "must be a string" in body["error"]["message"]


def test_a_permanent_failure_skips_retries(make_daemon, webhook, backend):
    webhook.set("400")  # a client error: sending the same request again cannot help
    daemon = make_daemon(backend.config(extra=FAST_RETRIES),
                         rules={"h.yaml": webhook_rule(webhook.port)})
    assert post_events(daemon, [event(1)])[0] == 200
    letters = wait_for(lambda: backend.dead_letters(daemon))
    assert letters, daemon.log()
    assert letters[0]["attributes"]["RETRY_ATTEMPTS"] == 0
    assert letters[0]["attributes"]["ERROR_CODE"] == "ERROR_FROM_TARGET"
    assert "EXHAUSTED_RETRY_CONDITION" not in letters[0]["attributes"]
    assert not daemon.wait_for_log(r"attempt 2", timeout=1)


# --- archive and replay -----------------------------------------------------------------------


def test_replay_redrives_a_time_window_with_replay_name(make_daemon, workdir, backend):
    queue = workdir / "q.jsonl"
    daemon = make_daemon(backend.config(), rules={"q.yaml": queue_rule(queue)})
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    assert post_events(daemon, [event(1), event(2)])[0] == 200
    # An event no rule matches is archived too, and replayed through the current rules.
    assert post_events(daemon, [{"source": "other", "detail-type": "x", "detail": {"n": 3}}])[0] == 200
    assert wait_for(lambda: len(read_jsonl(queue)) == 2)
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))

    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"name": "incident-42", "from": start, "to": end}))
    assert status == 200, body
    assert body == {"name": "incident-42", "state": "COMPLETED", "events_replayed": 3,
                    "deliveries": 2}
    lines = wait_for(lambda: len(read_jsonl(queue)) == 4 and read_jsonl(queue))
    assert lines, daemon.log()
    replayed = [line for line in lines if "replay-name" in line]
    assert sorted(line["detail"]["n"] for line in replayed) == [1, 2]
    assert all(line["replay-name"] == "incident-42" for line in replayed)

    # A window with nothing in it, a filter on a rule, and bad requests.
    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"from": "2020-01-01T00:00:00Z",
                                            "to": "2020-01-02T00:00:00Z"}))
    assert status == 200 and body["events_replayed"] == 0 and body["name"].startswith("replay-")
    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"from": start, "to": end, "rule": "nope"}))
    assert status == 404 and body["error"]["code"] == "RuleNotFound"
    status, _, body = post_json(daemon.url + "/replays", json.dumps({"from": start}))
    assert status == 400 and "\"to\"" in body["error"]["message"]
    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"from": "yesterday", "to": end}))
    assert status == 400 and "RFC 3339" in body["error"]["message"]
    status, _, body = post_json(daemon.url + "/replays", json.dumps({"from": end, "to": start}))
    assert status == 400 and "earlier" in body["error"]["message"]


def test_replay_needs_the_archive(make_daemon, backend):
    daemon = make_daemon(backend.config(extra="archive:\n  retention: 0s\n"))
    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"from": "2026-01-01T00:00:00Z",
                                            "to": "2026-01-02T00:00:00Z"}))
    assert status == 409 and body["error"]["code"] == "ArchiveDisabled"


def test_durability_none_keeps_no_journal(make_daemon, workdir):
    queue = workdir / "q.jsonl"
    daemon = make_daemon(base_config(extra="durability: none\n"),
                         rules={"q.yaml": queue_rule(queue)})
    assert post_events(daemon, [event(1)])[0] == 200
    assert wait_for(lambda: len(read_jsonl(queue)) == 1)
    assert not (daemon.state_dir / "journal.db").exists()
    status, _, body = post_json(daemon.url + "/replays",
                                json.dumps({"from": "2026-01-01T00:00:00Z",
                                            "to": "2026-01-02T00:00:00Z"}))
    assert status == 409


# --- backpressure and a full disk -------------------------------------------------------------


def test_too_many_pending_deliveries_get_503_with_retry_after(make_daemon, webhook):
    webhook.set("503")
    daemon = make_daemon(
        base_config(extra="delivery:\n  max_pending_deliveries: 3\n  backoff_base: 1s\n"),
        rules={"h.yaml": webhook_rule(webhook.port)})
    for i in range(3):
        assert post_events(daemon, [event(i)])[0] == 200
    status, headers, body = post_events(daemon, [event(99)])
    assert status == 503
    assert body["error"]["code"] == "TooManyPendingDeliveries"
    assert "max_pending_deliveries" in body["error"]["message"]
    assert int(headers["retry-after"]) > 0
    # Once the target recovers the backlog drains and ingest is open again.
    webhook.set("ok")
    assert wait_for(lambda: webhook.ids() == {0, 1, 2}, timeout=30)
    assert wait_for(lambda: post_events(daemon, [event(4)])[0] == 200)


def test_a_journal_full_of_undelivered_events_gets_503(make_daemon, workdir, refused_port):
    # A target that never answers keeps every event undelivered: that work, not the archive,
    # fills the journal.
    dead_port = refused_port
    rule = f"""rules:
  - name: stuck
    event_pattern: {{source: [test.app]}}
    targets:
      - {{id: dead, type: webhook, url: "http://127.0.0.1:{dead_port}/"}}
"""
    daemon = make_daemon(base_config(extra="delivery:\n  max_journal_bytes: 200000\n"),
                         rules={"stuck.yaml": rule})
    blob = "x" * 50000
    statuses = []
    for i in range(40):
        status, headers, body = post_events(daemon, [event(i, blob=blob)])
        statuses.append(status)
        if status != 200:
            break
    assert statuses[0] == 200
    assert statuses[-1] == 503, "the journal grew past its bound"
    assert body["error"]["code"] == "JournalFull"
    assert "undelivered events fill the journal" in body["error"]["message"]
    assert "delivery.max_journal_bytes" in body["error"]["message"]
    assert int(headers["retry-after"]) > 0
    _, _, metrics = curl(daemon.url + "/metrics")
    size = [line for line in metrics.splitlines() if line.startswith("eventrouter_journal_bytes ")]
    assert size and float(size[0].split()[1]) >= 200000


def test_a_full_disk_answers_503_and_recovers(workdir):
    """The state_dir is a 2 MiB tmpfs in a mount namespace of the daemon's own."""
    probe = subprocess.run(["unshare", "-Urm", "sh", "-c",
                            f"mount -t tmpfs -o size=64k tmpfs {workdir}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a small file system here (unshare: {probe.stderr.strip()})")
    queue = workdir / "q.jsonl"
    daemon = Daemon(workdir / "d", base_config(extra="archive:\n  retention: 0s\n"),
                    rules={"q.yaml": queue_rule(queue)})
    state = daemon.state_dir
    # Most of the space is taken by a filler file the test removes later.
    script = (f"mount -t tmpfs -o size=2m tmpfs {state} && "
              f"dd if=/dev/zero of={state}/filler bs=1k count=1500 2>/dev/null && "
              f"exec {BINARY} serve -c {daemon.config}")
    daemon.proc = None
    proc = subprocess.Popen(["unshare", "-Urm", "sh", "-c", script], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _adopt(daemon, proc)
    try:
        blob = "x" * 60000
        acked, refused = [], None
        for i in range(200):
            status, headers, body = post_events(daemon, [event(i, blob=blob)])
            if status == 200:
                acked.append(i)
                continue
            refused = (status, headers, body)
            break
        assert refused, "the disk never filled"
        status, headers, body = refused
        assert status == 503 and body["error"]["code"] == "DiskFull", body
        assert "retry-after" in headers
        assert curl(daemon.url + "/healthz")[0] == 200  # still alive
        # Room again: ingest resumes, and everything acknowledged is delivered.
        _in_namespace(proc.pid, f"rm {state}/filler")
        assert wait_for(lambda: post_events(daemon, [event(1000)])[0] == 200, timeout=20)
        want = set(acked) | {1000}
        assert wait_for(lambda: {line["detail"]["n"] for line in read_jsonl(queue)} >= want,
                        timeout=30), daemon.log()
    finally:
        daemon.stop()


# Runs argv[2:] with files limited to argv[1] bytes; SIGXFSZ ignored, so that writes past the
# limit fail (EFBIG, or a short write) instead of killing the process.
_FILE_SIZE_LIMITED = ("import os, resource, signal, sys; "
                      "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                      "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]),) * 2); "
                      "os.execv(sys.argv[2], sys.argv[2:])")


def test_requests_the_journal_refuses_do_not_count_as_matched(workdir, webhook):
    """Events are matched before the journal records them; a request it cannot record is
    refused, and its events must not show in the match counters people alert on."""
    daemon = Daemon(workdir / "d", base_config(), rules={"h.yaml": webhook_rule(webhook.port)})
    # The journal (archived events, so it only grows) soon outgrows a 1 MiB file size limit.
    proc = subprocess.Popen(
        [sys.executable, "-c", _FILE_SIZE_LIMITED, str(1 << 20), BINARY, "serve", "-c",
         str(daemon.config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _adopt(daemon, proc)
    try:
        blob = "x" * 50000
        accepted = refused = 0
        for i in range(100):
            status, _, body = post_events(daemon, [event(i, blob=blob)])
            if status == 200:
                accepted += 1
                continue
            assert status == 503, body
            assert body["error"]["code"] in ("DiskFull", "JournalUnavailable"), body
            refused += 1
            if refused == 3:
                break
        assert accepted > 0 and refused == 3, (accepted, refused, daemon.log())
        _, _, text = curl(daemon.url + "/metrics")
        samples = dict(line.rsplit(" ", 1) for line in text.splitlines()
                       if line and not line.startswith("#"))
        assert float(samples['eventrouter_rule_matches_total{rule="to-hook"}']) == accepted
        assert float(samples["eventrouter_events_matched_total"]) == accepted
        _, _, text = curl(daemon.url + "/rules")
        rules = {r["name"]: r for r in json.loads(text)["rules"]}
        assert rules["to-hook"]["match_count"] == accepted
    finally:
        daemon.stop()


def _adopt(daemon, proc):
    """Lets a Daemon object follow a process started by other means."""
    from conftest import LISTENING
    daemon.proc = proc
    found = threading.Event()

    def pump():
        for line in proc.stdout:
            daemon.lines.append(line.rstrip("\n"))
            m = LISTENING.search(line)
            if m and not found.is_set():
                daemon.port = int(m.group(2))
                found.set()
        found.set()

    daemon.pump = threading.Thread(target=pump, daemon=True)
    daemon.pump.start()
    if not found.wait(20) or daemon.port is None:
        proc.kill()
        raise AssertionError("daemon did not start:\n" + daemon.log())


def _in_namespace(shell_pid, command):
    """Runs `command` in the mount namespace of the daemon (the shell exec'd into it)."""
    subprocess.run(["nsenter", "-t", str(shell_pid), "-U", "-m", "--preserve-credentials",
                    "sh", "-c", command], check=True)


# --- a journal that cannot be used stops the start --------------------------------------------


def test_a_corrupt_journal_stops_the_start_and_is_left_alone(make_daemon):
    daemon = make_daemon(start=False)
    journal = daemon.state_dir / "journal.db"
    garbage = b"this is not a database" * 300
    journal.write_bytes(garbage)
    proc = subprocess.run([BINARY, "serve", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1
    assert "journal" in proc.stderr and str(journal) in proc.stderr
    assert "Move it aside" in proc.stderr
    assert journal.read_bytes() == garbage


@pytest.mark.parametrize("durability", ["fsync", "none"])
def test_two_daemons_cannot_share_a_state_dir(make_daemon, durability):
    # Without a journal too: queue files and dead letters share the folder.
    first = make_daemon(base_config(extra=f"durability: {durability}\n"))
    proc = subprocess.run([BINARY, "serve", "-c", str(first.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1
    assert "another eventrouter process is using state_dir" in proc.stderr


def test_bad_delivery_settings_are_refused(make_daemon):
    daemon = make_daemon(base_config(extra="durability: sometimes\ndelivery:\n"
                                           "  max_pending_deliveries: 0\narchive:\n"
                                           "  retention: forever\n"), start=False)
    proc = subprocess.run([BINARY, "serve", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1
    assert "durability" in proc.stderr and "fsync" in proc.stderr
    assert "delivery.max_pending_deliveries" in proc.stderr
    assert "archive.retention" in proc.stderr


# --- the operator commands against the real daemon --------------------------------------------



def eventrouter(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60)


def test_dlq_and_replay_commands_drive_the_running_daemon(make_daemon, webhook, backend):
    webhook.set("503")
    rule = webhook_rule(webhook.port, "        retry_policy: {maximum_retry_attempts: 0}\n")
    config = backend.config(extra=FAST_RETRIES).replace("127.0.0.1:0", f"127.0.0.1:{free_port()}")
    daemon = make_daemon(config, rules={"h.yaml": rule})
    window_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    assert post_events(daemon, [event(7)])[0] == 200
    assert wait_for(lambda: backend.dead_letters(daemon)), daemon.log()

    listed = eventrouter("dlq", "list", "-c", str(daemon.config))
    assert listed.returncode == 0, listed.stderr
    assert "to-hook" in listed.stdout and "ERROR_FROM_TARGET" in listed.stdout
    assert "MaximumRetryAttempts" in listed.stdout

    webhook.set("ok")
    redriven = eventrouter("dlq", "redrive", "-c", str(daemon.config), "--rule", "to-hook")
    assert redriven.returncode == 0, redriven.stderr
    assert "redriven 1 dead letter" in redriven.stdout
    assert wait_for(lambda: webhook.ids() == {7}), daemon.log()
    assert backend.dead_letters(daemon) == []

    window_end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    replayed = eventrouter("replay", "-c", str(daemon.config), "--from", window_start,
                           "--to", window_end, "--name", "drill")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.startswith("replay drill COMPLETED: 1 event replayed from ")
    assert replayed.stdout.rstrip().endswith(", 1 delivery")
    bodies = wait_for(lambda: len(webhook.received) == 2 and list(webhook.received))
    assert bodies and json.loads(bodies[1])["replay-name"] == "drill"

    daemon.stop()
    down = eventrouter("dlq", "redrive", "-c", str(daemon.config))
    assert down.returncode == 1
    assert "cannot reach the eventrouter daemon" in down.stderr


def test_concurrent_requests_share_journal_commits(make_daemon):
    """Group commit: requests that wait at the same time are committed (and fsynced) together."""
    daemon = make_daemon()

    def commits():
        _, _, text = curl(daemon.url + "/metrics")
        line = next(l for l in text.splitlines() if l.startswith("eventrouter_journal_commits "))
        return float(line.split()[1])

    before = commits()
    clients, per_client = 16, 15
    statuses = []

    def client(c):
        for i in range(per_client):
            # Unmatched events: the archive keeps them, and no delivery adds commits of its own.
            body = json.dumps({"source": "nobody", "detail-type": "x", "detail": {"c": c, "i": i}})
            cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                   "-H", "Content-Type: application/json", "--data-binary", body,
                   daemon.url + "/events"]
            statuses.append(subprocess.run(cmd, capture_output=True, text=True).stdout)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    requests = clients * per_client
    assert statuses.count("200") == requests
    used = commits() - before
    print(f"\ngroup commit: {requests} requests from {clients} clients in {used:.0f} commits")
    assert 0 < used < requests


def test_a_journal_full_of_delivered_events_keeps_taking_events(make_daemon):
    """The archive is history, not work: once the journal is at its bound, its oldest archived
    events make room, and ingest keeps answering 200."""
    rule = """rules:
  - name: all
    event_pattern: {source: [aws.guardduty]}
    targets:
      - {id: q, type: queue_file, path: q.jsonl}
"""
    daemon = make_daemon(base_config(extra="delivery:\n  max_journal_bytes: 2097152\n"),
                         rules={"r.yaml": rule})
    finding = json.loads((SOURCE_DIR / "tests/fixtures/events/"
                          "guardduty-credential-exfiltration.json").read_text())
    accepted = 0
    for batch in range(80):  # 800 findings of about 3 KB: several times the bound
        events = []
        for i in range(10):
            event = dict(finding)
            event["id"] = f"finding-{batch}-{i}"
            events.append(event)
        status, _, body = post_json(daemon.url + "/events", json.dumps(events))
        assert status == 200, (batch, body)
        accepted += 10 - body["FailedEntryCount"]
    assert accepted == 800
    queue = daemon.state_dir / "q.jsonl"
    assert wait_for(lambda: queue.exists() and len(queue.read_text().splitlines()) == 800)
    assert daemon.wait_for_log(r"archive: dropped the \d+ oldest archived events"), daemon.log()
    _, _, metrics = curl(daemon.url + "/metrics")
    dropped = re.search(r"^eventrouter_archive_dropped_total (\d+)", metrics, re.M)
    assert dropped and int(dropped.group(1)) > 0, metrics
