#pragma once
// Per-event history: what happened to each event the daemon accepted (received, the rules it
// matched, every attempt with its outcome, retries, dead letters). Kept in its own SQLite file
// beside the journal, bounded by age and size, and written by its own thread: recording never
// waits for the disk, and when the writer falls behind, records are dropped and counted rather
// than held without bound. Read by GET /events/{id}, GET /events and `eventrouter history`.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/delivery/delivery_store.hpp"

namespace eventrouter::metrics {
class Registry;
}

namespace eventrouter::delivery {

struct HistoryOptions {
  std::filesystem::path file;
  std::chrono::seconds max_age{7 * 24 * 3600};
  std::uint64_t max_bytes = 256ull << 20;
  std::size_t max_queued = 100000;  // records waiting for the writer
};

// One reception of an event (an event replayed later is received again).
struct HistoryReception {
  std::int64_t key = 0;  // the history's own number for this reception
  std::string event_id, bus, source, detail_type;
  EpochMillis received_at = 0;
  std::uint64_t size = 0;
  std::string origin;              // "ingest", "replay", "redrive", "schedule"
  std::vector<std::string> rules;  // matched, each once
  int deliveries = 0;              // planned (rule, target) deliveries
};

// Something that happened to one delivery of a reception.
struct HistoryStep {
  // The reception's key; 0 for a delivery resumed after a restart, which belongs to the newest
  // reception of `event_id`.
  std::int64_t reception = 0;
  std::string event_id;
  EpochMillis at = 0;
  // "delivered", "retrying", "dead_lettered", "dead_letter_failed", or "suppressed" (a rule's
  // dedup or storm control kept the event from its targets: no target, no attempt)
  std::string kind;
  std::string rule, target;
  int attempt = 0;
  std::string error_code, error;
  std::optional<int> status;      // the receiver's HTTP status or the runbook's exit code
  std::int64_t duration_us = -1;  // the attempt's; -1 when none was made
  std::string output;             // what the target printed (a runbook's output tail)
};

struct Journey {
  HistoryReception reception;
  // "unmatched", "suppressed" (matched, but dedup or storm control kept it from every target),
  // "pending", "delivered" (every delivery succeeded) or "failed" (one was dead-lettered or
  // could not be).
  std::string outcome;
  int delivered = 0, failed = 0;
  std::vector<HistoryStep> steps;  // oldest first; empty in listings
};

struct HistoryQuery {
  EpochMillis since = 0;
  EpochMillis until = std::numeric_limits<EpochMillis>::max();
  std::string rule, outcome, bus;
  std::int64_t before = 0;  // a listing's `next`: receptions older than this key
  std::size_t limit = 50;   // 1 to 1000
};

struct HistoryPage {
  std::vector<Journey> journeys;  // newest first
  std::int64_t next = 0;          // pass as `before` for the next page; 0 when there is none
};

class History {
 public:
  // Opens or creates the file; throws std::runtime_error naming it when that fails.
  explicit History(HistoryOptions options);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // A key for a new reception.
  std::int64_t next_key();
  void record(HistoryReception reception);
  void record(HistoryStep step);

  // Every reception of `event_id`, newest first, with their steps. Both queries first wait, for
  // at most kCatchUpAtMost, until what was recorded before the call is written: a client that
  // was answered 200 sees its event in the history it asks for next.
  std::vector<Journey> journeys(std::string_view event_id);
  HistoryPage list(const HistoryQuery& query);
  static constexpr std::chrono::milliseconds kCatchUpAtMost{250};

  // Waits until everything recorded so far is written (tests, shutdown).
  void flush();
  // As flush(), for at most `limit`; false when it gave up.
  bool flush_for(std::chrono::milliseconds limit);
  void publish_metrics(metrics::Registry& metrics);
  std::uint64_t dropped() const;

  // Longest text kept for an error and for a target's output; longer text keeps its end.
  static constexpr std::size_t kMaxError = 1024;
  static constexpr std::size_t kMaxOutput = 4096;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eventrouter::delivery
