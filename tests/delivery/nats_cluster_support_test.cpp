// The NatsCluster test support (tests/support/nats_cluster.hpp) against the real nats-server:
// a single node acks JetStream publishes; a three-node cluster keeps acking with a node killed,
// and the node rejoins its replicated stream after a restart.

#include "support/nats_cluster.hpp"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "support/eventually.hpp"

namespace eventrouter::delivery {
namespace {

using eventrouter::testing::eventually;
using eventrouter::testing::NatsCluster;

// A client connection and JetStream context to every node of a cluster, reconnecting as nodes
// go away and come back.
class JetStreamClient {
 public:
  explicit JetStreamClient(const std::vector<std::string>& urls) {
    std::vector<const char*> servers;
    for (const auto& url : urls) servers.push_back(url.c_str());
    natsOptions_Create(&opts_);
    natsOptions_SetServers(opts_, servers.data(), static_cast<int>(servers.size()));
    natsOptions_SetMaxReconnect(opts_, -1);
    natsOptions_SetReconnectWait(opts_, 100);
    status_ = natsConnection_Connect(&conn_, opts_);
    if (status_ == NATS_OK) status_ = natsConnection_JetStream(&js_, conn_, nullptr);
  }
  ~JetStreamClient() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(conn_);
    natsOptions_Destroy(opts_);
  }
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  natsStatus status() const { return status_; }

  natsStatus add_stream(const char* name, const char* subject, int replicas) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = &subject;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    return js_AddStream(nullptr, js_, &cfg, nullptr, nullptr);
  }

  // The stream sequence the ack carries, or 0 when the publish was not acked.
  uint64_t publish(const char* subject, const std::string& data) {
    jsPubOptions opts;
    jsPubOptions_Init(&opts);
    opts.MaxWait = 2000;
    jsPubAck* ack = nullptr;
    const natsStatus s =
        js_Publish(&ack, js_, subject, data.data(), static_cast<int>(data.size()), &opts, nullptr);
    const uint64_t sequence = s == NATS_OK && ack != nullptr ? ack->Sequence : 0;
    jsPubAck_Destroy(ack);
    return sequence;
  }

  // Whether the stream lists `server` as a replica that is current.
  bool replica_current(const char* stream, const std::string& server) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, js_, stream, nullptr, nullptr) != NATS_OK) return false;
    bool current = false;
    if (info->Cluster != nullptr) {
      for (int i = 0; i < info->Cluster->ReplicasLen; ++i) {
        const jsPeerInfo* peer = info->Cluster->Replicas[i];
        if (server == peer->Name && peer->Current && !peer->Offline) current = true;
      }
    }
    jsStreamInfo_Destroy(info);
    return current;
  }

 private:
  natsOptions* opts_ = nullptr;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  natsStatus status_ = NATS_OK;
};

// Start times go to the test output: they show whether the support stays fast on this machine.
void print_elapsed(const char* what, std::chrono::steady_clock::time_point begin) {
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  std::cout << what << " took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
}

TEST(NatsClusterSupport, SingleNodeAcksAJetStreamPublish) {
  if (!NatsCluster::available()) GTEST_SKIP() << "nats-server is not installed";
  const auto begin = std::chrono::steady_clock::now();
  NatsCluster nats(1);
  print_elapsed("1-node start", begin);
  EXPECT_EQ(nats.size(), 1);
  EXPECT_EQ(nats.servers_yaml(), "[" + nats.url(0) + "]");
  EXPECT_TRUE(nats.running(0));

  JetStreamClient client(nats.urls());
  ASSERT_EQ(client.status(), NATS_OK);
  ASSERT_EQ(client.add_stream("ORDERS", "orders.>", 1), NATS_OK);
  EXPECT_EQ(client.publish("orders.1", "first"), 1u);
  EXPECT_EQ(client.publish("orders.2", "second"), 2u);
  EXPECT_NE(nats.log(0).find("Server is ready"), std::string::npos);
}

TEST(NatsClusterSupport, ThreeNodesAckWithOneKilledAndItRejoins) {
  if (!NatsCluster::available()) GTEST_SKIP() << "nats-server is not installed";
  const auto begin = std::chrono::steady_clock::now();
  NatsCluster nats(3);
  print_elapsed("3-node start", begin);
  ASSERT_EQ(nats.urls().size(), 3u);
  EXPECT_EQ(nats.servers_yaml(), "[" + nats.url(0) + ", " + nats.url(1) + ", " + nats.url(2) + "]");

  JetStreamClient client(nats.urls());
  ASSERT_EQ(client.status(), NATS_OK);
  ASSERT_EQ(client.add_stream("ORDERS", "orders.>", 3), NATS_OK);
  EXPECT_EQ(client.publish("orders.1", "before"), 1u);

  nats.kill(1);
  EXPECT_FALSE(nats.running(1));
  // If node 1 led the stream, the others elect a new leader first: publish until acked.
  EXPECT_TRUE(eventually([&] { return client.publish("orders.2", "during") != 0; },
                         std::chrono::seconds(15)));

  const auto restart_begin = std::chrono::steady_clock::now();
  nats.restart(1);
  print_elapsed("restart", restart_begin);
  EXPECT_TRUE(nats.running(1));
  EXPECT_TRUE(
      eventually([&] { return client.replica_current("ORDERS", "n1"); }, std::chrono::seconds(15)));
  EXPECT_GT(client.publish("orders.3", "after"), 1u);
}

}  // namespace
}  // namespace eventrouter::delivery
