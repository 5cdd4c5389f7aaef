#include "eventrouter/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "eventrouter/config/duration.hpp"
#include "eventrouter/config/secrets.hpp"
#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/util/bus_name.hpp"

namespace eventrouter::config {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTopKeys = {
    "listen", "rules_dir",  "state_dir", "auth",     "tls",   "limits",
    "log",    "durability", "archive",   "delivery", "buses", "allow_unauthenticated",
    "bus",    "history"};
const std::vector<std::string> kDurabilities = {"fsync", "none"};
const std::vector<std::string> kArchiveKeys = {"retention", "max_bytes"};
const std::vector<std::string> kHistoryKeys = {"enabled", "max_age", "max_bytes"};
const std::vector<std::string> kDeliveryKeys = {"max_pending_deliveries", "max_journal_bytes",
                                                "max_pending_bytes",      "shutdown_grace",
                                                "backoff_base",           "backoff_cap"};
const std::vector<std::string> kAuthKeys = {"tokens_file"};
const std::vector<std::string> kTlsKeys = {"cert_file", "key_file", "client_ca_file"};
const std::vector<std::string> kLimitKeys = {"max_event_bytes", "max_request_bytes",
                                             "max_connections", "header_timeout", "idle_timeout"};
const std::vector<std::string> kLogKeys = {"level", "format"};
const std::vector<std::string> kLogFormats = {"text", "json"};
const std::vector<std::string> kBusKeys = {"backend", "nats"};
const std::vector<std::string> kBackends = {"journal", "nats"};
const std::vector<std::string> kNatsBusKeys = {
    "stream",   "subject_prefix",      "replicas",    "duplicate_window", "consumer",
    "ack_wait", "max_inflight_events", "router_name", "max_bytes"};

// A path value; relative paths are taken from the config file's folder.
std::optional<fs::path> read_path(YamlFile& file, const yaml::Node& node, std::string_view name) {
  auto text = read_string(file, node, name);
  if (!text) return std::nullopt;
  if (text->empty()) {
    file.error(node, std::string(name) + " is empty; give a path or remove the key");
    return std::nullopt;
  }
  fs::path path(*text);
  if (path.is_relative()) path = file.folder() / path;
  return path.lexically_normal();
}

// A path to a file that must already exist (certificates, tokens): catching a typo here beats
// a failed start later.
std::optional<fs::path> read_existing_file(YamlFile& file, const yaml::Node& node,
                                           std::string_view name) {
  auto path = read_path(file, node, name);
  if (!path) return std::nullopt;
  std::error_code ec;
  const auto status = fs::status(*path, ec);
  if (!fs::exists(status)) {
    file.error(node, std::string(name) + ": file " + path->string() + " does not exist");
    return std::nullopt;
  }
  if (fs::is_directory(status)) {
    file.error(node, std::string(name) + ": " + path->string() + " is a directory, not a file");
    return std::nullopt;
  }
  return path;
}

std::size_t read_limit(YamlFile& file, const std::vector<MapEntry>& entries, std::string_view key,
                       std::size_t fallback, std::string_view section = "limits") {
  const MapEntry* entry = find_entry(entries, key);
  if (entry == nullptr) return fallback;
  auto value = read_integer(file, entry->value, std::string(section) + "." + std::string(key), 1,
                            std::numeric_limits<std::int64_t>::max());
  return value ? static_cast<std::size_t>(*value) : fallback;
}

// A size ("268435456", "512MiB", "2GiB") of at least `min` bytes.
std::uint64_t read_size_limit(YamlFile& file, const std::vector<MapEntry>& entries,
                              std::string_view key, std::uint64_t fallback, std::uint64_t min,
                              std::string_view section) {
  const MapEntry* entry = find_entry(entries, key);
  if (entry == nullptr) return fallback;
  std::optional<std::uint64_t> value;
  if (entry->value.is_scalar()) value = parse_size(entry->value.scalar());
  if (!value || *value < min) {
    file.error(entry->value, std::string(section) + "." + std::string(key) +
                                 " must be a size of at least " + std::to_string(min >> 20) +
                                 "MiB, such as 268435456, 512MiB or 2GiB");
    return fallback;
  }
  return *value;
}

void read_limits(YamlFile& file, const yaml::Node& node, Limits& limits) {
  auto entries = read_mapping(file, node, "the 'limits' section", kLimitKeys);
  limits.max_event_bytes = read_limit(file, entries, "max_event_bytes", limits.max_event_bytes);
  limits.max_request_bytes =
      read_limit(file, entries, "max_request_bytes", limits.max_request_bytes);
  limits.max_connections = read_limit(file, entries, "max_connections", limits.max_connections);
  for (auto [key, target] : {std::pair{"header_timeout", &limits.header_timeout},
                             std::pair{"idle_timeout", &limits.idle_timeout}}) {
    const MapEntry* entry = find_entry(entries, key);
    if (entry == nullptr) continue;
    auto value = read_duration(file, entry->value, "limits." + std::string(key));
    if (value && value->count() <= 0) {
      file.error(entry->value, "limits." + std::string(key) + " must be longer than 0");
    } else if (value) {
      *target = *value;
    }
  }
  if (limits.max_event_bytes > limits.max_request_bytes) {
    const MapEntry* at = find_entry(entries, "max_event_bytes");
    if (at == nullptr) at = find_entry(entries, "max_request_bytes");
    if (at != nullptr)
      file.error(at->value, "limits.max_event_bytes (" + std::to_string(limits.max_event_bytes) +
                                ") is larger than limits.max_request_bytes (" +
                                std::to_string(limits.max_request_bytes) +
                                "), so such an event could never arrive; lower the first or "
                                "raise the second");
  }
}

void read_delivery(YamlFile& file, const yaml::Node& node, DeliveryConfig& delivery) {
  auto entries = read_mapping(file, node, "the 'delivery' section", kDeliveryKeys);
  delivery.max_pending_deliveries = read_limit(file, entries, "max_pending_deliveries",
                                               delivery.max_pending_deliveries, "delivery");
  delivery.max_journal_bytes =
      read_limit(file, entries, "max_journal_bytes", delivery.max_journal_bytes, "delivery");
  // Below a megabyte a single large event could hold ingest shut.
  delivery.max_pending_bytes = read_size_limit(file, entries, "max_pending_bytes",
                                               delivery.max_pending_bytes, 1 << 20, "delivery");
  for (auto [key, field] : {std::pair{"shutdown_grace", &delivery.shutdown_grace},
                            std::pair{"backoff_base", &delivery.backoff_base},
                            std::pair{"backoff_cap", &delivery.backoff_cap}}) {
    const MapEntry* entry = find_entry(entries, key);
    if (entry == nullptr) continue;
    if (auto value = read_duration(file, entry->value, "delivery." + std::string(key)))
      *field = *value;
  }
  if (delivery.backoff_base.count() <= 0 || delivery.backoff_cap < delivery.backoff_base) {
    file.error(node, "delivery.backoff_base must be above 0 and at most delivery.backoff_cap");
  }
}

void read_archive(YamlFile& file, const yaml::Node& node, DeliveryConfig& delivery) {
  auto entries = read_mapping(file, node, "the 'archive' section", kArchiveKeys);
  if (const MapEntry* retention = find_entry(entries, "retention")) {
    if (auto value = read_duration(file, retention->value, "archive.retention"))
      delivery.archive_retention = *value;
  }
  delivery.archive_max_bytes =
      read_limit(file, entries, "max_bytes", delivery.archive_max_bytes, "archive");
}

void read_history(YamlFile& file, const yaml::Node& node, HistoryConfig& history) {
  auto entries = read_mapping(file, node, "the 'history' section", kHistoryKeys);
  if (const MapEntry* enabled = find_entry(entries, "enabled")) {
    if (auto value = read_bool(file, enabled->value, "history.enabled")) history.enabled = *value;
  }
  if (const MapEntry* max_age = find_entry(entries, "max_age")) {
    if (auto value = read_duration(file, max_age->value, "history.max_age")) {
      if (*value < std::chrono::minutes(1)) {
        file.error(max_age->value, "history.max_age must be at least 1m");
      } else {
        history.max_age = *value;
      }
    }
  }
  history.max_bytes = read_limit(file, entries, "max_bytes", history.max_bytes, "history");
}

// After every section is read: the archive lives in the journal, so its bound is the smaller.
void check_archive_bound(YamlFile& file, const std::vector<MapEntry>& entries,
                         const DeliveryConfig& delivery) {
  if (delivery.archive_max_bytes <= delivery.max_journal_bytes) return;
  const MapEntry* archive = find_entry(entries, "archive");
  if (archive == nullptr) return;
  file.error(archive->value, "archive.max_bytes (" + std::to_string(delivery.archive_max_bytes) +
                                 ") is larger than delivery.max_journal_bytes (" +
                                 std::to_string(delivery.max_journal_bytes) +
                                 "): the archive lives in the journal; lower the first or "
                                 "raise the second");
}

void read_buses(YamlFile& file, const yaml::Node& node, std::vector<std::string>& buses) {
  if (!node.is_sequence()) {
    file.error(node, "buses must be a list of bus names, e.g. [security-findings]");
    return;
  }
  for (const auto& item : node) {
    auto name = read_string(file, item, "a bus name");
    if (!name) continue;
    if (!is_valid_bus_name(*name)) {
      file.error(item, "bus name '" + *name + "' is not valid: " + std::string(kBusNameRule));
    } else if (std::find(buses.begin(), buses.end(), *name) == buses.end()) {
      buses.push_back(*name);
    }
  }
}

void read_tls(YamlFile& file, const MapEntry& section, Config& config) {
  auto entries = read_mapping(file, section.value, "the 'tls' section", kTlsKeys);
  if (!section.value.is_map()) return;
  TlsConfig tls;
  bool complete = true;
  for (const char* required : {"cert_file", "key_file"}) {
    if (find_entry(entries, required) == nullptr) {
      file.error(section.key_node, std::string("the 'tls' section needs ") + required +
                                       " (TLS needs both cert_file and key_file)");
      complete = false;
    }
  }
  for (const auto& e : entries) {
    auto path = read_existing_file(file, e.value, "tls." + e.key);
    if (!path) {
      complete = false;
      continue;
    }
    if (e.key == "cert_file") tls.cert_file = *path;
    if (e.key == "key_file") tls.key_file = *path;
    if (e.key == "client_ca_file") tls.client_ca_file = *path;
  }
  if (complete) config.tls = tls;
}

// Stream, consumer and bucket names: what JetStream takes in a name, kept to what is safe in a
// subject token and a file name too.
bool valid_nats_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// Dot-separated tokens of letters, digits, '-' and '_'.
bool valid_subject_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 128) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = prefix.find('.', start);
    if (!valid_nats_name(prefix.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

NatsBusConfig read_nats_bus(YamlFile& file, const MapEntry& section) {
  std::vector<Diagnostic> problems;
  const auto mark = section.key_node.mark();
  MappingReader reader(section.value, {file.path(), mark.line + 1, mark.column + 1}, problems, "",
                       "bus.nats.");
  if (!section.value.is_map()) {
    file.error(section.value,
               "bus.nats must be a mapping with at least servers: [nats://HOST:PORT]");
    return {};
  }
  auto keys = nats_connection_keys();
  keys.insert(keys.end(), kNatsBusKeys.begin(), kNatsBusKeys.end());
  read_mapping(file, section.value, "the 'bus.nats' section", keys);  // unknown keys
  NatsBusConfig nats;
  nats.connection = read_nats_connection(reader, file.folder());
  for (auto [key, field] :
       {std::pair{"stream", &nats.stream}, std::pair{"consumer", &nats.consumer},
        std::pair{"router_name", &nats.router_name}}) {
    auto name = reader.string(key, false);
    if (name && !valid_nats_name(*name)) {
      reader.problem(reader.get(key),
                     reader.name(key) + " must be 1 to 64 of letters, digits, '-' and '_'");
    } else if (name) {
      *field = *name;
    }
  }
  if (auto prefix = reader.string("subject_prefix", false)) {
    if (!valid_subject_prefix(*prefix)) {
      reader.problem(reader.get("subject_prefix"),
                     "bus.nats.subject_prefix must be dot-separated words of letters, digits, "
                     "'-' and '_' (no wildcards), e.g. eventrouter or acme.security");
    } else {
      nats.subject_prefix = *prefix;
    }
  }
  const int default_replicas = nats.connection.servers.size() >= 3 ? 3 : 1;
  if (auto replicas = reader.integer("replicas", default_replicas, 1, 5))
    nats.replicas = static_cast<int>(*replicas);
  if (auto window = reader.duration("duplicate_window", nats.duplicate_window,
                                    std::chrono::seconds(1), std::chrono::hours(24)))
    nats.duplicate_window = *window;
  if (auto wait = reader.duration("ack_wait", nats.ack_wait, std::chrono::seconds(1),
                                  std::chrono::hours(1)))
    nats.ack_wait = *wait;
  if (auto held = reader.integer("max_inflight_events", 256, 1, 65536))
    nats.max_inflight_events = static_cast<std::size_t>(*held);
  if (auto bytes =
          reader.size("max_bytes", nats.max_bytes, std::uint64_t{1} << 20, std::uint64_t{1} << 50))
    nats.max_bytes = *bytes;
  for (auto& problem : problems) file.report(std::move(problem));
  return nats;
}

void read_bus(YamlFile& file, const MapEntry& section, Config& config) {
  auto entries = read_mapping(file, section.value, "the 'bus' section", kBusKeys);
  if (const MapEntry* backend = find_entry(entries, "backend")) {
    if (auto v = read_choice(file, backend->value, "bus.backend", kBackends))
      config.bus.backend = *v == "nats" ? Backend::kNats : Backend::kJournal;
  }
  const MapEntry* nats = find_entry(entries, "nats");
  if (config.bus.backend == Backend::kNats && nats == nullptr) {
    file.error(section.key_node,
               "bus.backend is nats but there is no bus.nats section; give at least "
               "bus.nats.servers, e.g. [nats://127.0.0.1:4222]");
  } else if (config.bus.backend != Backend::kNats && nats != nullptr) {
    file.error(nats->key_node,
               "bus.nats is given but bus.backend is not nats; add backend: nats "
               "or remove the section");
  } else if (nats != nullptr) {
    config.bus.nats = read_nats_bus(file, *nats);
  }
}

// With the cluster backend the cluster keeps accepted events; the journal's keys do not apply.
void check_backend(YamlFile& file, const std::vector<MapEntry>& entries, const Config& config) {
  if (config.bus.backend != Backend::kNats) return;
  if (const MapEntry* durability = find_entry(entries, "durability");
      durability && config.delivery.durability == Durability::kNone) {
    file.error(durability->value,
               "durability: none keeps events in this process's memory, but bus.backend nats "
               "keeps them in the cluster; remove one of the two");
  }
}

// Whoever can post an event can run the runbooks: an API other machines can reach needs
// tokens, unless the config says in so many words that it should not.
void check_exposure(YamlFile& file, const std::vector<MapEntry>& entries, const Config& config) {
  if (is_loopback_host(config.listen.host) || !config.tokens_file.empty() ||
      config.allow_unauthenticated)
    return;
  const MapEntry* listen = find_entry(entries, "listen");
  if (listen == nullptr) return;
  file.error(listen->value,
             "listen: " + format_listen_address(config.listen) +
                 " can be reached from other machines, and there is no auth: whoever reaches "
                 "it can post events that run your runbooks. Set auth.tokens_file (and tls), "
                 "or listen on 127.0.0.1, or set allow_unauthenticated: true if something in "
                 "front of eventrouter already controls who can reach it");
}

void read_config(YamlFile& file, const yaml::Node& root, Config& config) {
  auto entries = read_mapping(file, root, "the config file", kTopKeys);
  for (const auto& e : entries) {
    if (e.key == "listen") {
      auto text = read_string(file, e.value, "listen");
      if (!text) continue;
      auto address = parse_listen_address(*text);
      if (!address) {
        file.error(e.value, "listen: " + (file.is_secret(e.value)
                                              ? std::string("the referenced value is not HOST:PORT")
                                              : address.error()));
        continue;
      }
      config.listen = *address;
    } else if (e.key == "rules_dir") {
      if (auto path = read_path(file, e.value, "rules_dir")) config.rules_dir = *path;
    } else if (e.key == "state_dir") {
      if (auto path = read_path(file, e.value, "state_dir")) config.state_dir = *path;
    } else if (e.key == "auth") {
      auto auth = read_mapping(file, e.value, "the 'auth' section", kAuthKeys);
      if (const MapEntry* tokens = find_entry(auth, "tokens_file")) {
        if (auto path = read_existing_file(file, tokens->value, "auth.tokens_file")) {
          config.tokens_file = *path;
        }
      }
    } else if (e.key == "tls") {
      read_tls(file, e, config);
    } else if (e.key == "limits") {
      read_limits(file, e.value, config.limits);
    } else if (e.key == "durability") {
      if (auto v = read_choice(file, e.value, "durability", kDurabilities))
        config.delivery.durability = *v == "none" ? Durability::kNone : Durability::kFsync;
    } else if (e.key == "delivery") {
      read_delivery(file, e.value, config.delivery);
    } else if (e.key == "archive") {
      read_archive(file, e.value, config.delivery);
    } else if (e.key == "history") {
      read_history(file, e.value, config.history);
    } else if (e.key == "bus") {
      read_bus(file, e, config);
    } else if (e.key == "buses") {
      read_buses(file, e.value, config.buses);
    } else if (e.key == "allow_unauthenticated") {
      if (auto allow = read_bool(file, e.value, "allow_unauthenticated"))
        config.allow_unauthenticated = *allow;
    } else if (e.key == "log") {
      auto log = read_mapping(file, e.value, "the 'log' section", kLogKeys);
      if (const MapEntry* level = find_entry(log, "level")) {
        if (auto v = read_choice(file, level->value, "log.level", log_levels()))
          config.log.level = *v;
      }
      if (const MapEntry* format = find_entry(log, "format")) {
        if (auto v = read_choice(file, format->value, "log.format", kLogFormats))
          config.log.format = *v == "json" ? LogFormat::kJson : LogFormat::kText;
      }
    }
  }
  check_exposure(file, entries, config);
  check_archive_bound(file, entries, config.delivery);
  check_backend(file, entries, config);
}

}  // namespace

const std::vector<std::string>& log_levels() {
  static const std::vector<std::string> levels = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
  return levels;
}

std::optional<Config> parse_config(const fs::path& path, std::vector<Diagnostic>& problems) {
  fs::path file_path = fs::absolute(path).lexically_normal();
  std::error_code ec;
  if (fs::is_directory(file_path, ec)) file_path /= "eventrouter.yaml";

  Config config;
  config.file = file_path;
  config.rules_dir = file_path.parent_path() / "rules.d";

  YamlFile file(file_path, problems);
  auto root = parse_yaml_file(file);
  if (!root) return std::nullopt;
  if (!root->is_null() && !root->is_map()) {
    file.error(*root,
               "the config file must be a mapping of keys (listen, rules_dir, ...) to "
               "values");
    return std::nullopt;
  }
  const std::size_t first = problems.size();
  resolve_secrets(file, *root);
  read_config(file, *root, config);
  sort_diagnostics(problems.begin() + static_cast<std::ptrdiff_t>(first), problems.end());
  return config;
}

Config load_config(const fs::path& path) {
  std::vector<Diagnostic> problems;
  auto config = parse_config(path, problems);
  if (!problems.empty() || !config) throw ConfigError(std::move(problems));
  return *config;
}

fs::path default_config_path() {
  const fs::path local = fs::path("config") / "eventrouter.yaml";
  std::error_code ec;
  if (fs::exists(local, ec)) return fs::absolute(local).lexically_normal();
  return "/etc/eventrouter/eventrouter.yaml";
}

}  // namespace eventrouter::config
