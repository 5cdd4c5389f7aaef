// `eventrouter test-pattern`: inline JSON, files and stdin; exit codes 0 / 1 / 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "eventrouter/pattern/pattern.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::pattern {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int code;
  std::string out;
  std::string err;
};

CommandResult run(std::string_view pattern, std::string_view event,
                  const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  int code = run_test_pattern_command(pattern, event, in, out, err);
  return {code, out.str(), err.str()};
}

TEST(TestPatternCommand, InlineMatchAndNoMatch) {
  CommandResult hit = run(R"({"source": ["aws.guardduty"]})", R"({"source": "aws.guardduty"})");
  EXPECT_EQ(hit.code, 0);
  EXPECT_EQ(hit.out, "match\n");
  EXPECT_EQ(hit.err, "");
  CommandResult miss = run(R"({"source": ["aws.guardduty"]})", R"({"source": "aws.macie"})");
  EXPECT_EQ(miss.code, 1);
  EXPECT_EQ(miss.out, "no match\n");
}

TEST(TestPatternCommand, InlineJsonMayStartWithBlanks) {
  EXPECT_EQ(run("  \n {\"a\": [1]}", " {\"a\": 1}").code, 0);
}

TEST(TestPatternCommand, FilesAndStdin) {
  testing::TempDir dir;
  std::string pattern =
      dir.write("p.json", R"({"detail": {"severity": [{"numeric": [">=", 7]}]}})").string();
  std::string event = dir.write("e.json", R"({"detail": {"severity": 8.5}})").string();
  EXPECT_EQ(run(pattern, event).code, 0);
  CommandResult from_stdin = run(pattern, "-", R"({"detail": {"severity": 2}})");
  EXPECT_EQ(from_stdin.code, 1);
  EXPECT_EQ(from_stdin.out, "no match\n");
  EXPECT_EQ(run("-", event, R"({"detail": {"severity": [8.5]}})").code, 0);
}

TEST(TestPatternCommand, RealFixtureFiles) {
  std::string fixtures = std::string(EVENTROUTER_SOURCE_DIR) + "/tests/fixtures/events/";
  CommandResult r =
      run(R"({"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 7]}]}})",
          fixtures + "guardduty-credential-exfiltration.json");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(TestPatternCommand, InvalidPatternExitsTwoWithAwsWording) {
  CommandResult r = run(R"({"source": "aws.ec2"})", R"({"source": "aws.ec2"})");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(
      r.err,
      HasSubstr("Event pattern is not valid. Reason: \"source\" must be an object or an array"));
}

TEST(TestPatternCommand, InvalidEventExitsTwo) {
  CommandResult bad_json = run(R"({"a": ["x"]})", "{\"a\": ");
  EXPECT_EQ(bad_json.code, 2);
  EXPECT_THAT(bad_json.err, HasSubstr("Event is not valid JSON"));
  CommandResult not_object = run(R"({"a": ["x"]})", "[1, 2]");
  EXPECT_EQ(not_object.code, 2);
  EXPECT_THAT(not_object.err, HasSubstr("Event must be a JSON object"));
}

TEST(TestPatternCommand, MissingFileAndDoubleStdinExitTwo) {
  CommandResult missing = run("/nonexistent/pattern.json", R"({"a": 1})");
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("cannot read pattern file \"/nonexistent/pattern.json\""));
  CommandResult twice = run("-", "-", R"({"a": ["x"]})");
  EXPECT_EQ(twice.code, 2);
  EXPECT_THAT(twice.err, HasSubstr("standard input was already read"));
  CommandResult empty = run("", R"({"a": 1})");
  EXPECT_EQ(empty.code, 2);
}

}  // namespace
}  // namespace eventrouter::pattern
