#include "eventrouter/app/replay_command.hpp"
#include "eventrouter/util/bus_name.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>

#include "eventrouter/app/admin_client.hpp"
#include "eventrouter/rules/rule.hpp"
#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace {

constexpr std::string_view kUsage =
    R"(usage: eventrouter replay --from TIME --to TIME [--bus B] [--rule R] [--name N] [options]

Sends the archived events that arrived between --from and --to through the current rules
again (POST /replays) and waits until the daemon has replayed them. Replayed events carry
"replay-name", as in EventBridge.

  --from TIME, --to TIME
                       RFC 3339, e.g. 2026-11-28T10:00:00Z or 2026-11-28T11:00:00+01:00
  --bus B              only events of this bus (default: every bus)
  --rule R             only deliver to this rule's targets (default: every matching rule)
  --name N             the replay's name (default: the daemon picks one)
)";

constexpr std::string_view kTimeExample = "2026-11-28T10:00:00Z";

Expected<bool, std::string> check_name(std::string_view option, std::string_view value, bool bus) {
  const bool ok = bus ? is_valid_bus_name(value) : rules::valid_rule_name(value);
  if (ok) return true;
  return unexpected(std::string(option) + " '" + std::string(value) + "' is not a valid " +
                    (bus ? "bus name (" + std::string(kBusNameRule) + ")"
                         : std::string("name (1 to 64 of letters, digits, '.', '-' and '_')")));
}

void add_member(std::string& body, std::string_view key, const std::optional<std::string>& value) {
  if (!value) return;
  json::append_key(body, key);
  json::append_string(body, *value);
}

}  // namespace

Expected<ReplayArgs, std::string> parse_replay_args(const std::vector<std::string_view>& args) {
  auto options = split_options(args, {});
  if (!options) return unexpected(options.error());
  ReplayArgs parsed;
  for (const auto& option : *options) {
    const std::string_view name = option.name;
    if (name == "--from" || name == "--to") {
      (name == "--from" ? parsed.from : parsed.to) = std::string(option.value);
      continue;
    }
    if (name == "--bus" || name == "--rule" || name == "--name") {
      auto ok = check_name(name, option.value, name == "--bus");
      if (!ok) return unexpected(ok.error());
      auto& field = name == "--bus" ? parsed.bus : name == "--rule" ? parsed.rule : parsed.name;
      field = std::string(option.value);
      continue;
    }
    auto client = apply_client_option(option, parsed.client);
    if (!client) return unexpected(client.error());
    if (!*client) return unexpected("unknown option " + std::string(name));
  }
  if (parsed.from.empty() || parsed.to.empty()) {
    return unexpected("give both --from and --to, e.g. --from " + std::string(kTimeExample) +
                      " --to 2026-11-28T11:00:00Z");
  }
  const auto time_error = [](std::string_view option, const std::string& text) {
    return std::string(option) + " '" + text + "' is not an RFC 3339 time; write e.g. " +
           std::string(kTimeExample) + " (date, T, time, then Z or an offset like +01:00)";
  };
  const auto from = parse_rfc3339(parsed.from), to = parse_rfc3339(parsed.to);
  if (!from) return unexpected(time_error("--from", parsed.from));
  if (!to) return unexpected(time_error("--to", parsed.to));
  if (*to <= *from) {
    return unexpected("--to (" + parsed.to + ") must be later than --from (" + parsed.from + ")");
  }
  return parsed;
}

std::string replay_request_body(const ReplayArgs& args) {
  std::string body = "{";
  json::append_key(body, "from", true);
  json::append_string(body, args.from);
  json::append_key(body, "to");
  json::append_string(body, args.to);
  add_member(body, "bus", args.bus);
  add_member(body, "rule", args.rule);
  add_member(body, "name", args.name);
  body += "}";
  return body;
}

int run_replay_command(const std::vector<std::string_view>& args, std::ostream& out,
                       std::ostream& err) {
  for (const auto arg : args) {
    if (arg == "-h" || arg == "--help") {
      out << kUsage << "\nconnecting to the daemon:\n"
          << kClientOptionsHelp << " (default: no limit)\n";
      return 0;
    }
  }
  auto parsed = parse_replay_args(args);
  if (!parsed) {
    err << "eventrouter replay: " << parsed.error() << "\n" << kUsage;
    return 2;
  }
  const auto config = load_command_config(parsed->client.config_file, err);
  if (!config) return 1;
  // A replay of a long window can take a while; only --timeout bounds it.
  const auto endpoint =
      make_endpoint(*config, parsed->client, std::getenv("EVENTROUTER_TOKEN"), std::nullopt);
  if (!endpoint) {
    err << "eventrouter replay: " << endpoint.error() << '\n';
    return 1;
  }
  const auto response = post_json(*endpoint, "/replays", replay_request_body(*parsed));
  if (!response) {
    err << "eventrouter replay: " << response.error() << '\n';
    return 1;
  }
  if (response->status < 200 || response->status > 299) {
    err << "eventrouter replay: the daemon refused: " << describe_error_response(*response) << '\n';
    return 1;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view name, state;
  std::int64_t events = 0, deliveries = 0;
  if (parser.parse(response->body).get(root) || root["name"].get(name) ||
      root["state"].get(state) || root["events_replayed"].get(events) ||
      root["deliveries"].get(deliveries)) {
    err << "eventrouter replay: unexpected answer from the daemon (HTTP " << response->status
        << "): " << response->body.substr(0, 200) << '\n';
    return 1;
  }
  out << "replay " << name << " " << state << ": " << events << (events == 1 ? " event" : " events")
      << " replayed from " << parsed->from << " to " << parsed->to << ", " << deliveries
      << (deliveries == 1 ? " delivery" : " deliveries") << '\n';
  // A replay the daemon reports as anything but COMPLETED (FAILED, CANCELLED) did not do its job.
  return state == "COMPLETED" ? 0 : 1;
}

}  // namespace eventrouter::app
