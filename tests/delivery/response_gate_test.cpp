// Dedup and storm control decisions (ResponseGate, DedupTable, StormWindow) with a clock the
// test moves: window expiry, refire, missing paths, the bound on keys, storm counting and the
// digest's content.

#include "../../src/delivery/response_gate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "../../src/delivery/storm_digest.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/util/ids.hpp"

namespace eventrouter::delivery {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using TimePoint = std::chrono::system_clock::time_point;

std::string finding(const std::string& id, int severity, int count,
                    const std::string& type = "Recon:EC2/PortProbe") {
  return R"({"version":"0","id":"e-)" + id + std::to_string(severity) + std::to_string(count) +
         R"(","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"111122223333",)"
         R"("time":"2026-12-06T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"id":")" +
         id + R"(","type":")" + type + R"(","severity":)" + std::to_string(severity) +
         R"(,"service":{"count":)" + std::to_string(count) + "}}}";
}

rules::Rule rule_with(std::optional<rules::DedupSettings> dedup,
                      std::optional<rules::StormSettings> storm, std::string name = "r") {
  auto pattern = pattern::compile(R"({"source":["aws.guardduty"]})");
  return rules::Rule{std::move(name),
                     "",
                     "default",
                     true,
                     R"({"source":["aws.guardduty"]})",
                     *pattern,
                     std::nullopt,
                     {},
                     {},
                     nullptr,
                     rules::ResponseControls{std::move(dedup), std::move(storm)}};
}

rules::DedupSettings guardduty_dedup(std::chrono::milliseconds window = 6h) {
  return rules::DedupSettings{{"detail.id"}, window, {"detail.severity"}};
}

class GateTest : public ::testing::Test {
 protected:
  explicit GateTest(std::size_t max_keys = 100)
      : gate_(registry_, max_keys, [this] { return now_; }) {}

  bool admit(const rules::Rule& rule, const std::string& event) {
    std::string json = event;
    json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    return gate_.admit(rule, json, "id", effects_);
  }
  std::string scrape() { return registry_.render(); }

  metrics::Registry registry_;
  TimePoint now_ = TimePoint(std::chrono::hours(500000));
  ResponseGate gate_;
  GateEffects effects_;
};

TEST_F(GateTest, ADuplicateWithinTheWindowIsSuppressedAndCounted) {
  const auto rule = rule_with(guardduty_dedup(), std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  // GuardDuty re-sends the finding with a rising count: the same finding.
  EXPECT_FALSE(admit(rule, finding("f1", 8, 2)));
  now_ += 5h;
  EXPECT_FALSE(admit(rule, finding("f1", 8, 3)));
  // Another finding is its own key.
  EXPECT_TRUE(admit(rule, finding("f2", 8, 1)));
  EXPECT_THAT(scrape(), HasSubstr("eventrouter_dedup_suppressed_total{rule=\"r\"} 2"));
  // One record per firing, to be written with the batch.
  ASSERT_EQ(effects_.records.size(), 2u);
  EXPECT_EQ(effects_.records[0].rule, "r");
  EXPECT_EQ(effects_.records[0].key.size(), 64u);
  EXPECT_EQ(effects_.records[0].expires_at - effects_.records[0].fired_at, 6 * 3600 * 1000);
}

TEST_F(GateTest, AKeyFiresAgainOnceItsWindowIsOverCountedFromTheLastFiring) {
  const auto rule = rule_with(guardduty_dedup(1h), std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  now_ += 59min;
  EXPECT_FALSE(admit(rule, finding("f1", 8, 2)));  // suppressed: does not restart the window
  now_ += 1min;
  EXPECT_TRUE(admit(rule, finding("f1", 8, 3)));
  now_ += 30min;
  EXPECT_FALSE(admit(rule, finding("f1", 8, 4)));
}

TEST_F(GateTest, AChangedRefireValueFiresAgainAndRestartsTheWindow) {
  const auto rule = rule_with(guardduty_dedup(1h), std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 7, 1)));
  now_ += 50min;
  EXPECT_TRUE(admit(rule, finding("f1", 9, 2)));  // severity rose
  now_ += 50min;                                  // 100 minutes after the first firing
  EXPECT_FALSE(admit(rule, finding("f1", 9, 3)));
  EXPECT_TRUE(admit(rule, finding("f1", 7, 3)));  // any change refires, down as well
}

TEST_F(GateTest, AMissingPathIsNull) {
  const auto rule = rule_with(rules::DedupSettings{{"detail.nothing"}, 1h, {}}, std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 7, 1)));
  EXPECT_FALSE(admit(rule, finding("f2", 8, 1)));  // both null: one key
  const auto explicit_null =
      rule_with(rules::DedupSettings{{"detail.v"}, 1h, {}}, std::nullopt, "explicit");
  EXPECT_TRUE(admit(explicit_null, R"({"id":"a","detail":{}})"));
  EXPECT_FALSE(admit(explicit_null, R"({"id":"b","detail":{"v":null}})"));
  // The string "null" is not the value null.
  EXPECT_TRUE(admit(explicit_null, R"({"id":"c","detail":{"v":"null"}})"));
}

TEST_F(GateTest, KeysOfSeveralPathsAndTheirTypesAreDistinct) {
  const auto rule = rule_with(rules::DedupSettings{{"detail.a", "detail.b"}, 1h, {}}, std::nullopt);
  EXPECT_TRUE(admit(rule, R"({"detail":{"a":"x","b":"y"}})"));
  EXPECT_TRUE(admit(rule, R"({"detail":{"a":"xy","b":""}})"));
  EXPECT_TRUE(admit(rule, R"({"detail":{"a":1,"b":"y"}})"));
  EXPECT_TRUE(admit(rule, R"({"detail":{"a":"1","b":"y"}})"));
  EXPECT_FALSE(admit(rule, R"({"detail":{"b":"y","a":"x","c":3}})"));
  EXPECT_TRUE(admit(rule, R"({"detail":{"a":{"k":[1,2]},"b":"y"}})"));
  EXPECT_FALSE(admit(rule, R"({"detail":{"a":{"k":[1, 2]},"b":"y"}})"));  // spacing is not data
}

TEST_F(GateTest, RulesKeepTheirOwnKeys) {
  const auto first = rule_with(guardduty_dedup(), std::nullopt, "first");
  const auto second = rule_with(guardduty_dedup(), std::nullopt, "second");
  EXPECT_TRUE(admit(first, finding("f1", 8, 1)));
  EXPECT_TRUE(admit(second, finding("f1", 8, 1)));
  EXPECT_FALSE(admit(first, finding("f1", 8, 2)));
}

TEST_F(GateTest, AnUndoneFiringIsForgotten) {
  const auto rule = rule_with(guardduty_dedup(), std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  gate_.undo(effects_.firings);  // its batch was not recorded
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
}

TEST_F(GateTest, RestoredKeysSuppressUntilTheirWindowEnds) {
  const auto rule = rule_with(guardduty_dedup(1h), std::nullopt);
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  EXPECT_TRUE(admit(rule, finding("f2", 8, 1)));
  const auto records = effects_.records;

  metrics::Registry registry;
  TimePoint later = now_ + 30min;
  ResponseGate restarted(registry, 100, [&later] { return later; });
  restarted.restore(records, {rule});
  GateEffects effects;
  std::string json = finding("f1", 8, 5);
  json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  EXPECT_FALSE(restarted.admit(rule, json, "x", effects));
  later += 31min;
  EXPECT_TRUE(restarted.admit(rule, json, "x", effects));
  // A rule that is not loaded (or has no dedup) restores nothing.
  ResponseGate other(registry, 100, [&later] { return later - 31min; });
  other.restore(records, {rule_with(std::nullopt, std::nullopt)});
  EXPECT_TRUE(other.admit(rule, json, "x", effects));
}

class BoundedGateTest : public GateTest {
 protected:
  BoundedGateTest() : GateTest(3) {}
};

TEST_F(BoundedGateTest, PastTheBoundTheOldestKeyIsEvictedAndCounted) {
  const auto rule = rule_with(guardduty_dedup(), std::nullopt);
  for (int i = 0; i < 5; ++i) {
    now_ += 1s;
    EXPECT_TRUE(admit(rule, finding("f" + std::to_string(i), 8, 1)));
  }
  EXPECT_THAT(scrape(), HasSubstr("eventrouter_dedup_evicted_total{rule=\"r\"} 2"));
  // f0 and f1 were evicted: they fire again (evicting f2 and f3), f4 is still remembered.
  EXPECT_FALSE(admit(rule, finding("f4", 8, 2)));
  EXPECT_TRUE(admit(rule, finding("f0", 8, 2)));
  // The evictions are written down too (expires_at 0), so a restart does not bring them back.
  std::size_t evictions = 0;
  for (const auto& record : effects_.records) evictions += record.expires_at == 0 ? 1 : 0;
  EXPECT_EQ(evictions, 3u);
}

TEST_F(BoundedGateTest, ExpiredKeysLeaveBeforeLiveOnesAreEvicted) {
  const auto rule = rule_with(guardduty_dedup(10s), std::nullopt);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(admit(rule, finding("f" + std::to_string(i), 8, 1)));
  now_ += 11s;
  for (int i = 3; i < 6; ++i) EXPECT_TRUE(admit(rule, finding("f" + std::to_string(i), 8, 1)));
  EXPECT_THAT(scrape(), ::testing::Not(HasSubstr("eventrouter_dedup_evicted_total")));
}

rules::StormSettings storm(int count, std::chrono::milliseconds per,
                           std::string field = "detail.type") {
  return rules::StormSettings{count, per, std::move(field)};
}

TEST_F(GateTest, StormControlDeliversTheFirstNAndHoldsTheRestForOneDigest) {
  const auto rule = rule_with(std::nullopt, storm(3, 1min));
  const TimePoint start = now_;
  int delivered = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string type = i % 2 == 0 ? "Recon:EC2/PortProbe" : "UnauthorizedAccess:EC2/SSH";
    std::string json = finding("f" + std::to_string(i), 8, 1, type);
    json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    if (gate_.admit(rule, json, "event-" + std::to_string(i), effects_)) ++delivered;
    now_ += 1s;
  }
  EXPECT_EQ(delivered, 3);
  EXPECT_THAT(scrape(), HasSubstr("eventrouter_storm_held_total{rule=\"r\"} 7"));
  // One timer for the window, due at its end.
  ASSERT_EQ(effects_.due.size(), 1u);
  EXPECT_EQ(effects_.due[0].window_end, start + 1min);
  EXPECT_TRUE(effects_.ready.empty());

  // Another window's start closes nothing.
  EXPECT_FALSE(gate_.close_window("r", start + 1s));
  now_ = start + 1min;
  auto digest = gate_.close_window("r", effects_.due[0].window_start);
  ASSERT_TRUE(digest);
  EXPECT_FALSE(gate_.close_window("r", effects_.due[0].window_start));  // once
  EXPECT_EQ(digest->summary.delivered, 3u);
  EXPECT_EQ(digest->summary.held, 7u);
  EXPECT_EQ(digest->summary.first_held_event_id, "event-3");
  EXPECT_EQ(digest->summary.last_held_event_id, "event-9");

  const std::string json = storm_digest_json(*digest, "digest-id", now_);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["detail-type"]), "Eventrouter Storm Digest");
  EXPECT_EQ(std::string_view(doc["source"]), "eventrouter");
  EXPECT_EQ(std::string_view(doc["id"]), "digest-id");
  EXPECT_EQ(std::string_view(doc["account"]), "111122223333");
  EXPECT_EQ(std::string_view(doc["region"]), "eu-west-1");
  EXPECT_EQ(std::string_view(doc["detail"]["rule"]), "r");
  EXPECT_EQ(int64_t(doc["detail"]["delivered"]), 3);
  EXPECT_EQ(int64_t(doc["detail"]["held"]), 7);
  EXPECT_EQ(std::string_view(doc["detail"]["window_start"]), format_rfc3339_millis(start));
  EXPECT_EQ(std::string_view(doc["detail"]["window_end"]), format_rfc3339_millis(start + 1min));
  EXPECT_THAT(json, HasSubstr(R"("distinct":{"detail.type":["Recon:EC2/PortProbe",)"
                              R"("UnauthorizedAccess:EC2/SSH"]},"distinct_truncated":false)"));

  // The next match opens a new window.
  std::string json2 = finding("g", 8, 1);
  json2.reserve(json2.size() + simdjson::SIMDJSON_PADDING);
  EXPECT_TRUE(gate_.admit(rule, json2, "next", effects_));
}

TEST_F(GateTest, DistinctValuesAreBoundedInNumberAndSize) {
  const auto rule = rule_with(std::nullopt, storm(1, 1min));
  EXPECT_TRUE(admit(rule, finding("first", 8, 1)));
  for (std::size_t i = 0; i < kMaxDigestValues + 20; ++i)
    EXPECT_FALSE(admit(rule, finding("f", 8, 1, "type-" + std::to_string(i))));
  auto digest = gate_.close_all();
  ASSERT_EQ(digest.size(), 1u);
  EXPECT_EQ(digest[0].summary.distinct.size(), kMaxDigestValues);
  EXPECT_TRUE(digest[0].summary.distinct_truncated);

  EXPECT_TRUE(admit(rule, finding("first", 8, 1)));
  EXPECT_FALSE(admit(rule, finding("f", 8, 1, std::string(kMaxDigestValueBytes, 'x'))));
  EXPECT_FALSE(admit(rule, finding("f", 8, 1, "short")));
  digest = gate_.close_all();
  ASSERT_EQ(digest.size(), 1u);
  EXPECT_THAT(digest[0].summary.distinct, ElementsAre("\"short\""));  // the long one is left out
  EXPECT_TRUE(digest[0].summary.distinct_truncated);
}

TEST_F(GateTest, AMatchAfterTheWindowEndedClosesItWhenTheTimerIsLate) {
  const auto rule = rule_with(std::nullopt, storm(1, 10s));
  EXPECT_TRUE(admit(rule, finding("a", 8, 1)));
  EXPECT_FALSE(admit(rule, finding("b", 8, 1)));
  const auto first_start = effects_.due.at(0).window_start;
  now_ += 10s;
  EXPECT_TRUE(admit(rule, finding("c", 8, 1)));  // a new window
  ASSERT_EQ(effects_.ready.size(), 1u);
  EXPECT_EQ(effects_.ready[0].summary.held, 1u);
  EXPECT_EQ(effects_.ready[0].summary.window_end, first_start + 10s);
  EXPECT_FALSE(gate_.close_window("r", first_start));  // the late timer finds nothing
}

TEST_F(GateTest, AWindowWithoutHeldEventsHasNoDigest) {
  const auto rule = rule_with(std::nullopt, storm(5, 10s));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(admit(rule, finding("a", 8, i)));
  EXPECT_TRUE(effects_.due.empty());
  EXPECT_TRUE(gate_.close_all().empty());
}

TEST_F(GateTest, DedupComesFirstASuppressedDuplicateTakesNoStormBudget) {
  const auto rule = rule_with(guardduty_dedup(), storm(2, 1min));
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  for (int i = 2; i < 10; ++i) EXPECT_FALSE(admit(rule, finding("f1", 8, i)));
  EXPECT_TRUE(admit(rule, finding("f2", 8, 1)));
  EXPECT_FALSE(admit(rule, finding("f3", 8, 1)));  // held
  EXPECT_THAT(scrape(), HasSubstr("eventrouter_storm_held_total{rule=\"r\"} 1"));
}

TEST_F(GateTest, ARuleWithoutControlsAlwaysPasses) {
  const auto rule = rule_with(std::nullopt, std::nullopt);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  EXPECT_TRUE(effects_.records.empty());
}

TEST_F(GateTest, AReloadThatDropsARuleClosesItsWindowAndForgetsItsKeys) {
  const auto rule = rule_with(guardduty_dedup(), storm(1, 1min));
  EXPECT_TRUE(admit(rule, finding("f1", 8, 1)));
  EXPECT_FALSE(admit(rule, finding("f2", 8, 1)));
  // Kept with the same controls: nothing changes.
  EXPECT_TRUE(gate_.keep_only({rule}).empty());
  EXPECT_FALSE(admit(rule, finding("f1", 8, 2)));
  auto closed = gate_.keep_only({});
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].summary.held, 1u);
  EXPECT_TRUE(admit(rule, finding("f1", 8, 3)));  // back, with no memory
}

}  // namespace
}  // namespace eventrouter::delivery
