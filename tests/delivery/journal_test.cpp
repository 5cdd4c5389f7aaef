// The durable journal against real files in scratch folders: what survives a close and reopen,
// progress updates, finishing, the archive, damaged and locked journals, sizes and commits.

#include "eventrouter/delivery/journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/count_rows.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::delivery {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::count_rows;
using testing::TempDir;

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

JournalEvent make_event(std::int64_t seq, EpochMillis at, std::string bus, bool archived,
                        std::string json = "") {
  JournalEvent e;
  e.seq = seq;
  e.ingested_at = at;
  e.bus = std::move(bus);
  e.json = json.empty() ? R"({"n":)" + std::to_string(seq) + "}" : std::move(json);
  e.archived = archived;
  return e;
}

JournalDelivery make_delivery(std::int64_t id, std::int64_t seq, std::string rule,
                              std::string target, EpochMillis created = 1000) {
  JournalDelivery d;
  d.id = id;
  d.event_seq = seq;
  d.rule = std::move(rule);
  d.target = std::move(target);
  d.created_at = created;
  d.next_attempt_at = created;
  return d;
}

// Appends and waits (bounded) for the callback; returns what it reported.
std::optional<JournalFailure> append_sync(Journal& journal, std::vector<JournalEvent> events,
                                          std::vector<JournalDelivery> deliveries) {
  auto promise = std::make_shared<std::promise<std::optional<JournalFailure>>>();
  auto future = promise->get_future();
  journal.append(
      std::move(events), std::move(deliveries),
      [promise](const std::optional<JournalFailure>& failure) { promise->set_value(failure); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "append's callback was not called within 10 s";
    return JournalFailure{false, "timeout"};
  }
  return future.get();
}

JournalOptions options_for(const fs::path& dir, bool fsync = false) {
  JournalOptions options;
  options.state_dir = dir;
  options.fsync = fsync;
  return options;
}

std::vector<std::int64_t> seqs_of(const std::vector<JournalEvent>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

std::vector<std::int64_t> ids_of(const std::vector<JournalDelivery>& deliveries) {
  std::vector<std::int64_t> out;
  for (const auto& d : deliveries) out.push_back(d.id);
  return out;
}

TEST(Journal, NewJournalIsEmptyAndNumbersStartAtOne) {
  TempDir dir;
  Journal journal(options_for(dir.path() / "state"));
  EXPECT_EQ(journal.file(), dir.path() / "state" / "journal.db");
  EXPECT_TRUE(fs::exists(journal.file()));
  const auto pending = journal.load_pending();
  EXPECT_TRUE(pending.events.empty());
  EXPECT_TRUE(pending.deliveries.empty());
  EXPECT_EQ(journal.next_event_seq(), 1);
  EXPECT_EQ(journal.next_event_seq(), 2);
  EXPECT_EQ(journal.next_delivery_id(), 1);
}

TEST(Journal, UnfinishedDeliveriesAndTheirEventsSurviveAReopen) {
  TempDir dir;
  {
    Journal journal(options_for(dir.path()));
    journal.load_pending();
    EXPECT_EQ(append_sync(journal,
                          {make_event(1, 100, "default", false, R"({"id":"a","x":[1,2]})"),
                           make_event(2, 200, "security", true)},
                          {make_delivery(1, 1, "rule-a", "hook"),
                           make_delivery(2, 1, "rule-b", "queue", 1500),
                           make_delivery(3, 2, "rule-a", "hook")}),
              std::nullopt);
    EXPECT_EQ(append_sync(journal, {make_event(3, 300, "default", false)},
                          {make_delivery(4, 3, "rule-a", "hook")}),
              std::nullopt);
    // Delivery 3 finishes; event 2 is archived so it stays (no delete_event_seq given).
    journal.finish(3, std::nullopt);
    // Delivery 4 was the last of event 3, which is not archived: both leave.
    journal.finish(4, 3);
    journal.close();
  }
  Journal journal(options_for(dir.path()));
  const auto pending = journal.load_pending();
  EXPECT_THAT(ids_of(pending.deliveries), ElementsAre(1, 2));
  EXPECT_THAT(seqs_of(pending.events), ElementsAre(1));
  ASSERT_EQ(pending.events.size(), 1u);
  EXPECT_EQ(pending.events[0].ingested_at, 100);
  EXPECT_EQ(pending.events[0].bus, "default");
  EXPECT_EQ(pending.events[0].json, R"({"id":"a","x":[1,2]})");
  EXPECT_FALSE(pending.events[0].archived);
  ASSERT_EQ(pending.deliveries.size(), 2u);
  const auto& d = pending.deliveries[1];
  EXPECT_EQ(d.event_seq, 1);
  EXPECT_EQ(d.rule, "rule-b");
  EXPECT_EQ(d.target, "queue");
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(d.created_at, 1500);
  EXPECT_EQ(d.next_attempt_at, 1500);
  EXPECT_EQ(d.last_error, "");
  // The archived event 2 (no deliveries left) is still there for replays.
  EXPECT_THAT(seqs_of(journal.archived_events(0, 1000, "", 0, 100)), ElementsAre(2));
  // Numbering continues after the stored maxima (event 2 and delivery 2 are the highest left).
  EXPECT_EQ(journal.next_event_seq(), 3);
  EXPECT_EQ(journal.next_delivery_id(), 3);
}

TEST(Journal, NumberingContinuesAfterTheHighestStoredValues) {
  TempDir dir;
  {
    Journal journal(options_for(dir.path()));
    journal.load_pending();
    ASSERT_EQ(append_sync(journal, {make_event(41, 1, "b", false), make_event(7, 1, "b", false)},
                          {make_delivery(99, 41, "r", "t"), make_delivery(12, 7, "r", "t")}),
              std::nullopt);
  }
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  EXPECT_EQ(journal.next_event_seq(), 42);
  EXPECT_EQ(journal.next_delivery_id(), 100);
}

TEST(Journal, AsADeliveryStoreItNumbersBatchesAndRecordsNewDeliveriesDueAtOnce) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  DeliveryStore& store = journal;
  store.load_pending();
  EXPECT_TRUE(store.durable());
  const auto ids = store.reserve_ids(2, 3);
  EXPECT_EQ(ids.first_event_seq, 1);
  EXPECT_EQ(ids.first_delivery_id, 1);
  const auto next = store.reserve_ids(1, 1);
  EXPECT_EQ(next.first_event_seq, 3);
  EXPECT_EQ(next.first_delivery_id, 4);

  const std::string json = R"({"id":"a"})";
  const std::vector<NewEvent> events = {{1, 100, "default", json, false}};
  const std::vector<NewDelivery> deliveries = {{1, 1, "rule-a", "hook", 150}};
  std::promise<std::optional<StoreFailure>> committed;
  store.append(events, deliveries, [&committed](std::optional<StoreFailure> failure) {
    committed.set_value(std::move(failure));
  });
  auto answer = committed.get_future();
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(answer.get(), std::nullopt);
  journal.close();

  Journal reopened(options_for(dir.path()));
  const auto pending = reopened.load_pending();
  ASSERT_EQ(pending.events.size(), 1u);
  EXPECT_EQ(pending.events[0].json, json);
  ASSERT_EQ(pending.deliveries.size(), 1u);
  EXPECT_EQ(pending.deliveries[0].rule, "rule-a");
  EXPECT_EQ(pending.deliveries[0].attempts, 0);
  EXPECT_EQ(pending.deliveries[0].next_attempt_at, 150);
}

TEST(Journal, RecordedAttemptsAreSeenAfterReopen) {
  TempDir dir;
  {
    Journal journal(options_for(dir.path()));
    journal.load_pending();
    ASSERT_EQ(append_sync(journal, {make_event(1, 10, "default", false)},
                          {make_delivery(1, 1, "r", "hook"), make_delivery(2, 1, "r", "queue")}),
              std::nullopt);
    journal.record_attempt(1, 1, 5000, "HTTP 503");
    journal.record_attempt(1, 2, 9000, "connection refused");
    journal.close();  // writes what is queued
  }
  Journal journal(options_for(dir.path()));
  const auto pending = journal.load_pending();
  ASSERT_EQ(pending.deliveries.size(), 2u);
  EXPECT_EQ(pending.deliveries[0].id, 1);
  EXPECT_EQ(pending.deliveries[0].attempts, 2);
  EXPECT_EQ(pending.deliveries[0].next_attempt_at, 9000);
  EXPECT_EQ(pending.deliveries[0].last_error, "connection refused");
  EXPECT_EQ(pending.deliveries[1].attempts, 0);
  EXPECT_EQ(pending.deliveries[1].last_error, "");
}

TEST(Journal, FinishRemovesTheDeliveryAndTheEventWhenAsked) {
  TempDir dir;
  fs::path file;
  {
    Journal journal(options_for(dir.path()));
    file = journal.file();
    journal.load_pending();
    ASSERT_EQ(append_sync(journal, {make_event(1, 10, "default", false)},
                          {make_delivery(1, 1, "r", "a"), make_delivery(2, 1, "r", "b")}),
              std::nullopt);
    journal.finish(1, std::nullopt);
    journal.finish(2, 1);
  }
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events"), 0);
  Journal journal(options_for(dir.path()));
  const auto pending = journal.load_pending();
  EXPECT_TRUE(pending.deliveries.empty());
  EXPECT_TRUE(pending.events.empty());
}

TEST(Journal, LoadPendingDropsOrphanedEventsButKeepsArchivedOnes) {
  TempDir dir;
  fs::path file;
  {
    Journal journal(options_for(dir.path()));
    file = journal.file();
    journal.load_pending();
    ASSERT_EQ(append_sync(journal,
                          {make_event(1, 10, "default", false), make_event(2, 20, "default", true)},
                          {make_delivery(1, 1, "r", "a"), make_delivery(2, 2, "r", "a")}),
              std::nullopt);
    // Both deliveries finish, but the removal of event 1 was "not written" (a crash between).
    journal.finish(1, std::nullopt);
    journal.finish(2, std::nullopt);
  }
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events"), 2);
  Journal journal(options_for(dir.path()));
  const auto pending = journal.load_pending();
  EXPECT_TRUE(pending.events.empty());
  EXPECT_TRUE(pending.deliveries.empty());
  journal.close();
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events WHERE seq = 1"), 0);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events WHERE seq = 2"), 1);
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    journal_ = std::make_unique<Journal>(options_for(dir_.path()));
    journal_->load_pending();
    // seq: time, bus. Event 4 is not archived and must never show up.
    ASSERT_EQ(
        append_sync(*journal_,
                    {make_event(1, 1000, "default", true), make_event(2, 2000, "sec", true),
                     make_event(3, 2999, "default", true), make_event(4, 2500, "default", false),
                     make_event(5, 3000, "sec", true), make_event(6, 3500, "default", true)},
                    {make_delivery(1, 4, "r", "t")}),
        std::nullopt);
  }
  TempDir dir_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(ArchiveTest, WindowIncludesFromAndExcludesTo) {
  EXPECT_THAT(seqs_of(journal_->archived_events(2000, 3000, "", 0, 100)), ElementsAre(2, 3));
  EXPECT_THAT(seqs_of(journal_->archived_events(1000, 3001, "", 0, 100)), ElementsAre(1, 2, 3, 5));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 1000, "", 0, 100)), ElementsAre());
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 1001, "", 0, 100)), ElementsAre(1));
}

TEST_F(ArchiveTest, ReturnsTheEventsFields) {
  const auto events = journal_->archived_events(2000, 2001, "", 0, 100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 2);
  EXPECT_EQ(events[0].ingested_at, 2000);
  EXPECT_EQ(events[0].bus, "sec");
  EXPECT_EQ(events[0].json, R"({"n":2})");
  EXPECT_TRUE(events[0].archived);
}

TEST_F(ArchiveTest, FiltersByBus) {
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "sec", 0, 100)), ElementsAre(2, 5));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "default", 0, 100)),
              ElementsAre(1, 3, 6));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "nope", 0, 100)), ElementsAre());
}

TEST_F(ArchiveTest, PagesWithAfterSeqAndLimit) {
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "", 0, 2)), ElementsAre(1, 2));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "", 2, 2)), ElementsAre(3, 5));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "", 5, 2)), ElementsAre(6));
  EXPECT_THAT(seqs_of(journal_->archived_events(0, 10000, "", 6, 2)), ElementsAre());
}

TEST_F(ArchiveTest, IsReadableFromAnotherThread) {
  std::vector<JournalEvent> got;
  std::thread reader([&] { got = journal_->archived_events(0, 10000, "", 0, 100); });
  reader.join();
  EXPECT_THAT(seqs_of(got), ElementsAre(1, 2, 3, 5, 6));
}

TEST(Journal, ExpireArchiveKeepsEventsWithPendingDeliveries) {
  TempDir dir;
  fs::path file;
  {
    Journal journal(options_for(dir.path()));
    file = journal.file();
    journal.load_pending();
    ASSERT_EQ(append_sync(journal,
                          {make_event(1, 1000, "b", true), make_event(2, 2000, "b", true),
                           make_event(3, 3000, "b", true), make_event(4, 9000, "b", true)},
                          {make_delivery(1, 2, "r", "t")}),
              std::nullopt);
    journal.expire_archive(5000);
    // Expiry is written behind: an append queued after it completes after it.
    ASSERT_EQ(append_sync(journal, {}, {}), std::nullopt);
    EXPECT_THAT(seqs_of(journal.archived_events(0, 100000, "", 0, 100)), ElementsAre(2, 4));
    journal.finish(1, std::nullopt);
    journal.expire_archive(5000);
    ASSERT_EQ(append_sync(journal, {}, {}), std::nullopt);
    EXPECT_THAT(seqs_of(journal.archived_events(0, 100000, "", 0, 100)), ElementsAre(4));
  }
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events"), 1);
}

TEST(Journal, GarbageFileIsRefusedAndLeftAsItIs) {
  TempDir dir;
  const fs::path file = dir.path() / "journal.db";
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 251));
  {
    std::ofstream out(file, std::ios::binary);
    out << garbage;
  }
  try {
    Journal journal(options_for(dir.path()));
    FAIL() << "a garbage journal.db was opened";
  } catch (const JournalOpenError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr(file.string()));
    EXPECT_THAT(what, HasSubstr("Move it aside"));
  }
  EXPECT_EQ(read_bytes(file), garbage);
  EXPECT_FALSE(fs::exists(dir.path() / "journal.db-wal"));
  // The failed open released the state_dir lock: once the file is moved aside, it opens.
  fs::rename(file, dir.path() / "journal.db.damaged");
  Journal journal(options_for(dir.path()));
  EXPECT_TRUE(journal.load_pending().deliveries.empty());
}

// Writes `n` bytes of junk at `offset` in `file`, in place.
void scribble(const fs::path& file, std::streamoff offset, std::size_t n) {
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  io.seekp(offset);
  for (std::size_t i = 0; i < n; ++i) io.put(static_cast<char>(0xA5 ^ (i * 31)));
}

TEST(Journal, DamagedPagesAreRefusedAndLeftAsTheyAre) {
  TempDir dir;
  fs::path file;
  {
    Journal journal(options_for(dir.path()));
    file = journal.file();
    journal.load_pending();
    std::vector<JournalEvent> events;
    std::vector<JournalDelivery> deliveries;
    for (int i = 1; i <= 100; ++i) {
      events.push_back(make_event(i, i, "default", false, std::string(500, 'e')));
      deliveries.push_back(make_delivery(i, i, "r", "t"));
    }
    ASSERT_EQ(append_sync(journal, std::move(events), std::move(deliveries)), std::nullopt);
  }
  // The last connection checkpointed the log into the file: damage a page in the middle.
  ASSERT_FALSE(fs::exists(dir.path() / "journal.db-wal"));
  const auto size = fs::file_size(file);
  ASSERT_GT(size, 8u * 4096u);
  scribble(file, static_cast<std::streamoff>(size / 2 / 4096 * 4096), 4096);
  const std::string damaged = read_bytes(file);
  try {
    Journal journal(options_for(dir.path()));
    FAIL() << "a journal with a damaged page was opened";
  } catch (const JournalOpenError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.string()));
    EXPECT_THAT(e.what(), HasSubstr("Move it aside"));
  }
  EXPECT_EQ(read_bytes(file), damaged);
}

// A commit rewrites whole pages (leaves, parents, the free list, the header): new journals use
// 1 KiB pages, so that each costs a quarter of SQLite's default. A journal created with other
// pages keeps them and works as before.
TEST(Journal, NewJournalsUseSmallPagesAndOlderOnesKeepTheirs) {
  TempDir dir;
  {
    Journal journal(options_for(dir.path() / "new"));
    journal.load_pending();
  }
  EXPECT_EQ(count_rows(dir.path() / "new" / "journal.db", "PRAGMA page_size"), 1024);

  const auto old_dir = dir.path() / "old";
  fs::create_directories(old_dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((old_dir / "journal.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t(x)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const std::string json = "{\"text\":\"" + std::string(3000, 'a') + "\"}";
  {
    Journal journal(options_for(old_dir));
    journal.load_pending();
    ASSERT_EQ(
        append_sync(journal, {make_event(1, 1, "b", false, json)}, {make_delivery(1, 1, "r", "t")}),
        std::nullopt);
  }
  EXPECT_EQ(count_rows(old_dir / "journal.db", "PRAGMA page_size"), 4096);
  Journal journal(options_for(old_dir));
  const auto pending = journal.load_pending();
  ASSERT_EQ(pending.events.size(), 1u);
  EXPECT_EQ(pending.events[0].json, json);
}

// The checkpointer copies committed writes into journal.db while the journal is open, so the
// write-ahead log is reused instead of growing until the next start.
TEST(Journal, CommitsReachTheDatabaseFileWhileOpen) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  const auto file = dir.path() / "journal.db";
  const auto before = fs::file_size(file);
  for (std::int64_t seq = 1; seq <= 20; ++seq) {
    ASSERT_EQ(append_sync(journal, {make_event(seq, seq, "b", true, std::string(2000, 'a'))}, {}),
              std::nullopt);
  }
  // The checkpointer looks every 200 ms; 20 events of 2 KB are at least 40 KB of pages.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::file_size(file) < before + 40000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(fs::file_size(file), before + 40000) << "nothing was checkpointed";
}

// Load that never pauses: the checkpointer thread copies the log only up to where it was when
// it began, and the log starts over only after a checkpoint that copied all of it. Without the
// writer's own checkpoints past max_log_bytes, the log would keep every event written.
TEST(Journal, TheLogStaysBoundedUnderLoadThatNeverPauses) {
  TempDir dir;
  auto options = options_for(dir.path());
  options.max_log_bytes = 1 << 20;
  Journal journal(options);
  journal.load_pending();
  const auto log = dir.path() / "journal.db-wal";
  auto log_bytes = [&] {
    std::error_code ec;
    const auto size = fs::file_size(log, ec);
    return ec ? std::uintmax_t{0} : size;
  };
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0, failures = 0;
  std::uintmax_t largest = 0;
  const std::string text(4000, 'x');
  constexpr std::int64_t kEvents = 6000;  // 24 MB of event text
  for (std::int64_t seq = 1; seq <= kEvents; ++seq) {
    {
      std::unique_lock lock(mutex);
      ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight < 8; }))
          << "appends stopped completing";
      ++in_flight;
    }
    journal.append({make_event(seq, seq, "b", true, text)}, {},
                   [&](const std::optional<JournalFailure>& failure) {
                     std::lock_guard lock(mutex);
                     --in_flight;
                     if (failure) ++failures;
                     changed.notify_all();
                   });
    if (seq % 250 == 0) largest = std::max(largest, log_bytes());
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight == 0; }));
    EXPECT_EQ(failures, 0);
  }
  largest = std::max(largest, log_bytes());
  EXPECT_LT(largest, std::uintmax_t{4} << 20)
      << "the write-ahead log grew with the load instead of starting over";
}

TEST(Journal, JournalOfANewerVersionIsRefused) {
  TempDir dir;
  fs::path file;
  {
    Journal journal(options_for(dir.path()));
    file = journal.file();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const std::string before = read_bytes(file);
  try {
    Journal journal(options_for(dir.path()));
    FAIL() << "a journal of schema 99 was opened";
  } catch (const JournalOpenError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.string()));
    EXPECT_THAT(e.what(), HasSubstr("newer"));
    EXPECT_THAT(e.what(), HasSubstr("99"));
  }
  EXPECT_EQ(read_bytes(file), before);
}

TEST(Journal, SecondJournalOnTheSameStateDirIsRefused) {
  TempDir dir;
  auto first = std::make_unique<Journal>(options_for(dir.path()));
  first->load_pending();
  try {
    Journal second(options_for(dir.path()));
    FAIL() << "two journals opened the same state_dir";
  } catch (const JournalOpenError& e) {
    EXPECT_THAT(e.what(), HasSubstr("another eventrouter process"));
    EXPECT_THAT(e.what(), HasSubstr(dir.path().string()));
  }
  // The first one still works.
  EXPECT_EQ(append_sync(*first, {make_event(1, 1, "b", false)}, {make_delivery(1, 1, "r", "t")}),
            std::nullopt);
  // Once it is gone, the state_dir opens again.
  first.reset();
  Journal third(options_for(dir.path()));
  EXPECT_EQ(third.load_pending().deliveries.size(), 1u);
}

TEST(Journal, CloseReleasesTheStateDirLock) {
  TempDir dir;
  auto first = std::make_unique<Journal>(options_for(dir.path()));
  first->load_pending();
  ASSERT_EQ(append_sync(*first, {make_event(1, 1, "b", false)}, {make_delivery(1, 1, "r", "t")}),
            std::nullopt);
  first->close();
  // A successor need not wait for the closed journal to be destroyed.
  Journal second(options_for(dir.path()));
  EXPECT_EQ(second.load_pending().deliveries.size(), 1u);
  // Closing again and destroying the closed journal leave the successor's lock alone.
  first->close();
  first.reset();
  EXPECT_THROW(Journal{options_for(dir.path())}, JournalOpenError);
}

TEST(Journal, StateDirThatCannotBeCreatedIsAClearError) {
  TempDir dir;
  const fs::path regular = dir.path() / "a-file";
  std::ofstream(regular) << "not a folder";
  const fs::path state_dir = regular / "state";
  try {
    Journal journal(options_for(state_dir));
    FAIL() << "a state_dir under a regular file was accepted";
  } catch (const JournalOpenError& e) {
    EXPECT_THAT(e.what(), HasSubstr("state_dir"));
    EXPECT_THAT(e.what(), HasSubstr(state_dir.string()));
    EXPECT_THAT(e.what(), HasSubstr("Not a directory"));
  }
  EXPECT_EQ(read_bytes(regular), "not a folder");
}

TEST(Journal, BytesInUseGrowsWithData) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  const auto before = journal.bytes_in_use();
  EXPECT_GT(before, 0u);
  std::vector<JournalEvent> events;
  std::vector<JournalDelivery> deliveries;
  for (int i = 1; i <= 200; ++i) {
    events.push_back(make_event(i, i, "default", false, std::string(1000, 'x')));
    deliveries.push_back(make_delivery(i, i, "r", "t"));
  }
  ASSERT_EQ(append_sync(journal, std::move(events), std::move(deliveries)), std::nullopt);
  // 200 events of 1000 bytes each: at least that much more.
  EXPECT_GE(journal.bytes_in_use(), before + 200u * 1000u);
}

TEST(Journal, ConcurrentAppendsShareCommits) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  const auto commits_before = journal.commits();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> ok{0}, failed{0}, called{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto seq = journal.next_event_seq();
        const auto id = journal.next_delivery_id();
        journal.append({make_event(seq, seq, "b", false)}, {make_delivery(id, seq, "r", "t")},
                       [&](const std::optional<JournalFailure>& failure) {
                         (failure ? failed : ok).fetch_add(1);
                         called.fetch_add(1);
                       });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (called.load() < kThreads * kPerThread && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  const auto commits = journal.commits() - commits_before;
  EXPECT_GE(commits, 1u);
  EXPECT_LE(commits, static_cast<std::uint64_t>(kThreads * kPerThread));
}

TEST(Journal, ConcurrentAppendsAreAllThereAfterReopen) {
  TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  {
    Journal journal(options_for(dir.path()));
    journal.load_pending();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          const auto seq = journal.next_event_seq();
          const auto id = journal.next_delivery_id();
          journal.append({make_event(seq, seq, "b", false)}, {make_delivery(id, seq, "r", "t")},
                         [](const std::optional<JournalFailure>&) {});
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }  // the destructor writes what is queued
  Journal reopened(options_for(dir.path()));
  const auto pending = reopened.load_pending();
  EXPECT_EQ(pending.events.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(pending.deliveries.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Journal, OneCommitPerAppendWhenNothingElseIsWaiting) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  const auto before = journal.commits();
  ASSERT_EQ(append_sync(journal, {make_event(1, 1, "b", false)}, {}), std::nullopt);
  ASSERT_EQ(append_sync(journal, {make_event(2, 1, "b", false)}, {}), std::nullopt);
  EXPECT_EQ(journal.commits() - before, 2u);
}

TEST(Journal, FailedAppendReportsWhyAndLaterAppendsStillWork) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  ASSERT_EQ(append_sync(journal, {make_event(1, 1, "b", false)}, {}), std::nullopt);
  // The same seq again violates the primary key: the append fails and says so.
  const auto failure = append_sync(journal, {make_event(1, 1, "b", false)}, {});
  ASSERT_TRUE(failure.has_value());
  EXPECT_FALSE(failure->disk_full);
  EXPECT_FALSE(failure->message.empty());
  EXPECT_EQ(append_sync(journal, {make_event(2, 1, "b", false)}, {}), std::nullopt);
}

TEST(Journal, AppendAfterCloseFailsInsteadOfHanging) {
  TempDir dir;
  Journal journal(options_for(dir.path()));
  journal.load_pending();
  journal.close();
  journal.close();  // a second close is ignored
  const auto failure = append_sync(journal, {make_event(1, 1, "b", false)}, {});
  ASSERT_TRUE(failure.has_value());
  EXPECT_THAT(failure->message, HasSubstr("closed"));
  // Progress after close is dropped quietly (it resumes at the next start), not a crash.
  journal.record_attempt(1, 1, 1, "x");
  journal.finish(1, std::nullopt);
}

TEST(Journal, CloseWritesWhatIsQueued) {
  TempDir dir;
  std::atomic<int> done{0};
  {
    Journal journal(options_for(dir.path()));
    journal.load_pending();
    for (int i = 1; i <= 20; ++i) {
      journal.append({make_event(i, i, "b", false)}, {make_delivery(i, i, "r", "t")},
                     [&](const std::optional<JournalFailure>& failure) {
                       if (!failure) done.fetch_add(1);
                     });
    }
    journal.close();
    EXPECT_EQ(done.load(), 20);
  }
  Journal journal(options_for(dir.path()));
  EXPECT_EQ(journal.load_pending().deliveries.size(), 20u);
}

TEST(Journal, FsyncModeWorksToo) {
  TempDir dir;
  {
    Journal journal(options_for(dir.path(), /*fsync=*/true));
    journal.load_pending();
    ASSERT_EQ(append_sync(journal, {make_event(1, 1, "b", false)}, {make_delivery(1, 1, "r", "t")}),
              std::nullopt);
  }
  Journal journal(options_for(dir.path(), true));
  EXPECT_EQ(journal.load_pending().deliveries.size(), 1u);
}

TEST(Journal, EpochMillisRoundTrips) {
  const auto now = std::chrono::system_clock::now();
  const auto millis = to_epoch_millis(now);
  EXPECT_EQ(to_epoch_millis(from_epoch_millis(millis)), millis);
  EXPECT_EQ(to_epoch_millis(from_epoch_millis(0)), 0);
  EXPECT_EQ(from_epoch_millis(1500).time_since_epoch(), std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace eventrouter::delivery

namespace eventrouter::delivery {
namespace {

// The archive is history, not work: past archive_max_bytes its oldest delivered events make
// room, and undelivered events are never dropped.
TEST(Journal, ArchiveOverItsBoundDropsItsOldestDeliveredEventsFirst) {
  TempDir dir;
  auto options = options_for(dir.path());
  options.archive_max_bytes = 256 * 1024;
  std::size_t dropped_total = 0;
  EpochMillis first_oldest = -1;
  options.on_archive_dropped = [&](std::size_t dropped, EpochMillis oldest) {
    dropped_total += dropped;
    if (first_oldest < 0) first_oldest = oldest;
  };
  Journal journal(options);
  journal.load_pending();
  const std::string padding(2000, 'x');
  // One event with a delivery still pending, first of all: the oldest, yet never dropped.
  ASSERT_EQ(append_sync(journal, {make_event(1, 1, "b", true, R"({"pending":")" + padding + "\"}")},
                        {make_delivery(1, 1, "r", "t")}),
            std::nullopt);
  for (std::int64_t seq = 2; seq <= 600; ++seq) {
    ASSERT_EQ(
        append_sync(journal, {make_event(seq, seq, "b", true, R"({"n":")" + padding + "\"}")}, {}),
        std::nullopt);
  }
  journal.close();
  const auto file = dir.path() / "journal.db";
  EXPECT_GT(dropped_total, 0u);
  EXPECT_EQ(first_oldest, 2) << "the oldest delivered event goes first";
  EXPECT_LE(journal.live_bytes(), options.archive_max_bytes);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events WHERE seq = 1"), 1);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events WHERE seq = 600"), 1);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events WHERE seq = 2"), 0);
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM events"),
            static_cast<std::int64_t>(600 - dropped_total));
}

TEST(Journal, WithoutAnArchiveBoundNothingIsDropped) {
  TempDir dir;
  auto options = options_for(dir.path());
  bool called = false;
  options.on_archive_dropped = [&](std::size_t, EpochMillis) { called = true; };
  Journal journal(options);
  journal.load_pending();
  for (std::int64_t seq = 1; seq <= 200; ++seq) {
    ASSERT_EQ(
        append_sync(journal, {make_event(seq, seq, "b", true, std::string(2000, ' ') + "{}")}, {}),
        std::nullopt);
  }
  journal.close();
  EXPECT_FALSE(called);
  EXPECT_EQ(count_rows(dir.path() / "journal.db", "SELECT count(*) FROM events"), 200);
}

}  // namespace
}  // namespace eventrouter::delivery
