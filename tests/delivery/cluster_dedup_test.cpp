// The cluster's shared dedup keys (ClusterDedup) against a real nats-server: a key fires once
// for every router, refires when its refire digest changes or its window is over, and fires
// again for the very event that fired it (taken again after its router died).

#include "../../src/delivery/cluster_dedup.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "support/nats_cluster.hpp"

namespace eventrouter::delivery {
namespace {

using namespace std::chrono_literals;
using eventrouter::testing::NatsCluster;

class ClusterDedupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsCluster::available()) GTEST_SKIP() << "nats-server is not installed";
    nats_ = std::make_unique<NatsCluster>(1);
    config_.stream = "DEDUPTEST";
    config_.subject_prefix = "deduptest";
    config_.connection.servers = nats_->urls();
    layout_ = std::make_unique<ClusterLayout>(config_);
    a_ = connect("a");
    b_ = connect("b");
    LayoutSettings settings;
    settings.max_bytes = 16 << 20;  // the test server's store is small
    auto made = ensure_layout(a_->jetstream(), *layout_, settings);
    ASSERT_TRUE(made) << made.error();
  }

  std::shared_ptr<nats::Connection> connect(const std::string& name) {
    auto connection = nats::Connection::open(config_.connection, name, true);
    EXPECT_TRUE(connection) << (connection ? "" : connection.error());
    return connection ? *connection : nullptr;
  }

  std::unique_ptr<NatsCluster> nats_;
  config::NatsBusConfig config_;
  std::unique_ptr<ClusterLayout> layout_;
  std::shared_ptr<nats::Connection> a_, b_;
};

TEST_F(ClusterDedupTest, AKeyFiresOnceForEveryRouterUntilItsWindowEndsOrItsRefireChanges) {
  ClusterDedup router_a(a_, *layout_);
  ClusterDedup router_b(b_, *layout_);
  const EpochMillis now = 1'000'000;
  EXPECT_EQ(router_a.fire("r", "k1", "s8", 1, now, 1h), true);
  EXPECT_EQ(router_b.fire("r", "k1", "s8", 2, now + 10, 1h), false);  // a duplicate on b
  EXPECT_EQ(router_a.fire("r", "k1", "s8", 3, now + 20, 1h), false);
  EXPECT_EQ(router_b.fire("other-rule", "k1", "s8", 2, now + 10, 1h), true);  // its own keys
  // The severity rose: fires on b, and the window restarts there.
  EXPECT_EQ(router_b.fire("r", "k1", "s9", 4, now + 30 * 60 * 1000, 1h), true);
  EXPECT_EQ(router_a.fire("r", "k1", "s9", 5, now + 80 * 60 * 1000, 1h), false);
  // An hour after the last firing the window is over.
  EXPECT_EQ(router_a.fire("r", "k1", "s9", 6, now + 91 * 60 * 1000, 1h), true);
}

TEST_F(ClusterDedupTest, TheEventThatFiredAKeyFiresItAgainWhenTakenAgain) {
  ClusterDedup router_a(a_, *layout_);
  ClusterDedup router_b(b_, *layout_);
  EXPECT_EQ(router_a.fire("r", "k", "x", 42, 1000, 1h), true);
  // Router a died before delivering; the cluster hands event 42 to b.
  EXPECT_EQ(router_b.fire("r", "k", "x", 42, 2000, 1h), true);
  EXPECT_EQ(router_b.fire("r", "k", "x", 43, 3000, 1h), false);
}

TEST_F(ClusterDedupTest, OfRoutersRacingOnOneKeyExactlyOneFires) {
  std::vector<std::unique_ptr<ClusterDedup>> routers;
  routers.push_back(std::make_unique<ClusterDedup>(a_, *layout_));
  routers.push_back(std::make_unique<ClusterDedup>(b_, *layout_));
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> fired{0}, answered{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto result = routers[static_cast<std::size_t>(i % 2)]->fire(
            "race", "k" + std::to_string(round), "x", 100 + i, 1000, 1h);
        if (result) ++answered;
        if (result && *result) ++fired;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(answered.load(), 4);
    EXPECT_EQ(fired.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace eventrouter::delivery
