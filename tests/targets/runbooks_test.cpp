// The example runbooks in config/runbooks/, run as eventrouter runs them (run_process, minimal
// environment) against a fake `aws` that records its calls.

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventrouter/targets/process.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

const std::filesystem::path runbooks_dir =
    std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "config/runbooks";
const std::filesystem::path fixtures_dir =
    std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "tests/fixtures/events";

class RunbooksTest : public ::testing::Test {
 protected:
  ProcessResult run(const std::string& script, const std::string& input,
                    std::vector<std::string> env = {}) {
    ProcessRequest request;
    request.argv = {(runbooks_dir / script).string()};
    request.environment = {"PATH=" + (testing::peers_dir / "fake-aws").string() + ":/usr/bin:/bin",
                           "FAKE_AWS_LOG=" + log_.string()};
    request.environment.insert(request.environment.end(), env.begin(), env.end());
    request.input = input;
    request.timeout = std::chrono::seconds(20);
    return run_process(request);
  }

  // Each recorded call, its arguments joined by spaces.
  std::vector<std::vector<std::string>> calls() {
    std::vector<std::vector<std::string>> out;
    simdjson::dom::parser parser;
    for (const auto& line : testing::read_lines(log_)) {
      simdjson::dom::array args;
      if (parser.parse(line).get_array().get(args)) continue;
      std::vector<std::string> call;
      for (auto arg : args) call.emplace_back(arg.get_string().value());
      out.push_back(std::move(call));
    }
    return out;
  }

  static std::string argument_after(const std::vector<std::string>& call, const std::string& flag) {
    for (std::size_t i = 0; i + 1 < call.size(); ++i) {
      if (call[i] == flag) return call[i + 1];
    }
    return "";
  }

  const std::string guardduty_ =
      testing::read_file(fixtures_dir / "guardduty-credential-exfiltration.json");
  testing::TempDir dir_;
  std::filesystem::path log_ = dir_ / "aws-calls.jsonl";
};

const std::string finding_arn =
    "arn:aws:guardduty:us-east-1:123456789012:detector/123456789012abcd/finding/"
    "16afba5c5c43e07c9e3e5e2e544e95df";
const std::string identifiers =
    R"([{"Id":")" + finding_arn +
    R"(","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}])";

TEST_F(RunbooksTest, EnrichPrintsTheRoleInstanceEnvironmentAndOwner) {
  const ProcessResult result = run("credential-exfiltration/enrich.sh", guardduty_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            R"({"finding":"16afba5c5c43e07c9e3e5e2e544e95df","type":"UnauthorizedAccess:IAMUser/)"
            R"(InstanceCredentialExfiltration.OutsideAWS","role":"web-tier-instance-role",)"
            R"("instance":"i-0b1c2d3e4f5a6b7c8","environment":"production",)"
            R"("owner":"payments-team","remote_ip":"198.51.100.23"})"
            "\n");
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0][0], "ec2");
  EXPECT_EQ(recorded[0][1], "describe-instances");
  EXPECT_EQ(argument_after(recorded[0], "--instance-ids"), "i-0b1c2d3e4f5a6b7c8");
  EXPECT_EQ(argument_after(recorded[0], "--region"), "us-east-1");
}

TEST_F(RunbooksTest, AnnotateWritesTheContextBackToSecurityHub) {
  const ProcessResult result = run("credential-exfiltration/annotate-finding.sh", guardduty_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 2u);
  const auto& update = recorded[1];
  EXPECT_EQ(update[0], "securityhub");
  EXPECT_EQ(update[1], "batch-update-findings");
  EXPECT_EQ(argument_after(update, "--finding-identifiers"), identifiers);
  EXPECT_EQ(argument_after(update, "--user-defined-fields"),
            R"({"RoleName":"web-tier-instance-role","InstanceId":"i-0b1c2d3e4f5a6b7c8",)"
            R"("Environment":"production","Owner":"payments-team"})");
  EXPECT_NE(argument_after(update, "--note").find("owner payments-team"), std::string::npos);
}

TEST_F(RunbooksTest, NotifyPublishesThenSetsWorkflowNotified) {
  const ProcessResult result = run("credential-exfiltration/notify.sh", guardduty_,
                                   {"NOTIFY_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:sec"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[1][1], "publish");
  EXPECT_EQ(argument_after(recorded[1], "--topic-arn"), "arn:aws:sns:us-east-1:123456789012:sec");
  EXPECT_NE(argument_after(recorded[1], "--message").find("payments-team"), std::string::npos);
  EXPECT_EQ(recorded[2][1], "batch-update-findings");
  EXPECT_EQ(argument_after(recorded[2], "--workflow"), "Status=NOTIFIED");
  EXPECT_EQ(argument_after(recorded[2], "--finding-identifiers"), identifiers);

  // Without a topic the runbook cannot work: exit 2 (a permanent failure).
  EXPECT_EQ(run("credential-exfiltration/notify.sh", guardduty_).exit_code, 2);
}

TEST_F(RunbooksTest, DenyRoleAttachesADenyAllInlinePolicy) {
  const ProcessResult result = run("credential-exfiltration/deny-role.sh", guardduty_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0][0], "iam");
  EXPECT_EQ(recorded[0][1], "put-role-policy");
  EXPECT_EQ(argument_after(recorded[0], "--role-name"), "web-tier-instance-role");
  EXPECT_EQ(argument_after(recorded[0], "--policy-name"), "eventrouter-deny-all");
  const std::string policy = argument_after(recorded[0], "--policy-document");
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  ASSERT_EQ(parser.parse(policy).get(document), simdjson::SUCCESS);
  simdjson::dom::element statement = document["Statement"].at(0).value();
  EXPECT_EQ(statement["Effect"].get_string().value(), "Deny");
  EXPECT_EQ(statement["Action"].get_string().value(), "*");
  EXPECT_EQ(statement["Resource"].get_string().value(), "*");
}

TEST_F(RunbooksTest, MarkNotifiedSetsTheWorkflowStatus) {
  const ProcessResult result = run("credential-exfiltration/mark-notified.sh", guardduty_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(calls().size(), 1u);
  EXPECT_EQ(argument_after(calls()[0], "--workflow"), "Status=NOTIFIED");
}

TEST_F(RunbooksTest, DryRunChangesNothing) {
  for (const std::string script :
       {"credential-exfiltration/annotate-finding.sh", "credential-exfiltration/notify.sh",
        "credential-exfiltration/deny-role.sh", "credential-exfiltration/mark-notified.sh"}) {
    std::filesystem::remove(log_);
    const ProcessResult result =
        run(script, guardduty_, {"DRY_RUN=1", "NOTIFY_TOPIC_ARN=arn:aws:sns:us-east-1:1:t"});
    EXPECT_EQ(result.exit_code, 0) << script << ": " << result.err;
    EXPECT_NE(result.err.find("DRY_RUN: aws"), std::string::npos) << script;
    for (const auto& call : calls()) {
      EXPECT_EQ(call[1], "describe-instances") << script << " made a change in a dry run";
    }
  }
}

TEST_F(RunbooksTest, FailuresExitNonZero) {
  ProcessResult result =
      run("credential-exfiltration/deny-role.sh", guardduty_, {"FAKE_AWS_FAIL=put-role-policy"});
  EXPECT_EQ(result.status, ProcessResult::Status::kExited);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.exit_code, 2) << "an AWS failure is worth retrying";
  EXPECT_NE(result.err.find("AccessDenied"), std::string::npos);

  result = run("credential-exfiltration/mark-notified.sh", guardduty_, {"FAKE_AWS_UNPROCESSED=1"});
  EXPECT_EQ(result.exit_code, 1) << "an unprocessed finding is a failure";

  // Enrichment is best effort: without tags the context says "unknown".
  result =
      run("credential-exfiltration/enrich.sh", guardduty_, {"FAKE_AWS_FAIL=describe-instances"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"environment\":\"unknown\""), std::string::npos);

  for (const std::string script :
       {"credential-exfiltration/enrich.sh", "credential-exfiltration/annotate-finding.sh",
        "credential-exfiltration/deny-role.sh", "credential-exfiltration/mark-notified.sh",
        "config-noncompliant/revoke-open-ssh.sh"}) {
    EXPECT_EQ(run(script, "{\"detail\": {}}").exit_code, 2) << script;
    EXPECT_EQ(run(script, "not json").exit_code, 2) << script;
  }
}

TEST_F(RunbooksTest, SecurityHubImportedFindingsWorkToo) {
  // The same GuardDuty finding as Security Hub forwards it.
  const std::string event = R"({"region": "eu-west-1", "detail": {"findings": [{
    "Id": "arn:aws:guardduty:eu-west-1:1:detector/d/finding/f", "Region": "eu-west-1",
    "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty",
    "Resources": [{"Type": "AwsIamAccessKey", "Details": {"AwsIamAccessKey": {
      "PrincipalName": "batch-role"}}}]}]}})";
  ASSERT_EQ(run("credential-exfiltration/deny-role.sh", event).exit_code, 0);
  ASSERT_EQ(run("credential-exfiltration/mark-notified.sh", event).exit_code, 0);
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(argument_after(recorded[0], "--role-name"), "batch-role");
  EXPECT_EQ(argument_after(recorded[1], "--finding-identifiers"),
            R"([{"Id":"arn:aws:guardduty:eu-west-1:1:detector/d/finding/f",)"
            R"("ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/guardduty"}])");
}

TEST_F(RunbooksTest, RevokeOpenSshForConfigNonCompliant) {
  const std::string event = testing::read_file(fixtures_dir / "config-noncompliant.json");
  const ProcessResult result = run("config-noncompliant/revoke-open-ssh.sh", event);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto recorded = calls();
  ASSERT_EQ(recorded.size(), 2u);
  for (const auto& call : recorded) {
    EXPECT_EQ(call[1], "revoke-security-group-ingress");
    EXPECT_EQ(argument_after(call, "--group-id"), "sg-0a1b2c3d");
  }
  EXPECT_NE(argument_after(recorded[0], "--ip-permissions").find("0.0.0.0/0"), std::string::npos);
  EXPECT_NE(argument_after(recorded[1], "--ip-permissions").find("::/0"), std::string::npos);

  std::filesystem::remove(log_);
  EXPECT_EQ(run("config-noncompliant/revoke-open-ssh.sh", event, {"DRY_RUN=1"}).exit_code, 0);
  EXPECT_TRUE(calls().empty());
  EXPECT_EQ(run("config-noncompliant/revoke-open-ssh.sh", event,
                {"FAKE_AWS_FAIL=revoke-security-group-ingress"})
                .exit_code,
            1);
}

}  // namespace
}  // namespace eventrouter::targets
