#pragma once
// A rule's schedule in EventBridge's syntax, `rate(value unit)` or `cron(minutes hours
// day-of-month month day-of-week year)`, and when it is next due. Every time is UTC and on a
// whole minute. docs/rules.md ("Scheduled rules") describes the syntax for users.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::rules {

using ScheduleTime = std::chrono::sys_seconds;

// Why an expression is refused: where in the expression (1-based character) and what to write.
struct ScheduleError {
  std::size_t character = 1;
  std::string message;  // the whole text shown to users, naming the field and the character
};

class Schedule {
 public:
  static Expected<Schedule, ScheduleError> parse(std::string_view expression);

  // The first due time strictly after `after`. A rate is due at every whole multiple of its
  // period since the Unix epoch, so that every router computes the same instants. Nothing
  // when a cron expression matches no time after `after` up to the end of its last year
  // (2199 at most).
  std::optional<ScheduleTime> next_after(ScheduleTime after) const;

  const std::string& expression() const noexcept { return expression_; }

  struct Cron;  // the parsed fields; defined in schedule.cpp

 private:
  std::string expression_;
  std::int64_t rate_seconds_ = 0;     // a rate's period; 0 for a cron expression
  std::shared_ptr<const Cron> cron_;  // shared: copies of a rule share the parsed fields
};

}  // namespace eventrouter::rules
