"""Rules in a running daemon: matching into queue files, hot reload, GET /rules, validate."""
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import BINARY, SOURCE_DIR, base_config, curl, fixture_text, post_json


def queue_rule(name, source, queue, state="ENABLED", bus=None):
    bus_line = f"    bus: {bus}\n" if bus else ""
    return (f"  - name: {name}\n    state: {state}\n{bus_line}"
            f"    event_pattern:\n      source: [{source}]\n"
            f"    targets:\n      - id: q\n        type: queue_file\n        path: {queue}\n")


def rules_file(*rules):
    return "rules:\n" + "".join(rules)


def read_lines(path, count=1, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists():
            lines = [l for l in path.read_text().splitlines() if l]
            if len(lines) >= count:
                return [json.loads(l) for l in lines]
        time.sleep(0.05)
    return [json.loads(l) for l in path.read_text().splitlines() if l] if path.exists() else []


def send(daemon, source, bus="default"):
    path = "/events" if bus == "default" else f"/buses/{bus}/events"
    status, _, body = post_json(daemon.url + path, json.dumps(
        {"source": source, "detail-type": "Test", "detail": {"n": 1}}))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    return body["Entries"][0]["EventId"]


def test_matching_events_reach_the_queue_file(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(queue_rule("rule-a", "app.a", "qa.jsonl"))})
    event_id = send(daemon, "app.a")
    send(daemon, "app.other")
    lines = read_lines(daemon.state_dir / "qa.jsonl")
    assert [l["id"] for l in lines] == [event_id]
    assert lines[0]["source"] == "app.a" and lines[0]["detail"] == {"n": 1}


def test_reload_on_sighup(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(queue_rule("rule-a", "app.a", "q.jsonl"))})
    (daemon.rules_dir / "a.yaml").write_text(rules_file(queue_rule("rule-a", "app.b", "q.jsonl")))
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_for_log("rules reloaded")
    send(daemon, "app.a")
    wanted = send(daemon, "app.b")
    lines = read_lines(daemon.state_dir / "q.jsonl")
    time.sleep(0.3)
    assert [l["id"] for l in read_lines(daemon.state_dir / "q.jsonl")] == [wanted]


def test_reload_when_a_rule_file_changes(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(queue_rule("rule-a", "app.a", "qa.jsonl"))})
    (daemon.rules_dir / "b.yml").write_text(rules_file(queue_rule("rule-b", "app.b", "qb.jsonl")))
    assert daemon.wait_for_log("rules reloaded"), daemon.log()
    wanted = send(daemon, "app.b")
    assert [l["id"] for l in read_lines(daemon.state_dir / "qb.jsonl")] == [wanted]
    status, _, text = curl(daemon.url + "/rules")
    names = [r["name"] for r in json.loads(text)["rules"]]
    assert names == ["rule-a", "rule-b"]


def test_a_broken_change_keeps_the_old_rules(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(queue_rule("rule-a", "app.a", "q.jsonl"))})
    (daemon.rules_dir / "a.yaml").write_text(
        "rules:\n  - name: rule-a\n    event_pattern: {source: []}\n    targets: []\n")
    assert daemon.wait_for_log("reload rejected"), daemon.log()
    assert daemon.wait_for_log(r"a\.yaml:\d+:\d+: ")
    wanted = send(daemon, "app.a")
    assert [l["id"] for l in read_lines(daemon.state_dir / "q.jsonl")] == [wanted]
    status, _, text = curl(daemon.url + "/rules")
    body = json.loads(text)
    assert [r["name"] for r in body["rules"]] == ["rule-a"]
    assert json.dumps(body).count("a.yaml") >= 1  # the failed reload's errors are shown
    status, _, metrics = curl(daemon.url + "/metrics")
    assert 'eventrouter_rule_reloads_total{outcome="failure"} 1' in metrics
    assert daemon.proc.poll() is None


def test_rules_endpoint_shows_rules_and_match_counts(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(
        queue_rule("rule-a", "app.a", "qa.jsonl"),
        queue_rule("rule-off", "app.a", "off.jsonl", state="DISABLED"))})
    send(daemon, "app.a")
    send(daemon, "app.a")
    read_lines(daemon.state_dir / "qa.jsonl", count=2)
    status, _, text = curl(daemon.url + "/rules")
    assert status == 200
    rules = {r["name"]: r for r in json.loads(text)["rules"]}
    assert rules["rule-a"]["state"] == "ENABLED"
    assert rules["rule-a"]["bus"] == "default"
    assert rules["rule-a"]["event_pattern"] == {"source": ["app.a"]}
    assert rules["rule-a"]["targets"][0]["type"] == "queue_file"
    assert rules["rule-a"]["match_count"] == 2
    assert rules["rule-off"]["state"] == "DISABLED"
    assert rules["rule-off"]["match_count"] == 0
    assert not (daemon.state_dir / "off.jsonl").exists()


def test_events_on_a_bus_no_rule_names_are_accepted_and_counted(make_daemon):
    daemon = make_daemon(rules={"a.yaml": rules_file(
        queue_rule("rule-sec", "app.a", "sec.jsonl", bus="security"))})
    send(daemon, "app.a")  # default bus: no rule
    wanted = send(daemon, "app.a", bus="security")
    assert [l["id"] for l in read_lines(daemon.state_dir / "sec.jsonl")] == [wanted]
    status, _, metrics = curl(daemon.url + "/metrics")
    assert 'eventrouter_events_unmatched_total{bus="default"} 1' in metrics


def test_validate_the_shipped_config():
    proc = subprocess.run([BINARY, "validate", str(SOURCE_DIR / "config")], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout


def test_validate_reports_every_problem(workdir):
    (workdir / "rules.d").mkdir()
    (workdir / "eventrouter.yaml").write_text("rules_dir: rules.d\nstate_dir: state\n")
    (workdir / "rules.d" / "bad.yaml").write_text(
        "rules:\n"
        "  - name: one\n    event_pattern: {source: aws.guardduty}\n"
        "    targets: [{id: t, type: queue_file, path: q.jsonl}]\n"
        "  - name: two\n    descripton: typo\n    event_pattern: {source: [x]}\n"
        "    targets: [{id: t, type: carrier_pigeon}]\n")
    proc = subprocess.run([BINARY, "validate", "-c", str(workdir / "eventrouter.yaml")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    err = proc.stderr
    bad = str(workdir / "rules.d" / "bad.yaml")
    assert f"{bad}:3:" in err and "Event pattern is not valid" in err
    assert f"{bad}:6:5:" in err and "description" in err
    assert f"{bad}:8:" in err and "carrier_pigeon" in err


def test_the_shipped_config_runs_and_routes_the_fixtures(workdir):
    config_dir = workdir / "config"
    shutil.copytree(SOURCE_DIR / "config", config_dir)
    text = (config_dir / "eventrouter.yaml").read_text()
    text = text.replace("listen: 127.0.0.1:8088", "listen: 127.0.0.1:0")
    text = text.replace("state_dir: ../.state", f"state_dir: {workdir / 'state'}")
    (config_dir / "eventrouter.yaml").write_text(text)
    from conftest import Daemon
    daemon = Daemon.__new__(Daemon)
    daemon.root, daemon.config, daemon.lines, daemon.port = workdir, config_dir / "eventrouter.yaml", [], None
    daemon.state_dir = workdir / "state"
    daemon.start()
    try:
        status, _, body = post_json(daemon.url + "/events",
                                    fixture_text("guardduty-port-probe-low.json"))
        assert status == 200 and body["FailedEntryCount"] == 0
        lines = read_lines(daemon.state_dir / "queues" / "guardduty-findings.jsonl")
        assert len(lines) == 1 and lines[0]["source"] == "aws.guardduty"
    finally:
        assert daemon.stop() == 0
