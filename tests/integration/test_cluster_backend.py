"""The cluster backend (bus.backend: nats) as an operator meets it: a router whose cluster is
down says why and refuses events until it is back; a retried event is stored and delivered once;
routers that run different rules say so; bad settings are refused by validate."""
import contextlib
import json
import os
import subprocess
import time

import pytest

from cluster_peers import Receiver, cluster_config, metric
from conftest import BINARY, Daemon, curl, free_port, post_json, wait_for
from nats_cluster import SKIP_REASON, NatsCluster, _accepts, available, executable
from test_tls import pki  # noqa: F401 (a fixture: a throw-away CA, server and client certificates)

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


def hook_rules(receiver, target="hook", name="to-hook"):
    return {"r.yaml": f"""rules:
  - name: {name}
    event_pattern: {{source: [test.app]}}
    targets:
      - {{id: {target}, type: webhook, url: "{receiver.url(target)}"}}
"""}


def event(n, **fields):
    return {"source": "test.app", "detail-type": "Test", "detail": {"n": n}, **fields}


def test_a_router_without_its_cluster_is_not_ready_and_refuses_events(tmp_path):
    receiver = Receiver()
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        nats.stop_node(0)
        router = Daemon(tmp_path / "r", cluster_config(nats, "r"), hook_rules(receiver)).start()
        try:
            status, _, body = curl(router.url + "/readyz")
            assert status == 503
            assert "not connected to any NATS server of bus.nats.servers" in body
            status, headers, body = post_json(router.url + "/events", json.dumps(event(1)))
            assert status == 503 and "retry-after" in headers
            assert "ClusterUnavailable" in json.dumps(body)

            nats.restart(0)
            assert wait_for(lambda: curl(router.url + "/readyz")[0] == 200, timeout=30), \
                router.log()
            assert post_json(router.url + "/events", json.dumps(event(2)))[0] == 200
            assert wait_for(lambda: receiver.received("hook")), router.log()
        finally:
            router.stop()
            receiver.close()


def test_an_event_retried_with_its_id_is_stored_and_delivered_once(tmp_path):
    receiver = Receiver()
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        router = Daemon(tmp_path / "r", cluster_config(nats, "r"), hook_rules(receiver)).start()
        try:
            assert router.wait_for_log("stream EVENTROUTER ready", 20)
            retried = event(1, id="finding-42")
            for _ in range(3):  # a client that did not see the first answers retries
                assert post_json(router.url + "/events", json.dumps(retried))[0] == 200
            assert post_json(router.url + "/events", json.dumps(event(2, id="finding-43")))[0] == 200
            assert wait_for(lambda: receiver.received("hook") == {"finding-42", "finding-43"})
            time.sleep(1)
            assert receiver.duplicates("hook") == {}
            assert metric(router.url, "eventrouter_cluster_duplicate_events_total") == 2
            assert wait_for(lambda: metric(router.url, "eventrouter_cluster_stream_bytes") > 0, 15)
        finally:
            router.stop()
            receiver.close()


def test_routers_running_different_rules_say_so_until_they_agree(tmp_path):
    receiver = Receiver()
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        a = Daemon(tmp_path / "a", cluster_config(nats, "a"), hook_rules(receiver)).start()
        b = Daemon(tmp_path / "b", cluster_config(nats, "b"),
                   hook_rules(receiver, name="to-hook-v2")).start()
        try:
            def warnings(router):
                status, _, body = curl(router.url + "/readyz")
                return status == 200 and json.loads(body).get("warnings")
            found = wait_for(lambda: warnings(a) and warnings(b), timeout=20)
            assert found, a.log()
            assert "routers run different rule sets" in warnings(a)[0]
            assert " on a" in warnings(a)[0] and " on b" in warnings(a)[0]
            assert metric(a.url, "eventrouter_cluster_rule_sets") == 2
            assert metric(a.url, "eventrouter_cluster_routers") == 2
            assert a.wait_for_log("routers run different rule sets")

            # The rollout finishes: b gets a's rules; the warning goes.
            (b.rules_dir / "r.yaml").write_text((a.rules_dir / "r.yaml").read_text())
            assert wait_for(lambda: curl(a.url + "/readyz")[2] == '{"status":"ready"}',
                            timeout=20), a.log()
            assert metric(a.url, "eventrouter_cluster_rule_sets") == 1
        finally:
            a.stop()
            b.stop()
            receiver.close()


def test_validate_checks_the_cluster_settings(tmp_path):
    (tmp_path / "rules.d").mkdir()
    config = tmp_path / "eventrouter.yaml"
    config.write_text("""bus:
  backend: nats
  nats:
    servers: [nats://127.0.0.1:4222, "http://x:1"]
    token: t
    user: u
    password: p
    replicas: 9
""")
    proc = subprocess.run([BINARY, "validate", "-c", str(config)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1
    assert "bus.nats.servers has an entry that is not nats://HOST:PORT" in proc.stderr
    assert "give one way to authenticate" in proc.stderr
    assert "bus.nats.replicas" in proc.stderr


@contextlib.contextmanager
def standalone_nats(tmp_path, *options):
    """One nats-server with JetStream and the given options (auth, TLS) on a free loopback
    port; yields the port."""
    port = free_port()
    server = subprocess.Popen(
        [executable(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js"),
         *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _accepts(port), 10)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def router_config(port, nats_settings, scheme="nats"):
    return f"""listen: 127.0.0.1:0
rules_dir: rules.d
state_dir: state
bus:
  backend: nats
  nats:
    servers: [{scheme}://127.0.0.1:{port}]
    max_bytes: 16MiB
{nats_settings}"""


def assert_delivers(router, receiver):
    assert wait_for(lambda: curl(router.url + "/readyz")[0] == 200, 20), router.log()
    assert post_json(router.url + "/events", json.dumps(event(1)))[0] == 200
    assert wait_for(lambda: receiver.received("hook")), router.log()


def test_a_token_from_the_environment_authenticates_and_a_wrong_one_is_named(tmp_path):
    receiver = Receiver()
    routers = []
    try:
        with standalone_nats(tmp_path, "--auth", "s3cret-token") as port:
            config = router_config(port, "    token: ${env:ER_TEST_NATS_TOKEN}\n")
            os.environ["ER_TEST_NATS_TOKEN"] = "not-the-token"
            wrong = Daemon(tmp_path / "wrong", config, hook_rules(receiver)).start()
            routers.append(wrong)
            status, _, body = curl(wrong.url + "/readyz")
            assert status == 503 and "Authorization Violation" in body
            assert wrong.wait_for_log("nats: cannot connect: .*Authorization Violation")
            assert "not-the-token" not in wrong.log() and "s3cret" not in wrong.log()

            os.environ["ER_TEST_NATS_TOKEN"] = "s3cret-token"
            right = Daemon(tmp_path / "right", config, hook_rules(receiver)).start()
            routers.append(right)
            assert_delivers(right, receiver)
            for router in routers:
                router.stop()
    finally:
        os.environ.pop("ER_TEST_NATS_TOKEN", None)
        for router in routers:
            router.stop()
        receiver.close()


def test_user_and_password_authenticate(tmp_path):
    (tmp_path / "nats-password").write_text("pw-from-a-file\n")
    receiver = Receiver()
    router = None
    try:
        with standalone_nats(tmp_path, "--user", "router", "--pass", "pw-from-a-file") as port:
            settings = f"    user: router\n    password: ${{file:{tmp_path}/nats-password}}\n"
            router = Daemon(tmp_path / "r", router_config(port, settings),
                            hook_rules(receiver)).start()
            assert_delivers(router, receiver)
            assert "pw-from-a-file" not in router.log()
            router.stop()
    finally:
        if router:
            router.stop()
        receiver.close()


def test_mutual_tls_to_the_cluster(tmp_path, pki):  # noqa: F811
    receiver = Receiver()
    routers = []
    try:
        with standalone_nats(tmp_path, "--tlsverify", "--tlscacert", str(pki / "ca.pem"),
                             "--tlscert", str(pki / "server.pem"),
                             "--tlskey", str(pki / "server.key")) as port:
            # Without our CA the server's certificate is not trusted.
            untrusting = Daemon(tmp_path / "untrusting",
                                router_config(port, "    tls: {}\n", "tls"),
                                hook_rules(receiver)).start()
            routers.append(untrusting)
            status, _, body = curl(untrusting.url + "/readyz")
            assert status == 503 and "not connected" in body, body
            assert untrusting.wait_for_log("nats: cannot connect: ")

            tls = (f"    tls: {{ca_file: {pki}/ca.pem, cert_file: {pki}/client.pem, "
                   f"key_file: {pki}/client.key}}\n")
            trusting = Daemon(tmp_path / "trusting", router_config(port, tls, "tls"),
                              hook_rules(receiver)).start()
            routers.append(trusting)
            assert_delivers(trusting, receiver)
            for router in routers:
                router.stop()
    finally:
        for router in routers:
            router.stop()
        receiver.close()


def test_messages_published_around_ingest_are_checked_as_ingest_checks_them(tmp_path):
    """Something else with access to the stream's subjects publishes events directly: one that
    ingest would refuse (a repeated key, which would slip past anything-but) is dropped and
    counted; a well-formed one is delivered."""
    receiver = Receiver()
    rules = {"r.yaml": f"""rules:
  - name: not-admin
    event_pattern: {{source: [test.app], detail: {{user: [{{anything-but: admin}}]}}}}
    targets:
      - {{id: hook, type: webhook, url: "{receiver.url('hook')}"}}
"""}
    with NatsCluster(tmp_path / "nats", nodes=1) as nats:
        router = Daemon(tmp_path / "r", cluster_config(nats, "r"), rules).start()
        try:
            assert router.wait_for_log("stream EVENTROUTER ready", 20)
            envelope = ('{{"version":"0","id":"{id}","detail-type":"T","source":"test.app",'
                        '"account":"1","time":"2026-12-01T00:00:00Z","region":"eu-west-1",'
                        '"resources":[],"detail":{detail}}}')
            smuggled = envelope.format(id="dup", detail='{"user":"admin","user":"bob"}')
            proper = envelope.format(id="ok", detail='{"user":"bob"}')
            for body in (smuggled, proper):
                ack = nats.request(0, "eventrouter.events.default", body.encode())
                assert "error" not in ack, ack
            assert wait_for(lambda: receiver.received("hook") == {"ok"}), router.log()
            assert router.wait_for_log(r"dropped message \d+ on eventrouter.events.default: "
                                       r".*\"user\" appears more than once")
            time.sleep(0.5)
            assert receiver.received("hook") == {"ok"}
            assert metric(router.url, "eventrouter_cluster_events_refused_total") == 1
        finally:
            router.stop()
            receiver.close()
