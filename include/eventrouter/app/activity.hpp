#pragma once
// The last hour of the daemon's work, a minute at a time, for the console's overview (GET
// /activity): events received and matched, deliveries that succeeded, attempts that failed,
// dead letters. Read from the metrics' own counters: a thread samples them every few seconds
// and keeps each minute's total, so nothing on the ingest or delivery path pays for it.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "eventrouter/metrics/registry.hpp"

namespace eventrouter::app {

struct ActivityTotals {
  std::uint64_t received = 0, matched = 0, delivered = 0, failed = 0, dead_lettered = 0;
};

// The counters' totals now (sums over buses, rules and targets).
ActivityTotals read_activity_totals(const metrics::Registry& registry);

class Activity {
 public:
  using Clock = std::chrono::system_clock;
  static constexpr std::size_t kMinutes = 60;

  explicit Activity(const metrics::Registry& registry);
  ~Activity();  // stops the sampling thread
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

  // Samples every `every` on a thread of its own until destroyed.
  void start(std::chrono::milliseconds every = std::chrono::seconds(5));

  // Takes the totals at `now`: the minute they fall in starts where the previous sample left
  // off. Called by the thread; tests call it with their own times.
  void sample(Clock::time_point now);

  // {"interval_seconds":60,"series":[{"start":...,"received":n,...}, ...]}: the 60 minutes up
  // to and including the one holding `now`, oldest first, after a sample at `now`.
  std::string json(Clock::time_point now);

 private:
  struct Minute {
    std::int64_t index = -1;  // minutes since the epoch; -1: never sampled
    ActivityTotals at_start;  // the totals when the minute began
    ActivityTotals latest;    // the totals at its last sample
  };

  void run(std::chrono::milliseconds every);

  const metrics::Registry& registry_;
  std::mutex mutex_;
  std::array<Minute, kMinutes + 1> minutes_;  // a ring indexed by minute number
  ActivityTotals last_;                       // the newest sample's totals
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eventrouter::app
