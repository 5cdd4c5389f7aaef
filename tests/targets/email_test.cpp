// email against a real SMTP server on loopback (aiosmtpd, tests/targets/peers/smtp_peer.py).

#include "eventrouter/targets/email.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <boost/asio/ip/tcp.hpp>

#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using testing::TempDir;

struct Received {
  std::string mail_from, body, raw_headers;
  std::vector<std::string> rcpt_tos;
  std::map<std::string, std::string> headers;
  bool tls = false;
  std::string auth_user;
};

class EmailTest : public ::testing::Test {
 protected:
  void start_peer(std::vector<std::string> extra = {}) {
    std::filesystem::create_directories(out_);
    std::vector<std::string> argv = {
        "/usr/bin/python3", (testing::peers_dir / "smtp_peer.py").string(), "--out", out_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<testing::Peer>(argv);
  }

  std::vector<std::string> tls_args() {
    testing::make_test_ca(dir_.path());
    return {"--cert", (dir_ / "server.pem").string(), "--key", (dir_ / "server.key").string()};
  }

  std::unique_ptr<Target> make(const std::string& smtp, const std::string& extra = "") {
    TargetContext context{io_, testing::unread_metrics()};
    return make_target(
        testing::spec_from_yaml("{id: mail, type: email, smtp: {host: " + host_ + ", port: " +
                                std::to_string(peer_->port()) + ", timeout: 10s" + smtp +
                                "}, from: 'Security Alerts <alerts@example.com>', to: "
                                "[oncall@example.com, 'Ünïcode Person <u@example.org>']" +
                                extra + "}"),
        context);
  }

  std::vector<Received> received() {
    std::vector<Received> out;
    simdjson::dom::parser parser;
    for (int i = 1;; ++i) {
      const auto path = out_ / (std::to_string(i) + ".json");
      if (!std::filesystem::exists(path)) break;
      const std::string text = testing::read_file(path);
      simdjson::dom::element record;
      if (parser.parse(text).get(record)) {
        ADD_FAILURE() << "unreadable " << path;
        break;
      }
      Received message;
      message.mail_from = std::string(record["mail_from"].get_string().value());
      simdjson::dom::array rcpt_tos = record["rcpt_tos"].get_array().value();
      for (auto to : rcpt_tos) {
        message.rcpt_tos.emplace_back(to.get_string().value());
      }
      message.tls = record["tls"].get_bool().value();
      std::string_view user;
      if (record["auth_user"].get_string().get(user) == simdjson::SUCCESS) message.auth_user = user;
      simdjson::dom::array headers = record["headers"].get_array().value();
      for (auto header : headers) {
        simdjson::dom::array pair = header.get_array().value();
        message.headers[std::string(pair.at(0).get_string().value())] =
            std::string(pair.at(1).get_string().value());
      }
      message.raw_headers = std::string(record["raw_headers"].get_string().value());
      message.body = std::string(record["body"].get_string().value());
      for (auto at = message.body.find("\r\n"); at != std::string::npos;
           at = message.body.find("\r\n", at)) {
        message.body.erase(at, 1);
      }
      out.push_back(std::move(message));
    }
    return out;
  }

  TempDir dir_;
  std::filesystem::path out_ = dir_ / "mail";
  boost::asio::io_context io_;
  std::unique_ptr<testing::Peer> peer_;
  std::string host_ = "127.0.0.1";
};

TEST_F(EmailTest, SendsAProperMessage) {
  start_peer();
  auto target = make(", starttls: never",
                     ", subject: '[<severity>] <aws.events.rule-name> – <type>', "
                     "input_transformer: {input_paths_map: {severity: $.detail.severity, "
                     "type: $.detail.type}, input_template: '<type> at <severity>'}");
  Invocation call = testing::invocation(
      "Finding: credentials used from 198.51.100.23 — ünïcode ✓\n.\nline after a lone dot\n" +
          std::string(300, 'L'),
      "evt-mail-1");
  call.event_json = std::make_shared<const std::string>(
      R"({"detail":{"severity":8,"type":"UnauthorizedAccess:IAMUser/X"}})");
  const DeliveryResult result = testing::deliver_and_wait(*target, call);
  ASSERT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  const auto messages = received();
  ASSERT_EQ(messages.size(), 1u);
  Received message = messages[0];
  EXPECT_EQ(message.mail_from, "alerts@example.com");
  EXPECT_EQ(message.rcpt_tos, (std::vector<std::string>{"oncall@example.com", "u@example.org"}));
  EXPECT_FALSE(message.tls);
  EXPECT_EQ(message.headers["Subject"], "[8] test-rule – UnauthorizedAccess:IAMUser/X");
  EXPECT_EQ(message.headers["From"], "Security Alerts <alerts@example.com>");
  EXPECT_EQ(message.headers["To"], "oncall@example.com, Ünïcode Person <u@example.org>");
  EXPECT_EQ(message.headers["MIME-Version"], "1.0");
  EXPECT_EQ(message.headers["Content-Type"], "text/plain; charset=\"UTF-8\"");
  EXPECT_EQ(message.headers["X-Eventrouter-Event-Id"], "evt-mail-1");
  EXPECT_TRUE(message.headers["Message-ID"].ends_with("@example.com>"))
      << message.headers["Message-ID"];
  EXPECT_FALSE(message.headers["Date"].empty());
  EXPECT_EQ(message.body, call.payload + "\n");
}

TEST_F(EmailTest, HeaderInjectionFromEventDataIsRefused) {
  start_peer();
  auto target = make(", starttls: never",
                     ", subject: 'Alert <title>', input_transformer: {input_paths_map: {title: "
                     "$.detail.title}, input_template: x}");
  Invocation call = testing::invocation("body");
  call.event_json = std::make_shared<const std::string>(
      R"({"detail":{"title":"hi\r\nBcc: victim@example.net"}})");
  const DeliveryResult result = testing::deliver_and_wait(*target, call);
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kInvalidParameter);
  EXPECT_TRUE(received().empty());
}

TEST_F(EmailTest, StartTlsRequiredFailsAgainstAServerWithoutIt) {
  start_peer();
  auto target = make(", starttls: required");
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("x"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kConnectionFailure);
  EXPECT_TRUE(received().empty());
}

TEST_F(EmailTest, StartTlsWithAuthAgainstATestCa) {
  start_peer([&] {
    auto args = tls_args();
    args.insert(args.end(), {"--require-starttls", "--auth", "mailer:pa55word"});
    return args;
  }());
  host_ = "localhost";  // the name in the test certificate
  auto target = make(", starttls: required, username: mailer, password: pa55word, ca_file: " +
                     (dir_ / "ca.pem").string());
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("secret"));
  ASSERT_EQ(result.outcome, Outcome::kSuccess) << result.error_message;
  const auto messages = received();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].tls);
  EXPECT_EQ(messages[0].auth_user, "mailer");

  auto wrong = make(", starttls: required, username: mailer, password: nope, ca_file: " +
                    (dir_ / "ca.pem").string());
  const DeliveryResult denied = testing::deliver_and_wait(*wrong, testing::invocation("x"));
  EXPECT_EQ(denied.outcome, Outcome::kRetryable);
  EXPECT_EQ(denied.error_code, targets::ErrorCode::kNoPermissions) << denied.error_message;
  EXPECT_EQ(denied.error_message.find("nope"), std::string::npos) << "no secrets in messages";

  auto untrusted = make(", starttls: required, username: mailer, password: pa55word");
  EXPECT_EQ(testing::deliver_and_wait(*untrusted, testing::invocation("x")).error_code,
            ErrorCode::kConnectionFailure);
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(EmailTest, OpportunisticStartTlsUsesTlsWhenOffered) {
  start_peer(tls_args());
  host_ = "localhost";
  auto target = make(", ca_file: " + (dir_ / "ca.pem").string());
  ASSERT_EQ(testing::deliver_and_wait(*target, testing::invocation("x")).outcome,
            Outcome::kSuccess);
  ASSERT_EQ(received().size(), 1u);
  EXPECT_TRUE(received()[0].tls);
}

TEST_F(EmailTest, SmtpRepliesAreClassified) {
  start_peer({"--reject", "554"});
  auto target = make(", starttls: never");
  DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("x"));
  EXPECT_EQ(result.outcome, Outcome::kPermanent);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget);
  EXPECT_NE(result.error_message.find("554"), std::string::npos) << result.error_message;
  peer_.reset();
  start_peer({"--reject", "451"});
  target = make(", starttls: never");
  result = testing::deliver_and_wait(*target, testing::invocation("x"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
}

TEST_F(EmailTest, ConnectionRefusedIsRetryable) {
  boost::asio::ip::tcp::acceptor acceptor(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  acceptor.close();
  TargetContext context{io_, testing::unread_metrics()};
  auto target =
      make_target(testing::spec_from_yaml("{id: mail, type: email, smtp: {host: 127.0.0.1, port: " +
                                          std::to_string(port) +
                                          "}, from: a@example.com, to: [b@example.com]}"),
                  context);
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("x"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kConnectionFailure);
}

TEST(EmailUnits, AddressesAreParsedStrictly) {
  auto plain = parse_mail_address("a.b@example.com");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->address, "a.b@example.com");
  auto named = parse_mail_address("\"Sec, Team\" <sec@example.com>");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->display_name, "Sec, Team");
  EXPECT_EQ(named->address, "sec@example.com");
  for (const char* bad : {"nobody", "@example.com", "a@b", "a@example.com\r\nBcc: x@y.z",
                          "a b@example.com", "Name <a@example.com"}) {
    EXPECT_FALSE(parse_mail_address(bad)) << bad;
  }
}

TEST(EmailUnits, QuotedPrintableKeepsLinesShortAndSafe) {
  const std::string encoded = quoted_printable(std::string(200, 'a') + "\n.x = é \n");
  for (std::size_t start = 0; start < encoded.size();) {
    const std::size_t end = encoded.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_NE(encoded.find("=2Ex =3D =C3=A9=20\r\n"), std::string::npos) << encoded;
}

TEST(EmailUnits, NonAsciiHeadersUseEncodedWords) {
  EXPECT_EQ(encode_header_value("plain"), "plain");
  EXPECT_EQ(encode_header_value("ü"), "=?UTF-8?B?w7w=?=");
  const std::string long_value = encode_header_value(std::string(100, 'x') + "é");
  EXPECT_NE(long_value.find("\r\n =?UTF-8?B?"), std::string::npos);
}

}  // namespace
}  // namespace eventrouter::targets
