#include "eventrouter/rules/loader.hpp"
#include "eventrouter/util/bus_name.hpp"

#include <simdjson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "eventrouter/config/secrets.hpp"
#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/config/yaml_json.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/schedule.hpp"
#include "response_controls_reader.hpp"

namespace eventrouter::rules {

namespace fs = std::filesystem;
using config::MapEntry;
using config::YamlFile;

namespace {

const std::vector<std::string> kFileKeys = {"rules"};
const std::vector<std::string> kRuleKeys = {"name",    "description",   "bus",
                                            "state",   "event_pattern", "schedule",
                                            "targets", "dedup",         "max_invocations"};
const std::vector<std::string> kStates = {"ENABLED", "DISABLED"};
const std::vector<std::string> kRetryKeys = {"maximum_retry_attempts", "maximum_event_age_seconds"};
const std::vector<std::string> kDeadLetterKeys = {"path"};
constexpr std::size_t kMaxTargets = 5;
constexpr std::size_t kMaxDescription = 512;

targets::SourcePosition position_of(const YamlFile& file, const yaml::Node& node) {
  targets::SourcePosition p;
  p.file = file.path();
  p.line = node.mark().line + 1;
  p.column = node.mark().column + 1;
  return p;
}

std::string where(const targets::SourcePosition& p) {
  return p.file.string() + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

// Everything one load needs to share across files.
struct LoadContext {
  const config::Config& config;
  const targets::TargetCatalog& catalog;
  std::map<std::string, targets::SourcePosition> names;  // rule name -> first definition
  std::vector<Rule> rules;
};

// Compact JSON for a pattern given as JSON text (already known to be valid).
std::string minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(json).get(element) != simdjson::SUCCESS) return json;
  return simdjson::minify(element);
}

// The pattern as JSON text: a mapping is converted, a string is JSON already.
std::optional<std::string> pattern_text(YamlFile& file, const yaml::Node& node) {
  if (node.is_map()) return config::yaml_to_json(file, node);
  if (node.is_scalar()) return node.scalar();
  if (node.is_sequence()) {
    file.error(node, "event_pattern must be a mapping (or a JSON object in a string), not a list");
  } else {
    file.error(node, "event_pattern is empty; give a mapping such as {source: [aws.guardduty]}");
  }
  return std::nullopt;
}

// A schedule expression, checked for syntax and for firing at least once from now on.
std::optional<Schedule> read_schedule(YamlFile& file, const MapEntry& entry,
                                      const std::string& named) {
  auto text = config::read_string(file, entry.value, "schedule");
  if (!text) return std::nullopt;
  auto schedule = Schedule::parse(*text);
  if (!schedule) {
    file.error(entry.value, "schedule: " + schedule.error().message);
    return std::nullopt;
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!schedule->next_after(now)) {
    file.error(entry.value, "schedule: " + *text + " of " + named +
                                " never fires: no time from now to the end of its last year "
                                "matches (check the day against the month, e.g. 30 in "
                                "February, and the year field)");
    return std::nullopt;
  }
  return std::move(*schedule);
}

std::optional<std::string> read_name(YamlFile& file, const yaml::Node& node,
                                     std::string_view what) {
  auto text = config::read_string(file, node, what);
  if (!text) return std::nullopt;
  if (!valid_rule_name(*text)) {
    file.error(node, std::string(what) + " '" + *text +
                         "' is not valid: use 1 to 64 letters, digits, '.', '-' or '_'");
    return std::nullopt;
  }
  return text;
}

// Turns a relative path value into an absolute one, in place, so that the targets (which
// insist on absolute paths) get the file's meaning.
void absolutize(yaml::Node node, const fs::path& base) {
  if (!node.is_scalar() || node.scalar().empty()) return;
  fs::path path(node.scalar());
  if (path.is_absolute()) return;
  node.set_scalar((base / path).lexically_normal().string(), node.tag());
}

void absolutize_target_paths(YamlFile& file, const LoadContext& ctx, const std::string& type,
                             const yaml::Node& target) {
  const targets::TargetTypeInfo* info = ctx.catalog.find(type);
  if (info == nullptr) return;  // the checker reports the unknown type
  for (const auto& path_key : info->path_keys) {
    const fs::path base = path_key.relative_to == targets::PathKey::Base::kStateDir
                              ? ctx.config.state_dir
                              : file.folder();
    // The handle writes through: the target's checks below read the absolute path.
    yaml::Node value = target[path_key.key];
    if (!value) continue;
    if (!path_key.first_item_only) {
      absolutize(value, base);
    } else if (value.is_sequence() && value.size() > 0) {
      absolutize(value[0], base);
    }
  }
}

void read_retry_policy(YamlFile& file, const yaml::Node& node, targets::RetryPolicy& policy) {
  auto entries = config::read_mapping(file, node, "retry_policy", kRetryKeys);
  if (const MapEntry* e = config::find_entry(entries, "maximum_retry_attempts")) {
    if (auto v =
            config::read_integer(file, e->value, "retry_policy.maximum_retry_attempts", 0, 185)) {
      policy.maximum_retry_attempts = static_cast<int>(*v);
    }
  }
  if (const MapEntry* e = config::find_entry(entries, "maximum_event_age_seconds")) {
    if (auto v = config::read_integer(file, e->value, "retry_policy.maximum_event_age_seconds", 60,
                                      86400)) {
      policy.maximum_event_age_seconds = static_cast<int>(*v);
    }
  }
}

std::optional<targets::DeadLetter> read_dead_letter(YamlFile& file, const LoadContext& ctx,
                                                    const yaml::Node& node) {
  auto entries = config::read_mapping(file, node, "dead_letter", kDeadLetterKeys);
  if (!node.is_map()) return std::nullopt;
  const MapEntry* path = config::find_entry(entries, "path");
  if (path == nullptr) {
    file.error(node,
               "dead_letter needs a path (a JSON Lines file for events that could not be "
               "delivered)");
    return std::nullopt;
  }
  auto text = config::read_string(file, path->value, "dead_letter.path");
  if (!text) return std::nullopt;
  if (text->empty() || text->back() == '/') {
    file.error(path->value, "dead_letter.path must name a file");
    return std::nullopt;
  }
  fs::path p(*text);
  if (p.is_relative()) p = ctx.config.state_dir / p;
  return targets::DeadLetter{p.lexically_normal()};
}

// Reads one target; returns nothing when it is unusable (problems reported).
std::optional<targets::TargetSpec> read_target(YamlFile& file, LoadContext& ctx,
                                               const std::string& rule_name, yaml::Node node,
                                               std::map<std::string, int>& ids) {
  if (!node.is_map()) {
    file.error(node, "each target must be a mapping with at least id and type");
    return std::nullopt;
  }
  targets::TargetSpec spec;
  spec.rule = rule_name;
  spec.position = position_of(file, node);
  config::resolve_secrets(file, node);

  bool usable = true;
  const yaml::Node id = node["id"];
  if (!id) {
    file.error(node, "target has no id; give each target an id unique within its rule");
    usable = false;
  } else if (auto text = read_name(file, id, "target id")) {
    spec.id = *text;
    auto [it, inserted] = ids.emplace(spec.id, id.mark().line + 1);
    if (!inserted) {
      file.error(id, "duplicate target id '" + spec.id + "' in rule '" + rule_name +
                         "' (first used at line " + std::to_string(it->second) +
                         "); target ids must be unique within a rule");
      usable = false;
    }
  } else {
    usable = false;
  }
  const yaml::Node type = node["type"];
  if (!type) {
    file.error(node, "target" + (spec.id.empty() ? std::string() : " '" + spec.id + "'") +
                         " has no type; use " + ctx.catalog.type_names());
    usable = false;
  } else if (auto text = config::read_string(file, type, "target type")) {
    spec.type = *text;
  } else {
    usable = false;
  }
  if (const yaml::Node retry = node["retry_policy"]) {
    read_retry_policy(file, retry, spec.retry_policy);
  }
  if (const yaml::Node dead = node["dead_letter"]) {
    spec.dead_letter = read_dead_letter(file, ctx, dead);
  }
  if (!usable) return std::nullopt;

  absolutize_target_paths(file, ctx, spec.type, node);
  spec.node = node;
  return spec;
}

void read_targets(YamlFile& file, LoadContext& ctx, const MapEntry* entry, const std::string& name,
                  const yaml::Node& rule_node, std::vector<targets::TargetSpec>& out) {
  const std::string named = name.empty() ? std::string("rule") : "rule '" + name + "'";
  if (entry == nullptr) {
    file.error(rule_node, named + " has no targets; give 1 to 5 targets");
    return;
  }
  const yaml::Node& list = entry->value;
  if (list.is_null() || (list.is_sequence() && list.size() == 0)) {
    file.error(list.is_null() ? entry->key_node : list,
               named + " has no targets; give 1 to 5 targets");
    return;
  }
  if (!list.is_sequence()) {
    file.error(list, "targets must be a list of targets (- id: ..., type: ...)");
    return;
  }
  if (list.size() > kMaxTargets) {
    file.error(list[kMaxTargets], named + " has " + std::to_string(list.size()) +
                                      " targets; a rule can have at most 5 (split it into "
                                      "several rules with the same pattern)");
  }
  std::map<std::string, int> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto spec = read_target(file, ctx, name, list[i], ids);
    if (!spec) continue;
    if (ctx.catalog.check) {
      std::vector<config::Diagnostic> target_problems;
      ctx.catalog.check(*spec, target_problems);
      for (auto& d : target_problems) file.report(std::move(d));
    }
    // A node keeps its whole document alive (for 10,000 rules, tens of megabytes): the rule
    // set keeps a copy of the target's mapping alone.
    spec->node = spec->node.clone();
    out.push_back(std::move(*spec));
  }
}

void read_rule(YamlFile& file, LoadContext& ctx, const yaml::Node& node) {
  if (!node.is_map()) {
    file.error(node,
               "each item of 'rules' must be a mapping with name, event_pattern and "
               "targets");
    return;
  }
  const std::size_t errors_before = file.error_count();
  auto entries = config::read_mapping(file, node, "a rule", kRuleKeys);

  std::string name;
  if (const MapEntry* e = config::find_entry(entries, "name")) {
    if (auto text = read_name(file, e->value, "rule name")) {
      name = *text;
      const auto position = position_of(file, e->value);
      auto [it, inserted] = ctx.names.emplace(name, position);
      if (!inserted) {
        file.error(e->value, "duplicate rule name '" + name + "' (first defined at " +
                                 where(it->second) +
                                 "); rule names must be unique across all "
                                 "rule files");
      }
    }
  } else {
    file.error(node,
               "rule has no name; give it a name of 1 to 64 letters, digits, '.', '-' or "
               "'_'");
  }
  const std::string named = name.empty() ? std::string("rule") : "rule '" + name + "'";

  std::string description;
  if (const MapEntry* e = config::find_entry(entries, "description")) {
    if (auto text = config::read_string(file, e->value, "description")) {
      if (text->size() > kMaxDescription) {
        file.error(e->value, "description is " + std::to_string(text->size()) +
                                 " characters long; at most 512 are allowed");
      }
      description = *text;
    }
  }

  std::string bus(kDefaultBus);
  if (const MapEntry* e = config::find_entry(entries, "bus")) {
    if (auto text = config::read_string(file, e->value, "bus")) {
      if (is_valid_bus_name(*text)) {
        bus = *text;
      } else {
        file.error(e->value, "bus name '" + *text + "' is not valid: " + std::string(kBusNameRule));
      }
    }
  }

  bool enabled = true;
  if (const MapEntry* e = config::find_entry(entries, "state")) {
    if (auto state = config::read_choice(file, e->value, "state", kStates)) {
      enabled = *state == "ENABLED";
    }
  }

  std::optional<pattern::Pattern> compiled;
  std::string canonical;
  std::optional<Schedule> schedule;
  const MapEntry* schedule_entry = config::find_entry(entries, "schedule");
  const MapEntry* pattern_entry = config::find_entry(entries, "event_pattern");
  if (schedule_entry) schedule = read_schedule(file, *schedule_entry, named);
  if (schedule_entry && pattern_entry) {
    file.error(schedule_entry->key_node,
               named +
                   " has both event_pattern and schedule; give exactly one (a rule either "
                   "matches events or runs on a schedule)");
  } else if (const MapEntry* e = pattern_entry) {
    if (auto text = pattern_text(file, e->value)) {
      auto result = pattern::compile(*text);
      if (result) {
        compiled = *result;
        canonical = e->value.is_map() ? *text : minified(*text);
      } else {
        file.error(e->value, result.error());
      }
    }
  } else if (!schedule_entry) {
    file.error(node, named +
                         " has no event_pattern; give the pattern events must match (or a "
                         "schedule such as rate(5 minutes))");
  }

  auto controls = read_response_controls(file, entries);

  std::vector<targets::TargetSpec> specs;
  read_targets(file, ctx, config::find_entry(entries, "targets"), name, node, specs);
  if (file.error_count() != errors_before || (!compiled && !schedule)) return;
  ctx.rules.push_back(Rule{std::move(name), std::move(description), std::move(bus), enabled,
                           std::move(canonical), std::move(compiled), std::move(schedule),
                           std::move(specs), position_of(file, node), nullptr,
                           std::move(controls)});
}

void read_rule_file(const fs::path& path, LoadContext& ctx,
                    std::vector<config::Diagnostic>& problems) {
  YamlFile file(path, problems);
  auto root = config::parse_yaml_file(file);
  if (!root) return;
  if (root->is_null()) return;  // an empty file (or only comments) holds no rules
  if (!root->is_map()) {
    file.error(*root,
               "a rule file must be a mapping with the key 'rules' holding a list of "
               "rules");
    return;
  }
  auto entries = config::read_mapping(file, *root, "a rule file", kFileKeys);
  const MapEntry* rules = config::find_entry(entries, "rules");
  if (rules == nullptr || rules->value.is_null()) return;
  if (!rules->value.is_sequence()) {
    file.error(rules->value, "'rules' must be a list of rules (- name: ...)");
    return;
  }
  for (std::size_t i = 0; i < rules->value.size(); ++i) read_rule(file, ctx, rules->value[i]);
}

// A file's document is freed once the file is read (10,000 rules: about 40 MB), scattered
// among what the rule set keeps: glibc keeps such pages unless asked to give them back.
void give_back_parser_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

std::vector<fs::path> list_rule_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& path = entry.path();
    const std::string name = path.filename().string();
    if (name.empty() || name[0] == '.') continue;
    const std::string ext = path.extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    std::error_code type_ec;
    if (!fs::is_regular_file(path, type_ec)) continue;  // follows links
    files.push_back(path);
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

std::shared_ptr<const RuleSet> parse_rule_set(const config::Config& config,
                                              const targets::TargetCatalog& catalog,
                                              std::vector<config::Diagnostic>& problems,
                                              const RuleSet* previous) {
  const std::size_t first = problems.size();
  std::error_code ec;
  if (!fs::is_directory(config.rules_dir, ec)) {
    config::Diagnostic d;
    d.file = config.rules_dir;
    d.message =
        fs::exists(config.rules_dir, ec)
            ? "rules_dir is not a folder (set in " + config.file.string() + ")"
            : "rules_dir does not exist; create it or fix rules_dir in " + config.file.string();
    problems.push_back(std::move(d));
    return nullptr;
  }
  LoadContext ctx{config, catalog, {}, {}};
  const auto files = list_rule_files(config.rules_dir);
  for (const auto& path : files) {
    const std::size_t before = problems.size();
    read_rule_file(path, ctx, problems);
    config::sort_diagnostics(problems.begin() + static_cast<std::ptrdiff_t>(before),
                             problems.end());
  }
  if (problems.size() != first) {
    give_back_parser_memory();
    return nullptr;
  }
  if (previous != nullptr) {
    for (auto& rule : ctx.rules) {
      if (const Rule* old = previous->find(rule.name)) rule.match_count = old->match_count;
    }
  }
  ctx.rules.shrink_to_fit();  // the set keeps the vector: up to half of it would be spare room
  auto rule_set = std::make_shared<const RuleSet>(std::move(ctx.rules), files);
  give_back_parser_memory();  // after the matchers' build too, which frees much of what it makes
  return rule_set;
}

std::shared_ptr<const RuleSet> load_rule_set(const config::Config& config,
                                             const targets::TargetCatalog& catalog,
                                             const RuleSet* previous) {
  std::vector<config::Diagnostic> problems;
  auto rules = parse_rule_set(config, catalog, problems, previous);
  if (!rules) throw config::ConfigError(std::move(problems));
  return rules;
}

}  // namespace eventrouter::rules
