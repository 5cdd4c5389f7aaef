#include "eventrouter/config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config_problems.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::SizeIs;

MATCHER_P3(At, line, column, text, "") {
  *result_listener << "diagnostic " << arg.to_string();
  return arg.line == line && arg.column == column && arg.message.find(text) != std::string::npos;
}

TEST(Config, FullFileIsRead) {
  testing::TempDir dir;
  dir.write("certs/server.pem", "cert");
  dir.write("certs/server.key", "key");
  dir.write("tokens", "abc\n");
  const auto file = dir.write("etc/eventrouter.yaml", R"(
listen: "[::1]:9000"
rules_dir: ../rules
state_dir: /tmp/er-state
auth:
  tokens_file: ../tokens
tls:
  cert_file: ../certs/server.pem
  key_file: ../certs/server.key
limits: { max_event_bytes: 1000, max_request_bytes: 2000, max_connections: 3 }
log: { level: debug, format: json }
durability: none
)");
  const Config config = load_config(file);
  EXPECT_EQ(config.file, file);
  EXPECT_EQ(config.listen.host, "::1");
  EXPECT_EQ(config.listen.port, 9000);
  EXPECT_EQ(config.rules_dir, dir.path() / "rules");
  EXPECT_EQ(config.state_dir, "/tmp/er-state");
  EXPECT_EQ(config.tokens_file, dir.path() / "tokens");
  ASSERT_TRUE(config.tls.has_value());
  EXPECT_EQ(config.tls->cert_file, dir.path() / "certs/server.pem");
  EXPECT_EQ(config.tls->key_file, dir.path() / "certs/server.key");
  EXPECT_TRUE(config.tls->client_ca_file.empty());
  EXPECT_EQ(config.limits.max_event_bytes, 1000u);
  EXPECT_EQ(config.limits.max_request_bytes, 2000u);
  EXPECT_EQ(config.limits.max_connections, 3u);
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.log.format, LogFormat::kJson);
  EXPECT_EQ(config.delivery.durability, Durability::kNone);
}

TEST(Config, EmptyFileGivesDefaults) {
  testing::TempDir dir;
  const auto file = dir.write("eventrouter.yaml", "# nothing set\n");
  const Config config = load_config(file);
  EXPECT_EQ(config.listen.host, "127.0.0.1");
  EXPECT_EQ(config.listen.port, 8088);
  EXPECT_EQ(config.rules_dir, dir.path() / "rules.d");
  EXPECT_EQ(config.state_dir, "/var/lib/eventrouter");
  EXPECT_TRUE(config.tokens_file.empty());
  EXPECT_FALSE(config.tls.has_value());
  EXPECT_EQ(config.limits.max_event_bytes, 262144u);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, LogFormat::kText);
  EXPECT_EQ(config.delivery.durability, Durability::kFsync);
}

TEST(Config, FolderStandsForItsEventrouterYaml) {
  testing::TempDir dir;
  dir.write("eventrouter.yaml", "listen: 127.0.0.1:0\n");
  const Config config = load_config(dir.path());
  EXPECT_EQ(config.file, dir.path() / "eventrouter.yaml");
  EXPECT_EQ(config.listen.port, 0);
}

TEST(Config, RelativeStateDirResolvesAgainstTheFilesFolder) {
  testing::TempDir dir;
  const auto file = dir.write("config/eventrouter.yaml", "state_dir: ../.state\n");
  EXPECT_EQ(load_config(file).state_dir, dir.path() / ".state");
}

TEST(Config, MissingFileNamesTheFile) {
  testing::TempDir dir;
  try {
    load_config(dir.path() / "nope.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_THAT(e.diagnostics(), SizeIs(1));
    const Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.file, dir.path() / "nope.yaml");
    EXPECT_EQ(d.line, 0);
    EXPECT_THAT(d.message, HasSubstr("cannot open file: No such file or directory"));
    EXPECT_EQ(d.to_string(), (dir.path() / "nope.yaml").string() +
                                 ": cannot open file: No such file or directory");
  }
}

TEST(Config, SyntaxErrorSaysWhatIsMissingAndWhereItsContextStarts) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "listen: 127.0.0.1:8088\nlimits: {max_connections: 5\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].line, 3);
  EXPECT_EQ(problems[0].message,
            "YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping "
            "that starts at line 2)");
}

TEST(Config, BadIndentationIsASyntaxError) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "log:\n  level: info\n   format: text\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(3, 10, "YAML syntax error"));
}

TEST(Config, EveryProblemIsReportedWithItsPosition) {
  testing::TempDir dir;
  auto problems = problems_of(dir, R"(listne: 127.0.0.1:8088
rules_dir: [a, b]
limits:
  max_event_bytes: -5
  max_request_bytes: lots
  max_conections: 10
log:
  level: verbose
  format: xml
bogus: 1
)");
  ASSERT_THAT(problems, SizeIs(8));
  EXPECT_THAT(problems[0],
              At(1, 1, "unknown key 'listne' in the config file; did you mean 'listen'?"));
  EXPECT_THAT(problems[1], At(2, 12, "rules_dir must be a string, not a list"));
  EXPECT_THAT(
      problems[2],
      At(4, 20, "limits.max_event_bytes is out of range: '-5' is not a positive whole number"));
  EXPECT_THAT(problems[3],
              At(5, 22, "limits.max_request_bytes must be a positive whole number, not 'lots'"));
  EXPECT_THAT(
      problems[4],
      At(6, 3,
         "unknown key 'max_conections' in the 'limits' section; did you mean 'max_connections'?"));
  EXPECT_THAT(
      problems[5],
      At(8, 10,
         "log.level must be one of trace, debug, info, warn, error, critical, off, not 'verbose'"));
  EXPECT_THAT(problems[6], At(9, 11, "log.format must be one of text, json, not 'xml'"));
  EXPECT_THAT(problems[7], At(10, 1, "unknown key 'bogus' in the config file; expected one of"));
}

TEST(Config, UnknownKeyWithoutCloseMatchListsTheKeys) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "bogus: 1\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(1, 1,
                              "unknown key 'bogus' in the config file; expected one of: listen, "
                              "rules_dir, state_dir, auth, tls, limits, log"));
}

TEST(Config, LogLevelTypoGetsASuggestion) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "log: { level: wran }\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(1, 15, "did you mean 'warn'?"));
}

TEST(Config, ListenProblems) {
  struct Case {
    const char* value;
    const char* message;
  } cases[] = {
      {"127.0.0.1:70000", "port 70000 in '127.0.0.1:70000' is out of range; use 0 to 65535"},
      {"127.0.0.1:http", "port 'http' in '127.0.0.1:http' is not a number"},
      {"127.0.0.1", "'127.0.0.1' has no port"},
      {"8088", "'8088' has no port"},
      {":8088", "':8088' has no host"},
      {"::1:8088", "'::1:8088': an IPv6 address needs brackets, e.g. [::1]:8088"},
      {"[::1]", "'[::1]' has no port"},
      {"[::zz]:80", "'::zz' in '[::zz]:80' is not an IPv6 address"},
      {"127.0.0.300:80", "'127.0.0.300' in '127.0.0.300:80' is not an IPv4 address"},
      {"bad_host:80", "'bad_host' in 'bad_host:80' is not a valid host name"},
  };
  for (const auto& c : cases) {
    testing::TempDir dir;
    auto problems = problems_of(dir, std::string("listen: \"") + c.value + "\"\n");
    ASSERT_THAT(problems, SizeIs(1)) << c.value;
    EXPECT_THAT(problems[0], At(1, 9, std::string("listen: ") + c.message)) << c.value;
  }
}

TEST(Config, ListenAcceptsHostnamesAndPortZero) {
  auto a = parse_listen_address("localhost:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
  auto b = parse_listen_address("0.0.0.0:65535");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port, 65535);
  EXPECT_EQ(format_listen_address(*parse_listen_address("[::1]:8088")), "[::1]:8088");
  EXPECT_EQ(format_listen_address(*b), "0.0.0.0:65535");
}

TEST(Config, AReachableListenAddressNeedsAuthOrAnExplicitOptOut) {
  for (const char* host : {"0.0.0.0", "192.0.2.10", "[::]", "eventrouter.example.com"}) {
    testing::TempDir dir;
    auto problems = problems_of(dir, std::string("listen: \"") + host + ":8088\"\n");
    ASSERT_THAT(problems, SizeIs(1)) << host;
    EXPECT_THAT(problems[0], At(1, 9, "can be reached from other machines, and there is no auth"))
        << host;
    EXPECT_THAT(problems[0].message, HasSubstr("Set auth.tokens_file"));
    EXPECT_THAT(problems[0].message, HasSubstr("allow_unauthenticated: true"));
  }
  testing::TempDir dir;
  EXPECT_THAT(problems_of(dir, "listen: 0.0.0.0:8088\nallow_unauthenticated: true\n"), SizeIs(0));
  dir.write("tokens", "a-token\n");
  EXPECT_THAT(problems_of(dir, "listen: 0.0.0.0:8088\nauth: {tokens_file: tokens}\n"), SizeIs(0));
  for (const char* loopback : {"127.0.0.1:8088", "127.8.9.10:1", "[::1]:8088", "localhost:8088"})
    EXPECT_THAT(problems_of(dir, std::string("listen: \"") + loopback + "\"\n"), SizeIs(0))
        << loopback;
  auto wrong = problems_of(dir, "listen: 0.0.0.0:8088\nallow_unauthenticated: perhaps\n");
  ASSERT_THAT(wrong, SizeIs(2));
}

TEST(Config, BusesListsExtraBuses) {
  testing::TempDir dir;
  const auto file =
      dir.write("eventrouter.yaml", "buses: [staging, aws.partner/x.com/1/f, staging]\n");
  EXPECT_EQ(load_config(file).buses,
            (std::vector<std::string>{"staging", "aws.partner/x.com/1/f"}));
  auto problems = problems_of(dir, "buses: [ok, \"not ok\"]\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(1, 13, "bus name 'not ok' is not valid"));
  EXPECT_THAT(problems_of(dir, "buses: staging\n"), SizeIs(1));
}

TEST(Config, WrongSectionTypes) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "limits: 5\nlog: [info]\nauth: yes\n");
  ASSERT_THAT(problems, SizeIs(3));
  EXPECT_THAT(problems[0],
              At(1, 9, "the 'limits' section must be a mapping of keys to values, not a scalar"));
  EXPECT_THAT(problems[1],
              At(2, 6, "the 'log' section must be a mapping of keys to values, not a list"));
  EXPECT_THAT(problems[2], At(3, 7, "the 'auth' section must be a mapping"));
}

TEST(Config, TopLevelMustBeAMapping) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "- listen\n- rules_dir\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(1, 1, "the config file must be a mapping"));
}

TEST(Config, DuplicateKeysAreReported) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0],
              At(2, 1, "duplicate key 'listen' in the config file (first given at line 1)"));
}

TEST(Config, EventLimitAboveRequestLimitIsReported) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "limits:\n  max_request_bytes: 100\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(
      problems[0],
      At(2, 22, "limits.max_event_bytes (262144) is larger than limits.max_request_bytes (100)"));
}

TEST(Config, ConnectionTimeouts) {
  testing::TempDir dir;
  const auto file =
      dir.write("eventrouter.yaml", "limits: { header_timeout: 500ms, idle_timeout: 2m }\n");
  const Config config = load_config(file);
  EXPECT_EQ(config.limits.header_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(config.limits.idle_timeout, std::chrono::minutes(2));
  auto problems = problems_of(dir, "limits:\n  header_timeout: 10\n  idle_timeout: 0s\n");
  ASSERT_THAT(problems, SizeIs(2));
  EXPECT_THAT(problems[0], At(2, 19, "limits.header_timeout: '10' has no unit"));
  EXPECT_THAT(problems[1], At(3, 17, "limits.idle_timeout must be longer than 0"));
}

TEST(Config, ZeroLimitIsNotPositive) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "limits: { max_connections: 0 }\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(
      problems[0],
      At(1, 28, "limits.max_connections is out of range: '0' is not a positive whole number"));
}

TEST(Config, MaxPendingBytesIsASize) {
  testing::TempDir dir;
  EXPECT_EQ(
      load_config(dir.write("eventrouter.yaml", "# nothing set\n")).delivery.max_pending_bytes,
      256u << 20);
  const auto file = dir.write("eventrouter.yaml", "delivery:\n  max_pending_bytes: 512MiB\n");
  EXPECT_EQ(load_config(file).delivery.max_pending_bytes, 512u << 20);
  const auto plain = dir.write("eventrouter.yaml", "delivery: { max_pending_bytes: 8388608 }\n");
  EXPECT_EQ(load_config(plain).delivery.max_pending_bytes, 8u << 20);
}

TEST(Config, BadMaxPendingBytesSaysWhatASizeIs) {
  testing::TempDir dir;
  for (const char* value : {"lots", "12XB", "-1", "[1]", "1000", "0"}) {
    auto problems =
        problems_of(dir, std::string("delivery:\n  max_pending_bytes: ") + value + "\n");
    ASSERT_THAT(problems, SizeIs(1)) << value;
    EXPECT_THAT(problems[0], At(2, 22,
                                "delivery.max_pending_bytes must be a size of at least 1MiB, "
                                "such as 268435456, 512MiB or 2GiB"))
        << value;
  }
}

TEST(Config, TlsNeedsCertAndKeyThatExist) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "tls:\n  cert_file: missing.pem\n  client_ca_file: ca.pem\n");
  ASSERT_THAT(problems, SizeIs(3));
  EXPECT_THAT(problems[0], At(1, 1, "the 'tls' section needs key_file"));
  EXPECT_THAT(problems[1], At(2, 14,
                              "tls.cert_file: file " + (dir.path() / "missing.pem").string() +
                                  " does not exist"));
  EXPECT_THAT(problems[2], At(3, 19, "tls.client_ca_file: file"));
}

TEST(Config, MissingTokensFileIsReported) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "auth:\n  tokens_file: tokens\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(
      problems[0],
      At(2, 16, "auth.tokens_file: file " + (dir.path() / "tokens").string() + " does not exist"));
}

TEST(Config, EmptyValueIsReportedAtItsKey) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "listen:\nlog:\n  level:\n");
  ASSERT_THAT(problems, SizeIs(2));
  EXPECT_THAT(problems[0], At(1, 1, "listen must be a string, not empty"));
  EXPECT_THAT(
      problems[1],
      At(3, 3,
         "log.level must be one of trace, debug, info, warn, error, critical, off, not empty"));
}

TEST(Config, EmptyPathIsReported) {
  testing::TempDir dir;
  auto problems = problems_of(dir, "state_dir: ''\n");
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], At(1, 12, "state_dir is empty"));
}

TEST(Config, SecretReferencesAreResolved) {
  testing::TempDir dir;
  ::setenv("EVENTROUTER_TEST_LISTEN", "127.0.0.1:9999", 1);
  dir.write("level.txt", "warn\n");
  const auto file =
      dir.write("eventrouter.yaml",
                "listen: ${env:EVENTROUTER_TEST_LISTEN}\nlog: { level: '${file:level.txt}' }\n");
  const Config config = load_config(file);
  EXPECT_EQ(config.listen.port, 9999);
  EXPECT_EQ(config.log.level, "warn");
  ::unsetenv("EVENTROUTER_TEST_LISTEN");
}

TEST(Config, BadSecretReferencesAreReportedWithoutTheirValue) {
  testing::TempDir dir;
  ::unsetenv("EVENTROUTER_TEST_UNSET");
  ::setenv("EVENTROUTER_TEST_SECRET", "hunter2", 1);
  auto problems = problems_of(dir, R"(listen: ${env:EVENTROUTER_TEST_UNSET}
state_dir: ${file:/nonexistent/secret}
log:
  level: ${env:EVENTROUTER_TEST_SECRET}
)");
  ASSERT_THAT(problems, SizeIs(3));
  EXPECT_THAT(problems[0], At(1, 9, "environment variable EVENTROUTER_TEST_UNSET is not set"));
  EXPECT_THAT(problems[1], At(2, 12, "cannot read secret file /nonexistent/secret"));
  EXPECT_THAT(problems[2], At(4, 10, "log.level must be one of"));
  EXPECT_THAT(problems[2].message, HasSubstr("not the referenced secret"));
  EXPECT_THAT(problems[2].message, ::testing::Not(HasSubstr("hunter2")));
  ::unsetenv("EVENTROUTER_TEST_SECRET");
}

TEST(Config, ConfigErrorWhatListsEveryDiagnostic) {
  testing::TempDir dir;
  const auto file = dir.write("eventrouter.yaml", "a: 1\nb: 2\n");
  try {
    load_config(file);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(file.string() + ":1:1: unknown key 'a'"));
    EXPECT_THAT(std::string(e.what()), HasSubstr(file.string() + ":2:1: unknown key 'b'"));
  }
}

TEST(Config, ShippedConfigLoads) {
  const fs::path shipped = fs::path(EVENTROUTER_SOURCE_DIR) / "config" / "eventrouter.yaml";
  const Config config = load_config(shipped);
  EXPECT_EQ(config.listen.host, "127.0.0.1");
  EXPECT_EQ(config.listen.port, 8088);
  EXPECT_EQ(config.rules_dir, fs::path(EVENTROUTER_SOURCE_DIR) / "config" / "rules.d");
  // A folder inside the checkout, so that neither root nor a plain user needs /var/lib.
  EXPECT_EQ(config.state_dir, fs::path(EVENTROUTER_SOURCE_DIR) / ".state");
}

}  // namespace
}  // namespace eventrouter::config
