"""The ready integrations of config/rules.d/integrations-disabled.yaml (Slack, PagerDuty,
Opsgenie, Microsoft Teams, Jira Cloud), each run as shipped on the real daemon: the one rule
switched to ENABLED and its url pointed at a loopback receiver, every fixture finding posted,
and what the receiver got checked against the fields and limits that service's API requires.
A payload that passes here is one the service would accept (as far as its documented schema
goes); one that fails would be a 400 from the service and a dead letter here."""
import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import BINARY, FIXTURES, SOURCE_DIR, fixture_text, post_json, wait_for

RULES_FILE = SOURCE_DIR / "config" / "rules.d" / "integrations-disabled.yaml"
RULES = {
    "slack": "integration-slack",
    "pagerduty": "integration-pagerduty",
    "opsgenie": "integration-opsgenie",
    "teams": "integration-teams",
    "jira": "integration-jira",
}
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))

# Fixtures the rules leave alone on purpose, and why. Everything else must be delivered.
NOT_MATCHED = {
    # Severity 2 is GuardDuty's "Low": these rules page people, so they start at 7 (High).
    "guardduty-port-probe-low.json": "GuardDuty severity 2 is Low; the rules start at 7",
}

# What a reader must see in the one-line text of each finding: what happened, not only where.
HEADLINE = {
    "guardduty-credential-exfiltration.json": "Credentials for instance role web-tier-instance-role",
    "guardduty-port-probe-low.json": "Unprotected port on EC2 instance i-09f8e7d6c5b4a3921",
    "securityhub-failed-new.json": "S3.8 S3 general purpose buckets should block public access",
    "macie-sensitive-data.json": "The S3 object contains personal information.",
    "access-analyzer-public-bucket.json": "AWS::S3::Bucket",
    "config-noncompliant.json": "restricted-ssh AWS::EC2::SecurityGroup sg-0a1b2c3d",
    "cloudtrail-console-login-no-mfa.json": "arn:aws:iam::123456789012:user/alice",
}


def test_the_fixtures_are_the_seven_this_test_knows():
    assert FIXTURE_NAMES == sorted(HEADLINE) == sorted(RESOURCE), FIXTURE_NAMES


# --- the shipped rules, one at a time ----------------------------------------------------------

def rule_block(name):
    """The shipped text of one rule (from its `- name:` line to the next rule's)."""
    blocks = re.split(r"(?m)^(?=  - name: )", RULES_FILE.read_text())[1:]
    found = [b for b in blocks if b.startswith(f"  - name: {name}\n")]
    assert len(found) == 1, f"{name} is not in {RULES_FILE}"
    return found[0]


def replace_once(text, pattern, replacement):
    new, count = re.subn(pattern, lambda m: m.group(1) + replacement, text, flags=re.M)
    assert count == 1, f"{pattern!r} found {count} times in:\n{text}"
    return new


def enabled_rule(name, url, authorization=None):
    """A rules file holding only the shipped rule `name`, ENABLED, sending to `url`; everything
    else exactly as shipped (optionally the Authorization header's value replaced)."""
    block = replace_once(rule_block(name), r"^(    state: )DISABLED$", "ENABLED")
    block = replace_once(block, r"^(        url: )\S+.*$", url)
    if authorization is not None:
        block = replace_once(block, r"^(          Authorization: ).*$", authorization)
    return "rules:\n" + block


class Receiver:
    """A loopback HTTP server that records every request and answers as the services do on
    success (202 with a small JSON body)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    })
                answer = b'{"status":"success"}'
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def received(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def run(make_daemon, receiver, rules_text, events, expected, subdir):
    """Starts a daemon with `rules_text`, posts `events` (name -> JSON text) and returns what
    the receiver got, by event id, once `expected` requests arrived (and a moment more, so an
    unexpected extra one is seen too)."""
    daemon = make_daemon(rules={"integrations.yaml": rules_text}, subdir=subdir)
    for name, text in events.items():
        status, _, body = post_json(daemon.url + "/events", text)
        assert status == 200 and body["FailedEntryCount"] == 0, (name, body)
    wait_for(lambda: len(receiver.received()) >= expected, timeout=30)
    time.sleep(0.5)
    got = receiver.received()
    assert len(got) == expected, (f"{len(got)} requests, expected {expected}\n" + daemon.log())
    by_id = {r["headers"]["x-eventrouter-event-id"]: r for r in got}
    assert len(by_id) == expected, "one request per event"
    return by_id


# --- what each service requires ----------------------------------------------------------------
# Each validator returns a list of problems (empty: the service would take it).

def is_text(value, max_len=None):
    return isinstance(value, str) and value.strip() != "" and (max_len is None or len(value) <= max_len)


def check_slack(body, event):
    # chat.postMessage via incoming webhook: "text" is required (the message and the
    # notification); blocks are optional.
    problems = []
    if set(body) - {"text", "blocks"}:
        problems.append(f"unexpected keys {sorted(set(body) - {'text', 'blocks'})}")
    if not is_text(body.get("text"), 40000):
        problems.append("text must be a non-empty string")
    return problems, body.get("text", "")


PD_SEVERITIES = {"critical", "error", "warning", "info"}


def check_pagerduty(body, event):
    # Events API v2 /v2/enqueue, event_action trigger.
    problems = []
    if not (isinstance(body.get("routing_key"), str) and len(body["routing_key"]) == 32):
        problems.append("routing_key must be the 32-character integration key")
    if body.get("event_action") != "trigger":
        problems.append("event_action must be trigger")
    if body.get("dedup_key") != event["id"] or len(body["dedup_key"]) > 255:
        problems.append(f"dedup_key {body.get('dedup_key')!r} is not the event id")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        return problems + ["payload must be an object"], ""
    if not is_text(payload.get("summary"), 1024):
        problems.append("payload.summary must be a string of 1 to 1024 characters")
    if not is_text(payload.get("source"), 255):
        problems.append("payload.source must be a non-empty string")
    if payload.get("severity") not in PD_SEVERITIES:
        problems.append(f"payload.severity {payload.get('severity')!r} not in {PD_SEVERITIES}")
    if payload.get("timestamp") != event["time"]:
        problems.append("payload.timestamp must be the event's time (ISO 8601)")
    for key in ("component", "group", "class"):
        if key in payload and not is_text(payload[key]):
            problems.append(f"payload.{key} must be a string")
    details = payload.get("custom_details")
    if not isinstance(details, dict):
        problems.append("payload.custom_details must be an object")
    elif details.get("event") != event:
        problems.append("custom_details.event must be the whole finding")
    return problems, payload.get("summary", "")


def check_opsgenie(body, event):
    # Alert API POST /v2/alerts.
    problems = []
    if not is_text(body.get("message"), 130):
        problems.append(f"message must be 1 to 130 characters, is {len(body.get('message') or '')}")
    if body.get("alias") != event["id"] or len(body["alias"]) > 512:
        problems.append(f"alias {body.get('alias')!r} is not the event id")
    if "description" in body and not is_text(body["description"], 15000):
        problems.append("description must be a string of at most 15000 characters")
    if body.get("priority", "P3") not in {"P1", "P2", "P3", "P4", "P5"}:
        problems.append(f"priority {body.get('priority')!r} not in P1..P5")
    for key, limit in (("source", 100), ("entity", 512)):
        if key in body and not is_text(body[key], limit):
            problems.append(f"{key} must be a string of at most {limit} characters")
    tags = body.get("tags", [])
    if not (isinstance(tags, list) and all(is_text(t, 50) for t in tags)):
        problems.append(f"tags must be strings of at most 50 characters: {tags!r}")
    details = body.get("details", {})
    if not (isinstance(details, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in details.items())):
        problems.append("details must map strings to strings")
    return problems, body.get("message", "")


def check_teams(body, event):
    # Incoming webhook, Office 365 connector MessageCard: "text" is required unless
    # "summary" and "sections" are given; this card has all three.
    problems = []
    if body.get("@type") != "MessageCard" or body.get("@context") != "https://schema.org/extensions":
        problems.append("@type/@context must name a MessageCard")
    if not is_text(body.get("text")):
        problems.append("text must be a non-empty string")
    if not is_text(body.get("summary")):
        problems.append("summary must be a non-empty string (the notification)")
    if "themeColor" in body and not re.fullmatch(r"[0-9A-Fa-f]{6}", str(body["themeColor"])):
        problems.append("themeColor must be six hex digits")
    sections = body.get("sections", [])
    ok = isinstance(sections, list) and all(
        isinstance(s, dict) and isinstance(s.get("facts", []), list)
        and all(isinstance(f, dict) and isinstance(f.get("name"), str)
                and isinstance(f.get("value"), str) for f in s.get("facts", []))
        for s in sections)
    if not ok:
        problems.append("sections[].facts[] must be {name: string, value: string}")
    return problems, body.get("text", "")


def check_jira(body, event):
    # Create issue, POST /rest/api/2/issue.
    problems = []
    fields = body.get("fields")
    if not isinstance(fields, dict):
        return ["fields must be an object"], ""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]+", str((fields.get("project") or {}).get("key"))):
        problems.append("fields.project.key must be a project key")
    if not is_text((fields.get("issuetype") or {}).get("name")):
        problems.append("fields.issuetype.name must be a non-empty string")
    summary = fields.get("summary")
    if not is_text(summary, 255) or "\n" in summary or "\r" in summary:
        problems.append(f"fields.summary must be one line of 1 to 255 characters: {summary!r}")
    if "description" in fields and not isinstance(fields["description"], str):
        problems.append("fields.description must be a string (API v2)")
    labels = fields.get("labels", [])
    if not (isinstance(labels, list)
            and all(isinstance(l, str) and l and not re.search(r"\s", l) for l in labels)):
        problems.append(f"labels must be strings without spaces: {labels!r}")
    return problems, summary or ""


CHECKS = {"slack": check_slack, "pagerduty": check_pagerduty, "opsgenie": check_opsgenie,
          "teams": check_teams, "jira": check_jira}

# The affected resource, by name, that each payload must carry (in its "Resource" line or field):
# without it a reader knows that something is wrong, not where.
RESOURCE = {
    "guardduty-credential-exfiltration.json": "i-0b1c2d3e4f5a6b7c8",   # in the resource's JSON
    "guardduty-port-probe-low.json": "i-09f8e7d6c5b4a3921",
    "securityhub-failed-new.json": "arn:aws:s3:::customer-exports-prod",
    "macie-sensitive-data.json": "arn:aws:s3:::customer-exports-prod",
    "access-analyzer-public-bucket.json": "arn:aws:s3:::marketing-assets-public",
    "config-noncompliant.json": "sg-0a1b2c3d",
    "cloudtrail-console-login-no-mfa.json": "arn:aws:iam::123456789012:user/alice",
}


def resource_text(service, body):
    if service == "pagerduty":
        return body["payload"]["custom_details"]["resource"] + body["payload"]["summary"]
    if service == "opsgenie":
        return body["details"]["resource"] + body["message"]
    if service == "teams":
        return json.dumps(body["sections"]) + body["text"]
    if service == "jira":
        return body["fields"]["description"]
    return body["text"]


AUTHORIZATION = {"opsgenie": r"GenieKey \S+", "jira": r"Basic \S+"}


def check_request(service, request, event, name):
    problems = []
    if not request["headers"].get("content-type", "").startswith("application/json"):
        problems.append(f"Content-Type {request['headers'].get('content-type')!r}")
    if service in AUTHORIZATION and not re.fullmatch(AUTHORIZATION[service],
                                                     request["headers"].get("authorization", "")):
        problems.append(f"Authorization header not of the form {AUTHORIZATION[service]}")
    try:
        body = json.loads(request["body"])
    except ValueError as e:
        return [f"body is not JSON: {e}"]
    body_problems, text = CHECKS[service](body, event)
    problems += body_problems
    if HEADLINE[name] not in text:
        problems.append(f"the text {text!r} does not say {HEADLINE[name]!r}")
    if event["detail-type"] not in text and service != "teams":  # Teams: it is the card's title
        problems.append(f"the text {text!r} does not name {event['detail-type']!r}")
    if service == "teams" and body.get("title") != event["detail-type"]:
        problems.append("the card's title must be the detail-type")
    if not problems and RESOURCE[name] not in resource_text(service, body):
        problems.append(f"the payload does not name the resource {RESOURCE[name]!r}")
    return [f"{service} / {name}: {p}" for p in problems]


# --- the tests ---------------------------------------------------------------------------------

def test_shipped_file_loads_without_any_secret_and_everything_is_disabled(workdir):
    """On a machine with none of the services' variables, the file validates, and no rule in
    it can fire until the user enables it."""
    (workdir / "rules.d").mkdir()
    (workdir / "rules.d" / "integrations-disabled.yaml").write_text(RULES_FILE.read_text())
    (workdir / "er.yaml").write_text("listen: 127.0.0.1:0\nrules_dir: rules.d\nstate_dir: state\n")
    proc = subprocess.run([BINARY, "validate", "-c", str(workdir / "er.yaml")],
                          capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 rules in 1 file" in proc.stdout + proc.stderr
    text = re.sub(r"#.*", "", RULES_FILE.read_text())  # what is not a comment
    assert len(re.findall(r"(?m)^    state: DISABLED$", text)) == 5
    assert "ENABLED" not in text
    assert "${env:" not in text and "${file:" not in text, "a missing secret would fail the load"


@pytest.mark.parametrize("service", sorted(RULES))
def test_every_fixture_gives_a_payload_the_service_accepts(service, make_daemon, receiver):
    events = {name: fixture_text(name) for name in FIXTURE_NAMES}
    # The low GuardDuty finding, raised to severity 8 under a new id: the rules leave the real
    # one alone (NOT_MATCHED), but the transformer must still work for its shape.
    low = events["guardduty-port-probe-low.json"]
    raised = low.replace('"severity": 2,', '"severity": 8,').replace(
        "5e1f0a3b-7c2d-4e8f-9a6b-1c0d2e3f4a5b", "5e1f0a3b-7c2d-4e8f-9a6b-000000000008")
    assert raised.count("000000000008") == 1 and '"severity": 8,' in raised
    events["guardduty-port-probe-raised-to-8"] = raised

    expected = len(events) - len(NOT_MATCHED)
    got = run(make_daemon, receiver, enabled_rule(RULES[service], receiver.url("/hook")),
              events, expected, service)

    problems = []
    for name, text in events.items():
        event = json.loads(text)
        if name in NOT_MATCHED:
            assert event["id"] not in got, f"{name} must not be sent: {NOT_MATCHED[name]}"
            continue
        assert event["id"] in got, f"{name} was not delivered to {service}"
        fixture = name if name in HEADLINE else "guardduty-port-probe-low.json"
        problems += check_request(service, got[event["id"]], event, fixture)
    assert not problems, "\n".join(problems)


def test_opsgenie_key_from_the_environment(make_daemon, receiver, monkeypatch):
    """What the docs tell users to do with the key: the whole header value in a variable."""
    monkeypatch.setenv("OPSGENIE_AUTH", "GenieKey 11111111-2222-3333-4444-555555555555")
    rules = enabled_rule(RULES["opsgenie"], receiver.url("/v2/alerts"), "${env:OPSGENIE_AUTH}")
    name = "guardduty-credential-exfiltration.json"
    got = run(make_daemon, receiver, rules, {name: fixture_text(name)}, 1, "opsgenie-env")
    request = got[json.loads(fixture_text(name))["id"]]
    assert request["headers"]["authorization"] == "GenieKey 11111111-2222-3333-4444-555555555555"
    assert request["path"] == "/v2/alerts"
    assert not check_request("opsgenie", request, json.loads(fixture_text(name)), name)


def test_slack_url_from_the_environment(make_daemon, receiver, monkeypatch):
    """The webhook URL is the Slack secret: it works from a variable too."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url("/services/T0/B0/secret"))
    rules = enabled_rule(RULES["slack"], "${env:SLACK_WEBHOOK_URL}")
    name = "config-noncompliant.json"
    got = run(make_daemon, receiver, rules, {name: fixture_text(name)}, 1, "slack-env")
    request = got[json.loads(fixture_text(name))["id"]]
    assert request["path"] == "/services/T0/B0/secret"
    assert not check_request("slack", request, json.loads(fixture_text(name)), name)


def test_docs_examples_are_what_the_rules_send(make_daemon, receiver):
    """docs/integrations.md shows, for each service, the payload made from the Config
    fixture: it must be exactly what the shipped rule sends."""
    doc = (SOURCE_DIR / "docs" / "integrations.md").read_text()
    name = "config-noncompliant.json"
    event = json.loads(fixture_text(name))
    for service, rule in sorted(RULES.items()):
        receiver.requests.clear()
        got = run(make_daemon, receiver, enabled_rule(rule, receiver.url("/hook")),
                  {name: fixture_text(name)}, 1, f"doc-{service}")
        sent = json.loads(got[event["id"]]["body"])
        if service == "pagerduty":  # the whole event is in it; the doc abbreviates that
            sent["payload"]["custom_details"]["event"] = "(the whole finding)"
        marker = f"<!-- example: {service} -->"
        assert marker in doc, f"{marker} is missing from docs/integrations.md"
        block = re.search(re.escape(marker) + r"\s*```json\n(.*?)```", doc, re.S)
        assert block, f"no ```json block after {marker}"
        assert json.loads(block.group(1)) == sent, (
            f"{service}: the doc's example differs from what is sent:\n"
            + json.dumps(sent, indent=2))
