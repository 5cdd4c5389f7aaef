// The limit keys every target type has (max_concurrency, rate_limit_per_second): checked the
// same way for every type, and honoured by types that had no limits of their own.

#include "eventrouter/targets/limits.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>

#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

class LimitsTest : public ::testing::Test {
 protected:
  ~LimitsTest() override {
    targets_.clear();
    work_.reset();
    thread_.join();
  }

  Target& make(const std::string& yaml) {
    TargetContext context{io_, metrics_};
    targets_.push_back(make_target(testing::spec_from_yaml(yaml), context));
    return *targets_.back();
  }

  double waiting(const std::string& target) {
    return metrics_
        .gauge("eventrouter_target_waiting_deliveries", "",
               {{"rule", "test-rule"}, {"target", target}})
        .value();
  }

  TempDir dir_;
  metrics::Registry metrics_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::thread thread_{[this] { io_.run(); }};
  std::vector<std::unique_ptr<Target>> targets_;
};

TEST_F(LimitsTest, ARunbookHonoursRateLimitPerSecond) {
  const auto log = dir_ / "starts";
  const auto script = dir_ / "record.sh";
  testing::write_file(script, "#!/bin/sh\ndate +%s.%N >> " + log.string() + "\n", true);
  Target& target =
      make("{id: rb, type: runbook, rate_limit_per_second: 4, command: [" + script.string() + "]}");
  std::vector<testing::Waiter> waiters(8);
  const auto start = std::chrono::steady_clock::now();
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  for (auto& waiter : waiters) EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  // A full bucket of 4 starts at once; the other 4 follow at 4 a second.
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
  auto starts = testing::read_lines(log);
  ASSERT_EQ(starts.size(), 8u);
  std::sort(starts.begin(), starts.end());
  EXPECT_GE(std::stod(starts[7]) - std::stod(starts[0]), 0.7);
}

TEST_F(LimitsTest, AQueueFileHonoursRateLimitAndCountsWhatWaits) {
  const auto path = dir_ / "q.jsonl";
  Target& target =
      make("{id: q, type: queue_file, rate_limit_per_second: 2, path: " + path.string() + "}");
  std::vector<testing::Waiter> waiters(5);
  const auto start = std::chrono::steady_clock::now();
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  EXPECT_EQ(waiting("q"), 3) << "two go at once, three wait for their turn";
  for (auto& waiter : waiters) EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_EQ(testing::read_lines(path).size(), 5u);
  EXPECT_EQ(waiting("q"), 0);
}

TEST_F(LimitsTest, AQueueFileHonoursMaxConcurrency) {
  const auto path = dir_ / "q.jsonl";
  // One delivery at a time, and one a second: the second waits for the first's slot, the third
  // for a slot while the second waits for its turn.
  Target& target = make(
      "{id: q, type: queue_file, max_concurrency: 1, rate_limit_per_second: 1, "
      "path: " +
      path.string() + "}");
  std::vector<testing::Waiter> waiters(3);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  EXPECT_GE(waiting("q"), 2);
  for (auto& waiter : waiters) EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  EXPECT_EQ(waiting("q"), 0);
}

TEST_F(LimitsTest, ATargetWhoseDeliveriesNeverWaitedHasNoWaitingSeries) {
  const auto path = dir_ / "q.jsonl";
  Target& target =
      make("{id: q, type: queue_file, max_concurrency: 4, rate_limit_per_second: 100, path: " +
           path.string() + "}");
  testing::Waiter waiter;
  target.deliver(testing::invocation("{}"), waiter.completion());
  EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  target.shutdown(100ms);
  // A scrape of thousands of targets that keep up shows no line for each of them.
  EXPECT_EQ(metrics_.render().find("eventrouter_target_waiting_deliveries"), std::string::npos)
      << metrics_.render();
}

TEST_F(LimitsTest, ShutdownEndsHeldDeliveriesWithoutSendingThem) {
  const auto path = dir_ / "q.jsonl";
  Target& target =
      make("{id: q, type: queue_file, rate_limit_per_second: 1, path: " + path.string() + "}");
  std::vector<testing::Waiter> waiters(3);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  EXPECT_EQ(waiters[0].wait().outcome, Outcome::kSuccess);
  target.shutdown(100ms);
  for (std::size_t i = 1; i < waiters.size(); ++i) {
    const DeliveryResult result = waiters[i].wait(0ms);  // completed by shutdown, once each
    EXPECT_EQ(result.outcome, Outcome::kRetryable);
    EXPECT_EQ(result.error_message, "queue_file test-rule/q: delivery not started before shutdown");
  }
  EXPECT_EQ(testing::read_lines(path).size(), 1u);
  EXPECT_EQ(waiting("q"), 0);
  std::this_thread::sleep_for(1500ms);  // when their turn would have come
  EXPECT_EQ(testing::read_lines(path).size(), 1u);
}

std::string check_messages(const std::string& yaml) {
  std::vector<config::Diagnostic> problems;
  check_target(testing::spec_from_yaml(yaml), problems);
  std::string all;
  for (const auto& problem : problems) all += problem.message + "\n";
  return all;
}

TEST(Limits, TheKeysAreCheckedForEveryType) {
  EXPECT_EQ(
      check_messages("{id: r, type: runbook, command: [/bin/true], rate_limit_per_second: 0}"),
      "runbook target 'r': rate_limit_per_second must be a number from 0.001 to 100000\n");
  EXPECT_EQ(check_messages("{id: q, type: queue_file, path: /tmp/q, max_concurrency: 0}"),
            "queue_file target 'q': max_concurrency must be a whole number from 1 to 256\n");
  EXPECT_EQ(check_messages("{id: m, type: email, smtp: {host: h.example}, from: a@b.example, "
                           "to: [c@d.example], max_concurrency: 65}"),
            "email target 'm': max_concurrency must be a whole number from 1 to 64\n");
  EXPECT_EQ(check_messages("{id: q, type: queue_file, path: /tmp/q, max_concurency: 2}"),
            "unknown key 'max_concurency' in queue_file target 'q'; did you mean "
            "'max_concurrency'?\n");
  EXPECT_EQ(check_messages("{id: q, type: queue_file, path: /tmp/q, max_concurrency: 3, "
                           "rate_limit_per_second: 0.5}"),
            "");
}

}  // namespace
}  // namespace eventrouter::targets
