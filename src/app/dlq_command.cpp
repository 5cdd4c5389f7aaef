#include "eventrouter/app/dlq_command.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "eventrouter/app/admin_client.hpp"
#include "eventrouter/delivery/cluster_bus.hpp"
#include "eventrouter/rules/loader.hpp"
#include "eventrouter/rules/rule.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace {

constexpr std::string_view kUsage =
    R"(usage: eventrouter dlq list [-c FILE] [--rule R] [--target T] [--json]
       eventrouter dlq redrive [-c FILE] [--rule R] [--target T] [options]

list     shows the dead letters in STATE_DIR/dead-letters.jsonl and in every target's
         dead_letter.path, oldest first; reads the files directly (the daemon may be down).
         --json prints the records as stored, one a line.
redrive  asks the running daemon to deliver matching dead letters again
         (POST /dead-letters/redrive); records of rules or targets that no longer exist
         are skipped and stay in their file.

  -c, --config FILE    the config file (default: ./config/eventrouter.yaml if it exists,
                       else /etc/eventrouter/eventrouter.yaml)
  --rule R, --target T only the dead letters of this rule / target id
)";

// Redrive only moves records back into delivery; a daemon that takes longer is stuck.
constexpr std::chrono::seconds kRedriveTimeout{120};

// --rule and --target; true when `option` was one of them.
Expected<bool, std::string> apply_filter_option(const CliOption& option, DeadLetterFilter& filter) {
  const bool is_rule = option.name == "--rule", is_target = option.name == "--target";
  if (!is_rule && !is_target) return false;
  // Names that no rule or target can have would only ever match nothing: say so instead.
  if (!rules::valid_rule_name(option.value)) {
    return unexpected(std::string(option.name) + " '" + std::string(option.value) +
                      "' is not a valid " + (is_rule ? "rule name" : "target id") +
                      " (1 to 64 of letters, digits, '.', '-' and '_')");
  }
  (is_rule ? filter.rule : filter.target) = std::string(option.value);
  return true;
}

std::string plural(long long n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The daemon's "skipped_reasons" (one per skipped record), each distinct reason once and at
// most a few of them; a generic reason when it sent none.
std::string skip_reasons(simdjson::dom::element answer) {
  constexpr std::size_t kShown = 3;
  std::vector<std::string_view> reasons;
  simdjson::dom::array list;
  if (!answer["skipped_reasons"].get(list)) {
    for (auto item : list) {
      std::string_view reason;
      if (item.get(reason) || reason.empty()) continue;
      if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
        reasons.push_back(reason);
      }
    }
  }
  if (reasons.empty()) return "their rule or target no longer exists; they stay in their file";
  std::string text;
  for (std::size_t i = 0; i < reasons.size() && i < kShown; ++i) {
    if (i > 0) text += "; ";
    text += reasons[i];
  }
  if (reasons.size() > kShown) {
    text += "; and " + std::to_string(reasons.size() - kShown) + " other reasons";
  }
  return text;
}

void print_listing(const DeadLetterListing& listing, bool json, std::ostream& out) {
  if (json) {
    print_dead_letter_jsonl(listing, out);
  } else {
    print_dead_letter_table(listing, out);
  }
}

// With the cluster backend the dead letters are in the cluster's stream, the same from every
// router; shown with the stream's name and each record's sequence number.
int list_cluster(const config::Config& config, const DlqListArgs& args, std::ostream& out,
                 std::ostream& err) {
  auto letters = delivery::read_cluster_dead_letters(*config.bus.nats);
  if (!letters) {
    err << "eventrouter dlq list: cannot read the dead letters from the NATS cluster: "
        << letters.error() << '\n';
    return 1;
  }
  std::vector<std::pair<std::size_t, std::string>> lines;
  for (auto& letter : *letters) lines.emplace_back(letter.seq, std::move(letter.record));
  const auto source = "nats:" + config.bus.nats->stream + "_DLQ";
  print_listing(read_dead_letter_lines(source, lines, args.filter, err), args.json, out);
  return 0;
}

int list(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  auto parsed = parse_dlq_list_args(args);
  if (!parsed) {
    err << "eventrouter dlq list: " << parsed.error() << "\n" << kUsage;
    return 2;
  }
  const auto config = load_command_config(parsed->config_file, err);
  if (!config) return 1;
  if (config->bus.backend == config::Backend::kNats)
    return list_cluster(*config, *parsed, out, err);
  // Only the dead_letter paths matter here, so the target types' own keys go unchecked (an
  // empty catalog): a listing should not fail over a webhook header `validate` would complain
  // about.
  std::vector<config::Diagnostic> problems;
  const auto rule_set = rules::parse_rule_set(*config, targets::TargetCatalog{}, problems);
  if (!rule_set) {
    err << "eventrouter dlq list: warning: the rules do not load (" << problems.size()
        << (problems.size() == 1 ? " problem" : " problems")
        << "; `eventrouter validate` shows them), so only "
        << (config->state_dir / "dead-letters.jsonl").string()
        << " is read, not the targets' dead_letter files\n";
  }
  const auto listing =
      read_dead_letters(dead_letter_files(*config, rule_set.get()), parsed->filter, err);
  print_listing(listing, parsed->json, out);
  // An unreadable file (permissions) could hide dead letters: never let that look like "none".
  return listing.unreadable == 0 ? 0 : 1;
}

int redrive(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  auto parsed = parse_dlq_redrive_args(args);
  if (!parsed) {
    err << "eventrouter dlq redrive: " << parsed.error() << "\n" << kUsage;
    return 2;
  }
  const auto config = load_command_config(parsed->client.config_file, err);
  if (!config) return 1;
  const auto endpoint =
      make_endpoint(*config, parsed->client, std::getenv("EVENTROUTER_TOKEN"), kRedriveTimeout);
  if (!endpoint) {
    err << "eventrouter dlq redrive: " << endpoint.error() << '\n';
    return 1;
  }
  const auto response =
      post_json(*endpoint, "/dead-letters/redrive", redrive_request_body(parsed->filter));
  if (!response) {
    err << "eventrouter dlq redrive: " << response.error() << '\n';
    return 1;
  }
  if (response->status < 200 || response->status > 299) {
    err << "eventrouter dlq redrive: the daemon refused: " << describe_error_response(*response)
        << '\n';
    return 1;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::int64_t redriven = 0, skipped = 0;
  if (parser.parse(response->body).get(root) || root["redriven"].get(redriven) ||
      root["skipped"].get(skipped)) {
    err << "eventrouter dlq redrive: unexpected answer from the daemon (HTTP " << response->status
        << "): " << response->body.substr(0, 200) << '\n';
    return 1;
  }
  out << "redriven " << plural(redriven, "dead letter", "dead letters");
  if (skipped > 0) out << " (" << skipped << " skipped: " << skip_reasons(root) << ")";
  out << '\n';
  return 0;
}

}  // namespace

Expected<DlqListArgs, std::string> parse_dlq_list_args(const std::vector<std::string_view>& args) {
  auto options = split_options(args, {"--json"});
  if (!options) return unexpected(options.error());
  DlqListArgs parsed;
  for (const auto& option : *options) {
    auto filter = apply_filter_option(option, parsed.filter);
    if (!filter) return unexpected(filter.error());
    if (*filter) continue;
    if (option.name == "-c" || option.name == "--config") {
      parsed.config_file = option.value;
    } else if (option.name == "--json") {
      parsed.json = true;
    } else {
      return unexpected("unknown option " + std::string(option.name));
    }
  }
  return parsed;
}

Expected<DlqRedriveArgs, std::string> parse_dlq_redrive_args(
    const std::vector<std::string_view>& args) {
  auto options = split_options(args, {});
  if (!options) return unexpected(options.error());
  DlqRedriveArgs parsed;
  for (const auto& option : *options) {
    auto filter = apply_filter_option(option, parsed.filter);
    if (!filter) return unexpected(filter.error());
    if (*filter) continue;
    auto client = apply_client_option(option, parsed.client);
    if (!client) return unexpected(client.error());
    if (!*client) return unexpected("unknown option " + std::string(option.name));
  }
  return parsed;
}

std::string redrive_request_body(const DeadLetterFilter& filter) {
  std::string body = "{";
  bool first = true;
  if (filter.rule) {
    json::append_key(body, "rule", first);
    json::append_string(body, *filter.rule);
    first = false;
  }
  if (filter.target) {
    json::append_key(body, "target", first);
    json::append_string(body, *filter.target);
  }
  body += "}";
  return body;
}

int run_dlq_command(const std::vector<std::string_view>& args, std::ostream& out,
                    std::ostream& err) {
  if (args.empty()) {
    err << "eventrouter dlq: name a subcommand, list or redrive\n" << kUsage;
    return 2;
  }
  const std::string_view sub = args.front();
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  for (const auto arg : args) {
    if (arg == "-h" || arg == "--help") {
      out << kUsage << "\nconnecting to the daemon (redrive):\n"
          << kClientOptionsHelp << " (default: 120)\n";
      return 0;
    }
  }
  if (sub == "list") return list(rest, out, err);
  if (sub == "redrive") return redrive(rest, out, err);
  err << "eventrouter dlq: unknown subcommand " << sub << "; use list or redrive\n" << kUsage;
  return 2;
}

}  // namespace eventrouter::app
