#include "eventrouter/targets/rate_limit.hpp"

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "eventrouter/targets/token_bucket.hpp"

namespace eventrouter::targets {

namespace {

struct Waiting {
  std::shared_ptr<boost::asio::steady_timer> timer;
  Invocation invocation;
  Completion done;
};

}  // namespace

struct RateLimit::State {
  State(Target& target, double per_second, boost::asio::io_context& context, std::string name,
        std::shared_ptr<metrics::LazyGauge> gauge)
      : inner(target),
        bucket(per_second),
        io(context),
        who(std::move(name)),
        waiting(std::move(gauge)) {}

  // A delivery's turn came: it goes to the wrapped target, unless shutdown took it first.
  void release(std::uint64_t id) {
    Waiting turn;
    {
      std::lock_guard lock(mutex);
      auto it = held.find(id);
      if (it == held.end()) return;
      turn = std::move(it->second);
      held.erase(it);
      ++dispatching;
    }
    waiting->add(-1);
    inner.deliver(std::move(turn.invocation), std::move(turn.done));
    std::lock_guard lock(mutex);
    --dispatching;
    dispatched.notify_all();
  }

  // The wrapped target outlives every call made through here: shutdown() waits for the
  // releases under way before shutting it down.
  Target& inner;
  TokenBucket bucket;
  boost::asio::io_context& io;
  const std::string who;
  const std::shared_ptr<metrics::LazyGauge> waiting;
  std::mutex mutex;
  std::condition_variable dispatched;
  std::map<std::uint64_t, Waiting> held;  // waiting for their turn, by arrival
  std::uint64_t next_id = 0;
  std::size_t dispatching = 0;  // releases between leaving `held` and inner.deliver returning
  bool stopped = false;
};

RateLimit::RateLimit(std::unique_ptr<Target> inner, double per_second, boost::asio::io_context& io,
                     std::string who, std::shared_ptr<metrics::LazyGauge> waiting)
    : inner_(std::move(inner)),
      state_(std::make_shared<State>(*inner_, per_second, io, std::move(who), std::move(waiting))) {
}

RateLimit::~RateLimit() {
  shutdown(std::chrono::milliseconds(0));
}

void RateLimit::deliver(Invocation invocation, Completion done) {
  bool refused = false;
  std::uint64_t id = 0;
  std::shared_ptr<boost::asio::steady_timer> timer;
  {
    std::lock_guard lock(state_->mutex);
    refused = state_->stopped;
    if (!refused) {
      const auto wait = state_->bucket.reserve();
      if (wait > std::chrono::nanoseconds(0)) {
        timer = std::make_shared<boost::asio::steady_timer>(state_->io, wait);
        id = state_->next_id++;
        state_->held.emplace(id, Waiting{timer, std::move(invocation), std::move(done)});
        state_->waiting->add(1);
        // Under the lock, so that a shutdown's cancel always comes after the wait began.
        timer->async_wait([state = state_, id](const boost::system::error_code&) {
          // Cancelled only by shutdown, which has taken the delivery already: release() finds
          // nothing then.
          state->release(id);
        });
      }
    }
  }
  if (refused) {
    return done(DeliveryResult::retryable(ErrorCode::kInternalError, "target is shutting down"));
  }
  if (!timer) inner_->deliver(std::move(invocation), std::move(done));
}

void RateLimit::shutdown(std::chrono::milliseconds grace) {
  std::map<std::uint64_t, Waiting> never_started;
  {
    std::unique_lock lock(state_->mutex);
    state_->stopped = true;
    never_started.swap(state_->held);
    // A release under way hands its delivery over before the wrapped target stops.
    state_->dispatched.wait(lock, [this] { return state_->dispatching == 0; });
  }
  state_->waiting->add(-static_cast<double>(never_started.size()));
  for (auto& [id, turn] : never_started) {
    // The timer belongs to the io_context's threads: cancelled there, so that it does not keep
    // the context busy until it expires.
    boost::asio::post(state_->io, [timer = turn.timer] { timer->cancel(); });
    turn.done(DeliveryResult::retryable(ErrorCode::kInternalError,
                                        state_->who + ": delivery not started before shutdown"));
  }
  inner_->shutdown(grace);
}

}  // namespace eventrouter::targets
