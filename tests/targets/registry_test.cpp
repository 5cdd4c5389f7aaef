// check_target: every adapter's keys, with positions, suggestions and no secrets in messages.

#include "eventrouter/targets/registry.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

std::vector<config::Diagnostic> check(const std::string& yaml) {
  std::vector<config::Diagnostic> problems;
  check_target(testing::spec_from_yaml(yaml), problems);
  return problems;
}

std::string messages(const std::vector<config::Diagnostic>& problems) {
  std::string all;
  for (const auto& problem : problems) {
    all += std::to_string(problem.line) + ":" + std::to_string(problem.column) + ": " +
           problem.message + "\n";
  }
  return all;
}

void expect_problem(const std::string& yaml, const std::string& fragment) {
  const auto problems = check(yaml);
  EXPECT_NE(messages(problems).find(fragment), std::string::npos) << "for " << yaml << "\ngot:\n"
                                                                  << messages(problems);
}

TEST(Registry, KnowsTheFiveTypes) {
  EXPECT_EQ(target_types(),
            (std::vector<std::string>{"webhook", "runbook", "queue_file", "email", "nats"}));
}

TEST(Registry, TheRulesLoadersCatalogComesFromTheRegistry) {
  const TargetCatalog& types = catalog();
  EXPECT_EQ(types.type_names(), "webhook, runbook, queue_file, email or nats");
  // Relative runbook programs and folders are read against the rule file's folder, queue files
  // against state_dir (docs/rules.md); webhooks and e-mail have no path keys.
  const TargetTypeInfo* runbook = types.find("runbook");
  ASSERT_NE(runbook, nullptr);
  ASSERT_EQ(runbook->path_keys.size(), 2u);
  EXPECT_EQ(runbook->path_keys[0].key, "command");
  EXPECT_TRUE(runbook->path_keys[0].first_item_only);
  EXPECT_EQ(runbook->path_keys[0].relative_to, PathKey::Base::kRuleFileFolder);
  EXPECT_EQ(runbook->path_keys[1].key, "working_dir");
  EXPECT_EQ(runbook->path_keys[1].relative_to, PathKey::Base::kRuleFileFolder);
  const TargetTypeInfo* queue_file = types.find("queue_file");
  ASSERT_NE(queue_file, nullptr);
  ASSERT_EQ(queue_file->path_keys.size(), 1u);
  EXPECT_EQ(queue_file->path_keys[0].key, "path");
  EXPECT_EQ(queue_file->path_keys[0].relative_to, PathKey::Base::kStateDir);
  EXPECT_TRUE(types.find("webhook")->path_keys.empty());
  EXPECT_TRUE(types.find("email")->path_keys.empty());
  // A nats target's credentials file ships next to the rules, like a runbook.
  const TargetTypeInfo* nats = types.find("nats");
  ASSERT_NE(nats, nullptr);
  ASSERT_EQ(nats->path_keys.size(), 1u);
  EXPECT_EQ(nats->path_keys[0].key, "creds_file");
  EXPECT_EQ(nats->path_keys[0].relative_to, PathKey::Base::kRuleFileFolder);
  // The catalog checks like check_target.
  std::vector<config::Diagnostic> problems;
  types.check(testing::spec_from_yaml("id: t\ntype: pager\n"), problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message,
            "unknown target type 'pager' (expected webhook, runbook, queue_file, email or nats)");
}

TEST(Registry, EveryPathKeyIsOneOfItsTypesKeys) {
  for (const TargetType* type : registered_types()) {
    for (const auto& path_key : type->path_keys) {
      EXPECT_NE(std::find(type->keys.begin(), type->keys.end(), path_key.key), type->keys.end())
          << type->name << "." << path_key.key;
    }
  }
}

TEST(Registry, UnknownTypeSuggestsTheClosest) {
  const auto problems = check("id: t\ntype: webhok\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(
      problems[0].message,
      "unknown target type 'webhok' (expected webhook, runbook, queue_file, email or nats); did "
      "you mean 'webhook'?");
  EXPECT_EQ(problems[0].line, 2);
  EXPECT_EQ(problems[0].column, 7);
  EXPECT_EQ(problems[0].file, "rules.d/test.yaml");
}

TEST(Registry, ValidTargetsHaveNoProblems) {
  for (const char* yaml :
       {"{id: a, type: webhook, url: 'https://hooks.example.com/x?y=1', method: PATCH, "
        "timeout: 2s, rate_limit_per_second: 0.5, max_concurrency: 4, hmac_secret: s, headers: "
        "{X-A: b}, retry_policy: "
        "{maximum_retry_attempts: 3}, dead_letter: {path: /tmp/x}}",
        "{id: b, type: runbook, command: [/bin/true], timeout: 1m, env: {A_1: x}, working_dir: "
        "/tmp, max_concurrency: 2, permanent_exit_codes: [2, 3], output_limit: 4KiB}",
        "{id: c, type: queue_file, path: /tmp/q.jsonl, fsync: never, rotation: {max_size: "
        "10MiB, max_files: 3}, input_path: $.detail}",
        "{id: d, type: email, smtp: {host: mail.example.com, port: 587, starttls: required, "
        "username: u, password: p}, from: a@example.com, to: [b@example.com], subject: "
        "'Finding <aws.events.rule-name>'}",
        "{id: e, type: nats, servers: ['nats://127.0.0.1:4222', 'tls://nats.example:4443'], "
        "subject: security.findings.guardduty, jetstream: true, publish_timeout: 2s, headers: "
        "{X-Team: secops, X-Rule: '<aws.events.rule-name>'}, token: t, max_concurrency: 512, "
        "connect_timeout: 1s}"}) {
    EXPECT_EQ(messages(check(yaml)), "") << yaml;
  }
}

TEST(Registry, UnknownKeysAreReportedWithSuggestions) {
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', timout: 3s}",
                 "unknown key 'timout' in webhook target 'a'; did you mean 'timeout'?");
  expect_problem("{id: a, type: queue_file, path: /tmp/q, rotation: {max_sise: 1MiB}}",
                 "unknown key 'rotation.max_sise' in queue_file target 'a'; did you mean "
                 "'rotation.max_size'?");
  expect_problem(
      "{id: a, type: email, smtp: {host: h.example, prot: 25}, from: a@b.example, "
      "to: [c@d.example]}",
      "unknown key 'smtp.prot'");
}

TEST(Registry, WebhookChecks) {
  expect_problem("{id: a, type: webhook}", "webhook target 'a': url is required");
  expect_problem("{id: a, type: webhook, url: 'ftp://x'}", "url must start with http://");
  expect_problem("{id: a, type: webhook, url: 'https://user:pw@x.example/'}",
                 "must not contain user information");
  expect_problem(
      "{id: a, type: webhook, url: 'http://x.example/', method: POTS}",
      "method must be one of POST, PUT, PATCH, DELETE, GET, not 'POTS'; did you mean 'POST'?");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', timeout: 5 s}",
                 "timeout: '5 s' is not a duration: unknown unit ' s'; use a whole number and a "
                 "unit (ms, s, m, h or d)");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', timeout: [5s]}",
                 "timeout must be a duration such as 30s, not a list");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', rate_limit_per_second: 0}",
                 "rate_limit_per_second must be a number");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', max_concurrency: 0}",
                 "max_concurrency must be a whole number from 1 to 256");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', max_concurrency: 257}",
                 "max_concurrency must be a whole number from 1 to 256");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', headers: {Host: x}}",
                 "set by eventrouter");
  expect_problem("{id: a, type: webhook, url: 'http://x.example/', tls: {ca_file: /nonexistent}}",
                 "tls options need an https:// url");
  expect_problem("{id: a, type: webhook, url: 'https://x.example/', tls: {ca_file: /nonexistent}}",
                 "tls.ca_file /nonexistent cannot be read");
}

TEST(Registry, SecretsNeverAppearInMessages) {
  const auto problems = check(
      "{id: a, type: webhook, url: 'http://x.example/?token=TOPSECRET1', hmac_secret: "
      "TOPSECRET2, headers: {Authorization: \"Bearer TOPSECRET3\\r\\nX: y\"}, bogus: 1}");
  const std::string all = messages(problems);
  EXPECT_NE(all.find("line break"), std::string::npos) << all;
  EXPECT_EQ(all.find("TOPSECRET"), std::string::npos) << all;
  const auto email =
      messages(check("{id: m, type: email, smtp: {host: h.example, username: u, "
                     "password: TOPSECRET4}, from: a@b.example, to: [c@d.example]}"));
  EXPECT_NE(email.find("needs TLS"), std::string::npos) << email;
  EXPECT_EQ(email.find("TOPSECRET"), std::string::npos) << email;
}

TEST(Registry, RunbookChecks) {
  expect_problem("{id: r, type: runbook}", "command is required");
  expect_problem("{id: r, type: runbook, command: deny-role.sh}", "command must be a list");
  expect_problem("{id: r, type: runbook, command: [deny-role.sh]}",
                 "command[0] must be an absolute path");
  expect_problem("{id: r, type: runbook, command: [/nonexistent/x.sh]}",
                 "/nonexistent/x.sh does not exist");
  testing::TempDir dir;
  testing::write_file(dir / "plain.txt", "not a program");
  std::filesystem::permissions(dir / "plain.txt", std::filesystem::perms::owner_read);
  expect_problem("{id: r, type: runbook, command: [" + (dir / "plain.txt").string() + "]}",
                 "is not executable");
  expect_problem("{id: r, type: runbook, command: [/bin/true], env: {EVENTROUTER_RULE: x}}",
                 "is reserved");
  expect_problem("{id: r, type: runbook, command: [/bin/true], working_dir: relative}",
                 "working_dir must be an absolute path");
  expect_problem("{id: r, type: runbook, command: [/bin/true], permanent_exit_codes: [0]}",
                 "exit codes from 1 to 255");
  expect_problem("{id: r, type: runbook, command: [/bin/true], max_concurrency: 0}",
                 "max_concurrency must be a whole number from 1 to 256");
}

TEST(Registry, QueueFileAndEmailChecks) {
  expect_problem("{id: q, type: queue_file, path: relative.jsonl}", "path must be absolute");
  expect_problem("{id: q, type: queue_file, path: /tmp/q, fsync: sometimes}",
                 "fsync must be one of always, batch, never, not 'sometimes'");
  expect_problem("{id: q, type: queue_file, path: /tmp/q, rotation: {max_size: 1 parsec}}",
                 "rotation.max_size must be a size");
  expect_problem("{id: m, type: email, from: a@b.example, to: [c@d.example]}", "smtp is required");
  expect_problem("{id: m, type: email, smtp: {host: h.example}, from: nobody, to: [c@d.example]}",
                 "from must be an address");
  expect_problem(
      "{id: m, type: email, smtp: {host: h.example}, from: a@b.example, to: c@d.example}",
      "to must be a list");
  expect_problem(
      "{id: m, type: email, smtp: {host: h.example, tls: true, starttls: required}, "
      "from: a@b.example, to: [c@d.example]}",
      "does not apply with smtp.tls: true");
  expect_problem(
      "{id: m, type: email, smtp: {host: h.example}, from: a@b.example, to: "
      "[c@d.example], subject: 'About <nope>'}",
      "subject: input_template uses <nope>");
}

TEST(Registry, NatsChecks) {
  const std::string servers = "servers: ['nats://127.0.0.1:4222']";
  expect_problem("{id: n, type: nats, " + servers + "}", "nats target 'n': subject is required");
  expect_problem("{id: n, type: nats, subject: a.b}", "nats target 'n': servers is required");
  expect_problem("{id: n, type: nats, " + servers + ", subject: 'security.>'}",
                 "nats target 'n': subject must name one subject, without the wildcards '*' "
                 "and '>'");
  expect_problem("{id: n, type: nats, " + servers + ", subject: 'security.*.guardduty'}",
                 "without the wildcards");
  expect_problem("{id: n, type: nats, " + servers + ", subject: 'security findings'}",
                 "subject must not contain spaces or control characters");
  expect_problem("{id: n, type: nats, " + servers + ", subject: 'security..findings'}",
                 "subject has an empty token");
  expect_problem("{id: n, type: nats, servers: ['http://127.0.0.1:4222'], subject: a.b}",
                 "servers has an entry that is not nats://HOST:PORT, tls://HOST:PORT or HOST:PORT");
  expect_problem("{id: n, type: nats, " + servers + ", subjet: a.b}",
                 "unknown key 'subjet' in nats target 'n'; did you mean 'subject'?");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, jetstream: maybe}",
                 "jetstream must be");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, publish_timeout: 2m}",
                 "publish_timeout");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, max_concurrency: 1025}",
                 "max_concurrency must be a whole number from 1 to 1024");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, headers: {Nats-Msg-Id: x}}",
                 "Nats- headers are read by the NATS server");
  expect_problem(
      "{id: n, type: nats, " + servers + ", subject: a.b, headers: {Eventrouter-Rule: x}}",
      "header 'Eventrouter-Rule' is set by eventrouter");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, headers: {'X A': x}}",
                 "header name 'X A' must be printable ASCII");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, headers: {X-A: '<nope>'}}",
                 "header 'X-A': input_template uses <nope>");
  expect_problem("{id: n, type: nats, " + servers + ", subject: a.b, creds_file: /nonexistent}",
                 "creds_file: /nonexistent does not exist");
  // The connection's secrets and header values are never quoted.
  const auto secret = messages(check(
      "{id: n, type: nats, servers: ['nats://127.0.0.1:4222'], subject: a.b, token: TOPSECRET1, "
      "user: u, password: TOPSECRET2, headers: {Authorization: \"TOPSECRET3\\nX: y\"}}"));
  EXPECT_NE(secret.find("give one way to authenticate"), std::string::npos) << secret;
  EXPECT_NE(secret.find("line break"), std::string::npos) << secret;
  EXPECT_EQ(secret.find("TOPSECRET"), std::string::npos) << secret;
}

TEST(Registry, ShapingProblemsAreReportedWithTheTarget) {
  const auto problems = check(
      "id: s\ntype: queue_file\npath: /tmp/q\ninput_transformer:\n  input_template: '<missing>'\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message,
            "queue_file target 's': input_template uses <missing>, which input_paths_map does not "
            "define");
  EXPECT_EQ(problems[0].line, 5);
}

TEST(Registry, MakeTargetRefusesAnUncheckedSpec) {
  boost::asio::io_context io;
  TargetContext context{io, testing::unread_metrics()};
  EXPECT_THROW(make_target(testing::spec_from_yaml("{id: x, type: webhook}"), context),
               std::invalid_argument);
  EXPECT_THROW(make_target(testing::spec_from_yaml("{id: x, type: pager}"), context),
               std::invalid_argument);
}

}  // namespace
}  // namespace eventrouter::targets
