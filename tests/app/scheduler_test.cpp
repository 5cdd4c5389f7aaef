#include "eventrouter/app/scheduler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "eventrouter/util/ids.hpp"
#include "support/eventually.hpp"

namespace eventrouter::app {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

rules::Rule scheduled(const std::string& name, const std::string& expression, bool enabled = true,
                      const std::string& bus = "default") {
  rules::Rule rule;
  rule.name = name;
  rule.bus = bus;
  rule.enabled = enabled;
  auto schedule = rules::Schedule::parse(expression);
  EXPECT_TRUE(schedule) << expression;
  if (schedule) rule.schedule = *schedule;
  return rule;
}

std::shared_ptr<const rules::RuleSet> rule_set(std::vector<rules::Rule> rules) {
  return std::make_shared<const rules::RuleSet>(std::move(rules),
                                                std::vector<std::filesystem::path>{});
}

rules::ScheduleTime at(std::string_view text) {
  return std::chrono::floor<std::chrono::seconds>(*parse_rfc3339(text));
}

// Rules the test swaps, fires recorded.
struct Harness {
  std::mutex mutex;
  std::shared_ptr<const rules::RuleSet> rules;
  std::vector<std::pair<std::string, rules::ScheduleTime>> fired;
  std::vector<std::string> events;
  std::atomic<bool> accept{true};
  metrics::Registry metrics;

  Scheduler make(ScheduleClock clock) {
    return Scheduler(
        [this] {
          std::lock_guard lock(mutex);
          return rules;
        },
        [this](const rules::Rule& rule, rules::ScheduleTime due, std::string json) {
          std::lock_guard lock(mutex);
          fired.emplace_back(rule.name, due);
          events.push_back(std::move(json));
          return accept.load();
        },
        metrics, clock);
  }
  void set(std::shared_ptr<const rules::RuleSet> next) {
    std::lock_guard lock(mutex);
    rules = std::move(next);
  }
  std::vector<rules::ScheduleTime> times_of(const std::string& name) {
    std::lock_guard lock(mutex);
    std::vector<rules::ScheduleTime> out;
    for (const auto& [rule, due] : fired) {
      if (rule == name) out.push_back(due);
    }
    return out;
  }
  double fires_metric(const std::string& rule) {
    return static_cast<double>(
        metrics.counter("eventrouter_schedule_fires_total", "", {{"rule", rule}}).value());
  }
};

// A scheduled minute every 100 ms of real time.
ScheduleClock fast_clock() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return ScheduleClock{600, std::chrono::duration_cast<std::chrono::seconds>(now).count()};
}

// Due times in order, each once, on whole minutes. (On a loaded machine the scheduler may be
// late for one and skip it, as it skips times missed while down; most follow each other.)
void expect_consecutive(const std::vector<rules::ScheduleTime>& times, std::chrono::minutes step) {
  std::size_t adjacent = 0;
  for (std::size_t i = 1; i < times.size(); ++i) {
    const auto gap = times[i] - times[i - 1];
    EXPECT_GT(gap, std::chrono::seconds(0)) << i;
    EXPECT_EQ(gap % step, std::chrono::seconds(0)) << i;
    if (gap == step) ++adjacent;
  }
  EXPECT_GE(adjacent * 2, times.size() - 1);
}

TEST(ScheduledEvent, IsEventBridgesShapeWithAnIdFromRuleAndTime) {
  const auto due = at("2026-12-06T12:00:00Z");
  const std::string json = scheduled_event_json(scheduled("noon-sweep", "rate(1 hour)"), due);
  const std::string id = scheduled_event_id("noon-sweep", due);
  EXPECT_EQ(json, R"({"version":"0","id":")" + id +
                      R"(","detail-type":"Scheduled Event","source":"aws.events",)"
                      R"("account":"000000000000","time":"2026-12-06T12:00:00Z",)"
                      R"("region":"us-east-1",)"
                      R"("resources":["arn:aws:events:us-east-1:000000000000:rule/noon-sweep"],)"
                      R"("detail":{}})");
  // A UUID (version 8), the same for the same rule and time on every router, else different.
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '8');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  EXPECT_EQ(id, scheduled_event_id("noon-sweep", due));
  EXPECT_NE(id, scheduled_event_id("noon-sweep", due + std::chrono::minutes(1)));
  EXPECT_NE(id, scheduled_event_id("other", due));
  // Another bus is named in the rule's ARN.
  EXPECT_THAT(scheduled_event_json(scheduled("r", "rate(1 hour)", true, "ops"), due),
              HasSubstr(R"("resources":["arn:aws:events:us-east-1:000000000000:rule/ops/r"])"));
}

TEST(ScheduleClockTest, ScalesFromItsOrigin) {
  const ScheduleClock real;
  EXPECT_TRUE(real.is_real());
  EXPECT_EQ(real.real_span(std::chrono::seconds(60)), std::chrono::seconds(60));
  const ScheduleClock fast = fast_clock();
  EXPECT_EQ(fast.real_span(std::chrono::seconds(60)), std::chrono::milliseconds(100));
  // Right after the origin, schedule time is close to real time.
  const auto gap = fast.now() - std::chrono::system_clock::now();
  EXPECT_LT(gap, std::chrono::hours(2));
  EXPECT_GT(gap, -std::chrono::seconds(1));
}

TEST(Scheduler, FiresEveryDueTimeOnceInOrder) {
  Harness h;
  h.set(rule_set({scheduled("beat", "rate(1 minute)"), scheduled("off", "rate(1 minute)", false),
                  scheduled("hourly", "cron(0 * * * ? *)")}));
  auto scheduler = h.make(fast_clock());
  scheduler.start();
  ASSERT_TRUE(testing::eventually([&] { return h.times_of("beat").size() >= 10; }, 20s));
  scheduler.stop();
  const auto times = h.times_of("beat");
  expect_consecutive(times, std::chrono::minutes(1));
  EXPECT_EQ(h.fires_metric("beat"), static_cast<double>(times.size()));
  EXPECT_TRUE(h.times_of("off").empty());
  for (const auto& due : h.times_of("hourly")) {
    EXPECT_EQ(due.time_since_epoch() % std::chrono::hours(1), std::chrono::seconds(0));
  }
  // Stopped: no more fires.
  const auto count = h.times_of("beat").size();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.times_of("beat").size(), count);
}

TEST(Scheduler, AReloadThatDisablesOrRemovesARuleStopsIt) {
  Harness h;
  h.set(rule_set({scheduled("beat", "rate(1 minute)"), scheduled("other", "rate(1 minute)")}));
  auto scheduler = h.make(fast_clock());
  scheduler.start();
  ASSERT_TRUE(testing::eventually([&] { return h.times_of("other").size() >= 3; }, 20s));
  h.set(rule_set({scheduled("beat", "rate(1 minute)", false)}));
  std::this_thread::sleep_for(300ms);  // the scheduler sees the new rules on its next tick
  const auto beat = h.times_of("beat").size(), other = h.times_of("other").size();
  std::this_thread::sleep_for(500ms);  // five scheduled minutes
  EXPECT_EQ(h.times_of("beat").size(), beat);
  EXPECT_EQ(h.times_of("other").size(), other);
  // Enabled again with another schedule: it fires on the new one.
  h.set(rule_set({scheduled("beat", "rate(2 minutes)")}));
  ASSERT_TRUE(testing::eventually([&] { return h.times_of("beat").size() >= beat + 4; }, 20s));
  const auto times = h.times_of("beat");
  expect_consecutive({times.begin() + static_cast<std::ptrdiff_t>(beat), times.end()},
                     std::chrono::minutes(2));
}

TEST(Scheduler, AFireNotTakenIsNotCounted) {
  Harness h;
  h.accept = false;
  h.set(rule_set({scheduled("beat", "rate(1 minute)")}));
  auto scheduler = h.make(fast_clock());
  scheduler.start();
  ASSERT_TRUE(testing::eventually([&] { return h.times_of("beat").size() >= 3; }, 20s));
  scheduler.stop();
  EXPECT_EQ(h.fires_metric("beat"), 0.0);
}

TEST(Scheduler, StopBeforeStartAndTwice) {
  Harness h;
  h.set(rule_set({scheduled("beat", "rate(1 minute)")}));
  auto scheduler = h.make(fast_clock());
  scheduler.stop();
  scheduler.start();  // after stop: does nothing
  std::this_thread::sleep_for(50ms);
  scheduler.stop();
  EXPECT_TRUE(h.times_of("beat").empty());
}

}  // namespace
}  // namespace eventrouter::app
