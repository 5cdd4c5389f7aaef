#pragma once
// The delivery engine's settings (from the config's delivery section).

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "eventrouter/delivery/dead_letters.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/shared_dedup.hpp"

namespace eventrouter::delivery {

class History;

struct DispatcherOptions {
  std::filesystem::path default_dead_letter_file;  // for targets without dead_letter.path
  std::chrono::milliseconds backoff_base{1000};    // first retry after up to this long
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  // Where events and deliveries are recorded (the Journal); nothing: durability none, the
  // dispatcher keeps everything in memory (a MemoryStore of its own).
  DeliveryStore* store = nullptr;
  // Where dead letters go; nothing: files of this host (dead_letter.path, or the default).
  DeadLetterSink* dead_letter_sink = nullptr;
  // Dedup keys shared with other routers (the cluster backend); nothing: this router's own.
  SharedDedup* shared_dedup = nullptr;
  // Accepted events stay in the store this long for replays (0: no archive). Needs a store
  // that can archive.
  std::chrono::seconds archive_retention{std::chrono::hours(24 * 7)};
  // Past either bound, ingest answers 503 with Retry-After instead of growing without limit.
  std::size_t max_pending_deliveries = 100000;
  std::uint64_t max_journal_bytes = std::uint64_t{1} << 30;
  // What pending deliveries hold in memory, in every durability mode (see PendingBytes).
  std::uint64_t max_pending_bytes = std::uint64_t{256} << 20;
  // Where each event's journey is recorded; nothing: no history.
  History* history = nullptr;
};

}  // namespace eventrouter::delivery
