// Series created at their first use: nothing in a scrape before it, one creation however many
// threads use it at once, the same series afterwards.

#include "eventrouter/metrics/lazy.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace eventrouter::metrics {
namespace {

TEST(Lazy, MakesItsValueOnceWhenManyThreadsAskAtOnce) {
  std::atomic<int> made{0};
  Lazy<int> lazy([&made] { return ++made * 10; });
  EXPECT_EQ(made.load(), 0) << "nothing is made before the first get()";
  std::vector<std::thread> threads;
  std::vector<int> seen(8, 0);
  for (std::size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] { seen[i] = lazy.get(); });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(made.load(), 1);
  for (int value : seen) EXPECT_EQ(value, 10);
}

TEST(LazyGauge, AppearsInTheScrapeOnlyOnceSomethingIsAdded) {
  Registry registry;
  LazyGauge gauge(registry, "held", "Held back.", {{"rule", "r"}, {"target", "t"}});
  EXPECT_EQ(registry.render(), "");
  gauge.add(0);
  EXPECT_EQ(registry.render(), "") << "adding nothing creates nothing";
  gauge.add(2);
  gauge.add(-1);
  EXPECT_EQ(registry.render(),
            "# HELP held Held back.\n# TYPE held gauge\nheld{rule=\"r\",target=\"t\"} 1\n");
  EXPECT_EQ(registry.gauge("held", "Held back.", {{"rule", "r"}, {"target", "t"}}).value(), 1);
}

}  // namespace
}  // namespace eventrouter::metrics
