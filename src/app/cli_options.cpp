#include "eventrouter/app/cli_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>

namespace eventrouter::app {

const std::string_view kClientOptionsHelp =
    R"(  -c, --config FILE    the daemon's config file (its listen, tls and auth tell where and how
                       to connect)
  --token TOKEN        bearer token; default: $EVENTROUTER_TOKEN, else the first token of
                       the config's auth.tokens_file when readable
  --ca-file FILE       CA certificate(s) to verify the daemon with; default: the config's
                       tls.cert_file (self-signed setups)
  --cert FILE, --key FILE
                       client certificate and key (when tls.client_ca_file is set)
  --timeout SECONDS    give up after this long)";

namespace {

bool is_option(std::string_view arg) {
  return arg.size() > 1 && arg.front() == '-';
}

}  // namespace

Expected<std::vector<CliOption>, std::string> split_options(
    const std::vector<std::string_view>& args, const std::vector<std::string_view>& flags) {
  std::vector<CliOption> options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!is_option(arg)) return unexpected("unexpected argument '" + std::string(arg) + "'");
    CliOption option{arg, {}};
    const auto equals = arg.find('=');
    const bool inline_value = arg.starts_with("--") && equals != std::string_view::npos;
    if (inline_value) option = {arg.substr(0, equals), arg.substr(equals + 1)};
    const bool flag = std::find(flags.begin(), flags.end(), option.name) != flags.end();
    if (flag && inline_value) {
      return unexpected(std::string(option.name) + " takes no value");
    }
    if (!flag && !inline_value) {
      // A value may itself start with '-' (a token), so take the next argument whatever it is.
      if (i + 1 >= args.size()) return unexpected(std::string(arg) + " needs a value");
      option.value = args[++i];
    }
    if (!flag && option.value.empty()) {
      return unexpected(std::string(option.name) + " needs a value");
    }
    options.push_back(option);
  }
  return options;
}

Expected<bool, std::string> apply_client_option(const CliOption& option, ClientOptions& options) {
  const std::string_view name = option.name;
  const std::string value(option.value);
  if (name == "-c" || name == "--config") {
    options.config_file = value;
  } else if (name == "--token") {
    options.token = value;
  } else if (name == "--ca-file") {
    options.ca_file = value;
  } else if (name == "--cert") {
    options.cert_file = value;
  } else if (name == "--key") {
    options.key_file = value;
  } else if (name == "--timeout") {
    double seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds) ||
        seconds <= 0 || seconds > 31'536'000) {
      return unexpected("--timeout wants a number of seconds greater than 0, not '" + value + "'");
    }
    options.timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
  } else {
    return false;
  }
  return true;
}

std::optional<config::Config> load_command_config(const std::filesystem::path& file,
                                                  std::ostream& err) {
  const std::filesystem::path path = file.empty() ? config::default_config_path() : file;
  try {
    return config::load_config(path);
  } catch (const config::ConfigError& error) {
    for (const auto& diagnostic : error.diagnostics()) err << diagnostic.to_string() << '\n';
  } catch (const std::exception& e) {
    err << path.string() << ": " << e.what() << '\n';
  }
  return std::nullopt;
}

}  // namespace eventrouter::app
