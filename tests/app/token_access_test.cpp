// Which requests a scoped token may make: the real Router with a real tokens file, driven with
// requests in memory (no socket: the decision is made from the headers and, for PutEvents,
// the entries).
#include <gtest/gtest.h>

#include <future>

#include "../../src/app/tokens.hpp"
#include "eventrouter/server/router.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::app {
namespace {

namespace http = server::http;
using server::Request;
using server::Response;
using server::Route;

constexpr std::string_view kTokens =
    "ingester role=ingest buses=default,scanners\n"
    "reader role=read\n"
    "operator role=admin\n"
    "everything\n"
    "tester role=ingest,read\n";

class TokenAccessTest : public ::testing::Test {
 protected:
  TokenAccessTest()
      : tokens_(TokenList::load(dir_.write("tokens", kTokens))), router_(services()) {}

  server::RouterServices services() {
    server::RouterServices services;
    services.auth_required = true;
    services.token_access = [this](std::string_view token) { return tokens_.find(token); };
    services.metrics = &metrics_;
    return services;
  }

  static Request request(http::verb method, std::string target, std::string_view token,
                         std::string body = "") {
    Request request{method, target, 11};
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
  }

  // The header-only decision: 0 when the body would be read.
  unsigned status_before_body(http::verb method, std::string target, std::string_view token) {
    const auto refusal = router_.precheck(request(method, std::move(target), token));
    return refusal ? refusal->result_int() : 0;
  }

  Response answer(Request request) {
    std::promise<Response> promise;
    router_.handle(std::move(request), [&](Response response) { promise.set_value(response); });
    return promise.get_future().get();
  }

  Response put_events(std::string_view token, std::string entries) {
    auto put = request(http::verb::post, "/", token, R"j({"Entries":)j" + entries + "}");
    put.set("X-Amz-Target", "AWSEvents.PutEvents");
    put.set(http::field::content_type, "application/x-amz-json-1.1");
    return answer(std::move(put));
  }

  testing::TempDir dir_;
  metrics::Registry metrics_;
  TokenList tokens_;
  server::Router router_;
};

TEST_F(TokenAccessTest, EachRoleReachesItsRoutesOnly) {
  const auto get = http::verb::get, post = http::verb::post;
  for (const auto* token : {"ingester", "tester", "everything", "operator"}) {
    EXPECT_EQ(status_before_body(post, "/events", token), 0u) << token;
    EXPECT_EQ(status_before_body(post, "/buses/scanners/events", token), 0u) << token;
  }
  for (const auto* token : {"reader", "tester", "everything", "operator"}) {
    EXPECT_EQ(status_before_body(get, "/rules", token), 0u) << token;
    EXPECT_EQ(status_before_body(get, "/metrics", token), 0u) << token;
    EXPECT_EQ(status_before_body(http::verb::head, "/metrics", token), 0u) << token;
  }
  for (const auto* token : {"ingester", "reader", "tester", "everything", "operator"})
    EXPECT_EQ(status_before_body(post, "/test-event-pattern", token), 0u) << token;
  for (const auto* token : {"everything", "operator"}) {
    EXPECT_EQ(status_before_body(post, "/replays", token), 0u) << token;
    EXPECT_EQ(status_before_body(post, "/dead-letters/redrive", token), 0u) << token;
  }

  EXPECT_EQ(status_before_body(post, "/events", "reader"), 403u);
  EXPECT_EQ(status_before_body(get, "/rules", "ingester"), 403u);
  EXPECT_EQ(status_before_body(get, "/metrics", "ingester"), 403u);
  for (const auto* token : {"ingester", "reader", "tester"}) {
    EXPECT_EQ(status_before_body(post, "/replays", token), 403u) << token;
    EXPECT_EQ(status_before_body(post, "/dead-letters/redrive", token), 403u) << token;
  }
  // Health and readiness stay open; a missing or unknown token is 401, not 403.
  EXPECT_EQ(status_before_body(get, "/healthz", ""), 0u);
  EXPECT_EQ(status_before_body(get, "/readyz", ""), 0u);
  EXPECT_EQ(status_before_body(post, "/events", ""), 401u);
  EXPECT_EQ(status_before_body(post, "/events", "nobody"), 401u);
}

TEST_F(TokenAccessTest, ADenialSaysWhatTheTokenLacksAndNeverTheToken) {
  const auto replay = answer(request(http::verb::post, "/replays", "ingester", "{}"));
  EXPECT_EQ(replay.result_int(), 403u);
  EXPECT_EQ(replay.body(),
            R"j({"__type":"AccessDeniedException","message":"this token may not start replays: )j"
            R"j(it needs role admin"})j");
  const auto rules = answer(request(http::verb::get, "/rules", "ingester"));
  EXPECT_EQ(rules.body(),
            R"j({"__type":"AccessDeniedException","message":"this token may not read the rules: )j"
            R"j(it needs role read (or admin)"})j");
  const auto post = answer(request(http::verb::post, "/events", "reader", "{}"));
  EXPECT_EQ(post.body(),
            R"j({"__type":"AccessDeniedException","message":"this token may not post events: )j"
            R"j(it needs role ingest (or admin)"})j");
  const auto bus = answer(request(http::verb::post, "/buses/payments/events", "ingester", "{}"));
  EXPECT_EQ(bus.result_int(), 403u);
  EXPECT_EQ(bus.body(),
            R"j({"__type":"AccessDeniedException","message":"this token may not post to bus )j"
            R"j('payments' (it may post to: default, scanners)"})j");
  for (const auto& response : {replay, rules, post, bus})
    EXPECT_EQ(response.body().find("ingester"), std::string::npos);
}

TEST_F(TokenAccessTest, PutEventsRefusesOnlyTheEntriesForOtherBuses) {
  const auto response = put_events("ingester", R"j([
      {"Source":"s","DetailType":"d","Detail":"{}","EventBusName":"scanners"},
      {"Source":"s","DetailType":"d","Detail":"{}","EventBusName":"payments"},
      {"Source":"s","DetailType":"d","Detail":"{}"}])j");
  ASSERT_EQ(response.result_int(), 200u) << response.body();
  const auto& body = response.body();
  EXPECT_NE(body.find(R"j("FailedEntryCount":1)j"), std::string::npos) << body;
  EXPECT_NE(body.find(R"j({"ErrorCode":"AccessDeniedException","ErrorMessage":"this token may )j"
                      R"j(not post to bus 'payments' (it may post to: default, scanners)"})j"),
            std::string::npos)
      << body;
  // An admin token posts anywhere; a read token may not call PutEvents at all.
  const auto admin = put_events(
      "operator", R"j([{"Source":"s","DetailType":"d","Detail":"{}","EventBusName":"payments"}])j");
  EXPECT_NE(admin.body().find(R"j("FailedEntryCount":0)j"), std::string::npos) << admin.body();
  const auto reader = put_events("reader", R"j([{"Source":"s","DetailType":"d","Detail":"{}"}])j");
  EXPECT_EQ(reader.result_int(), 403u);
  EXPECT_EQ(reader[http::field::content_type], "application/x-amz-json-1.1");
  EXPECT_EQ(reader["x-amzn-ErrorType"], "AccessDeniedException");
}

TEST_F(TokenAccessTest, TestEventPatternOnTheAwsApiTakesReadOrIngest) {
  for (const auto* token : {"reader", "ingester"}) {
    auto test = request(http::verb::post, "/", token, "{}");
    test.set("X-Amz-Target", "AWSEvents.TestEventPattern");
    EXPECT_EQ(router_.precheck(test), std::nullopt) << token;
  }
}

TEST_F(TokenAccessTest, DenialsAreCountedByReason) {
  answer(request(http::verb::post, "/replays", "reader", "{}"));
  answer(request(http::verb::post, "/buses/payments/events", "ingester", "{}"));
  answer(request(http::verb::post, "/buses/other/events", "ingester", "{}"));
  const auto text = metrics_.render();
  EXPECT_NE(text.find(R"j(eventrouter_http_requests_denied_total{reason="role"} 1)j"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"j(eventrouter_http_requests_denied_total{reason="bus"} 2)j"),
            std::string::npos)
      << text;
}

TEST(RoleDenial, NamesEveryRoleThatWouldDo) {
  server::Access read_only;
  read_only.roles = static_cast<std::uint8_t>(server::Role::kRead);
  const std::uint8_t ingest_or_read = static_cast<std::uint8_t>(server::Role::kIngest) |
                                      static_cast<std::uint8_t>(server::Role::kRead);
  EXPECT_EQ(server::role_denial(read_only, {ingest_or_read, "test event patterns"}), std::nullopt);
  server::Access none;
  none.roles = 0;
  EXPECT_EQ(*server::role_denial(none, {ingest_or_read, "test event patterns"}),
            "this token may not test event patterns: it needs role ingest or read (or admin)");
}

}  // namespace
}  // namespace eventrouter::app
