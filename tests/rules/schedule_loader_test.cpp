// The `schedule` key of a rule: read, checked with positions, shown by GET /rules.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eventrouter/rules/commands.hpp"
#include "eventrouter/rules/loader.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> problems_for(const std::string& text) {
  testing::RulesDir dir;
  dir.rule_file("x.yaml", text);
  std::vector<config::Diagnostic> problems;
  auto rules = parse_rule_set(dir.config(), testing::fake_catalog(), problems);
  EXPECT_EQ(rules == nullptr, !problems.empty());
  std::vector<std::string> out;
  for (auto d : problems) {
    d.file = d.file.lexically_relative(dir.path());
    out.push_back(d.to_string());
  }
  return out;
}

std::string scheduled_rule(const std::string& schedule, const std::string& extra = "") {
  return "rules:\n  - name: beat\n" + extra + "    schedule: " + schedule +
         "\n    targets:\n      - id: q\n        type: queue_file\n        path: q.jsonl\n";
}

TEST(ScheduleLoader, ScheduledRulesLoadAndMatchNoEvent) {
  testing::RulesDir dir;
  dir.rule_file("x.yaml", scheduled_rule("rate(5 minutes)", "    bus: ops\n") +
                              "  - name: noon\n    schedule: cron(0 12 * * ? *)\n"
                              "    state: DISABLED\n    targets: [{id: t, type: email}]\n");
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  ASSERT_EQ(rules->rules().size(), 2u);
  const Rule& beat = rules->rules()[0];
  ASSERT_TRUE(beat.schedule.has_value());
  EXPECT_EQ(beat.schedule->expression(), "rate(5 minutes)");
  EXPECT_FALSE(beat.pattern.has_value());
  EXPECT_EQ(beat.bus, "ops");
  EXPECT_EQ(rules->enabled_count(), 1u);
  // A scheduled rule matches nothing, not even an event shaped like its own.
  std::vector<const Rule*> matched;
  rules->match("ops", R"({"source":"aws.events","detail-type":"Scheduled Event","detail":{}})",
               matched);
  EXPECT_TRUE(matched.empty());
  EXPECT_TRUE(rules->has_bus("ops"));

  const std::string json = render_rules_json(*rules, ReloadStatus{});
  EXPECT_THAT(json, HasSubstr(R"("name":"beat","description":"","bus":"ops","state":"ENABLED",)"
                              R"x("schedule":"rate(5 minutes)","targets")x"));
  EXPECT_THAT(json, HasSubstr(R"x("schedule":"cron(0 12 * * ? *)")x"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("event_pattern")));
}

TEST(ScheduleLoader, BadExpressionIsReportedAtItsValueWithTheCharacter) {
  EXPECT_THAT(problems_for(scheduled_rule("cron(0 12 ? * MOX *)")),
              ElementsAre("rules.d/x.yaml:3:15: schedule: cron field 5 (day-of-week) 'MOX' at "
                          "character 15: expected 1-7, SUN-SAT, ?, *, L or #"));
  EXPECT_THAT(problems_for(scheduled_rule("rate(5 minute)")),
              ElementsAre("rules.d/x.yaml:3:15: schedule: rate unit 'minute' at character 8: "
                          "use 'minutes' for a value other than 1"));
  EXPECT_THAT(problems_for(scheduled_rule("\"every day\"")),
              ElementsAre(HasSubstr("rules.d/x.yaml:3:15: schedule: expected rate(value unit)")));
}

TEST(ScheduleLoader, AnExpressionThatNeverFiresIsRefused) {
  EXPECT_THAT(problems_for(scheduled_rule("cron(0 0 30 2 ? *)")),
              ElementsAre("rules.d/x.yaml:3:15: schedule: cron(0 0 30 2 ? *) of rule 'beat' "
                          "never fires: no time from now to the end of its last year matches "
                          "(check the day against the month, e.g. 30 in February, and the year "
                          "field)"));
  EXPECT_THAT(problems_for(scheduled_rule("cron(0 0 1 1 ? 2020)")),
              ElementsAre(HasSubstr("never fires")));
}

TEST(ScheduleLoader, ExactlyOneOfPatternAndSchedule) {
  EXPECT_THAT(problems_for(scheduled_rule("rate(1 hour)", "    event_pattern: {source: [x]}\n")),
              ElementsAre("rules.d/x.yaml:4:5: rule 'beat' has both event_pattern and schedule; "
                          "give exactly one (a rule either matches events or runs on a "
                          "schedule)"));
  EXPECT_THAT(problems_for("rules:\n  - name: none\n    targets: [{id: t, type: email}]\n"),
              ElementsAre("rules.d/x.yaml:2:5: rule 'none' has no event_pattern; give the "
                          "pattern events must match (or a schedule such as rate(5 minutes))"));
  EXPECT_THAT(problems_for(scheduled_rule("[rate(1 hour)]")),
              ElementsAre(HasSubstr("rules.d/x.yaml:3:15: schedule must be")));
}

}  // namespace
}  // namespace eventrouter::rules
