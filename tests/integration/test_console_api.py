"""The web console's files and data endpoints (docs/console.md, docs/http-api.md "Console"):
files served from the binary without a token under a strict Content-Security-Policy; the last
hour's activity; the last events accepted and which of them a pattern matches; the dead letters
as JSON, on both delivery backends."""
import json

from conftest import base_config, curl, post_json, wait_for

AUTH = "auth:\n  tokens_file: tokens\n"
INGEST, READ, ADMIN = "ingest-tok-1", "read-tok-2", "admin-tok-3"
TOKENS = f"{INGEST} role=ingest\n{READ} role=read\n{ADMIN} role=admin\n"
FAST_RETRIES = "delivery:\n  backoff_base: 100ms\n  backoff_cap: 500ms\n"


def queue_rule(queue):
    return {"q.yaml": f"""rules:
  - name: scanner-findings
    event_pattern: {{source: [test.scanner]}}
    targets:
      - {{id: queue, type: queue_file, path: {queue}}}
"""}


def event(n, source="test.scanner", **detail):
    return {"source": source, "detail-type": "Finding", "detail": {"n": n, **detail}}


def get(daemon, path, token=READ):
    args = ("-H", f"Authorization: Bearer {token}") if token else ()
    status, headers, body = curl(*args, daemon.url + path)
    return status, headers, (json.loads(body) if body and body.startswith("{") else body)


def post(daemon, path, body, token=ADMIN):
    return post_json(daemon.url + path, json.dumps(body), "-H", f"Authorization: Bearer {token}")


def console_daemon(make_daemon, workdir, extra=""):
    return make_daemon(base_config(extra=AUTH + extra), rules=queue_rule(workdir / "q.jsonl"),
                       extra_files={"tokens": TOKENS})


def test_console_files_are_served_without_a_token_under_a_strict_policy(make_daemon, workdir):
    daemon = console_daemon(make_daemon, workdir)
    status, headers, body = get(daemon, "/console/", token=None)
    assert status == 200 and headers["content-type"].startswith("text/html"), (status, headers)
    assert "<html" in body.lower()
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy, policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"

    status, headers, _ = get(daemon, "/console", token=None)
    assert status == 308 and headers["location"] == "/console/"
    status, headers, body = get(daemon, "/console/no-such-file.js", token=None)
    assert status == 404 and "content-security-policy" in headers
    status, _, _ = curl("-X", "POST", daemon.url + "/console/")
    assert status == 405
    # The data needs the token the console asks for.
    for path in ("/activity", "/recent-events", "/dead-letters", "/rules", "/events"):
        assert get(daemon, path, token=None)[0] == 401, path


def test_activity_counts_the_last_hour_by_minute(make_daemon, workdir):
    daemon = console_daemon(make_daemon, workdir)
    status, _, body = post(daemon, "/events", [event(1), event(2), event(3, source="other")],
                           token=INGEST)
    assert status == 200 and body["FailedEntryCount"] == 0

    def totals():
        series = get(daemon, "/activity")[2]["series"]
        return {k: sum(minute[k] for minute in series)
                for k in ("received", "matched", "delivered", "failed", "dead_lettered")}

    assert wait_for(lambda: totals()["delivered"] == 2, timeout=10), daemon.log()
    assert totals() == {"received": 3, "matched": 2, "delivered": 2, "failed": 0,
                        "dead_lettered": 0}
    status, _, body = get(daemon, "/activity")
    assert status == 200 and body["interval_seconds"] == 60 and len(body["series"]) == 60
    starts = [minute["start"] for minute in body["series"]]
    assert starts == sorted(starts) and all(s.endswith(":00Z") for s in starts), starts
    # An ingest-only token may not read it.
    status, _, body = get(daemon, "/activity", token=INGEST)
    assert status == 403 and "read" in body["message"]


def test_recent_events_are_the_last_accepted_newest_first_and_bounded(make_daemon, workdir):
    daemon = console_daemon(make_daemon, workdir)
    for batch in range(11):
        events = [event(batch * 10 + i) for i in range(10)]
        assert post(daemon, "/events", events, token=INGEST)[0] == 200
    status, _, body = get(daemon, "/recent-events?limit=100")
    assert status == 200
    numbers = [e["event"]["detail"]["n"] for e in body["events"]]
    assert numbers == list(range(109, 9, -1))  # the newest 100 of 110, newest first
    first = body["events"][0]
    assert first["source"] == "test.scanner" and first["detail-type"] == "Finding"
    assert first["id"] == first["event"]["id"] and first["received_at"].endswith("Z")
    assert len(get(daemon, "/recent-events")[2]["events"]) == 20  # the default
    for query, wanted in (("limit=0", "limit must be"), ("limit=101", "limit must be"),
                          ("limit=x", "limit must be"), ("since=1h", "unknown query parameter")):
        status, _, body = get(daemon, "/recent-events?" + query)
        assert status == 400 and wanted in body["error"]["message"], (query, body)


def test_a_pattern_is_tried_on_the_recent_events(make_daemon, workdir):
    daemon = console_daemon(make_daemon, workdir)
    events = [event(1, severity=8), event(2, severity=3), event(3, severity=9, title="<script>")]
    status, _, accepted = post(daemon, "/events", events, token=INGEST)
    ids = [entry["EventId"] for entry in accepted["Entries"]]
    pattern = {"detail": {"severity": [{"numeric": [">=", 7]}]}}
    for token in (READ, INGEST):
        status, _, body = post(daemon, "/recent-events/test-event-pattern",
                               {"EventPattern": pattern}, token=token)
        assert status == 200, body
        assert body["examined"] == 3
        assert [m["id"] for m in body["matched"]] == [ids[2], ids[0]]
    # The pattern as a JSON string, as AWS's API takes it, and a limit.
    status, _, body = post(daemon, "/recent-events/test-event-pattern",
                           {"EventPattern": json.dumps(pattern), "limit": 1}, token=READ)
    assert status == 200 and body["examined"] == 1 and len(body["matched"]) == 1

    status, _, body = post(daemon, "/recent-events/test-event-pattern",
                           {"EventPattern": {"detail": {"severity": [{"numeric": [">", "x"]}]}}},
                           token=READ)
    assert status == 400 and body["error"]["code"] == "InvalidEventPattern"
    assert body["error"]["message"].startswith("Event pattern is not valid. Reason:"), body
    for bad, wanted in (({}, "missing EventPattern"), ({"EventPattern": {}, "limit": 0}, "limit"),
                        ({"EventPattern": {}, "limit": "5"}, "limit")):
        status, _, body = post(daemon, "/recent-events/test-event-pattern", bad, token=READ)
        assert status == 400 and wanted in body["error"]["message"], (bad, body)


def test_dead_letters_are_listed_newest_first_on_both_backends(make_daemon, workdir, backend,
                                                               refused_port):
    dead_port = refused_port
    rules = {"h.yaml": f"""rules:
  - name: to-hook
    event_pattern: {{source: [test.scanner]}}
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:{dead_port}/hook
        retry_policy: {{maximum_retry_attempts: 0}}
"""}
    daemon = make_daemon(backend.config(extra=AUTH + FAST_RETRIES), rules=rules,
                         extra_files={"tokens": TOKENS})
    for n in (1, 2, 3):  # one at a time, so their dead letters' times are in order
        assert post(daemon, "/events", [event(n, title="<img src=x onerror=alert(1)>")],
                    token=INGEST)[0] == 200
        assert wait_for(lambda: get(daemon, "/dead-letters")[2].get("total") == n), daemon.log()
    status, _, body = get(daemon, "/dead-letters")
    assert status == 200 and body["total"] == 3 and body["malformed"] == 0
    letters = body["dead_letters"]
    assert [d["record"]["event"]["detail"]["n"] for d in letters] == [3, 2, 1]
    first = letters[0]
    assert (first["rule"], first["target"]) == ("to-hook", "hook")
    assert first["error_code"] and first["retry_attempts"] == 0
    assert first["event_id"] == first["record"]["event"]["id"]
    assert first["record"]["event"]["detail"]["title"] == "<img src=x onerror=alert(1)>"

    status, _, body = get(daemon, "/dead-letters?limit=1&rule=to-hook&target=hook")
    assert body["total"] == 3 and len(body["dead_letters"]) == 1
    assert get(daemon, "/dead-letters?rule=other")[2]["total"] == 0
    status, _, body = get(daemon, "/dead-letters?limit=5000")
    assert status == 400 and "limit must be a whole number from 1 to 1000" in body["error"]["message"]
    assert get(daemon, "/dead-letters", token=INGEST)[0] == 403
    # Redriving stays the admin's.
    status, _, body = post(daemon, "/dead-letters/redrive", {"rule": "to-hook"}, token=READ)
    assert status == 403
