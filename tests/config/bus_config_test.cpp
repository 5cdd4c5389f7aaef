// bus: the backend that keeps accepted events, and the NATS cluster's settings.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config_problems.hpp"
#include "eventrouter/config/config.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string all_messages(const std::vector<Diagnostic>& problems) {
  std::string text;
  for (const auto& p : problems) text += p.to_string() + "\n";
  return text;
}

TEST(BusConfig, JournalIsTheDefault) {
  testing::TempDir dir;
  const auto config = load_config(dir.write("eventrouter.yaml", ""));
  EXPECT_EQ(config.bus.backend, Backend::kJournal);
  EXPECT_FALSE(config.bus.nats.has_value());
}

TEST(BusConfig, TheIssuesShapeIsRead) {
  testing::TempDir dir;
  const auto config = load_config(dir.write("eventrouter.yaml", R"(
bus:
  backend: nats
  nats:
    servers: [nats://127.0.0.1:4222, nats://127.0.0.1:4223, nats://127.0.0.1:4224]
    stream: EVENTROUTER
    replicas: 3
)"));
  EXPECT_EQ(config.bus.backend, Backend::kNats);
  ASSERT_TRUE(config.bus.nats.has_value());
  const auto& nats = *config.bus.nats;
  EXPECT_THAT(nats.connection.servers, ElementsAre("nats://127.0.0.1:4222", "nats://127.0.0.1:4223",
                                                   "nats://127.0.0.1:4224"));
  EXPECT_EQ(nats.stream, "EVENTROUTER");
  EXPECT_EQ(nats.replicas, 3);
  EXPECT_EQ(nats.subject_prefix, "eventrouter");
  EXPECT_EQ(nats.duplicate_window, std::chrono::minutes(2));
}

TEST(BusConfig, ReplicasDefaultToThreeForThreeServersElseOne) {
  testing::TempDir dir;
  auto three = load_config(dir.write("a.yaml", R"(
bus: {backend: nats, nats: {servers: [a:1, b:2, c:3]}}
)"));
  EXPECT_EQ(three.bus.nats->replicas, 3);
  auto one = load_config(dir.write("b.yaml", R"(
bus: {backend: nats, nats: {servers: ["tls://nats.example.com:4222"]}}
)"));
  EXPECT_EQ(one.bus.nats->replicas, 1);
}

TEST(BusConfig, EverySettingIsRead) {
  testing::TempDir dir;
  dir.write("ca.pem", "ca");
  dir.write("client.pem", "cert");
  dir.write("client.key", "key");
  ::setenv("ER_TEST_NATS_PASSWORD", "s3cret", 1);
  const auto config = load_config(dir.write("eventrouter.yaml", R"(
bus:
  backend: nats
  nats:
    servers: [nats://127.0.0.1:4222]
    user: router
    password: ${env:ER_TEST_NATS_PASSWORD}
    tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client.key}
    connect_timeout: 2s
    stream: SECURITY
    subject_prefix: acme.security
    replicas: 1
    duplicate_window: 10m
    consumer: responders
    ack_wait: 1m
    max_inflight_events: 64
    router_name: router-a
    max_bytes: 64MiB
)"));
  const auto& nats = *config.bus.nats;
  EXPECT_EQ(nats.connection.user, "router");
  EXPECT_EQ(nats.connection.password, "s3cret");
  ASSERT_TRUE(nats.connection.tls.has_value());
  EXPECT_EQ(nats.connection.tls->ca_file, dir / "ca.pem");
  EXPECT_EQ(nats.connection.tls->cert_file, dir / "client.pem");
  EXPECT_EQ(nats.connection.connect_timeout, std::chrono::seconds(2));
  EXPECT_EQ(nats.stream, "SECURITY");
  EXPECT_EQ(nats.subject_prefix, "acme.security");
  EXPECT_EQ(nats.duplicate_window, std::chrono::minutes(10));
  EXPECT_EQ(nats.consumer, "responders");
  EXPECT_EQ(nats.ack_wait, std::chrono::minutes(1));
  EXPECT_EQ(nats.max_inflight_events, 64u);
  EXPECT_EQ(nats.router_name, "router-a");
  EXPECT_EQ(nats.max_bytes, 64u << 20);
}

TEST(BusConfig, BadSettingsAreEachReported) {
  testing::TempDir dir;
  const auto problems = problems_of(dir, R"(
bus:
  backend: nats
  nats:
    servers: [nats://127.0.0.1:4222, "nats://user:pw@host:1", "http://x:1"]
    token: abc
    creds_file: missing.creds
    stream: "bad.name"
    subject_prefix: "events.>"
    replicas: 7
    duplicate_window: 0s
    strem: X
)");
  const auto text = all_messages(problems);
  EXPECT_THAT(text,
              HasSubstr("unknown key 'strem' in the 'bus.nats' section; did you mean 'stream'?"));
  EXPECT_THAT(text, HasSubstr("bus.nats.servers has an entry that is not nats://HOST:PORT"));
  EXPECT_THAT(text, Not(HasSubstr("user:pw")));  // a URL may carry a password: never quoted
  EXPECT_THAT(text, HasSubstr("give one way to authenticate, not both bus.nats.token and "
                              "bus.nats.creds_file"));
  EXPECT_THAT(text, HasSubstr("bus.nats.creds_file: "));
  EXPECT_THAT(text, HasSubstr("bus.nats.stream must be 1 to 64 of letters"));
  EXPECT_THAT(text, HasSubstr("bus.nats.subject_prefix must be dot-separated words"));
  EXPECT_THAT(text, HasSubstr("bus.nats.replicas"));
  EXPECT_THAT(text, HasSubstr("bus.nats.duplicate_window"));
}

TEST(BusConfig, BackendAndSectionMustAgree) {
  testing::TempDir dir;
  EXPECT_THAT(all_messages(problems_of(dir, "bus: {backend: nats}\n")),
              HasSubstr("bus.backend is nats but there is no bus.nats section"));
  EXPECT_THAT(all_messages(problems_of(dir, "bus: {nats: {servers: [a:1]}}\n")),
              HasSubstr("bus.nats is given but bus.backend is not nats"));
  EXPECT_THAT(all_messages(problems_of(dir, "bus: {backend: natz}\n")),
              HasSubstr("did you mean 'nats'?"));
  EXPECT_THAT(all_messages(problems_of(dir, "bus: {backend: nats, nats: [a]}\n")),
              HasSubstr("bus.nats must be a mapping"));
  EXPECT_THAT(all_messages(problems_of(dir, "bus: {backend: nats, nats: {}}\n")),
              HasSubstr("bus.nats.servers is required"));
}

TEST(BusConfig, DurabilityNoneContradictsTheClusterBackend) {
  testing::TempDir dir;
  EXPECT_THAT(all_messages(problems_of(dir, R"(
durability: none
bus: {backend: nats, nats: {servers: [a:1]}}
)")),
              HasSubstr("durability: none keeps events in this process's memory"));
}

TEST(BusConfig, UserAndPasswordGoTogether) {
  testing::TempDir dir;
  EXPECT_THAT(
      all_messages(problems_of(dir, "bus: {backend: nats, nats: {servers: [a:1], user: u}}\n")),
      HasSubstr("bus.nats.user needs bus.nats.password"));
}

TEST(BusConfig, ServerUrlGrammar) {
  EXPECT_TRUE(valid_nats_server_url("nats://127.0.0.1:4222"));
  EXPECT_TRUE(valid_nats_server_url("tls://nats.example.com:4222"));
  EXPECT_TRUE(valid_nats_server_url("localhost:4222"));
  EXPECT_TRUE(valid_nats_server_url("nats://[::1]:4222"));
  EXPECT_FALSE(valid_nats_server_url("nats://host"));
  EXPECT_FALSE(valid_nats_server_url("nats://host:0"));
  EXPECT_FALSE(valid_nats_server_url("nats://host:99999"));
  EXPECT_FALSE(valid_nats_server_url("ws://host:80"));
  EXPECT_FALSE(valid_nats_server_url("nats://u:p@host:4222"));
  EXPECT_FALSE(valid_nats_server_url("nats://host:4222/path"));
  EXPECT_FALSE(valid_nats_server_url(""));
}

}  // namespace
}  // namespace eventrouter::config
