// The shipped config/rules.d: it loads, and each rule fires for the realistic finding it is
// for (tests/fixtures/events) and for nothing else.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "eventrouter/config/config.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/loader.hpp"
#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const fs::path kSource = EVENTROUTER_SOURCE_DIR;

std::string fixture(const std::string& name) {
  std::ifstream in(kSource / "tests/fixtures/events" / name);
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with the first `from` replaced by `to` (which must be there).
std::string edited(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class ShippedRules : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = config::load_config(kSource / "config" / "eventrouter.yaml");
    rules_ = load_rule_set(config_, testing::fake_catalog());
  }
  std::vector<std::string> fired(const std::string& event) const {
    std::vector<const Rule*> out;
    rules_->match("default", event, out);
    std::vector<std::string> names;
    for (const Rule* r : out) names.push_back(r->name);
    return names;
  }

  config::Config config_;
  std::shared_ptr<const RuleSet> rules_;
};

TEST_F(ShippedRules, LoadAllRules) {
  std::vector<std::string> names;
  for (const auto& rule : rules_->rules()) names.push_back(rule.name);
  EXPECT_THAT(names,
              ElementsAre("access-analyzer-public-resource",
                          "access-analyzer-public-resource-notify", "config-noncompliant",
                          "config-restricted-ssh-remediate", "console-login-without-mfa",
                          "guardduty-all-findings", "guardduty-credential-exfiltration",
                          "guardduty-credential-exfiltration-notify", "integration-slack",
                          "integration-pagerduty", "integration-opsgenie", "integration-teams",
                          "integration-jira", "macie-sensitive-data", "macie-sensitive-data-notify",
                          "securityhub-failed-new", "securityhub-failed-new-ticket"));
  for (const auto& rule : rules_->rules()) {
    EXPECT_FALSE(rule.description.empty()) << rule.name;
    EXPECT_EQ(rule.bus, "default") << rule.name;
  }
}

TEST_F(ShippedRules, EachFixtureFiresItsRulesOnly) {
  EXPECT_THAT(fired(fixture("guardduty-credential-exfiltration.json")),
              ElementsAre("guardduty-all-findings", "guardduty-credential-exfiltration"));
  EXPECT_THAT(fired(fixture("guardduty-port-probe-low.json")),
              ElementsAre("guardduty-all-findings"));
  EXPECT_THAT(fired(fixture("securityhub-failed-new.json")), ElementsAre("securityhub-failed-new"));
  EXPECT_THAT(fired(fixture("macie-sensitive-data.json")), ElementsAre("macie-sensitive-data"));
  EXPECT_THAT(fired(fixture("access-analyzer-public-bucket.json")),
              ElementsAre("access-analyzer-public-resource"));
  EXPECT_THAT(fired(fixture("config-noncompliant.json")),
              ElementsAre("config-noncompliant", "config-restricted-ssh-remediate"));
  // Its rule is shipped DISABLED.
  EXPECT_THAT(fired(fixture("cloudtrail-console-login-no-mfa.json")), IsEmpty());
}

TEST_F(ShippedRules, NearMissesDoNotFire) {
  const std::string exfiltration = fixture("guardduty-credential-exfiltration.json");
  EXPECT_THAT(fired(edited(exfiltration, R"("severity": 8)", R"("severity": 6.9)")),
              ElementsAre("guardduty-all-findings"));
  EXPECT_THAT(fired(edited(exfiltration, R"("severity": 8)", R"("severity": 7)")),
              ElementsAre("guardduty-all-findings", "guardduty-credential-exfiltration"));
  EXPECT_THAT(fired(edited(exfiltration, "OutsideAWS", "InsideAWS")),
              ElementsAre("guardduty-all-findings"));
  EXPECT_THAT(
      fired(edited(fixture("securityhub-failed-new.json"), R"("Workflow": { "Status": "NEW" })",
                   R"("Workflow": { "Status": "NOTIFIED" })")),
      IsEmpty());
  EXPECT_THAT(fired(edited(fixture("securityhub-failed-new.json"), R"("Status": "FAILED")",
                           R"("Status": "PASSED")")),
              IsEmpty());
  EXPECT_THAT(fired(edited(fixture("macie-sensitive-data.json"), "SensitiveData:S3Object/Personal",
                           "Policy:IAMUser/S3BucketPublic")),
              IsEmpty());
  EXPECT_THAT(fired(edited(fixture("access-analyzer-public-bucket.json"), R"("isPublic": true)",
                           R"("isPublic": false)")),
              IsEmpty());
  EXPECT_THAT(fired(edited(fixture("access-analyzer-public-bucket.json"), R"("status": "ACTIVE")",
                           R"("status": "ARCHIVED")")),
              IsEmpty());
  EXPECT_THAT(
      fired(edited(fixture("config-noncompliant.json"), R"("complianceType": "NON_COMPLIANT")",
                   R"("complianceType": "COMPLIANT")")),
      IsEmpty());
  // Another Config rule, or another resource type: recorded, but not for the SSH runbook.
  const std::string config_event = fixture("config-noncompliant.json");
  EXPECT_THAT(fired(edited(config_event, R"("configRuleName": "restricted-ssh",)",
                           R"("configRuleName": "s3-bucket-public-read-prohibited",)")),
              ElementsAre("config-noncompliant"));
  EXPECT_THAT(fired(edited(config_event, "\"resourceType\": \"AWS::EC2::SecurityGroup\"\n  }",
                           "\"resourceType\": \"AWS::S3::Bucket\"\n  }")),
              ElementsAre("config-noncompliant"));
  EXPECT_THAT(fired(edited(config_event, R"("restricted-ssh",)",
                           R"("restricted-ssh-conformance-pack-x1",)")),
              ElementsAre("config-noncompliant", "config-restricted-ssh-remediate"));
}

TEST_F(ShippedRules, DisabledExampleWouldMatchItsFixture) {
  const Rule* rule = rules_->find("console-login-without-mfa");
  ASSERT_NE(rule, nullptr);
  EXPECT_FALSE(rule->enabled);
  auto result = pattern::matches(*rule->pattern, fixture("cloudtrail-console-login-no-mfa.json"));
  ASSERT_TRUE(result) << result.error();
  EXPECT_TRUE(*result);
}

// On a fresh machine every enabled sample delivers: nothing enabled needs a webhook or a mail
// relay that is not there. Those targets wait in DISABLED rules that match the same findings.
TEST_F(ShippedRules, EnabledRulesNeedNothingTheMachineLacks) {
  for (const auto& rule : rules_->rules()) {
    for (const auto& target : rule.targets) {
      if (!rule.enabled) continue;
      EXPECT_TRUE(target.type == "queue_file" || target.type == "runbook")
          << rule.name << "/" << target.id << " is a " << target.type
          << ": it would retry until the user points it somewhere real";
    }
  }
  const std::pair<const char*, const char*> notify[] = {
      {"guardduty-credential-exfiltration-notify", "guardduty-credential-exfiltration.json"},
      {"access-analyzer-public-resource-notify", "access-analyzer-public-bucket.json"},
      {"macie-sensitive-data-notify", "macie-sensitive-data.json"},
      {"securityhub-failed-new-ticket", "securityhub-failed-new.json"}};
  for (const auto& [name, event] : notify) {
    const Rule* rule = rules_->find(name);
    ASSERT_NE(rule, nullptr) << name;
    EXPECT_FALSE(rule->enabled) << name;
    auto result = pattern::matches(*rule->pattern, fixture(event));
    ASSERT_TRUE(result) << result.error();
    EXPECT_TRUE(*result) << name << " would not match " << event;
  }
}

TEST_F(ShippedRules, RelativePathsWorkFromTheCheckout) {
  const Rule* exfiltration = rules_->find("guardduty-credential-exfiltration");
  ASSERT_NE(exfiltration, nullptr);
  const auto& contain = exfiltration->targets[0];
  EXPECT_EQ(contain.node["command"][0].scalar(),
            (kSource / "config/runbooks/credential-exfiltration/deny-role.sh").string());
  ASSERT_TRUE(contain.dead_letter.has_value());
  EXPECT_EQ(contain.dead_letter->path,
            kSource / ".state/dlq/credential-exfiltration-contain.jsonl");
  // The shipped runbooks change nothing in AWS until the user removes DRY_RUN.
  for (const auto& rule : rules_->rules()) {
    for (const auto& target : rule.targets) {
      if (target.type == "runbook") {
        EXPECT_EQ(target.node["env"]["DRY_RUN"].scalar(), "1") << rule.name << "/" << target.id;
      }
    }
  }
  const Rule* all = rules_->find("guardduty-all-findings");
  EXPECT_EQ(all->targets[0].node["path"].scalar(),
            (kSource / ".state/queues/guardduty-findings.jsonl").string());
}

// With the targets module's own checker (what `eventrouter validate` uses): every target key
// of the shipped rules is right, and the runbook scripts of config/runbooks/ are in place.
TEST_F(ShippedRules, PassTheRealTargetChecker) {
  std::vector<config::Diagnostic> problems;
  auto rules = parse_rule_set(config_, targets::catalog(), problems);
  for (const auto& d : problems) ADD_FAILURE() << d.to_string();
  EXPECT_NE(rules, nullptr);
}

}  // namespace
}  // namespace eventrouter::rules
