#pragma once
// A wrapper that lets at most `limit` deliveries into the target it wraps at once; the others
// wait in arrival order (without touching the target: no socket, no thread) and each
// completion hands its slot to the oldest waiting delivery.

#include <cstddef>
#include <memory>
#include <string>

#include "eventrouter/metrics/lazy.hpp"
#include "eventrouter/targets/target.hpp"

namespace eventrouter::targets {

class ConcurrencyLimit final : public Target {
 public:
  // `who` starts messages ("webhook my-rule/hook"); `waiting` counts deliveries held back.
  ConcurrencyLimit(std::unique_ptr<Target> inner, std::size_t limit, std::string who,
                   std::shared_ptr<metrics::LazyGauge> waiting);
  ~ConcurrencyLimit() override;

  void deliver(Invocation invocation, Completion done) override;
  // Waiting deliveries complete at once, as retryable (nothing was sent for them, so the grace
  // period goes to those in flight); then the wrapped target shuts down.
  void shutdown(std::chrono::milliseconds grace) override;

  struct State;  // shared with the completions handed to the wrapped target

 private:
  std::unique_ptr<Target> inner_;
  std::shared_ptr<State> state_;
};

}  // namespace eventrouter::targets
