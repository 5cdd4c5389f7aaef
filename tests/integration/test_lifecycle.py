"""Start-up, configuration errors, logging, and shutdown of the real binary."""
import json
import signal
import socket
import subprocess
import threading
import time

from conftest import BINARY, base_config, curl, post_json


def run(*args, **kwargs):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30, **kwargs)


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("eventrouter ")


def test_unknown_command_is_a_usage_error():
    proc = run("frobnicate")
    assert proc.returncode == 2
    assert "unknown command frobnicate" in proc.stderr and "usage:" in proc.stderr


def test_missing_config_file(workdir):
    proc = run("serve", "-c", str(workdir / "nope.yaml"))
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stderr


def test_bad_config_reports_every_problem_with_position(workdir):
    config = workdir / "eventrouter.yaml"
    (workdir / "rules.d").mkdir()
    config.write_text("listen: 127.0.0.1:99999\nrules_dir: rules.d\nlimitz: {}\n"
                      "log:\n  level: loud\n")
    proc = run("serve", "-c", str(config))
    assert proc.returncode == 1
    err = proc.stderr
    assert f"{config}:1:" in err
    assert f"{config}:3:1:" in err and "limits" in err  # did you mean
    assert f"{config}:5:" in err


def test_an_exposed_listen_address_without_auth_is_refused(workdir):
    (workdir / "rules.d").mkdir()
    config = workdir / "eventrouter.yaml"
    config.write_text("listen: 0.0.0.0:0\nrules_dir: rules.d\nstate_dir: state\n")
    for command in ("serve", "validate"):
        proc = run(command, "-c", str(config))
        assert proc.returncode != 0, command
        text = proc.stdout + proc.stderr
        assert f"{config}:1:9:" in text, text
        assert "can be reached from other machines, and there is no auth" in text
        assert "auth.tokens_file" in text and "allow_unauthenticated: true" in text
    # Saying so explicitly is enough.
    config.write_text("listen: 0.0.0.0:0\nrules_dir: rules.d\nstate_dir: state\n"
                      "allow_unauthenticated: true\n")
    proc = run("validate", "-c", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_port_in_use_is_a_clear_error(workdir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (workdir / "rules.d").mkdir()
        config = workdir / "eventrouter.yaml"
        config.write_text(f"listen: 127.0.0.1:{port}\nrules_dir: rules.d\nstate_dir: state\n")
        proc = run("serve", "-c", str(config))
    assert proc.returncode == 1
    assert "cannot listen on 127.0.0.1:" in proc.stderr


def test_sigterm_exits_zero_and_finishes_in_flight_requests(daemon):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    # Send the headers now and the body after the signal: the request is in flight.
    body = json.dumps({"source": "s", "detail-type": "d", "detail": {"k": "v"}})
    conn.putrequest("POST", "/events")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    time.sleep(0.2)
    daemon.signal(signal.SIGTERM)
    time.sleep(0.2)
    conn.send(body.encode())
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Connection") == "close"
    started = time.time()
    assert daemon.proc.wait(10) == 0
    assert time.time() - started < 6
    assert daemon.wait_for_log("shutting down")


def test_sigint_exits_zero(daemon):
    daemon.signal(signal.SIGINT)
    assert daemon.proc.wait(10) == 0


def test_json_logs_are_json(make_daemon):
    daemon = make_daemon(base_config(log_format="json"))
    post_json(daemon.url + "/events", '{"source":"s\\"q","detail-type":"d","detail":{}}')
    daemon.stop()
    lines = [l for l in daemon.lines if l.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "message"} <= record.keys()


def test_metrics_count_ingest(daemon):
    post_json(daemon.url + "/events", '[{"source":"s","detail-type":"d","detail":{}},{"x":1}]')
    status, headers, text = curl(daemon.url + "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'eventrouter_events_received_total{bus="default"} 1' in text
    assert 'eventrouter_events_rejected_total{reason="InvalidArgument"} 1' in text
