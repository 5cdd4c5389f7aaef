#include "admission.hpp"

#include <string>

namespace eventrouter::delivery {

std::optional<server::SinkRefusal> Admission::refusal() const {
  if (core_.stopping()) {
    return server::SinkRefusal{503, "ShuttingDown", "the daemon is shutting down; retry shortly",
                               std::chrono::seconds(2)};
  }
  const auto pending = core_.pending();
  if (pending >= options_.max_pending_deliveries) {
    return server::SinkRefusal{
        503, "TooManyPendingDeliveries",
        std::to_string(pending) +
            " deliveries are waiting for their targets (delivery.max_pending_deliveries is " +
            std::to_string(options_.max_pending_deliveries) +
            "); retry later, and check the targets' health",
        std::chrono::seconds(5)};
  }
  const auto held = core_.pending_bytes();
  if (held >= options_.max_pending_bytes) {
    return server::SinkRefusal{503, "TooManyPendingBytes",
                               "deliveries waiting for their targets hold " + std::to_string(held) +
                                   " bytes in memory (delivery.max_pending_bytes is " +
                                   std::to_string(options_.max_pending_bytes) +
                                   "); retry later, and check the targets' health",
                               std::chrono::seconds(5)};
  }
  // The archive makes room by itself (the journal drops its oldest events past
  // archive.max_bytes), so a full store means undelivered work fills it.
  const auto bytes = store_.bounded_bytes();
  if (bytes && *bytes >= options_.max_journal_bytes) {
    return server::SinkRefusal{503, "JournalFull",
                               "undelivered events fill the journal (" + std::to_string(*bytes) +
                                   " bytes; delivery.max_journal_bytes is " +
                                   std::to_string(options_.max_journal_bytes) +
                                   "); retry later, and check the targets' health",
                               std::chrono::seconds(5)};
  }
  return std::nullopt;
}

server::SinkRefusal store_refusal(const StoreFailure& failure) {
  if (failure.disk_full) {
    return server::SinkRefusal{
        503, "DiskFull",
        "the disk holding the journal is full, so the events were not recorded: free space "
        "in state_dir, then retry",
        std::chrono::seconds(30)};
  }
  return server::SinkRefusal{503, "JournalUnavailable",
                             "the events could not be recorded (" + failure.message + "); retry",
                             std::chrono::seconds(5)};
}

}  // namespace eventrouter::delivery
