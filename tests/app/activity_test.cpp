#include "eventrouter/app/activity.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace eventrouter::app {
namespace {

using namespace std::chrono_literals;
using Clock = Activity::Clock;

const Clock::time_point kStart = Clock::time_point(std::chrono::hours(491'000));  // whole hour

struct Series {
  std::vector<std::string> starts;
  std::vector<std::uint64_t> received, delivered, failed;
};

Series read(const std::string& text) {
  simdjson::dom::parser parser;
  auto root = parser.parse(text).value();
  EXPECT_EQ(root["interval_seconds"].get_int64().value(), 60);
  Series series;
  simdjson::dom::array minutes = root["series"].get_array().value();
  for (auto minute : minutes) {
    series.starts.emplace_back(std::string_view(minute["start"].get_string().value()));
    series.received.push_back(minute["received"].get_uint64().value());
    series.delivered.push_back(minute["delivered"].get_uint64().value());
    series.failed.push_back(minute["failed"].get_uint64().value());
  }
  return series;
}

TEST(Activity, CountsEachMinuteFromTheCounters) {
  metrics::Registry registry;
  auto& received = registry.counter("eventrouter_events_received_total", "h", {{"bus", "default"}});
  auto& delivered = registry.counter("eventrouter_invocations_total", "h",
                                     {{"rule", "r"}, {"target", "t"}, {"outcome", "success"}});
  auto& retried = registry.counter("eventrouter_invocations_total", "h",
                                   {{"rule", "r"}, {"target", "t"}, {"outcome", "retried"}});
  Activity activity(registry);
  received.inc(3);
  activity.sample(kStart + 10s);
  received.inc(2);
  delivered.inc(4);
  activity.sample(kStart + 50s);
  received.inc(7);  // lands in the next minute
  retried.inc(1);
  const auto series = read(activity.json(kStart + 65s));

  ASSERT_EQ(series.received.size(), 60u);
  EXPECT_EQ(series.starts.back(), "2026-01-05T08:01:00Z");
  EXPECT_EQ(series.starts[58], "2026-01-05T08:00:00Z");
  EXPECT_EQ(series.received[58], 5u);
  EXPECT_EQ(series.delivered[58], 4u);
  EXPECT_EQ(series.received[59], 7u);
  EXPECT_EQ(series.failed[59], 1u);
  EXPECT_EQ(series.received[0], 0u);
}

TEST(Activity, ForgetsMinutesOlderThanAnHour) {
  metrics::Registry registry;
  auto& received = registry.counter("eventrouter_events_received_total", "h", {{"bus", "default"}});
  Activity activity(registry);
  received.inc(9);
  activity.sample(kStart + 1s);
  const auto later = read(activity.json(kStart + 61min));
  std::uint64_t total = 0;
  for (auto n : later.received) total += n;
  EXPECT_EQ(total, 0u);  // the minute that held the 9 is no longer among the last 60
}

}  // namespace
}  // namespace eventrouter::app
