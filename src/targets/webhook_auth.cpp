#include "eventrouter/targets/webhook_auth.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <unistd.h>

#include <openssl/evp.h>
#include <simdjson.h>
#include <boost/beast/core/string.hpp>

#include "eventrouter/targets/header_value.hpp"

namespace eventrouter::targets {

namespace {

using boost::beast::iequals;

const std::vector<std::string>& auth_types() {
  static const std::vector<std::string> types = {"basic", "api_key", "oauth_client_credentials"};
  return types;
}

// Form fields eventrouter writes itself; `parameters` may not repeat them.
const std::vector<std::string>& oauth_own_fields() {
  static const std::vector<std::string> fields = {"grant_type", "client_id", "client_secret",
                                                  "scope"};
  return fields;
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return iequals(header.first, name); });
}

// A required string that may not be empty; nothing (and a problem) otherwise.
std::optional<std::string> non_empty(config::MappingReader& reader, std::string_view key) {
  auto value = reader.string(key, true);
  if (value && value->empty()) {
    reader.problem(reader.get(key), reader.name(key) + " is empty");
    return std::nullopt;
  }
  return value;
}

void read_basic(config::MappingReader& reader, WebhookAuth& auth) {
  reader.check_keys({"type", "username", "password"});
  auto username = non_empty(reader, "username");
  auto password = reader.string("password", true);
  if (username && username->find(':') != std::string::npos) {
    // RFC 7617: the first colon ends the user name.
    reader.problem(reader.get("username"), reader.name("username") + " may not contain ':'");
    return;
  }
  if (!username || !password) return;
  auth.header_name = "Authorization";
  auth.header_value = basic_authorization(*username, *password);
  if (auto problem = outgoing_value_problem("auth (basic)", auth.header_value)) {
    reader.problem(reader.get("password"), *problem);
  }
}

void read_api_key(config::MappingReader& reader,
                  const std::vector<std::pair<std::string, std::string>>& configured_headers,
                  WebhookAuth& auth) {
  reader.check_keys({"type", "header", "value"});
  auto header = non_empty(reader, "header");
  auto value = non_empty(reader, "value");
  if (header) {
    if (!is_header_token(*header)) {
      reader.problem(reader.get("header"), "auth.header '" + *header + "' is not a valid token");
      header.reset();
    } else if (is_eventrouter_header(*header)) {
      reader.problem(reader.get("header"), "auth.header '" + *header +
                                               "' is set by eventrouter and cannot be configured");
      header.reset();
    } else if (has_header(configured_headers, *header)) {
      reader.problem(reader.get("header"),
                     "auth.header '" + *header + "' is also in headers; set it in one place");
      header.reset();
    }
  }
  if (value) {
    if (auto problem = outgoing_value_problem("auth.value", *value)) {
      reader.problem(reader.get("value"), *problem);
      value.reset();
    }
  }
  if (!header || !value) return;
  auth.header_name = *header;
  auth.header_value = *value;
}

void read_oauth(config::MappingReader& reader, WebhookAuth& auth) {
  OAuthClientCredentials& oauth = auth.oauth;
  reader.check_keys(
      {"type", "token_url", "client_id", "client_secret", "scope", "parameters", "timeout", "tls"});
  bool have_url = false;
  if (auto url = non_empty(reader, "token_url")) {
    auto parsed = net::parse_http_url(*url);
    if (!parsed) {
      // "url must start with http:// or https://": the parser's words, about this key.
      reader.problem(reader.get("token_url"), "auth.token_url: " + parsed.error());
    } else {
      oauth.token_url = std::move(*parsed);
      have_url = true;
    }
  }
  if (auto id = non_empty(reader, "client_id")) {
    oauth.client_id = std::move(*id);
  }
  if (auto secret = non_empty(reader, "client_secret")) oauth.client_secret = std::move(*secret);
  if (auto scope = reader.string("scope", false)) oauth.scope = std::move(*scope);
  if (auto parameters = reader.string_map("parameters")) {
    for (const auto& [name, value] : *parameters) {
      if (std::find(oauth_own_fields().begin(), oauth_own_fields().end(), name) !=
          oauth_own_fields().end()) {
        reader.problem(reader.get("parameters"),
                       "auth.parameters." + name + " is set by eventrouter; use the auth key");
      }
    }
    oauth.parameters = std::move(*parameters);
  }
  if (auto timeout = reader.duration("timeout", oauth.timeout, std::chrono::milliseconds(10),
                                     std::chrono::minutes(5))) {
    oauth.timeout = *timeout;
  }
  if (reader.has("tls")) {
    if (auto tls = reader.child("tls")) {
      tls->check_keys({"ca_file", "verify"});
      if (have_url && !oauth.token_url.tls) {
        tls->problem(reader.get("tls"), "auth.tls options need an https:// token_url");
      }
      if (auto file = tls->string("ca_file", false)) {
        if (::access(file->c_str(), R_OK) != 0) {
          tls->problem(tls->get("ca_file"), tls->name("ca_file") + " " + *file + " cannot be read");
        }
        oauth.tls.ca_file = std::move(*file);
      }
      if (auto verify = tls->boolean("verify", true)) oauth.tls.verify = *verify;
    }
  }
}

std::string form_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// Text from a token endpoint fit for a message: every occurrence of the secret hidden, then
// printable ASCII only, at most kMaxOAuthErrorTextBytes bytes.
std::string endpoint_text(std::string_view text, std::string_view secret) {
  std::string out(text.substr(0, 4 * kMaxOAuthErrorTextBytes));
  if (!secret.empty()) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  if (out.size() > kMaxOAuthErrorTextBytes) out = out.substr(0, kMaxOAuthErrorTextBytes) + "...";
  return out;
}

std::optional<std::string_view> string_field(simdjson::dom::element document, const char* key) {
  std::string_view value;
  if (document[key].get_string().get(value)) return std::nullopt;
  return value;
}

std::optional<std::chrono::seconds> expires_in_field(simdjson::dom::element document) {
  constexpr std::int64_t year = 366LL * 24 * 3600;  // longer is as good as forever
  simdjson::dom::element field;
  if (document["expires_in"].get(field)) return std::nullopt;
  std::int64_t seconds = 0;
  switch (field.type()) {
    case simdjson::dom::element_type::INT64:
      if (field.get_int64().get(seconds)) return std::nullopt;
      break;
    case simdjson::dom::element_type::UINT64:
      seconds = year;
      break;
    case simdjson::dom::element_type::DOUBLE: {
      double real = 0;
      if (field.get_double().get(real)) return std::nullopt;
      seconds = real <= 0                           ? 0
                : real >= static_cast<double>(year) ? year
                                                    : static_cast<std::int64_t>(real);
      break;
    }
    case simdjson::dom::element_type::STRING: {  // some endpoints send "3600"
      std::string_view text;
      if (field.get_string().get(text) || text.empty() || text.size() > 11 ||
          !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
      }
      seconds = std::stoll(std::string(text));
      break;
    }
    default:
      return std::nullopt;
  }
  return std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, year));
}

bool is_token_text(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

}  // namespace

std::string OAuthClientCredentials::endpoint_name() const {
  const auto path = token_url.target.substr(0, token_url.target.find('?'));
  return std::string(token_url.tls ? "https://" : "http://") + token_url.authority() + path;
}

bool is_header_token(std::string_view name) {
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

bool is_eventrouter_header(std::string_view name) {
  static const std::vector<std::string_view> fixed = {
      "Host", "Content-Length", "Transfer-Encoding", "Connection", "User-Agent", "Content-Type"};
  constexpr std::string_view own_prefix = "X-Eventrouter-";
  if (name.size() >= own_prefix.size() && iequals(name.substr(0, own_prefix.size()), own_prefix)) {
    return true;
  }
  return std::any_of(fixed.begin(), fixed.end(),
                     [&](std::string_view header) { return iequals(header, name); });
}

std::optional<WebhookAuth> read_webhook_auth(
    config::MappingReader& target, const yaml::Node& mapping,
    const std::vector<std::pair<std::string, std::string>>& configured_headers) {
  const yaml::Node node = target.get("auth");
  if (!node) return std::nullopt;
  if (node.is_null()) {
    // The parser places an empty value where the next token starts: the key is where it is.
    yaml::Node at = node;
    for (const auto& entry : mapping) {
      if (entry.first.is_scalar() && entry.first.scalar() == "auth") at = entry.first;
    }
    target.problem(at,
                   "auth is empty; give it a type (basic, api_key or oauth_client_credentials)");
    return std::nullopt;
  }
  auto reader = target.child("auth");
  if (!reader) return std::nullopt;
  if (!reader->has("type")) {
    reader->problem(node, "auth.type is required: basic, api_key or oauth_client_credentials");
    return std::nullopt;
  }
  auto type = reader->choice("type", "", auth_types());
  if (!type) return std::nullopt;
  WebhookAuth auth;
  if (*type == "basic") {
    auth.type = WebhookAuthType::kBasic;
    read_basic(*reader, auth);
  } else if (*type == "api_key") {
    auth.type = WebhookAuthType::kApiKey;
    read_api_key(*reader, configured_headers, auth);
  } else {
    auth.type = WebhookAuthType::kOAuthClientCredentials;
    read_oauth(*reader, auth);
  }
  if (auth.type != WebhookAuthType::kApiKey && has_header(configured_headers, "Authorization")) {
    reader->problem(target.get("headers"),
                    "headers.Authorization conflicts with auth, which sets the Authorization "
                    "header; remove one of them");
  }
  if (reader->failed()) return std::nullopt;
  return auth;
}

std::string basic_authorization(std::string_view username, std::string_view password) {
  const std::string credentials = std::string(username) + ":" + std::string(password);
  std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(credentials.data()),
                                     static_cast<int>(credentials.size()));
  encoded.resize(static_cast<std::size_t>(length));
  return "Basic " + encoded;
}

std::string token_request_body(const OAuthClientCredentials& oauth) {
  std::string body = "grant_type=client_credentials&client_id=" + form_encode(oauth.client_id) +
                     "&client_secret=" + form_encode(oauth.client_secret);
  if (!oauth.scope.empty()) body += "&scope=" + form_encode(oauth.scope);
  for (const auto& [name, value] : oauth.parameters) {
    body += "&" + form_encode(name) + "=" + form_encode(value);
  }
  return body;
}

Expected<AccessToken, DeliveryResult> parse_token_response(long status, std::string_view body,
                                                           std::string_view endpoint,
                                                           std::string_view secret) {
  const std::string who = "token endpoint " + std::string(endpoint);
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  const bool is_object = !parser.parse(body.data(), body.size()).get(document) &&
                         document.type() == simdjson::dom::element_type::OBJECT;
  if (status < 200 || status >= 300) {
    std::string message = who + " answered HTTP " + std::to_string(status);
    if (is_object) {
      // RFC 6749 section 5.2: error, error_description.
      if (auto error = string_field(document, "error")) {
        message += ": " + endpoint_text(*error, secret);
      }
      if (auto description = string_field(document, "error_description")) {
        message += " (" + endpoint_text(*description, secret) + ")";
      }
    }
    if (status == 429)
      return unexpected(DeliveryResult::retryable(ErrorCode::kThrottling, message));
    if (status >= 500 || status == 408) {
      return unexpected(DeliveryResult::retryable(ErrorCode::kErrorFromTarget, message));
    }
    if (status >= 300 && status < 400) message += " (redirects are not followed)";
    const ErrorCode code = status == 400 || status == 401 || status == 403
                               ? ErrorCode::kNoPermissions
                               : ErrorCode::kErrorFromTarget;
    return unexpected(DeliveryResult::permanent(code, message));
  }
  if (!is_object) {
    return unexpected(DeliveryResult::retryable(
        ErrorCode::kErrorFromTarget, who + " answered HTTP " + std::to_string(status) +
                                         " without a JSON object (expected access_token)"));
  }
  auto token = string_field(document, "access_token");
  if (!token || token->empty()) {
    return unexpected(DeliveryResult::retryable(ErrorCode::kErrorFromTarget,
                                                who + " answered without an access_token"));
  }
  if (auto type = string_field(document, "token_type"); type && !iequals(*type, "bearer")) {
    return unexpected(DeliveryResult::permanent(ErrorCode::kInvalidParameter,
                                                who + " granted a token of type '" +
                                                    endpoint_text(type->substr(0, 32), secret) +
                                                    "'; only Bearer tokens can be sent"));
  }
  if (token->size() > kMaxAccessTokenBytes) {
    return unexpected(DeliveryResult::permanent(
        ErrorCode::kInvalidParameter, who + " granted an access token of " +
                                          std::to_string(token->size()) + " bytes; at most " +
                                          std::to_string(kMaxAccessTokenBytes) + " can be sent"));
  }
  if (!is_token_text(*token)) {
    return unexpected(DeliveryResult::permanent(
        ErrorCode::kInvalidParameter,
        who + " granted an access token with spaces or characters that cannot be sent"));
  }
  return AccessToken{std::string(*token), expires_in_field(document)};
}

std::chrono::milliseconds token_refresh_margin(std::chrono::seconds expires_in) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(30),
                                             std::chrono::milliseconds(expires_in) / 10);
}

}  // namespace eventrouter::targets
