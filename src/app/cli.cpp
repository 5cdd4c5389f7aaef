#include "eventrouter/app/cli.hpp"

#include <filesystem>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_command.hpp"
#include "eventrouter/app/daemon.hpp"
#include "eventrouter/app/dlq_command.hpp"
#include "eventrouter/app/replay_command.hpp"
#include "eventrouter/config/config.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/commands.hpp"
#include "eventrouter/targets/registry.hpp"
#include "history_command.hpp"
#include "token_command.hpp"
#include "validate_tokens.hpp"

namespace eventrouter::app {

namespace {

constexpr std::string_view kUsage = R"(usage: eventrouter <command> [options]

commands:
  serve [-c FILE]                  run the daemon
  validate [-c FILE | PATH]        check the config, every rule file and auth.tokens_file;
                                   exit 0 valid, 1 invalid
  test-pattern --pattern P --event E
                                   P and E: a file, - (stdin) or inline JSON;
                                   prints match / no match; exit 0, 1, or 2 when invalid
  dlq list [-c FILE] [--rule R] [--target T] [--json]
                                   show dead letters (reads the files; no daemon needed)
  dlq redrive [-c FILE] [--rule R] [--target T]
                                   ask the daemon to deliver dead letters again
  replay --from TIME --to TIME [--bus B] [--rule R] [--name N] [-c FILE]
                                   ask the daemon to replay archived events
  history [--event ID] [--rule R] [--since T] [--failed] [--json] [-c FILE]
                                   what happened to events (the daemon's history)
  token hash                       read a token on stdin, print its sha256:HEX for
                                   auth.tokens_file
  bench match --patterns FILE --events FILE [--seconds N] [--skip-invalid] [--json]
                                   time the matcher on your own patterns and events (one a
                                   line), on one thread
  --version                        print the version

`eventrouter dlq --help`, `eventrouter replay --help`, `eventrouter history --help` and
`eventrouter bench --help` list every option of those commands.

Without -c, the config is ./config/eventrouter.yaml if it exists, else
/etc/eventrouter/eventrouter.yaml. A PATH that is a folder means PATH/eventrouter.yaml.
)";

// Finds the config file from `-c FILE`, `--config FILE` or a lone PATH.
bool config_path(const std::vector<std::string_view>& args, std::filesystem::path& path,
                 std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-c" || args[i] == "--config") {
      if (i + 1 >= args.size()) {
        err << "eventrouter: " << args[i] << " needs a file\n";
        return false;
      }
      path = args[++i];
    } else if (args[i].starts_with("--config=")) {
      path = args[i].substr(9);
    } else if (!args[i].starts_with("-") && path.empty()) {
      path = args[i];
    } else {
      err << "eventrouter: unknown option " << args[i] << "\n" << kUsage;
      return false;
    }
  }
  if (path.empty()) path = config::default_config_path();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) path /= "eventrouter.yaml";
  return true;
}

int test_pattern_command(const std::vector<std::string_view>& args, std::istream& in,
                         std::ostream& out, std::ostream& err) {
  std::string_view pattern_arg, event_arg;
  bool have_pattern = false, have_event = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool is_pattern = args[i] == "--pattern", is_event = args[i] == "--event";
    if ((is_pattern || is_event) && i + 1 < args.size()) {
      (is_pattern ? pattern_arg : event_arg) = args[++i];
      (is_pattern ? have_pattern : have_event) = true;
    } else {
      err << "eventrouter test-pattern: unexpected argument " << args[i] << "\n" << kUsage;
      return 2;
    }
  }
  if (!have_pattern || !have_event) {
    err << "eventrouter test-pattern: give both --pattern and --event\n";
    return 2;
  }
  return pattern::run_test_pattern_command(pattern_arg, event_arg, in, out, err);
}

}  // namespace

int run_cli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  const auto command = args.front();
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  if (command == "--version" || command == "version") {
    out << "eventrouter " << EVENTROUTER_VERSION << "\n";
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return 0;
  }
  if (command == "serve" || command == "validate") {
    std::filesystem::path path;
    if (!config_path(rest, path, err)) return 2;
    if (command == "serve") return run_daemon(path, err);
    // "config OK" is shown only when the tokens file is good as well.
    std::ostringstream rules_out;
    const bool rules_ok =
        rules::run_validate_command(path, targets::catalog(), rules_out, err) == 0;
    const bool tokens_ok = validate_tokens_file(path, targets::catalog(), err);
    if (!rules_ok || !tokens_ok) return 1;
    out << rules_out.str();
    return 0;
  }
  if (command == "token") return run_token_command(rest, in, out, err);
  if (command == "test-pattern") return test_pattern_command(rest, in, out, err);
  if (command == "dlq") return run_dlq_command(rest, out, err);
  if (command == "replay") return run_replay_command(rest, out, err);
  if (command == "history") return run_history_command(rest, out, err);
  if (command == "bench") return run_bench_command(rest, out, err);
  err << "eventrouter: unknown command " << command << "\n" << kUsage;
  return 2;
}

}  // namespace eventrouter::app
