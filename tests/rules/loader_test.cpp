#include "eventrouter/rules/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "eventrouter/util/bus_name.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// The diagnostics for a rules.d holding `files` (name, text), as "NAME:LINE:COL: message" with
// the folder stripped so that expectations stay readable.
std::vector<std::string> problems_for(
    const std::vector<std::pair<std::string, std::string>>& files) {
  testing::RulesDir dir;
  for (const auto& [name, text] : files) dir.rule_file(name, text);
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

std::vector<std::string> problems_for(const std::string& text) {
  return problems_for({{"rules.yaml", text}});
}

TEST(Loader, GoodFileIsRead) {
  testing::RulesDir dir;
  ::setenv("EVENTROUTER_TEST_HOOK", "http://127.0.0.1:9/hook", 1);
  dir.rule_file("b.yml", R"(
rules:
  - name: guardduty-high
    description: High-severity GuardDuty findings
    bus: security
    state: DISABLED
    event_pattern:
      source: [aws.guardduty]
      detail:
        severity: [{ numeric: [">=", 7] }]
        count: [3, "3"]
    targets:
      - id: notify
        type: webhook
        url: ${env:EVENTROUTER_TEST_HOOK}
        timeout: 5s
        retry_policy: { maximum_retry_attempts: 0, maximum_event_age_seconds: 60 }
        dead_letter: { path: dlq/notify.jsonl }
      - id: contain
        type: runbook
        command: [../runbooks/contain.sh, --now]
        working_dir: ../runbooks
      - id: archive
        type: queue_file
        path: queues/high.jsonl
)");
  dir.rule_file("a.yaml", R"(
rules:
  - name: nulls
    event_pattern: '{"detail": {"deleted": [null]}}'
    targets:
      - id: mail
        type: email
)");
  dir.rule_file(".hidden.yaml", "not: [valid");
  dir.rule_file("notes.txt", "not: [valid");
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  ASSERT_THAT(rules->rules(), SizeIs(2));
  EXPECT_THAT(rules->files(), ElementsAre(dir.rules_dir() / "a.yaml", dir.rules_dir() / "b.yml"));

  const Rule& nulls = rules->rules()[0];
  EXPECT_EQ(nulls.name, "nulls");
  EXPECT_EQ(nulls.bus, "default");
  EXPECT_TRUE(nulls.enabled);
  EXPECT_EQ(nulls.event_pattern, R"({"detail":{"deleted":[null]}})");
  EXPECT_EQ(nulls.position.file, dir.rules_dir() / "a.yaml");
  EXPECT_EQ(nulls.position.line, 3);
  EXPECT_EQ(nulls.position.column, 5);

  const Rule& high = rules->rules()[1];
  EXPECT_EQ(high.name, "guardduty-high");
  EXPECT_EQ(high.description, "High-severity GuardDuty findings");
  EXPECT_EQ(high.bus, "security");
  EXPECT_FALSE(high.enabled);
  EXPECT_EQ(high.event_pattern,
            R"({"source":["aws.guardduty"],"detail":{"severity":[{"numeric":[">=",7]}],)"
            R"("count":[3,"3"]}})");
  ASSERT_THAT(high.targets, SizeIs(3));
  const auto& notify = high.targets[0];
  EXPECT_EQ(notify.rule, "guardduty-high");
  EXPECT_EQ(notify.id, "notify");
  EXPECT_EQ(notify.type, "webhook");
  EXPECT_EQ(notify.node["url"].scalar(), "http://127.0.0.1:9/hook");
  EXPECT_EQ(notify.retry_policy.maximum_retry_attempts, 0);
  EXPECT_EQ(notify.retry_policy.maximum_event_age_seconds, 60);
  ASSERT_TRUE(notify.dead_letter.has_value());
  EXPECT_EQ(notify.dead_letter->path, dir.path() / "state/dlq/notify.jsonl");
  EXPECT_EQ(notify.position.line, 13);
  EXPECT_EQ(notify.position.column, 9);
  const auto& contain = high.targets[1];
  EXPECT_EQ(contain.retry_policy.maximum_retry_attempts, 185);
  EXPECT_EQ(contain.retry_policy.maximum_event_age_seconds, 86400);
  EXPECT_FALSE(contain.dead_letter.has_value());
  EXPECT_EQ(contain.node["command"][0].scalar(), (dir.path() / "runbooks/contain.sh").string());
  EXPECT_EQ(contain.node["command"][1].scalar(), "--now");
  EXPECT_EQ(contain.node["working_dir"].scalar(), (dir.path() / "runbooks").string());
  EXPECT_EQ(high.targets[2].node["path"].scalar(),
            (dir.path() / "state/queues/high.jsonl").string());
  ::unsetenv("EVENTROUTER_TEST_HOOK");
}

TEST(Loader, PathKeysAndTypeNamesComeFromTheCatalog) {
  // A type the loader has never heard of: its path keys and its name in messages come only
  // from the catalog the app hands over.
  using Base = targets::PathKey::Base;
  targets::TargetCatalog catalog{{{"pager",
                                   {{"script", Base::kRuleFileFolder},
                                    {"argv", Base::kRuleFileFolder, true},
                                    {"spool", Base::kStateDir}}}},
                                 {}};
  testing::RulesDir dir;
  dir.rule_file("r.yaml", R"(rules:
  - name: paging
    event_pattern: {source: [a]}
    targets:
      - {id: p, type: pager, script: page.sh, argv: [bin/page, -v], spool: out/spool, other: x}
      - {id: q}
)");
  std::vector<config::Diagnostic> problems;
  parse_rule_set(dir.config(), catalog, problems);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0].message, HasSubstr("target 'q' has no type; use pager"));

  dir.rule_file("r.yaml", R"(rules:
  - name: paging
    event_pattern: {source: [a]}
    targets:
      - {id: p, type: pager, script: page.sh, argv: [bin/page, -v], spool: out/spool, other: x}
)");
  auto rules = load_rule_set(dir.config(), catalog);
  const auto& node = rules->rules().at(0).targets.at(0).node;
  EXPECT_EQ(node["script"].scalar(), (dir.rules_dir() / "page.sh").string());
  EXPECT_EQ(node["argv"][0].scalar(), (dir.rules_dir() / "bin/page").string());
  EXPECT_EQ(node["argv"][1].scalar(), "-v");
  EXPECT_EQ(node["spool"].scalar(), (dir.path() / "state/out/spool").string());
  EXPECT_EQ(node["other"].scalar(), "x");
}

TEST(Loader, EmptyFolderAndEmptyFilesHoldNoRules) {
  testing::RulesDir dir;
  dir.rule_file("empty.yaml", "# nothing yet\n");
  dir.rule_file("none.yaml", "rules:\n");
  auto rules = load_rule_set(dir.config(), testing::fake_catalog());
  EXPECT_THAT(rules->rules(), SizeIs(0));
  EXPECT_THAT(rules->files(), SizeIs(2));
}

TEST(Loader, MissingRulesDir) {
  testing::TempDir dir;
  const auto file = dir.write("eventrouter.yaml", "rules_dir: nowhere\n");
  std::vector<config::Diagnostic> problems;
  EXPECT_EQ(parse_rule_set(config::load_config(file), testing::fake_catalog(), problems), nullptr);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].to_string(), (dir.path() / "nowhere").string() +
                                         ": rules_dir does not exist; create it or fix rules_dir "
                                         "in " +
                                         file.string());
}

TEST(Loader, SyntaxErrorsInEveryFileAreReported) {
  EXPECT_THAT(
      problems_for({{"a.yaml", "rules:\n  - name: [x\n"},
                    {"b.yaml", "rules:\n- name: a\n  bad indent: 1\n   x: 2\n"}}),
      ElementsAre("a.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while "
                  "parsing a flow sequence that starts at line 2)",
                  "b.yaml:4:5: YAML syntax error: mapping values are not allowed in this context"));
}

TEST(Loader, UnknownKeysWithSuggestions) {
  EXPECT_THAT(
      problems_for(R"(rules:
  - name: a
    descripton: typo
    event-pattern: { source: [x] }
    targets: [{ id: t, type: email }]
    colour: blue
)"),
      ElementsAre(
          "rules.yaml:2:5: rule 'a' has no event_pattern; give the pattern events must match (or a "
          "schedule such as rate(5 minutes))",
          "rules.yaml:3:5: unknown key 'descripton' in a rule; did you mean 'description'?",
          "rules.yaml:4:5: unknown key 'event-pattern' in a rule; did you mean 'event_pattern'?",
          "rules.yaml:6:5: unknown key 'colour' in a rule; expected one of: name, description, "
          "bus, state, event_pattern, schedule, targets, dedup, max_invocations"));
  EXPECT_THAT(
      problems_for("rule:\n  - name: a\n"),
      ElementsAre("rules.yaml:1:1: unknown key 'rule' in a rule file; did you mean 'rules'?"));
}

TEST(Loader, BadPatternGivesTheCompilersReasonAtThePattern) {
  auto problems = problems_for(R"(rules:
  - name: a
    event_pattern:
      source: aws.guardduty
    targets: [{ id: t, type: email }]
  - name: b
    event_pattern: '{"source": ["x"'
    targets: [{ id: t, type: email }]
)");
  ASSERT_THAT(problems, SizeIs(2));
  EXPECT_THAT(problems[0], HasSubstr("rules.yaml:4:7: Event pattern is not valid. Reason: "));
  EXPECT_THAT(problems[1], HasSubstr("rules.yaml:7:20: Event pattern is not valid. Reason: "));
}

TEST(Loader, PatternValuesJsonCannotHold) {
  EXPECT_THAT(
      problems_for(R"(rules:
  - name: a
    event_pattern: { detail: { x: [.inf] } }
    targets: [{ id: t, type: email }]
  - name: b
    event_pattern: [aws.guardduty]
    targets: [{ id: t, type: email }]
  - name: c
    event_pattern:
    targets: [{ id: t, type: email }]
)"),
      ElementsAre(
          HasSubstr("rules.yaml:3:36: '.inf' (infinity or not-a-number) cannot be written in JSON"),
          "rules.yaml:6:20: event_pattern must be a mapping (or a JSON object in a string), not a "
          "list",
          HasSubstr("rules.yaml:9:5: event_pattern is empty")));
}

TEST(Loader, NamesAndStates) {
  EXPECT_THAT(problems_for(R"(rules:
  - name: has space
    state: enabled
    bus: my bus
    event_pattern: { source: [x] }
    targets: [{ id: t, type: email }]
  - description: no name
    event_pattern: { source: [x] }
    targets: [{ id: t, type: email }]
  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    event_pattern: { source: [x] }
    targets: [{ id: t, type: email }]
)"),
              ElementsAre("rules.yaml:2:11: rule name 'has space' is not valid: use 1 to 64 "
                          "letters, digits, '.', '-' or '_'",
                          "rules.yaml:3:12: state must be one of ENABLED, DISABLED, not 'enabled'; "
                          "did you mean 'ENABLED'?",
                          "rules.yaml:4:10: bus name 'my bus' is not valid: bus names are 1 to "
                          "256 of the characters . - _ / A-Z a-z 0-9",
                          HasSubstr("rules.yaml:7:5: rule has no name"),
                          HasSubstr("rules.yaml:10:11: rule name 'aaaaaaaaaa")));
}

TEST(Loader, DuplicateRuleNamesAcrossFiles) {
  EXPECT_THAT(problems_for({{"a.yaml", testing::one_rule("dup", "x")},
                            {"b.yaml", "\n" + testing::one_rule("dup", "y")}}),
              ElementsAre(HasSubstr("b.yaml:3:11: duplicate rule name 'dup' (first defined at ")));
  auto problems = problems_for(
      {{"a.yaml", testing::one_rule("dup", "x")}, {"b.yaml", testing::one_rule("dup", "y")}});
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0],
              HasSubstr("a.yaml:2:11); rule names must be unique across all rule files"));
}

TEST(Loader, TargetProblems) {
  EXPECT_THAT(
      problems_for(R"(rules:
  - name: six
    event_pattern: { source: [x] }
    targets:
      - { id: a, type: email }
      - { id: b, type: email }
      - { id: a, type: email }
      - { id: c, type: webhok }
      - { id: d, type: email, timeout: 30 }
      - { id: e, type: email }
  - name: none
    event_pattern: { source: [x] }
    targets: []
  - name: missing
    event_pattern: { source: [x] }
  - name: nameless-target
    event_pattern: { source: [x] }
    targets:
      - type: email
      - id: x
      - id: bad id
        type: email
      - just a string
)"),
      ElementsAre(
          "rules.yaml:7:15: duplicate target id 'a' in rule 'six' (first used at line 5); target "
          "ids must be unique within a rule",
          "rules.yaml:8:24: unknown target type 'webhok'; did you mean 'webhook'?",
          HasSubstr("rules.yaml:9:40: timeout: '30' has no unit"),
          "rules.yaml:10:9: rule 'six' has 6 targets; a rule can have at most 5 (split it into "
          "several rules with the same pattern)",
          "rules.yaml:13:14: rule 'none' has no targets; give 1 to 5 targets",
          "rules.yaml:14:5: rule 'missing' has no targets; give 1 to 5 targets",
          "rules.yaml:19:9: target has no id; give each target an id unique within its rule",
          "rules.yaml:20:9: target 'x' has no type; use webhook, runbook, queue_file or email",
          "rules.yaml:21:13: target id 'bad id' is not valid: use 1 to 64 letters, digits, '.', "
          "'-' or '_'",
          "rules.yaml:23:9: each target must be a mapping with at least id and type"));
}

TEST(Loader, RetryPolicyAndDeadLetterRanges) {
  EXPECT_THAT(
      problems_for(R"(rules:
  - name: r
    event_pattern: { source: [x] }
    targets:
      - id: a
        type: email
        retry_policy: { maximum_retry_attempts: 186, maximum_event_age_seconds: 59 }
      - id: b
        type: email
        retry_policy: { maximum_retry_attempt: 3 }
        dead_letter: { file: x }
      - id: c
        type: email
        retry_policy: { maximum_event_age_seconds: 86401 }
        dead_letter: { path: dlq/ }
)"),
      ElementsAre(
          "rules.yaml:7:49: retry_policy.maximum_retry_attempts is out of range: '186' is not a "
          "whole number from 0 to 185",
          "rules.yaml:7:81: retry_policy.maximum_event_age_seconds is out of range: '59' is not a "
          "whole number from 60 to 86400",
          "rules.yaml:10:25: unknown key 'maximum_retry_attempt' in retry_policy; did you mean "
          "'maximum_retry_attempts'?",
          HasSubstr("rules.yaml:11:22: dead_letter needs a path"),
          "rules.yaml:11:24: unknown key 'file' in dead_letter; expected one of: path",
          HasSubstr("rules.yaml:14:52: retry_policy.maximum_event_age_seconds is out of range"),
          "rules.yaml:15:30: dead_letter.path must name a file"));
}

TEST(Loader, UnsetEnvironmentVariableInATarget) {
  ::unsetenv("EVENTROUTER_TEST_UNSET_SECRET");
  EXPECT_THAT(
      problems_for(R"(rules:
  - name: r
    event_pattern: { source: [x] }
    targets:
      - id: a
        type: webhook
        headers: { Authorization: "${env:EVENTROUTER_TEST_UNSET_SECRET}" }
        timeout: ${env:EVENTROUTER_TEST_UNSET_SECRET}
)"),
      ElementsAre(
          "rules.yaml:7:35: environment variable EVENTROUTER_TEST_UNSET_SECRET is not set "
          "(referenced as ${env:EVENTROUTER_TEST_UNSET_SECRET}); set it or replace the reference",
          "rules.yaml:8:18: environment variable EVENTROUTER_TEST_UNSET_SECRET is not set "
          "(referenced as ${env:EVENTROUTER_TEST_UNSET_SECRET}); set it or replace the reference"));
}

TEST(Loader, FileShapeProblems) {
  EXPECT_THAT(
      problems_for({{"a.yaml", "- name: x\n"},
                    {"b.yaml", "rules: {name: x}\n"},
                    {"c.yaml", "rules:\n  - just a string\n"},
                    {"d.yaml", "a: 1\n---\nb: 2\n"}}),
      ElementsAre(HasSubstr("a.yaml:1:1: a rule file must be a mapping with the key 'rules'"),
                  "b.yaml:1:8: 'rules' must be a list of rules (- name: ...)",
                  HasSubstr("c.yaml:2:5: each item of 'rules' must be a mapping"),
                  HasSubstr("d.yaml:3:1: the file holds more than one YAML document")));
}

TEST(Loader, ConfigErrorCarriesEveryProblem) {
  testing::RulesDir dir;
  dir.rule_file("a.yaml", "rules:\n  - name: a\n");
  try {
    load_rule_set(dir.config(), testing::fake_catalog());
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.diagnostics(), SizeIs(2));
  }
}

TEST(Loader, ListRuleFilesSortsAndFilters) {
  testing::RulesDir dir;
  dir.rule_file("b.yml", "");
  dir.rule_file("a.yaml", "");
  dir.rule_file("c.yaml.swp", "");
  dir.rule_file("a.yaml~", "");
  dir.rule_file(".#a.yaml", "");
  fs::create_directories(dir.rules_dir() / "sub.yaml");
  fs::create_symlink(dir.rules_dir() / "a.yaml", dir.rules_dir() / "link.yaml");
  EXPECT_THAT(list_rule_files(dir.rules_dir()),
              ElementsAre(dir.rules_dir() / "a.yaml", dir.rules_dir() / "b.yml",
                          dir.rules_dir() / "link.yaml"));
}

}  // namespace
}  // namespace eventrouter::rules

namespace eventrouter::rules {
namespace {

TEST(Loader, DisabledRulesAreCheckedToo) {
  EXPECT_THAT(problems_for(R"(rules:
  - name: off
    state: DISABLED
    event_pattern: { detail: { severity: [{ numeric: [">", "x"] }] } }
    targets: [{ id: t, type: emial }]
)"),
              ElementsAre(HasSubstr("rules.yaml:4:20: Event pattern is not valid. Reason: "),
                          "rules.yaml:5:30: unknown target type 'emial'; did you mean 'email'?"));
}

TEST(Loader, NameRules) {
  EXPECT_TRUE(valid_rule_name("a"));
  EXPECT_TRUE(valid_rule_name("Guard.Duty-all_findings.v2"));
  EXPECT_TRUE(valid_rule_name(std::string(64, 'x')));
  EXPECT_FALSE(valid_rule_name(std::string(65, 'x')));
  EXPECT_FALSE(valid_rule_name(""));
  EXPECT_FALSE(valid_rule_name("a/b"));
  EXPECT_FALSE(valid_rule_name("a:b"));
  EXPECT_FALSE(valid_rule_name("ü"));
  EXPECT_TRUE(is_valid_bus_name(std::string(256, 'b')));
  EXPECT_FALSE(is_valid_bus_name(std::string(257, 'b')));
  EXPECT_TRUE(is_valid_bus_name("aws.partner/example.com/123/findings"));
}

}  // namespace
}  // namespace eventrouter::rules
