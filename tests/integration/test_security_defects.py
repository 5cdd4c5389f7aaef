"""Regression tests for the defects an adversarial pass found, each through the running daemon
with real peers on loopback: header injection and request smuggling through event fields,
duplicate keys that bypass anything-but, unbounded bus names, crashes on reload, HTTP framing,
silent connections, forged log lines and runbook spawn failures."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import SOURCE_DIR, base_config, curl, post_json, wait_for
from raw_peer import RawRecorder

PEERS = SOURCE_DIR / "tests" / "targets" / "peers"

SMUGGLING_ID = ("x\r\nContent-Length: 0\r\n\r\nDELETE /admin/all-findings HTTP/1.1\r\n"
                "Host: victim.internal\r\nX-Pad: ")


@pytest.fixture
def recorder():
    peer = RawRecorder()
    yield peer
    peer.stop()


def webhook_rule(port, extra=""):
    return f"""rules:
  - name: hook
    event_pattern: {{source: [sec.test]}}
    targets:
      - id: receiver
        type: webhook
        url: http://127.0.0.1:{port}/hook
        headers: {{Authorization: "${{env:HOOK_TOKEN}}"}}
        hmac_secret: s3cret
        retry_policy: {{maximum_retry_attempts: 0}}
        dead_letter: {{path: dlq.jsonl}}
{extra}"""


@pytest.fixture
def hook_daemon(make_daemon, recorder):
    os.environ["HOOK_TOKEN"] = "Bearer very-secret"
    try:
        yield make_daemon(rules={"hook.yaml": webhook_rule(recorder.port)})
    finally:
        os.environ.pop("HOOK_TOKEN", None)


def test_an_event_id_cannot_smuggle_a_request_into_a_webhook(hook_daemon, recorder):
    event = {"source": "sec.test", "detail-type": "t", "detail": {}, "id": SMUGGLING_ID}
    status, _, body = post_json(hook_daemon.url + "/events", json.dumps(event))
    assert status == 200
    assert body["FailedEntryCount"] == 1
    assert body["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert "id contains the control character U+000D" in body["Entries"][0]["ErrorMessage"]

    # A clean event still goes through, as exactly one request.
    status, _, body = post_json(hook_daemon.url + "/events",
                                json.dumps({"source": "sec.test", "detail-type": "t",
                                            "detail": {}, "id": "clean-1"}))
    assert body["FailedEntryCount"] == 0
    assert wait_for(lambda: recorder.request_lines(), timeout=10), hook_daemon.log()
    time.sleep(0.3)
    assert recorder.request_lines() == ["POST /hook HTTP/1.1"]
    raw = recorder.raw()
    assert b"DELETE" not in raw and b"victim.internal" not in raw
    assert b"X-Eventrouter-Event-Id: clean-1\r\n" in raw


@pytest.mark.parametrize("field", ["id", "source", "detail-type", "account", "region", "version"])
def test_every_header_bound_envelope_field_refuses_line_breaks(hook_daemon, recorder, field):
    event = {"source": "sec.test", "detail-type": "t", "detail": {}}
    event[field] = "ok\r\nX-Injected: 1"
    status, _, body = post_json(hook_daemon.url + "/events", json.dumps(event))
    assert status == 200 and body["FailedEntryCount"] == 1, body
    assert f"{field} contains the control character" in body["Entries"][0]["ErrorMessage"]
    resources = {"source": "sec.test", "detail-type": "t", "detail": {},
                 "resources": ["arn:ok", "arn:x\nX-Injected: 1"]}
    status, _, body = post_json(hook_daemon.url + "/events", json.dumps(resources))
    assert body["FailedEntryCount"] == 1
    assert "resources[1] contains the control character" in body["Entries"][0]["ErrorMessage"]
    time.sleep(0.3)
    assert recorder.raw() == b""


def test_put_events_members_refuse_line_breaks_and_overlong_values(hook_daemon, recorder):
    entries = [
        {"Source": "sec.test\r\nX-Injected: 1", "DetailType": "t", "Detail": "{}"},
        {"Source": "sec.test", "DetailType": "t\n", "Detail": "{}"},
        {"Source": "sec.test", "DetailType": "t", "Detail": "{}", "Resources": ["a\rb"]},
        {"Source": "s" * 257, "DetailType": "t", "Detail": "{}"},
        {"Source": "sec.test", "DetailType": "d" * 129, "Detail": "{}"},
        {"Source": "sec.test", "DetailType": "t", "Detail": "{}",
         "EventBusName": "default\r\nX: 1"},
    ]
    status, _, text = curl("-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
                           "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-",
                           hook_daemon.url + "/", data=json.dumps({"Entries": entries}))
    body = json.loads(text)
    assert status == 200 and body["FailedEntryCount"] == len(entries), body
    messages = [e["ErrorMessage"] for e in body["Entries"]]
    assert "Source contains the control character" in messages[0]
    assert "DetailType contains the control character" in messages[1]
    assert "Resources[0] contains the control character" in messages[2]
    assert "Source is 257 characters long; the limit is 256" in messages[3]
    assert "DetailType is 129 characters long; the limit is 128" in messages[4]
    assert "EventBusName is not valid" in messages[5]
    time.sleep(0.3)
    assert recorder.raw() == b""


def test_a_redriven_dead_letter_with_a_hostile_id_never_reaches_a_header(hook_daemon, recorder):
    # Dead letters are files an operator (or an intruder) can edit; redrive reads them back. The
    # outgoing check at the webhook refuses what ingest would have refused.
    hostile = {"version": "0", "id": SMUGGLING_ID, "detail-type": "t", "source": "sec.test",
               "account": "1", "time": "2026-12-01T00:00:00Z", "region": "r", "resources": [],
               "detail": {}}
    letter = {"time": "2026-12-01T00:00:01Z", "rule": "hook", "target": "receiver",
              "attributes": {"ERROR_CODE": "TIMEOUT", "ERROR_MESSAGE": "x",
                             "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                             "RETRY_ATTEMPTS": 0},
              "event": hostile, "payload": json.dumps(hostile)}
    dlq = hook_daemon.state_dir / "dlq.jsonl"
    dlq.write_text(json.dumps(letter) + "\n")
    status, _, body = post_json(hook_daemon.url + "/dead-letters/redrive", "{}")
    assert status == 200, body
    assert body["redriven"] == 1
    assert wait_for(lambda: "INVALID_PARAMETER" in dlq.read_text(), timeout=10), hook_daemon.log()
    assert "control character" in dlq.read_text()
    assert recorder.raw() == b""


def start_smtp(workdir):
    mail = workdir / "mail"
    mail.mkdir()
    proc = subprocess.Popen(["/usr/bin/python3", str(PEERS / "smtp_peer.py"), "--out", str(mail)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port, mail


def test_an_email_subject_with_a_folded_line_break_is_refused(make_daemon, workdir):
    smtp, port, mail = start_smtp(workdir)
    try:
        rule = f"""rules:
  - name: mail
    event_pattern: {{source: [sec.test]}}
    targets:
      - id: oncall
        type: email
        smtp: {{host: 127.0.0.1, port: {port}, starttls: never}}
        from: eventrouter@example.com
        to: [oncall@example.com]
        subject: "Finding <kind>"
        input_transformer:
          input_paths_map: {{kind: $.detail.kind}}
          input_template: "Finding <kind>"
        retry_policy: {{maximum_retry_attempts: 3}}
        dead_letter: {{path: dlq.jsonl}}
"""
        daemon = make_daemon(rules={"mail.yaml": rule})
        for kind in ["x\r\n Bcc: victim@example.com", "x\r\nBcc: victim@example.com", "x\ty"]:
            post_json(daemon.url + "/events", json.dumps(
                {"source": "sec.test", "detail-type": "t", "detail": {"kind": kind}}))
        post_json(daemon.url + "/events", json.dumps(
            {"source": "sec.test", "detail-type": "t", "detail": {"kind": "plain"}}))
        dlq = daemon.state_dir / "dlq.jsonl"
        assert wait_for(lambda: dlq.exists() and len(dlq.read_text().splitlines()) == 3
                        and any(mail.iterdir()), timeout=15), daemon.log()
        letters = [json.loads(line) for line in dlq.read_text().splitlines()]
        # Refused at once (permanent), not retried.
        assert all(l["attributes"]["ERROR_CODE"] == "INVALID_PARAMETER" for l in letters), letters
        assert all(l["attributes"]["RETRY_ATTEMPTS"] == 0 for l in letters), letters
        assert all("Subject header would contain a control character"
                   in l["attributes"]["ERROR_MESSAGE"] for l in letters)
        sent = [json.loads(p.read_text()) for p in mail.iterdir()]
        assert len(sent) == 1 and "victim" not in json.dumps(sent)
        assert dict(sent[0]["headers"])["Subject"] == "Finding plain"
    finally:
        smtp.kill()
        smtp.wait()


def test_duplicate_keys_cannot_bypass_anything_but(make_daemon):
    rule = """rules:
  - name: not-break-glass
    event_pattern:
      source: [sec.test]
      detail: {userName: [{anything-but: break-glass-admin}]}
    targets:
      - {id: q, type: queue_file, path: q.jsonl}
"""
    daemon = make_daemon(rules={"r.yaml": rule})
    raw = ('{"source":"sec.test","detail-type":"t",'
           '"detail":{"userName":"decoy","userName":"break-glass-admin"}}')
    status, _, body = post_json(daemon.url + "/events", raw)
    assert status == 200 and body["FailedEntryCount"] == 1
    assert body["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert '"userName" appears more than once in the object at detail' in \
        body["Entries"][0]["ErrorMessage"]
    put = json.dumps({"Entries": [{"Source": "sec.test", "DetailType": "t", "Detail":
                                   '{"userName":"decoy","userName":"break-glass-admin"}'}]})
    _, _, text = curl("-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
                      "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-",
                      daemon.url + "/", data=put)
    assert json.loads(text)["FailedEntryCount"] == 1
    # TestEventPattern says the same instead of answering "true".
    status, _, body = post_json(daemon.url + "/test-event-pattern", json.dumps(
        {"EventPattern": {"userName": [{"anything-but": "break-glass-admin"}]},
         "Event": '{"userName":"decoy","userName":"break-glass-admin"}'}))
    assert status == 400 and body["error"]["code"] == "InvalidEvent"
    assert '"userName" appears more than once' in body["error"]["message"]
    # An honest event still matches.
    _, _, body = post_json(daemon.url + "/events", json.dumps(
        {"source": "sec.test", "detail-type": "t", "detail": {"userName": "alice"}}))
    assert body["FailedEntryCount"] == 0
    queue = daemon.state_dir / "q.jsonl"
    assert wait_for(lambda: queue.exists() and queue.read_text().count("\n") == 1)
    time.sleep(0.3)
    assert "break-glass-admin" not in queue.read_text()


def test_only_named_buses_take_events_so_labels_stay_bounded(make_daemon):
    rule = """rules:
  - name: on-audit
    bus: audit
    event_pattern: {source: [s]}
    targets:
      - {id: q, type: queue_file, path: q.jsonl}
  - name: partner
    bus: aws.partner/example.com/123/findings
    event_pattern: {source: [s]}
    targets:
      - {id: q, type: queue_file, path: p.jsonl}
"""
    daemon = make_daemon(base_config(extra="buses: [staging]\n"), rules={"r.yaml": rule})
    event = json.dumps({"source": "s", "detail-type": "d", "detail": {}})
    for bus in ["audit", "staging", "aws.partner/example.com/123/findings"]:
        status, _, body = post_json(f"{daemon.url}/buses/{bus}/events", event)
        assert status == 200 and body["FailedEntryCount"] == 0, (bus, body)
    for i in range(200):
        status, _, body = post_json(f"{daemon.url}/buses/nope-{i}/events", event)
        assert status == 404, body
        assert body["error"]["code"] == "ResourceNotFoundException"
    assert "Event bus nope-199 does not exist" in body["error"]["message"]
    _, _, text = curl("-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
                      "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-",
                      daemon.url + "/", data=json.dumps({"Entries": [
                          {"Source": "s", "DetailType": "d", "Detail": "{}",
                           "EventBusName": "ghost"},
                          {"Source": "s", "DetailType": "d", "Detail": "{}",
                           "EventBusName": "audit"}]}))
    body = json.loads(text)
    assert body["FailedEntryCount"] == 1
    assert body["Entries"][0]["ErrorCode"] == "ResourceNotFoundException"
    assert "EventId" in body["Entries"][1]
    _, _, metrics = curl(daemon.url + "/metrics")
    assert "nope-" not in metrics and "ghost" not in metrics
    assert 'bus="audit"' in metrics


TARGET_SNIPPETS = {
    "queue_file": "type: queue_file\n        path: out.jsonl",
    "runbook": "type: runbook\n        command: [{workdir}/append.sh]",
    "webhook": "type: webhook\n        url: http://127.0.0.1:{port}/hook",
    "email": ("type: email\n        smtp: {{host: 127.0.0.1, port: {smtp}, starttls: never}}\n"
              "        from: eventrouter@example.com\n        to: [oncall@example.com]"),
}


@pytest.mark.parametrize("kind", sorted(TARGET_SNIPPETS))
def test_reload_under_load_never_crashes(make_daemon, workdir, recorder, kind):
    """Eight clients post batches of ten while rules reload: every target type's old deployment
    is torn down while its deliveries finish on its own threads."""
    (workdir / "append.sh").write_text("#!/bin/sh\ncat >/dev/null\n")
    (workdir / "append.sh").chmod(0o755)
    smtp = smtp_port = None
    if kind == "email":
        smtp, smtp_port, _ = start_smtp(workdir)
    try:
        target = TARGET_SNIPPETS[kind].format(workdir=workdir, port=recorder.port, smtp=smtp_port)
        rule = f"""rules:
  - name: load
    event_pattern: {{source: [load]}}
    targets:
      - id: t
        {target}
"""
        # Pending work is bounded so that stopping (which dead-letters what is left, without a
        # journal) stays short.
        daemon = make_daemon(base_config(extra="durability: none\ndelivery:\n"
                                               "  max_pending_deliveries: 2000\n"
                                               "  shutdown_grace: 1s\n")
                             .replace("level: debug", "level: info"), rules={"r.yaml": rule})
        stop = time.time() + 4
        batch = json.dumps([{"source": "load", "detail-type": "d", "detail": {"n": i}}
                            for i in range(10)])
        failures = []

        def client():
            while time.time() < stop:
                status, _, _ = curl("-X", "POST", "-H", "Content-Type: application/json",
                                    "--data-binary", "@-", daemon.url + "/events", data=batch,
                                    timeout=10)
                if status not in (200, 503):
                    failures.append(status)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for _ in range(4):
            time.sleep(0.8)
            daemon.signal(signal.SIGHUP)
        for t in threads:
            t.join()
        time.sleep(2)
        assert daemon.proc.poll() is None, "the daemon died on reload:\n" + daemon.log()[-3000:]
        assert not failures, failures
        status, _, _ = curl(daemon.url + "/healthz")
        assert status == 200
        assert daemon.log().count("reloading rules (SIGHUP)") == 4
        assert daemon.stop(timeout=30) == 0, daemon.log()[-3000:]
    finally:
        if smtp:
            smtp.kill()
            smtp.wait()


def raw_exchange(port, request, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        return data


def test_transfer_encoding_other_than_chunked_is_refused(daemon):
    body = b'{"source":"s","detail-type":"d","detail":{}}'
    for coding in [b"gzip", b"chunked, gzip", b"identity"]:
        answer = raw_exchange(daemon.port, b"POST /events HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\nTransfer-Encoding: " + coding +
                              b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" +
                              body)
        assert answer.startswith(b"HTTP/1.1 400"), (coding, answer)
        assert b"UnsupportedTransferEncoding" in answer
    # Chunked alone is fine.
    chunked = (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + hex(len(body))[2:].encode() + b"\r\n" +
               body + b"\r\n0\r\n\r\n")
    assert raw_exchange(daemon.port, chunked).startswith(b"HTTP/1.1 200")


def test_a_silent_connection_is_closed_after_the_header_timeout(make_daemon):
    daemon = make_daemon(base_config(limits={"header_timeout": "1s", "idle_timeout": "60s",
                                             "max_connections": 4}))
    silent = [socket.create_connection(("127.0.0.1", daemon.port)) for _ in range(4)]
    started = time.time()
    for s in silent:
        s.settimeout(10)
        assert s.recv(1) == b""  # closed by the daemon
        s.close()
    assert time.time() - started < 5
    status, _, _ = curl(daemon.url + "/healthz")
    assert status == 200


def test_a_runbook_cannot_forge_log_lines(make_daemon, workdir):
    script = workdir / "noisy.sh"
    script.write_text("#!/bin/sh\ncat >/dev/null\n"
                      "printf 'first\\n2026-01-01T00:00:00.000Z error FORGED\\n' >&2\nexit 0\n")
    script.chmod(0o755)
    rule = f"""rules:
  - name: noisy
    event_pattern: {{source: [s]}}
    targets:
      - {{id: r, type: runbook, command: [{script}]}}
"""
    daemon = make_daemon(rules={"r.yaml": rule})
    post_json(daemon.url + "/events", json.dumps({"source": "s", "detail-type": "d",
                                                  "detail": {}}))
    assert daemon.wait_for_log(r"stderr: first\\n2026-01-01T00:00:00.000Z error FORGED"), \
        daemon.log()
    assert not any(line.startswith("2026-01-01T00:00:00.000Z error FORGED")
                   for line in daemon.lines)


def test_a_runbook_that_cannot_be_spawned_for_its_size_is_dead_lettered_at_once(make_daemon,
                                                                                  workdir):
    huge = "x" * (200 * 1024)  # over Linux's 128 KiB limit for one argument: E2BIG
    rule = f"""rules:
  - name: huge
    event_pattern: {{source: [s]}}
    targets:
      - id: r
        type: runbook
        command: [/bin/true, "{huge}"]
        retry_policy: {{maximum_retry_attempts: 185}}
        dead_letter: {{path: dlq.jsonl}}
"""
    daemon = make_daemon(rules={"r.yaml": rule})
    post_json(daemon.url + "/events", json.dumps({"source": "s", "detail-type": "d",
                                                  "detail": {}}))
    dlq = daemon.state_dir / "dlq.jsonl"
    assert wait_for(lambda: dlq.exists() and dlq.read_text().strip(), timeout=10), daemon.log()
    letter = json.loads(dlq.read_text().splitlines()[0])
    assert letter["attributes"]["ERROR_CODE"] == "INVALID_PARAMETER"
    assert letter["attributes"]["RETRY_ATTEMPTS"] == 0
    assert "Argument list too long" in letter["attributes"]["ERROR_MESSAGE"]


def test_a_pattern_that_multiplies_costs_little_and_health_stays_prompt(daemon):
    # Ten fields with a two-branch $or each (1,024 alternatives), one field with 20,000 values.
    body = {"source": [f"v{i}" for i in range(20000)]}
    for i in range(10):
        body[f"k{i}"] = {"$or": [{"a": ["x"]}, {"b": ["y"]}]}
    request = json.dumps({"EventPattern": json.dumps(body),
                          "Event": json.dumps({"source": "v1"})})
    result = {}

    def test_pattern():
        started = time.time()
        result["answer"] = post_json(daemon.url + "/test-event-pattern", request)
        result["seconds"] = time.time() - started

    worker = threading.Thread(target=test_pattern)
    worker.start()
    health = []
    while worker.is_alive():
        started = time.time()
        status, _, _ = curl(daemon.url + "/healthz", timeout=5)
        health.append((status, time.time() - started))
        time.sleep(0.05)
    worker.join()
    status, _, answer = result["answer"]
    assert status in (200, 400), answer
    if status == 400:
        assert "Rule is too complex" in answer["error"]["message"]
    assert result["seconds"] < 5, result
    assert all(s == 200 and t < 1 for s, t in health), health
    rss_kb = int(next(line.split()[1] for line in open(f"/proc/{daemon.proc.pid}/status")
                      if line.startswith("VmRSS")))
    assert rss_kb < 512 * 1024, f"the daemon grew to {rss_kb} KiB"
