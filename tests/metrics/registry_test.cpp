#include "eventrouter/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace eventrouter::metrics {
namespace {

TEST(Registry, RendersCountersWithLabelsInPrometheusFormat) {
  Registry registry;
  registry.counter("eventrouter_events_received_total", "Events received.", {{"bus", "default"}})
      .inc(3);
  registry.counter("eventrouter_events_received_total", "Events received.", {{"bus", "ops"}}).inc();
  const auto text = registry.render();
  EXPECT_NE(text.find("# HELP eventrouter_events_received_total Events received.\n"
                      "# TYPE eventrouter_events_received_total counter\n"
                      "eventrouter_events_received_total{bus=\"default\"} 3\n"
                      "eventrouter_events_received_total{bus=\"ops\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Registry, SameNameAndLabelsIsTheSameCounter) {
  Registry registry;
  auto& a = registry.counter("c_total", "h", {{"k", "v"}});
  auto& b = registry.counter("c_total", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}

TEST(Registry, EscapesLabelValues) {
  Registry registry;
  registry.counter("c_total", "h", {{"rule", "a\"b\\c\nd"}}).inc();
  EXPECT_NE(registry.render().find(R"(c_total{rule="a\"b\\c\nd"} 1)"), std::string::npos);
}

TEST(Registry, RendersHistogramsCumulatively) {
  Registry registry;
  auto& h = registry.histogram("d_seconds", "Durations.", {{"t", "x"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const auto text = registry.render();
  EXPECT_NE(text.find("d_seconds_bucket{t=\"x\",le=\"0.1\"} 1\n"
                      "d_seconds_bucket{t=\"x\",le=\"1\"} 2\n"
                      "d_seconds_bucket{t=\"x\",le=\"+Inf\"} 3\n"
                      "d_seconds_sum{t=\"x\"} 5.55\n"
                      "d_seconds_count{t=\"x\"} 3\n"),
            std::string::npos)
      << text;
}

TEST(Registry, GaugeCallbacksAreReadAtScrapeTime) {
  Registry registry;
  double depth = 1;
  registry.gauge_callback("q_depth", "Depth.", [&] { return depth; });
  depth = 42;
  EXPECT_NE(registry.render().find("q_depth 42\n"), std::string::npos);
}

TEST(Counter, CountsFromManyThreads) {
  Registry registry;
  auto& c = registry.counter("n_total", "h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
}

}  // namespace
}  // namespace eventrouter::metrics

namespace eventrouter::metrics {
namespace {

TEST(LabeledCounters, AreTheRegistrysCountersForEachValue) {
  Registry registry;
  LabeledCounters by_status(registry, "req_total", "Requests.", "status", {{"route", "events"}});
  by_status.get("200").inc(2);
  by_status.get("400").inc();
  EXPECT_EQ(&by_status.get("200"),
            &registry.counter("req_total", "Requests.", {{"route", "events"}, {"status", "200"}}));
  const auto text = registry.render();
  EXPECT_NE(text.find("req_total{route=\"events\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("req_total{route=\"events\",status=\"400\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace eventrouter::metrics

namespace eventrouter::metrics {
namespace {

TEST(CounterSum, AddsAFamilysSeriesOrThoseWithALabelValue) {
  Registry registry;
  registry.counter("inv_total", "h", {{"rule", "a"}, {"outcome", "success"}}).inc(3);
  registry.counter("inv_total", "h", {{"rule", "b"}, {"outcome", "success"}}).inc(4);
  registry.counter("inv_total", "h", {{"rule", "a"}, {"outcome", "retried"}}).inc(5);
  registry.counter("inv_total", "h", {{"rule", "a"}, {"outcome", "failed"}}).inc(6);
  // A value that spells another label must not count as that label.
  registry.counter("inv_total", "h", {{"rule", "x\",outcome=\"success"}, {"outcome", "none"}})
      .inc(100);
  EXPECT_EQ(registry.counter_sum("inv_total"), 118u);
  EXPECT_EQ(registry.counter_sum("inv_total", "outcome", {"success"}), 7u);
  EXPECT_EQ(registry.counter_sum("inv_total", "outcome", {"retried", "failed"}), 11u);
  EXPECT_EQ(registry.counter_sum("inv_total", "outcome", {"unknown"}), 0u);
  EXPECT_EQ(registry.counter_sum("absent_total"), 0u);
}

}  // namespace
}  // namespace eventrouter::metrics
