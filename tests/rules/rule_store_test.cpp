#include "eventrouter/rules/rule_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr std::string_view kGuardDuty =
    R"({"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{}})";
constexpr std::string_view kMacie = R"({"source":"aws.macie","detail-type":"x","detail":{}})";

// Matches and counts the matches, as the dispatcher does for an event it accepts.
std::size_t match_count(const RuleSet& rules, std::string_view event) {
  std::vector<const Rule*> out;
  rules.match("default", event, out);
  for (const Rule* rule : out) RuleSet::count_match(*rule);
  return out.size();
}

TEST(RuleStore, StartFailsOnInvalidRules) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", "rules:\n  - name: x\n");
  EXPECT_THROW(RuleStore(dir.config(), testing::fake_catalog()), config::ConfigError);
}

TEST(RuleStore, GoodReloadSwapsAndBadReloadKeepsTheRunningRules) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  RuleStore store(dir.config(), testing::fake_catalog());
  std::vector<std::size_t> swaps;
  store.on_swap(
      [&](const std::shared_ptr<const RuleSet>& rules) { swaps.push_back(rules->rules().size()); });
  const auto first = store.current();
  EXPECT_EQ(match_count(*first, kGuardDuty), 1u);
  EXPECT_TRUE(store.status().ok);

  // A good change: the rule now wants Macie findings.
  dir.rule_file("a.yaml", testing::one_rule("macie", "aws.macie"));
  EXPECT_TRUE(store.reload());
  const auto second = store.current();
  EXPECT_NE(first, second);
  EXPECT_EQ(match_count(*second, kGuardDuty), 0u);
  EXPECT_EQ(match_count(*second, kMacie), 1u);
  // The old snapshot still works for whoever holds it (events in flight).
  EXPECT_EQ(match_count(*first, kGuardDuty), 1u);
  EXPECT_EQ(store.status().succeeded, 1u);
  EXPECT_THAT(swaps, ::testing::ElementsAre(1u));

  // A broken change: nothing is swapped, the errors are kept, a failure is counted.
  dir.rule_file("a.yaml", "rules:\n  - name: macie\n    event_pattern: {source: aws.macie}\n");
  dir.rule_file("b.yaml", "rules: [");
  EXPECT_FALSE(store.reload());
  EXPECT_EQ(store.current(), second);
  EXPECT_EQ(match_count(*store.current(), kMacie), 1u);
  const ReloadStatus status = store.status();
  EXPECT_FALSE(status.ok);
  EXPECT_EQ(status.failed, 1u);
  EXPECT_EQ(status.succeeded, 1u);
  ASSERT_THAT(status.errors, SizeIs(3));
  EXPECT_THAT(status.errors[0].message, HasSubstr("has no targets"));
  EXPECT_THAT(status.errors[1].message, HasSubstr("Event pattern is not valid"));
  EXPECT_THAT(status.errors[2].message, HasSubstr("YAML syntax error"));
  EXPECT_THAT(swaps, SizeIs(1));

  // Fixing it recovers.
  std::filesystem::remove(dir.rules_dir() / "b.yaml");
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  EXPECT_TRUE(store.reload());
  EXPECT_TRUE(store.status().ok);
  EXPECT_TRUE(store.status().errors.empty());
  EXPECT_EQ(match_count(*store.current(), kGuardDuty), 1u);
}

TEST(RuleStore, PreparerCanRejectANewRuleSet) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  RuleStore store(dir.config(), testing::fake_catalog());
  bool refuse = true;
  int swaps = 0;
  store.on_prepare([&](const std::shared_ptr<const RuleSet>& next) {
    EXPECT_NE(next, store.current());  // not swapped in yet
    if (refuse) throw std::runtime_error("target 'q' cannot be built");
  });
  store.on_swap([&](const std::shared_ptr<const RuleSet>&) {
    ++swaps;
    throw std::runtime_error("a listener's failure does not undo the swap");
  });
  const auto before = store.current();
  dir.rule_file("a.yaml", testing::one_rule("macie", "aws.macie"));
  EXPECT_FALSE(store.reload());
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(swaps, 0);
  ASSERT_THAT(store.status().errors, SizeIs(1));
  EXPECT_EQ(store.status().errors[0].message, "reload failed: target 'q' cannot be built");

  refuse = false;
  EXPECT_TRUE(store.reload());
  EXPECT_EQ(swaps, 1);
  EXPECT_NE(store.current()->find("macie"), nullptr);
  EXPECT_EQ(store.status().failed, 1u);
  EXPECT_EQ(store.status().succeeded, 1u);
}

TEST(RuleStore, RemovedRulesDirIsAFailedReload) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  RuleStore store(dir.config(), testing::fake_catalog());
  std::filesystem::remove_all(dir.rules_dir());
  EXPECT_FALSE(store.reload());
  EXPECT_EQ(store.current()->rules().size(), 1u);
  EXPECT_THAT(store.status().errors[0].message, HasSubstr("rules_dir does not exist"));
}

TEST(RuleStore, ConcurrentMatchingDuringReloads) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", testing::one_rule("gd", "aws.guardduty"));
  RuleStore store(dir.config(), testing::fake_catalog());
  std::atomic<bool> done{false};
  std::atomic<std::size_t> matches{0};
  std::thread matcher([&] {
    for (int i = 0; i < 200000 && !done.load(); ++i) {
      matches += match_count(*store.current(), kGuardDuty);
    }
  });
  // At least 20 reloads, and more until the matcher thread has had its turn (on a loaded
  // machine it may not be scheduled before 20 quick reloads are over); bounded.
  for (int i = 0; i < 20 || (matches.load() == 0 && i < 20000); ++i) EXPECT_TRUE(store.reload());
  done = true;
  matcher.join();
  EXPECT_GT(matches.load(), 0u);
  // Counts are shared across snapshots of the same rule.
  EXPECT_EQ(store.current()->find("gd")->match_count->load(), matches.load());
}

}  // namespace
}  // namespace eventrouter::rules
