#pragma once
// The store of durability none: nothing outlives the process, so nothing is kept. Appends
// succeed at once, progress is not written down, and there is nothing to resume or replay.

#include <atomic>

#include "eventrouter/delivery/delivery_store.hpp"

namespace eventrouter::delivery {

class MemoryStore final : public StoreWithoutEvents {
 public:
  bool durable() const override { return false; }
  Ids reserve_ids(std::size_t events, std::size_t deliveries) override {
    return Ids{next_event_seq_.fetch_add(static_cast<std::int64_t>(events)),
               next_delivery_id_.fetch_add(static_cast<std::int64_t>(deliveries))};
  }
  void append(std::span<const NewEvent>, std::span<const NewDelivery>, AppendDone done) override {
    done(std::nullopt);
  }
  void record_attempt(std::int64_t, int, EpochMillis, std::string) override {}
  void finish(std::int64_t, std::optional<std::int64_t>) override {}

 private:
  std::atomic<std::int64_t> next_event_seq_{1};
  std::atomic<std::int64_t> next_delivery_id_{1};
};

}  // namespace eventrouter::delivery
