#include "eventrouter/targets/concurrency_limit.hpp"

#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "eventrouter/targets/fifo_slots.hpp"

namespace eventrouter::targets {

namespace {

struct Pending {
  Invocation invocation;
  Completion done;
};

}  // namespace

struct ConcurrencyLimit::State {
  State(Target& target, std::size_t limit, std::string name,
        std::shared_ptr<metrics::LazyGauge> gauge)
      : inner(target), slots(limit), who(std::move(name)), waiting(std::move(gauge)) {}

  // Hands `pending` (which holds a slot) to the wrapped target; its completion frees the slot
  // for the oldest waiting delivery.
  static void start(const std::shared_ptr<State>& state, const std::shared_ptr<Pending>& pending) {
    Completion done = std::move(pending->done);
    state->inner.deliver(std::move(pending->invocation),
                         [state, done = std::move(done)](DeliveryResult result) {
                           std::optional<std::shared_ptr<Pending>> next;
                           {
                             std::lock_guard lock(state->mutex);
                             next = state->slots.release();
                           }
                           if (next) {
                             // Counted as waiting until handed on: a rate limit behind may
                             // count it again first, never the other way round.
                             start(state, *next);
                             state->waiting->add(-1);
                           }
                           done(std::move(result));
                         });
  }

  // The wrapped target outlives every call made through here: its shutdown() returns only
  // after the last completion it was given has run.
  Target& inner;
  std::mutex mutex;
  FifoSlots<std::shared_ptr<Pending>> slots;
  bool stopped = false;
  const std::string who;
  const std::shared_ptr<metrics::LazyGauge> waiting;
};

ConcurrencyLimit::ConcurrencyLimit(std::unique_ptr<Target> inner, std::size_t limit,
                                   std::string who, std::shared_ptr<metrics::LazyGauge> waiting)
    : inner_(std::move(inner)),
      state_(std::make_shared<State>(*inner_, limit, std::move(who), std::move(waiting))) {}

ConcurrencyLimit::~ConcurrencyLimit() {
  shutdown(std::chrono::milliseconds(0));
}

void ConcurrencyLimit::deliver(Invocation invocation, Completion done) {
  auto pending = std::make_shared<Pending>(Pending{std::move(invocation), std::move(done)});
  bool refused = false;
  bool admitted = false;
  {
    std::lock_guard lock(state_->mutex);
    refused = state_->stopped;
    if (!refused) admitted = state_->slots.admit(pending);
    // Counted under the lock: once it is released, a completion may start this delivery and
    // count it out, and the gauge must not read -1 meanwhile.
    if (!refused && !admitted) state_->waiting->add(1);
  }
  if (refused) {
    return pending->done(
        DeliveryResult::retryable(ErrorCode::kInternalError, "target is shutting down"));
  }
  if (!admitted) return;  // it waits; the delivery that frees a slot starts it
  State::start(state_, pending);
}

void ConcurrencyLimit::shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<Pending>> never_started;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    never_started = state_->slots.take_waiting();
  }
  state_->waiting->add(-static_cast<double>(never_started.size()));
  for (auto& pending : never_started) {
    pending->done(DeliveryResult::retryable(
        ErrorCode::kInternalError, state_->who + ": delivery not started before shutdown"));
  }
  inner_->shutdown(grace);
}

}  // namespace eventrouter::targets
