"""Two routers on a three-node NATS JetStream cluster, under a steady load, lose one router
(SIGKILL) and one NATS node: every acknowledged event is still delivered, a target that had
succeeded does not run again for an event the surviving router takes over, and both routers
did work."""
import signal
import time

import pytest

from cluster_peers import Load, Receiver, cluster_config, metric
from conftest import Daemon, wait_for
from nats_cluster import SKIP_REASON, NatsCluster, available

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)

RULES = """rules:
  - name: contain
    event_pattern: {{source: [loadgen]}}
    targets:
      - {{id: fast, type: webhook, url: "{fast}"}}
      - {{id: slow, type: webhook, url: "{slow}", timeout: 10s}}
"""


def test_acknowledged_events_survive_a_killed_router_and_a_lost_nats_node(tmp_path):
    receiver = Receiver(delays={"slow": 0.5})
    rules = {"contain.yaml": RULES.format(fast=receiver.url("fast"), slow=receiver.url("slow"))}
    with NatsCluster(tmp_path / "nats", nodes=3) as nats:
        routers = [Daemon(tmp_path / name, cluster_config(nats, name), rules).start()
                   for name in ("a", "b")]
        for router in routers:
            assert router.wait_for_log("stream EVENTROUTER ready", 20), router.log()
        victim, survivor = routers
        load = Load([r.url for r in routers], rate=40).start()
        try:
            time.sleep(3)
            # Killed while it holds events (the slow target's requests in flight), so that the
            # survivor has something to take over.
            assert wait_for(lambda: metric(victim.url, "eventrouter_cluster_held_events") > 0,
                            timeout=10), "the victim never held an event"
            taken_by_victim = metric(victim.url, "eventrouter_cluster_events_taken_total")
            victim.signal(signal.SIGKILL)
            load.drop(victim.url)
            time.sleep(1.5)
            nats.kill(1)
            time.sleep(3)
        finally:
            load.stop()
        acknowledged = set(load.acknowledged)

        def all_delivered():
            return acknowledged <= receiver.received("fast") and \
                acknowledged <= receiver.received("slow")
        wait_for(all_delivered, timeout=60)
        # The victim's events come back after ack_wait, and after the election that follows the
        # lost node: under load that can be after every event has been delivered once already.
        wait_for(lambda: metric(survivor.url, "eventrouter_cluster_events_redelivered_total") > 0,
                 timeout=30)
        wait_for(lambda: metric(survivor.url, "eventrouter_cluster_held_events") == 0, timeout=30)
        fast_lost = acknowledged - receiver.received("fast")
        slow_lost = acknowledged - receiver.received("slow")
        fast_twice = receiver.duplicates("fast", acknowledged)
        slow_twice = receiver.duplicates("slow", acknowledged)
        redelivered = metric(survivor.url, "eventrouter_cluster_events_redelivered_total")
        taken_by_survivor = metric(survivor.url, "eventrouter_cluster_events_taken_total")
        print(f"\nacknowledged {len(acknowledged)}, refused and retried {load.refused}, "
              f"delivered fast {len(receiver.received('fast'))} slow "
              f"{len(receiver.received('slow'))}, duplicated fast {len(fast_twice)} slow "
              f"{len(slow_twice)}, lost {len(fast_lost) + len(slow_lost)}; events taken: "
              f"a {taken_by_victim:.0f} (before SIGKILL), b {taken_by_survivor:.0f}, "
              f"b took over {redelivered:.0f}")
        survivor.stop()
        receiver.close()
        assert len(acknowledged) > 100
        assert not fast_lost and not slow_lost, (sorted(fast_lost)[:5], sorted(slow_lost)[:5])
        assert taken_by_victim > 0 and taken_by_survivor > 0  # both routers did work
        # The survivor took over the events the victim held...
        assert redelivered > 0
        # ...and ran again only what had not succeeded: the slow target's requests in flight
        # when the victim died. The fast one had succeeded and recorded it. It may run twice
        # only for an event whose progress record had not yet reached the cluster: the victim's
        # last millisecond, or a record in flight to the NATS node that died (at least once,
        # docs/scale-out.md). A handful at most, against the tens of events taken over.
        assert len(fast_twice) <= 3, fast_twice
