// The daemon's phases driven in-process: start, serve, reload, stop on a signal, and the
// reports a failed start gives.
#include "eventrouter/app/daemon.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "eventrouter/app/admin_client.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kRule = R"(rules:
  - name: {name}
    event_pattern: { source: [{source}] }
    targets:
      - { id: q, type: queue_file, path: queues/{name}.jsonl }
)";

std::string rule(std::string_view name, std::string_view source) {
  std::string text(kRule);
  for (auto [key, value] : {std::pair{std::string_view("{name}"), name}, {"{source}", source}}) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key))
      text.replace(at, key.size(), value);
  }
  return text;
}

// A daemon on a port the OS picks, with its state and rules in a scratch folder.
struct DaemonFolder {
  testing::TempDir dir;
  std::filesystem::path config;
  explicit DaemonFolder(std::string_view durability = "fsync", std::string_view extra = "") {
    dir.write("rules/a.yaml", rule("finding-a", "tool.a"));
    config = dir.write(
        "eventrouter.yaml",
        "listen: 127.0.0.1:0\nrules_dir: rules\nstate_dir: " + (dir.path() / "state").string() +
            "\ndurability: " + std::string(durability) + "\n" + std::string(extra));
  }
  std::filesystem::path queue(std::string_view rule_name) const {
    return dir.path() / "state" / "queues" / (std::string(rule_name) + ".jsonl");
  }
};

Expected<AdminResponse, std::string> post_event(const Daemon& daemon, std::string_view source) {
  AdminEndpoint endpoint;
  endpoint.base_url = "http://127.0.0.1:" + std::to_string(daemon.local_endpoint().port());
  endpoint.timeout = std::chrono::seconds(20);
  return post_json(
      endpoint, "/events",
      R"({"source":")" + std::string(source) + R"(","detail-type":"Finding","detail":{"n":1}})");
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DaemonPhases, ServesReloadsAndStopsOnSigterm) {
  for (const auto durability : {"fsync", "none"}) {
    SCOPED_TRACE(durability);
    DaemonFolder folder(durability);
    Daemon daemon(folder.config);
    daemon.start();
    EXPECT_NE(daemon.local_endpoint().port(), 0);
    auto ran = std::async(std::launch::async, [&daemon] { return daemon.run(); });

    auto answer = post_event(daemon, "tool.a");
    ASSERT_TRUE(answer) << answer.error();
    EXPECT_EQ(answer->status, 200) << answer->body;
    EXPECT_TRUE(testing::eventually([&] { return !read_file(folder.queue("finding-a")).empty(); }));

    // A new rule file, then a reload: the new rule takes events at once.
    folder.dir.write("rules/b.yaml", rule("finding-b", "tool.b"));
    daemon.reload("test");
    answer = post_event(daemon, "tool.b");
    ASSERT_TRUE(answer) << answer.error();
    EXPECT_EQ(answer->status, 200) << answer->body;
    EXPECT_TRUE(testing::eventually([&] { return !read_file(folder.queue("finding-b")).empty(); }));

    std::raise(SIGTERM);
    ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(ran.get(), 0);
    EXPECT_THAT(read_file(folder.queue("finding-a")), HasSubstr(R"("source":"tool.a")"));
  }
}

TEST(DaemonPhases, StopBeforeAnyRequestEndsRunPromptly) {
  DaemonFolder folder;
  Daemon daemon(folder.config);
  daemon.start();
  auto ran = std::async(std::launch::async, [&daemon] { return daemon.run(); });
  daemon.stop();
  daemon.stop();  // a second stop (another signal) is ignored
  ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(ran.get(), 0);
}

TEST(DaemonPhases, ASecondDaemonOnTheSameStateDirIsRefused) {
  DaemonFolder folder;
  Daemon first(folder.config);
  first.start();
  Daemon second(folder.config);
  try {
    second.start();
    FAIL() << "the second daemon started";
  } catch (const StartError& error) {
    EXPECT_THAT(error.what(), StartsWith("eventrouter: "));
    EXPECT_THAT(error.what(), HasSubstr((folder.dir.path() / "state").string()));
  }
}

TEST(DaemonPhases, AnInvalidConfigurationReportsEveryProblem) {
  DaemonFolder folder("fsync", "limits: { max_connections: -1 }\nlog: { format: xml }\n");
  try {
    Daemon daemon(folder.config);
    FAIL() << "the configuration was accepted";
  } catch (const StartError& error) {
    const std::string report = error.what();
    EXPECT_THAT(report, HasSubstr("eventrouter.yaml:"));
    EXPECT_THAT(report, HasSubstr("limits.max_connections"));
    EXPECT_THAT(report, HasSubstr("log.format must be one of text, json, not 'xml'"));
  }
}

TEST(DaemonPhases, AnInvalidRuleStopsTheStartWithItsPosition) {
  DaemonFolder folder;
  folder.dir.write("rules/bad.yaml",
                   "rules:\n  - name: bad\n    event_pattern: { source: [1, {nope: 1}] }\n"
                   "    targets: [{ id: q, type: queue_file, path: q.jsonl }]\n");
  Daemon daemon(folder.config);
  try {
    daemon.start();
    FAIL() << "the invalid rule was accepted";
  } catch (const StartError& error) {
    EXPECT_THAT(error.what(), HasSubstr("bad.yaml:3:"));
  }
}

TEST(DaemonPhases, AnAddressInUseNamesTheListenSetting) {
  DaemonFolder first_folder;
  Daemon first(first_folder.config);
  first.start();
  const auto port = first.local_endpoint().port();
  DaemonFolder folder;
  folder.config = folder.dir.write(
      "eventrouter.yaml",
      "listen: 127.0.0.1:" + std::to_string(port) +
          "\nrules_dir: rules\nstate_dir: " + (folder.dir.path() / "state").string() + "\n");
  Daemon second(folder.config);
  try {
    second.start();
    FAIL() << "listened twice on port " << port;
  } catch (const StartError& error) {
    EXPECT_THAT(error.what(), HasSubstr("(listen in "));
  }
}

}  // namespace
}  // namespace eventrouter::app
