// queue_file against real files: JSON Lines, rotation, concurrent appends from parallel targets.

#include "eventrouter/targets/queue_file.hpp"

#include <cerrno>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventrouter/targets/registry.hpp"
#include "test_support.hpp"

namespace eventrouter::targets {
namespace {

using testing::TempDir;

std::unique_ptr<Target> make(const std::string& yaml, boost::asio::io_context& io) {
  TargetContext context{io, testing::unread_metrics()};
  return make_target(testing::spec_from_yaml(yaml), context);
}

bool is_json(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  return parser.parse(line).get(element) == simdjson::SUCCESS;
}

TEST(QueueFile, AppendsOnePayloadALineAndCreatesParentDirectories) {
  TempDir dir;
  boost::asio::io_context io;
  const auto path = dir / "deep/er/queue.jsonl";
  auto target = make("{id: q, type: queue_file, path: " + path.string() + "}", io);
  EXPECT_EQ(
      testing::deliver_and_wait(*target, testing::invocation("{ \"a\" : [1, 2.50] }")).outcome,
      Outcome::kSuccess);
  EXPECT_EQ(
      testing::deliver_and_wait(*target, testing::invocation("plain \"text\"\nline two")).outcome,
      Outcome::kSuccess);
  EXPECT_EQ(testing::read_file(path), "{\"a\":[1,2.50]}\n\"plain \\\"text\\\"\\nline two\"\n");
}

// The whole event as the payload (a target without input shaping) is written minified, one
// line, as any other JSON payload.
TEST(QueueFile, TheEventItselfIsWrittenMinifiedOnOneLine) {
  TempDir dir;
  boost::asio::io_context io;
  const auto path = dir / "events.jsonl";
  auto target = make("{id: q, type: queue_file, path: " + path.string() + "}", io);
  const std::string event = "{ \"id\": \"e 1\",\n  \"detail\": {\"n\": 1.50, \"s\": \"a\\nb\"} }";
  auto invocation = testing::invocation(event);
  invocation.event_json = std::make_shared<const std::string>(event);
  EXPECT_EQ(testing::deliver_and_wait(*target, std::move(invocation)).outcome, Outcome::kSuccess);
  EXPECT_EQ(testing::read_file(path), "{\"id\":\"e 1\",\"detail\":{\"n\":1.50,\"s\":\"a\\nb\"}}\n");
}

TEST(QueueFile, EveryFsyncModeWrites) {
  TempDir dir;
  boost::asio::io_context io;
  for (const std::string mode : {"always", "batch", "never"}) {
    const auto path = dir / (mode + ".jsonl");
    auto target =
        make("{id: q, type: queue_file, fsync: " + mode + ", path: " + path.string() + "}", io);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(testing::deliver_and_wait(*target, testing::invocation(std::to_string(i))).outcome,
                Outcome::kSuccess);
    }
    EXPECT_EQ(testing::read_file(path), "0\n1\n2\n") << mode;
  }
}

TEST(QueueFile, RotatesBySizeAndKeepsMaxFiles) {
  TempDir dir;
  boost::asio::io_context io;
  const auto path = dir / "q.jsonl";
  auto target = make("{id: q, type: queue_file, path: " + path.string() +
                         ", rotation: {max_size: 4096, max_files: 2}}",
                     io);
  const std::string payload = "\"" + std::string(1000, 'x') + "\"";  // 1003 bytes a line
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(testing::deliver_and_wait(*target, testing::invocation(payload)).outcome,
              Outcome::kSuccess);
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(dir / "q.jsonl.1"));
  EXPECT_TRUE(std::filesystem::exists(dir / "q.jsonl.2"));
  EXPECT_FALSE(std::filesystem::exists(dir / "q.jsonl.3"));
  for (const auto& file : {path, dir / "q.jsonl.1", dir / "q.jsonl.2"}) {
    EXPECT_LE(std::filesystem::file_size(file), 4096u) << file;
    for (const auto& line : testing::read_lines(file)) EXPECT_EQ(line, payload);
  }
  // 20 lines of 1004 bytes with 4 lines a file: the newest 20 % 4 ... all complete lines.
  EXPECT_EQ(testing::read_lines(dir / "q.jsonl.1").size(), 4u);
}

// Lines that arrive together go out together, yet rotation still cuts between whole lines and
// every file stays within max_size, in order across the rotated files.
TEST(QueueFile, ABatchOfLinesRotatesBetweenWholeLinesInOrder) {
  TempDir dir;
  const auto path = dir / "batch.jsonl";
  QueueFileConfig config;
  config.path = path;
  config.max_size = 4096;
  config.max_files = 3;
  FileAppender appender(config);
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i)
    lines.push_back("{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(900, 'x') +
                    "\"}\n");
  const std::vector<std::string_view> views(lines.begin(), lines.end());
  const auto results = appender.append(views);
  ASSERT_EQ(results.size(), lines.size());
  for (const auto& result : results) EXPECT_FALSE(result.has_value());
  std::vector<std::string> read;
  for (const auto& file : {dir / "batch.jsonl.2", dir / "batch.jsonl.1", path}) {
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_LE(std::filesystem::file_size(file), 4096u) << file;
    for (auto& line : testing::read_lines(file)) read.push_back(std::move(line) + "\n");
  }
  EXPECT_EQ(read, lines);  // 10 lines of 922 bytes: 4, 4 and 2 a file, none torn
}

// A batch that cannot be written fails every line of it, and the file is left as it was.
TEST(QueueFile, ABatchThatCannotBeWrittenFailsEachLine) {
  TempDir dir;
  std::filesystem::create_directories(dir / "is-a-dir");
  QueueFileConfig config;
  config.path = dir / "is-a-dir";
  FileAppender appender(config);
  const std::vector<std::string_view> lines{"{\"a\":1}\n", "{\"b\":2}\n"};
  const auto results = appender.append(lines);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->errno_value, EISDIR);
  }
}

TEST(QueueFile, ParallelTargetsOnOneFileNeverTearLines) {
  TempDir dir;
  boost::asio::io_context io;
  const auto path = dir / "shared.jsonl";
  auto first = make("{id: a, type: queue_file, path: " + path.string() + "}", io);
  auto second = make("{id: b, type: queue_file, fsync: never, path: " + path.string() + "}", io);
  constexpr int per_thread = 200;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Target& target = t % 2 ? *first : *second;
      for (int i = 0; i < per_thread; ++i) {
        const std::string payload =
            "{\"thread\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + ",\"pad\":\"" +
            std::string(static_cast<std::size_t>(i * 37 % 3000), 'p') + "\"}";
        if (testing::deliver_and_wait(target, testing::invocation(payload)).outcome ==
            Outcome::kSuccess) {
          ++succeeded;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(succeeded, 4 * per_thread);
  const auto lines = testing::read_lines(path);
  ASSERT_EQ(lines.size(), 4u * per_thread);
  for (const auto& line : lines) ASSERT_TRUE(is_json(line)) << line.substr(0, 80);
}

TEST(QueueFile, UnwritablePathIsARetryableFailure) {
  TempDir dir;
  boost::asio::io_context io;
  std::filesystem::create_directories(dir / "is-a-dir");
  auto target = make("{id: q, type: queue_file, path: " + (dir / "is-a-dir").string() + "}", io);
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
  EXPECT_EQ(result.error_code, targets::ErrorCode::kErrorFromTarget);
  EXPECT_NE(result.error_message.find("is-a-dir"), std::string::npos);
}

TEST(QueueFile, AfterShutdownDeliveriesAreRefusedAsRetryable) {
  TempDir dir;
  boost::asio::io_context io;
  auto target = make("{id: q, type: queue_file, path: " + (dir / "q").string() + "}", io);
  target->shutdown(std::chrono::milliseconds(100));
  const DeliveryResult result = testing::deliver_and_wait(*target, testing::invocation("{}"));
  EXPECT_EQ(result.outcome, Outcome::kRetryable);
}

}  // namespace
}  // namespace eventrouter::targets
