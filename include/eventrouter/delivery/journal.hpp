#pragma once
// The durable journal: accepted events and one record per (event, rule, target) delivery, in
// SQLite (WAL) in state_dir. Every write goes through one writer thread that commits whatever
// has queued up as one transaction with one fsync (group commit), so many concurrent requests
// share the cost of durability. Ingest waits for its commit before answering 200; delivery
// progress (attempts, finishes) is written behind, since replaying it after a crash can only
// cause a duplicate, never a loss.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventrouter/delivery/state_dir_lock.hpp"

namespace eventrouter::delivery {

namespace sqlite {
class Database;
class Statement;
}  // namespace sqlite

// Milliseconds since the Unix epoch: how the journal stores times.
using EpochMillis = std::int64_t;
EpochMillis to_epoch_millis(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point from_epoch_millis(EpochMillis millis);

// The journal could not be opened: unreadable, corrupt, locked by another process, or written
// by a newer version. The message says which and what to do; the file is left untouched.
class JournalOpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JournalOptions {
  std::filesystem::path state_dir;
  bool fsync = true;  // false: commits reach the OS but are not forced to disk (tests)
  // Take the state_dir lock; false when the caller already holds it (the daemon does).
  bool lock_state_dir = true;
  // The archive's size bound (0: none). When the journal's data (live_bytes) grows past it,
  // the oldest archived events with no delivery left are dropped, before their retention,
  // until it is back under: the archive is history, and it makes room for work.
  std::uint64_t archive_max_bytes = 0;
  // Told how many archived events each such drop removed, and the oldest one's ingestion time.
  std::function<void(std::size_t dropped, EpochMillis oldest)> on_archive_dropped;
};

struct JournalEvent {
  std::int64_t seq = 0;
  EpochMillis ingested_at = 0;
  std::string bus;
  std::string json;
  bool archived = false;  // kept for the archive's retention after its deliveries finish
};

struct JournalDelivery {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string rule;
  std::string target;
  int attempts = 0;            // attempts made so far
  EpochMillis created_at = 0;  // the age clock of maximum_event_age_seconds starts here
  EpochMillis next_attempt_at = 0;
  std::string last_error;
};

// Why a write failed; `disk_full` when the file system had no room.
struct JournalFailure {
  bool disk_full = false;
  std::string message;
};

class Journal {
 public:
  // Opens or creates <state_dir>/journal.db; throws JournalOpenError.
  explicit Journal(JournalOptions options);
  ~Journal();  // close()
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  std::int64_t next_event_seq() { return next_event_seq_.fetch_add(1); }
  std::int64_t next_delivery_id() { return next_delivery_id_.fetch_add(1); }

  // Records events and their deliveries; `done` is called on the writer thread once they are
  // committed (nothing) or could not be (why).
  using AppendDone = std::function<void(std::optional<JournalFailure>)>;
  void append(std::vector<JournalEvent> events, std::vector<JournalDelivery> deliveries,
              AppendDone done);
  // Delivery progress, written behind.
  void record_attempt(std::int64_t delivery_id, int attempts, EpochMillis next_attempt_at,
                      std::string last_error);
  // The delivery finished (delivered or dead-lettered): its record leaves the journal, and so
  // does its event when `delete_event_seq` is given (its last delivery, not archived).
  void finish(std::int64_t delivery_id, std::optional<std::int64_t> delete_event_seq);

  // Every unfinished delivery with its event, for resuming after a start. Call before any
  // append. Also removes events left without deliveries that are not archived.
  struct Pending {
    std::vector<JournalEvent> events;  // each referenced at least once
    std::vector<JournalDelivery> deliveries;
  };
  Pending load_pending();

  // Archived events with `from <= ingested_at < to` (on `bus` when not empty), in ingestion
  // order, after `after_seq`, at most `limit`. Safe from any thread.
  std::vector<JournalEvent> archived_events(EpochMillis from, EpochMillis to,
                                            const std::string& bus, std::int64_t after_seq,
                                            std::size_t limit);
  // Drops archived events ingested before `cutoff` whose deliveries are all finished.
  void expire_archive(EpochMillis cutoff);

  // Bytes the journal occupies in use (pages in use plus the write-ahead log).
  std::uint64_t bytes_in_use() const { return bytes_in_use_.load(); }
  // Bytes of the journal's data: pages in use, without the write-ahead log (which checkpoints
  // empty). What delivery.max_journal_bytes and archive_max_bytes bound.
  std::uint64_t live_bytes() const { return live_bytes_.load(); }
  std::uint64_t commits() const { return commits_.load(); }
  const std::filesystem::path& file() const { return file_; }

  // Writes what is queued, stops the writer thread and releases the state_dir lock, so that
  // another journal may open it. Later calls are ignored.
  void close();

 private:
  struct Op;
  void writer_loop();
  void checkpoint_loop();
  void enqueue(Op op);
  void update_size();
  // Drops the oldest archived events with no delivery left while live_bytes() is over the
  // archive's bound. On the writer thread, db_mutex_ held.
  void drop_archive_over_bound();

  std::filesystem::path file_;
  std::optional<StateDirLock> lock_;
  std::unique_ptr<sqlite::Database> db_;      // the writer thread's (and start-up's)
  std::unique_ptr<sqlite::Database> reader_;  // archive queries and checkpoints
  std::mutex reader_mutex_;
  std::unique_ptr<sqlite::Statement> size_query_;
  // The connections are opened without SQLite's own locking: db_ (and size_query_) serve the
  // writer thread and load_pending() one at a time through this.
  std::mutex db_mutex_;
  std::atomic<std::int64_t> next_event_seq_{1};
  std::atomic<std::int64_t> next_delivery_id_{1};
  std::atomic<std::uint64_t> bytes_in_use_{0};
  std::atomic<std::uint64_t> live_bytes_{0};
  std::uint64_t archive_max_bytes_ = 0;
  std::function<void(std::size_t, EpochMillis)> on_archive_dropped_;
  std::atomic<std::uint64_t> commits_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Op> queue_;
  bool closing_ = false;
  bool closed_ = false;
  std::thread writer_;
  std::condition_variable checkpoint_wake_;
  std::uint64_t checkpointed_at_commit_ = 0;
  std::thread checkpointer_;
};

}  // namespace eventrouter::delivery
