"""The NatsCluster test support (nats_cluster.py) against the real nats-server: a three-node
JetStream cluster starts healthy (ready for a replicated stream), stays healthy and acks with a
node killed, and takes the node back."""
import json
import time

import pytest

from nats_cluster import SKIP_REASON, NatsCluster, available

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


STREAM = json.dumps({"name": "ORDERS", "subjects": ["orders.>"], "num_replicas": 3,
                     "storage": "file"}).encode()


def publish_until_acked(nats, i, subject, timeout=15):
    """The ack of a JetStream publish, retried while the stream elects a leader."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ack = nats.request(i, subject, b"event")
            if "error" not in ack:
                return ack
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, f"no ack for {subject}"
        time.sleep(0.1)


def test_single_node_starts_healthy(tmp_path):
    with NatsCluster(tmp_path, nodes=1) as nats:
        assert nats.healthz(0) == {"status": "ok"}
        assert nats.servers_yaml() == f"[{nats.url(0)}]"
        assert "Server is ready" in nats.log(0)


def test_three_nodes_survive_a_killed_node_and_take_it_back(tmp_path):
    began = time.monotonic()
    with NatsCluster(tmp_path, nodes=3) as nats:
        print(f"3-node start took {time.monotonic() - began:.2f} s")
        assert len(set(nats.urls())) == 3
        assert nats.servers_yaml() == "[" + ", ".join(nats.urls()) + "]"
        for i in range(3):
            assert nats.healthz(i) == {"status": "ok"}
            assert nats.jsz(i)["meta_cluster"]["cluster_size"] == 3
        # Ready means ready: the first attempt at an R3 stream succeeds.
        created = nats.request(0, "$JS.API.STREAM.CREATE.ORDERS", STREAM)
        assert "error" not in created, created
        assert publish_until_acked(nats, 0, "orders.1")["seq"] == 1

        nats.kill(1)
        assert not nats.running(1)
        assert nats.healthz(1) == {}
        # Two of three still make a quorum: they stay healthy and keep (or elect) a leader.
        deadline = time.monotonic() + 15
        while not all(nats.jsz(i).get("meta_cluster", {}).get("leader") for i in (0, 2)):
            assert time.monotonic() < deadline, "no meta leader after losing one node"
            time.sleep(0.1)
        assert nats.healthz(0) == {"status": "ok"}
        assert nats.healthz(2) == {"status": "ok"}
        assert publish_until_acked(nats, 2, "orders.2")["seq"] == 2

        began = time.monotonic()
        nats.restart(1)
        print(f"restart took {time.monotonic() - began:.2f} s")
        assert nats.running(1)
        assert nats.healthz(1) == {"status": "ok"}
        assert publish_until_acked(nats, 1, "orders.3")["seq"] == 3
    assert not any(nats.running(i) for i in range(3))
