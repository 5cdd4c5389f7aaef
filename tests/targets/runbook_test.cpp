// runbook against real scripts: stdin, environment, exit codes, timeouts that end the process
// group, concurrency limits.

#include "eventrouter/targets/runbook.hpp"

#include <csignal>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using testing::TempDir;

class RunbookTest : public ::testing::Test {
 protected:
  std::unique_ptr<Target> make(const std::string& script, const std::string& extra = "") {
    const auto path = dir_ / ("script-" + std::to_string(++scripts_) + ".sh");
    testing::write_file(path, "#!/bin/sh\n" + script, true);
    TargetContext context{io_, testing::unread_metrics()};
    return make_target(
        testing::spec_from_yaml("{id: rb, type: runbook, command: [" + path.string() +
                                ", arg-one, 'arg two']" + extra + "}"),
        context);
  }

  TempDir dir_;
  boost::asio::io_context io_;
  int scripts_ = 0;
};

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  // A zombie waiting for a (container) init to reap it is gone as far as we are concerned.
  const std::string stat = testing::read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

TEST_F(RunbookTest, PayloadOnStdinArgumentsAndEnvironment) {
  const auto out = dir_ / "out";
  auto target =
      make("cat > " + out.string() +
               ".stdin\n"
               "printf '%s|' \"$@\" > " +
               out.string() +
               ".args\n"
               "env | sort > " +
               out.string() +
               ".env\n"
               "pwd > " +
               out.string() + ".pwd\n",
           ", env: {TEAM: secops, PATH: /usr/bin:/bin}, working_dir: " + dir_.path().string());
  Invocation call = testing::invocation("{\"finding\":\"x\"}", "evt-42");
  call.attempt = 3;
  const DeliveryResult result = testing::deliver_and_wait(*target, call);
  EXPECT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  EXPECT_EQ(testing::read_file(out.string() + ".stdin"), "{\"finding\":\"x\"}");
  EXPECT_EQ(testing::read_file(out.string() + ".args"), "arg-one|arg two|");
  EXPECT_EQ(testing::read_file(out.string() + ".pwd"), dir_.path().string() + "\n");
  const std::string env = testing::read_file(out.string() + ".env");
  for (const char* expected :
       {"EVENTROUTER_EVENT_ID=evt-42\n", "EVENTROUTER_RULE=test-rule\n", "EVENTROUTER_TARGET=t\n",
        "EVENTROUTER_ATTEMPT=3\n", "EVENTROUTER_SOURCE=aws.guardduty\n",
        "EVENTROUTER_DETAIL_TYPE=GuardDuty Finding\n", "TEAM=secops\n", "PATH=/usr/bin:/bin\n"}) {
    EXPECT_NE(env.find(expected), std::string::npos) << expected << " in\n" << env;
  }
  // A minimal environment: nothing of the daemon's own (HOME, USER, ...) leaks in.
  EXPECT_EQ(env.find("HOME="), std::string::npos) << env;
}

TEST_F(RunbookTest, ExitCodesAreClassified) {
  auto ok = make("exit 0");
  EXPECT_EQ(testing::deliver_and_wait(*ok, testing::invocation("{}")).outcome, Outcome::kSuccess);

  auto permanent = make("echo 'role not found' >&2; exit 3", ", permanent_exit_codes: [3, 4]");
  DeliveryResult result = testing::deliver_and_wait(*permanent, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget);
  EXPECT_NE(result.error_message.find("exited with 3"), std::string::npos);
  EXPECT_NE(result.error_message.find("role not found"), std::string::npos);

  auto retryable = make("exit 5", ", permanent_exit_codes: [3]");
  result = testing::deliver_and_wait(*retryable, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget);

  auto signalled = make("kill -9 $$");
  result = testing::deliver_and_wait(*signalled, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_NE(result.error_message.find("signal 9"), std::string::npos);
}

TEST_F(RunbookTest, TimeoutEndsTheWholeProcessGroup) {
  const auto pids = dir_ / "pids";
  // The script starts a background child and then waits; both must be gone after the timeout.
  auto target =
      make("sleep 300 &\necho $! > " + pids.string() + "\necho $$ >> " + pids.string() + "\nwait\n",
           ", timeout: 500ms, kill_grace: 1s");
  const auto start = std::chrono::steady_clock::now();
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("{}"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kTimeout);
  const auto lines = testing::read_lines(pids);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) EXPECT_TRUE(process_gone(std::stoi(line))) << line;
}

TEST_F(RunbookTest, ProcessesIgnoringTermAreKilled) {
  const auto pids = dir_ / "pids";
  auto target = make("trap '' TERM\n(trap '' TERM; sleep 300) &\necho $! > " + pids.string() +
                         "\nwhile :; do sleep 1; done\n",
                     ", timeout: 300ms, kill_grace: 300ms");
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("{}"));
  EXPECT_EQ(result.error_code, targets::ErrorCode::kTimeout);
  const auto lines = testing::read_lines(pids);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(process_gone(std::stoi(lines[0])));
}

TEST_F(RunbookTest, DeliverDoesNotBlockAndConcurrencyIsBounded) {
  const auto log = dir_ / "log";
  // Each run records its start and end; with max_concurrency 2, at most two overlap.
  auto target =
      make("echo start >> " + log.string() + "\nsleep 0.3\necho end >> " + log.string() + "\n",
           ", max_concurrency: 2");
  std::vector<testing::Waiter> waiters(4);
  const auto start = std::chrono::steady_clock::now();
  for (auto& waiter : waiters) target->deliver(testing::invocation("{}"), waiter.completion());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  for (auto& waiter : waiters) EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(580));
  int running = 0, most = 0;
  for (const auto& line : testing::read_lines(log)) {
    running += line == "start" ? 1 : -1;
    most = std::max(most, running);
  }
  EXPECT_EQ(most, 2);
}

TEST_F(RunbookTest, OutputIsCapturedUpToTheBoundAndLargeStdinIsFine) {
  auto target = make("head -c 100000 /dev/zero | tr '\\0' x\nhead -c 10 >/dev/null\nexit 7",
                     ", output_limit: 1KiB");
  // A 1 MiB payload the script mostly does not read: no deadlock, no SIGPIPE for the daemon.
  const DeliveryResult result =
      testing::deliver_and_wait(*target, testing::invocation(std::string(1 << 20, 'p')));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_NE(result.error_message.find("exited with 7"), std::string::npos);
}

TEST_F(RunbookTest, OutputIsLoggedWithTheEventUpToTheBound) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  auto target = make("echo hello-out\necho hello-err >&2\nhead -c 5000 /dev/zero | tr '\\0' y >&2",
                     ", output_limit: 100");
  const DeliveryResult result =
      testing::deliver_and_wait(*target, testing::invocation("{}", "evt-logged"));
  spdlog::set_default_logger(previous);
  EXPECT_EQ(result.outcome, Outcome::kSuccess);
  const std::string log = captured.str();
  EXPECT_NE(log.find("runbook test-rule/rb event evt-logged attempt 1 exited with 0"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("evt-logged stdout: hello-out"), std::string::npos) << log;
  EXPECT_NE(log.find("evt-logged stderr (truncated): hello-err\nyyy"), std::string::npos) << log;
  EXPECT_EQ(log.find(std::string(100, 'y')), std::string::npos) << "more than output_limit kept";
}

TEST_F(RunbookTest, MissingProgramAtRunTimeIsRetryable) {
  const auto path = dir_ / "vanishing.sh";
  testing::write_file(path, "#!/bin/sh\nexit 0\n", true);
  TargetContext context{io_, testing::unread_metrics()};
  auto target = make_target(
      testing::spec_from_yaml("{id: rb, type: runbook, command: [" + path.string() + "]}"),
      context);
  std::filesystem::remove(path);
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kResourceNotFound);
}

TEST_F(RunbookTest, ShutdownEndsRunningAndQueuedInvocations) {
  auto target = make("sleep 300", ", max_concurrency: 1, kill_grace: 200ms");
  testing::Waiter running, queued;
  target->deliver(testing::invocation("{}"), running.completion());
  target->deliver(testing::invocation("{}"), queued.completion());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  target->shutdown(std::chrono::milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(queued.wait().outcome, Outcome::kRetryable);
  const DeliveryResult result = running.wait();
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_NE(result.error_message.find("shutdown"), std::string::npos);
  EXPECT_EQ(testing::deliver_and_wait(*target, testing::invocation("{}")).outcome,
            Outcome::kRetryable);
}

}  // namespace
}  // namespace eventrouter::targets
