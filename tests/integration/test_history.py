"""Per-event history through the running daemon: GET /events/{id} shows an event's journey
(reception, matched rules, each attempt), GET /events lists and filters receptions newest first,
the history survives a restart, and bad queries say what to write instead."""
import json
import subprocess
import urllib.parse
from pathlib import Path

from conftest import BINARY, base_config, curl, free_port, post_json, wait_for
from test_durability import FAST_RETRIES, webhook, webhook_rule  # noqa: F401 (fixture)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"


def get_json(url):
    status, _, body = curl(url)
    return status, (json.loads(body) if body else None)


def guardduty_finding():
    return json.loads((FIXTURES / "guardduty-credential-exfiltration.json").read_text())


def post_finding(daemon, event):
    event = dict(event)
    event.pop("id", None)  # the daemon gives each accepted event its id
    status, _, body = post_json(daemon.url + "/events", json.dumps(event))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    return body["Entries"][0]["EventId"]


def guardduty_rule(port):
    return webhook_rule(port).replace("{source: [test.app]}", "{source: [aws.guardduty]}")


def journey(daemon, event_id, outcome):
    """The event's newest reception once its outcome is `outcome`."""
    def settled():
        status, body = get_json(f"{daemon.url}/events/{event_id}")
        if status == 200 and body["receptions"][0]["outcome"] == outcome:
            return body
        return None
    body = wait_for(settled, timeout=20)
    assert body, get_json(f"{daemon.url}/events/{event_id}")
    return body["receptions"][0]


def test_an_events_journey_shows_each_failed_attempt_and_the_delivery(make_daemon, webhook):
    webhook.set("503")
    daemon = make_daemon(base_config(extra=FAST_RETRIES),
                         rules={"h.yaml": guardduty_rule(webhook.port)})
    finding = guardduty_finding()
    event_id = post_finding(daemon, finding)
    assert daemon.wait_for_log(r"failed \(attempt 2\)"), daemon.log()
    webhook.set("ok")

    reception = journey(daemon, event_id, "delivered")
    assert reception["source"] == "aws.guardduty"
    assert reception["detail_type"] == finding["detail-type"]
    assert reception["bus"] == "default"
    assert reception["origin"] == "ingest"
    assert reception["rules"] == ["to-hook"]
    assert reception["deliveries"] == 1 and reception["delivered"] == 1
    assert reception["size"] > 1000
    steps = reception["steps"]
    kinds = [step["kind"] for step in steps]
    assert kinds[-1] == "delivered" and set(kinds[:-1]) == {"retrying"}, steps
    first = steps[0]
    assert first["attempt"] == 1 and first["target"] == "hook"
    assert first["error_code"] == "ERROR_FROM_TARGET" and "503" in first["error"], first
    assert first["status"] == 503 and steps[-1]["status"] == 200
    assert first["duration_ms"] >= 0
    assert steps[-1]["attempt"] == len(steps)


def test_the_listing_filters_by_outcome_and_rule_and_pages_newest_first(make_daemon, webhook):
    daemon = make_daemon(base_config(), rules={"h.yaml": guardduty_rule(webhook.port)})
    matched = [post_finding(daemon, guardduty_finding()) for _ in range(3)]
    unmatched = post_finding(daemon, {"source": "custom.scanner", "detail-type": "Scan",
                                      "detail": {"n": 1}})
    journey(daemon, matched[-1], "delivered")

    status, body = get_json(daemon.url + "/events?outcome=unmatched")
    assert status == 200, body
    assert [e["event_id"] for e in body["events"]] == [unmatched]
    assert body["events"][0]["rules"] == [] and "steps" not in body["events"][0]

    status, body = get_json(daemon.url + "/events?rule=to-hook&limit=2")
    assert [e["event_id"] for e in body["events"]] == [matched[2], matched[1]]
    assert body["next"] is not None
    status, body = get_json(f"{daemon.url}/events?rule=to-hook&limit=2&before={body['next']}")
    assert [e["event_id"] for e in body["events"]] == [matched[0]]
    assert body["next"] is None

    since = urllib.parse.quote("2000-01-01T00:00:00Z")
    status, body = get_json(f"{daemon.url}/events?since={since}&until=1h")
    assert status == 200 and body["events"] == [], body  # every event is newer than an hour ago


def test_bad_queries_and_unknown_events_say_what_to_do(make_daemon):
    daemon = make_daemon()
    status, body = get_json(daemon.url + "/events?outcome=lost")
    assert status == 400
    assert ("outcome must be unmatched, suppressed, pending, delivered or failed"
            in body["error"]["message"])
    status, body = get_json(daemon.url + "/events?colour=red")
    assert status == 400 and "unknown query parameter 'colour'" in body["error"]["message"]
    status, body = get_json(daemon.url + "/events?since=yesterday")
    assert status == 400 and "RFC 3339" in body["error"]["message"]
    status, body = get_json(daemon.url + "/events?limit=100000")
    assert status == 400 and "1 to 1000" in body["error"]["message"]
    status, body = get_json(daemon.url + "/events/no-such-event")
    assert status == 404 and body["error"]["code"] == "EventNotFound"
    status, body = get_json(daemon.url + "/events/" + "x" * 300)
    assert status == 400


def test_the_history_survives_a_restart(make_daemon, webhook):
    daemon = make_daemon(base_config(), rules={"h.yaml": guardduty_rule(webhook.port)})
    event_id = post_finding(daemon, guardduty_finding())
    journey(daemon, event_id, "delivered")
    assert daemon.stop() == 0
    daemon.start()
    assert journey(daemon, event_id, "delivered")["rules"] == ["to-hook"]


def test_with_the_history_off_the_routes_say_so(make_daemon):
    daemon = make_daemon(base_config(extra="history:\n  enabled: false\n"))
    status, body = get_json(daemon.url + "/events")
    assert status == 404 and body["error"]["code"] == "HistoryDisabled"
    assert "history.enabled" in body["error"]["message"]


def test_the_cli_lists_events_and_shows_a_journey(make_daemon, webhook):
    config = base_config().replace("listen: 127.0.0.1:0", f"listen: 127.0.0.1:{free_port()}")
    daemon = make_daemon(config, rules={"h.yaml": guardduty_rule(webhook.port)})
    event_id = post_finding(daemon, guardduty_finding())
    journey(daemon, event_id, "delivered")
    other = post_finding(daemon, {"source": "custom.scanner", "detail-type": "Scan",
                                  "detail": {}})

    def cli(*args):
        return subprocess.run([BINARY, "history", "-c", str(daemon.config), *args],
                              capture_output=True, text=True, timeout=30)

    def both_listed():
        proc = cli()
        return proc if proc.returncode == 0 and proc.stdout.endswith("2 events\n") else None

    # The delivery to the hook finishes in its own time.
    proc = wait_for(both_listed, timeout=10)
    assert proc, cli().stdout + cli().stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["RECEIVED", "EVENT_ID", "BUS", "SOURCE", "DETAIL_TYPE", "RULES",
                                "OUTCOME", "DELIVERED"]
    assert other in lines[1] and "unmatched" in lines[1]
    assert event_id in lines[2] and "to-hook" in lines[2] and "delivered" in lines[2]
    assert lines[-1] == "2 events"

    proc = cli("--rule", "to-hook", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [e["event_id"] for e in json.loads(proc.stdout)["events"]] == [event_id]

    proc = cli("--event", event_id)
    assert proc.returncode == 0, proc.stderr
    assert f"event {event_id}, received" in proc.stdout
    assert "matched: to-hook; outcome: delivered (1/1 delivered)" in proc.stdout
    assert "delivered" in proc.stdout.splitlines()[-1] and "hook" in proc.stdout.splitlines()[-1]

    proc = cli("--limit", "0")
    assert proc.returncode == 1 and "limit must be a whole number from 1 to 1000" in proc.stderr
    proc = cli("--event", "nothing-like-it")
    assert proc.returncode == 1 and "EventNotFound" in proc.stderr


def test_a_runbooks_exit_code_and_output_are_in_its_journey(make_daemon, workdir):
    flag = workdir / "ran-once"
    script = workdir / "isolate.sh"
    script.write_text("#!/bin/sh\necho isolating the instance\necho 'API throttled' >&2\n"
                      f"[ -e {flag} ] && exit 0\ntouch {flag}\nexit 3\n")
    script.chmod(0o755)
    rule = ("rules:\n  - name: contain\n    event_pattern: {source: [aws.guardduty]}\n"
            f"    targets:\n      - id: isolate\n        type: runbook\n        command: [{script}]\n")
    daemon = make_daemon(base_config(extra=FAST_RETRIES), rules={"c.yaml": rule})
    event_id = post_finding(daemon, guardduty_finding())

    steps = journey(daemon, event_id, "delivered")["steps"]
    assert [(s["kind"], s["status"]) for s in steps] == [("retrying", 3), ("delivered", 0)], steps
    assert steps[0]["output"] == "isolating the instance\n[stderr] API throttled\n", steps[0]
    assert "exited with 3" in steps[0]["error"]


def test_a_duplicate_that_dedup_suppressed_shows_as_suppressed(make_daemon, webhook):
    rule = guardduty_rule(webhook.port).replace(
        "    targets:", "    dedup: {key: [detail.id], window: 1h}\n    targets:", 1)
    daemon = make_daemon(base_config(), rules={"h.yaml": rule})
    first = post_finding(daemon, guardduty_finding())
    journey(daemon, first, "delivered")
    again = post_finding(daemon, guardduty_finding())

    reception = journey(daemon, again, "suppressed")
    assert reception["rules"] == ["to-hook"] and reception["deliveries"] == 0
    assert [(s["kind"], s["rule"]) for s in reception["steps"]] == [("suppressed", "to-hook")]
    status, body = get_json(daemon.url + "/events?outcome=suppressed")
    assert [e["event_id"] for e in body["events"]] == [again]
