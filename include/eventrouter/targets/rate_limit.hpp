#pragma once
// A wrapper that starts at most `per_second` deliveries a second into the target it wraps
// (a token bucket holding up to a second's worth): a delivery over the rate waits on a timer
// of the delivery io_context for its turn instead of failing.

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "eventrouter/metrics/lazy.hpp"
#include "eventrouter/targets/target.hpp"

namespace eventrouter::targets {

class RateLimit final : public Target {
 public:
  // `who` starts messages ("runbook my-rule/contain"); `waiting` counts deliveries held back.
  RateLimit(std::unique_ptr<Target> inner, double per_second, boost::asio::io_context& io,
            std::string who, std::shared_ptr<metrics::LazyGauge> waiting);
  ~RateLimit() override;

  void deliver(Invocation invocation, Completion done) override;
  // Waiting deliveries complete at once, as retryable; then the wrapped target shuts down.
  void shutdown(std::chrono::milliseconds grace) override;

  struct State;  // shared with the timers, which may fire after the wrapper is gone

 private:
  std::unique_ptr<Target> inner_;
  std::shared_ptr<State> state_;
};

}  // namespace eventrouter::targets
