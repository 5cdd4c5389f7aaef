"""Real NATS JetStream servers for the integration tests (stdlib only; no NATS client needed).

Every node is a nats-server child process on 127.0.0.1 with OS-picked ports (`-1`), which it
reports in a ports file (`<ports_file_dir>/nats-server_<pid>.ports`, JSON with "nats",
"cluster" and "monitoring" URL lists). Node 0 starts first; the others route to its cluster
port and gossip joins the rest. Once every port is known each node gets a second config with
the ports fixed and routes to all its peers, which restart() uses.

Readiness comes from the monitoring port: /healthz answers {"status":"ok"} only once the node
is in contact with a JetStream meta leader, and /jsz's meta_cluster shows the leader and how many
peers it knows; a stream replicated on every node can be created once the leader lists all the
others as current.

    with NatsCluster(tmp_path, nodes=3) as nats:
        config = f"servers: {nats.servers_yaml()}"
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CLUSTER_NAME = "eventrouter-test"
START_TIMEOUT = 20
STOP_GRACE = 5
# Small enough for a shared CI machine; the servers refuse streams beyond these.
JETSTREAM_LIMITS = "max_memory_store: 256MB, max_file_store: 1GB"
PR_SET_PDEATHSIG = 1


def executable():
    """The nats-server program, or None."""
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if os.access(p, os.X_OK)),
        None)


def available():
    return executable() is not None


SKIP_REASON = "nats-server is not installed (scripts/deps.sh installs it)"


def _die_with_parent():
    # A crashed test run must not leave servers behind: the kernel kills the child with us.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _get_json(url, timeout=1):
    """The JSON a monitoring endpoint answers (also on HTTP errors, e.g. 503 from /healthz)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return json.load(error)
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _port(url):
    return int(url.rsplit(":", 1)[1])


class _Node:
    def __init__(self, index, folder):
        self.index = index
        self.folder = folder
        self.proc = None
        self.client_port = self.cluster_port = self.http_port = None

    @property
    def log_path(self):
        return self.folder / "nats-server.log"


class NatsCluster:
    """`nodes` nats-server processes with JetStream under `root` (a cluster when nodes > 1)."""

    def __init__(self, root, nodes=3):
        if nodes < 1:
            raise ValueError("NatsCluster needs at least one node")
        self.root = Path(root)
        self.exe = executable()
        self.nodes = [_Node(i, self.root / f"n{i}") for i in range(nodes)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT):
        """Starts every node and returns once a stream replicated on all of them can be made."""
        if self.exe is None:
            raise RuntimeError(SKIP_REASON)
        try:
            for node in self.nodes:
                self._start_first_time(node)
            for node in self.nodes:
                self._write_fixed_config(node)
            self._wait(self._ready, timeout, "JetStream not ready")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops every node: SIGTERM to all, SIGKILL to any still there after the grace."""
        for node in self.nodes:
            if self._running(node):
                node.proc.terminate()
        for node in self.nodes:
            self._reap(node, STOP_GRACE)

    def kill(self, i):
        node = self.nodes[i]
        if self._running(node):
            node.proc.kill()
        self._reap(node, 0)

    def stop_node(self, i):
        node = self.nodes[i]
        if self._running(node):
            node.proc.terminate()
        self._reap(node, STOP_GRACE)

    def restart(self, i, timeout=START_TIMEOUT):
        """Starts node i again on its old ports and store folder, stopping it first if it runs,
        and waits until its client port accepts and its /healthz is ok (it is back in contact
        with the meta leader)."""
        self.stop_node(i)
        node = self.nodes[i]
        self._spawn(node, node.folder / "fixed.conf")
        self._wait(lambda: _accepts(node.client_port) and self.healthz(i).get("status") == "ok",
                   timeout, f"node {i} not healthy after restart", node)

    # --- queries -------------------------------------------------------------------------------

    def size(self):
        return len(self.nodes)

    def url(self, i):
        return f"nats://127.0.0.1:{self.nodes[i].client_port}"

    def urls(self):
        return [self.url(i) for i in range(self.size())]

    def servers_yaml(self):
        return "[" + ", ".join(self.urls()) + "]"

    def monitor_url(self, i):
        return f"http://127.0.0.1:{self.nodes[i].http_port}"

    def healthz(self, i):
        """/healthz's answer, or {} when the node does not answer."""
        return _get_json(self.monitor_url(i) + "/healthz") or {}

    def jsz(self, i):
        return _get_json(self.monitor_url(i) + "/jsz") or {}

    def request(self, i, subject, payload=b"", timeout=5):
        """Sends one NATS request to node i over the plain client protocol (no client library
        here) and returns the reply's JSON, e.g. a JetStream API call or a publish's ack:
        request(0, "$JS.API.STREAM.CREATE.ORDERS", json.dumps({...}).encode())."""
        with socket.create_connection(("127.0.0.1", self.nodes[i].client_port),
                                      timeout=timeout) as sock:
            reader = sock.makefile("rb")
            reader.readline()  # the server's INFO
            sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.er 1\r\n'
                         + f"PUB {subject} _INBOX.er {len(payload)}\r\n".encode()
                         + payload + b"\r\n")
            while True:
                line = reader.readline()
                if not line:
                    raise ConnectionError(f"node {i} closed the connection")
                if line.startswith(b"PING"):
                    sock.sendall(b"PONG\r\n")
                elif line.startswith(b"-ERR"):
                    raise ConnectionError(line.decode().strip())
                elif line.startswith(b"MSG"):
                    size = int(line.split()[-1])
                    return json.loads(reader.read(size + 2)[:size])

    def running(self, i):
        return self._running(self.nodes[i])

    def log(self, i):
        path = self.nodes[i].log_path
        return path.read_text(errors="replace") if path.exists() else ""

    # --- internals -----------------------------------------------------------------------------

    def _config(self, node, ports, routes):
        text = (f"server_name: n{node.index}\n{ports}"
                f'jetstream {{ store_dir: "{node.folder / "js"}", {JETSTREAM_LIMITS} }}\n')
        if self.size() > 1:
            text += (f"cluster {{ name: {CLUSTER_NAME}, "
                     f"listen: 127.0.0.1:{node.cluster_port or -1}, "
                     f"routes: [{', '.join(routes)}] }}\n")
        return text

    def _start_first_time(self, node):
        ports_dir = node.folder / "ports"
        ports_dir.mkdir(parents=True, exist_ok=True)
        # JetStream in cluster mode refuses to start without a configured route, and node 0
        # has no peer yet: a route to a closed loopback port satisfies the check (logged once as
        # refused). Peers that connect to node 0 later are routes all the same.
        first = self.nodes[0]
        routes = ["nats-route://127.0.0.1:1" if node is first
                  else f"nats-route://127.0.0.1:{first.cluster_port}"]
        ports = ('listen: "127.0.0.1:-1"\nhttp: "127.0.0.1:-1"\n'
                 f'ports_file_dir: "{ports_dir}"\n')
        conf = node.folder / "first.conf"
        conf.write_text(self._config(node, ports, routes))
        self._spawn(node, conf)
        ports_file = ports_dir / f"nats-server_{node.proc.pid}.ports"

        def read_ports():
            try:
                found = json.loads(ports_file.read_text())
            except (OSError, ValueError):  # not there yet, or half written
                return False
            node.client_port = _port(found["nats"][0])
            node.http_port = _port(found["monitoring"][0])
            if self.size() > 1:
                node.cluster_port = _port(found["cluster"][0])
            return True

        self._wait(read_ports, START_TIMEOUT, f"node {node.index} wrote no ports file", node)

    def _write_fixed_config(self, node):
        routes = [f"nats-route://127.0.0.1:{peer.cluster_port}"
                  for peer in self.nodes if peer is not node]
        ports = f'listen: "127.0.0.1:{node.client_port}"\nhttp: "127.0.0.1:{node.http_port}"\n'
        (node.folder / "fixed.conf").write_text(self._config(node, ports, routes))

    def _spawn(self, node, conf):
        with open(node.log_path, "ab") as log:
            node.proc = subprocess.Popen([self.exe, "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)

    def _ready(self):
        if any(self.healthz(i).get("status") != "ok" for i in range(self.size())):
            return False
        if self.size() == 1:
            return True
        # Every node must know the leader and the full peer set, and the leader must see every
        # other node as current, or a stream with a replica per node cannot be placed yet.
        for i in range(self.size()):
            meta = self.jsz(i).get("meta_cluster") or {}
            if not meta.get("leader") or meta.get("cluster_size", 0) < self.size():
                return False
            if meta["leader"] == f"n{i}":
                replicas = meta.get("replicas") or []
                if len(replicas) < self.size() - 1 or not all(r.get("current") for r in replicas):
                    return False
        return True

    @staticmethod
    def _running(node):
        return node.proc is not None and node.proc.poll() is None

    @staticmethod
    def _reap(node, grace):
        if node.proc is None:
            return
        try:
            node.proc.wait(timeout=grace or None)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            node.proc.wait()

    def _wait(self, predicate, timeout, what, node=None):
        deadline = time.monotonic() + timeout
        while not predicate():
            if node is not None and not self._running(node):
                raise RuntimeError(f"nats {what}: node {node.index} exited\n{self._log_tails()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats {what} after {timeout} s\n{self._log_tails()}")
            time.sleep(0.1)  # each failed /healthz logs a warning: poll gently

    def _log_tails(self, chars=2000):
        return "".join(f"--- node {i} log (tail) ---\n{self.log(i)[-chars:]}"
                       for i in range(self.size()))
