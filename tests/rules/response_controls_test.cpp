// The rule keys `dedup` and `max_invocations`: how they are read, what is refused and where,
// and how GET /rules shows them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eventrouter/rules/commands.hpp"
#include "eventrouter/rules/loader.hpp"
#include "eventrouter/rules/rule_store.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A rule file with one rule whose extra keys are `controls` (YAML lines, indented by four).
std::string rule_file(const std::string& controls) {
  return "rules:\n"
         "  - name: r\n"
         "    event_pattern: { source: [aws.guardduty] }\n" +
         controls +
         "    targets:\n"
         "      - id: a\n"
         "        type: email\n";
}

// The diagnostics as "rules.yaml:LINE:COL: message".
std::vector<std::string> problems_for(const std::string& text) {
  testing::RulesDir dir;
  dir.rule_file("rules.yaml", text);
  std::vector<config::Diagnostic> problems;
  auto rules = parse_rule_set(dir.config(), testing::fake_catalog(), problems);
  EXPECT_EQ(rules == nullptr, !problems.empty());
  std::vector<std::string> out;
  for (auto d : problems) {
    d.file = d.file.lexically_relative(dir.rules_dir());
    out.push_back(d.to_string());
  }
  return out;
}

TEST(ResponseControls, AreReadAndShownByGetRules) {
  testing::RulesDir dir;
  dir.rule_file("rules.yaml", rule_file(R"(    dedup:
      key: [detail.id, account]
      window: 6h
      refire_when_changed: [detail.severity]
    max_invocations: {count: 10, per: 1m, digest_field: detail.type}
)"));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  ASSERT_EQ(rules->rules().size(), 1u);
  const auto& controls = rules->rules()[0].controls;
  ASSERT_TRUE(controls.dedup);
  EXPECT_THAT(controls.dedup->key, ElementsAre("detail.id", "account"));
  EXPECT_EQ(controls.dedup->window, std::chrono::hours(6));
  EXPECT_THAT(controls.dedup->refire_when_changed, ElementsAre("detail.severity"));
  ASSERT_TRUE(controls.max_invocations);
  EXPECT_EQ(controls.max_invocations->count, 10);
  EXPECT_EQ(controls.max_invocations->per, std::chrono::minutes(1));
  EXPECT_EQ(controls.max_invocations->digest_field, "detail.type");

  const std::string json = render_rules_json(*rules, ReloadStatus{});
  EXPECT_THAT(json, HasSubstr(R"("dedup":{"key":["detail.id","account"],"window":"6h",)"
                              R"("refire_when_changed":["detail.severity"]})"));
  EXPECT_THAT(
      json, HasSubstr(R"("max_invocations":{"count":10,"per":"1m","digest_field":"detail.type"})"));
}

TEST(ResponseControls, AreOptional) {
  testing::RulesDir dir;
  dir.rule_file("rules.yaml", rule_file(""));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  ASSERT_EQ(rules->rules().size(), 1u);
  EXPECT_FALSE(rules->rules()[0].controls.dedup);
  EXPECT_FALSE(rules->rules()[0].controls.max_invocations);
  const std::string json = render_rules_json(*rules, ReloadStatus{});
  EXPECT_THAT(json, ::testing::Not(HasSubstr("dedup")));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("max_invocations")));
}

TEST(ResponseControls, DedupProblemsPointAtTheValue) {
  EXPECT_THAT(problems_for(rule_file(R"(    dedup:
      key: []
      window: 6h
)")),
              ElementsAre("rules.yaml:5:12: dedup.key has 0 paths; it must be a list of 1 to 5 "
                          "paths such as [detail.id]"));
  EXPECT_THAT(problems_for(rule_file(R"(    dedup:
      key: [a, b, c, d, e, f]
      window: 6h
)")),
              ElementsAre(HasSubstr("rules.yaml:5:12: dedup.key has 6 paths")));
  EXPECT_THAT(problems_for(rule_file(R"(    dedup:
      key: [detail..id, "$.detail.id", ""]
      window: 6h
)")),
              ElementsAre("rules.yaml:5:13: dedup.key[0] is not a valid path: 'detail..id' has "
                          "an empty segment; write it as detail.id",
                          HasSubstr("rules.yaml:5:25: dedup.key[1] is not a valid path: "
                                    "'$.detail.id' has a character other than"),
                          HasSubstr("rules.yaml:5:40: dedup.key[2] is not a valid path: it is "
                                    "empty")));
  EXPECT_THAT(problems_for(rule_file(R"(    dedup:
      key: detail.id
      window: 0s
)")),
              ElementsAre(HasSubstr("rules.yaml:5:12: dedup.key must be a list of 1 to 5 paths"),
                          "rules.yaml:6:15: dedup.window is 0s; it must be from 1s to 7d"));
  EXPECT_THAT(problems_for(rule_file(R"(    dedup:
      key: [detail.id]
      window: 8d
      refire_when_changed: [a, b, c, d, e, f]
      refire: [x]
)")),
              ElementsAre("rules.yaml:6:15: dedup.window is 8d; it must be from 1s to 7d",
                          HasSubstr("rules.yaml:7:28: dedup.refire_when_changed has 6 paths; it "
                                    "must be a list of 0 to 5 paths"),
                          HasSubstr("rules.yaml:8:7: unknown key 'refire' in dedup")));
  EXPECT_THAT(problems_for(rule_file("    dedup: {}\n")),
              ElementsAre(HasSubstr("rules.yaml:4:5: dedup has no key"),
                          HasSubstr("rules.yaml:4:5: dedup has no window")));
  EXPECT_THAT(problems_for(rule_file("    dedup: [detail.id]\n")),
              ElementsAre(HasSubstr("rules.yaml:4:12: dedup must be a mapping")));
  EXPECT_THAT(problems_for(rule_file("    dedup:\n      key: [x]\n      window: soon\n")),
              ElementsAre(HasSubstr("rules.yaml:6:15: dedup.window: ")));
}

TEST(ResponseControls, MaxInvocationsProblemsPointAtTheValue) {
  EXPECT_THAT(problems_for(rule_file("    max_invocations: {count: 0, per: 1m}\n")),
              ElementsAre(HasSubstr("rules.yaml:4:30: max_invocations.count is out of range: "
                                    "'0' is not a whole number from 1")));
  EXPECT_THAT(problems_for(rule_file("    max_invocations: {count: 5, per: 500ms}\n")),
              ElementsAre("rules.yaml:4:38: max_invocations.per is 500ms; it must be from 1s "
                          "to 1d"));
  EXPECT_THAT(problems_for(rule_file("    max_invocations: {count: 5, per: 2d}\n")),
              ElementsAre(HasSubstr("max_invocations.per is 2d")));
  EXPECT_THAT(problems_for(rule_file(
                  "    max_invocations: {count: 5, per: 1m, digest_field: 'a b', every: 1m}\n")),
              ElementsAre(HasSubstr("rules.yaml:4:56: max_invocations.digest_field is not a "
                                    "valid path"),
                          HasSubstr("rules.yaml:4:63: unknown key 'every' in max_invocations")));
  EXPECT_THAT(problems_for(rule_file("    max_invocations: {}\n")),
              ElementsAre(HasSubstr("max_invocations has no count"),
                          HasSubstr("max_invocations has no per")));
  EXPECT_THAT(problems_for(rule_file("    max_invocations: 10\n")),
              ElementsAre(HasSubstr("rules.yaml:4:22: max_invocations must be a mapping")));
}

TEST(ResponseControls, GoodSettingsHaveNoProblems) {
  EXPECT_THAT(problems_for(rule_file(R"(    dedup: {key: ["detail.resource/arn:x@y"], window: 1s}
    max_invocations: {count: 1, per: 1d}
)")),
              IsEmpty());
}

}  // namespace
}  // namespace eventrouter::rules
