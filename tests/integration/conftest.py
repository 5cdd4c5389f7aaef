"""Fixtures that run the real eventrouter binary on a free loopback port."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("EVENTROUTER_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BINARY = os.environ.get("EVENTROUTER_BIN", str(SOURCE_DIR / "build" / "eventrouter"))
# Built with AddressSanitizer (EVENTROUTER_SANITIZE): its allocator keeps freed memory in
# quarantine and adds shadow memory, so the daemon's resident size says nothing about ours.
SANITIZED = os.environ.get("EVENTROUTER_SANITIZED", "0") == "1"
FIXTURES = SOURCE_DIR / "tests" / "fixtures" / "events"
LISTENING = re.compile(r"listening on (\S+):(\d+)")


def fixture_text(name):
    return (FIXTURES / name).read_text()


class Daemon:
    """One `eventrouter serve` process with its own config, rules and state folders."""

    def __init__(self, root, config_text, rules=None, extra_files=None):
        self.root = Path(root)
        self.rules_dir = self.root / "rules.d"
        self.state_dir = self.root / "state"
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "eventrouter.yaml"
        self.config.write_text(config_text)
        for name, text in (rules or {}).items():
            (self.rules_dir / name).write_text(text)
        for name, text in (extra_files or {}).items():
            (self.root / name).write_text(text)
        self.lines = []
        self.proc = None
        self.port = None

    def start(self, timeout=20):
        self.proc = subprocess.Popen(
            [BINARY, "serve", "-c", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        found = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                m = LISTENING.search(line)
                if m and not found.is_set():
                    self.host, self.port = m.group(1), int(m.group(2))
                    found.set()
            found.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not found.wait(timeout) or self.port is None:
            self.stop()
            raise AssertionError("daemon did not start:\n" + self.log())
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        return "\n".join(self.lines)

    def wait_for_log(self, pattern, timeout=10):
        deadline = time.time() + timeout
        regex = re.compile(pattern)
        while time.time() < deadline:
            if any(regex.search(line) for line in list(self.lines)):
                return True
            time.sleep(0.05)
        return False

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.pump.join(5)
        return self.proc.returncode if self.proc else None


def base_config(**overrides):
    limits = overrides.pop("limits", {})
    log_format = overrides.pop("log_format", "text")
    extra = overrides.pop("extra", "")
    lines = [
        "listen: 127.0.0.1:0",
        "rules_dir: rules.d",
        "state_dir: state",
        "log:",
        "  level: debug",
        f"  format: {log_format}",
    ]
    if limits:
        lines.append("limits:")
        lines += [f"  {k}: {v}" for k, v in limits.items()]
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="eventrouter-test-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_daemon(workdir):
    started = []

    def make(config_text=None, rules=None, extra_files=None, start=True, subdir="d"):
        daemon = Daemon(workdir / subdir, config_text or base_config(), rules, extra_files)
        started.append(daemon)
        return daemon.start() if start else daemon

    yield make
    for daemon in started:
        daemon.stop()


@pytest.fixture
def daemon(make_daemon):
    return make_daemon()


def curl(*args, data=None, timeout=20, raw_bytes=False):
    """Runs curl and returns (status, headers, body)."""
    cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", "-", *args]
    if isinstance(data, str):
        data = data.encode("latin-1" if raw_bytes else "utf-8")
    # Bytes, not text: text mode would turn the CRLFs that separate headers into LFs.
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 5)
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0 and not out:
        raise AssertionError(f"curl failed ({proc.returncode}): {proc.stderr.decode()}")
    # Skip interim 100 Continue blocks.
    while out.startswith("HTTP/1.1 100"):
        out = out.split("\r\n\r\n", 1)[1]
    head, _, body = out.partition("\r\n\r\n")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return status, headers, body


def post_json(url, body, *extra):
    status, headers, text = curl("-X", "POST", "-H", "Content-Type: application/json",
                                 "--data-binary", "@-", *extra, url, data=body)
    return status, headers, (json.loads(text) if text else None)


def free_port():
    """A loopback port nothing listens on now (for configs that must name their port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RefusedPort:
    """A loopback port that refuses connections for as long as this object is open: bound but
    never listening, so no other test's server or outgoing connection can take it over (a port
    that is merely free now may be someone else's a moment later)."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]

    def close(self):
        self._socket.close()


@pytest.fixture
def refused_port():
    """The number of a port that refuses connections until the test ends: a dead target."""
    held = RefusedPort()
    yield held.port
    held.close()


def wait_for(predicate, timeout=30):
    """Polls `predicate` until it returns something true or `timeout` seconds pass; returns its
    last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


# --- delivery backends ------------------------------------------------------------------------
# The delivery suite runs against each backend: the local journal, and a NATS JetStream server
# (one for the session; each daemon gets a stream, subjects and buckets of its own).


class Backend:
    def __init__(self, name, nats=None):
        self.name = name
        self.nats = nats

    def config(self, extra="", **overrides):
        """base_config for this backend: with a bus section of the daemon's own for nats."""
        if self.name == "nats":
            tag = "T" + uuid.uuid4().hex[:12]
            extra += (f"bus:\n  backend: nats\n  nats:\n    servers: {self.nats.servers_yaml()}\n"
                      f"    stream: {tag}\n    subject_prefix: {tag.lower()}\n"
                      f"    ack_wait: 2s\n    max_bytes: 16MiB\n")
        return base_config(extra=extra, **overrides)

    def dead_letters(self, daemon):
        """Every dead letter, through `eventrouter dlq list --json` (files or the cluster)."""
        proc = subprocess.run([BINARY, "dlq", "list", "--json", "-c", str(daemon.config)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory):
    from nats_cluster import NatsCluster, available
    if not available():
        yield None
        return
    with NatsCluster(tmp_path_factory.mktemp("nats"), nodes=1) as nats:
        yield nats


@pytest.fixture(params=["journal", "nats"])
def backend(request):
    if request.param == "journal":
        return Backend("journal")
    nats = request.getfixturevalue("nats_server")
    if nats is None:
        pytest.skip("nats-server is not installed (scripts/deps.sh installs it)")
    return Backend("nats", nats)
