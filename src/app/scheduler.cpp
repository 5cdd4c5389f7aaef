#include "eventrouter/app/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "eventrouter/event/envelope.hpp"
#include "eventrouter/net/hmac.hpp"
#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace chrono = std::chrono;

namespace {

constexpr const char* kTestClockVariable = "EVENTROUTER_TEST_SCHEDULE_CLOCK";
// Re-reads the rules at least this often, so that a reload is seen before the next due time.
constexpr auto kMaxWait = chrono::milliseconds(1000);
constexpr auto kMinWait = chrono::milliseconds(5);

std::optional<double> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

}  // namespace

ScheduleClock ScheduleClock::from_environment() {
  const char* value = std::getenv(kTestClockVariable);
  if (value == nullptr) return {};
  const std::string_view text(value);
  const auto comma = text.find(',');
  const auto scale = parse_number(text.substr(0, comma));
  const auto origin = comma == std::string_view::npos ? std::optional<double>(0)
                                                      : parse_number(text.substr(comma + 1));
  if (!scale || !origin || *scale < 1 || *scale > 100000) {
    spdlog::warn("{} is not SCALE,ORIGIN (SCALE from 1 to 100000); schedules use the real clock",
                 kTestClockVariable);
    return {};
  }
  spdlog::warn("{}: schedules run {} times faster than real time (a test clock)",
               kTestClockVariable, *scale);
  return ScheduleClock{*scale, static_cast<std::int64_t>(*origin)};
}

chrono::system_clock::time_point ScheduleClock::now() const {
  const auto real = chrono::system_clock::now();
  if (is_real()) return real;
  const chrono::system_clock::time_point origin_time{chrono::seconds(origin)};
  const auto scaled = chrono::duration<double, std::nano>(real - origin_time) * scale;
  return origin_time + chrono::duration_cast<chrono::system_clock::duration>(scaled);
}

chrono::nanoseconds ScheduleClock::real_span(chrono::nanoseconds span) const {
  return chrono::duration_cast<chrono::nanoseconds>(chrono::duration<double, std::nano>(span) /
                                                    scale);
}

std::string scheduled_event_id(const std::string& rule, rules::ScheduleTime due) {
  // A UUID (version 8: application-defined) from SHA-256 of the rule's name and due time.
  std::string hex =
      net::sha256_hex("schedule/" + rule + "/" + std::to_string(due.time_since_epoch().count()));
  hex[12] = '8';
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20, 12);
}

std::string scheduled_event_json(const rules::Rule& rule, rules::ScheduleTime due) {
  // Events posted without account and region get these too.
  const event::EnvelopeOptions defaults;
  // EventBridge's rule ARN: rule/NAME on the default bus, rule/BUS/NAME on another.
  std::string arn = "arn:aws:events:" + defaults.default_region + ":" + defaults.default_account +
                    ":rule/" + (rule.bus == rules::kDefaultBus ? "" : rule.bus + "/") + rule.name;
  std::string out = "{";
  json::append_key(out, "version", true);
  json::append_string(out, "0");
  json::append_key(out, "id");
  json::append_string(out, scheduled_event_id(rule.name, due));
  json::append_key(out, "detail-type");
  json::append_string(out, "Scheduled Event");
  json::append_key(out, "source");
  json::append_string(out, "aws.events");
  json::append_key(out, "account");
  json::append_string(out, defaults.default_account);
  json::append_key(out, "time");
  json::append_string(out, format_rfc3339(due));
  json::append_key(out, "region");
  json::append_string(out, defaults.default_region);
  json::append_key(out, "resources");
  out += '[';
  json::append_string(out, arn);
  out += ']';
  json::append_key(out, "detail");
  out += "{}}";
  return out;
}

Scheduler::Scheduler(RuleSource rules, Fire fire, metrics::Registry& metrics, ScheduleClock clock)
    : rules_(std::move(rules)), fire_(std::move(fire)), metrics_(metrics), clock_(clock) {
  // The loaded rules' counters exist from the start, at 0, so that rate() sees the first fire.
  if (auto rule_set = rules_()) {
    for (const auto& rule : rule_set->rules()) {
      if (rule.schedule) fires_of(rule.name);
    }
  }
}

metrics::Counter& Scheduler::fires_of(const std::string& rule) {
  return metrics_.counter(
      "eventrouter_schedule_fires_total",
      "Scheduled events this router fired (recorded, or published to the cluster), by rule.",
      {{"rule", rule}});
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (stopping_ || thread_.joinable()) return;  // stop() may come first, from another thread
  thread_ = std::thread([this] { run(); });
}

void Scheduler::stop() {
  std::thread running;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    running = std::move(thread_);
  }
  wake_.notify_all();
  if (running.joinable()) running.join();
}

void Scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto earliest = tick();
    lock.lock();
    auto wait = chrono::nanoseconds(kMaxWait);
    if (earliest) {
      wait = std::min(wait, clock_.real_span(*earliest - clock_.now()));
    }
    wake_.wait_for(lock, std::max<chrono::nanoseconds>(wait, kMinWait),
                   [this] { return stopping_; });
  }
}

std::optional<rules::ScheduleTime> Scheduler::tick() {
  const auto rule_set = rules_();
  if (!rule_set) return std::nullopt;
  const auto now = chrono::floor<chrono::seconds>(clock_.now());
  std::map<std::string, Next> kept;
  std::optional<rules::ScheduleTime> earliest;
  for (const auto& rule : rule_set->rules()) {
    if (!rule.schedule || !rule.enabled) continue;
    auto it = next_.find(rule.name);
    Next next;
    if (it != next_.end() && it->second.expression == rule.schedule->expression() &&
        it->second.bus == rule.bus) {
      next = std::move(it->second);
    } else {  // new, changed or re-enabled: due from now on
      next = Next{rule.schedule->expression(), rule.bus, rule.schedule->next_after(now)};
      fires_of(rule.name);  // a rule a reload added is counted from 0 too
    }
    if (next.at && *next.at <= now) {
      const auto due = *next.at;
      if (fire_(rule, due, scheduled_event_json(rule, due))) {
        fires_of(rule.name).inc();
      } else {
        spdlog::warn("schedule of rule {}: the event due at {} was not taken", rule.name,
                     format_rfc3339(due));
      }
      // Times missed while late are not made up.
      next.at = rule.schedule->next_after(std::max(due, now));
    }
    if (next.at && (!earliest || *next.at < *earliest)) earliest = next.at;
    kept.emplace(rule.name, std::move(next));
  }
  next_ = std::move(kept);  // removed and disabled rules are forgotten
  return earliest;
}

}  // namespace eventrouter::app
