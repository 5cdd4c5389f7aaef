#include "eventrouter/app/admin_client.hpp"

#include <curl/curl.h>
#include <simdjson.h>

#include <fstream>
#include <mutex>

#include "tokens.hpp"

namespace eventrouter::app {

namespace fs = std::filesystem;

namespace {

// The daemon's answers are small JSON documents; anything far larger is not from the daemon.
constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

// The admin commands' default token: the first plaintext token of the tokens file that has
// role admin, read the way the daemon reads the file. Empty when the file cannot be read (the
// daemon's 401 then says what is missing); an error when it holds no such token, as a hash
// cannot be sent.
Expected<std::string, std::string> default_admin_token(const fs::path& file) {
  if (!std::ifstream(file)) return std::string();
  const auto tokens = read_tokens_file(file);
  for (const auto& entry : tokens.entries) {
    if (!entry.plaintext.empty() && entry.access.has(server::Role::kAdmin)) return entry.plaintext;
  }
  return unexpected("auth.tokens_file " + file.string() +
                    " holds no plaintext token with role admin (a sha256: line cannot be sent): "
                    "pass --token or set EVENTROUTER_TOKEN");
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  if (body->size() + bytes > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(data, bytes);
  return bytes;
}

bool is_tls_failure(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
      return true;
    default:
      return false;
  }
}

// Frees the handle and header list however post_json returns.
struct CurlRequest {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlRequest() {
    curl_slist_free_all(headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  void add_header(const std::string& header) {
    headers = curl_slist_append(headers, header.c_str());
  }
};

}  // namespace

Expected<std::string, std::string> daemon_base_url(const config::ListenAddress& listen, bool tls) {
  if (listen.port == 0) {
    return unexpected(std::string(
        "the config's listen: has port 0 (the system picks a port each start), so the daemon's "
        "address cannot be known; give listen: a fixed port"));
  }
  std::string host = listen.host;
  // A daemon listening on every interface is reachable on loopback, which is also the one
  // address that never leaves the machine.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(listen.port);
}

Expected<AdminEndpoint, std::string> make_endpoint(
    const config::Config& config, const ClientOptions& options, const char* env_token,
    std::optional<std::chrono::milliseconds> default_timeout) {
  AdminEndpoint endpoint;
  endpoint.tls = config.tls.has_value();
  auto url = daemon_base_url(config.listen, endpoint.tls);
  if (!url) return unexpected(url.error());
  endpoint.base_url = *url;
  if (!options.key_file.empty() && options.cert_file.empty()) {
    return unexpected(std::string("--key needs --cert (the client certificate it belongs to)"));
  }
  if (!endpoint.tls && (!options.ca_file.empty() || !options.cert_file.empty())) {
    return unexpected(std::string(
        "--ca-file, --cert and --key are for TLS, but the config has no tls: section (the daemon "
        "speaks plain HTTP)"));
  }
  if (endpoint.tls) {
    endpoint.ca_file = options.ca_file.empty() ? config.tls->cert_file : options.ca_file;
    endpoint.cert_file = options.cert_file;
    endpoint.key_file = options.key_file;
  }
  if (options.token) {
    endpoint.token = *options.token;
  } else if (env_token != nullptr && *env_token != '\0') {
    endpoint.token = env_token;
  } else if (!config.tokens_file.empty()) {
    auto token = default_admin_token(config.tokens_file);
    if (!token) return unexpected(token.error());
    endpoint.token = std::move(*token);
  }
  endpoint.timeout = options.timeout ? options.timeout : default_timeout;
  return endpoint;
}

namespace {

// One request to the daemon: a POST of `body`, or a GET without one.
Expected<AdminResponse, std::string> perform(const AdminEndpoint& endpoint, std::string_view path,
                                             const std::optional<std::string_view>& body) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  CurlRequest request;
  if (request.curl == nullptr) return unexpected(std::string("cannot start an HTTP client (curl)"));
  CURL* curl = request.curl;
  const std::string url = endpoint.base_url + std::string(path);
  const std::string payload(body.value_or(""));
  AdminResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {};

  if (body) request.add_header("Content-Type: application/json");
  request.add_header("Accept: application/json");
  request.add_header("Expect:");  // no 100-continue round trip
  if (!endpoint.token.empty()) request.add_header("Authorization: Bearer " + endpoint.token);

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Only ever the configured address: no proxy from the environment, no redirects.
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, request.headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "eventrouter-cli/" EVENTROUTER_VERSION);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (endpoint.timeout) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(endpoint.timeout->count()));
  }
  if (endpoint.tls) {
    if (!endpoint.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    if (!endpoint.cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, endpoint.cert_file.c_str());
    }
    if (!endpoint.key_file.empty())
      curl_easy_setopt(curl, CURLOPT_SSLKEY, endpoint.key_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  }

  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }
  const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  const std::string where = "the eventrouter daemon at " + endpoint.base_url;
  curl_off_t connected = 0;
  curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected);
  const bool never_connected = code == CURLE_COULDNT_CONNECT ||
                               code == CURLE_COULDNT_RESOLVE_HOST ||
                               (code == CURLE_OPERATION_TIMEDOUT && connected == 0);
  if (never_connected) {
    return unexpected("cannot reach " + where +
                      " (is it running? `systemctl status eventrouter`): " + detail);
  }
  if (is_tls_failure(code)) {
    return unexpected("TLS with " + where + " failed: " + detail +
                      " (--ca-file names the CA to verify it with; default: the config's "
                      "tls.cert_file)");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return unexpected("no answer from " + where + " within the --timeout: " + detail);
  }
  return unexpected("request to " + where + " failed: " + detail);
}

}  // namespace

Expected<AdminResponse, std::string> post_json(const AdminEndpoint& endpoint, std::string_view path,
                                               std::string_view body) {
  return perform(endpoint, path, body);
}

Expected<AdminResponse, std::string> get(const AdminEndpoint& endpoint, std::string_view path) {
  return perform(endpoint, path, std::nullopt);
}

std::string describe_error_response(const AdminResponse& response) {
  std::string text;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view code, message;
  const bool parsed = !parser.parse(response.body).get(root);
  // {"error":{"code","message"}}, or AWS's {"__type","message"} (403 AccessDeniedException).
  const bool daemon_error =
      parsed && ((!root["error"]["code"].get(code) && !root["error"]["message"].get(message)) ||
                 (!root["__type"].get(code) && !root["message"].get(message)));
  if (daemon_error) {
    text = std::string(code) + ": " + std::string(message);
  } else {
    // Not the daemon's error shape (a proxy, an older daemon): show what came back.
    constexpr std::size_t kShown = 200;
    std::string start = response.body.substr(0, kShown);
    for (char& c : start) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    text = start.empty() ? "no error details" : start;
    if (response.body.size() > kShown) text += "...";
  }
  text += " (HTTP " + std::to_string(response.status) + ")";
  switch (response.status) {
    case 401:
      text +=
          "; give --token, set EVENTROUTER_TOKEN, or make the config's auth.tokens_file "
          "readable";
      break;
    case 403:
      text += "; pass --token (or set EVENTROUTER_TOKEN) with a token that has role admin";
      break;
    case 404:
      // The path itself is unknown (not, say, a replay name): the daemon predates the command.
      if (!daemon_error || code == "NotFound") text += "; is the daemon older than this command?";
      break;
    default:
      break;
  }
  return text;
}

}  // namespace eventrouter::app
