#include "eventrouter/config/yaml_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eventrouter::config {
namespace {

using ::testing::HasSubstr;

std::string convert(const std::string& yaml, std::vector<Diagnostic>* problems_out = nullptr) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/p.yaml", problems);
  auto node = parse_yaml_text(file, yaml);
  EXPECT_TRUE(node.has_value());
  auto json = yaml_to_json(file, *node);
  if (problems_out != nullptr) *problems_out = problems;
  return json.value_or("<error>");
}

TEST(YamlJson, ScalarsKeepTheirYamlTypes) {
  EXPECT_EQ(convert("a: 7"), R"({"a":7})");
  EXPECT_EQ(convert("a: '7'"), R"({"a":"7"})");
  EXPECT_EQ(convert("a: \"7\""), R"({"a":"7"})");
  EXPECT_EQ(convert("a: !!str 7"), R"({"a":"7"})");
  EXPECT_EQ(convert("a: [true, false, True, 'true']"), R"({"a":[true,false,true,"true"]})");
  EXPECT_EQ(convert("a: [null, ~, Null, 'null', ]"), R"({"a":[null,null,null,"null"]})");
  EXPECT_EQ(convert("a:"), R"({"a":null})");
  EXPECT_EQ(convert("a: [yes, no, on, off]"), R"({"a":["yes","no","on","off"]})");
  EXPECT_EQ(convert("a: [-3, +4, 007, 0x1F, 0o17]"), R"({"a":[-3,4,7,31,15]})");
  EXPECT_EQ(convert("a: [1.5, .5, -0.25, 1e3, 2.5E-2, 3., +1.0]"),
            R"({"a":[1.5,0.5,-0.25,1e3,2.5e-2,3.0,1.0]})");
  EXPECT_EQ(convert("a: [1_000, 1.2.3, 0x, 12abc]"), R"({"a":["1_000","1.2.3","0x","12abc"]})");
}

TEST(YamlJson, NestedPatternsAndKeys) {
  EXPECT_EQ(convert(R"(
source: [aws.guardduty]
detail-type: [GuardDuty Finding]
detail:
  severity: [{ numeric: [">=", 7] }]
  "7": x
)"),
            R"({"source":["aws.guardduty"],"detail-type":["GuardDuty Finding"],)"
            R"("detail":{"severity":[{"numeric":[">=",7]}],"7":"x"}})");
}

TEST(YamlJson, StringsAreEscaped) {
  EXPECT_EQ(convert("a: \"quote\\\" back\\\\ tab\\t nl\\n bell\\a\""),
            R"({"a":"quote\" back\\ tab\t nl\n bell\u0007"})");
  EXPECT_EQ(convert("a: héllo ☃"), "{\"a\":\"héllo ☃\"}");
}

TEST(YamlJson, ValuesJsonCannotHoldAreReported) {
  std::vector<Diagnostic> problems;
  EXPECT_EQ(
      convert("a: [.inf, -.Inf, .nan]\nb: !!int x\nc: !custom 1\nd: {k: 1, k: 2}\n", &problems),
      "<error>");
  ASSERT_EQ(problems.size(), 6u);
  EXPECT_EQ(problems[0].to_string(),
            "/x/p.yaml:1:5: '.inf' (infinity or not-a-number) cannot be written in JSON; quote it "
            "if you mean the string");
  EXPECT_EQ(problems[1].column, 11);
  EXPECT_EQ(problems[2].column, 18);
  EXPECT_EQ(problems[3].to_string(), "/x/p.yaml:2:4: 'x' is not a number JSON can hold");
  EXPECT_THAT(problems[4].message, HasSubstr("unsupported YAML tag '!custom'"));
  EXPECT_EQ(problems[5].to_string(), "/x/p.yaml:4:11: duplicate key 'k'; keep only one");
}

TEST(YamlJson, NonScalarKeysAreReported) {
  std::vector<Diagnostic> problems;
  EXPECT_EQ(convert("? [a, b]\n: 1\n", &problems), "<error>");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].message, HasSubstr("must be a string"));
}

}  // namespace
}  // namespace eventrouter::config
