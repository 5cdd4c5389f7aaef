// The journal's dedup table: keys written with the batch that fired them survive a reopen,
// evictions remove keys, and expired keys are dropped.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/delivery/journal.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::delivery {
namespace {

using testing::TempDir;

std::optional<StoreFailure> append_with_dedup(Journal& journal, std::int64_t seq,
                                              std::vector<DedupRecord> dedup) {
  const std::string json = R"({"n":)" + std::to_string(seq) + "}";
  const NewEvent event{seq, 1000, "default", json, false};
  const NewDelivery delivery{seq, seq, "r", "t", 1000};
  std::promise<std::optional<StoreFailure>> promise;
  auto future = promise.get_future();
  journal.append_with_dedup(
      std::span(&event, 1), std::span(&delivery, 1), dedup,
      [&promise](std::optional<StoreFailure> failure) { promise.set_value(std::move(failure)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "append's callback was not called within 10 s";
    return StoreFailure{false, "timeout"};
  }
  return future.get();
}

JournalOptions options(const TempDir& dir) {
  JournalOptions out;
  out.state_dir = dir.path();
  out.fsync = false;
  return out;
}

DedupRecord key(std::string rule, std::string key, EpochMillis fired_at, EpochMillis expires_at) {
  return DedupRecord{std::move(rule), std::move(key), "refire-" + std::to_string(fired_at),
                     fired_at, expires_at};
}

std::vector<std::string> keys_of(const std::vector<DedupRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.rule + "/" + r.key);
  return out;
}

TEST(JournalDedup, KeysSurviveAReopenOldestFirstAndEvictionsRemoveThem) {
  TempDir dir;
  const EpochMillis now = to_epoch_millis(std::chrono::system_clock::now());
  const EpochMillis hour = 3600 * 1000;
  {
    Journal journal(options(dir));
    ASSERT_FALSE(append_with_dedup(
        journal, 1,
        {key("r", "k2", now - 10, now + hour), key("r", "k1", now - 20, now + hour),
         key("other", "k1", now - 5, now + hour)}));
    // Refired: the same key with a new firing replaces the old one; an eviction removes k2.
    ASSERT_FALSE(append_with_dedup(
        journal, 2, {key("r", "k1", now, now + hour), DedupRecord{"r", "k2", "", 0, 0}}));
  }
  Journal journal(options(dir));
  const auto records = journal.load_dedup(now);
  EXPECT_THAT(keys_of(records), ::testing::ElementsAre("other/k1", "r/k1"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].refire, "refire-" + std::to_string(now));
  EXPECT_EQ(records[1].fired_at, now);
  EXPECT_EQ(records[1].expires_at, now + hour);
}

TEST(JournalDedup, ExpiredKeysAreDropped) {
  TempDir dir;
  const EpochMillis now = to_epoch_millis(std::chrono::system_clock::now());
  {
    Journal journal(options(dir));
    ASSERT_FALSE(append_with_dedup(
        journal, 1,
        {key("r", "old", now - 2000, now - 1000), key("r", "live", now - 10, now + 60000)}));
  }
  Journal journal(options(dir));
  EXPECT_THAT(keys_of(journal.load_dedup(now)), ::testing::ElementsAre("r/live"));
  // Later than the live key's end, nothing is left.
  EXPECT_TRUE(journal.load_dedup(now + 60000).empty());
}

TEST(JournalDedup, AnAppendWithoutKeysLeavesTheKeysAlone) {
  TempDir dir;
  const EpochMillis now = to_epoch_millis(std::chrono::system_clock::now());
  Journal journal(options(dir));
  ASSERT_FALSE(append_with_dedup(journal, 1, {key("r", "k", now, now + 60000)}));
  ASSERT_FALSE(append_with_dedup(journal, 2, {}));
  EXPECT_EQ(journal.load_dedup(now).size(), 1u);
}

}  // namespace
}  // namespace eventrouter::delivery
