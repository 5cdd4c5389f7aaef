#pragma once
// Whether ingest may take more events now: refused (503 with Retry-After) while stopping, or
// while undelivered work is past its bounds, rather than growing without limit.

#include <optional>

#include "delivery_core.hpp"
#include "eventrouter/server/event_sink.hpp"

namespace eventrouter::delivery {

class Admission {
 public:
  Admission(const DispatcherOptions& options, const DeliveryCore& core, const DeliveryStore& store)
      : options_(options), core_(core), store_(store) {}

  // Nothing when a batch may come in, else why not.
  std::optional<server::SinkRefusal> refusal() const;

 private:
  const DispatcherOptions& options_;
  const DeliveryCore& core_;
  const DeliveryStore& store_;
};

// How a batch that the store could not record is refused.
server::SinkRefusal store_refusal(const StoreFailure& failure);

}  // namespace eventrouter::delivery
