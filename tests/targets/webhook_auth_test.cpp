// A webhook's `auth:` mapping: every configuration problem (at its line and column, never
// quoting a secret), the headers it builds, and how token endpoint answers are read.

#include "eventrouter/targets/webhook_auth.hpp"

#include <gtest/gtest.h>

#include "eventrouter/targets/registry.hpp"
#include "eventrouter/targets/webhook.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

// A webhook target whose mapping starts on line 1 of rules.d/test.yaml, with `auth_yaml` (block
// YAML, two spaces indented) from line 4 on.
std::string target_with(const std::string& auth_yaml, const std::string& extra = "") {
  return "id: hook\ntype: webhook\nurl: 'https://tickets.example.com/in'\n" + extra + auth_yaml;
}

std::vector<config::Diagnostic> check(const std::string& yaml) {
  std::vector<config::Diagnostic> problems;
  check_target(testing::spec_from_yaml(yaml), problems);
  return problems;
}

std::string messages(const std::vector<config::Diagnostic>& problems) {
  std::string all;
  for (const auto& problem : problems) {
    all += problem.file.string() + ":" + std::to_string(problem.line) + ":" +
           std::to_string(problem.column) + ": " + problem.message + "\n";
  }
  return all;
}

// Exactly one problem, at rules.d/test.yaml:line:column, whose message holds `fragment`.
void expect_one_problem(const std::string& yaml, int line, int column,
                        const std::string& fragment) {
  const auto problems = check(yaml);
  ASSERT_EQ(problems.size(), 1u) << messages(problems);
  EXPECT_EQ(problems[0].file, "rules.d/test.yaml");
  EXPECT_EQ(problems[0].line, line) << messages(problems);
  EXPECT_EQ(problems[0].column, column) << messages(problems);
  EXPECT_NE(problems[0].message.find(fragment), std::string::npos) << messages(problems);
}

WebhookConfig read(const std::string& yaml) {
  std::vector<config::Diagnostic> problems;
  auto config = read_webhook_config(testing::spec_from_yaml(yaml), problems);
  EXPECT_EQ(messages(problems), "");
  return config.value_or(WebhookConfig{});
}

TEST(WebhookAuthConfig, ValidMappingsHaveNoProblems) {
  for (const char* auth :
       {"auth: {type: basic, username: svc, password: pw}",
        "auth: {type: basic, username: svc, password: ''}",
        "auth: {type: api_key, header: X-Api-Key, value: k}",
        "auth: {type: api_key, header: Authorization, value: 'Token k'}",
        "auth:\n  type: oauth_client_credentials\n  token_url: https://login.example.com/t\n"
        "  client_id: er\n  client_secret: s\n  scope: 'api://x/.default'\n"
        "  parameters: {audience: tickets}\n  timeout: 3s\n  tls: {verify: false}\n"}) {
    EXPECT_EQ(messages(check(target_with(auth))), "") << auth;
  }
}

TEST(WebhookAuthConfig, TypeMustBeKnownAndPresent) {
  expect_one_problem(target_with("auth:\n  type: oauth\n"), 5, 9,
                     "auth.type must be one of basic, api_key, oauth_client_credentials, not "
                     "'oauth'");
  expect_one_problem(target_with("auth:\n  username: svc\n"), 5, 3,
                     "auth.type is required: basic, api_key or oauth_client_credentials");
  expect_one_problem(target_with("auth:\n"), 4, 1, "auth is empty; give it a type");
  expect_one_problem(target_with("auth: basic\n"), 4, 7, "auth must be a mapping");
}

TEST(WebhookAuthConfig, BasicNeedsItsFields) {
  expect_one_problem(target_with("auth:\n  type: basic\n  password: pw\n"), 5, 3,
                     "webhook target 'hook': auth.username is required");
  expect_one_problem(target_with("auth:\n  type: basic\n  username: svc\n"), 5, 3,
                     "auth.password is required");
  expect_one_problem(target_with("auth:\n  type: basic\n  username: 'a:b'\n  password: pw\n"), 6,
                     13, "auth.username may not contain ':'");
  expect_one_problem(
      target_with("auth:\n  type: basic\n  username: svc\n  password: pw\n  header: X\n"), 8, 3,
      "unknown key 'auth.header' in webhook target 'hook'");
}

TEST(WebhookAuthConfig, ApiKeyHeaderIsCheckedAgainstOtherHeaders) {
  expect_one_problem(target_with("auth:\n  type: api_key\n  value: k\n"), 5, 3,
                     "auth.header is required");
  expect_one_problem(target_with("auth:\n  type: api_key\n  header: X-Key\n"), 5, 3,
                     "auth.value is required");
  expect_one_problem(target_with("auth:\n  type: api_key\n  header: 'X Key'\n  value: k\n"), 6, 11,
                     "auth.header 'X Key' is not a valid token");
  expect_one_problem(
      target_with("auth:\n  type: api_key\n  header: x-eventrouter-rule\n  value: k\n"), 6, 11,
      "is set by eventrouter and cannot be configured");
  expect_one_problem(target_with("auth:\n  type: api_key\n  header: User-Agent\n  value: k\n"), 6,
                     11, "is set by eventrouter");
  expect_one_problem(target_with("auth:\n  type: api_key\n  header: X-Api-Key\n  value: k\n",
                                 "headers: {x-api-key: other}\n"),
                     7, 11, "auth.header 'X-Api-Key' is also in headers; set it in one place");
}

TEST(WebhookAuthConfig, OAuthNeedsItsFieldsAndAnHttpTokenUrl) {
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n  client_id: er\n"
                                 "  client_secret: s\n"),
                     5, 3, "auth.token_url is required");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: ftp://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n"),
                     6, 14, "auth.token_url: url must start with http:// or https://");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_secret: s\n"),
                     5, 3, "auth.client_id is required");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: ''\n"),
                     8, 18, "auth.client_secret is empty");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n  parameters: {client_id: x}\n"),
                     9, 15, "auth.parameters.client_id is set by eventrouter");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: http://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n  tls: {verify: false}\n"),
                     9, 8, "auth.tls options need an https:// token_url");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n  tls: {ca_file: /nonexistent}\n"),
                     9, 18, "auth.tls.ca_file /nonexistent cannot be read");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n  timeout: 1ms\n"),
                     9, 12, "auth.timeout must be between 10ms and 300s");
  expect_one_problem(target_with("auth:\n  type: oauth_client_credentials\n"
                                 "  token_url: https://login.example.com/t\n  client_id: er\n"
                                 "  client_secret: s\n  scop: x\n"),
                     9, 3,
                     "unknown key 'auth.scop' in webhook target 'hook'; did you mean "
                     "'auth.scope'?");
}

TEST(WebhookAuthConfig, AuthorizationInHeadersConflictsWithAuth) {
  expect_one_problem(target_with("auth: {type: basic, username: svc, password: pw}\n",
                                 "headers: {Authorization: 'Bearer x'}\n"),
                     4, 10, "headers.Authorization conflicts with auth");
  expect_one_problem(
      target_with("auth: {type: oauth_client_credentials, token_url: 'https://l.example/t', "
                  "client_id: er, client_secret: s}\n",
                  "headers: {authorization: 'Bearer x'}\n"),
      4, 10, "headers.Authorization conflicts with auth");
}

TEST(WebhookAuthConfig, SecretsNeverAppearInMessages) {
  const std::string all =
      messages(check(target_with(
          "auth: {type: basic, username: 'TOPSECRET1:x', password: \"TOPSECRET2\\r\\n\"}\n"))) +
      messages(
          check(target_with("auth: {type: api_key, header: X-Key, value: \"TOPSECRET3\\n\"}\n"))) +
      messages(
          check(target_with("auth: {type: oauth_client_credentials, token_url: "
                            "'https://l.example/t?k=TOPSECRET4', client_id: er, client_secret: "
                            "TOPSECRET5, bogus: 1}\n")));
  EXPECT_NE(all.find("line break"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'auth.bogus'"), std::string::npos) << all;
  EXPECT_EQ(all.find("TOPSECRET"), std::string::npos) << all;
}

TEST(WebhookAuthHeaders, BasicIsBase64OfUserColonPassword) {
  EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_authorization("a", ""), "Basic YTo=");
  const WebhookConfig config =
      read(target_with("auth: {type: basic, username: svc, password: 'p@ss:w'}\n"));
  ASSERT_TRUE(config.auth);
  EXPECT_EQ(config.auth->header_name, "Authorization");
  EXPECT_EQ(config.auth->header_value, basic_authorization("svc", "p@ss:w"));
}

TEST(WebhookAuthHeaders, ApiKeyIsTheNamedHeader) {
  const WebhookConfig config =
      read(target_with("auth: {type: api_key, header: X-Api-Key, value: k3y}\n"));
  ASSERT_TRUE(config.auth);
  EXPECT_EQ(config.auth->type, WebhookAuthType::kApiKey);
  EXPECT_EQ(config.auth->header_name, "X-Api-Key");
  EXPECT_EQ(config.auth->header_value, "k3y");
}

TEST(WebhookAuthHeaders, TokenRequestBodyIsFormEncoded) {
  const WebhookConfig config = read(target_with(
      "auth: {type: oauth_client_credentials, token_url: 'https://l.example:8443/oauth2/token?a=b',"
      " client_id: 'er app', client_secret: 's&c=r+t', scope: 'api://t/.default', parameters: "
      "{audience: tickets}}\n"));
  ASSERT_TRUE(config.auth);
  EXPECT_EQ(config.auth->type, WebhookAuthType::kOAuthClientCredentials);
  EXPECT_EQ(config.auth->header_name, "");
  EXPECT_EQ(token_request_body(config.auth->oauth),
            "grant_type=client_credentials&client_id=er%20app&client_secret=s%26c%3Dr%2Bt"
            "&scope=api%3A%2F%2Ft%2F.default&audience=tickets");
  EXPECT_EQ(config.auth->oauth.endpoint_name(), "https://l.example:8443/oauth2/token");
  EXPECT_EQ(config.auth->oauth.timeout, std::chrono::seconds(10));
}

constexpr const char* kEndpoint = "https://l.example/token";

TEST(TokenResponse, AGrantedTokenIsRead) {
  auto token = parse_token_response(
      200, R"({"access_token":"abc.def","token_type":"Bearer","expires_in":3600})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->value, "abc.def");
  EXPECT_EQ(token->expires_in, std::chrono::seconds(3600));
  token =
      parse_token_response(200, R"({"access_token":"t","token_type":"bearer"})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_FALSE(token->expires_in);
  token = parse_token_response(200, R"({"access_token":"t","expires_in":"120"})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(120));
  token = parse_token_response(200, R"({"access_token":"t","expires_in":59.9})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(59));
  token = parse_token_response(200, R"({"access_token":"t","expires_in":-5})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(0));
  token = parse_token_response(200, R"({"access_token":"t","expires_in":1e300})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(366LL * 24 * 3600));
  token = parse_token_response(200, R"({"access_token":"t","expires_in":"soon"})", kEndpoint, "s");
  ASSERT_TRUE(token);
  EXPECT_FALSE(token->expires_in);
}

TEST(TokenResponse, FailuresAreClassifiedAndNameTheEndpointAndError) {
  auto token = parse_token_response(
      401, R"({"error":"invalid_client","error_description":"bad secret TOPSECRET\r\nX"})",
      kEndpoint, "TOPSECRET");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kPermanent);
  EXPECT_EQ(token.error().error_message,
            "token endpoint https://l.example/token answered HTTP 401: invalid_client (bad "
            "secret ***??X)");
  token = parse_token_response(503, "busy", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kRetryable);
  EXPECT_EQ(token.error().error_message,
            "token endpoint https://l.example/token answered HTTP 503");
  token = parse_token_response(429, "{}", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().error_code, ErrorCode::kThrottling);
  token = parse_token_response(400, std::string(R"({"error":")") + std::string(5000, 'x') + "\"}",
                               kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kPermanent);
  EXPECT_LT(token.error().error_message.size(), 300u);
}

TEST(TokenResponse, UnusableTokensAreRefused) {
  auto token = parse_token_response(200, "<html>proxy</html>", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kRetryable);
  token = parse_token_response(200, R"({"token_type":"Bearer"})", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().error_message.find("without an access_token"), std::string::npos);
  token = parse_token_response(200, R"({"access_token":"t","token_type":"mac"})", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kPermanent);
  EXPECT_NE(token.error().error_message.find("only Bearer"), std::string::npos);
  token = parse_token_response(200, R"({"access_token":"a\r\nX-Evil: 1"})", kEndpoint, "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().error_message.find("X-Evil"), std::string::npos);
  token = parse_token_response(
      200, R"({"access_token":")" + std::string(kMaxAccessTokenBytes + 1, 'a') + "\"}", kEndpoint,
      "s");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().outcome, Outcome::kPermanent);
}

TEST(TokenResponse, RefreshMarginIsThirtySecondsOrATenth) {
  EXPECT_EQ(token_refresh_margin(std::chrono::seconds(3600)), std::chrono::seconds(30));
  EXPECT_EQ(token_refresh_margin(std::chrono::seconds(100)), std::chrono::seconds(10));
  EXPECT_EQ(token_refresh_margin(std::chrono::seconds(2)), std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace eventrouter::targets
