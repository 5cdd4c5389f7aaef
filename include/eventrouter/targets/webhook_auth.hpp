#pragma once
// A webhook target's `auth:` mapping, as EventBridge API-destination connections authorise:
// HTTP Basic, an API key header, or an OAuth 2.0 client-credentials token (RFC 6749 section 4.4)
// fetched from a token endpoint and sent as a Bearer token. Reading and checking the mapping,
// building the static headers, and the token endpoint's request and answer live here; the token
// cache and its fetches are in oauth_token_source.hpp.
//
// Secrets (password, value, client_secret) come resolved from ${env:..}/${file:..} and are never
// quoted in a message; nor is a token.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/net/url.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::targets {

// Bounds on what a token endpoint may send: the whole answer, and the access token (which goes
// into a header, so at most what one outgoing header value may carry, "Bearer " included).
inline constexpr std::size_t kMaxTokenResponseBytes = 64 * 1024;
inline constexpr std::size_t kMaxAccessTokenBytes = 8000;
// The longest text of a token endpoint's `error`/`error_description` a message quotes.
inline constexpr std::size_t kMaxOAuthErrorTextBytes = 200;

enum class WebhookAuthType { kNone, kBasic, kApiKey, kOAuthClientCredentials };

struct OAuthClientCredentials {
  net::HttpUrl token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;                                            // empty: not sent
  std::vector<std::pair<std::string, std::string>> parameters;  // extra form fields, in order
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  struct Tls {
    std::string ca_file;  // empty: the system store
    bool verify = true;
  } tls;

  // "https://login.example.com/oauth2/token": the endpoint as messages name it (no query,
  // which may carry credentials).
  std::string endpoint_name() const;
};

struct WebhookAuth {
  WebhookAuthType type = WebhookAuthType::kNone;
  // basic: the Authorization header; api_key: the configured header. Both fixed at load.
  std::string header_name;
  std::string header_value;
  OAuthClientCredentials oauth;  // for kOAuthClientCredentials
};

// Reads `auth` from a webhook target's mapping (`target`, over `mapping`), checking it against the
// target's configured `headers` (no Authorization next to auth; an api_key header may not repeat
// one). Records one problem per mistake in `target`'s diagnostics; nothing when `auth` is absent.
std::optional<WebhookAuth> read_webhook_auth(
    config::MappingReader& target, const yaml::Node& mapping,
    const std::vector<std::pair<std::string, std::string>>& configured_headers);

// Whether `name` is an HTTP header name (an RFC 9110 token).
bool is_header_token(std::string_view name);
// Whether eventrouter sets the header `name` itself on webhook requests.
bool is_eventrouter_header(std::string_view name);

// "Basic " + base64(username ":" password) (RFC 7617).
std::string basic_authorization(std::string_view username, std::string_view password);

// The token request's body: application/x-www-form-urlencoded grant_type=client_credentials,
// client_id, client_secret, scope (when set) and the extra parameters.
std::string token_request_body(const OAuthClientCredentials& oauth);

// What a token endpoint granted.
struct AccessToken {
  std::string value;
  std::optional<std::chrono::seconds> expires_in;  // absent: good until a webhook answers 401
};

// Reads a token endpoint's answer (HTTP `status`, JSON `body`): the token, or the delivery's
// failure: retryable for 5xx, 408, 429 and a 2xx answer that is not a token (a proxy's page);
// permanent for other statuses (400 or 401 invalid_client: the credentials are wrong) and for
// a token eventrouter cannot send (not a Bearer token, too long, not printable). Messages name
// `endpoint` and the OAuth error and its description, bounded and without control characters; never
// the token, and never `secret` (if an endpoint echoes it back).
Expected<AccessToken, DeliveryResult> parse_token_response(long status, std::string_view body,
                                                           std::string_view endpoint,
                                                           std::string_view secret);

// When a token that came with `expires_in` should be replaced: 30 seconds or a tenth of its
// lifetime before it runs out, whichever is less.
std::chrono::milliseconds token_refresh_margin(std::chrono::seconds expires_in);

}  // namespace eventrouter::targets
