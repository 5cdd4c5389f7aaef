// The delivery engine driven through its public face (Dispatcher) with a fake store and fake
// targets: retries and backoff, dead letters, resuming after a crash, shutdown, admission and
// a store that cannot record. Backoff is milliseconds here, so these run fast; every wait is
// on a condition with a generous timeout, and time is only checked as a lower bound.

#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/delivery/history.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <boost/asio/executor_work_guard.hpp>

#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../src/delivery/pending_bytes.hpp"
#include "../rules/test_support.hpp"
#include "eventrouter/rules/loader.hpp"
#include "fakes.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::delivery {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using eventrouter::testing::eventually;
using ::testing::ElementsAre;
using testing::FakeStore;
using testing::FakeTarget;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TargetScript;

// One rule (r1, source "test") with one target (t1) and the given target settings.
std::string rule_yaml(const std::string& target_settings = "") {
  return "rules:\n"
         "  - name: r1\n"
         "    bus: default\n"
         "    event_pattern:\n"
         "      source: [test]\n"
         "    targets:\n"
         "      - id: t1\n"
         "        type: queue_file\n"
         "        path: q.jsonl\n" +
         target_settings;
}

const std::string kDeadLetterToFile =
    "        dead_letter:\n"
    "          path: t1-dead.jsonl\n";

std::string event_json(const std::string& id) {
  return R"({"version":"0","id":")" + id +
         R"(","detail-type":"Finding","source":"test","account":"1","time":"2026-01-01T00:00:00Z","region":"eu","resources":[],"detail":{}})";
}

event::Event make_event(const std::string& id) {
  event::Event e;
  e.id = id;
  e.bus = "default";
  e.source = "test";
  e.detail_type = "Finding";
  e.ingested_at = std::chrono::system_clock::now();
  e.json = event_json(id);
  e.json.reserve(e.json.size() + simdjson::SIMDJSON_PADDING);
  return e;
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The fields of a dead-letter line a user reads.
struct DeadLetterLine {
  std::string rule, target, error_code, error_message, exhausted, event_id, payload;
  std::int64_t retry_attempts = -1;
};

DeadLetterLine parse_line(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(line);
  DeadLetterLine out;
  out.rule = std::string(root["rule"].get_string().value());
  out.target = std::string(root["target"].get_string().value());
  auto attributes = root["attributes"];
  out.error_code = std::string(attributes["ERROR_CODE"].get_string().value());
  out.error_message = std::string(attributes["ERROR_MESSAGE"].get_string().value());
  std::string_view exhausted;
  if (!attributes["EXHAUSTED_RETRY_CONDITION"].get(exhausted)) out.exhausted = exhausted;
  out.retry_attempts = attributes["RETRY_ATTEMPTS"].get_int64().value();
  out.event_id = std::string(root["event"]["id"].get_string().value());
  out.payload = std::string(root["payload"].get_string().value());
  return out;
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : work_(boost::asio::make_work_guard(io_)), io_thread_([this] { io_.run(); }) {}

  ~DispatcherTest() override {
    if (dispatcher_ && !stopped_) dispatcher_->shutdown(0ms);
    work_.reset();
    io_thread_.join();
    dispatcher_.reset();
  }

  // Fast retries: the first after up to 2 ms, none later than 10 ms.
  static DispatcherOptions fast_options() {
    DispatcherOptions options;
    options.backoff_base = 2ms;
    options.backoff_cap = 10ms;
    options.archive_retention = 0s;
    return options;
  }

  // Starts the engine with the rules of `rule_file` on `store` (nothing: durability none).
  void start(const std::string& rule_file, DeliveryStore* store,
             DispatcherOptions options = fast_options()) {
    dir_.rule_file("r.yaml", rule_file);
    const auto config = dir_.config();
    state_dir_ = config.state_dir;
    rule_set_ = rules::load_rule_set(config, eventrouter::testing::fake_catalog());
    options.default_dead_letter_file = default_dead_letters();
    options.store = store;
    dispatcher_ = std::make_unique<Dispatcher>(io_, options, registry_);
    dispatcher_->deploy(std::make_shared<Deployment>(
        rule_set_,
        [this](const targets::TargetSpec&) { return std::make_unique<FakeTarget>(script_); },
        registry_));
  }

  // Hands events to the engine as ingest does; returns why they were refused, if they were.
  std::optional<server::SinkRefusal> accept(std::vector<std::string> ids) {
    std::vector<event::Event> events;
    for (const auto& id : ids) events.push_back(make_event(id));
    std::promise<std::optional<server::SinkRefusal>> answered;
    auto answer = answered.get_future();
    dispatcher_->accept(std::move(events), [&answered](std::optional<server::SinkRefusal> r) {
      answered.set_value(std::move(r));
    });
    EXPECT_EQ(answer.wait_for(20s), std::future_status::ready);
    return answer.get();
  }

  void shutdown(std::chrono::milliseconds grace) {
    stopped_ = true;
    dispatcher_->shutdown(grace);
  }

  fs::path default_dead_letters() const { return state_dir_ / "dead-letters.jsonl"; }
  fs::path target_dead_letters() const { return state_dir_ / "t1-dead.jsonl"; }

  // Waits for the one dead letter of `file`.
  DeadLetterLine only_dead_letter(const fs::path& file) {
    EXPECT_TRUE(eventually([&] { return read_lines(file).size() >= 1; })) << file;
    const auto lines = read_lines(file);
    EXPECT_EQ(lines.size(), 1u);
    return lines.empty() ? DeadLetterLine{} : parse_line(lines.front());
  }

  std::vector<int> attempt_numbers() const {
    std::vector<int> numbers;
    for (const auto& call : script_.calls()) numbers.push_back(call.invocation.attempt);
    return numbers;
  }

  bool finished(const FakeStore& store, std::int64_t id) const {
    for (const auto& f : store.finished())
      if (f.id == id) return true;
    return false;
  }

  std::uint64_t matched_total() {
    return registry_.counter("eventrouter_events_matched_total", "").value();
  }

  eventrouter::testing::RulesDir dir_;
  fs::path state_dir_;
  metrics::Registry registry_;
  TargetScript script_;
  FakeStore store_;
  std::shared_ptr<const rules::RuleSet> rule_set_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::unique_ptr<Dispatcher> dispatcher_;
  bool stopped_ = false;
};

targets::DeliveryResult down() {
  return targets::DeliveryResult::retryable(targets::ErrorCode::kConnectionFailure,
                                            "connection refused");
}

TEST_F(DispatcherTest, RetriesRetryableFailuresUntilDeliveredAndRecordsEachFailedAttempt) {
  script_.answer = [](const targets::Invocation& invocation) {
    return invocation.attempt < 3 ? down() : targets::DeliveryResult::ok();
  };
  start(rule_yaml(), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  ASSERT_TRUE(
      eventually([&] { return dispatcher_->pending() == 0 && store_.finished().size() == 1; }));
  EXPECT_THAT(attempt_numbers(), ElementsAre(1, 2, 3));
  const auto deliveries = store_.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].rule, "r1");
  EXPECT_EQ(deliveries[0].target, "t1");
  const auto attempts = store_.attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].attempts, 1);
  EXPECT_EQ(attempts[1].attempts, 2);
  EXPECT_EQ(attempts[1].last_error, "CONNECTION_FAILURE: connection refused");
  // Delivered: the delivery and its event (its only one, not archived) leave the store.
  const auto done = store_.finished();
  EXPECT_EQ(done[0].id, deliveries[0].id);
  EXPECT_EQ(done[0].event_seq, deliveries[0].event_seq);
  EXPECT_FALSE(fs::exists(default_dead_letters()));
}

TEST_F(DispatcherTest, TheHistoryRecordsTheReceptionEachFailedAttemptAndTheDelivery) {
  script_.answer = [](const targets::Invocation& invocation) {
    return invocation.attempt < 2 ? down() : targets::DeliveryResult::ok();
  };
  eventrouter::testing::TempDir history_dir;
  History history({history_dir / "history.db"});
  auto options = fast_options();
  options.history = &history;
  start(rule_yaml(), &store_, options);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
  history.flush();

  const auto journeys = history.journeys("e1");
  ASSERT_EQ(journeys.size(), 1u);
  const auto& journey = journeys[0];
  EXPECT_EQ(journey.outcome, "delivered");
  EXPECT_EQ(journey.reception.origin, "ingest");
  EXPECT_EQ(journey.reception.source, "test");
  EXPECT_THAT(journey.reception.rules, ElementsAre("r1"));
  EXPECT_EQ(journey.reception.deliveries, 1);
  ASSERT_EQ(journey.steps.size(), 2u);
  EXPECT_EQ(journey.steps[0].kind, "retrying");
  EXPECT_EQ(journey.steps[0].attempt, 1);
  EXPECT_EQ(journey.steps[0].error_code, "CONNECTION_FAILURE");
  EXPECT_EQ(journey.steps[0].error, "connection refused");
  EXPECT_GE(journey.steps[0].duration_us, 0);
  EXPECT_EQ(journey.steps[1].kind, "delivered");
  EXPECT_EQ(journey.steps[1].attempt, 2);
  EXPECT_EQ(journey.steps[1].target, "t1");
}

TEST_F(DispatcherTest, RetryAfterIsAFloorUnderTheBackoff) {
  script_.answer = [](const targets::Invocation& invocation) {
    if (invocation.attempt > 1) return targets::DeliveryResult::ok();
    auto throttled =
        targets::DeliveryResult::retryable(targets::ErrorCode::kThrottling, "slow down");
    throttled.retry_after = 1s;
    return throttled;
  };
  start(rule_yaml(), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  ASSERT_TRUE(eventually([&] { return script_.call_count() == 2; }));
  const auto calls = script_.calls();
  // The backoff alone would retry within 10 ms.
  EXPECT_GE(calls[1].at - calls[0].at, 1s);
}

TEST_F(DispatcherTest, PermanentErrorIsDeadLetteredAtOnceWithItsAttributes) {
  script_.answer = [](const targets::Invocation&) {
    return targets::DeliveryResult::permanent(targets::ErrorCode::kNoPermissions, "403 Forbidden");
  };
  start(rule_yaml(kDeadLetterToFile), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  const auto letter = only_dead_letter(target_dead_letters());
  EXPECT_EQ(letter.rule, "r1");
  EXPECT_EQ(letter.target, "t1");
  EXPECT_EQ(letter.error_code, "NO_PERMISSIONS");
  EXPECT_EQ(letter.error_message, "403 Forbidden");
  EXPECT_EQ(letter.exhausted, "");  // a permanent failure exhausts no retry condition
  EXPECT_EQ(letter.retry_attempts, 0);
  EXPECT_EQ(letter.event_id, "e1");
  EXPECT_FALSE(letter.payload.empty());
  EXPECT_EQ(script_.call_count(), 1u);
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
  EXPECT_EQ(store_.finished().size(), 1u);
  EXPECT_FALSE(fs::exists(default_dead_letters()));
}

TEST_F(DispatcherTest, MaximumRetryAttemptsDeadLettersAfterTheLastRetry) {
  script_.answer = [](const targets::Invocation&) { return down(); };
  start(rule_yaml("        retry_policy:\n          maximum_retry_attempts: 2\n"), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.exhausted, "MaximumRetryAttempts");
  EXPECT_EQ(letter.error_code, "CONNECTION_FAILURE");
  EXPECT_EQ(letter.retry_attempts, 2);
  EXPECT_THAT(attempt_numbers(), ElementsAre(1, 2, 3));
}

TEST_F(DispatcherTest, MaximumEventAgeDeadLettersARetryThatWouldComeTooLate) {
  script_.answer = [](const targets::Invocation&) {
    auto throttled = targets::DeliveryResult::retryable(targets::ErrorCode::kThrottling,
                                                        "come back in two minutes");
    throttled.retry_after = 120s;
    return throttled;
  };
  start(rule_yaml("        retry_policy:\n          maximum_event_age_seconds: 60\n"), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.exhausted, "MaximumEventAgeInSeconds");
  EXPECT_EQ(letter.error_code, "THROTTLING");
  EXPECT_EQ(script_.call_count(), 1u);
}

TEST_F(DispatcherTest, ResumedDeliveriesWaitOutTheirBackoffWithoutCountingAnAttempt) {
  start(rule_yaml(), &store_);
  const auto now = std::chrono::system_clock::now();
  DeliveryStore::Pending pending;
  pending.events.push_back(
      StoredEvent{7, to_epoch_millis(now), "default", event_json("e7"), false});
  // Two attempts made before the crash; the third is due in 300 ms.
  pending.deliveries.push_back(StoredDelivery{42, 7, "r1", "t1", 2, to_epoch_millis(now),
                                              to_epoch_millis(now + 300ms), "TIMEOUT: slow"});
  const auto resumed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(dispatcher_->resume(std::move(pending)), 1u);

  ASSERT_TRUE(eventually([&] { return finished(store_, 42); }));
  const auto calls = script_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].invocation.attempt, 3);
  EXPECT_EQ(calls[0].invocation.event_id, "e7");
  EXPECT_GE(calls[0].at - resumed_at, 280ms);
  EXPECT_THAT(store_.attempts(), IsEmpty());  // waiting is not an attempt
  EXPECT_EQ(store_.finished()[0].event_seq, 7);
}

TEST_F(DispatcherTest, ResumedDeliveryWhoseTargetIsGoneIsDeadLetteredResourceNotFound) {
  start(rule_yaml(), &store_);
  const auto now = to_epoch_millis(std::chrono::system_clock::now());
  DeliveryStore::Pending pending;
  pending.events.push_back(StoredEvent{7, now, "default", event_json("e7"), false});
  pending.deliveries.push_back(StoredDelivery{43, 7, "removed-rule", "t1", 4, now, now, ""});
  EXPECT_EQ(dispatcher_->resume(std::move(pending)), 0u);

  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.rule, "removed-rule");
  EXPECT_EQ(letter.error_code, "RESOURCE_NOT_FOUND");
  EXPECT_EQ(letter.retry_attempts, 4);
  EXPECT_EQ(letter.event_id, "e7");
  EXPECT_TRUE(finished(store_, 43));
  EXPECT_EQ(script_.call_count(), 0u);
  EXPECT_EQ(dispatcher_->pending(), 0u);
}

TEST_F(DispatcherTest, AtShutdownADurableStoreKeepsTheRetriesThatWait) {
  script_.answer = [](const targets::Invocation&) { return down(); };
  auto options = fast_options();
  options.backoff_base = options.backoff_cap = 10min;
  start(rule_yaml(), &store_, options);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return store_.attempts().size() == 1; }));

  shutdown(100ms);
  // The cancelled retry's handler sets it aside on the I/O thread.
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
  EXPECT_THAT(store_.finished(), IsEmpty());  // left for the next start
  EXPECT_FALSE(fs::exists(default_dead_letters()));
  EXPECT_EQ(script_.call_count(), 1u);
}

TEST_F(DispatcherTest, AtShutdownWithoutAStoreTheRetriesThatWaitAreDeadLetteredShuttingDown) {
  script_.answer = [](const targets::Invocation&) { return down(); };
  auto options = fast_options();
  options.backoff_base = options.backoff_cap = 10min;
  start(rule_yaml(), nullptr, options);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));

  shutdown(100ms);
  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.exhausted, "ShuttingDown");
  EXPECT_EQ(letter.error_code, "CONNECTION_FAILURE");
  EXPECT_EQ(letter.event_id, "e1");
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
}

TEST_F(DispatcherTest, AtShutdownRunningInvocationsAreAbortedAndStayInADurableStore) {
  script_.hold = true;
  start(rule_yaml(), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));

  shutdown(50ms);
  EXPECT_GE(script_.shutdowns(), 1u);
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
  EXPECT_THAT(store_.finished(), IsEmpty());
  EXPECT_FALSE(fs::exists(default_dead_letters()));
  // Once stopping, ingest is refused.
  const auto refusal = accept({"e2"});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "ShuttingDown");
}

TEST_F(DispatcherTest, AtShutdownRunningInvocationsAreAbortedAndDeadLetteredWithoutAStore) {
  script_.hold = true;
  start(rule_yaml(), nullptr);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));

  shutdown(50ms);
  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.exhausted, "ShuttingDown");
  EXPECT_EQ(letter.error_message, "aborted at shutdown");
}

TEST_F(DispatcherTest, RefusesIngestWhileTooManyDeliveriesArePending) {
  script_.hold = true;
  auto options = fast_options();
  options.max_pending_deliveries = 1;
  start(rule_yaml(), &store_, options);
  ASSERT_EQ(accept({"e1"}), std::nullopt);

  const auto refusal = accept({"e2"});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 503);
  EXPECT_EQ(refusal->code, "TooManyPendingDeliveries");
  EXPECT_EQ(refusal->retry_after, 5s);
  EXPECT_EQ(store_.events().size(), 1u);  // e2 was not recorded
}

// The eventrouter_pending_bytes gauge as /metrics shows it.
double pending_bytes(const metrics::Registry& registry) {
  const std::string text = registry.render();
  const std::string name = "\neventrouter_pending_bytes ";
  const auto at = text.find(name);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size()));
}

TEST_F(DispatcherTest, RefusesIngestWhilePendingDeliveriesHoldTooManyBytes) {
  script_.hold = true;
  auto options = fast_options();
  options.max_pending_bytes = 1;
  start(rule_yaml(), &store_, options);
  EXPECT_EQ(pending_bytes(registry_), 0);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  // The event's text once, and the delivery's own state.
  EXPECT_GE(pending_bytes(registry_),
            static_cast<double>(event_json("e1").size() + PendingBytes::kPerDelivery));

  const auto refusal = accept({"e2"});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 503);
  EXPECT_EQ(refusal->code, "TooManyPendingBytes");
  EXPECT_EQ(refusal->retry_after, 5s);
  EXPECT_THAT(refusal->message, HasSubstr("delivery.max_pending_bytes is 1)"));
  EXPECT_EQ(store_.events().size(), 1u);  // e2 was not recorded
}

TEST_F(DispatcherTest, PendingBytesAreGivenBackWhenDeliveriesFinish) {
  auto options = fast_options();
  options.max_pending_bytes = 1;
  start(rule_yaml(), &store_, options);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return pending_bytes(registry_) == 0; }));
  EXPECT_EQ(script_.call_count(), 1u);
  EXPECT_EQ(accept({"e2"}), std::nullopt);
}

TEST_F(DispatcherTest, RefusesIngestWhileUndeliveredEventsFillTheStore) {
  auto options = fast_options();
  options.max_journal_bytes = 1000;
  store_.bytes = 1000;
  start(rule_yaml(), &store_, options);

  const auto refusal = accept({"e1"});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "JournalFull");
  EXPECT_THAT(store_.events(), IsEmpty());

  store_.bytes = 999;
  EXPECT_EQ(accept({"e2"}), std::nullopt);
}

TEST_F(DispatcherTest, WithoutAStoreThereIsNoStoreBoundAndNoArchive) {
  auto options = fast_options();
  options.max_journal_bytes = 0;
  options.archive_retention = 24h;
  start(rule_yaml(), nullptr, options);
  EXPECT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));

  ReplayRequest request;
  request.name = "r";
  request.to = std::chrono::system_clock::now();
  auto replay = dispatcher_->replay(request);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().status, 409);
  EXPECT_EQ(replay.error().code, "ArchiveDisabled");
}

TEST_F(DispatcherTest, ABatchTheStoreCannotRecordIsRefusedAndCountsNoMatch) {
  store_.fail_appends = StoreFailure{true, "disk I/O error"};
  start(rule_yaml(), &store_);

  const auto refusal = accept({"e1", "e2"});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 503);
  EXPECT_EQ(refusal->code, "DiskFull");
  EXPECT_EQ(refusal->retry_after, 30s);
  EXPECT_EQ(matched_total(), 0u);
  EXPECT_EQ(rule_set_->find("r1")->match_count->load(), 0u);
  EXPECT_EQ(dispatcher_->pending(), 0u);

  store_.fail_appends = StoreFailure{false, "database is locked"};
  const auto unavailable = accept({"e3"});
  ASSERT_TRUE(unavailable);
  EXPECT_EQ(unavailable->code, "JournalUnavailable");

  store_.fail_appends.reset();
  EXPECT_EQ(accept({"e4"}), std::nullopt);
  EXPECT_EQ(matched_total(), 1u);
  EXPECT_EQ(rule_set_->find("r1")->match_count->load(), 1u);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));
  EXPECT_EQ(script_.calls()[0].invocation.event_id, "e4");
}

TEST_F(DispatcherTest, WithAnArchiveEventsStayInTheStoreAfterDeliveryEvenUnmatched) {
  auto options = fast_options();
  options.archive_retention = 24h;
  start(rule_yaml(), &store_, options);
  auto unmatched = make_event("other");
  unmatched.source = "elsewhere";
  unmatched.json = R"({"id":"other","source":"elsewhere","detail":{}})";
  std::vector<event::Event> batch;
  batch.push_back(make_event("e1"));
  batch.push_back(std::move(unmatched));
  std::promise<std::optional<server::SinkRefusal>> answered;
  dispatcher_->accept(std::move(batch), [&answered](std::optional<server::SinkRefusal> r) {
    answered.set_value(std::move(r));
  });
  ASSERT_EQ(answered.get_future().get(), std::nullopt);

  ASSERT_TRUE(eventually([&] { return store_.finished().size() == 1; }));
  // Both are archived for replays; the delivered one's event is not deleted with it.
  const auto events = store_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].archived);
  EXPECT_TRUE(events[1].archived);
  EXPECT_EQ(store_.finished()[0].event_seq, std::nullopt);
  EXPECT_EQ(store_.deliveries().size(), 1u);
}

TEST_F(DispatcherTest, RedrivenDeadLettersAreDeliveredAgainAndLeaveTheFile) {
  bool fail = true;
  std::mutex mutex;
  script_.answer = [&](const targets::Invocation&) {
    std::lock_guard lock(mutex);
    return fail ? targets::DeliveryResult::permanent(targets::ErrorCode::kErrorFromTarget, "500")
                : targets::DeliveryResult::ok();
  };
  start(rule_yaml(), &store_);
  ASSERT_EQ(accept({"e1"}), std::nullopt);
  only_dead_letter(default_dead_letters());
  {
    std::lock_guard lock(mutex);
    fail = false;
  }

  auto result = dispatcher_->redrive("", "");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->redriven, 1u);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 2 && dispatcher_->pending() == 0; }));
  EXPECT_EQ(script_.calls()[1].invocation.event_id, "e1");
  EXPECT_THAT(read_lines(default_dead_letters()), IsEmpty());
}

// --- events from a shared log (the cluster backend) --------------------------------------------

// Two targets on one rule, for progress that covers one and not the other.
std::string two_target_rule_yaml() {
  return rule_yaml() +
         "      - id: t2\n"
         "        type: queue_file\n"
         "        path: q2.jsonl\n";
}

LoggedEvent logged(std::int64_t seq, const std::string& id) {
  return LoggedEvent{seq, event_json(id), "default", std::chrono::system_clock::now(),
                     {},  false,          {},        {}};
}

TEST_F(DispatcherTest, ALoggedEventIsDeliveredUnderTheLogsNumberAndFinishedThere) {
  start(rule_yaml(), &store_);
  EXPECT_EQ(dispatcher_->take_logged(logged(41, "e1")), 1u);
  ASSERT_TRUE(eventually([&] { return store_.finished().size() == 1; }));
  EXPECT_EQ(script_.calls()[0].invocation.event_id, "e1");
  ASSERT_EQ(store_.deliveries().size(), 1u);
  EXPECT_EQ(store_.deliveries()[0].event_seq, 41);  // the log's number, not the store's own
}

TEST_F(DispatcherTest, ALoggedEventNoRuleMatchesStartsNothing) {
  start(rule_yaml(), &store_);
  auto event = logged(7, "e1");
  event.json = R"({"version":"0","id":"e1","detail-type":"x","source":"other","detail":{}})";
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 0u);
  EXPECT_EQ(store_.deliveries().size(), 0u);
}

TEST_F(DispatcherTest, ALoggedEventThatIsNotJsonMatchesNothing) {
  // The cluster backend checks what it takes from the log as ingest does; this is the engine's
  // own floor under that.
  start(rule_yaml(), &store_);
  for (std::string junk : {"not json", "{\"source\": [\"test\"", "[1,2,3]", ""}) {
    auto event = logged(11, "e1");
    event.json = junk;
    EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 0u) << junk;
  }
  EXPECT_EQ(script_.call_count(), 0u);
}

TEST_F(DispatcherTest, ATakenOverEventSkipsFinishedTargetsAndResumesTheAttemptCount) {
  start(two_target_rule_yaml(), &store_);
  auto event = logged(9, "e1");
  event.progress = [](const std::string& rule, const std::string& target) -> std::optional<int> {
    EXPECT_EQ(rule, "r1");
    if (target == "t1") return LoggedEvent::kDelivered;  // the earlier router finished it
    return 3;                                            // three attempts failed there
  };
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 1u);
  ASSERT_TRUE(eventually([&] { return store_.finished().size() == 1; }));
  ASSERT_EQ(script_.call_count(), 1u);
  EXPECT_EQ(script_.calls()[0].invocation.target, "t2");
  EXPECT_EQ(script_.calls()[0].invocation.attempt, 4);
}

TEST_F(DispatcherTest, ATakenOverEventWithEveryTargetFinishedStartsNothing) {
  start(two_target_rule_yaml(), &store_);
  auto event = logged(9, "e1");
  event.progress = [](const std::string&, const std::string&) -> std::optional<int> {
    return LoggedEvent::kDelivered;
  };
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 0u);
  EXPECT_EQ(script_.call_count(), 0u);
}

TEST_F(DispatcherTest, ARedrivenLoggedEventGoesToItsOneTargetWithoutMatching) {
  start(two_target_rule_yaml(), &store_);
  auto event = logged(5, "e1");
  event.json = R"({"version":"0","id":"e1","detail-type":"x","source":"unmatched","detail":{}})";
  event.only_target = std::pair{std::string("r1"), std::string("t2")};
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 1u);
  ASSERT_TRUE(eventually([&] { return store_.finished().size() == 1; }));
  ASSERT_EQ(script_.call_count(), 1u);
  EXPECT_EQ(script_.calls()[0].invocation.target, "t2");
}

TEST_F(DispatcherTest, ARedrivenLoggedEventForAnUnknownTargetIsDeadLetteredAgain) {
  start(rule_yaml(), &store_);
  auto event = logged(5, "e1");
  event.only_target = std::pair{std::string("r1"), std::string("gone")};
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 0u);
  const auto letter = only_dead_letter(default_dead_letters());
  EXPECT_EQ(letter.target, "gone");
  EXPECT_EQ(letter.error_code, "RESOURCE_NOT_FOUND");
  EXPECT_EQ(letter.event_id, "e1");
}

TEST_F(DispatcherTest, AReplayOfOneRuleTakesOnlyThatRule) {
  start(rule_yaml() +
            "  - name: r2\n    event_pattern: {source: [test]}\n    targets:\n"
            "      - {id: t9, type: queue_file, path: q9.jsonl}\n",
        &store_);
  auto event = logged(3, "e1");
  event.only_rule = "r2";
  EXPECT_EQ(dispatcher_->take_logged(std::move(event)), 1u);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));
  EXPECT_EQ(script_.calls()[0].invocation.rule, "r2");
}

TEST_F(DispatcherTest, AScheduledEventGoesToItsRuleAloneWithoutMatching) {
  start(rule_yaml() +
            "  - name: beat\n    schedule: rate(1 minute)\n    targets:\n"
            "      - {id: t2, type: queue_file, path: q2.jsonl}\n"
            "  - name: off\n    state: DISABLED\n    schedule: rate(1 minute)\n    targets:\n"
            "      - {id: t3, type: queue_file, path: q3.jsonl}\n",
        &store_);
  // Shaped like an event r1's pattern matches: it still goes to beat's target alone.
  EXPECT_TRUE(dispatcher_->fire("beat", event_json("s1"), "default"));
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0 && script_.call_count() == 1; }));
  EXPECT_EQ(script_.calls()[0].invocation.rule, "beat");
  EXPECT_EQ(script_.calls()[0].invocation.target, "t2");
  EXPECT_EQ(script_.calls()[0].invocation.event_id, "s1");
  ASSERT_EQ(store_.deliveries().size(), 1u);  // recorded like any delivery
  EXPECT_EQ(store_.deliveries()[0].rule, "beat");
  // Not a scheduled rule, disabled, another bus, unknown: nothing is delivered.
  EXPECT_FALSE(dispatcher_->fire("r1", event_json("s2"), "default"));
  EXPECT_FALSE(dispatcher_->fire("off", event_json("s3"), "default"));
  EXPECT_FALSE(dispatcher_->fire("beat", event_json("s4"), "other"));
  EXPECT_FALSE(dispatcher_->fire("nope", event_json("s5"), "default"));
  // After shutdown the engine takes no scheduled event either.
  shutdown(0ms);
  EXPECT_FALSE(dispatcher_->fire("beat", event_json("s6"), "default"));
  EXPECT_EQ(script_.call_count(), 1u);
}

TEST_F(DispatcherTest, ADedupKeyWhoseBatchWasNotRecordedIsNotADuplicate) {
  store_.fail_appends = StoreFailure{false, "database is locked"};
  start(rule_yaml() + "    dedup: {key: [id], window: 1h}\n", &store_);
  ASSERT_TRUE(accept({"e1"}));  // refused: the producer sends it again

  store_.fail_appends.reset();
  EXPECT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 1; }));
  EXPECT_EQ(accept({"e1", "e2", "e1"}), std::nullopt);  // recorded now: e1 is a duplicate
  ASSERT_TRUE(eventually([&] { return script_.call_count() == 2; }));
  EXPECT_EQ(script_.calls()[1].invocation.event_id, "e2");
  // The key went to the store with the batch that fired it.
  EXPECT_EQ(store_.dedup_records(), 2u);
  // Suppressed matches are matches.
  EXPECT_EQ(rule_set_->find("r1")->match_count->load(), 4u);
}

TEST_F(DispatcherTest, ATargetsSeriesAppearAtItsFirstDeliveryAndLatencyIsByTargetType) {
  // r1/t1 (a queue file) delivers, r2/t2 (a webhook) is refused for good, r3 never matches.
  script_.answer = [](const targets::Invocation& invocation) {
    return invocation.target == "t2" ? targets::DeliveryResult::permanent(
                                           targets::ErrorCode::kNoPermissions, "403 Forbidden")
                                     : targets::DeliveryResult::ok();
  };
  start(rule_yaml() +
            "  - name: r2\n"
            "    event_pattern: {source: [test]}\n"
            "    targets: [{id: t2, type: webhook, url: 'http://127.0.0.1:9/'}]\n"
            "  - name: r3\n"
            "    event_pattern: {source: [other]}\n"
            "    targets: [{id: t3, type: queue_file, path: r3.jsonl}]\n",
        &store_);
  auto has = [this](const std::string& line) {
    return registry_.render().find(line + "\n") != std::string::npos;
  };
  // Before any delivery: each rule's match counter, no target's series, no latency.
  EXPECT_TRUE(has("eventrouter_rule_matches_total{rule=\"r3\"} 0")) << registry_.render();
  EXPECT_EQ(registry_.render().find("eventrouter_invocation"), std::string::npos);
  EXPECT_EQ(registry_.render().find("eventrouter_dead_letters_total"), std::string::npos);
  EXPECT_EQ(registry_.render().find("eventrouter_target_duration_seconds"), std::string::npos);

  ASSERT_EQ(accept({"e1"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0; }));
  ASSERT_EQ(script_.call_count(), 2u);

  const auto text = registry_.render();
  // Each target that ran has all its series, the outcomes it never had at 0.
  EXPECT_TRUE(has("eventrouter_invocation_attempts_total{rule=\"r1\",target=\"t1\"} 1")) << text;
  EXPECT_TRUE(
      has("eventrouter_invocations_total{rule=\"r1\",target=\"t1\",outcome=\"success\"} 1"));
  EXPECT_TRUE(
      has("eventrouter_invocations_total{rule=\"r1\",target=\"t1\",outcome=\"retried\"} 0"));
  EXPECT_TRUE(has("eventrouter_dead_letters_total{rule=\"r1\",target=\"t1\"} 0"));
  EXPECT_TRUE(has("eventrouter_invocation_attempts_total{rule=\"r2\",target=\"t2\"} 1"));
  EXPECT_TRUE(
      has("eventrouter_invocations_total{rule=\"r2\",target=\"t2\",outcome=\"dead_lettered\"} 1"));
  EXPECT_TRUE(
      has("eventrouter_invocations_total{rule=\"r2\",target=\"t2\",outcome=\"success\"} 0"));
  EXPECT_TRUE(has("eventrouter_dead_letters_total{rule=\"r2\",target=\"t2\"} 1"));
  // One latency histogram per target type, never per rule or target.
  EXPECT_TRUE(has("eventrouter_target_duration_seconds_count{type=\"queue_file\"} 1")) << text;
  EXPECT_TRUE(has("eventrouter_target_duration_seconds_count{type=\"webhook\"} 1"));
  EXPECT_TRUE(has("eventrouter_target_duration_seconds_bucket{type=\"webhook\",le=\"+Inf\"} 1"));
  EXPECT_EQ(text.find("eventrouter_target_duration_seconds_count{rule"), std::string::npos);
  // The target that never ran still has no series.
  EXPECT_EQ(text.find("target=\"t3\""), std::string::npos) << text;

  // A second delivery counts on the same series.
  ASSERT_EQ(accept({"e2"}), std::nullopt);
  ASSERT_TRUE(eventually([&] { return dispatcher_->pending() == 0 && script_.call_count() == 4; }));
  EXPECT_TRUE(
      has("eventrouter_invocations_total{rule=\"r1\",target=\"t1\",outcome=\"success\"} 2"));
  EXPECT_TRUE(has("eventrouter_target_duration_seconds_count{type=\"queue_file\"} 2"));
}

}  // namespace
}  // namespace eventrouter::delivery
