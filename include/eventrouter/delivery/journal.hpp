#pragma once
// The durable store (see DeliveryStore): accepted events and one record per (event, rule, target)
// delivery, in SQLite (WAL) in state_dir. Every write goes through one writer thread that commits
// whatever has queued up as one transaction with one fsync (group commit), so many concurrent
// requests share the cost of durability. Ingest waits for its commit before answering 200; delivery
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

#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/state_dir_lock.hpp"

struct sqlite3;

namespace eventrouter::delivery {

namespace sqlite {
class Database;
class Statement;
}  // namespace sqlite

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
  // Past this much write-ahead log, the writer copies the log into the database itself, right
  // after a commit: the checkpointer thread never catches up with a writer that never pauses,
  // and the log starts over only after a checkpoint that copied all of it. A log file grown past
  // it (by one commit) is cut back to it when it starts over.
  std::uint64_t max_log_bytes = 64ull << 20;
};

// The journal's records are the store's.
using JournalEvent = StoredEvent;
using JournalDelivery = StoredDelivery;
using JournalFailure = StoreFailure;

class Journal final : public DeliveryStore {
 public:
  // Opens or creates <state_dir>/journal.db; throws JournalOpenError.
  explicit Journal(JournalOptions options);
  ~Journal() override;  // close()
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  bool durable() const override { return true; }
  bool can_archive() const override { return true; }

  std::int64_t next_event_seq() { return next_event_seq_.fetch_add(1); }
  std::int64_t next_delivery_id() { return next_delivery_id_.fetch_add(1); }
  Ids reserve_ids(std::size_t events, std::size_t deliveries) override;

  // Records events and their deliveries; `done` is called on the writer thread once they are
  // committed (nothing) or could not be (why). The first form copies the views.
  void append(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
              AppendDone done) override;
  void append(std::vector<JournalEvent> events, std::vector<JournalDelivery> deliveries,
              AppendDone done);
  // The dedup keys go in the dedup table, in the append's transaction; keys whose window is
  // over are deleted with them.
  void append_with_dedup(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
                         std::span<const DedupRecord> dedup, AppendDone done) override;
  std::vector<DedupRecord> load_dedup(EpochMillis now) override;
  // Delivery progress, written behind.
  void record_attempt(std::int64_t delivery_id, int attempts, EpochMillis next_attempt_at,
                      std::string last_error) override;
  // The delivery's record leaves the journal, and so does its event when `delete_event_seq`
  // is given.
  void finish(std::int64_t delivery_id, std::optional<std::int64_t> delete_event_seq) override;

  // Call before any append. Also removes events left without deliveries that are not archived.
  Pending load_pending() override;

  std::vector<JournalEvent> archived_events(EpochMillis from, EpochMillis to,
                                            const std::string& bus, std::int64_t after_seq,
                                            std::size_t limit) override;
  void expire_archive(EpochMillis cutoff) override;

  // live_bytes(): the archive makes room by itself (archive_max_bytes), so what is bounded is
  // undelivered work.
  std::optional<std::uint64_t> bounded_bytes() const override { return live_bytes(); }
  // eventrouter_journal_bytes and eventrouter_journal_commits.
  void publish_metrics(metrics::Registry& metrics) override;

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
  struct Statements;
  // The writer thread: takes a batch, writes it in one transaction, keeps the size in check,
  // reports the outcome, and goes round again until closed.
  void writer_loop();
  // Waits for work and moves what queued up behind `batch` (progress that failed last time).
  // False once closing with nothing left to write.
  bool take_batch(std::deque<Op>& batch);
  // Applies every op of `batch` in one transaction; why it was not committed, if it was not.
  // db_mutex_ held.
  std::optional<JournalFailure> write_batch(Statements& statements, std::deque<Op>& batch);
  // After a write: the sizes, and the archive's bound once something was committed. db_mutex_
  // held.
  void keep_size(bool committed);
  // Answers the batch's appends; returns its progress updates to write again if it failed.
  std::deque<Op> report(std::deque<Op>& batch, const std::optional<JournalFailure>& failure);
  // Before writing failed progress again: a pause (a full disk may get room), or, when
  // closing, giving it up.
  void pause_before_retry(std::deque<Op>& progress);
  void checkpoint_loop();
  // SQLite's hook after each commit on the writer's connection: checkpoints past max_log_pages_.
  static int after_commit(void* self, sqlite3* db, const char* name, int log_pages);
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
  int max_log_pages_ = 0;  // the writer checkpoints itself past this many pages of log
  // Held for a checkpoint by either thread: two at once would make the writer's give up.
  std::mutex checkpoint_mutex_;
  std::thread checkpointer_;
};

}  // namespace eventrouter::delivery
