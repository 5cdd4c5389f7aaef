"""Scoped API tokens (docs/security.md, "Scoped tokens"): roles and buses per line of
auth.tokens_file, 403 AccessDeniedException, hashed lines, and a bad file refused at start."""
import hashlib
import json
import subprocess
import time

from conftest import BINARY, base_config, curl, free_port, post_json, wait_for

AUTH = "auth:\n  tokens_file: tokens\n"
INGEST, READ, ADMIN, HASHED = "ingest-tok-1", "read-tok-2", "admin-tok-3", "hashed-tok-4"
HASH = hashlib.sha256(HASHED.encode()).hexdigest()
TOKENS = (f"# who may do what\n"
          f"{INGEST} role=ingest buses=default,scanners\n"
          f"{READ}\trole=read\n"
          f"{ADMIN} role=admin\n"
          f"sha256:{HASH} role=ingest\n")


def rules(queue):
    return {"scanners.yaml": f"""rules:
  - name: scanner-findings
    bus: scanners
    event_pattern: {{source: [test.scanner]}}
    targets:
      - id: queue
        type: queue_file
        path: {queue}
  - name: payment-findings
    bus: payments
    event_pattern: {{source: [test.scanner]}}
    targets:
      - id: queue
        type: queue_file
        path: {queue}
"""}


EVENT = json.dumps({"source": "test.scanner", "detail-type": "Finding", "detail": {"n": 1}})


def bearer(token):
    return ("-H", f"Authorization: Bearer {token}")


def post(daemon, path, token, body=EVENT):
    return post_json(daemon.url + path, body, *bearer(token))


def get(daemon, path, token):
    status, _, body = curl(*bearer(token), daemon.url + path)
    return status, body


def queued(queue):
    return [json.loads(line) for line in queue.read_text().splitlines()] if queue.exists() else []


def scoped_daemon(make_daemon, workdir):
    queue = workdir / "queue.jsonl"
    return make_daemon(base_config(extra=AUTH), rules=rules(queue),
                       extra_files={"tokens": TOKENS}), queue


def test_an_ingest_token_posts_to_its_buses_only(make_daemon, workdir):
    daemon, queue = scoped_daemon(make_daemon, workdir)
    status, _, body = post(daemon, "/buses/scanners/events", INGEST)
    assert status == 200 and body["FailedEntryCount"] == 0, body
    assert wait_for(lambda: len(queued(queue)) == 1), daemon.log()

    status, _, body = post(daemon, "/buses/payments/events", INGEST)
    assert status == 403
    assert body == {"__type": "AccessDeniedException",
                    "message": "this token may not post to bus 'payments' "
                               "(it may post to: default, scanners)"}
    for path in ("/replays", "/dead-letters/redrive"):
        status, _, body = post(daemon, path, INGEST, "{}")
        assert status == 403 and body["message"].endswith("it needs role admin"), body
    status, body = get(daemon, "/rules", INGEST)
    assert status == 403 and "it needs role read (or admin)" in body
    # Nothing of the refused requests reached the queue, and no token reached the log.
    time.sleep(0.3)
    assert len(queued(queue)) == 1
    for token in (INGEST, READ, ADMIN, HASHED):
        assert token not in daemon.log()

    status, body = get(daemon, "/metrics", ADMIN)
    assert status == 200
    assert 'eventrouter_http_requests_denied_total{reason="bus"} 1' in body
    assert 'eventrouter_http_requests_denied_total{reason="role"} 3' in body


def test_put_events_fails_only_the_entries_for_buses_the_token_lacks(make_daemon, workdir):
    daemon, queue = scoped_daemon(make_daemon, workdir)
    entry = {"Source": "test.scanner", "DetailType": "Finding", "Detail": "{}"}
    request = {"Entries": [dict(entry, EventBusName="scanners"),
                           dict(entry, EventBusName="payments")]}
    status, _, body = curl("-X", "POST", *bearer(INGEST),
                           "-H", "Content-Type: application/x-amz-json-1.1",
                           "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-",
                           daemon.url + "/", data=json.dumps(request))
    assert status == 200, body
    result = json.loads(body)
    assert result["FailedEntryCount"] == 1
    assert "EventId" in result["Entries"][0]
    assert result["Entries"][1] == {
        "ErrorCode": "AccessDeniedException",
        "ErrorMessage": "this token may not post to bus 'payments' "
                        "(it may post to: default, scanners)"}
    assert wait_for(lambda: len(queued(queue)) == 1)


def test_a_read_token_reads_but_cannot_post(make_daemon, workdir):
    daemon, _ = scoped_daemon(make_daemon, workdir)
    status, body = get(daemon, "/rules", READ)
    assert status == 200 and "scanner-findings" in body
    status, body = get(daemon, "/metrics", READ)
    assert status == 200 and "eventrouter_http_requests_total" in body
    status, body = get(daemon, "/events?limit=5", READ)
    assert status == 200 and '"events":' in body
    status, body = get(daemon, "/events?limit=5", INGEST)
    assert status == 403 and "may not read the history: it needs role read" in body
    status, _, body = post(daemon, "/test-event-pattern", READ,
                           json.dumps({"Event": json.loads(EVENT),
                                       "EventPattern": {"source": ["test.scanner"]}}))
    assert status == 200 and body == {"Result": True}
    status, _, body = post(daemon, "/events", READ)
    assert status == 403
    assert body == {"__type": "AccessDeniedException",
                    "message": "this token may not post events: it needs role ingest (or admin)"}
    status, _, body = post(daemon, "/replays", READ, "{}")
    assert status == 403


def test_an_admin_token_replays_and_redrives(make_daemon, workdir):
    daemon, queue = scoped_daemon(make_daemon, workdir)
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    assert post(daemon, "/buses/payments/events", ADMIN)[0] == 200
    assert wait_for(lambda: len(queued(queue)) == 1)
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    status, _, body = post(daemon, "/replays", ADMIN, json.dumps({"from": start, "to": end}))
    assert status == 200 and body["events_replayed"] == 1, body
    assert wait_for(lambda: len(queued(queue)) == 2)
    status, _, body = post(daemon, "/dead-letters/redrive", ADMIN, "{}")
    assert status == 200 and body["redriven"] == 0, body


def test_the_cli_defaults_to_the_first_plaintext_admin_token(make_daemon, workdir):
    config = base_config(extra=AUTH).replace("listen: 127.0.0.1:0",
                                             f"listen: 127.0.0.1:{free_port()}")
    # The ingest token comes first: taking it would be refused with 403.
    daemon = make_daemon(config, extra_files={"tokens": TOKENS})
    proc = subprocess.run([BINARY, "dlq", "redrive", "-c", str(daemon.config)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "redriven 0 dead letters\n"
    # An ingest token given explicitly is refused, and the message says what it lacks.
    proc = subprocess.run([BINARY, "dlq", "redrive", "-c", str(daemon.config), "--token", INGEST],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "AccessDeniedException: this token may not redrive dead letters: it needs role admin " \
           "(HTTP 403)" in proc.stderr
    # A file whose admin tokens are all hashes: the command says to pass one.
    (daemon.root / "tokens").write_text(f"sha256:{HASH} role=admin\n{INGEST} role=ingest\n")
    proc = subprocess.run([BINARY, "dlq", "redrive", "-c", str(daemon.config)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "holds no plaintext token with role admin" in proc.stderr
    assert "pass --token or set EVENTROUTER_TOKEN" in proc.stderr


def test_a_hashed_line_takes_the_token_but_not_the_hash(make_daemon, workdir):
    daemon, queue = scoped_daemon(make_daemon, workdir)
    status, _, body = post(daemon, "/events", HASHED)
    assert status == 200 and body["FailedEntryCount"] == 0
    for presented in (f"sha256:{HASH}", HASH):
        status, _, body = post(daemon, "/events", presented)
        assert status == 401 and body["error"]["code"] == "Unauthorized"
    # It is an ingest token: reading is refused with 403, not 401.
    assert get(daemon, "/rules", HASHED)[0] == 403


def test_the_old_one_token_a_line_file_is_full_access(make_daemon, workdir):
    queue = workdir / "queue.jsonl"
    daemon = make_daemon(base_config(extra=AUTH), rules=rules(queue),
                         extra_files={"tokens": "# ops\nold-style-token\n"})
    assert post(daemon, "/buses/payments/events", "old-style-token")[0] == 200
    assert get(daemon, "/rules", "old-style-token")[0] == 200
    assert post(daemon, "/dead-letters/redrive", "old-style-token", "{}")[0] == 200
    assert get(daemon, "/healthz", "")[0] == 200
    assert curl(daemon.url + "/readyz")[0] == 200


def test_a_bad_tokens_file_stops_the_start_and_fails_validate(make_daemon, workdir):
    daemon = make_daemon(base_config(extra=AUTH), start=False, extra_files={
        "tokens": f"good-token\nbad-token role=owner\nsha256:{HASH[:10]}\n"})
    proc = subprocess.run([BINARY, "serve", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1
    assert "tokens:2:16: unknown role 'owner' (the roles are ingest, read, admin)" in proc.stderr
    assert "tokens:3:8: sha256: needs 64 hex digits" in proc.stderr
    assert "bad-token" not in proc.stderr
    proc = subprocess.run([BINARY, "validate", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1 and "config OK" not in proc.stdout
    assert "tokens:2:16: unknown role 'owner'" in proc.stderr
    assert "2 problems found in auth.tokens_file" in proc.stderr


def test_validate_warns_about_a_bus_nothing_uses(make_daemon, workdir):
    daemon = make_daemon(base_config(extra=AUTH), rules=rules(workdir / "q.jsonl"), start=False,
                         extra_files={"tokens": "t1 buses=scanners,scaners\n"})
    proc = subprocess.run([BINARY, "validate", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert "config OK" in proc.stdout
    assert "tokens:1: warning: buses= names bus 'scaners'" in proc.stderr
    # The daemon starts with such a file, and says the same in its log.
    daemon.start()
    assert daemon.wait_for_log(r"tokens:1: buses= names bus 'scaners'"), daemon.log()
    assert post(daemon, "/buses/scanners/events", "t1")[0] == 200


def test_token_hash_prints_the_line_to_write(make_daemon, workdir):
    proc = subprocess.run([BINARY, "token", "hash"], input=HASHED + "\n", capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 0 and proc.stdout == f"sha256:{HASH}\n"
    proc = subprocess.run([BINARY, "token", "hash"], input="", capture_output=True, text=True,
                          timeout=20)
    assert proc.returncode == 2 and "no token on standard input" in proc.stderr
    proc = subprocess.run([BINARY, "token", "hash"], input="two words\n", capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 2 and "blank or control character" in proc.stderr
    assert proc.stdout == ""
