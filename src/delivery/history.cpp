#include "eventrouter/delivery/history.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>

#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/util/utf8.hpp"
#include "sqlite.hpp"

namespace eventrouter::delivery {
namespace {

constexpr std::size_t kMaxName = 256;  // ids, sources, detail-types, bus, rule and target names
constexpr auto kPruneEvery = std::chrono::seconds(60);
// Once woken, the writer lets records gather this long before it writes them: one transaction
// (and one write of the pages it touched) then serves a few hundred events instead of a few,
// and producers wake it once per window instead of once per record. What people see in the
// history would lag by as much, so a query first asks the writer to write what was recorded before
// it (flush_for), and the window ends early.
constexpr auto kGatherFor = std::chrono::milliseconds(20);
// Past this many queued records the writer does not wait out the window.
constexpr std::size_t kGatherAtMost = 4096;

// The end of `text`, at most `limit` bytes, cut at a UTF-8 character boundary: the end of an
// error or of a runbook's output is what explains it.
std::string tail(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t from = text.size() - limit;
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xc0) == 0x80) ++from;
  return std::string(text.substr(from));
}

std::string head(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t to = limit;
  while (to > 0 && (static_cast<unsigned char>(text[to]) & 0xc0) == 0x80) --to;
  return std::string(text.substr(0, to));
}

std::string join_lines(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += '\n';
    out += name;
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

constexpr const char* kOutcome =
    "CASE WHEN deliveries = 0 AND rules <> '' THEN 'suppressed' WHEN deliveries = 0 THEN "
    "'unmatched' WHEN failed > 0 THEN 'failed' "
    "WHEN delivered >= deliveries THEN 'delivered' ELSE 'pending' END";

constexpr const char* kReceptionColumns =
    "key, event_id, bus, source, detail_type, received_at, size, origin, rules, deliveries, "
    "delivered, failed";

using Record = std::variant<HistoryReception, HistoryStep>;

}  // namespace

struct History::Impl {
  HistoryOptions options;
  sqlite::Database writer_db;
  std::unique_ptr<sqlite::Database> reader_db;  // opened once the schema exists
  std::mutex reader_mutex;

  std::mutex mutex;
  std::condition_variable wake, written_cv;
  std::deque<Record> queue;
  std::uint64_t enqueued = 0, written = 0;
  bool closing = false;
  int flushing = 0;  // callers of flush() waiting: write without gathering
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<metrics::Counter*> dropped_counter{nullptr};
  std::atomic<std::int64_t> last_key{0};
  std::atomic<std::uint64_t> bytes{0};
  std::thread writer;

  explicit Impl(HistoryOptions opts) : options(std::move(opts)), writer_db(options.file, false) {
    create_schema(writer_db);
    reader_db = std::make_unique<sqlite::Database>(options.file, true);
    last_key.store(writer_db.query_int("SELECT IFNULL(MAX(key), 0) FROM receptions"));
    prune();
    writer = std::thread([this] { write_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    wake.notify_all();
    writer.join();
  }

  static void create_schema(sqlite::Database& db) {
    // Before any table: lets deleted history give its pages back to the file system.
    db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    db.exec("PRAGMA journal_mode = WAL");
    // History is a record for people, not a promise: the last moments before a crash may be
    // missing, and in exchange recording costs no fsync.
    db.exec("PRAGMA synchronous = OFF");
    db.exec(
        "CREATE TABLE IF NOT EXISTS receptions (key INTEGER PRIMARY KEY, event_id TEXT NOT NULL, "
        "bus TEXT NOT NULL, source TEXT NOT NULL, detail_type TEXT NOT NULL, "
        "received_at INTEGER NOT NULL, size INTEGER NOT NULL, origin TEXT NOT NULL, "
        "rules TEXT NOT NULL, deliveries INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0, "
        "failed INTEGER NOT NULL DEFAULT 0)");
    db.exec("CREATE INDEX IF NOT EXISTS receptions_by_event ON receptions(event_id)");
    db.exec("CREATE INDEX IF NOT EXISTS receptions_by_time ON receptions(received_at)");
    db.exec(
        "CREATE TABLE IF NOT EXISTS reception_rules (rule TEXT NOT NULL, key INTEGER NOT NULL, "
        "PRIMARY KEY (rule, key)) WITHOUT ROWID");
    db.exec("CREATE INDEX IF NOT EXISTS reception_rules_by_key ON reception_rules(key)");
    db.exec(
        "CREATE TABLE IF NOT EXISTS steps (reception INTEGER NOT NULL, at INTEGER NOT NULL, "
        "kind TEXT NOT NULL, rule TEXT NOT NULL, target TEXT NOT NULL, attempt INTEGER NOT NULL, "
        "error_code TEXT NOT NULL, error TEXT NOT NULL, duration_us INTEGER NOT NULL, "
        "output TEXT NOT NULL, status INTEGER)");
    db.exec("CREATE INDEX IF NOT EXISTS steps_by_reception ON steps(reception)");
  }

  void enqueue(Record record) {
    {
      std::lock_guard lock(mutex);
      if (queue.size() >= options.max_queued) {
        count_dropped(1);
        return;
      }
      queue.push_back(std::move(record));
      ++enqueued;
      // The writer sleeps on an empty queue, or gathers until the window ends or this many
      // records wait: only those two moments need a wake-up.
      if (queue.size() != 1 && queue.size() != kGatherAtMost) return;
    }
    wake.notify_one();
  }

  void count_dropped(std::uint64_t n) {
    dropped.fetch_add(n);
    if (auto* counter = dropped_counter.load()) counter->inc(n);
  }

  void write_loop() {
    sqlite::Statement insert_reception(
        writer_db,
        "INSERT OR REPLACE INTO receptions (key, event_id, bus, source, detail_type, "
        "received_at, size, origin, rules, deliveries, delivered, failed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite::Statement insert_rule(
        writer_db, "INSERT OR IGNORE INTO reception_rules (rule, key) VALUES (?, ?)");
    sqlite::Statement newest_reception(writer_db,
                                       "SELECT MAX(key) FROM receptions WHERE event_id = ?");
    sqlite::Statement insert_step(
        writer_db,
        "INSERT INTO steps (reception, at, kind, rule, target, attempt, error_code, error, "
        "duration_us, output, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite::Statement count_delivered(
        writer_db, "UPDATE receptions SET delivered = delivered + 1 WHERE key = ?");
    sqlite::Statement count_failed(writer_db,
                                   "UPDATE receptions SET failed = failed + 1 WHERE key = ?");
    auto last_prune = std::chrono::steady_clock::now();
    std::deque<Record> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, kPruneEvery, [&] { return closing || !queue.empty(); });
        if (queue.empty() && closing) return;
        wake.wait_for(lock, kGatherFor,
                      [&] { return closing || flushing > 0 || queue.size() >= kGatherAtMost; });
        batch.swap(queue);
      }
      const auto counts = counts_within(batch);
      try {
        writer_db.exec("BEGIN");
        for (auto& record : batch) {
          if (auto* r = std::get_if<HistoryReception>(&record)) {
            const auto counted = counts.find(r->key);
            const auto [delivered, failed] =
                counted == counts.end() ? std::pair{0, 0} : counted->second;
            insert_reception.bind(1, r->key)
                .bind(2, r->event_id)
                .bind(3, r->bus)
                .bind(4, r->source)
                .bind(5, r->detail_type)
                .bind(6, r->received_at)
                .bind(7, static_cast<std::int64_t>(r->size))
                .bind(8, r->origin)
                .bind(9, join_lines(r->rules))
                .bind(10, r->deliveries)
                .bind(11, delivered)
                .bind(12, failed)
                .run();
            for (const auto& rule : r->rules) insert_rule.bind(1, rule).bind(2, r->key).run();
          } else {
            auto& s = std::get<HistoryStep>(record);
            const bool counted_in_row = s.reception != 0 && counts.contains(s.reception);
            if (s.reception == 0) {
              newest_reception.bind(1, s.event_id);
              if (newest_reception.step()) s.reception = newest_reception.column_int(0);
              newest_reception.reset();
              if (s.reception == 0) continue;  // its reception has been pruned
            }
            insert_step.bind(1, s.reception)
                .bind(2, s.at)
                .bind(3, s.kind)
                .bind(4, s.rule)
                .bind(5, s.target)
                .bind(6, s.attempt)
                .bind(7, s.error_code)
                .bind(8, s.error)
                .bind(9, s.duration_us)
                .bind(10, s.output);
            if (s.status) {
              insert_step.bind(11, *s.status);
            } else {
              insert_step.bind_null(11);
            }
            insert_step.run();
            if (counted_in_row) continue;
            if (s.kind == "delivered") count_delivered.bind(1, s.reception).run();
            if (failed_kind(s.kind)) count_failed.bind(1, s.reception).run();
          }
        }
        writer_db.exec("COMMIT");
      } catch (const sqlite::Error& e) {
        try {
          writer_db.exec("ROLLBACK");
        } catch (const sqlite::Error&) {
        }
        count_dropped(batch.size());
        spdlog::warn("history: {} records not written: {}", batch.size(), e.what());
      }
      const auto count = batch.size();
      batch.clear();
      if (std::chrono::steady_clock::now() - last_prune >= kPruneEvery) {
        prune();
        last_prune = std::chrono::steady_clock::now();
      }
      {
        std::lock_guard lock(mutex);
        written += count;
      }
      written_cv.notify_all();
    }
  }

  static bool failed_kind(std::string_view kind) {
    return kind == "dead_lettered" || kind == "dead_letter_failed";
  }

  // The delivered and failed counts of the receptions written in `batch` that steps of the same
  // batch add: each goes into its reception's row as it is inserted, instead of an UPDATE of
  // that row per step. A reception's steps always follow it in the queue.
  static std::unordered_map<std::int64_t, std::pair<int, int>> counts_within(
      const std::deque<Record>& batch) {
    std::unordered_map<std::int64_t, std::pair<int, int>> counts;
    for (const auto& record : batch) {
      if (const auto* r = std::get_if<HistoryReception>(&record)) {
        counts.try_emplace(r->key, 0, 0);
        continue;
      }
      const auto& s = std::get<HistoryStep>(record);
      const auto counted = counts.find(s.reception);
      if (counted == counts.end()) continue;
      if (s.kind == "delivered") ++counted->second.first;
      if (failed_kind(s.kind)) ++counted->second.second;
    }
    return counts;
  }

  std::uint64_t used_bytes() {
    return static_cast<std::uint64_t>(writer_db.query_int(
        "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, "
        "pragma_freelist_count, pragma_page_size"));
  }

  void delete_through(std::int64_t key) {
    sqlite::Statement receptions(writer_db, "DELETE FROM receptions WHERE key <= ?");
    sqlite::Statement steps(writer_db, "DELETE FROM steps WHERE reception <= ?");
    sqlite::Statement rules(writer_db, "DELETE FROM reception_rules WHERE key <= ?");
    receptions.bind(1, key).run();
    steps.bind(1, key).run();
    rules.bind(1, key).run();
  }

  // Drops receptions older than max_age, then the oldest fifth at a time while the file holds
  // more than max_bytes.
  void prune() {
    try {
      const auto cutoff = to_epoch_millis(std::chrono::system_clock::now() - options.max_age);
      sqlite::Statement oldest(writer_db,
                               "SELECT IFNULL(MAX(key), 0) FROM receptions WHERE received_at < ?");
      oldest.bind(1, cutoff);
      const std::int64_t expired = oldest.step() ? oldest.column_int(0) : 0;
      oldest.reset();
      if (expired > 0) delete_through(expired);
      for (int round = 0; round < 10 && used_bytes() > options.max_bytes; ++round) {
        const auto count = writer_db.query_int("SELECT COUNT(*) FROM receptions");
        if (count == 0) break;
        sqlite::Statement nth(writer_db,
                              "SELECT key FROM receptions ORDER BY key LIMIT 1 OFFSET ?");
        nth.bind(1, std::max<std::int64_t>(count / 5, 1) - 1);
        if (!nth.step()) break;
        const auto through = nth.column_int(0);
        nth.reset();
        delete_through(through);
      }
      writer_db.exec("PRAGMA incremental_vacuum");
      bytes.store(used_bytes());
    } catch (const sqlite::Error& e) {
      spdlog::warn("history: pruning {} failed: {}", options.file.string(), e.what());
    }
  }

  static Journey read_reception(sqlite::Statement& row) {
    Journey j;
    auto& r = j.reception;
    r.key = row.column_int(0);
    r.event_id = row.column_text(1);
    r.bus = row.column_text(2);
    r.source = row.column_text(3);
    r.detail_type = row.column_text(4);
    r.received_at = row.column_int(5);
    r.size = static_cast<std::uint64_t>(row.column_int(6));
    r.origin = row.column_text(7);
    r.rules = split_lines(row.column_text(8));
    r.deliveries = static_cast<int>(row.column_int(9));
    j.delivered = static_cast<int>(row.column_int(10));
    j.failed = static_cast<int>(row.column_int(11));
    j.outcome = row.column_text(12);
    return j;
  }

  void read_steps(Journey& journey) {
    sqlite::Statement steps(*reader_db,
                            "SELECT at, kind, rule, target, attempt, error_code, error, "
                            "duration_us, output, status FROM steps WHERE reception = ? "
                            "ORDER BY rowid");
    steps.bind(1, journey.reception.key);
    while (steps.step()) {
      HistoryStep s;
      s.reception = journey.reception.key;
      s.event_id = journey.reception.event_id;
      s.at = steps.column_int(0);
      s.kind = steps.column_text(1);
      s.rule = steps.column_text(2);
      s.target = steps.column_text(3);
      s.attempt = static_cast<int>(steps.column_int(4));
      s.error_code = steps.column_text(5);
      s.error = steps.column_text(6);
      s.duration_us = steps.column_int(7);
      s.output = steps.column_text(8);
      if (!steps.column_is_null(9)) s.status = static_cast<int>(steps.column_int(9));
      journey.steps.push_back(std::move(s));
    }
  }
};

History::History(HistoryOptions options) {
  const auto file = options.file;
  try {
    impl_ = std::make_unique<Impl>(std::move(options));
  } catch (const sqlite::Error& e) {
    throw std::runtime_error("cannot open the history " + file.string() + ": " + e.what());
  }
}

History::~History() = default;

std::int64_t History::next_key() {
  return impl_->last_key.fetch_add(1) + 1;
}

void History::record(HistoryReception r) {
  r.event_id = head(r.event_id, kMaxName);
  r.source = head(r.source, kMaxName);
  r.detail_type = head(r.detail_type, kMaxName);
  r.bus = head(r.bus, kMaxName);
  impl_->enqueue(std::move(r));
}

void History::record(HistoryStep s) {
  s.event_id = head(s.event_id, kMaxName);
  // Receivers and runbooks write what they like; the history holds valid UTF-8 only.
  s.error = to_valid_utf8(tail(s.error, kMaxError));
  s.output = to_valid_utf8(tail(s.output, kMaxOutput));
  impl_->enqueue(std::move(s));
}

std::vector<Journey> History::journeys(std::string_view event_id) {
  flush_for(kCatchUpAtMost);
  std::lock_guard lock(impl_->reader_mutex);
  sqlite::Statement rows(*impl_->reader_db,
                         (std::string("SELECT ") + kReceptionColumns + ", " + kOutcome +
                          " FROM receptions WHERE event_id = ? ORDER BY key DESC LIMIT 100")
                             .c_str());
  rows.bind(1, event_id);
  std::vector<Journey> out;
  while (rows.step()) out.push_back(Impl::read_reception(rows));
  for (auto& journey : out) impl_->read_steps(journey);
  return out;
}

HistoryPage History::list(const HistoryQuery& query) {
  // Every value is bound, never spliced into the text.
  std::string sql = std::string("SELECT ") + kReceptionColumns + ", " + kOutcome +
                    " FROM receptions WHERE received_at >= ?1 AND received_at < ?2";
  if (query.before > 0) sql += " AND key < ?3";
  if (!query.bus.empty()) sql += " AND bus = ?4";
  if (!query.rule.empty()) sql += " AND key IN (SELECT key FROM reception_rules WHERE rule = ?5)";
  if (!query.outcome.empty()) sql += std::string(" AND ") + kOutcome + " = ?6";
  sql += " ORDER BY key DESC LIMIT ?7";
  const auto limit = static_cast<std::int64_t>(std::clamp<std::size_t>(query.limit, 1, 1000));
  flush_for(kCatchUpAtMost);
  std::lock_guard lock(impl_->reader_mutex);
  sqlite::Statement rows(*impl_->reader_db, sql.c_str());
  rows.bind(1, query.since).bind(2, query.until);
  if (query.before > 0) rows.bind(3, query.before);
  if (!query.bus.empty()) rows.bind(4, query.bus);
  if (!query.rule.empty()) rows.bind(5, query.rule);
  if (!query.outcome.empty()) rows.bind(6, query.outcome);
  rows.bind(7, limit + 1);
  HistoryPage page;
  while (rows.step()) page.journeys.push_back(Impl::read_reception(rows));
  if (page.journeys.size() > static_cast<std::size_t>(limit)) {
    page.journeys.pop_back();
    page.next = page.journeys.back().reception.key;
  }
  return page;
}

void History::flush() {
  // In bounded waits: a wait_for of an unbounded duration would overflow the clock.
  while (!flush_for(std::chrono::hours(1))) {
  }
}

bool History::flush_for(std::chrono::milliseconds limit) {
  std::unique_lock lock(impl_->mutex);
  const auto target = impl_->enqueued;
  if (impl_->written >= target) return true;
  ++impl_->flushing;
  impl_->wake.notify_all();
  const bool done =
      impl_->written_cv.wait_for(lock, limit, [&] { return impl_->written >= target; });
  --impl_->flushing;
  return done;
}

std::uint64_t History::dropped() const {
  return impl_->dropped.load();
}

void History::publish_metrics(metrics::Registry& metrics) {
  auto& counter = metrics.counter("eventrouter_history_records_dropped_total",
                                  "History records not kept: the writer fell behind or failed.");
  counter.inc(impl_->dropped.load());
  impl_->dropped_counter.store(&counter);
  metrics.gauge_callback("eventrouter_history_bytes",
                         "Bytes the history file uses (as of its last pruning).",
                         [this] { return static_cast<double>(impl_->bytes.load()); });
}

}  // namespace eventrouter::delivery
