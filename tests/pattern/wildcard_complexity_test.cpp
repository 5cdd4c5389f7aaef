// EventBridge's wildcard complexity limit, measured as aws/event-ruler measures it: the most
// wildcard-value prefixes one value of a field can be in at once, over all of a rule's
// wildcard values on that field (src/pattern/wildcard_complexity.hpp). The limit is 10.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_helpers.hpp"

namespace eventrouter::pattern::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kEventBridgeReason =
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character";

std::string wildcards(const std::vector<std::string>& globs) {
  std::string out = "[";
  for (const std::string& glob : globs) {
    if (out.size() > 1) out += ",";
    out += R"({"wildcard": ")" + glob + "\"}";
  }
  return out + "]";
}

// "a*" and n b's: the value "a" + n b's is in "a*", "a*b", ..., "a*b...b": n + 1 prefixes.
std::string a_star_bs(int bs) {
  return "a*" + std::string(static_cast<std::size_t>(bs), 'b');
}

// "*:stack/<name>/*": once a value has passed ":stack/<name>/", every later ":stack/" is in
// that glob's two '*' and its "*:stack/": 3 per glob.
std::string stack_glob(const std::string& name) {
  return "*:stack/" + name + "/*";
}

TEST(WildcardComplexity, EventBridgeExampleIsRefused) {
  // ":::::event-bus/:::::" is in five "...*", five "...:" and the whole pattern: 11.
  EXPECT_THAT(reason(R"({"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]})"),
              AllOf(StartsWith(kEventBridgeReason), HasSubstr("field \"EventBusArn\""),
                    HasSubstr("complexity above 10")));
}

TEST(WildcardComplexity, OrdinaryWildcardsAreAccepted) {
  EXPECT_TRUE(match(R"({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]})",
                    R"({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/main"})"));
  for (const char* glob : {"i-*0000", "*ab*ab*", "*.png", "*", "a\\\\*b", "10.*.1", "*-*-1",
                           "arn:aws:iam::*:role/*", "*Title*", "s3://bucket/*/logs/*.gz"}) {
    auto p = compile(std::string(R"({"a": [{"wildcard": ")") + glob + "\"}]}");
    EXPECT_TRUE(p) << glob << ": " << (p ? "" : p.error());
  }
  EXPECT_TRUE(compile(R"({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]})"));
}

TEST(WildcardComplexity, OneValueBelowAtAndAboveTheLimit) {
  EXPECT_TRUE(compile(R"({"a": )" + wildcards({a_star_bs(8)}) + "}"));   // 9
  const std::string at = R"({"a": )" + wildcards({a_star_bs(9)}) + "}";  // 10
  EXPECT_TRUE(match(at, R"({"a": "axyzbbbbbbbbb"})"));
  EXPECT_FALSE(match(at, R"({"a": "abbbbbbbb"})"));
  EXPECT_THAT(reason(R"({"a": )" + wildcards({a_star_bs(10)}) + "}"),  // 11
              AllOf(StartsWith(kEventBridgeReason), HasSubstr("field \"a\"")));
}

TEST(WildcardComplexity, ValuesOfOneFieldCountTogether) {
  EXPECT_TRUE(compile(R"({"id": )" +
                      wildcards({stack_glob("Api"), stack_glob("Data"), stack_glob("Web")}) +
                      "}"));  // 9
  // A fourth value that shares no prefix with them adds its "a*" to any value starting "a": 10.
  const std::string at =
      R"({"id": )" + wildcards({stack_glob("Api"), stack_glob("Data"), stack_glob("Web"), "a*"}) +
      "}";
  EXPECT_TRUE(match(at, R"({"id": "cfn:us-east-1:1:stack/Data/42"})"));
  EXPECT_TRUE(match(at, R"({"id": "abc"})"));
  EXPECT_FALSE(match(at, R"({"id": "cfn:us-east-1:1:stack/Ops/42"})"));
  EXPECT_THAT(reason(R"({"id": )" +
                     wildcards({stack_glob("Api"), stack_glob("Data"), stack_glob("Web"),
                                stack_glob("Ops")}) +
                     "}"),  // 12
              AllOf(StartsWith(kEventBridgeReason), HasSubstr("field \"id\"")));
}

TEST(WildcardComplexity, AnythingButWildcardsCount) {
  const std::string three = R"({"id": [{"anything-but": {"wildcard": [")" + stack_glob("Api") +
                            "\", \"" + stack_glob("Data") + "\", \"" + stack_glob("Web") +
                            "\"]}}]}";
  EXPECT_TRUE(match(three, R"({"id": "x:stack/Ops/1"})"));
  EXPECT_FALSE(match(three, R"({"id": "x:stack/Web/1"})"));
  EXPECT_THAT(reason(R"({"id": [{"anything-but": {"wildcard": [")" + stack_glob("Api") + "\", \"" +
                     stack_glob("Data") + "\", \"" + stack_glob("Web") + "\", \"" +
                     stack_glob("Ops") + "\"]}}]}"),
              StartsWith(kEventBridgeReason));
  // A wildcard and an anything-but wildcard with the same text are two patterns: 6 + 6.
  EXPECT_THAT(
      reason(R"({"a": [{"wildcard": "a*bbbbb"}, {"anything-but": {"wildcard": "a*bbbbb"}}]})"),
      StartsWith(kEventBridgeReason));
}

TEST(WildcardComplexity, OrAlternativesOnOneFieldCountTogether) {
  const std::string split_over_or =
      R"({"$or": [{"id": )" + wildcards({stack_glob("Api"), stack_glob("Data")}) + R"(}, {"id": )" +
      wildcards({stack_glob("Web"), stack_glob("Ops")}) + "}]}";
  EXPECT_THAT(reason(split_over_or), StartsWith(kEventBridgeReason));
  // Fields are evaluated apart: 9 on each.
  const std::string two_fields =
      R"({"id": )" + wildcards({stack_glob("Api"), stack_glob("Data"), stack_glob("Web")}) +
      R"(, "other": )" + wildcards({stack_glob("Api"), stack_glob("Data"), stack_glob("Web")}) +
      "}";
  EXPECT_TRUE(match(two_fields, R"({"id": "a:stack/Api/1", "other": "b:stack/Web/2"})"));
}

TEST(WildcardComplexity, RepeatedValuesCountOnce) {
  const std::string glob = stack_glob("Api");
  EXPECT_TRUE(compile(R"({"$or": [{"id": )" + wildcards({glob, glob}) + R"(}, {"id": )" +
                      wildcards({glob, glob}) + "}]}"));
}

TEST(WildcardComplexity, ManyValuesSharingAPrefixAreRefused) {
  std::vector<std::string> globs;
  for (int i = 0; i < 2000; ++i) globs.push_back("v" + std::to_string(i) + "*");
  EXPECT_THAT(reason(R"({"a": )" + wildcards(globs) + "}"), StartsWith(kEventBridgeReason));
}

// Values that no input can be in more than one of at once, but so many and so long that
// evaluating them would take too long: refused, saying so.
TEST(WildcardComplexity, TooMuchToEvaluateIsRefused) {
  std::vector<std::string> globs;
  for (char first = 'A'; first <= 'Z'; ++first) {
    std::string glob(1, first);
    for (int i = 0; i < 2000; ++i) glob += static_cast<char>('a' + i % 26);
    globs.push_back(glob);
  }
  EXPECT_THAT(reason(R"({"a": )" + wildcards(globs) + "}"),
              AllOf(StartsWith(kEventBridgeReason), HasSubstr("too many or too long")));
  globs.resize(3);
  for (std::string& glob : globs) glob.resize(1000);
  EXPECT_TRUE(compile(R"({"a": )" + wildcards(globs) + "}"));
}

}  // namespace
}  // namespace eventrouter::pattern::testing
