// TargetBase, which every adapter derives from: refusal after shutdown, the grace period, the
// abort hook, and each completion running exactly once however an invocation ends.

#include "eventrouter/targets/target_base.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using namespace std::chrono_literals;

// An adapter that keeps every invocation until the test (or its abort hook) completes it.
class HeldTarget final : public TargetBase {
 public:
  explicit HeldTarget(bool complete_on_abort) : complete_on_abort_(complete_on_abort) {}
  ~HeldTarget() override { shutdown(0ms); }

  // Completes the oldest held invocation (from another thread, like a real adapter).
  void complete_one(DeliveryResult result) {
    Completion done;
    {
      std::lock_guard lock(mutex_);
      ASSERT_FALSE(held_.empty());
      done = held_.front();
      held_.erase(held_.begin());
    }
    done(std::move(result));
  }

  std::vector<Completion> take_held() {
    std::lock_guard lock(mutex_);
    return std::move(held_);
  }

  std::atomic<int> sent{0}, stops{0}, aborts{0};

 private:
  void send(Invocation, Completion done) override {
    ++sent;
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(done));
  }
  void on_stop() override { ++stops; }
  void abort() override {
    ++aborts;
    if (!complete_on_abort_) return;
    for (auto& done : take_held()) {
      done(DeliveryResult::retryable(ErrorCode::kInternalError, "held: aborted"));
    }
  }
  std::chrono::milliseconds abort_wait() const override { return 200ms; }

  const bool complete_on_abort_;
  std::mutex mutex_;
  std::vector<Completion> held_;
};

TEST(TargetBase, PassesTheAdaptersResultOnAndRefusesAfterShutdown) {
  HeldTarget target(true);
  testing::Waiter waiter;
  target.deliver(testing::invocation("{}"), waiter.completion());
  std::thread([&] { target.complete_one(DeliveryResult::ok()); }).join();
  EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);

  target.shutdown(100ms);
  EXPECT_EQ(target.stops, 1);
  EXPECT_EQ(target.aborts, 0) << "nothing was in flight";
  const DeliveryResult refused = testing::deliver_and_wait(target, testing::invocation("{}"));
  EXPECT_EQ(refused.outcome, Outcome::kRetryable);
  EXPECT_EQ(refused.error_code, targets::ErrorCode::kInternalError);
  EXPECT_EQ(target.sent, 1) << "a refused invocation reached the adapter";
}

TEST(TargetBase, InFlightWorkGetsTheGracePeriod) {
  HeldTarget target(true);
  testing::Waiter waiter;
  target.deliver(testing::invocation("{}"), waiter.completion());
  std::thread finisher([&] {
    std::this_thread::sleep_for(100ms);
    target.complete_one(DeliveryResult::ok());
  });
  target.shutdown(5s);
  finisher.join();
  EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  EXPECT_EQ(target.aborts, 0);
}

TEST(TargetBase, WhatOutlivesTheGraceIsAbortedAsRetryable) {
  HeldTarget target(true);
  std::vector<testing::Waiter> waiters(3);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  const auto start = std::chrono::steady_clock::now();
  target.shutdown(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(target.aborts, 1);
  for (auto& waiter : waiters) {
    const DeliveryResult result = waiter.wait(0ms);
    EXPECT_EQ(result.outcome, Outcome::kRetryable);
    EXPECT_EQ(result.error_message, "held: aborted");
  }
}

TEST(TargetBase, AnAdapterThatNeverFinishesIsCompletedOnceByShutdown) {
  HeldTarget target(false);  // its abort hook ends nothing
  std::vector<testing::Waiter> waiters(2);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  const auto start = std::chrono::steady_clock::now();
  target.shutdown(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  for (auto& waiter : waiters) {
    const DeliveryResult result = waiter.wait(0ms);  // completed before shutdown returned
    EXPECT_EQ(result.outcome, Outcome::kRetryable);
    EXPECT_NE(result.error_message.find("shutdown"), std::string::npos);
  }
  // The adapter reporting afterwards changes nothing: each Waiter fails the test if its
  // completion runs twice.
  for (auto& done : target.take_held()) done(DeliveryResult::ok());
}

}  // namespace
}  // namespace eventrouter::targets
