#pragma once
// `eventrouter dlq list` (reads the dead-letter files, no daemon needed) and `eventrouter dlq
// redrive` (asks the running daemon to deliver dead letters again).

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/app/cli_options.hpp"
#include "eventrouter/app/dead_letter_listing.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

struct DlqListArgs {
  std::filesystem::path config_file;  // empty: the default config
  DeadLetterFilter filter;
  bool json = false;
};

struct DlqRedriveArgs {
  ClientOptions client;
  DeadLetterFilter filter;
};

// Parse the arguments after `dlq list` / `dlq redrive`; errors are usage errors (exit 2).
Expected<DlqListArgs, std::string> parse_dlq_list_args(const std::vector<std::string_view>& args);
Expected<DlqRedriveArgs, std::string> parse_dlq_redrive_args(
    const std::vector<std::string_view>& args);

// The POST /dead-letters/redrive body: {"rule":R,"target":T}, keys only when given.
std::string redrive_request_body(const DeadLetterFilter& filter);

// The arguments after `dlq`. Returns the exit status: 0 done, 1 failed, 2 usage error.
int run_dlq_command(const std::vector<std::string_view>& args, std::ostream& out,
                    std::ostream& err);

}  // namespace eventrouter::app
