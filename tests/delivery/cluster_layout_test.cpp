// Names the cluster backend gives things in JetStream: they must be valid there for any bus name
// and any event id, and distinct where they must be told apart.

#include "../../src/delivery/cluster_layout.hpp"

#include <gtest/gtest.h>

namespace eventrouter::delivery {
namespace {

config::NatsBusConfig settings() {
  config::NatsBusConfig config;
  config.stream = "SEC";
  config.subject_prefix = "acme.security";
  return config;
}

TEST(ClusterLayout, NamesDeriveFromTheStreamAndThePrefix) {
  const ClusterLayout layout(settings());
  EXPECT_EQ(layout.dlq_stream, "SEC_DLQ");
  EXPECT_EQ(layout.progress_bucket, "SEC_PROGRESS");
  EXPECT_EQ(layout.routers_bucket, "SEC_ROUTERS");
  EXPECT_EQ(layout.events_subjects, "acme.security.events.>");
  EXPECT_EQ(layout.replay_subject(), "acme.security.work.replay");
  EXPECT_EQ(layout.dlq_subject, "acme.security.dlq");
}

TEST(ClusterLayout, EveryBusIsOneSubjectTokenOfItsOwn) {
  const ClusterLayout layout(settings());
  EXPECT_EQ(layout.event_subject("default"), "acme.security.events.default");
  // Dots would split the token, or make no subject at all ("a..b").
  EXPECT_EQ(layout.event_subject("a.b"), "acme.security.events.a~b");
  EXPECT_EQ(layout.event_subject("a..b"), "acme.security.events.a~~b");
  EXPECT_NE(layout.event_subject("a.b"), layout.event_subject("a_b"));
  EXPECT_EQ(layout.event_subject("team/scanners"), "acme.security.events.team/scanners");
}

TEST(ClusterLayout, EventIdsThatCannotTravelInAHeaderBecomeTheirDigest) {
  EXPECT_EQ(message_id_for("b055c12e-3a88-4f7b-9296-d190b4239e76"),
            "b055c12e-3a88-4f7b-9296-d190b4239e76");
  const auto odd = message_id_for("line\r\nInjected: yes");
  EXPECT_EQ(odd.rfind("sha256-", 0), 0u);
  EXPECT_EQ(odd.size(), 7u + 64u);
  EXPECT_EQ(odd, message_id_for("line\r\nInjected: yes"));  // a retry dedups the same way
  EXPECT_NE(odd, message_id_for("line\r\nInjected: no"));
  EXPECT_EQ(message_id_for(std::string(300, 'x')).rfind("sha256-", 0), 0u);
}

}  // namespace
}  // namespace eventrouter::delivery
