// The matcher's walk over simdjson's structural index (FlatEvent): JSON spellings that reach
// the same values must match alike (whitespace, escapes, number forms), and damaged documents
// must match nothing without reading outside the event.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eventrouter/pattern/pattern.hpp"
#include "test_helpers.hpp"

namespace eventrouter::pattern {
namespace {

using testing::match;

TEST(EventWalk, WhitespaceBetweenEveryTokenChangesNothing) {
  const std::string event =
      "{ \"source\" :\n \"aws.ec2\" ,\t\"detail\" : {\r\n \"tags\" : [ \"a\" , \"b\" ] ,"
      " \"n\" : 5 , \"ok\" : true , \"gone\" : null , \"skip\" : { \"x\" : [ 1 , { } ] } } }";
  EXPECT_TRUE(match(R"({"source":["aws.ec2"],"detail":{"tags":["b"],"n":[5]}})", event));
  EXPECT_TRUE(match(R"({"detail":{"ok":[true],"gone":[null]}})", event));
  EXPECT_TRUE(match(R"({"detail":{"skip":{"x":[{"numeric":[">",0]}]}}})", event));
  EXPECT_FALSE(match(R"({"detail":{"tags":["a b"]}})", event));
}

TEST(EventWalk, EscapedKeysAreComparedUnescaped) {
  EXPECT_TRUE(match(R"({"source":["aws.ec2"]})", R"({"sour\u0063e":"aws.ec2"})"));
  EXPECT_TRUE(match(R"({"a\"b":["x"]})", R"({"a\"b":"x"})"));
  // A key holding a backslash: the event's escaped spelling reaches it, a longer one does not.
  EXPECT_TRUE(match(R"({"a\\b":["x"]})", R"({"a\\b":"x"})"));
  EXPECT_FALSE(match(R"({"a\\b":["x"]})", R"({"a\\\\b":"x"})"));
}

TEST(EventWalk, EscapedStringsAreComparedUnescaped) {
  EXPECT_TRUE(match(R"({"a":["x\"y"]})", R"({"a":"x\"y"})"));
  EXPECT_TRUE(match(R"({"a":["café"]})", R"({"a":"caf\u00e9"})"));
  EXPECT_TRUE(match(R"({"a":[{"prefix":"line1\n"}]})", R"({"a":"line1\nline2"})"));
  EXPECT_TRUE(match(R"({"a":[{"suffix":"\\"}]})", R"({"a":"C:\\"})"));
  // Values after the document's first backslash, with and without escapes of their own.
  EXPECT_TRUE(
      match(R"({"b":["plain"],"c":["t\tab"]})", R"({"a":"back\\slash","b":"plain","c":"t\tab"})"));
  EXPECT_FALSE(match(R"({"b":["plain\\"]})", R"({"a":"\\","b":"plain"})"));
}

TEST(EventWalk, NumbersMatchByValueWhateverTheirSpelling) {
  EXPECT_TRUE(match(R"({"n":[301.8]})", R"({"n":3.018e2})"));
  EXPECT_TRUE(match(R"({"n":[100]})", R"({"n":1E+2})"));
  EXPECT_TRUE(match(R"({"n":[0]})", R"({"n":-0})"));
  EXPECT_TRUE(match(R"({"n":[{"numeric":["=",0]}]})", R"({"n":1e-400})"));
  EXPECT_TRUE(match(R"({"n":[{"numeric":["<",-1e300]}]})", R"({"n":-1.5e308})"));
  EXPECT_TRUE(match(R"({"n":[9007199254740993]})", R"({"n":9007199254740993})"));
  EXPECT_FALSE(match(R"({"n":["5"]})", R"({"n":5})"));
}

TEST(EventWalk, ValuesInNestedArraysAndSkippedSubtrees) {
  EXPECT_TRUE(match(R"({"a":["x"]})", R"({"a":[[["x"]],[]]})"));
  EXPECT_TRUE(match(R"({"b":["y"]})", R"({"a":[{"c":[[{"d":"}"}]]}],"b":"y"})"));
  EXPECT_TRUE(match(R"({"b":[{"exists":false}]})", R"({"a":{"b":{"c":"]"}},"c":{}})"));
}

// Damaged documents (the daemon validates events before it matches them; these reach the
// matcher only through its own API) match nothing and do not crash.
TEST(EventWalk, DamagedDocumentsMatchNothing) {
  auto pattern = compile(R"({"a":[{"exists":true}]})");
  ASSERT_TRUE(pattern.has_value());
  Matcher matcher({*pattern});
  const std::string deep =
      "{\"a\":" + std::string(100000, '[') + "1" + std::string(100000, ']') + "}";
  for (std::string event :
       {std::string("{not json"), std::string("{\"a\":"), std::string("{\"a\" 1}"),
        std::string("{\"a\":1,}"), std::string("[{\"a\":1}]"), std::string("\"a\""),
        std::string(""), std::string("{\"a\":\"unterminated}"), std::string("{\"a\":[1,2}"),
        std::string("{\"a\":\"\\u12\"}"), std::string("{\"a\":-}"), deep}) {
    std::vector<std::uint32_t> out;
    matcher.match(event, out);
    EXPECT_THAT(out, ::testing::IsEmpty()) << event.substr(0, 40);
    auto one_off = matches(*pattern, event);
    EXPECT_FALSE(one_off.has_value()) << event.substr(0, 40);
  }
}

}  // namespace
}  // namespace eventrouter::pattern
