#include "eventrouter/rules/rule_set.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eventrouter/rules/loader.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Matches and counts the matches, as the dispatcher does for an event it accepts.
std::vector<std::string> matched(const RuleSet& rules, std::string_view bus,
                                 std::string_view event) {
  std::vector<const Rule*> out;
  rules.match(bus, event, out);
  std::vector<std::string> names;
  for (const Rule* r : out) {
    RuleSet::count_match(*r);
    names.push_back(r->name);
  }
  return names;
}

constexpr std::string_view kGuardDuty =
    R"({"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{"severity":8}})";
constexpr std::string_view kMacie =
    R"({"source":"aws.macie","detail-type":"Macie Finding","detail":{}})";

TEST(RuleSet, MatchesPerBusInRuleOrderAndSkipsDisabledRules) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd-default", "aws.guardduty"));
  dir.rule_file("b.yaml", testing::one_rule("gd-disabled", "aws.guardduty", "default", "DISABLED"));
  dir.rule_file("c.yaml", testing::one_rule("gd-security", "aws.guardduty", "security"));
  dir.rule_file("d.yaml", testing::one_rule("gd-default-2", "aws.guardduty"));
  dir.rule_file("e.yaml", testing::one_rule("only-disabled", "aws.macie", "quiet", "DISABLED"));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());

  EXPECT_THAT(matched(*rules, "default", kGuardDuty), ElementsAre("gd-default", "gd-default-2"));
  EXPECT_THAT(matched(*rules, "security", kGuardDuty), ElementsAre("gd-security"));
  EXPECT_THAT(matched(*rules, "default", kMacie), IsEmpty());
  EXPECT_THAT(matched(*rules, "quiet", kMacie), IsEmpty());
  EXPECT_THAT(matched(*rules, "nobody", kGuardDuty), IsEmpty());
  EXPECT_TRUE(rules->has_bus("quiet"));
  EXPECT_FALSE(rules->has_bus("nobody"));
  EXPECT_THAT(rules->buses(), ElementsAre("default", "quiet", "security"));
  EXPECT_EQ(rules->enabled_count(), 3u);

  EXPECT_EQ(rules->find("gd-default")->match_count->load(), 1u);
  EXPECT_EQ(rules->find("gd-disabled")->match_count->load(), 0u);
  EXPECT_EQ(rules->find("gd-security")->match_count->load(), 1u);
  EXPECT_EQ(rules->find("nope"), nullptr);
}

TEST(RuleSet, PaddedInputMatchesToo) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  simdjson::padded_string padded(kGuardDuty);
  std::vector<const Rule*> out;
  rules->match("default", simdjson::padded_string_view(padded), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->name, "gd");
}

TEST(RuleSet, MatchingAloneCountsNothing) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  std::vector<const Rule*> out;
  // The caller counts once the event is accepted: a refused request must not count.
  rules->match("default", kGuardDuty, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(rules->find("gd")->match_count->load(), 0u);
  RuleSet::count_match(*out[0]);
  EXPECT_EQ(rules->find("gd")->match_count->load(), 1u);
}

TEST(RuleSet, MatchCountsCarryOverToTheNextRuleSetByName) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("kept", "aws.guardduty"));
  dir.rule_file("b.yaml", testing::one_rule("dropped", "aws.guardduty"));
  auto first = load_rule_set(dir.config(), testing::fake_catalog());
  matched(*first, "default", kGuardDuty);
  matched(*first, "default", kGuardDuty);
  std::filesystem::remove(dir.rules_dir() / "b.yaml");
  dir.rule_file("c.yaml", testing::one_rule("dropped-renamed", "aws.guardduty"));
  auto second = load_rule_set(dir.config(), testing::fake_catalog(), first.get());
  EXPECT_EQ(second->find("kept")->match_count->load(), 2u);
  EXPECT_EQ(second->find("dropped-renamed")->match_count->load(), 0u);
  matched(*second, "default", kGuardDuty);
  EXPECT_EQ(second->find("kept")->match_count->load(), 3u);
}

TEST(RuleSet, InvalidEventMatchesNothing) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  EXPECT_THAT(matched(*rules, "default", "{not json"), IsEmpty());
}

}  // namespace
}  // namespace eventrouter::rules
