#pragma once
// `eventrouter history`: what happened to events, from the running daemon's history
// (GET /events and GET /events/{id}), as a table or as the daemon's JSON.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/app/cli_options.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

struct HistoryArgs {
  ClientOptions client;
  std::optional<std::string> event_id;  // --event: one event's journey
  bool json = false;
  std::string path;  // what to GET, query included
};

// Parses the arguments after `history`; errors are usage errors (exit 2).
Expected<HistoryArgs, std::string> parse_history_args(const std::vector<std::string_view>& args);

// Returns the exit status: 0 shown, 1 failed, 2 usage error.
int run_history_command(const std::vector<std::string_view>& args, std::ostream& out,
                        std::ostream& err);

}  // namespace eventrouter::app
