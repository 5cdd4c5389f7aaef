#pragma once
// `eventrouter replay`: asks the running daemon to send archived events of a time window
// through the current rules again (POST /replays), and waits for it to finish.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/app/cli_options.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

struct ReplayArgs {
  ClientOptions client;
  std::string from;  // RFC 3339, checked
  std::string to;    // RFC 3339, checked, after `from`
  std::optional<std::string> bus;
  std::optional<std::string> rule;
  std::optional<std::string> name;
};

// Parses the arguments after `replay`; errors are usage errors (exit 2).
Expected<ReplayArgs, std::string> parse_replay_args(const std::vector<std::string_view>& args);

// The POST /replays body: {"from":..,"to":..,"bus":..,"rule":..,"name":..}, optional keys only
// when given. Times are sent as the user wrote them.
std::string replay_request_body(const ReplayArgs& args);

// Returns the exit status: 0 replayed, 1 failed, 2 usage error.
int run_replay_command(const std::vector<std::string_view>& args, std::ostream& out,
                       std::ostream& err);

}  // namespace eventrouter::app
