#pragma once
// Series created at their first use rather than up front, as Prometheus client libraries do for
// labelled series: a rule set of 10,000 targets that never ran costs a scrape nothing for them.
// The registry is asked once, under its lock; every later use reads the kept pointers, after
// one atomic check, with no lock and no allocation.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include "eventrouter/metrics/registry.hpp"

namespace eventrouter::metrics {

// `make()` runs once, at the first get(), whichever thread asks first; the others wait for it.
template <typename T>
class Lazy {
 public:
  explicit Lazy(std::function<T()> make) : make_(std::move(make)) {}
  Lazy(const Lazy&) = delete;
  Lazy& operator=(const Lazy&) = delete;

  const T& get() {
    // Once made, one acquiring load: std::call_once alone would also set two thread-locals and
    // call pthread_once on every use.
    if (!made_.load(std::memory_order_acquire)) {
      std::call_once(once_, [this] {
        value_.emplace(make_());
        make_ = nullptr;  // what it captured is no longer needed
        made_.store(true, std::memory_order_release);
      });
    }
    return *value_;
  }

 private:
  std::atomic<bool> made_{false};
  std::once_flag once_;
  std::function<T()> make_;
  std::optional<T> value_;
};

// A gauge created in the registry when something is first added to it.
class LazyGauge {
 public:
  LazyGauge(Registry& registry, std::string name, std::string help, Labels labels)
      : gauge_([&registry, name = std::move(name), help = std::move(help),
                labels = std::move(labels)] { return &registry.gauge(name, help, labels); }) {}

  // Adding 0 creates nothing: a shutdown with nothing held back leaves no series behind.
  void add(double d) {
    if (d != 0) gauge_.get()->add(d);
  }

 private:
  Lazy<Gauge*> gauge_;
};

}  // namespace eventrouter::metrics
