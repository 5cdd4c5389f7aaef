#include "history_command.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstdlib>

#include "eventrouter/app/admin_client.hpp"
#include "text_table.hpp"

namespace eventrouter::app {
namespace {

constexpr std::string_view kUsage =
    R"(usage: eventrouter history [--event ID] [--rule R] [--since T] [--until T] [--failed]
                          [--outcome O] [--bus B] [--limit N] [--before K] [--json] [options]

Shows what happened to events, from the running daemon's history (GET /events): the latest
events as a table, newest first, or with --event one event's journey step by step.

  --event ID           one event: each time it was received, its rules and every attempt
  --rule R             only events that matched rule R
  --since T, --until T an RFC 3339 time (2026-12-06T15:00:00Z) or how long ago (15m, 2h, 7d)
  --failed             only events with a delivery that was dead-lettered (--outcome failed)
  --outcome O          unmatched, suppressed, pending, delivered or failed
  --bus B              only events of bus B
  --limit N            at most N events (1 to 1000, default 50)
  --before K           the page after the one that printed "more: --before K"
  --json               print the daemon's JSON answer as it is
)";

const char kHex[] = "0123456789ABCDEF";

// Query values and the event id in a path: everything but unreserved characters escaped.
std::string percent_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string text_of(simdjson::dom::element element, const char* key) {
  std::string_view value;
  if (element[key].get(value)) return "";
  return std::string(value);
}

std::int64_t number_of(simdjson::dom::element element, const char* key) {
  std::int64_t value = 0;
  if (element[key].get(value)) return 0;
  return value;
}

std::string rules_of(simdjson::dom::element reception) {
  std::string rules;
  simdjson::dom::array list;
  if (reception["rules"].get(list)) return rules;
  for (auto rule : list) {
    std::string_view name;
    if (rule.get(name)) continue;
    if (!rules.empty()) rules += ",";
    rules += name;
  }
  return rules;
}

std::string delivered_of(simdjson::dom::element reception) {
  return std::to_string(number_of(reception, "delivered")) + "/" +
         std::to_string(number_of(reception, "deliveries"));
}

void print_listing(simdjson::dom::element root, std::ostream& out) {
  simdjson::dom::array events;
  if (root["events"].get(events) || events.size() == 0) {
    out << "no events in the history match\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"RECEIVED", "EVENT_ID", "BUS", "SOURCE", "DETAIL_TYPE", "RULES", "OUTCOME", "DELIVERED"}};
  for (auto event : events) {
    rows.push_back({table_cell(text_of(event, "received_at")),
                    table_cell(text_of(event, "event_id")), table_cell(text_of(event, "bus")),
                    table_cell(text_of(event, "source")), table_cell(text_of(event, "detail_type")),
                    table_cell(rules_of(event)), table_cell(text_of(event, "outcome")),
                    delivered_of(event)});
  }
  print_table(rows, out);
  out << plural(events.size(), "event", "events");
  std::int64_t next = 0;
  if (!root["next"].get(next)) out << "; more: --before " << next;
  out << '\n';
}

void print_journey(simdjson::dom::element root, std::ostream& out) {
  simdjson::dom::array receptions;
  if (root["receptions"].get(receptions)) return;
  bool first = true;
  for (auto reception : receptions) {
    if (!first) out << '\n';
    first = false;
    const auto rules = rules_of(reception);
    out << "event " << table_cell(text_of(reception, "event_id")) << ", received "
        << table_cell(text_of(reception, "received_at")) << " on bus "
        << table_cell(text_of(reception, "bus")) << " (" << text_of(reception, "origin")
        << "): " << table_cell(text_of(reception, "source")) << " / "
        << table_cell(text_of(reception, "detail_type")) << ", " << number_of(reception, "size")
        << " bytes\n"
        << "matched: " << (rules.empty() ? "no rule" : table_cell(rules))
        << "; outcome: " << text_of(reception, "outcome") << " (" << delivered_of(reception)
        << " delivered)\n";
    simdjson::dom::array steps;
    if (reception["steps"].get(steps) || steps.size() == 0) continue;
    std::vector<std::vector<std::string>> rows{
        {"AT", "STEP", "RULE", "TARGET", "ATTEMPT", "STATUS", "MS", "ERROR"}};
    std::vector<std::string> outputs;
    for (auto step : steps) {
      double ms = -1;
      std::string duration = "-";
      if (!step["duration_ms"].get(ms)) {
        duration = std::to_string(ms);
        duration = duration.substr(0, duration.find('.') + 2);
      }
      const auto error_code = text_of(step, "error_code");
      const auto error = text_of(step, "error");
      rows.push_back({table_cell(text_of(step, "at")), table_cell(text_of(step, "kind")),
                      table_cell(text_of(step, "rule")), table_cell(text_of(step, "target")),
                      std::to_string(number_of(step, "attempt")),
                      step["status"].is_int64() ? std::to_string(number_of(step, "status")) : "-",
                      duration, table_cell(error_code.empty() ? "" : error_code + ": " + error)});
      const auto output = text_of(step, "output");
      if (!output.empty()) {
        outputs.push_back("output of " + text_of(step, "rule") + "/" + text_of(step, "target") +
                          ", attempt " + std::to_string(number_of(step, "attempt")) + ":\n" +
                          output);
      }
    }
    print_table(rows, out);
    for (const auto& text : outputs) {
      std::string_view rest = text;
      while (!rest.empty()) {
        const auto end = rest.find('\n');
        out << "  " << table_cell(std::string(rest.substr(0, end))) << '\n';
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
      }
    }
  }
}

}  // namespace

Expected<HistoryArgs, std::string> parse_history_args(const std::vector<std::string_view>& args) {
  auto options = split_options(args, {"--failed", "--json"});
  if (!options) return unexpected(options.error());
  HistoryArgs parsed;
  std::string query;
  const auto add = [&](std::string_view key, std::string_view value) {
    query += query.empty() ? "?" : "&";
    query += std::string(key) + "=" + percent_encode(value);
  };
  for (const auto& option : *options) {
    const std::string_view name = option.name;
    if (name == "--json") {
      parsed.json = true;
    } else if (name == "--failed") {
      add("outcome", "failed");
    } else if (name == "--event") {
      if (option.value.empty()) return unexpected(std::string("--event needs an event id"));
      parsed.event_id = std::string(option.value);
    } else if (name == "--rule" || name == "--since" || name == "--until" || name == "--outcome" ||
               name == "--bus" || name == "--limit" || name == "--before") {
      add(name.substr(2), option.value);  // the daemon checks the values and says what to fix
    } else {
      auto client = apply_client_option(option, parsed.client);
      if (!client) return unexpected(client.error());
      if (!*client) return unexpected("unknown option " + std::string(name));
    }
  }
  if (parsed.event_id && !query.empty()) {
    return unexpected(std::string("--event shows one event: it takes no filter"));
  }
  parsed.path = parsed.event_id ? "/events/" + percent_encode(*parsed.event_id) : "/events" + query;
  return parsed;
}

int run_history_command(const std::vector<std::string_view>& args, std::ostream& out,
                        std::ostream& err) {
  for (const auto arg : args) {
    if (arg == "-h" || arg == "--help") {
      out << kUsage << "\nconnecting to the daemon:\n" << kClientOptionsHelp << " (default: 30s)\n";
      return 0;
    }
  }
  auto parsed = parse_history_args(args);
  if (!parsed) {
    err << "eventrouter history: " << parsed.error() << "\n" << kUsage;
    return 2;
  }
  const auto config = load_command_config(parsed->client.config_file, err);
  if (!config) return 1;
  const auto endpoint = make_endpoint(*config, parsed->client, std::getenv("EVENTROUTER_TOKEN"),
                                      std::chrono::seconds(30));
  if (!endpoint) {
    err << "eventrouter history: " << endpoint.error() << '\n';
    return 1;
  }
  const auto response = get(*endpoint, parsed->path);
  if (!response) {
    err << "eventrouter history: " << response.error() << '\n';
    return 1;
  }
  if (response->status < 200 || response->status > 299) {
    err << "eventrouter history: " << describe_error_response(*response) << '\n';
    return 1;
  }
  if (parsed->json) {
    out << response->body << '\n';
    return 0;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(response->body).get(root)) {
    err << "eventrouter history: unexpected answer from the daemon: "
        << response->body.substr(0, 200) << '\n';
    return 1;
  }
  if (parsed->event_id) {
    print_journey(root, out);
  } else {
    print_listing(root, out);
  }
  return 0;
}

}  // namespace eventrouter::app
