#include "eventrouter/rules/commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>

#include "eventrouter/rules/loader.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Validate, ValidConfigPrintsASummary) {
  testing::RulesDir dir;
  dir.rule_file(
      "a.yaml",
      testing::one_rule("a", "x") +
          "  - name: b\n    event_pattern: {source: [y]}\n    targets: [{id: t, type: email}]\n");
  dir.rule_file("b.yaml", testing::one_rule("c", "x"));
  std::ostringstream out, err;
  EXPECT_EQ(
      run_validate_command(dir.path() / "eventrouter.yaml", testing::fake_catalog(), out, err), 0);
  EXPECT_EQ(out.str(),
            "config OK: 3 rules in 2 files (" + (dir.path() / "eventrouter.yaml").string() + ")\n");
  EXPECT_EQ(err.str(), "");
}

TEST(Validate, FolderArgumentMeansItsEventrouterYaml) {
  testing::RulesDir dir;
  std::ostringstream out, err;
  EXPECT_EQ(run_validate_command(dir.path(), testing::fake_catalog(), out, err), 0);
  EXPECT_THAT(out.str(), StartsWith("config OK: 0 rules in 0 files"));
}

TEST(Validate, ReportsConfigAndRuleProblemsTogether) {
  testing::RulesDir dir;
  dir.write("eventrouter.yaml", "rules_dir: rules.d\nlog: {level: loud}\n");
  dir.rule_file("a.yaml", "rules:\n  - name: a\n    event_pattern: {source: [x]}\n");
  std::ostringstream out, err;
  EXPECT_EQ(
      run_validate_command(dir.path() / "eventrouter.yaml", testing::fake_catalog(), out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            (dir.path() / "eventrouter.yaml").string() +
                ":2:14: log.level must be one of trace, debug, info, warn, error, "
                "critical, off, not 'loud'\n" +
                (dir.rules_dir() / "a.yaml").string() +
                ":2:5: rule 'a' has no targets; give 1 to 5 targets\n2 problems found\n");
}

TEST(Validate, MissingConfigFile) {
  testing::TempDir dir;
  std::ostringstream out, err;
  EXPECT_EQ(run_validate_command(dir.path() / "missing.yaml", testing::fake_catalog(), out, err),
            1);
  EXPECT_EQ(err.str(), (dir.path() / "missing.yaml").string() +
                           ": cannot open file: No such file or directory\n1 problem found\n");
}

TEST(Validate, PathsUnderTheWorkingDirectoryAreShownRelative) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", "rules: x\n");
  const auto saved = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  std::ostringstream out, err;
  const int code = run_validate_command("eventrouter.yaml", testing::fake_catalog(), out, err);
  std::filesystem::current_path(saved);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str(),
            "rules.d/a.yaml:1:8: 'rules' must be a list of rules (- name: ...)\n1 problem found\n");
}

TEST(RenderRules, DocumentListsRulesAndReloadOutcome) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", R"(rules:
  - name: gd
    description: "GuardDuty \"high\""
    event_pattern: { source: [aws.guardduty], detail: { severity: [{numeric: [">=", 7]}] } }
    targets:
      - { id: hook, type: webhook }
      - { id: q, type: queue_file, path: q.jsonl }
  - name: off
    state: DISABLED
    bus: other
    event_pattern: '{"source": [ "x" ]}'
    targets: [{ id: t, type: email }]
)");
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  std::vector<const Rule*> out;
  rules->match("default", R"({"source":"aws.guardduty","detail":{"severity":9}})", out);
  for (const Rule* rule : out) RuleSet::count_match(*rule);
  ReloadStatus status;
  status.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795866307123));
  status.ok = false;
  status.errors.push_back({"/r/a.yaml", 3, 4, "bad \"thing\""});
  status.succeeded = 2;
  status.failed = 1;
  const std::string json = render_rules_json(*rules, status);
  EXPECT_EQ(
      json,
      R"({"rules":[{"name":"gd","description":"GuardDuty \"high\"","bus":"default","state":"ENABLED",)"
      R"("event_pattern":{"source":["aws.guardduty"],"detail":{"severity":[{"numeric":[">=",7]}]}},)"
      R"("targets":[{"id":"hook","type":"webhook"},{"id":"q","type":"queue_file"}],"match_count":1,)"
      R"("file":")" +
          (dir.rules_dir() / "a.yaml").string() +
          R"(","line":2},)"
          R"({"name":"off","description":"","bus":"other","state":"DISABLED","event_pattern":{"source":["x"]},)"
          R"("targets":[{"id":"t","type":"email"}],"match_count":0,"file":")" +
          (dir.rules_dir() / "a.yaml").string() +
          R"(","line":8}],)"
          R"("last_reload":{"time":"2026-11-28T11:45:07.123Z","outcome":"failed","errors":["/r/a.yaml:3:4: bad \"thing\""]},)"
          R"("reloads":{"succeeded":2,"failed":1}})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);
}

}  // namespace
}  // namespace eventrouter::rules
