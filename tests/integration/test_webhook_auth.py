"""Authenticated webhooks (the `auth:` mapping) against a real token endpoint and a real receiver
on loopback: Basic and API key headers, OAuth client credentials (one fetch for many deliveries,
refresh at expiry and after a 401, a refused client), and secrets that never leave the process
other than in the requests they are for."""
import base64
import json
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import BINARY, curl, post_json, wait_for

CLIENT_SECRET = "cs-TOPSECRET-7f3a9"
PASSWORD = "pw-TOPSECRET-41c2"
API_KEY = "key-TOPSECRET-90d1"


class Server:
    """A ThreadingHTTPServer on a loopback port the OS picks, answering POSTs with `answer`."""

    def __init__(self, answer):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = answer(self.headers, body.decode("utf-8", "replace"))
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Threading(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Threading(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TokenEndpoint(Server):
    """Grants tok-1, tok-2, ... (after `delay` seconds), or refuses the client with 401."""

    def __init__(self, expires_in=3600, delay=0.0, refuse=False):
        self.requests = []  # (content type, parsed form)
        self.expires_in, self.delay, self.refuse = expires_in, delay, refuse
        super().__init__(self.answer)

    def answer(self, headers, body):
        with self.lock:
            self.requests.append((headers.get("Content-Type"), urllib.parse.parse_qs(body)))
            n = len(self.requests)
        time.sleep(self.delay)
        if self.refuse:
            return 401, {"error": "invalid_client",
                         "error_description": "client authentication failed"}
        grant = {"access_token": f"tok-{n}", "token_type": "Bearer"}
        if self.expires_in is not None:
            grant["expires_in"] = self.expires_in
        return 200, grant

    def count(self):
        with self.lock:
            return len(self.requests)


class Receiver(Server):
    """Records each request's headers; answers 401 to the tokens in `revoked`, else 200."""

    def __init__(self):
        self.seen = []  # (status answered, headers as a dict with lower-case names)
        self.revoked = set()
        super().__init__(self.answer)

    def answer(self, headers, body):
        fields = {k.lower(): v for k, v in headers.items()}
        status = 401 if fields.get("authorization", "").removeprefix("Bearer ") in self.revoked \
            else 200
        with self.lock:
            self.seen.append((status, fields))
        return status, None

    def accepted(self):
        with self.lock:
            return [fields for status, fields in self.seen if status == 200]

    def all(self):
        with self.lock:
            return list(self.seen)


@pytest.fixture
def token_endpoint():
    servers = []

    def make(**kwargs):
        servers.append(TokenEndpoint(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def oauth_rule(receiver, endpoint, secret_file, retries=0):
    return f"""rules:
  - name: tickets
    event_pattern: {{source: [app]}}
    targets:
      - id: hook
        type: webhook
        url: {receiver.url('/in')}
        retry_policy: {{maximum_retry_attempts: {retries}}}
        dead_letter: {{path: dlq.jsonl}}
        auth:
          type: oauth_client_credentials
          token_url: {endpoint.url('/oauth2/token')}
          client_id: eventrouter
          client_secret: "${{file:{secret_file}}}"
          scope: "api://tickets/.default"
          parameters: {{audience: tickets}}
"""


def send(daemon, n=0):
    status, _, body = post_json(daemon.url + "/events",
                                json.dumps({"source": "app", "detail-type": "t",
                                            "detail": {"n": n}}))
    assert status == 200, body


def assert_secrets_kept(daemon, *secrets):
    """Neither the daemon's log nor GET /rules nor /metrics shows a secret or a token."""
    _, _, rules = curl(daemon.url + "/rules")
    _, _, metrics = curl(daemon.url + "/metrics")
    for secret in secrets:
        assert secret not in daemon.log()
        assert secret not in rules
        assert secret not in metrics


@pytest.fixture
def secret_file(workdir):
    path = workdir / "client_secret"
    path.write_text(CLIENT_SECRET + "\n")
    return path


def test_basic_and_api_key_headers_arrive(make_daemon, receiver, workdir, monkeypatch):
    monkeypatch.setenv("HOOK_PASSWORD", PASSWORD)
    key_file = workdir / "api_key"
    key_file.write_text(API_KEY + "\n")
    rule = f"""rules:
  - name: r
    event_pattern: {{source: [app]}}
    targets:
      - id: basic
        type: webhook
        url: {receiver.url('/basic')}
        auth: {{type: basic, username: svc, password: "${{env:HOOK_PASSWORD}}"}}
      - id: key
        type: webhook
        url: {receiver.url('/key')}
        auth: {{type: api_key, header: X-Api-Key, value: "${{file:{key_file}}}"}}
"""
    daemon = make_daemon(rules={"r.yaml": rule})
    send(daemon)
    assert wait_for(lambda: len(receiver.accepted()) == 2, 10), daemon.log()
    headers = receiver.accepted()
    expected = "Basic " + base64.b64encode(f"svc:{PASSWORD}".encode()).decode()
    assert [h["authorization"] for h in headers if "authorization" in h] == [expected]
    assert [h["x-api-key"] for h in headers if "x-api-key" in h] == [API_KEY]
    assert_secrets_kept(daemon, PASSWORD, API_KEY)


def test_validate_names_auth_mistakes_without_the_secrets(make_daemon, workdir, monkeypatch):
    monkeypatch.setenv("HOOK_PASSWORD", PASSWORD)
    rule = """rules:
  - name: r
    event_pattern: {source: [app]}
    targets:
      - id: a
        type: webhook
        url: http://127.0.0.1:9/
        auth: {type: oauth, client_secret: "${env:HOOK_PASSWORD}"}
      - id: b
        type: webhook
        url: http://127.0.0.1:9/
        headers: {Authorization: "${env:HOOK_PASSWORD}"}
        auth: {type: basic, username: svc, password: "${env:HOOK_PASSWORD}"}
      - id: c
        type: webhook
        url: http://127.0.0.1:9/
        auth: {type: oauth_client_credentials, token_url: "ftp://x.example/t", client_id: er,
               client_secret: "${env:HOOK_PASSWORD}"}
"""
    daemon = make_daemon(rules={"r.yaml": rule}, start=False)
    proc = subprocess.run([BINARY, "validate", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    rules_file = str(daemon.rules_dir / "r.yaml")
    assert (f"{rules_file}:8:22: webhook target 'a': auth.type must be one of basic, api_key, "
            "oauth_client_credentials, not 'oauth'") in out
    assert f"{rules_file}:12:18: webhook target 'b': headers.Authorization conflicts with auth" \
        in out
    assert (f"{rules_file}:17:59: webhook target 'c': auth.token_url: url must start with "
            "http:// or https://") in out
    assert PASSWORD not in out


def test_oauth_token_is_fetched_once_for_concurrent_deliveries(make_daemon, receiver,
                                                               token_endpoint, secret_file):
    # The endpoint takes a second: every delivery of the burst needs the token meanwhile.
    endpoint = token_endpoint(delay=1.0)
    daemon = make_daemon(rules={"r.yaml": oauth_rule(receiver, endpoint, secret_file)})
    senders = [threading.Thread(target=send, args=(daemon, n)) for n in range(20)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(30)
    assert wait_for(lambda: len(receiver.accepted()) == 20, 20), daemon.log()
    assert endpoint.count() == 1
    assert {h["authorization"] for h in receiver.accepted()} == {"Bearer tok-1"}
    content_type, form = endpoint.requests[0]
    assert content_type == "application/x-www-form-urlencoded"
    assert form == {"grant_type": ["client_credentials"], "client_id": ["eventrouter"],
                    "client_secret": [CLIENT_SECRET], "scope": ["api://tickets/.default"],
                    "audience": ["tickets"]}
    _, _, metrics = curl(daemon.url + "/metrics")
    assert ('eventrouter_webhook_token_fetches_total{rule="tickets",target="hook",'
            'outcome="success"} 1') in metrics
    assert_secrets_kept(daemon, CLIENT_SECRET, "tok-1")


def test_an_expired_token_is_refreshed(make_daemon, receiver, token_endpoint, secret_file):
    endpoint = token_endpoint(expires_in=2)
    daemon = make_daemon(rules={"r.yaml": oauth_rule(receiver, endpoint, secret_file)})
    send(daemon, 1)
    assert wait_for(lambda: len(receiver.accepted()) == 1, 10), daemon.log()
    send(daemon, 2)  # within the token's life: no new fetch
    assert wait_for(lambda: len(receiver.accepted()) == 2, 10), daemon.log()
    assert endpoint.count() == 1
    time.sleep(2.2)
    send(daemon, 3)
    assert wait_for(lambda: len(receiver.accepted()) == 3, 10), daemon.log()
    assert endpoint.count() == 2
    assert [h["authorization"] for h in receiver.accepted()] == \
        ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    assert_secrets_kept(daemon, CLIENT_SECRET, "tok-1", "tok-2")


def test_a_revoked_token_is_refetched_once_and_the_delivery_succeeds(
        make_daemon, receiver, token_endpoint, secret_file):
    endpoint = token_endpoint(expires_in=None)  # kept until a webhook refuses it
    receiver.revoked.add("tok-1")
    # No retries: the second request is the webhook's immediate resend, not the engine's retry.
    daemon = make_daemon(rules={"r.yaml": oauth_rule(receiver, endpoint, secret_file)})
    send(daemon)
    assert wait_for(lambda: len(receiver.accepted()) == 1, 10), daemon.log()
    assert [(status, h["authorization"]) for status, h in receiver.all()] == \
        [(401, "Bearer tok-1"), (200, "Bearer tok-2")]
    assert endpoint.count() == 2
    assert not (daemon.state_dir / "dlq.jsonl").exists()
    # The new token is kept: the next delivery needs no fetch.
    send(daemon, 2)
    assert wait_for(lambda: len(receiver.accepted()) == 2, 10), daemon.log()
    assert endpoint.count() == 2
    assert_secrets_kept(daemon, CLIENT_SECRET, "tok-1", "tok-2")


def test_a_second_401_is_the_webhooks_answer(make_daemon, receiver, token_endpoint, secret_file):
    endpoint = token_endpoint(expires_in=None)
    receiver.revoked.update({"tok-1", "tok-2"})
    daemon = make_daemon(rules={"r.yaml": oauth_rule(receiver, endpoint, secret_file)})
    send(daemon)
    dlq = daemon.state_dir / "dlq.jsonl"
    assert wait_for(lambda: dlq.exists() and dlq.read_text().strip(), 10), daemon.log()
    record = json.loads(dlq.read_text().splitlines()[0])
    assert "answered HTTP 401" in record["attributes"]["ERROR_MESSAGE"]
    assert record["attributes"]["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert len(receiver.all()) == 2 and endpoint.count() == 2


def test_a_refused_client_is_dead_lettered_naming_the_endpoint(make_daemon, receiver,
                                                               token_endpoint, secret_file):
    endpoint = token_endpoint(refuse=True)
    daemon = make_daemon(rules={"r.yaml": oauth_rule(receiver, endpoint, secret_file,
                                                     retries=5)})
    send(daemon)
    dlq = daemon.state_dir / "dlq.jsonl"
    assert wait_for(lambda: dlq.exists() and dlq.read_text().strip(), 10), daemon.log()
    record = json.loads(dlq.read_text().splitlines()[0])
    message = record["attributes"]["ERROR_MESSAGE"]
    assert (f"token endpoint {endpoint.url('/oauth2/token')} answered HTTP 401: invalid_client "
            "(client authentication failed)") in message
    # Permanent: the credentials are wrong, so no retries were spent on it.
    assert record["attributes"]["RETRY_ATTEMPTS"] == 0
    assert endpoint.count() == 1 and receiver.all() == []
    assert CLIENT_SECRET not in dlq.read_text()
    _, _, metrics = curl(daemon.url + "/metrics")
    assert ('eventrouter_webhook_token_fetches_total{rule="tickets",target="hook",'
            'outcome="permanent_failure"} 1') in metrics
    assert_secrets_kept(daemon, CLIENT_SECRET)
