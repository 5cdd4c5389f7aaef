"""End to end: a GuardDuty finding fans out to a webhook, a runbook, a queue file and an email,
all in parallel, each a real peer on loopback."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, base_config, fixture_text, post_json, wait_for

PEERS = SOURCE_DIR / "tests" / "targets" / "peers"
SLOW = 2.0  # seconds the webhook and the runbook each take


def start_peer(args, workdir, name):
    log = open(workdir / f"{name}.stderr", "w")
    proc = subprocess.Popen(["/usr/bin/python3", *args], stdout=subprocess.PIPE, stderr=log,
                            text=True)
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise AssertionError(f"{name} peer did not start: {(workdir / f'{name}.stderr').read_text()}")
    return proc, int(line)


@pytest.fixture
def peers(workdir):
    started = []
    webhook, webhook_port = start_peer([str(PEERS / "http_peer.py"), "--log",
                                        str(workdir / "webhook.jsonl")], workdir, "webhook")
    started.append(webhook)
    mail_dir = workdir / "mail"
    mail_dir.mkdir()
    smtp, smtp_port = start_peer([str(PEERS / "smtp_peer.py"), "--out", str(mail_dir)], workdir,
                                 "smtp")
    started.append(smtp)
    yield {"webhook_port": webhook_port, "smtp_port": smtp_port, "mail": mail_dir,
           "webhook_log": workdir / "webhook.jsonl"}
    for proc in started:
        proc.kill()
        proc.wait()




def test_guardduty_finding_fires_all_four_targets_in_parallel(make_daemon, peers, workdir):
    runbook = workdir / "runbook.sh"
    # The environment file is written last, and renamed into place, so it marks the end.
    runbook.write_text("#!/bin/sh\nsleep %s\ncat > \"$OUT_DIR/runbook-stdin.json\"\n"
                       "env | grep ^EVENTROUTER_ | sort > \"$OUT_DIR/env.tmp\"\n"
                       "mv \"$OUT_DIR/env.tmp\" \"$OUT_DIR/runbook-env.txt\"\n" % SLOW)
    runbook.chmod(0o755)
    rule = f"""rules:
  - name: credential-exfiltration
    event_pattern:
      source: [aws.guardduty]
      detail:
        type: [UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS]
        severity: [{{numeric: [">=", 7]}}]
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:{peers['webhook_port']}/slow/{int(SLOW * 1000)}
        input_transformer:
          input_paths_map: {{principal: $.detail.resource.accessKeyDetails.principalId}}
          input_template: '{{"principal": <principal>, "rule": <aws.events.rule-name>}}'
      - id: contain
        type: runbook
        command: [{runbook}]
        env: {{OUT_DIR: {workdir}}}
      - id: archive
        type: queue_file
        path: findings.jsonl
      - id: mail
        type: email
        smtp: {{host: 127.0.0.1, port: {peers['smtp_port']}, starttls: never}}
        from: eventrouter@example.com
        to: [oncall@example.com]
        subject: "GuardDuty <type>"
        input_transformer:
          input_paths_map: {{type: $.detail.type}}
          input_template: "Finding <type>"
"""
    daemon = make_daemon(rules={"gd.yaml": rule})
    started = time.time()
    status, _, body = post_json(daemon.url + "/events",
                                fixture_text("guardduty-credential-exfiltration.json"))
    assert status == 200 and body["FailedEntryCount"] == 0
    queue = daemon.state_dir / "findings.jsonl"
    mail = peers["mail"]
    done = wait_for(lambda: peers["webhook_log"].exists() and queue.exists()
                    and (workdir / "runbook-env.txt").exists() and any(mail.iterdir()))
    elapsed = time.time() - started
    assert done, daemon.log()

    # Parallel: close to the slowest target, far from the sum of the two slow ones.
    assert elapsed < 2 * SLOW - 0.3, f"targets ran one after another ({elapsed:.2f}s)"

    hook = json.loads(peers["webhook_log"].read_text().splitlines()[0])
    assert hook["method"] == "POST"
    assert json.loads(hook["body"]) == {"principal": "AROASZCEXAMPLEROLEID:i-0b1c2d3e4f5a6b7c8",
                                        "rule": "credential-exfiltration"}

    stdin = json.loads((workdir / "runbook-stdin.json").read_text())
    assert stdin["id"] == "c8c4daa7-a20c-2f03-0070-b7393dd542ad"
    env = (workdir / "runbook-env.txt").read_text()
    assert "EVENTROUTER_RULE=credential-exfiltration" in env
    assert "EVENTROUTER_TARGET=contain" in env
    assert "EVENTROUTER_SOURCE=aws.guardduty" in env

    line = json.loads(queue.read_text().splitlines()[0])
    assert line["detail"]["severity"] == 8

    message = json.loads(next(mail.iterdir()).read_text())
    text = json.dumps(message)
    assert "GuardDuty UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS" in text
    assert "oncall@example.com" in text


def test_a_dead_webhook_does_not_hold_up_other_targets(make_daemon, workdir, refused_port):
    dead_port = refused_port
    rule = f"""rules:
  - name: r
    event_pattern: {{source: [app]}}
    targets:
      - id: dead
        type: webhook
        url: http://127.0.0.1:{dead_port}/
        retry_policy: {{maximum_retry_attempts: 0}}
        dead_letter: {{path: dlq.jsonl}}
      - id: q
        type: queue_file
        path: q.jsonl
"""
    daemon = make_daemon(rules={"r.yaml": rule})
    status, _, body = post_json(daemon.url + "/events",
                                '{"source":"app","detail-type":"t","detail":{}}')
    assert status == 200
    assert wait_for(lambda: (daemon.state_dir / "q.jsonl").exists(), 5)
    dlq = daemon.state_dir / "dlq.jsonl"
    assert wait_for(lambda: dlq.exists() and dlq.read_text().strip(), 10), daemon.log()
    record = json.loads(dlq.read_text().splitlines()[0])
    assert record["rule"] == "r" and record["target"] == "dead"
    assert record["attributes"]["ERROR_CODE"] == "CONNECTION_FAILURE"
    assert record["attributes"]["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert record["attributes"]["RETRY_ATTEMPTS"] == 0
    assert record["event"]["source"] == "app"


def test_without_a_journal_pending_retries_are_dead_lettered_at_shutdown(make_daemon,
                                                                          refused_port):
    """durability: none has nowhere to keep them; with the journal they wait for the next
    start instead (test_durability.py)."""
    import signal
    dead_port = refused_port
    rule = f"""rules:
  - name: r
    event_pattern: {{source: [app]}}
    targets:
      - id: dead
        type: webhook
        url: http://127.0.0.1:{dead_port}/
        dead_letter: {{path: dlq.jsonl}}
"""
    daemon = make_daemon(base_config(extra="durability: none\n"), rules={"r.yaml": rule})
    post_json(daemon.url + "/events", '{"source":"app","detail-type":"t","detail":{}}')
    assert daemon.wait_for_log("retrying in")
    daemon.signal(signal.SIGTERM)
    assert daemon.proc.wait(10) == 0
    record = json.loads((daemon.state_dir / "dlq.jsonl").read_text().splitlines()[0])
    assert record["attributes"]["EXHAUSTED_RETRY_CONDITION"] == "ShuttingDown"
    assert record["attributes"]["ERROR_CODE"] == "CONNECTION_FAILURE"
