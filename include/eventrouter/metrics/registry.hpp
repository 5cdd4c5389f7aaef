#pragma once
// Counters, gauges and histograms with Prometheus text exposition.
// Look a metric up once (a map under a mutex) and keep the reference: updates are lock-free.
// Labels are for low-cardinality values only (routes, rules, targets), never event fields.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventrouter::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value) noexcept;
  const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
  // Cumulative counts per bound (then +Inf), the sum and the count, read without a lock.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Latency buckets in seconds, from 100 µs to 60 s.
const std::vector<double>& latency_buckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       const std::vector<double>& upper_bounds = latency_buckets());
  // A gauge read when scraped (queue depths, file sizes).
  void gauge_callback(std::string_view name, std::string_view help, std::function<double()> read,
                      const Labels& labels = {});

  // The Prometheus text exposition format, version 0.0.4.
  std::string render() const;

  // The sum of a counter family's series, or of those whose label `label` is one of `values`
  // (every series when `label` is empty); 0 for a family that does not exist (yet).
  std::uint64_t counter_sum(std::string_view name, std::string_view label = {},
                            const std::vector<std::string_view>& values = {}) const;

 private:
  struct Series;
  struct Family;
  Family& family(std::string_view name, std::string_view help, std::string_view type);
  Series& series(Family& family, const Labels& labels);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// The counters of one family that differ in one label (a bus, a status code), found on the hot
// path under a shared lock instead of the registry's exclusive one.
class LabeledCounters {
 public:
  LabeledCounters(Registry& registry, std::string name, std::string help, std::string label,
                  Labels fixed = {});
  Counter& get(std::string_view value);

 private:
  Registry& registry_;
  std::string name_, help_, label_;
  Labels fixed_;
  std::shared_mutex mutex_;
  std::map<std::string, Counter*, std::less<>> counters_;
};

}  // namespace eventrouter::metrics
