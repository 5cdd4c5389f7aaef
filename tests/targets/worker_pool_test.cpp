// deliver_pooled, the delivery path runbook and email share: the attempt's result reaches the
// completion, and invocations refused or dropped at shutdown complete once, as retryable.

#include "eventrouter/targets/worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

namespace eventrouter::targets {
namespace {

using namespace std::chrono_literals;

// Collects every completion, to check each invocation completes exactly once.
struct Results {
  std::mutex mutex;
  std::vector<std::pair<std::string, DeliveryResult>> done;

  Completion completion(std::string event_id) {
    return [this, event_id](DeliveryResult result) {
      std::lock_guard lock(mutex);
      done.emplace_back(event_id, std::move(result));
    };
  }
};

Invocation invocation(std::string event_id) {
  Invocation out;
  out.event_id = std::move(event_id);
  return out;
}

TEST(DeliverPooled, PassesTheAttemptsResultToTheCompletion) {
  Results results;
  {
    WorkerPool pool(2);
    deliver_pooled(pool, invocation("e1"), results.completion("e1"), [](const Invocation& inv) {
      return DeliveryResult::permanent(ErrorCode::kErrorFromTarget, "saw " + inv.event_id);
    });
    ASSERT_TRUE(pool.wait_idle(5s));
  }
  ASSERT_EQ(results.done.size(), 1u);
  EXPECT_EQ(results.done[0].second.outcome, Outcome::kPermanent);
  EXPECT_EQ(results.done[0].second.error_message, "saw e1");
}

TEST(DeliverPooled, RefusedAfterStopCompletesAsRetryable) {
  Results results;
  WorkerPool pool(1);
  pool.stop();
  bool attempted = false;
  deliver_pooled(pool, invocation("e1"), results.completion("e1"), [&](const Invocation&) {
    attempted = true;
    return DeliveryResult::ok();
  });
  EXPECT_FALSE(attempted);
  ASSERT_EQ(results.done.size(), 1u);
  EXPECT_EQ(results.done[0].second.outcome, Outcome::kRetryable);
  EXPECT_EQ(results.done[0].second.error_code, ErrorCode::kInternalError);
}

TEST(DeliverPooled, QueuedInvocationsDroppedAtStopCompleteAsRetryable) {
  Results results;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  WorkerPool pool(1);
  // The only thread is busy with e1, so e2 and e3 wait in the queue until stop() drops them.
  deliver_pooled(pool, invocation("e1"), results.completion("e1"), [&](const Invocation&) {
    started.set_value();
    released.wait();
    return DeliveryResult::ok();
  });
  started.get_future().wait();
  std::atomic<int> attempts{0};
  for (const char* id : {"e2", "e3"}) {
    deliver_pooled(pool, invocation(id), results.completion(id), [&](const Invocation&) {
      ++attempts;
      return DeliveryResult::ok();
    });
  }
  pool.stop();
  release.set_value();
  ASSERT_TRUE(pool.wait_idle(5s));
  EXPECT_EQ(attempts, 0);
  ASSERT_EQ(results.done.size(), 3u);
  for (const auto& [id, result] : results.done) {
    EXPECT_EQ(result.outcome, id == "e1" ? Outcome::kSuccess : Outcome::kRetryable) << id;
  }
}

}  // namespace
}  // namespace eventrouter::targets
