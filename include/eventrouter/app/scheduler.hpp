#pragma once
// Fires scheduled rules: at each due time of every enabled rule with a `schedule`, builds
// EventBridge's Scheduled Event and hands it to `fire` (the dispatcher, or the cluster bus,
// which keeps one copy of what every router publishes). Runs on a thread of its own: firing
// with the cluster backend waits for the stream's acknowledgement, which must not hold up
// the delivery threads. Missed due times (the daemon was down, or late) are not made up.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/rules/schedule.hpp"

namespace eventrouter::app {

// The clock schedules are due on: the system clock, or, for tests only, a faster one set by
// EVENTROUTER_TEST_SCHEDULE_CLOCK="SCALE,ORIGIN" (ORIGIN in epoch seconds): schedule time is
// ORIGIN + (now - ORIGIN) * SCALE, so SCALE 60 makes a scheduled minute pass every second,
// the same on every router given the same ORIGIN.
struct ScheduleClock {
  double scale = 1.0;
  std::int64_t origin = 0;

  // The variable's clock, or the system clock when it is unset or not of that form.
  static ScheduleClock from_environment();
  bool is_real() const { return scale == 1.0; }
  std::chrono::system_clock::time_point now() const;
  // How long to wait on the system clock for `span` of schedule time to pass.
  std::chrono::nanoseconds real_span(std::chrono::nanoseconds span) const;
};

// The Scheduled Event of `rule` due at `due`. Its id is derived from the rule's name and the
// due time, so that every router builds the same event.
std::string scheduled_event_id(const std::string& rule, rules::ScheduleTime due);
std::string scheduled_event_json(const rules::Rule& rule, rules::ScheduleTime due);

class Scheduler {
 public:
  using RuleSource = std::function<std::shared_ptr<const rules::RuleSet>()>;
  // Returns whether the event was taken (recorded or published).
  using Fire =
      std::function<bool(const rules::Rule& rule, rules::ScheduleTime due, std::string json)>;

  Scheduler(RuleSource rules, Fire fire, metrics::Registry& metrics, ScheduleClock clock);
  ~Scheduler();  // stops
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  void stop();  // returns once no fire is running

 private:
  struct Next {
    std::string expression, bus;  // what `at` was computed for; a reload may change either
    std::optional<rules::ScheduleTime> at;
  };
  void run();
  // Fires what is due and returns the earliest next due time.
  std::optional<rules::ScheduleTime> tick();
  metrics::Counter& fires_of(const std::string& rule);  // bounded by the rules loaded

  RuleSource rules_;
  Fire fire_;
  metrics::Registry& metrics_;
  ScheduleClock clock_;
  std::map<std::string, Next> next_;  // by rule name; only the scheduler thread uses it
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eventrouter::app
