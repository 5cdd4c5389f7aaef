"""Bearer-token authentication from auth.tokens_file."""
import json

from conftest import base_config, curl, post_json


def test_tokens_are_required_except_for_health(make_daemon):
    daemon = make_daemon(base_config(extra="auth:\n  tokens_file: tokens\n"),
                         extra_files={"tokens": "# ops team\nsecret-one\n\n  secret-two  \n"})
    event = '{"source":"s","detail-type":"d","detail":{}}'
    status, headers, body = post_json(daemon.url + "/events", event)
    assert status == 401 and body["error"]["code"] == "Unauthorized"
    assert headers["www-authenticate"].startswith("Bearer")
    status, _, _ = post_json(daemon.url + "/events", event, "-H", "Authorization: Bearer wrong")
    assert status == 401
    for token in ("secret-one", "secret-two"):
        status, _, body = post_json(daemon.url + "/events", event,
                                    "-H", f"Authorization: Bearer {token}")
        assert status == 200 and body["FailedEntryCount"] == 0
    status, _, _ = curl(daemon.url + "/healthz")
    assert status == 200
    status, _, _ = curl(daemon.url + "/rules")
    assert status == 401
    assert "secret-one" not in daemon.log()


def test_a_tokens_file_without_tokens_stops_the_start(make_daemon):
    import subprocess
    from conftest import BINARY
    daemon = make_daemon(base_config(extra="auth:\n  tokens_file: tokens\n"),
                         extra_files={"tokens": "# nothing here\n"}, start=False)
    proc = subprocess.run([BINARY, "serve", "-c", str(daemon.config)], capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1 and "holds no token" in proc.stderr
