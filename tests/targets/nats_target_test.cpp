// nats against a real nats-server on loopback (core NATS and JetStream).

#include "eventrouter/targets/nats.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>

#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

extern char** environ;

namespace eventrouter::targets {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// A nats-server of its own on a random loopback port, killed at the end of the test. (Private
// until the shared tests/support fixture lands.)
class NatsServer {
 public:
  explicit NatsServer(bool jetstream) {
    std::vector<std::string> args = {"nats-server", "-a", "127.0.0.1",
                                     "-p",          "-1", "--ports_file_dir",
                                     dir_.path(),   "-l", (dir_ / "server.log").string()};
    if (jetstream) args.insert(args.end(), {"-js", "-sd", (dir_ / "js").string()});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (::posix_spawnp(&pid_, "nats-server", nullptr, nullptr, argv.data(), environ) != 0) {
      ADD_FAILURE() << "cannot start nats-server";
      return;
    }
    // The server writes the ports file once it accepts clients.
    for (auto deadline = std::chrono::steady_clock::now() + 15s;
         url_.empty() && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(20ms)) {
      for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
        if (entry.path().extension() != ".ports") continue;
        const std::string text = testing::read_file(entry.path());
        const auto at = text.find("nats://");
        if (at != std::string::npos) url_ = text.substr(at, text.find('"', at) - at);
      }
    }
    if (url_.empty()) ADD_FAILURE() << "nats-server did not write its ports file";
  }

  ~NatsServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  const std::string& url() const { return url_; }
  // Freezes the server: connections stay open, nothing is answered.
  // Returns once the server is stopped: a signal takes effect asynchronously, and a server
  // still running for a moment would answer the publish the test means to leave unanswered.
  void pause() {
    ::kill(pid_, SIGSTOP);
    int status = 0;
    ::waitpid(pid_, &status, WUNTRACED);
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::string url_;
};

// A plain client of the test's own, to look at what the target published.
class Client {
 public:
  explicit Client(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&connection_, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_JetStream(&js_, connection_, nullptr), NATS_OK);
  }
  ~Client() {
    if (subscription_ != nullptr) natsSubscription_Destroy(subscription_);
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
  }

  void subscribe(const std::string& subject) {
    ASSERT_EQ(natsConnection_SubscribeSync(&subscription_, connection_, subject.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(connection_), NATS_OK);  // the server knows the interest
  }

  // The next message, or nothing within `limit`.
  nats::MsgPtr next(std::chrono::milliseconds limit) {
    natsMsg* message = nullptr;
    natsSubscription_NextMsg(&message, subscription_, limit.count());
    return nats::MsgPtr(message);
  }

  void add_stream(const std::string& name, const char* subject, std::int32_t max_msg_size = -1) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    config.MaxMsgSize = max_msg_size;
    config.Subjects = &subject;
    config.SubjectsLen = 1;
    config.Storage = js_MemoryStorage;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(&info, js_, &config, nullptr, &code), NATS_OK) << code;
    jsStreamInfo_Destroy(info);
  }

  std::uint64_t stored(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &code) != NATS_OK) return 0;
    const std::uint64_t count = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return count;
  }

  nats::MsgPtr last(const std::string& stream, const std::string& subject) {
    natsMsg* message = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    js_GetLastMsg(&message, js_, stream.c_str(), subject.c_str(), nullptr, &code);
    return nats::MsgPtr(message);
  }

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* subscription_ = nullptr;
};

std::string header(natsMsg* message, const char* name) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(message, name, &value) != NATS_OK || value == nullptr) return "<absent>";
  return value;
}

std::string data(natsMsg* message) {
  return std::string(natsMsg_GetData(message),
                     static_cast<std::size_t>(natsMsg_GetDataLength(message)));
}

constexpr const char* kSubject = "security.findings.guardduty";
constexpr const char* kPayload = R"({"severity":8,"type":"UnauthorizedAccess:IAMUser/X"})";

class NatsTargetTest : public ::testing::Test {
 protected:
  std::unique_ptr<Target> make(const std::string& servers, const std::string& extra = "") {
    TargetContext context{io_, testing::unread_metrics()};
    return make_target(testing::spec_from_yaml("{id: t, type: nats, servers: ['" + servers +
                                               "'], subject: " + kSubject + extra + "}"),
                       context);
  }

  static Invocation call(int attempt = 1) {
    auto result = testing::invocation(kPayload, "evt-42");
    result.attempt = attempt;
    result.event_json = std::make_shared<const std::string>(
        R"({"id":"evt-42","detail":{"title":"Root login","region":"eu-west-1"}})");
    return result;
  }

  boost::asio::io_context io_;
};

TEST_F(NatsTargetTest, CorePublishArrivesWithThePayloadAndHeaders) {
  NatsServer server(false);
  Client client(server.url());
  client.subscribe(kSubject);
  auto target =
      make(server.url(),
           ", headers: {X-Team: secops, X-Title: '<title>'}, input_transformer: {input_paths_map: "
           "{title: $.detail.title}, input_template: '<title>'}");
  auto invocation = call(3);
  invocation.payload = kPayload;  // as the engine hands it over, already shaped
  const auto result = testing::deliver_and_wait(*target, invocation);
  EXPECT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  auto message = client.next(5s);
  ASSERT_TRUE(message);
  EXPECT_EQ(natsMsg_GetSubject(message.get()), std::string(kSubject));
  EXPECT_EQ(data(message.get()), kPayload);
  EXPECT_EQ(header(message.get(), "X-Team"), "secops");
  EXPECT_EQ(header(message.get(), "X-Title"), "Root login");
  EXPECT_EQ(header(message.get(), "Eventrouter-Event-Id"), "evt-42");
  EXPECT_EQ(header(message.get(), "Eventrouter-Rule"), "test-rule");
  EXPECT_EQ(header(message.get(), "Eventrouter-Target"), "t");
  EXPECT_EQ(header(message.get(), "Eventrouter-Attempt"), "3");
  // Core NATS has no deduplication: no message id.
  EXPECT_EQ(header(message.get(), "Nats-Msg-Id"), "<absent>");
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, JetStreamPublishIsAcknowledgedAndStoredOnceAcrossRetries) {
  NatsServer server(true);
  Client client(server.url());
  client.add_stream("FINDINGS", "security.findings.>");
  auto target = make(server.url(), ", jetstream: true, headers: {X-Team: secops}");
  for (int attempt : {1, 2}) {
    const auto result = testing::deliver_and_wait(*target, call(attempt));
    EXPECT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  }
  // The retry carried the same Nats-Msg-Id: the stream kept the first copy only.
  EXPECT_EQ(client.stored("FINDINGS"), 1u);
  auto stored = client.last("FINDINGS", kSubject);
  ASSERT_TRUE(stored);
  EXPECT_EQ(data(stored.get()), kPayload);
  EXPECT_EQ(header(stored.get(), "Nats-Msg-Id"), "evt-42:test-rule:t");
  EXPECT_EQ(header(stored.get(), "X-Team"), "secops");
  EXPECT_EQ(header(stored.get(), "Eventrouter-Attempt"), "1");
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, JetStreamWithoutAStreamForTheSubjectIsPermanent) {
  NatsServer server(true);
  auto target = make(server.url(), ", jetstream: true, publish_timeout: 2s");
  const auto started = std::chrono::steady_clock::now();
  const auto result = testing::deliver_and_wait(*target, call());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, ErrorCode::kResourceNotFound);
  EXPECT_NE(result.error_message.find("no JetStream stream captures subject "
                                      "'security.findings.guardduty'"),
            std::string::npos)
      << result.error_message;
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, AMessageTheStreamRefusesIsPermanent) {
  NatsServer server(true);
  Client client(server.url());
  client.add_stream("SMALL", "security.findings.>", 16);  // smaller than any finding
  auto target = make(server.url(), ", jetstream: true");
  const auto result = testing::deliver_and_wait(*target, call());
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, ErrorCode::kErrorFromTarget);
  EXPECT_NE(result.error_message.find("JetStream refused the message"), std::string::npos)
      << result.error_message;
  EXPECT_EQ(client.stored("SMALL"), 0u);
  target->shutdown(1s);
}

// A loopback port nobody listens on.
int unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

TEST_F(NatsTargetTest, ServerDownIsARetryableConnectionFailureWithoutAHang) {
  const auto started = std::chrono::steady_clock::now();
  // Building the target does not wait for the server (a rule reload while NATS is down).
  auto target = make("nats://127.0.0.1:" + std::to_string(unused_port()),
                     ", jetstream: true, publish_timeout: 500ms");
  for (int attempt : {1, 2}) {
    const auto result = testing::deliver_and_wait(*target, call(attempt), 5s);
    EXPECT_EQ(result.outcome, Outcome::kRetryable);
    EXPECT_EQ(result.error_code, ErrorCode::kConnectionFailure);
    EXPECT_NE(result.error_message.find("not connected"), std::string::npos)
        << result.error_message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, ServerLostAfterConnectingIsRetryable) {
  auto server = std::make_unique<NatsServer>(false);
  auto target = make(server->url(), ", publish_timeout: 500ms");
  EXPECT_EQ(testing::deliver_and_wait(*target, call()).outcome, Outcome::kSuccess);
  server.reset();
  const auto started = std::chrono::steady_clock::now();
  const auto result = testing::deliver_and_wait(*target, call(2), 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_TRUE(result.error_code == ErrorCode::kConnectionFailure ||
              result.error_code == ErrorCode::kTimeout)
      << result.error_code << ": " << result.error_message;
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, AServerThatStopsAnsweringTimesOutAsRetryable) {
  NatsServer server(false);
  auto target = make(server.url(), ", publish_timeout: 300ms");
  server.pause();
  const auto started = std::chrono::steady_clock::now();
  const auto result = testing::deliver_and_wait(*target, call(), 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, ErrorCode::kTimeout) << result.error_message;
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, ShutdownAbortsAPublishStillWaitingAfterTheGracePeriod) {
  NatsServer server(true);
  auto target = make(server.url(), ", jetstream: true, publish_timeout: 1m");
  server.pause();
  testing::Waiter waiter;
  target->deliver(call(), waiter.completion());
  std::this_thread::sleep_for(100ms);  // the publish is waiting for its acknowledgement
  const auto started = std::chrono::steady_clock::now();
  target->shutdown(200ms);
  const auto result = waiter.wait(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
}

TEST_F(NatsTargetTest, ALineBreakFromAPlaceholderIsRefusedAndNothingIsPublished) {
  NatsServer server(false);
  Client client(server.url());
  client.subscribe(kSubject);
  auto target = make(server.url(),
                     ", headers: {X-Title: 'Finding <title>'}, input_transformer: "
                     "{input_paths_map: {title: $.detail.title}, input_template: '<title>'}");
  auto invocation = call();
  invocation.event_json =
      std::make_shared<const std::string>(R"({"detail":{"title":"hi\r\nNats-Msg-Id: forged"}})");
  const auto result = testing::deliver_and_wait(*target, invocation);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, ErrorCode::kInvalidParameter);
  EXPECT_NE(result.error_message.find("header 'X-Title'"), std::string::npos)
      << result.error_message;
  EXPECT_EQ(result.error_message.find("forged"), std::string::npos) << result.error_message;
  EXPECT_FALSE(client.next(300ms));
  target->shutdown(1s);
}

TEST_F(NatsTargetTest, ShutdownCompletesQueuedDeliveriesAsRetryable) {
  NatsServer server(false);
  auto target = make(server.url(), ", max_concurrency: 1");
  target->shutdown(1s);
  const auto result = testing::deliver_and_wait(*target, call(), 2s);
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
}

}  // namespace
}  // namespace eventrouter::targets
