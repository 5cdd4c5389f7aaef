"""`eventrouter dlq list`, `dlq redrive` and `replay` (docs/cli.md).

`dlq list` runs offline on dead-letter files written here. `dlq redrive` and `replay` talk to a
small HTTP server on loopback standing in for the daemon, so that the requests the command sends
and its handling of every kind of answer are checked exactly.
"""
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import BINARY


def run_cli(*args, env=None, timeout=30):
    full_env = dict(os.environ)
    full_env.pop("EVENTROUTER_TOKEN", None)
    full_env.update(env or {})
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def dead_letter(time_, rule, target, event_id, condition="MaximumRetryAttempts", attempts=2,
                code="CONNECTION_FAILURE"):
    attributes = {"ERROR_CODE": code, "ERROR_MESSAGE": "connection refused"}
    if condition:
        attributes["EXHAUSTED_RETRY_CONDITION"] = condition
    attributes["RETRY_ATTEMPTS"] = attempts
    return json.dumps({"time": time_, "rule": rule, "target": target, "attributes": attributes,
                       "event": {"id": event_id, "source": "custom.scanner",
                                 "detail-type": "Scan Finding", "detail": {"severity": 7}},
                       "payload": "{\"severity\":7}"}, separators=(",", ":"))


RULES = """\
rules:
  - name: scanner-high
    event_pattern: { source: [custom.scanner] }
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:9/hook
        dead_letter: { path: dlq/hook.jsonl }
      - id: runbook
        type: runbook
        command: [/bin/true]
  - name: other
    event_pattern: { source: [other] }
    targets:
      - id: queue
        type: queue_file
        path: queue.jsonl
        dead_letter: { path: dlq/hook.jsonl }
"""


def write_setup(root, listen="127.0.0.1:8088", extra="", rules=RULES):
    (root / "rules.d").mkdir(parents=True, exist_ok=True)
    (root / "state").mkdir(exist_ok=True)
    (root / "rules.d" / "rules.yaml").write_text(rules)
    config = root / "eventrouter.yaml"
    config.write_text(f"listen: {listen}\nrules_dir: rules.d\nstate_dir: state\n{extra}")
    return config


# ---------------------------------------------------------------------------------- dlq list

@pytest.fixture
def dlq_setup(workdir):
    config = write_setup(workdir)
    state = workdir / "state"
    (state / "dlq").mkdir()
    default_lines = [
        dead_letter("2026-11-28T10:00:03.000Z", "scanner-high", "runbook", "ev-3",
                    condition="", attempts=0, code="RUNBOOK_FAILED"),
        "{this is not json",
        dead_letter("2026-11-28T10:00:01.000Z", "scanner-high", "runbook", "ev-1"),
    ]
    (state / "dead-letters.jsonl").write_text("\n".join(default_lines) + "\n")
    hook_lines = [
        dead_letter("2026-11-28T10:00:02.000Z", "scanner-high", "hook", "ev-2",
                    condition="MaximumEventAgeInSeconds", attempts=5),
        dead_letter("2026-11-28T10:00:04.000Z", "other", "queue", "ev-4"),
    ]
    (state / "dlq" / "hook.jsonl").write_text("\n".join(hook_lines) + "\n")
    return config, default_lines, hook_lines


def test_dlq_list_shows_every_file_oldest_first_and_reports_bad_lines(dlq_setup):
    config, _, _ = dlq_setup
    proc = run_cli("dlq", "list", "-c", config)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    heading = lines[0].split()
    assert heading == ["TIME", "RULE", "TARGET", "ERROR_CODE", "RETRY_ATTEMPTS",
                       "EXHAUSTED_RETRY_CONDITION", "EVENT_ID", "FILE"]
    rows = [line.split() for line in lines[1:-1]]
    assert [row[6] for row in rows] == ["ev-1", "ev-2", "ev-3", "ev-4"]
    assert rows[1][:6] == ["2026-11-28T10:00:02.000Z", "scanner-high", "hook",
                           "CONNECTION_FAILURE", "5", "MaximumEventAgeInSeconds"]
    assert rows[2][3:6] == ["RUNBOOK_FAILED", "0", "-"]  # a permanent failure
    assert rows[0][7].endswith("dead-letters.jsonl:3")
    assert rows[1][7].endswith("dlq/hook.jsonl:1")
    assert lines[-1] == "4 dead letters in 2 files"
    # The bad line is named, with its file and line, and skipped; the rest is still listed.
    assert "dead-letters.jsonl:2: not JSON" in proc.stderr


def test_dlq_list_filters_by_rule_and_target(dlq_setup):
    config, _, _ = dlq_setup
    by_rule = run_cli("dlq", "list", "-c", config, "--rule", "scanner-high")
    assert by_rule.returncode == 0
    assert [line.split()[6] for line in by_rule.stdout.splitlines()[1:-1]] == \
        ["ev-1", "ev-2", "ev-3"]
    assert by_rule.stdout.splitlines()[-1] == "3 dead letters in 2 files"
    by_both = run_cli("dlq", "list", "-c", config, "--rule=scanner-high", "--target", "hook")
    assert [line.split()[6] for line in by_both.stdout.splitlines()[1:-1]] == ["ev-2"]
    assert by_both.stdout.splitlines()[-1] == "1 dead letter in 1 file"
    none = run_cli("dlq", "list", "-c", config, "--target", "nothing-here")
    assert none.returncode == 0
    assert none.stdout.startswith("no dead letters (looked in ")


def test_dlq_list_json_prints_the_records_as_stored(dlq_setup):
    config, default_lines, hook_lines = dlq_setup
    proc = run_cli("dlq", "list", "-c", config, "--json")
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [default_lines[2], hook_lines[0], default_lines[0],
                                        hook_lines[1]]
    filtered = run_cli("dlq", "list", "-c", config, "--json", "--target", "queue")
    assert filtered.stdout.splitlines() == [hook_lines[1]]
    assert json.loads(filtered.stdout)["event"]["id"] == "ev-4"


def test_dlq_list_with_no_files_yet_is_empty(workdir):
    config = write_setup(workdir)
    proc = run_cli("dlq", "list", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("no dead letters (looked in ")
    assert "dead-letters.jsonl" in proc.stdout and "hook.jsonl" in proc.stdout
    # Nothing to complain about: no warning, no FILE:LINE report.
    assert "eventrouter" not in proc.stderr and ".jsonl" not in proc.stderr, proc.stderr


def test_dlq_list_reads_the_default_file_when_the_rules_do_not_load(dlq_setup, workdir):
    config, _, _ = dlq_setup
    (workdir / "rules.d" / "broken.yaml").write_text("rules:\n  - name: [not, a, name]\n")
    proc = run_cli("dlq", "list", "-c", config)
    assert proc.returncode == 0
    assert "the rules do not load" in proc.stderr
    assert [line.split()[6] for line in proc.stdout.splitlines()[1:-1]] == ["ev-1", "ev-3"]


def test_dlq_list_config_and_usage_errors(workdir):
    bad = workdir / "bad.yaml"
    bad.write_text("listne: 127.0.0.1:8088\n")
    proc = run_cli("dlq", "list", "-c", bad)
    assert proc.returncode == 1
    assert "bad.yaml:1:1: unknown key 'listne'" in proc.stderr
    for args in (["dlq"], ["dlq", "lst"], ["dlq", "list", "--rule"], ["dlq", "list", "--bogus"],
                 ["dlq", "list", "--rule", "has space"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert proc.stderr.startswith("eventrouter dlq"), proc.stderr
        assert proc.stdout == ""


def test_help_lists_the_admin_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for text in ("dlq list", "dlq redrive", "replay --from TIME --to TIME"):
        assert text in proc.stdout
    for args in (["dlq", "--help"], ["replay", "--help"]):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "--timeout SECONDS" in proc.stdout, args


# -------------------------------------------------------------------- a stand-in daemon

class FakeDaemon:
    """Answers every POST with the next queued (status, body) and records each request."""

    def __init__(self, tls_context=None):
        self.requests = []
        self.answers = []
        self.delay = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                fake.requests.append({"method": "POST", "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
                time.sleep(fake.delay)
                status, answer = fake.answers.pop(0) if fake.answers else (500, "{}")
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls_context:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, status, body):
        self.answers.append((status, body if isinstance(body, str) else json.dumps(body)))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_daemon():
    fake = FakeDaemon()
    yield fake
    fake.close()


@pytest.fixture
def admin_setup(workdir, fake_daemon):
    (workdir / "tokens").write_text("# admins\n\n  tok-from-file  \nsecond\n")
    config = write_setup(workdir, listen=f"127.0.0.1:{fake_daemon.port}",
                         extra="auth:\n  tokens_file: tokens\n")
    return config


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- dlq redrive

def test_dlq_redrive_posts_the_filter_and_reports_counts(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"redriven": 3, "skipped": 1})
    proc = run_cli("dlq", "redrive", "-c", admin_setup, "--rule", "scanner-high",
                   "--target", "hook")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("redriven 3 dead letters (1 skipped: their rule or target no longer "
                           "exists; they stay in their file)\n")
    [request] = fake_daemon.requests
    assert request["method"] == "POST"
    assert request["path"] == "/dead-letters/redrive"
    assert json.loads(request["body"]) == {"rule": "scanner-high", "target": "hook"}
    assert request["headers"]["content-type"] == "application/json"
    # The first token of auth.tokens_file, trimmed, comments and blank lines skipped.
    assert request["headers"]["authorization"] == "Bearer tok-from-file"


def test_dlq_redrive_shows_the_daemons_skip_reasons(admin_setup, fake_daemon):
    reasons = [f"rule r{i} target t is not loaded (in /x/dead-letters.jsonl)" for i in range(5)]
    fake_daemon.answer(200, {"redriven": 0, "skipped": 6,
                             "skipped_reasons": reasons[:1] + reasons})
    proc = run_cli("dlq", "redrive", "-c", admin_setup)
    assert proc.returncode == 0, proc.stderr
    # Each distinct reason once, at most three of them.
    assert proc.stdout == ("redriven 0 dead letters (6 skipped: " + "; ".join(reasons[:3]) +
                           "; and 2 other reasons)\n")


def test_dlq_redrive_without_filters_sends_an_empty_object(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"redriven": 1, "skipped": 0})
    proc = run_cli("dlq", "redrive", "-c", admin_setup)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "redriven 1 dead letter\n"
    assert json.loads(fake_daemon.requests[0]["body"]) == {}


def test_token_from_environment_then_option(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"redriven": 0, "skipped": 0})
    fake_daemon.answer(200, {"redriven": 0, "skipped": 0})
    env = {"EVENTROUTER_TOKEN": "tok-from-env"}
    assert run_cli("dlq", "redrive", "-c", admin_setup, env=env).returncode == 0
    assert run_cli("dlq", "redrive", "-c", admin_setup, "--token", "tok-opt",
                   env=env).returncode == 0
    assert [r["headers"]["authorization"] for r in fake_daemon.requests] == \
        ["Bearer tok-from-env", "Bearer tok-opt"]


def test_no_authorization_header_without_a_token(workdir, fake_daemon):
    config = write_setup(workdir, listen=f"127.0.0.1:{fake_daemon.port}")
    fake_daemon.answer(200, {"redriven": 0, "skipped": 0})
    proc = run_cli("dlq", "redrive", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert "authorization" not in fake_daemon.requests[0]["headers"]


def test_dlq_redrive_reports_the_daemons_error(admin_setup, fake_daemon):
    fake_daemon.answer(400, {"error": {"code": "InvalidRequest", "message": "rule must be a string"}})
    proc = run_cli("dlq", "redrive", "-c", admin_setup)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == ("eventrouter dlq redrive: the daemon refused: "
                                           "InvalidRequest: rule must be a string (HTTP 400)")
    assert proc.stdout == ""
    fake_daemon.answer(401, {"error": {"code": "Unauthorized", "message": "a token is required"}})
    proc = run_cli("dlq", "redrive", "-c", admin_setup)
    assert proc.returncode == 1
    assert "Unauthorized: a token is required (HTTP 401); give --token" in proc.stderr


def test_dlq_redrive_rejects_an_answer_it_does_not_understand(admin_setup, fake_daemon):
    fake_daemon.answer(200, "<html>hello</html>")
    proc = run_cli("dlq", "redrive", "-c", admin_setup)
    assert proc.returncode == 1
    assert "unexpected answer from the daemon (HTTP 200): <html>hello</html>" in proc.stderr


def test_wildcard_listen_connects_to_loopback(workdir, fake_daemon):
    config = write_setup(workdir, listen=f"0.0.0.0:{fake_daemon.port}",
                         extra="allow_unauthenticated: true\n")
    fake_daemon.answer(200, {"redriven": 2, "skipped": 0})
    proc = run_cli("dlq", "redrive", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "redriven 2 dead letters\n"


def test_proxy_settings_are_ignored(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"redriven": 0, "skipped": 0})
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    proc = run_cli("dlq", "redrive", "-c", admin_setup,
                   env={"http_proxy": dead_proxy, "HTTP_PROXY": dead_proxy,
                        "ALL_PROXY": dead_proxy, "all_proxy": dead_proxy})
    assert proc.returncode == 0, proc.stderr
    assert len(fake_daemon.requests) == 1


# ---------------------------------------------------------------------------------- replay

def test_replay_posts_the_window_and_prints_a_summary(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"name": "after-outage", "state": "COMPLETED", "events_replayed": 12,
                             "deliveries": 30})
    proc = run_cli("replay", "-c", admin_setup, "--from", "2026-11-28T10:00:00Z",
                   "--to", "2026-11-28T11:00:00Z", "--bus", "security", "--rule", "scanner-high",
                   "--name", "after-outage")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("replay after-outage COMPLETED: 12 events replayed from "
                           "2026-11-28T10:00:00Z to 2026-11-28T11:00:00Z, 30 deliveries\n")
    [request] = fake_daemon.requests
    assert request["method"] == "POST" and request["path"] == "/replays"
    assert json.loads(request["body"]) == {"from": "2026-11-28T10:00:00Z",
                                           "to": "2026-11-28T11:00:00Z", "bus": "security",
                                           "rule": "scanner-high", "name": "after-outage"}
    assert request["headers"]["authorization"] == "Bearer tok-from-file"


def test_replay_omits_optional_keys(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"name": "replay-1", "state": "COMPLETED", "events_replayed": 1,
                             "deliveries": 1})
    proc = run_cli("replay", "-c", admin_setup, "--from", "2026-11-28T10:00:00+01:00",
                   "--to", "2026-11-28T10:00:00Z")
    assert proc.returncode == 0, proc.stderr
    assert "1 event replayed" in proc.stdout and "1 delivery" in proc.stdout
    assert json.loads(fake_daemon.requests[0]["body"]) == {"from": "2026-11-28T10:00:00+01:00",
                                                          "to": "2026-11-28T10:00:00Z"}


def test_replay_reports_the_daemons_error(admin_setup, fake_daemon):
    fake_daemon.answer(409, {"error": {"code": "ReplayExists", "message": "a replay named x ran"}})
    proc = run_cli("replay", "-c", admin_setup, "--from", "2026-11-28T10:00:00Z",
                   "--to", "2026-11-28T11:00:00Z", "--name", "x")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == ("eventrouter replay: the daemon refused: "
                                           "ReplayExists: a replay named x ran (HTTP 409)")


def test_replay_that_did_not_complete_fails(admin_setup, fake_daemon):
    fake_daemon.answer(200, {"name": "r", "state": "FAILED", "events_replayed": 0,
                             "deliveries": 0})
    proc = run_cli("replay", "-c", admin_setup, "--from", "2026-11-28T10:00:00Z",
                   "--to", "2026-11-28T11:00:00Z")
    assert proc.returncode == 1
    assert proc.stdout.startswith("replay r FAILED:")


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-11-28T10:00:00Z"], "give both --from and --to"),
    (["--from", "yesterday", "--to", "2026-11-28T11:00:00Z"],
     "--from 'yesterday' is not an RFC 3339 time; write e.g. 2026-11-28T10:00:00Z"),
    (["--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28 11:00"],
     "--to '2026-11-28 11:00' is not an RFC 3339 time"),
    (["--from", "2026-11-28T11:00:00Z", "--to", "2026-11-28T10:00:00Z"],
     "must be later than --from"),
    (["--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z", "--target", "t"],
     "unknown option --target"),
    (["--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z", "--timeout", "0"],
     "--timeout wants a number of seconds"),
])
def test_replay_usage_errors_send_nothing(admin_setup, fake_daemon, args, message):
    proc = run_cli("replay", "-c", admin_setup, *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("eventrouter replay: ")
    assert message in proc.stderr
    assert fake_daemon.requests == []


# ----------------------------------------------------------------------- transport failures

@pytest.mark.parametrize("command", [
    ["dlq", "redrive"],
    ["replay", "--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z"],
])
def test_unreachable_daemon_says_so(workdir, command):
    port = closed_port()
    config = write_setup(workdir, listen=f"127.0.0.1:{port}")
    proc = run_cli(*command, "-c", config)
    assert proc.returncode == 1
    name = " ".join(command[:2]) if command[0] == "dlq" else "replay"
    assert proc.stderr.startswith(
        f"eventrouter {name}: cannot reach the eventrouter daemon at http://127.0.0.1:{port} "
        "(is it running? `systemctl status eventrouter`): "), proc.stderr
    assert proc.stdout == ""


def test_port_zero_in_the_config_is_explained(workdir):
    config = write_setup(workdir, listen="127.0.0.1:0")
    proc = run_cli("dlq", "redrive", "-c", config)
    assert proc.returncode == 1
    assert "port 0" in proc.stderr


def test_timeout_bounds_a_slow_daemon(admin_setup, fake_daemon):
    fake_daemon.delay = 3
    fake_daemon.answer(200, {"redriven": 0, "skipped": 0})
    started = time.monotonic()
    proc = run_cli("replay", "-c", admin_setup, "--from", "2026-11-28T10:00:00Z",
                   "--to", "2026-11-28T11:00:00Z", "--timeout", "0.5")
    assert time.monotonic() - started < 2.5
    assert proc.returncode == 1
    assert "no answer from the eventrouter daemon at" in proc.stderr


# -------------------------------------------------------------------------------------- TLS

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def self_signed(workdir):
    d = workdir / "pki"
    d.mkdir()
    for name in ("server", "other"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.pem", "-addext", "subjectAltName=IP:127.0.0.1", cwd=d)
    return d


@pytest.fixture
def tls_daemon(self_signed):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(self_signed / "server.pem", self_signed / "server.key")
    fake = FakeDaemon(context)
    yield fake
    fake.close()


def test_tls_verifies_with_the_servers_own_certificate_by_default(workdir, self_signed,
                                                                   tls_daemon):
    config = write_setup(workdir, listen=f"127.0.0.1:{tls_daemon.port}",
                         extra=f"tls:\n  cert_file: {self_signed}/server.pem\n"
                               f"  key_file: {self_signed}/server.key\n")
    tls_daemon.answer(200, {"redriven": 4, "skipped": 0})
    proc = run_cli("dlq", "redrive", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "redriven 4 dead letters\n"
    # A CA that did not sign the daemon's certificate: refused, and the message says why.
    proc = run_cli("dlq", "redrive", "-c", config, "--ca-file", self_signed / "other.pem")
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"eventrouter dlq redrive: TLS with the eventrouter daemon at "
        f"https://127.0.0.1:{tls_daemon.port} failed: "), proc.stderr
    assert len(tls_daemon.requests) == 1
