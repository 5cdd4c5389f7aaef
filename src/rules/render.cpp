#include <ctime>

#include "eventrouter/config/duration.hpp"
#include "eventrouter/rules/commands.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::rules {

namespace {

// RFC 3339 in UTC with milliseconds, e.g. 2026-11-28T13:45:07.123Z.
std::string rfc3339(std::chrono::system_clock::time_point time) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[40];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buffer, n);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(ms % 1000));
  return out + fraction;
}

void append_paths(std::string& out, const std::vector<std::string>& paths) {
  out += '[';
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) out += ',';
    json::append_string(out, paths[i]);
  }
  out += ']';
}

// "dedup" and "max_invocations" as the rule file spells them, when the rule has them.
void append_response_controls(std::string& out, const ResponseControls& controls) {
  if (const auto& dedup = controls.dedup) {
    json::append_key(out, "dedup");
    out += '{';
    json::append_key(out, "key", true);
    append_paths(out, dedup->key);
    json::append_key(out, "window");
    json::append_string(out, config::format_duration(dedup->window));
    json::append_key(out, "refire_when_changed");
    append_paths(out, dedup->refire_when_changed);
    out += '}';
  }
  if (const auto& storm = controls.max_invocations) {
    json::append_key(out, "max_invocations");
    out += '{';
    json::append_key(out, "count", true);
    out += std::to_string(storm->count);
    json::append_key(out, "per");
    json::append_string(out, config::format_duration(storm->per));
    if (!storm->digest_field.empty()) {
      json::append_key(out, "digest_field");
      json::append_string(out, storm->digest_field);
    }
    out += '}';
  }
}

void append_rule(std::string& out, const Rule& rule) {
  out += '{';
  json::append_key(out, "name", true);
  json::append_string(out, rule.name);
  json::append_key(out, "description");
  json::append_string(out, rule.description);
  json::append_key(out, "bus");
  json::append_string(out, rule.bus);
  json::append_key(out, "state");
  json::append_string(out, rule.enabled ? "ENABLED" : "DISABLED");
  if (rule.schedule) {
    json::append_key(out, "schedule");
    json::append_string(out, rule.schedule->expression());
  } else {
    json::append_key(out, "event_pattern");
    out += rule.event_pattern;  // compact JSON already
  }
  json::append_key(out, "targets");
  out += '[';
  for (std::size_t i = 0; i < rule.targets.size(); ++i) {
    if (i > 0) out += ',';
    out += '{';
    json::append_key(out, "id", true);
    json::append_string(out, rule.targets[i].id);
    json::append_key(out, "type");
    json::append_string(out, rule.targets[i].type);
    out += '}';
  }
  out += ']';
  append_response_controls(out, rule.controls);
  json::append_key(out, "match_count");
  out += std::to_string(rule.match_count ? rule.match_count->load(std::memory_order_relaxed) : 0);
  json::append_key(out, "file");
  json::append_string(out, rule.position.file.string());
  json::append_key(out, "line");
  out += std::to_string(rule.position.line);
  out += '}';
}

}  // namespace

std::string render_rules_json(const RuleSet& rules, const ReloadStatus& status) {
  std::string out = "{";
  json::append_key(out, "rules", true);
  out += '[';
  bool first = true;
  for (const auto& rule : rules.rules()) {
    if (!first) out += ',';
    first = false;
    append_rule(out, rule);
  }
  out += ']';
  json::append_key(out, "last_reload");
  out += '{';
  json::append_key(out, "time", true);
  json::append_string(out, rfc3339(status.time));
  json::append_key(out, "outcome");
  json::append_string(out, status.ok ? "ok" : "failed");
  json::append_key(out, "errors");
  out += '[';
  for (std::size_t i = 0; i < status.errors.size(); ++i) {
    if (i > 0) out += ',';
    json::append_string(out, status.errors[i].to_string());
  }
  out += "]}";
  json::append_key(out, "reloads");
  out += '{';
  json::append_key(out, "succeeded", true);
  out += std::to_string(status.succeeded);
  json::append_key(out, "failed");
  out += std::to_string(status.failed);
  out += "}}";
  return out;
}

}  // namespace eventrouter::rules
