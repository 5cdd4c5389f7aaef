// The per-event history on a real SQLite file: what a user reads back from GET /events/{id}
// and GET /events after recording receptions and steps, its outcome per reception, paging,
// filters, bounds on stored text, and pruning by age and size.

#include "eventrouter/delivery/history.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/count_rows.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::delivery {
namespace {

using testing::count_rows;
using ::testing::ElementsAre;
using testing::TempDir;

EpochMillis now_millis() {
  return to_epoch_millis(std::chrono::system_clock::now());
}

HistoryReception reception(History& history, std::string id, std::vector<std::string> rules,
                           int deliveries, EpochMillis at = now_millis()) {
  HistoryReception r;
  r.key = history.next_key();
  r.event_id = std::move(id);
  r.bus = "default";
  r.source = "aws.guardduty";
  r.detail_type = "GuardDuty Finding";
  r.received_at = at;
  r.size = 1234;
  r.origin = "ingest";
  r.rules = std::move(rules);
  r.deliveries = deliveries;
  history.record(r);
  return r;
}

HistoryStep step(const HistoryReception& r, std::string kind, std::string rule, int attempt,
                 std::string error = "") {
  HistoryStep s;
  s.reception = r.key;
  s.event_id = r.event_id;
  s.at = now_millis();
  s.kind = std::move(kind);
  s.rule = std::move(rule);
  s.target = "hook";
  s.attempt = attempt;
  s.error = std::move(error);
  s.error_code = s.error.empty() ? "" : "ERROR_FROM_TARGET";
  s.duration_us = 1500;
  return s;
}

TEST(History, AJourneyHasItsRulesStepsAndOutcome) {
  TempDir dir;
  History history({dir / "history.db"});
  auto r = reception(history, "finding-1", {"page", "ticket"}, 2);
  auto failed = step(r, "retrying", "page", 1, "HTTP 503 Service Unavailable");
  failed.status = 503;
  history.record(failed);
  history.record(step(r, "delivered", "page", 2));
  history.flush();

  auto journeys = history.journeys("finding-1");
  ASSERT_EQ(journeys.size(), 1u);
  const auto& j = journeys[0];
  EXPECT_EQ(j.reception.source, "aws.guardduty");
  EXPECT_EQ(j.reception.detail_type, "GuardDuty Finding");
  EXPECT_EQ(j.reception.size, 1234u);
  EXPECT_THAT(j.reception.rules, ElementsAre("page", "ticket"));
  EXPECT_EQ(j.outcome, "pending");  // ticket has not finished
  ASSERT_EQ(j.steps.size(), 2u);
  EXPECT_EQ(j.steps[0].kind, "retrying");
  EXPECT_EQ(j.steps[0].error, "HTTP 503 Service Unavailable");
  EXPECT_EQ(j.steps[0].duration_us, 1500);
  EXPECT_EQ(j.steps[0].status, 503);
  EXPECT_EQ(j.steps[1].status, std::nullopt);
  EXPECT_EQ(j.steps[1].kind, "delivered");
  EXPECT_EQ(j.steps[1].attempt, 2);

  history.record(step(r, "delivered", "ticket", 1));
  history.flush();
  EXPECT_EQ(history.journeys("finding-1")[0].outcome, "delivered");
  EXPECT_TRUE(history.journeys("no-such-event").empty());
}

// The writer gathers records for a moment before it writes them, but writes them by itself:
// the file follows without anyone asking. Steps that arrive with their reception, or after it
// was written, count the same. (Read with a connection of the test's own: a query of History
// would itself ask the writer to catch up.)
TEST(History, RecordsAreWrittenWithoutAFlushOrAQuery) {
  TempDir dir;
  History history({dir / "history.db"});
  const auto file = dir / "history.db";
  const std::string counts =
      "SELECT IFNULL(SUM(delivered), 0) * 10 + IFNULL(SUM(failed), 0) FROM receptions "
      "WHERE event_id = 'unflushed'";
  auto r = reception(history, "unflushed", {"page", "ticket"}, 2);
  history.record(step(r, "delivered", "page", 1));
  ASSERT_TRUE(testing::eventually([&] { return count_rows(file, counts) == 10; }));
  history.record(step(r, "dead_lettered", "ticket", 1, "HTTP 400 Bad Request"));
  ASSERT_TRUE(testing::eventually([&] { return count_rows(file, counts) == 11; }));
  const auto journey = history.journeys("unflushed")[0];
  EXPECT_EQ(journey.outcome, "failed");
  EXPECT_EQ(journey.delivered, 1);
  EXPECT_EQ(journey.steps.size(), 2u);
}

// A client answered 200 asks for its event straight away: a query waits for what was recorded
// before it, instead of answering from a file that lags by the writer's gathering window.
TEST(History, AQueryShowsWhatWasRecordedBeforeIt) {
  TempDir dir;
  History history({dir / "history.db"});
  for (int round = 0; round < 20; ++round) {
    const auto id = "asked-at-once-" + std::to_string(round);
    auto r = reception(history, id, {}, 0);
    HistoryQuery everything;
    everything.limit = 1;
    const auto page = history.list(everything);
    ASSERT_EQ(page.journeys.size(), 1u) << "round " << round;
    EXPECT_EQ(page.journeys[0].reception.event_id, id);
    auto second = reception(history, id + "-journey", {"page"}, 1);
    history.record(step(second, "delivered", "page", 1));
    const auto journeys = history.journeys(second.event_id);
    ASSERT_EQ(journeys.size(), 1u) << "round " << round;
    EXPECT_EQ(journeys[0].outcome, "delivered");
  }
}

TEST(History, OutcomesOfUnmatchedAndFailedEvents) {
  TempDir dir;
  History history({dir / "history.db"});
  reception(history, "nobody-wants-it", {}, 0);
  auto failed = reception(history, "broken", {"page"}, 1);
  history.record(step(failed, "dead_lettered", "page", 3, "HTTP 400 Bad Request"));
  history.flush();
  EXPECT_EQ(history.journeys("nobody-wants-it")[0].outcome, "unmatched");
  EXPECT_EQ(history.journeys("broken")[0].outcome, "failed");
  EXPECT_EQ(history.journeys("broken")[0].failed, 1);
}

TEST(History, AResumedDeliveryJoinsTheNewestReceptionOfItsEvent) {
  TempDir dir;
  History history({dir / "history.db"});
  reception(history, "replayed", {"page"}, 1);
  auto newest = reception(history, "replayed", {"page"}, 1);
  HistoryStep resumed = step(newest, "delivered", "page", 4);
  resumed.reception = 0;  // after a restart, only the event id is known
  history.record(resumed);
  history.flush();
  auto journeys = history.journeys("replayed");
  ASSERT_EQ(journeys.size(), 2u);
  EXPECT_EQ(journeys[0].reception.key, newest.key);  // newest first
  EXPECT_EQ(journeys[0].outcome, "delivered");
  EXPECT_EQ(journeys[1].outcome, "pending");
}

TEST(History, ListsNewestFirstInPagesWithFilters) {
  TempDir dir;
  History history({dir / "history.db"});
  for (int i = 0; i < 7; ++i) {
    auto r = reception(history, "e" + std::to_string(i), {i % 2 ? "odd" : "even"}, 1);
    if (i == 3) history.record(step(r, "dead_lettered", "odd", 1, "gone"));
  }
  reception(history, "unmatched", {}, 0);
  history.flush();

  HistoryQuery query;
  query.limit = 3;
  auto page = history.list(query);
  ASSERT_EQ(page.journeys.size(), 3u);
  EXPECT_EQ(page.journeys[0].reception.event_id, "unmatched");
  EXPECT_EQ(page.journeys[2].reception.event_id, "e5");
  ASSERT_NE(page.next, 0);
  query.before = page.next;
  page = history.list(query);
  EXPECT_EQ(page.journeys[0].reception.event_id, "e4");
  query.before = page.next;
  page = history.list(query);
  ASSERT_EQ(page.journeys.size(), 2u);
  EXPECT_EQ(page.next, 0);  // the last page

  HistoryQuery by_rule;
  by_rule.rule = "odd";
  page = history.list(by_rule);
  ASSERT_EQ(page.journeys.size(), 3u);
  EXPECT_EQ(page.journeys[0].reception.event_id, "e5");

  HistoryQuery failed;
  failed.outcome = "failed";
  page = history.list(failed);
  ASSERT_EQ(page.journeys.size(), 1u);
  EXPECT_EQ(page.journeys[0].reception.event_id, "e3");

  HistoryQuery hostile;
  hostile.rule = "x' OR 1=1 --";  // bound as a value: matches no rule
  EXPECT_TRUE(history.list(hostile).journeys.empty());

  HistoryQuery later;
  later.since = now_millis() + 60'000;
  EXPECT_TRUE(history.list(later).journeys.empty());
}

TEST(History, KeepsTheEndOfLongErrorsAndOutput) {
  TempDir dir;
  History history({dir / "history.db"});
  auto r = reception(history, "noisy", {"run"}, 1);
  auto s = step(r, "retrying", "run", 1, std::string(5000, 'x') + "the real reason");
  s.output = std::string(10000, 'o') + "last line\n";
  history.record(s);
  history.flush();
  const auto journeys = history.journeys("noisy");
  const auto& kept = journeys.at(0).steps.at(0);
  EXPECT_EQ(kept.error.size(), History::kMaxError);
  EXPECT_THAT(kept.error, ::testing::EndsWith("the real reason"));
  EXPECT_EQ(kept.output.size(), History::kMaxOutput);
  EXPECT_THAT(kept.output, ::testing::EndsWith("last line\n"));
}

TEST(History, DropsAndCountsWhatTheWriterCannotTakeInTime) {
  TempDir dir;
  HistoryOptions options{dir / "history.db"};
  options.max_queued = 0;  // nothing fits
  History history(options);
  reception(history, "lost", {}, 0);
  history.flush();
  EXPECT_EQ(history.dropped(), 1u);
  EXPECT_TRUE(history.journeys("lost").empty());
}

TEST(History, ForgetsReceptionsOlderThanMaxAgeAndKeepsWithinMaxBytes) {
  TempDir dir;
  const auto file = dir / "history.db";
  {
    History history({file});
    const auto old = now_millis() - 8LL * 24 * 3600 * 1000;
    auto r = reception(history, "last-week", {"page"}, 1, old);
    history.record(step(r, "delivered", "page", 1));
    reception(history, "today", {}, 0);
    for (int i = 0; i < 3000; ++i) {
      reception(history, "filler-" + std::to_string(i), {"page"}, 1);
    }
    history.flush();
  }
  HistoryOptions options{file};
  options.max_age = std::chrono::hours(24 * 7);
  options.max_bytes = 64 * 1024;
  History history(options);  // prunes as it opens
  EXPECT_TRUE(history.journeys("last-week").empty());
  EXPECT_TRUE(history.journeys("filler-0").empty());  // the oldest went to stay within 64 KiB
  EXPECT_FALSE(history.journeys("filler-2999").empty());
}

}  // namespace
}  // namespace eventrouter::delivery
