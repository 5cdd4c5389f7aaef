#pragma once
// Where the delivery engine keeps what it must not lose: accepted events and one record per
// (event, rule, target) delivery. A store records facts (appended, attempted, finished) and
// answers questions (what is pending, what is archived); every decision about retries, backoff
// and dead letters stays in the engine, so that another store (a replicated log) needs none of
// that logic. Journal (SQLite) is the durable store, MemoryStore the one for durability none.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::metrics {
class Registry;
}

namespace eventrouter::delivery {

// Milliseconds since the Unix epoch: how stores keep times.
using EpochMillis = std::int64_t;
EpochMillis to_epoch_millis(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point from_epoch_millis(EpochMillis millis);

// An event as a store gives it back (resume, replay).
struct StoredEvent {
  std::int64_t seq = 0;
  EpochMillis ingested_at = 0;
  std::string bus;
  std::string json;
  bool archived = false;  // kept for the archive's retention after its deliveries finish
};

// A delivery as a store gives it back (resume).
struct StoredDelivery {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string rule;
  std::string target;
  int attempts = 0;            // attempts made so far
  EpochMillis created_at = 0;  // the age clock of maximum_event_age_seconds starts here
  EpochMillis next_attempt_at = 0;
  std::string last_error;
};

// An event being appended. Views into the engine's own state, valid during append() only: a
// store that keeps them copies them then, and one that does not pays nothing.
struct NewEvent {
  std::int64_t seq = 0;
  EpochMillis ingested_at = 0;
  std::string_view bus;
  std::string_view json;
  bool archived = false;
};

// A delivery being appended: no attempt made yet, due at once.
struct NewDelivery {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string_view rule;
  std::string_view target;
  EpochMillis created_at = 0;
};

// A rule's dedup key that fired (the state a rule's `dedup` keeps), or, with `expires_at` 0, a
// key dropped before its window ended (the rule's bound of keys was reached).
struct DedupRecord {
  std::string rule;
  std::string key;     // lower-case hex SHA-256 of the key's paths and values
  std::string refire;  // lower-case hex SHA-256 of the refire_when_changed paths and values
  EpochMillis fired_at = 0;
  EpochMillis expires_at = 0;  // fired_at + the window
};

// Why an append failed; `disk_full` when the storage had no room.
struct StoreFailure {
  bool disk_full = false;
  std::string message;
};

class DeliveryStore {
 public:
  struct Pending {
    std::vector<StoredEvent> events;  // each referenced by at least one delivery
    std::vector<StoredDelivery> deliveries;
  };
  // The first of a run of event sequence numbers and delivery ids handed out together.
  struct Ids {
    std::int64_t first_event_seq = 0;
    std::int64_t first_delivery_id = 0;
  };
  using AppendDone = std::function<void(std::optional<StoreFailure>)>;

  virtual ~DeliveryStore() = default;

  // Whether what it holds outlives the process: the engine leaves a durable store's waiting
  // deliveries for the next start, and writes the others to dead-letter files at stop.
  virtual bool durable() const = 0;
  // Whether it can keep events after their deliveries finish, for replays.
  virtual bool can_archive() const = 0;

  // Numbers `events` events and `deliveries` deliveries (one call per batch). Thread-safe.
  virtual Ids reserve_ids(std::size_t events, std::size_t deliveries) = 0;
  // Records events and their deliveries; `done` is called, from any thread and possibly before
  // returning, once they are recorded (nothing) or could not be (why).
  virtual void append(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
                      AppendDone done) = 0;
  // append() with the dedup keys the batch fired, recorded in the same transaction, so that
  // a key is remembered exactly when its deliveries are. A store that does not keep dedup state
  // (durability none, the cluster's) records the rest.
  virtual void append_with_dedup(std::span<const NewEvent> events,
                                 std::span<const NewDelivery> deliveries,
                                 std::span<const DedupRecord> /*dedup*/, AppendDone done) {
    append(events, deliveries, std::move(done));
  }
  // Dedup keys recorded and not expired at `now`, oldest firing first (at start). Expired keys
  // are dropped.
  virtual std::vector<DedupRecord> load_dedup(EpochMillis /*now*/) { return {}; }
  // Attempt `attempts` of a delivery failed; the next one is due at `next_attempt_at`.
  virtual void record_attempt(std::int64_t delivery_id, int attempts, EpochMillis next_attempt_at,
                              std::string last_error) = 0;
  // The delivery finished (delivered or dead-lettered); so did its event when
  // `delete_event_seq` is given (its last delivery, and not archived).
  virtual void finish(std::int64_t delivery_id, std::optional<std::int64_t> delete_event_seq) = 0;

  // The delivery stops here unfinished, kept for a later try (at stop, or when its dead letter
  // could not be written). A store that keeps it anyway needs to do nothing.
  virtual void release(std::int64_t /*delivery_id*/) {}

  // Every unfinished delivery with its event, for resuming at start (before any append).
  virtual Pending load_pending() = 0;
  // Archived events with `from <= ingested_at < to` (on `bus` when not empty), in ingestion
  // order, after `after_seq`, at most `limit`. Safe from any thread.
  virtual std::vector<StoredEvent> archived_events(EpochMillis from, EpochMillis to,
                                                   const std::string& bus, std::int64_t after_seq,
                                                   std::size_t limit) = 0;
  // Drops archived events ingested before `cutoff` whose deliveries are all finished.
  virtual void expire_archive(EpochMillis cutoff) = 0;

  // The bytes that delivery.max_journal_bytes bounds, or nothing for a store without such a
  // bound. Admission refuses ingest past it.
  virtual std::optional<std::uint64_t> bounded_bytes() const = 0;
  // Registers the store's own gauges, if it has any.
  virtual void publish_metrics(metrics::Registry&) {}
};

// A store that keeps no events of its own to resume, replay or bound: durability none, and the
// cluster backend, whose events live in the replicated stream. Its questions have empty answers.
class StoreWithoutEvents : public DeliveryStore {
 public:
  bool can_archive() const override { return false; }
  Pending load_pending() override { return {}; }
  std::vector<StoredEvent> archived_events(EpochMillis, EpochMillis, const std::string&,
                                           std::int64_t, std::size_t) override {
    return {};
  }
  void expire_archive(EpochMillis) override {}
  std::optional<std::uint64_t> bounded_bytes() const override { return std::nullopt; }
};

}  // namespace eventrouter::delivery
