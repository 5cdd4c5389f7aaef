#include "response_gate.hpp"

#include <spdlog/spdlog.h>

#include "eventrouter/net/hmac.hpp"
#include "eventrouter/transform/event_document.hpp"
#include "eventrouter/transform/json_path.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::delivery {

namespace {

using transform::JsonPath;
using transform::JsonValue;

// The value at a dot-separated path (detail.id); a missing path, or an event that cannot be
// read there, is the JSON value null.
JsonValue value_at(simdjson::ondemand::document* event, const std::string& path) {
  JsonValue missing{JsonValue::Kind::kJson, "null"};
  if (event == nullptr) return missing;
  auto parsed = JsonPath::parse("$." + path);
  if (!parsed) return missing;  // the loader checked the path: not reached
  auto selected = parsed->select(*event);
  if (!selected || selected->kind == JsonValue::Kind::kMissing) return missing;
  return std::move(*selected);
}

// SHA-256 of the paths and their values, each length-prefixed, so that no two different lists
// of values (nor the same values under other paths) share a text.
DedupHash digest_of(simdjson::ondemand::document* event, const std::vector<std::string>& paths) {
  std::string text;
  const auto add = [&text](char tag, std::string_view part) {
    text += tag;
    text += std::to_string(part.size());
    text += ':';
    text += part;
  };
  for (const auto& path : paths) {
    add('p', path);
    const auto value = value_at(event, path);
    add(value.kind == JsonValue::Kind::kString ? 's' : 'j', value.text);
  }
  return net::sha256(text);
}

std::string hex(const DedupHash& hash) {
  return net::to_hex(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

// The digest field's value as JSON text, if the event has it.
std::optional<std::string> digest_value(simdjson::ondemand::document* event,
                                        const std::string& path) {
  if (event == nullptr || path.empty()) return std::nullopt;
  auto parsed = JsonPath::parse("$." + path);
  if (!parsed) return std::nullopt;
  auto selected = parsed->select(*event);
  if (!selected || selected->kind == JsonValue::Kind::kMissing) return std::nullopt;
  if (selected->kind == JsonValue::Kind::kJson) return std::move(selected->text);
  std::string out;
  json::append_string(out, selected->text);
  return out;
}

std::string top_level_string(simdjson::ondemand::document* event, const char* field) {
  if (event == nullptr) return {};
  auto parsed = JsonPath::parse(std::string("$.") + field);
  if (!parsed) return {};
  auto selected = parsed->select(*event);
  if (!selected || selected->kind != JsonValue::Kind::kString) return {};
  return std::move(selected->text);
}

}  // namespace

ResponseGate::ResponseGate(metrics::Registry& metrics, std::size_t max_keys_per_rule, Now now)
    : metrics_(metrics),
      suppressed_(metrics, "eventrouter_dedup_suppressed_total",
                  "Matches a rule's dedup suppressed (the key fired within its window).", "rule"),
      held_(metrics, "eventrouter_storm_held_total",
            "Matches a rule's max_invocations held back for its storm digest.", "rule"),
      evicted_(metrics, "eventrouter_dedup_evicted_total",
               "Dedup keys dropped before their window ended, to stay within the bound per rule.",
               "rule"),
      max_keys_(max_keys_per_rule),
      now_(std::move(now)) {}

std::shared_ptr<ResponseGate::RuleState> ResponseGate::state_of(const std::string& rule) {
  std::lock_guard lock(mutex_);
  auto& state = rules_[rule];
  if (!state) state = std::make_shared<RuleState>();
  return state;
}

bool ResponseGate::admit(const rules::Rule& rule, std::string_view json, std::string_view id,
                         GateEffects& effects, std::int64_t seq) {
  const auto& controls = rule.controls;
  if (!controls.dedup && !controls.max_invocations) return true;
  // The event passed ingest's checks; one that cannot be read here reads as all nulls.
  auto read = transform::read_event(json);
  simdjson::ondemand::document* event = read ? &*read : nullptr;
  const auto now = now_();
  auto state = state_of(rule.name);
  std::lock_guard lock(state->mutex);
  if (controls.dedup && !admit_dedup(rule, *controls.dedup, *state, event, id, seq, now, effects)) {
    return false;
  }
  if (!controls.max_invocations) return true;
  const auto& storm = *controls.max_invocations;
  std::optional<std::string> value = digest_value(event, storm.digest_field);
  std::string account = top_level_string(event, "account");
  std::string region = top_level_string(event, "region");
  HeldEvent held{id, account, region,
                 value ? std::optional<std::string_view>(*value) : std::nullopt};
  const std::string previous_field = state->digest_field;
  auto verdict = state->storm.admit(storm, now, held);
  if (verdict.closed)
    effects.ready.push_back(DigestReady{rule.name, previous_field, std::move(*verdict.closed)});
  state->digest_field = storm.digest_field;
  if (verdict.deliver) return true;
  held_.get(rule.name).inc();
  if (verdict.first_held)
    effects.due.push_back(DigestDue{rule.name, verdict.window_start, verdict.window_end});
  spdlog::debug("event {} held by rule {}'s max_invocations (digest at the window's end)", id,
                rule.name);
  return false;
}

bool ResponseGate::admit_dedup(const rules::Rule& rule, const rules::DedupSettings& settings,
                               RuleState& state, simdjson::ondemand::document* event,
                               std::string_view id, std::int64_t seq, TimePoint now,
                               GateEffects& effects) {
  if (!state.dedup) state.dedup.emplace(max_keys_);
  const DedupHash key = digest_of(event, settings.key);
  const DedupHash refire = digest_of(event, settings.refire_when_changed);
  if (shared_ != nullptr) {
    const auto fired =
        shared_->fire(rule.name, hex(key), hex(refire), seq, to_epoch_millis(now), settings.window);
    if (fired) {
      if (*fired) return true;
      suppressed_.get(rule.name).inc();
      spdlog::debug(
          "event {} suppressed by rule {}'s dedup (its key fired within {} ms, on "
          "this router or another)",
          id, rule.name, settings.window.count());
      return false;
    }
  }
  const auto outcome = state.dedup->decide(key, refire, now, settings.window);
  if (outcome.verdict == DedupTable::Verdict::kSuppress) {
    suppressed_.get(rule.name).inc();
    spdlog::debug("event {} suppressed by rule {}'s dedup (its key fired within {} ms)", id,
                  rule.name, settings.window.count());
    return false;
  }
  if (outcome.evicted) {
    evicted_.get(rule.name).inc();
    effects.records.push_back(DedupRecord{rule.name, hex(*outcome.evicted), {}, 0, 0});
  }
  const auto fired_at = to_epoch_millis(now);
  effects.records.push_back(
      DedupRecord{rule.name, hex(key), hex(refire), fired_at, fired_at + settings.window.count()});
  effects.firings.push_back(DedupFiring{rule.name, key, outcome.generation});
  return true;
}

void ResponseGate::undo(const std::vector<DedupFiring>& firings) {
  for (const auto& firing : firings) {
    auto state = state_of(firing.rule);
    std::lock_guard lock(state->mutex);
    if (state->dedup) state->dedup->forget(firing.key, firing.generation);
  }
}

namespace {

std::optional<DedupHash> from_hex(std::string_view text) {
  DedupHash out{};
  if (text.size() != out.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = net::hex_digit_value(text[2 * i]), low = net::hex_digit_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return out;
}

}  // namespace

void ResponseGate::restore(const std::vector<DedupRecord>& records,
                           const std::vector<rules::Rule>& rules) {
  std::map<std::string_view, const rules::DedupSettings*> windows;
  for (const auto& rule : rules) {
    if (rule.controls.dedup) windows.emplace(rule.name, &*rule.controls.dedup);
  }
  const auto now = now_();
  std::size_t restored = 0;
  for (const auto& record : records) {
    auto settings = windows.find(record.rule);
    if (settings == windows.end()) continue;  // the rule is gone, or has no dedup any more
    auto key = from_hex(record.key);
    auto refire = from_hex(record.refire);
    if (!key || !refire) continue;
    auto state = state_of(record.rule);
    std::lock_guard lock(state->mutex);
    if (!state->dedup) state->dedup.emplace(max_keys_);
    state->dedup->restore(*key, *refire, from_epoch_millis(record.fired_at), now,
                          settings->second->window);
    ++restored;
  }
  if (restored > 0) spdlog::info("dedup: {} keys restored from the journal", restored);
}

std::shared_ptr<ResponseGate::RuleState> ResponseGate::find(const std::string& rule) {
  std::lock_guard lock(mutex_);
  auto it = rules_.find(rule);
  return it == rules_.end() ? nullptr : it->second;
}

std::optional<DigestReady> ResponseGate::close_window(const std::string& rule,
                                                      TimePoint window_start) {
  auto state = find(rule);
  if (!state) return std::nullopt;
  std::lock_guard lock(state->mutex);
  auto summary = state->storm.close(window_start, now_());
  if (!summary) return std::nullopt;
  return DigestReady{rule, state->digest_field, std::move(*summary)};
}

std::vector<DigestReady> ResponseGate::close_all() {
  std::vector<std::pair<std::string, std::shared_ptr<RuleState>>> all;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, state] : rules_) all.emplace_back(name, state);
  }
  std::vector<DigestReady> out;
  const auto now = now_();
  for (auto& [name, state] : all) {
    std::lock_guard lock(state->mutex);
    if (auto summary = state->storm.close_open(now))
      out.push_back(DigestReady{name, state->digest_field, std::move(*summary)});
  }
  return out;
}

std::vector<DigestReady> ResponseGate::keep_only(const std::vector<rules::Rule>& rules) {
  std::map<std::string_view, const rules::ResponseControls*> loaded;
  for (const auto& rule : rules) loaded.emplace(rule.name, &rule.controls);
  std::vector<std::pair<std::string, std::shared_ptr<RuleState>>> all;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, state] : rules_) all.emplace_back(name, state);
  }
  std::vector<DigestReady> out;
  const auto now = now_();
  for (auto& [name, state] : all) {
    auto it = loaded.find(name);
    const rules::ResponseControls* controls = it == loaded.end() ? nullptr : it->second;
    std::lock_guard lock(state->mutex);
    if (!controls || !controls->dedup) state->dedup.reset();
    if (!controls || !controls->max_invocations) {
      if (auto summary = state->storm.close_open(now))
        out.push_back(DigestReady{name, state->digest_field, std::move(*summary)});
    }
  }
  {
    std::lock_guard lock(mutex_);
    std::erase_if(rules_, [&](const auto& entry) { return !loaded.contains(entry.first); });
  }
  return out;
}

}  // namespace eventrouter::delivery
