#pragma once
// Option parsing shared by the admin commands (dlq, replay): "--name VALUE" / "--name=VALUE",
// and the options that say how to reach the daemon.

#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// One option from the command line: "--name VALUE", "--name=VALUE", or a flag.
struct CliOption {
  std::string_view name;
  std::string_view value;  // empty for a flag
};

// Splits `args` into options. `flags` take no value; every other "-x"/"--x" takes one. A
// positional argument, a missing value or a value given to a flag is an error.
Expected<std::vector<CliOption>, std::string> split_options(
    const std::vector<std::string_view>& args, const std::vector<std::string_view>& flags);

// How to reach the daemon and prove who we are, from the command line.
struct ClientOptions {
  std::filesystem::path config_file;                 // empty: config::default_config_path()
  std::optional<std::string> token;                  // --token
  std::filesystem::path ca_file;                     // --ca-file; else the config's tls.cert_file
  std::filesystem::path cert_file;                   // --cert (client certificate)
  std::filesystem::path key_file;                    // --key
  std::optional<std::chrono::milliseconds> timeout;  // --timeout SECONDS; nullopt: default
};

// Help text for the options every command that talks to the daemon shares: -c/--config,
// --token, --ca-file, --cert, --key, --timeout.
extern const std::string_view kClientOptionsHelp;

// Applies `option` to `options` if it is one of the shared options: true when it was, false
// when it is not one of them (the caller handles it), an error for a bad value.
Expected<bool, std::string> apply_client_option(const CliOption& option, ClientOptions& options);

// Loads the config file (empty: config::default_config_path()). Prints every problem to `err`
// as FILE:LINE:COL: message and returns nothing when it does not load.
std::optional<config::Config> load_command_config(const std::filesystem::path& file,
                                                  std::ostream& err);

}  // namespace eventrouter::app
