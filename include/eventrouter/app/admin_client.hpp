#pragma once
// The HTTP client that `eventrouter dlq redrive` and `eventrouter replay` use to talk to the
// running daemon's admin endpoints. It only ever connects to the address the config file says
// the daemon listens on: no proxies, no redirects.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/app/cli_options.hpp"
#include "eventrouter/config/config.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// Everything needed for a request, resolved from the options and the config file.
struct AdminEndpoint {
  std::string base_url;  // http://127.0.0.1:8088, https://[::1]:8443
  bool tls = false;
  std::filesystem::path ca_file;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::string token;                                 // empty: no Authorization header
  std::optional<std::chrono::milliseconds> timeout;  // nullopt: no limit
};

// "http://HOST:PORT" (https with TLS) for a listen address. A wildcard host (0.0.0.0, ::)
// means the loopback address of the same family; IPv6 hosts get brackets. Port 0 is an error:
// the daemon's real port cannot be known.
Expected<std::string, std::string> daemon_base_url(const config::ListenAddress& listen, bool tls);

// Resolves options against the loaded config. The token comes from --token, else
// `env_token` (EVENTROUTER_TOKEN), else the first plaintext admin token of auth.tokens_file
// when readable (an error when the file holds none: a hash cannot be sent).
// `default_timeout` applies when --timeout was not given.
Expected<AdminEndpoint, std::string> make_endpoint(
    const config::Config& config, const ClientOptions& options, const char* env_token,
    std::optional<std::chrono::milliseconds> default_timeout);

struct AdminResponse {
  long status = 0;
  std::string body;
};

// POSTs a JSON body to `path` (e.g. "/replays"). Errors are transport failures, worded for the
// user ("cannot reach the eventrouter daemon at ... (is it running? ...): ...").
Expected<AdminResponse, std::string> post_json(const AdminEndpoint& endpoint, std::string_view path,
                                               std::string_view body);

// GETs `path` (with its query); errors as for post_json.
Expected<AdminResponse, std::string> get(const AdminEndpoint& endpoint, std::string_view path);

// Describes a non-2xx answer: "CODE: message (HTTP 4xx)" from the daemon's error body
// ({"error":{"code":..,"message":..}}), or the status and the start of the body otherwise,
// plus a hint for 401/403/404.
std::string describe_error_response(const AdminResponse& response);

}  // namespace eventrouter::app
