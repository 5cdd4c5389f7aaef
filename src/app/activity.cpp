#include "eventrouter/app/activity.hpp"

#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace {

using std::chrono::duration_cast;
using std::chrono::minutes;

std::int64_t minute_of(Activity::Clock::time_point time) {
  return duration_cast<minutes>(time.time_since_epoch()).count();
}

ActivityTotals operator-(const ActivityTotals& a, const ActivityTotals& b) {
  return {a.received - b.received, a.matched - b.matched, a.delivered - b.delivered,
          a.failed - b.failed, a.dead_lettered - b.dead_lettered};
}

void append_minute(std::string& out, std::int64_t index, const ActivityTotals& counts) {
  out += R"({"start":)";
  json::append_string(out, format_rfc3339(Activity::Clock::time_point(minutes(index))));
  out += R"(,"received":)" + std::to_string(counts.received);
  out += R"(,"matched":)" + std::to_string(counts.matched);
  out += R"(,"delivered":)" + std::to_string(counts.delivered);
  out += R"(,"failed":)" + std::to_string(counts.failed);
  out += R"(,"dead_lettered":)" + std::to_string(counts.dead_lettered);
  out += "}";
}

}  // namespace

ActivityTotals read_activity_totals(const metrics::Registry& registry) {
  ActivityTotals totals;
  totals.received = registry.counter_sum("eventrouter_events_received_total");
  totals.matched = registry.counter_sum("eventrouter_events_matched_total");
  totals.delivered = registry.counter_sum("eventrouter_invocations_total", "outcome", {"success"});
  totals.failed = registry.counter_sum("eventrouter_invocations_total", "outcome",
                                       {"retried", "dead_lettered", "failed"});
  totals.dead_lettered = registry.counter_sum("eventrouter_dead_letters_total");
  return totals;
}

Activity::Activity(const metrics::Registry& registry) : registry_(registry) {}

Activity::~Activity() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Activity::start(std::chrono::milliseconds every) {
  thread_ = std::thread([this, every] { run(every); });
}

void Activity::run(std::chrono::milliseconds every) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    sample(Clock::now());
    lock.lock();
    wake_.wait_for(lock, every, [this] { return stopping_; });
  }
}

void Activity::sample(Clock::time_point now) {
  const auto totals = read_activity_totals(registry_);
  const auto index = minute_of(now);
  std::lock_guard lock(mutex_);
  auto& minute = minutes_[static_cast<std::size_t>(index) % minutes_.size()];
  if (minute.index != index) {
    if (minute.index > index) return;  // the clock went back: keep what is newer
    // What happened since the previous sample is counted in this minute: at most one
    // sampling interval early.
    minute = Minute{index, last_, totals};
  }
  minute.latest = totals;
  last_ = totals;
}

std::string Activity::json(Clock::time_point now) {
  sample(now);
  const auto newest = minute_of(now);
  std::string out = R"({"interval_seconds":60,"series":[)";
  std::lock_guard lock(mutex_);
  for (auto index = newest - static_cast<std::int64_t>(kMinutes) + 1; index <= newest; ++index) {
    const auto& minute = minutes_[static_cast<std::size_t>(index) % minutes_.size()];
    if (index != newest - static_cast<std::int64_t>(kMinutes) + 1) out += ",";
    append_minute(out, index,
                  minute.index == index ? minute.latest - minute.at_start : ActivityTotals{});
  }
  out += "]}";
  return out;
}

}  // namespace eventrouter::app
