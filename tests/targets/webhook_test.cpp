// webhook against a real HTTP(S) server on loopback (tests/targets/peers/http_peer.py).

#include "eventrouter/targets/webhook.hpp"

#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "eventrouter/net/hmac.hpp"
#include "eventrouter/targets/queue_file.hpp"
#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using testing::TempDir;

struct Request {
  std::string method, path, body;
  std::map<std::string, std::string> headers;
  std::int64_t client_port = 0;
  std::int64_t in_flight = 0;  // requests the peer was handling when this one came, itself too
  double time = 0;             // when it came, in seconds since the epoch
};

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    targets_.clear();
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }

  void start_peer(bool tls = false) {
    std::vector<std::string> argv = {
        "/usr/bin/python3", (testing::peers_dir / "http_peer.py").string(), "--log", log_.string()};
    if (tls) {
      testing::make_test_ca(dir_.path());
      argv.insert(argv.end(), {"--cert", (dir_ / "server.pem").string(), "--key",
                               (dir_ / "server.key").string()});
    }
    peer_ = std::make_unique<testing::Peer>(argv);
  }

  std::string url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(peer_->port()) +
           path;
  }

  Target& make(const std::string& yaml) {
    TargetContext context{io_, testing::unread_metrics()};
    targets_.push_back(make_target(testing::spec_from_yaml(yaml), context));
    return *targets_.back();
  }

  DeliveryResult post(const std::string& path, const std::string& extra = "") {
    Target& target = make("{id: hook, type: webhook, url: '" + url(path) + "'" + extra + "}");
    return testing::deliver_and_wait(target, testing::invocation("{\"k\":1}"));
  }

  std::vector<Request> requests() {
    std::vector<Request> out;
    simdjson::dom::parser parser;
    for (const auto& line : testing::read_lines(log_)) {
      simdjson::dom::element record;
      if (parser.parse(line).get(record)) continue;
      Request request;
      request.method = std::string(record["method"].get_string().value());
      request.path = std::string(record["path"].get_string().value());
      request.body = std::string(record["body"].get_string().value());
      request.client_port = record["client_port"].get_int64().value();
      request.in_flight = record["in_flight"].get_int64().value();
      request.time = record["time"].get_double().value();
      simdjson::dom::object headers = record["headers"].get_object().value();
      for (auto field : headers) {
        request.headers[std::string(field.key)] = std::string(field.value.get_string().value());
      }
      out.push_back(std::move(request));
    }
    return out;
  }

  TempDir dir_;
  std::filesystem::path log_ = dir_ / "requests.jsonl";
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::vector<std::thread> threads_;
  std::unique_ptr<testing::Peer> peer_;
  std::vector<std::unique_ptr<Target>> targets_;
};

TEST_F(WebhookTest, SendsMethodHeadersBodyAndSignature) {
  start_peer();
  Target& target = make("{id: hook, type: webhook, url: '" + url("/hooks/in?x=1") +
                        "', method: PUT, hmac_secret: s3cret, headers: {Authorization: "
                        "'Bearer abc', X-Team: secops}}");
  Invocation call = testing::invocation("{\"finding\":\"exfil\"}", "evt-7");
  call.attempt = 2;
  const DeliveryResult result = testing::deliver_and_wait(target, call);
  ASSERT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  const auto seen = requests();
  ASSERT_EQ(seen.size(), 1u);
  const Request& request = seen[0];
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.path, "/hooks/in");
  EXPECT_EQ(request.body, "{\"finding\":\"exfil\"}");
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.at("authorization"), "Bearer abc");
  EXPECT_EQ(request.headers.at("x-team"), "secops");
  EXPECT_EQ(request.headers.at("x-eventrouter-event-id"), "evt-7");
  EXPECT_EQ(request.headers.at("x-eventrouter-attempt"), "2");
  EXPECT_EQ(request.headers.at("host"), "127.0.0.1:" + std::to_string(peer_->port()));
  // The receiver's check: HMAC-SHA256(secret, timestamp "." body), and a fresh timestamp.
  const std::string timestamp = request.headers.at("x-eventrouter-timestamp");
  EXPECT_EQ(request.headers.at("x-eventrouter-signature"),
            "v1=" + net::hmac_sha256_hex("s3cret", timestamp + "." + request.body));
  EXPECT_LE(std::abs(std::stoll(timestamp) - static_cast<long long>(std::time(nullptr))), 5);
}

TEST_F(WebhookTest, PlainTextPayloadsAreSentAsText) {
  start_peer();
  Target& target = make("{id: hook, type: webhook, url: '" + url("/") + "'}");
  ASSERT_EQ(
      testing::deliver_and_wait(target, testing::invocation("instance i-1 is RUNNING")).outcome,
      Outcome::kSuccess);
  EXPECT_EQ(requests().at(0).headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(requests().at(0).headers.count("x-eventrouter-signature"), 0u);
}

TEST_F(WebhookTest, StatusCodesAreClassified) {
  start_peer();
  EXPECT_EQ(post("/status/200").outcome, Outcome::kSuccess);
  EXPECT_EQ(post("/status/204").outcome, Outcome::kSuccess);
  for (int status : {400, 403, 404, 301}) {
    const DeliveryResult result = post("/status/" + std::to_string(status));
    EXPECT_EQ(result.outcome, Outcome::kPermanent) << status;
    EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget) << status;
    EXPECT_NE(result.error_message.find("HTTP " + std::to_string(status)), std::string::npos);
  }
  for (int status : {500, 502, 503, 408, 409, 401}) {
    const DeliveryResult result = post("/status/" + std::to_string(status));
    EXPECT_EQ(result.outcome, Outcome::kRetryable) << status;
    EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget) << status;
  }
  DeliveryResult throttled = post("/status/429?retry_after=7");
  EXPECT_EQ(throttled.outcome, Outcome::kRetryable);
  EXPECT_EQ(throttled.error_code, targets::ErrorCode::kThrottling);
  ASSERT_TRUE(throttled.retry_after.has_value());
  EXPECT_EQ(throttled.retry_after->count(), 7);
  DeliveryResult unavailable =
      post("/status/503?retry_after=Wed,%2021%20Oct%202099%2007:28:00%20GMT");
  ASSERT_TRUE(unavailable.retry_after.has_value());
  EXPECT_EQ(unavailable.retry_after->count(), 86400) << "HTTP-dates are honoured, capped at a day";
}

TEST_F(WebhookTest, ConnectionRefusedIsAConnectionFailure) {
  // A port that was just free: bind, note it, close.
  boost::asio::ip::tcp::acceptor acceptor(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  acceptor.close();
  Target& target =
      make("{id: hook, type: webhook, url: 'http://127.0.0.1:" + std::to_string(port) + "/'}");
  const DeliveryResult result = testing::deliver_and_wait(target, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kConnectionFailure);
}

TEST_F(WebhookTest, AHangingPeerTimesOutWithoutDelayingOtherTargets) {
  start_peer();
  Target& hanging = make("{id: slow, type: webhook, timeout: 800ms, url: '" + url("/hang") + "'}");
  Target& file = make("{id: q, type: queue_file, path: " + (dir_ / "q.jsonl").string() + "}");
  Target& fast = make("{id: fast, type: webhook, url: '" + url("/ok") + "'}");

  const auto start = std::chrono::steady_clock::now();
  testing::Waiter slow_done;
  hanging.deliver(testing::invocation("{}"), slow_done.completion());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50))
      << "deliver must not block";
  EXPECT_EQ(testing::deliver_and_wait(file, testing::invocation("{}")).outcome, Outcome::kSuccess);
  EXPECT_EQ(testing::deliver_and_wait(fast, testing::invocation("{}")).outcome, Outcome::kSuccess);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));

  const DeliveryResult result = slow_done.wait();
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kTimeout);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(750));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(WebhookTest, ReusesConnectionsAndRecoversWhenThePeerClosesThem) {
  start_peer();
  Target& target = make("{id: hook, type: webhook, url: '" + url("/ok") + "'}");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(testing::deliver_and_wait(target, testing::invocation("{}")).outcome,
              Outcome::kSuccess);
  }
  auto seen = requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].client_port, seen[1].client_port);
  EXPECT_EQ(seen[1].client_port, seen[2].client_port);

  Target& closing = make("{id: closing, type: webhook, url: '" + url("/close") + "'}");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(testing::deliver_and_wait(closing, testing::invocation("{}")).outcome,
              Outcome::kSuccess);
  }
  seen = requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_NE(seen[3].client_port, seen[4].client_port);
}

TEST_F(WebhookTest, RateLimitDelaysInsteadOfFailing) {
  start_peer();
  Target& target =
      make("{id: hook, type: webhook, rate_limit_per_second: 5, url: '" + url("/ok") + "'}");
  std::vector<testing::Waiter> waiters(10);
  const auto start = std::chrono::steady_clock::now();
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  for (auto& waiter : waiters) EXPECT_EQ(waiter.wait().outcome, Outcome::kSuccess);
  // A full bucket of 5 goes at once; the other 5 follow at 5 a second.
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(4));
}

TEST_F(WebhookTest, HttpsWithATestCa) {
  start_peer(true);
  const std::string port = std::to_string(peer_->port());
  const std::string ca = (dir_ / "ca.pem").string();
  Target& trusted = make("{id: tls, type: webhook, url: 'https://localhost:" + port +
                         "/secure', tls: {ca_file: " + ca + "}}");
  const DeliveryResult ok = testing::deliver_and_wait(trusted, testing::invocation("{\"a\":1}"));
  EXPECT_EQ(ok.outcome, Outcome::kSuccess) << ok.error_message;
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].body, "{\"a\":1}");

  // The system store does not know the test CA: verification fails, nothing is sent.
  Target& untrusted = make("{id: tls2, type: webhook, url: 'https://localhost:" + port + "/'}");
  const DeliveryResult refused = testing::deliver_and_wait(untrusted, testing::invocation("{}"));
  EXPECT_EQ(refused.outcome, Outcome::kRetryable);
  EXPECT_EQ(refused.error_code, targets::ErrorCode::kConnectionFailure);
  EXPECT_NE(refused.error_message.find("TLS"), std::string::npos) << refused.error_message;

  // The certificate names only "localhost": reaching the same server as 127.0.0.1 must fail.
  Target& wrong_name = make("{id: tls3, type: webhook, url: 'https://127.0.0.1:" + port +
                            "/', tls: {ca_file: " + ca + "}}");
  const DeliveryResult mismatch = testing::deliver_and_wait(wrong_name, testing::invocation("{}"));
  EXPECT_EQ(mismatch.error_code, targets::ErrorCode::kConnectionFailure);
  EXPECT_NE(mismatch.error_message.find("TLS"), std::string::npos) << mismatch.error_message;

  // verify: false is an explicit opt-out.
  Target& unverified = make("{id: tls4, type: webhook, url: 'https://127.0.0.1:" + port +
                            "/', tls: {verify: false}}");
  EXPECT_EQ(testing::deliver_and_wait(unverified, testing::invocation("{}")).outcome,
            Outcome::kSuccess);
  EXPECT_EQ(requests().size(), 2u);
}

TEST_F(WebhookTest, ShutdownAbortsInFlightRequestsAsRetryable) {
  start_peer();
  Target& target = make("{id: hook, type: webhook, timeout: 30s, url: '" + url("/hang") + "'}");
  testing::Waiter waiter;
  target.deliver(testing::invocation("{}"), waiter.completion());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  target.shutdown(std::chrono::milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  const DeliveryResult result = waiter.wait(std::chrono::seconds(5));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(testing::deliver_and_wait(target, testing::invocation("{}")).outcome,
            Outcome::kRetryable);
}

TEST_F(WebhookTest, ASlowReceiverGetsAtMostMaxConcurrencyRequestsOnReusedConnections) {
  start_peer();
  Target& target =
      make("{id: hook, type: webhook, max_concurrency: 3, url: '" + url("/slow/150") + "'}");
  std::vector<testing::Waiter> waiters(15);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  for (auto& waiter : waiters) {
    const DeliveryResult result = waiter.wait();
    EXPECT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  }
  const auto seen = requests();
  ASSERT_EQ(seen.size(), waiters.size());
  std::int64_t peak = 0;
  std::set<std::int64_t> connections;
  for (const auto& request : seen) {
    peak = std::max(peak, request.in_flight);
    connections.insert(request.client_port);
  }
  EXPECT_LE(peak, 3) << "more requests at once than max_concurrency";
  EXPECT_GE(peak, 2) << "the slots were not used in parallel";
  EXPECT_LE(connections.size(), 3u) << "connections were not kept and reused";
}

TEST_F(WebhookTest, AHangingReceiverHoldsItsSlotsOnlyUntilTheTimeout) {
  start_peer();
  // The first two requests hang (the receiver hangs on their body, whenever they reach it); the
  // three queued behind them get their slots when those time out, and are answered.
  Target& target = make("{id: hook, type: webhook, max_concurrency: 2, timeout: 300ms, url: '" +
                        url("/hang_marked") + "'}");
  const double sent_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<testing::Waiter> waiters(5);
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    target.deliver(testing::invocation(i < 2 ? R"({"hang":true})" : "{}"), waiters[i].completion());
  }
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    const DeliveryResult result = waiters[i].wait();
    if (i < 2) {
      EXPECT_EQ(result.outcome, Outcome::kRetryable) << i;
      EXPECT_EQ(result.error_code, targets::ErrorCode::kTimeout) << i;
    } else {
      EXPECT_EQ(result.outcome, Outcome::kSuccess) << i << ": " << result.error_message;
    }
  }
  // The queued deliveries sent nothing while both slots were taken by the hanging requests.
  // (The hanging ones themselves may reach the receiver late, or not at all, on a busy machine.)
  std::vector<Request> answered;
  for (const auto& request : requests()) {
    if (request.body == "{}") answered.push_back(request);
  }
  ASSERT_EQ(answered.size(), 3u);
  for (const auto& request : answered) EXPECT_GE(request.time, sent_at + 0.25);
}

TEST_F(WebhookTest, ShutdownCompletesQueuedDeliveriesOnceEach) {
  start_peer();
  Target& target = make("{id: hook, type: webhook, max_concurrency: 1, timeout: 30s, url: '" +
                        url("/hang") + "'}");
  std::vector<testing::Waiter> waiters(4);
  for (auto& waiter : waiters) target.deliver(testing::invocation("{}"), waiter.completion());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  target.shutdown(std::chrono::milliseconds(200));
  // Each Waiter fails the test if its completion runs twice.
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    const DeliveryResult result = waiters[i].wait(std::chrono::seconds(5));
    EXPECT_EQ(result.outcome, Outcome::kRetryable) << i;
    EXPECT_EQ(result.error_code, targets::ErrorCode::kInternalError) << i;
    if (i > 0) {
      EXPECT_NE(result.error_message.find("not started"), std::string::npos) << i;
    }
  }
  EXPECT_EQ(requests().size(), 1u) << "queued deliveries must not reach the receiver";
}

// An OAuth webhook whose token endpoint is `token_url` and whose receiver is the peer's /in.
std::string oauth_hook(const std::string& receiver, const std::string& token_url,
                       const std::string& extra = "") {
  return "{id: hook, type: webhook, url: '" + receiver +
         "', auth: {type: oauth_client_credentials, token_url: '" + token_url +
         "', client_id: er, client_secret: TOPSECRET" + extra + "}}";
}

TEST_F(WebhookTest, AnUnreachableTokenEndpointIsRetryableAndNamed) {
  start_peer();
  boost::asio::ip::tcp::acceptor acceptor(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string token_url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/oauth2/token";
  acceptor.close();
  Target& target = make(oauth_hook(url("/in"), token_url + "?tenant=TOPSECRET"));
  const DeliveryResult result = testing::deliver_and_wait(target, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, ErrorCode::kConnectionFailure);
  EXPECT_NE(result.error_message.find("token endpoint " + token_url + ": request failed"),
            std::string::npos)
      << result.error_message;
  EXPECT_EQ(result.error_message.find("TOPSECRET"), std::string::npos) << result.error_message;
  EXPECT_TRUE(requests().empty());  // nothing reached the webhook without a token
}

TEST_F(WebhookTest, TokenEndpointAnswersThatAreNoTokenAreRetryable) {
  start_peer();
  Target& busy = make(oauth_hook(url("/in"), url("/status/503")));
  DeliveryResult result = testing::deliver_and_wait(busy, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_NE(
      result.error_message.find("token endpoint " + url("/status/503") + " answered HTTP 503"),
      std::string::npos)
      << result.error_message;
  // A 200 that is not JSON (a proxy's page, here the peer's text).
  Target& text = make(oauth_hook(url("/in"), url("/text")));
  result = testing::deliver_and_wait(text, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_NE(result.error_message.find("without a JSON object"), std::string::npos)
      << result.error_message;
  const auto seen = requests();
  ASSERT_EQ(seen.size(), 2u);  // the two token requests, and no webhook request
  EXPECT_EQ(seen[0].headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(seen[0].body, "grant_type=client_credentials&client_id=er&client_secret=TOPSECRET");
}

TEST_F(WebhookTest, AnHttpsTokenEndpointIsVerifiedAgainstAuthTlsCaFile) {
  start_peer(true);
  const std::string token_url = "https://localhost:" + std::to_string(peer_->port()) + "/token";
  const std::string ca = (dir_ / "ca.pem").string();
  // The peer's answer is text, not a token: reaching that complaint means TLS was accepted.
  Target& trusted =
      make(oauth_hook("http://127.0.0.1:9/", token_url, ", tls: {ca_file: " + ca + "}"));
  DeliveryResult result = testing::deliver_and_wait(trusted, testing::invocation("{}"));
  EXPECT_NE(result.error_message.find("without a JSON object"), std::string::npos)
      << result.error_message;
  EXPECT_EQ(requests().size(), 1u);
  // The system store does not know the test CA: the secret is never sent.
  Target& untrusted = make(oauth_hook("http://127.0.0.1:9/", token_url));
  result = testing::deliver_and_wait(untrusted, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, ErrorCode::kConnectionFailure);
  EXPECT_NE(result.error_message.find("token endpoint " + token_url + ": request failed"),
            std::string::npos)
      << result.error_message;
  EXPECT_EQ(requests().size(), 1u);
  Target& unverified = make(oauth_hook("http://127.0.0.1:9/", token_url, ", tls: {verify: false}"));
  result = testing::deliver_and_wait(unverified, testing::invocation("{}"));
  EXPECT_NE(result.error_message.find("without a JSON object"), std::string::npos)
      << result.error_message;
}

TEST_F(WebhookTest, ShutdownEndsADeliveryWaitingForAToken) {
  start_peer();
  Target& target = make(oauth_hook(url("/in"), url("/hang"), ", timeout: 30s"));
  testing::Waiter waiter;
  target.deliver(testing::invocation("{}"), waiter.completion());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  target.shutdown(std::chrono::milliseconds(200));
  const DeliveryResult result = waiter.wait(std::chrono::seconds(5));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  targets_.clear();  // joins the fetch thread, whose transfer the shutdown aborted
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(WebhookUnits, MaxConcurrencyDefaultsTo16) {
  std::vector<config::Diagnostic> problems;
  auto limits = read_target_limits(
      testing::spec_from_yaml("{id: a, type: webhook, url: 'http://x.example/'}"),
      webhook_target_type().limits, problems);
  ASSERT_TRUE(limits.has_value());
  EXPECT_EQ(limits->max_concurrency, 16);
  EXPECT_FALSE(limits->rate_limit_per_second.has_value());
  limits =
      read_target_limits(testing::spec_from_yaml("{id: a, type: webhook, url: 'http://x.example/', "
                                                 "max_concurrency: 256}"),
                         webhook_target_type().limits, problems);
  ASSERT_TRUE(limits.has_value());
  EXPECT_EQ(limits->max_concurrency, 256);
  EXPECT_TRUE(problems.empty());
}

TEST(WebhookUnits, RetryAfterParsing) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  EXPECT_EQ(parse_retry_after("120", now)->count(), 120);
  EXPECT_EQ(parse_retry_after(" 0 ", now)->count(), 0);
  EXPECT_EQ(parse_retry_after("999999", now)->count(), 86400);
  EXPECT_FALSE(parse_retry_after("-1", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now)->count(), 60);
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now)->count(), 0);
}

TEST(WebhookUnits, SignatureIsHmacSha256OfTimestampDotBody) {
  // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
  EXPECT_EQ(net::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing", "?"),
            "v1=" + net::hmac_sha256_hex("Jefe", "what do ya want for nothing.?"));
}

}  // namespace
}  // namespace eventrouter::targets
