#include "eventrouter/delivery/journal.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>
#include <variant>

#include "eventrouter/metrics/registry.hpp"
#include "sqlite.hpp"

namespace eventrouter::delivery {

namespace fs = std::filesystem;

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  ingested_at INTEGER NOT NULL,
  bus TEXT NOT NULL,
  json TEXT NOT NULL,
  archived INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_time ON events(ingested_at);
CREATE TABLE IF NOT EXISTS deliveries(
  id INTEGER PRIMARY KEY,
  event_seq INTEGER NOT NULL,
  rule TEXT NOT NULL,
  target TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries(event_seq);
CREATE TABLE IF NOT EXISTS dedup(
  rule TEXT NOT NULL,
  key TEXT NOT NULL,
  refire TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY(rule, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_by_expiry ON dedup(expires_at);
)sql";

// A row of SELECT seq, ingested_at, bus, json, archived FROM events.
JournalEvent read_event(const sqlite::Statement& row) {
  JournalEvent e;
  e.seq = row.column_int(0);
  e.ingested_at = row.column_int(1);
  e.bus = row.column_text(2);
  e.json = row.column_text(3);
  e.archived = row.column_int(4) != 0;
  return e;
}

}  // namespace

struct Journal::Op {
  struct Append {
    std::vector<JournalEvent> events;
    std::vector<JournalDelivery> deliveries;
    AppendDone done;
    std::vector<DedupRecord> dedup;
  };
  struct Attempt {
    std::int64_t id;
    int attempts;
    EpochMillis next_attempt_at;
    std::string last_error;
  };
  struct Finish {
    std::int64_t id;
    std::optional<std::int64_t> event_seq;
  };
  struct Expire {
    EpochMillis cutoff;
  };
  std::variant<Append, Attempt, Finish, Expire> what;
};

Journal::Journal(JournalOptions options)
    : file_(options.state_dir / "journal.db"),
      archive_max_bytes_(options.archive_max_bytes),
      on_archive_dropped_(std::move(options.on_archive_dropped)) {
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) {
    throw JournalOpenError("cannot create state_dir " + options.state_dir.string() + ": " +
                           ec.message());
  }
  if (options.lock_state_dir) {
    try {
      lock_.emplace(options.state_dir);
    } catch (const StateDirLockError& e) {
      throw JournalOpenError(e.what());
    }
  }
  const bool existed = fs::exists(file_, ec);
  try {
    db_ = std::make_unique<sqlite::Database>(file_, false);
    if (!existed) {
      // Every commit rewrites whole pages besides the events' own: the rightmost leaf and the
      // parents of each table and index, the free list, the pointer map, the header. With 1 KiB
      // pages instead of SQLite's 4 KiB the journal writes about 15 % fewer bytes per finding
      // (docs/benchmarks.md). A journal keeps the page size it was created with.
      db_->exec("PRAGMA page_size=1024");
      db_->exec("PRAGMA auto_vacuum=INCREMENTAL");
    }
    // Reading the header is the first thing that notices a file that is not a database.
    const auto version = db_->query_int("PRAGMA user_version");
    if (version > kSchemaVersion) {
      throw JournalOpenError("the journal " + file_.string() + " was written by a newer " +
                             "eventrouter (schema " + std::to_string(version) +
                             "); run that version, or move the file aside");
    }
    if (db_->query_text("PRAGMA journal_mode=WAL") != "wal")
      throw sqlite::Error(SQLITE_ERROR, "cannot switch the journal to WAL mode");
    const std::string check = db_->query_text("PRAGMA quick_check");
    if (check != "ok") throw sqlite::Error(SQLITE_CORRUPT, "integrity check failed: " + check);
    db_->exec(options.fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    // Give the write-ahead log's space back after each checkpoint instead of keeping its peak.
    db_->exec(("PRAGMA journal_size_limit=" + std::to_string(options.max_log_bytes)).c_str());
    // Checkpoints (copying the log into the database, with an fsync of their own) run on a
    // thread of their own, off the commit path that ingest waits on. Under load that never
    // pauses that thread copies the log only up to where it was when it began, so the log never
    // starts over; past max_log_bytes the writer checkpoints after its commit, when nothing can
    // be appended meanwhile (in place of SQLite's automatic checkpoint, which would give up
    // whenever the checkpointer thread is at work).
    const auto page_bytes = static_cast<std::uint64_t>(db_->query_int("PRAGMA page_size"));
    max_log_pages_ = static_cast<int>(std::clamp<std::uint64_t>(
        options.max_log_bytes / (page_bytes + 24), 1, std::numeric_limits<int>::max()));
    sqlite3_wal_hook(db_->handle(), &Journal::after_commit, this);
    // Debian's SQLite zeroes deleted rows (SECURE_DELETE), which writes every page a finished
    // event leaves a second time. FAST still zeroes what is deleted from pages written anyway,
    // and lets a page that a deletion empties go to the free list unwritten.
    db_->exec("PRAGMA secure_delete=FAST");
    db_->exec(kSchema);
    db_->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    next_event_seq_ = db_->query_int("SELECT coalesce(max(seq), 0) + 1 FROM events");
    next_delivery_id_ = db_->query_int("SELECT coalesce(max(id), 0) + 1 FROM deliveries");
    // Read-write only so that it can run checkpoints; it never writes rows.
    reader_ = std::make_unique<sqlite::Database>(file_, false);
    // A connection finds the write-ahead log with its first read; until then a checkpoint
    // through it does nothing, and the log would grow until the next start.
    reader_->query_int("SELECT count(*) FROM sqlite_schema");
  } catch (const sqlite::Error& e) {
    lock_.reset();
    const bool corrupt = e.code() == SQLITE_CORRUPT || e.code() == SQLITE_NOTADB;
    throw JournalOpenError(
        "cannot open the journal " + file_.string() + ": " + e.what() +
        (corrupt ? ". The file is damaged and was left as it is: it may hold "
                   "undelivered events. Move it aside (keep it for inspection) to start with "
                   "an empty journal."
                 : ""));
  } catch (...) {
    lock_.reset();
    throw;
  }
  update_size();
  writer_ = std::thread([this] { writer_loop(); });
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

void Journal::checkpoint_loop() {
  // Named, so that per-thread accounting (/proc/PID/task/*/io, perf) tells the journal's
  // writes from the rest (scripts/bench_suite.py reads them).
  pthread_setname_np(pthread_self(), "er-checkpoint");
  std::unique_lock lock(mutex_);
  int log_frames = 0;
  while (!closing_) {
    // Close to the bound, passes come often: what is left for the writer's own checkpoint,
    // which holds up ingest, is then a few milliseconds of log instead of 200 ms of it.
    const bool close_to_bound = log_frames >= max_log_pages_ / 2;
    checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(close_to_bound ? 10 : 200));
    if (commits_.load() == checkpointed_at_commit_) {
      log_frames = 0;  // idle: the last pass copied it all, and the next commit starts it over
      continue;
    }
    checkpointed_at_commit_ = commits_.load();
    lock.unlock();
    int copied = 0;
    {
      std::lock_guard reader(reader_mutex_);
      std::lock_guard checkpoint(checkpoint_mutex_);
      // PASSIVE: never waits for the writer or for readers, copies what it can.
      sqlite3_wal_checkpoint_v2(reader_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                &copied);
    }
    lock.lock();
  }
}

int Journal::after_commit(void* self, sqlite3* db, const char*, int log_pages) {
  auto& journal = *static_cast<Journal*>(self);
  if (log_pages < journal.max_log_pages_) return SQLITE_OK;
  // Waits out a pass of the checkpointer thread, if one is under way, then copies the rest.
  std::lock_guard checkpoint(journal.checkpoint_mutex_);
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

Journal::~Journal() {
  close();
}

void Journal::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  wake_.notify_all();
  checkpoint_wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // Nothing writes rows any more, so a successor may take the state_dir over now rather than
  // when this object goes away. Reset, so that nothing closes the descriptor number twice.
  lock_.reset();
}

void Journal::enqueue(Op op) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      // Progress after the writer stopped is not recorded: the delivery resumes next start.
      if (auto* append = std::get_if<Op::Append>(&op.what)) {
        append->done(JournalFailure{false, "the journal is closed (shutting down)"});
      }
      return;
    }
    queue_.push_back(std::move(op));
  }
  wake_.notify_one();
}

DeliveryStore::Ids Journal::reserve_ids(std::size_t events, std::size_t deliveries) {
  return Ids{next_event_seq_.fetch_add(static_cast<std::int64_t>(events)),
             next_delivery_id_.fetch_add(static_cast<std::int64_t>(deliveries))};
}

void Journal::append(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
                     AppendDone done) {
  append_with_dedup(events, deliveries, {}, std::move(done));
}

void Journal::append_with_dedup(std::span<const NewEvent> events,
                                std::span<const NewDelivery> deliveries,
                                std::span<const DedupRecord> dedup, AppendDone done) {
  std::vector<JournalEvent> owned_events;
  owned_events.reserve(events.size());
  for (const auto& e : events) {
    owned_events.push_back(
        JournalEvent{e.seq, e.ingested_at, std::string(e.bus), std::string(e.json), e.archived});
  }
  std::vector<JournalDelivery> owned_deliveries;
  owned_deliveries.reserve(deliveries.size());
  for (const auto& d : deliveries) {
    owned_deliveries.push_back(JournalDelivery{d.id, d.event_seq, std::string(d.rule),
                                               std::string(d.target), 0, d.created_at, d.created_at,
                                               ""});
  }
  enqueue(Op{Op::Append{std::move(owned_events), std::move(owned_deliveries), std::move(done),
                        std::vector<DedupRecord>(dedup.begin(), dedup.end())}});
}

void Journal::publish_metrics(metrics::Registry& metrics) {
  metrics.gauge_callback("eventrouter_journal_bytes",
                         "Bytes the journal uses (pages in use plus the write-ahead log).",
                         [this] { return static_cast<double>(bytes_in_use()); });
  metrics.gauge_callback("eventrouter_journal_commits",
                         "Journal transactions committed since start (group commits).",
                         [this] { return static_cast<double>(commits()); });
}

void Journal::append(std::vector<JournalEvent> events, std::vector<JournalDelivery> deliveries,
                     AppendDone done) {
  enqueue(Op{Op::Append{std::move(events), std::move(deliveries), std::move(done), {}}});
}

void Journal::record_attempt(std::int64_t delivery_id, int attempts, EpochMillis next_attempt_at,
                             std::string last_error) {
  enqueue(Op{Op::Attempt{delivery_id, attempts, next_attempt_at, std::move(last_error)}});
}

void Journal::finish(std::int64_t delivery_id, std::optional<std::int64_t> delete_event_seq) {
  enqueue(Op{Op::Finish{delivery_id, delete_event_seq}});
}

void Journal::expire_archive(EpochMillis cutoff) {
  enqueue(Op{Op::Expire{cutoff}});
}

void Journal::update_size() {
  // One statement, prepared once: this runs after every commit.
  if (!size_query_) {
    size_query_ = std::make_unique<sqlite::Statement>(
        *db_,
        "SELECT page_size, page_count, freelist_count FROM pragma_page_size, "
        "pragma_page_count, pragma_freelist_count");
  }
  std::uint64_t page_size = 0, pages = 0, free_pages = 0;
  if (size_query_->step()) {
    page_size = static_cast<std::uint64_t>(size_query_->column_int(0));
    pages = static_cast<std::uint64_t>(size_query_->column_int(1));
    free_pages = static_cast<std::uint64_t>(size_query_->column_int(2));
  }
  size_query_->reset();
  std::error_code ec;
  auto wal = fs::file_size(fs::path(file_.string() + "-wal"), ec);
  if (ec) wal = 0;
  live_bytes_ = (pages - free_pages) * page_size;
  bytes_in_use_ = live_bytes_ + wal;
}

void Journal::drop_archive_over_bound() {
  if (archive_max_bytes_ == 0 || live_bytes_ <= archive_max_bytes_) return;
  // Down to 90 % of the bound, so that the next few commits do not drop again at once.
  const std::uint64_t target = archive_max_bytes_ / 10 * 9;
  sqlite::Statement oldest(*db_,
                           "SELECT min(ingested_at) FROM (SELECT ingested_at FROM events "
                           "WHERE archived = 1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE "
                           "event_seq = events.seq) ORDER BY seq LIMIT 256)");
  sqlite::Statement drop(*db_,
                         "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE "
                         "archived = 1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE "
                         "event_seq = events.seq) ORDER BY seq LIMIT 256)");
  std::size_t dropped = 0;
  EpochMillis first = 0;
  while (live_bytes_ > target) {
    if (oldest.step() && dropped == 0) first = oldest.column_int(0);
    oldest.reset();
    db_->exec("BEGIN IMMEDIATE");
    drop.run();
    const auto removed = static_cast<std::size_t>(sqlite3_changes(db_->handle()));
    db_->exec("COMMIT");
    dropped += removed;
    update_size();
    if (removed == 0) break;  // what is left is undelivered work, not archive
  }
  if (dropped == 0) return;
  db_->exec("PRAGMA incremental_vacuum");
  update_size();
  if (on_archive_dropped_) on_archive_dropped_(dropped, first);
}

// The writer thread's prepared statements, and how each op uses them.
struct Journal::Statements {
  explicit Statements(sqlite::Database& database)
      : db(database),
        insert_event(db,
                     "INSERT INTO events(seq, ingested_at, bus, json, archived) VALUES(?,?,?,?,?)"),
        insert_delivery(db,
                        "INSERT INTO deliveries(id, event_seq, rule, target, attempts, "
                        "created_at, next_attempt_at, last_error) VALUES(?,?,?,?,?,?,?,?)"),
        update_delivery(
            db, "UPDATE deliveries SET attempts=?, next_attempt_at=?, last_error=? WHERE id=?"),
        delete_delivery(db, "DELETE FROM deliveries WHERE id=?"),
        delete_event(db, "DELETE FROM events WHERE seq=?"),
        expire(db,
               "DELETE FROM events WHERE ingested_at < ? AND NOT EXISTS "
               "(SELECT 1 FROM deliveries WHERE event_seq = events.seq)"),
        put_dedup(db,
                  "INSERT OR REPLACE INTO dedup(rule, key, refire, fired_at, expires_at) "
                  "VALUES(?,?,?,?,?)"),
        delete_dedup(db, "DELETE FROM dedup WHERE rule=? AND key=?"),
        expire_dedup(db, "DELETE FROM dedup WHERE expires_at <= ?") {}

  void apply_dedup(const std::vector<DedupRecord>& records) {
    if (records.empty()) return;
    for (const auto& r : records) {
      if (r.expires_at == 0) {
        delete_dedup.bind(1, r.rule).bind(2, r.key).run();
        continue;
      }
      put_dedup.bind(1, r.rule).bind(2, r.key).bind(3, r.refire).bind(4, r.fired_at);
      put_dedup.bind(5, r.expires_at).run();
    }
    // Keys whose window is over go with the writes that add keys: the table holds at most the
    // keys of the rules' windows.
    expire_dedup.bind(1, to_epoch_millis(std::chrono::system_clock::now())).run();
  }

  void apply(Op& op) {
    if (auto* append = std::get_if<Op::Append>(&op.what)) {
      for (const auto& e : append->events) {
        insert_event.bind(1, e.seq).bind(2, e.ingested_at).bind(3, e.bus);
        // The op outlives the statement's run: SQLite need not copy the event's text.
        insert_event.bind_text_unowned(4, e.json);
        insert_event.bind(5, std::int64_t{e.archived});
        insert_event.run();
      }
      for (const auto& d : append->deliveries) {
        insert_delivery.bind(1, d.id).bind(2, d.event_seq).bind(3, d.rule).bind(4, d.target);
        insert_delivery.bind(5, std::int64_t{d.attempts}).bind(6, d.created_at);
        insert_delivery.bind(7, d.next_attempt_at).bind(8, d.last_error);
        insert_delivery.run();
      }
      apply_dedup(append->dedup);
    } else if (auto* attempt = std::get_if<Op::Attempt>(&op.what)) {
      update_delivery.bind(1, std::int64_t{attempt->attempts}).bind(2, attempt->next_attempt_at);
      update_delivery.bind(3, attempt->last_error).bind(4, attempt->id);
      update_delivery.run();
    } else if (auto* finish = std::get_if<Op::Finish>(&op.what)) {
      delete_delivery.bind(1, finish->id).run();
      if (finish->event_seq) delete_event.bind(1, *finish->event_seq).run();
    } else if (auto* ex = std::get_if<Op::Expire>(&op.what)) {
      expire.bind(1, ex->cutoff).run();
      db.exec("PRAGMA incremental_vacuum");
    }
  }

  sqlite::Database& db;
  sqlite::Statement insert_event, insert_delivery, update_delivery, delete_delivery, delete_event,
      expire, put_dedup, delete_dedup, expire_dedup;
};

void Journal::writer_loop() {
  pthread_setname_np(pthread_self(), "er-journal");
  // Held while this thread uses db_: load_pending() may run at the same time, at start-up.
  std::unique_lock db_lock(db_mutex_);
  Statements statements(*db_);
  db_lock.unlock();

  std::deque<Op> batch;
  while (take_batch(batch)) {
    db_lock.lock();
    const auto failure = write_batch(statements, batch);
    keep_size(!failure);
    db_lock.unlock();
    batch = report(batch, failure);
    if (failure && !batch.empty()) pause_before_retry(batch);
  }
  db_lock.lock();  // for the statements' finalisation, on the way out
}

bool Journal::take_batch(std::deque<Op>& batch) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return closing_ || !queue_.empty() || !batch.empty(); });
  if (batch.empty() && queue_.empty() && closing_) {
    closed_ = true;
    return false;
  }
  // Progress that failed last time goes first, then everything that queued up meanwhile.
  for (auto& op : queue_) batch.push_back(std::move(op));
  queue_.clear();
  return true;
}

std::optional<JournalFailure> Journal::write_batch(Statements& statements, std::deque<Op>& batch) {
  try {
    db_->exec("BEGIN IMMEDIATE");
    for (auto& op : batch) statements.apply(op);
    db_->exec("COMMIT");
    commits_.fetch_add(1);
    return std::nullopt;
  } catch (const sqlite::Error& e) {
    try {
      db_->exec("ROLLBACK");
    } catch (const sqlite::Error&) {
      // Nothing was begun, or SQLite already rolled back.
    }
    return JournalFailure{e.code() == SQLITE_FULL, e.what()};
  }
}

void Journal::keep_size(bool committed) {
  try {
    update_size();
    if (committed) drop_archive_over_bound();
  } catch (const sqlite::Error& e) {
    try {
      db_->exec("ROLLBACK");
    } catch (const sqlite::Error&) {
    }
    spdlog::error("journal: dropping old archived events failed: {}", e.what());
  }
}

std::deque<Journal::Op> Journal::report(std::deque<Op>& batch,
                                        const std::optional<JournalFailure>& failure) {
  std::deque<Op> retry;
  for (auto& op : batch) {
    if (auto* append = std::get_if<Op::Append>(&op.what)) {
      append->done(failure);
    } else if (failure) {
      retry.push_back(std::move(op));
    }
  }
  if (failure) spdlog::error("journal write failed: {}", failure->message);
  return retry;
}

void Journal::pause_before_retry(std::deque<Op>& progress) {
  std::unique_lock lock(mutex_);
  if (closing_) {
    spdlog::warn("{} delivery updates not written at shutdown; those deliveries may repeat",
                 progress.size());
    progress.clear();
    return;
  }
  wake_.wait_for(lock, std::chrono::milliseconds(500), [&] { return closing_; });
}

Journal::Pending Journal::load_pending() {
  std::lock_guard db_lock(db_mutex_);
  Pending pending;
  // Events of finished deliveries whose removal was not written before a crash or stop.
  db_->exec(
      "DELETE FROM events WHERE archived = 0 AND NOT EXISTS "
      "(SELECT 1 FROM deliveries WHERE event_seq = events.seq)");
  sqlite::Statement deliveries(*db_,
                               "SELECT id, event_seq, rule, target, attempts, created_at, "
                               "next_attempt_at, last_error FROM deliveries ORDER BY id");
  while (deliveries.step()) {
    JournalDelivery d;
    d.id = deliveries.column_int(0);
    d.event_seq = deliveries.column_int(1);
    d.rule = deliveries.column_text(2);
    d.target = deliveries.column_text(3);
    d.attempts = static_cast<int>(deliveries.column_int(4));
    d.created_at = deliveries.column_int(5);
    d.next_attempt_at = deliveries.column_int(6);
    d.last_error = deliveries.column_text(7);
    pending.deliveries.push_back(std::move(d));
  }
  sqlite::Statement events(*db_,
                           "SELECT seq, ingested_at, bus, json, archived FROM events WHERE "
                           "EXISTS (SELECT 1 FROM deliveries WHERE event_seq = events.seq) "
                           "ORDER BY seq");
  while (events.step()) pending.events.push_back(read_event(events));
  update_size();
  return pending;
}

std::vector<DedupRecord> Journal::load_dedup(EpochMillis now) {
  std::lock_guard db_lock(db_mutex_);
  sqlite::Statement expire(*db_, "DELETE FROM dedup WHERE expires_at <= ?");
  expire.bind(1, now).run();
  sqlite::Statement query(*db_,
                          "SELECT rule, key, refire, fired_at, expires_at FROM dedup "
                          "ORDER BY fired_at");
  std::vector<DedupRecord> out;
  while (query.step()) {
    out.push_back(DedupRecord{std::string(query.column_text(0)), std::string(query.column_text(1)),
                              std::string(query.column_text(2)), query.column_int(3),
                              query.column_int(4)});
  }
  return out;
}

std::vector<JournalEvent> Journal::archived_events(EpochMillis from, EpochMillis to,
                                                   const std::string& bus, std::int64_t after_seq,
                                                   std::size_t limit) {
  std::lock_guard lock(reader_mutex_);
  sqlite::Statement query(*reader_,
                          "SELECT seq, ingested_at, bus, json, archived FROM events WHERE "
                          "archived = 1 "
                          "AND ingested_at >= ? AND ingested_at < ? AND seq > ? "
                          "AND (? = '' OR bus = ?) ORDER BY seq LIMIT ?");
  query.bind(1, from).bind(2, to).bind(3, after_seq).bind(4, bus).bind(5, bus);
  query.bind(6, static_cast<std::int64_t>(limit));
  std::vector<JournalEvent> out;
  while (query.step()) out.push_back(read_event(query));
  return out;
}

}  // namespace eventrouter::delivery
