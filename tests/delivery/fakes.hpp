#pragma once
// Stand-ins for the delivery engine's surroundings: a store that keeps what it is told in
// memory for the test to read back, and targets whose answers the test scripts.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/targets/target.hpp"

namespace eventrouter::delivery::testing {

class FakeStore final : public DeliveryStore {
 public:
  struct AttemptRecord {
    std::int64_t id;
    int attempts;
    EpochMillis next_attempt_at;
    std::string last_error;
  };
  struct FinishRecord {
    std::int64_t id;
    std::optional<std::int64_t> event_seq;
  };

  // What the test sets up.
  bool is_durable = true;
  std::optional<std::uint64_t> bytes;        // bounded_bytes()
  std::optional<StoreFailure> fail_appends;  // every append fails so while set
  Pending pending;                           // what load_pending() hands out

  bool durable() const override { return is_durable; }
  bool can_archive() const override { return true; }
  Ids reserve_ids(std::size_t events, std::size_t deliveries) override {
    std::lock_guard lock(mutex_);
    Ids ids{next_seq_, next_id_};
    next_seq_ += static_cast<std::int64_t>(events);
    next_id_ += static_cast<std::int64_t>(deliveries);
    return ids;
  }
  void append(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
              AppendDone done) override {
    std::optional<StoreFailure> failure;
    {
      std::lock_guard lock(mutex_);
      failure = fail_appends;
      if (!failure) {
        for (const auto& e : events) {
          events_.push_back(StoredEvent{e.seq, e.ingested_at, std::string(e.bus),
                                        std::string(e.json), e.archived});
        }
        for (const auto& d : deliveries) {
          deliveries_.push_back(StoredDelivery{d.id, d.event_seq, std::string(d.rule),
                                               std::string(d.target), 0, d.created_at, d.created_at,
                                               ""});
        }
      }
    }
    done(failure);
  }
  void append_with_dedup(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
                         std::span<const DedupRecord> dedup, AppendDone done) override {
    {
      std::lock_guard lock(mutex_);
      if (!fail_appends) dedup_records_ += dedup.size();
    }
    append(events, deliveries, std::move(done));
  }
  // Dedup keys recorded with appends that succeeded.
  std::size_t dedup_records() const {
    std::lock_guard lock(mutex_);
    return dedup_records_;
  }
  void record_attempt(std::int64_t id, int attempts, EpochMillis next_attempt_at,
                      std::string last_error) override {
    std::lock_guard lock(mutex_);
    attempts_.push_back(AttemptRecord{id, attempts, next_attempt_at, std::move(last_error)});
  }
  void finish(std::int64_t id, std::optional<std::int64_t> event_seq) override {
    std::lock_guard lock(mutex_);
    finished_.push_back(FinishRecord{id, event_seq});
  }
  Pending load_pending() override { return std::move(pending); }
  std::vector<StoredEvent> archived_events(EpochMillis, EpochMillis, const std::string&,
                                           std::int64_t, std::size_t) override {
    return {};
  }
  void expire_archive(EpochMillis) override {}
  std::optional<std::uint64_t> bounded_bytes() const override { return bytes; }

  // What the engine told it.
  std::vector<StoredDelivery> deliveries() const {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }
  std::vector<StoredEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<AttemptRecord> attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }
  std::vector<FinishRecord> finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  mutable std::mutex mutex_;
  std::int64_t next_seq_ = 1, next_id_ = 1;
  std::size_t dedup_records_ = 0;
  std::vector<StoredEvent> events_;
  std::vector<StoredDelivery> deliveries_;
  std::vector<AttemptRecord> attempts_;
  std::vector<FinishRecord> finished_;
};

// Every invocation the fake targets saw, in order, and how they answer.
class TargetScript {
 public:
  struct Call {
    targets::Invocation invocation;
    std::chrono::steady_clock::time_point at;
  };
  using Answer = std::function<targets::DeliveryResult(const targets::Invocation&)>;

  // How every fake target answers (set before events arrive); success by default.
  Answer answer = [](const targets::Invocation&) { return targets::DeliveryResult::ok(); };
  // Hold invocations unanswered until the target shuts down (an invocation in flight).
  bool hold = false;

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  std::size_t shutdowns() const {
    std::lock_guard lock(mutex_);
    return shutdowns_;
  }

  void deliver(targets::Invocation invocation, targets::Completion done) {
    std::unique_lock lock(mutex_);
    calls_.push_back(Call{invocation, std::chrono::steady_clock::now()});
    // The event is the engine's: a record kept after the delivery would keep it alive, and its
    // bytes counted as pending.
    calls_.back().invocation.event_json.reset();
    if (shutdowns_ > 0) {
      // As real adapters do once shut down: refused at once, as retryable.
      lock.unlock();
      return done(
          targets::DeliveryResult::retryable(targets::ErrorCode::kConnectionFailure, "shut down"));
    }
    if (hold) {
      held_.push_back(std::move(done));
      return;
    }
    lock.unlock();
    done(answer(invocation));
  }
  // As real adapters do: what is left in flight completes as retryable.
  void shutdown() {
    std::vector<targets::Completion> held;
    {
      std::lock_guard lock(mutex_);
      ++shutdowns_;
      held = std::exchange(held_, {});
    }
    for (auto& done : held)
      done(targets::DeliveryResult::retryable(targets::ErrorCode::kConnectionFailure,
                                              "aborted at shutdown"));
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> calls_;
  std::vector<targets::Completion> held_;
  std::size_t shutdowns_ = 0;
};

class FakeTarget final : public targets::Target {
 public:
  explicit FakeTarget(TargetScript& script) : script_(script) {}
  void deliver(targets::Invocation invocation, targets::Completion done) override {
    script_.deliver(std::move(invocation), std::move(done));
  }
  void shutdown(std::chrono::milliseconds) override { script_.shutdown(); }

 private:
  TargetScript& script_;
};

}  // namespace eventrouter::delivery::testing
