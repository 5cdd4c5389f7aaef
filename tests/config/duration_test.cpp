#include "eventrouter/config/duration.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eventrouter::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(Duration, Units) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("5m"), 5min);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("7d"), 168h);
  EXPECT_EQ(*parse_duration("0s"), 0ms);
}

TEST(Duration, BadInputsSayWhatToWrite) {
  EXPECT_EQ(parse_duration("30").error(),
            "'30' has no unit: use a whole number and a unit (ms, s, m, h or d), e.g. 500ms, "
            "30s, 5m, 1h, 7d");
  EXPECT_THAT(parse_duration("30sec").error(), HasSubstr("unknown unit 'sec'"));
  EXPECT_THAT(parse_duration("1.5s").error(), HasSubstr("unknown unit '.5s'"));
  EXPECT_THAT(parse_duration("").error(), HasSubstr("'' is not a duration"));
  EXPECT_THAT(parse_duration("-1s").error(), HasSubstr("'-1s' is not a duration"));
  EXPECT_THAT(parse_duration("s").error(), HasSubstr("is not a duration"));
  EXPECT_THAT(parse_duration("99999999999999999999h").error(), HasSubstr("too long"));
  EXPECT_THAT(parse_duration("9000h").error(), HasSubstr("too long"));
}

TEST(Duration, Format) {
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(5min), "5m");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(0ms), "0s");
}

TEST(Duration, ReadFromYamlReportsPosition) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/rules.yaml", problems);
  yaml::Node tree = *parse_yaml_text(file, "timeout: 5 minutes\nother: [1]\nok: 2s\n");
  EXPECT_FALSE(read_duration(file, tree["timeout"], "timeout"));
  EXPECT_FALSE(read_duration(file, tree["other"], "other"));
  EXPECT_EQ(*read_duration(file, tree["ok"], "ok"), 2s);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].to_string(),
            "/x/rules.yaml:1:10: timeout: '5 minutes' is not a duration: unknown unit ' minutes'; "
            "use a whole number and a unit (ms, s, m, h or d), e.g. 500ms, 30s, 5m, 1h, 7d");
  EXPECT_EQ(problems[1].to_string(),
            "/x/rules.yaml:2:8: other must be a duration such as 30s, not a list");
}

}  // namespace
}  // namespace eventrouter::config
