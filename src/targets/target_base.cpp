#include "eventrouter/targets/target_base.hpp"

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace eventrouter::targets {

// Every invocation accepted and not yet completed. Shared with the completions handed to the
// adapter, which may run after the target is gone (a webhook's exchange on the io_context).
struct TargetBase::Ledger {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::uint64_t, Completion> open;  // accepted, `done` not yet called
  std::size_t completing = 0;                // `done` calls running right now
  std::uint64_t next_id = 0;
  bool stopped = false;
  bool stop_hook_ran = false;

  // Calls the invocation's `done` unless that already happened.
  void complete(std::uint64_t id, DeliveryResult result) {
    Completion done;
    {
      std::lock_guard lock(mutex);
      auto it = open.find(id);
      if (it == open.end()) return;
      done = std::move(it->second);
      open.erase(it);
      ++completing;
    }
    done(std::move(result));
    std::lock_guard lock(mutex);
    --completing;
    changed.notify_all();
  }

  // Waits until nothing is open or completing, up to `limit`; true if so.
  bool wait_settled(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [this] { return open.empty() && completing == 0; });
  }
};

namespace {

DeliveryResult shutting_down() {
  return DeliveryResult::retryable(ErrorCode::kInternalError, "target is shutting down");
}

}  // namespace

TargetBase::TargetBase() : ledger_(std::make_shared<Ledger>()) {}

TargetBase::~TargetBase() = default;

void TargetBase::deliver(Invocation invocation, Completion done) {
  std::uint64_t id = 0;
  bool accepted = false;
  {
    std::lock_guard lock(ledger_->mutex);
    if (!ledger_->stopped) {
      accepted = true;
      id = ledger_->next_id++;
      ledger_->open.emplace(id, std::move(done));
    }
  }
  if (!accepted) return done(shutting_down());
  send(std::move(invocation),
       [ledger = ledger_, id](DeliveryResult result) { ledger->complete(id, std::move(result)); });
}

void TargetBase::shutdown(std::chrono::milliseconds grace) {
  bool first = false;
  {
    std::lock_guard lock(ledger_->mutex);
    ledger_->stopped = true;
    first = !std::exchange(ledger_->stop_hook_ran, true);
  }
  if (first) on_stop();
  if (ledger_->wait_settled(grace)) return;
  abort();
  if (ledger_->wait_settled(abort_wait())) return;
  // The adapter did not complete them in time: they complete here, as retryable, so that the
  // caller never waits on them; whatever the adapter reports later is dropped.
  std::vector<std::uint64_t> left;
  {
    std::lock_guard lock(ledger_->mutex);
    for (const auto& [id, done] : ledger_->open) left.push_back(id);
  }
  for (const auto id : left) {
    ledger_->complete(id, DeliveryResult::retryable(ErrorCode::kInternalError,
                                                    "aborted at shutdown; the target did not "
                                                    "finish within the grace period"));
  }
  // A completion the adapter started just before is let finish: after shutdown() returns, no
  // `done` runs any more.
  ledger_->wait_settled(std::chrono::seconds(2));
}

}  // namespace eventrouter::targets
