// Numbers as event-ruler has them: any JSON number is accepted in events and patterns, but only
// numbers a double holds exactly as written compare by value; the others match only a pattern
// number of the same text, and are refused as numeric bounds and anything-but numbers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../src/pattern/comparable_number.hpp"
#include "test_helpers.hpp"

namespace eventrouter::pattern::testing {
namespace {

using ::testing::HasSubstr;

TEST(Numbers, ComparableRule) {
  using detail::comparable_number;
  for (const char* yes :
       {"0", "-0", "0.0", "1", "0.1", "1.5e300", "1e20", "100000000000000000000",
        "9007199254740992", "1.7976931348623157e308", "2.2250738585072014e-308", "123.4500",
        "-3.018e2", "1E+2", "10.5", "0.001", "1.0000000000000000000000000000000000000000", "0e7",
        "0.000000000000000000000000000000000000001e39"}) {
    EXPECT_TRUE(comparable_number(yes)) << yes;
  }
  for (const char* no :
       {"1e400", "-1e400", "1e-400", "9007199254740993", "1.00000000000000000001", "5e-324",
        "1.7976931348623159e308", "0.10000000000000000001", "18446744073709551617",
        "1.0000000000000000000000000000000000000001", "7.2999999999999998", "4.94e-324"}) {
    EXPECT_FALSE(comparable_number(no)) << no;
  }
  EXPECT_EQ(comparable_number("4.9e-324"), 4.9e-324);  // Java's form of the least double
  EXPECT_EQ(comparable_number("100000000000000000000"), 1e20);
}

TEST(Numbers, EventsWithNumbersPastTheDoubleRangeAreValid) {
  EXPECT_TRUE(match(R"({"a": [{"exists": true}]})", R"({"a": 1, "b": 1e400})"));
  EXPECT_TRUE(match(R"({"a": [{"exists": true}]})", R"({"a": 1, "b": 100000000000000000000})"));
  EXPECT_TRUE(match(R"({"a": [{"exists": true}]})", R"({"a": 1, "b": [-1e400, {"c": 1e-400}]})"));
  EXPECT_TRUE(match(R"({"b": [{"exists": true}]})", R"({"b": 1e400})"));
  EXPECT_TRUE(match(R"({"b": [{"anything-but": [1, 2]}]})", R"({"b": 1e400})"));
  EXPECT_TRUE(match(R"({"b": [{"anything-but": "x"}]})", R"({"b": -1e400})"));
  EXPECT_FALSE(match(R"({"b": [{"exists": false}]})", R"({"b": 1e400})"));
  EXPECT_FALSE(match(R"({"b": ["1e400"]})", R"({"b": 1e400})"));
  EXPECT_FALSE(match(R"({"b": [{"prefix": "1"}]})", R"({"b": 1e400})"));
  // Still refused: numbers that are not JSON.
  auto pattern = compile(R"({"a": [{"exists": true}]})");
  ASSERT_TRUE(pattern);
  for (const char* bad : {R"({"a": 01})", R"({"a": 1.})", R"({"a": -})", R"({"a": 1e})",
                          R"({"a": .5})", R"({"a": 1e400.5})"}) {
    auto got = matches(*pattern, bad);
    EXPECT_FALSE(got) << bad;
    if (!got) {
      EXPECT_THAT(got.error(), HasSubstr("Event is not valid JSON")) << bad;
    }
  }
}

TEST(Numbers, NumbersThatDoNotCompareMatchOnlyTheirText) {
  EXPECT_TRUE(match(R"({"b": [1e400]})", R"({"b": 1e400})"));
  EXPECT_FALSE(match(R"({"b": [1e400]})", R"({"b": 1E400})"));
  EXPECT_FALSE(match(R"({"b": [1e400]})", R"({"b": 2e400})"));
  EXPECT_FALSE(match(R"({"b": [1e400]})", R"({"b": 1.7976931348623157e308})"));
  EXPECT_TRUE(match(R"({"b": [9007199254740993]})", R"({"b": 9007199254740993})"));
  EXPECT_FALSE(match(R"({"b": [9007199254740993]})", R"({"b": 9007199254740992})"));
  EXPECT_FALSE(match(R"({"b": [9007199254740992]})", R"({"b": 9007199254740993})"));
  EXPECT_FALSE(match(R"({"b": [1]})", R"({"b": 1.00000000000000000001})"));
  EXPECT_TRUE(match(R"({"b": [1.00000000000000000001]})", R"({"b": 1.00000000000000000001})"));
  EXPECT_FALSE(match(R"({"b": [1.00000000000000000001]})", R"({"b": 1})"));
  EXPECT_FALSE(match(R"({"b": [{"numeric": [">", 0]}]})", R"({"b": 9007199254740993})"));
  EXPECT_FALSE(match(R"({"b": [{"numeric": [">", 0]}]})", R"({"b": 1e400})"));
  EXPECT_FALSE(match(R"({"b": [{"numeric": ["<", 0]}]})", R"({"b": -1e400})"));
  EXPECT_FALSE(match(R"({"b": [{"numeric": ["=", 0]}]})", R"({"b": 1e-400})"));
  EXPECT_TRUE(
      match(R"({"b": [{"anything-but": 9007199254740992}]})", R"({"b": 9007199254740993})"));
  // In an array, beside values that do compare.
  EXPECT_TRUE(match(R"({"b": [{"numeric": [">", 0]}]})", R"({"b": [1e400, 5]})"));
  EXPECT_FALSE(match(R"({"b": [{"numeric": [">", 0]}]})", R"({"b": [1e400, -5]})"));
}

TEST(Numbers, LargeNumbersThatCompareMatchByValue) {
  EXPECT_TRUE(match(R"({"a": [100000000000000000000]})", R"({"a": 1e20})"));
  EXPECT_TRUE(match(R"({"a": [1e20]})", R"({"a": 100000000000000000000})"));
  EXPECT_TRUE(match(R"({"a": [{"numeric": [">", 1e19]}]})", R"({"a": 100000000000000000000})"));
  EXPECT_TRUE(match(R"({"a": [{"numeric": ["=", 100000000000000000000]}]})", R"({"a": 1e20})"));
  EXPECT_FALSE(match(R"({"a": [{"anything-but": [100000000000000000000]}]})", R"({"a": 1e20})"));
  EXPECT_TRUE(match(R"({"a": [0.1]})", R"({"a": 1e-1})"));
  EXPECT_TRUE(match(R"({"a": [5]})", R"({"a": 5.000})"));
}

TEST(Numbers, BoundsThatDoNotCompareAreRefused) {
  EXPECT_THAT(reason(R"({"a": [{"numeric": ["=", 1.00000000000000000001]}]})"),
              HasSubstr("Cannot compare number : 1.00000000000000000001 (field \"a\")"));
  EXPECT_THAT(reason(R"({"a": [{"numeric": [">", 9007199254740993]}]})"),
              HasSubstr("Cannot compare number : 9007199254740993"));
  EXPECT_THAT(reason(R"({"a": [{"numeric": [">", 0, "<", 1e400]}]})"),
              HasSubstr("Cannot compare number : 1e400"));
  EXPECT_THAT(reason(R"({"a": [{"numeric": ["<=", -1e400]}]})"),
              HasSubstr("Cannot compare number : -1e400"));
  EXPECT_THAT(reason(R"({"a": [{"anything-but": [5e-324]}]})"),
              HasSubstr("Cannot compare number : 5e-324"));
  EXPECT_THAT(reason(R"({"a": [{"anything-but": 1e-400}]})"),
              HasSubstr("Cannot compare number : 1e-400"));
  EXPECT_THAT(reason(R"({"a": [{"anything-but": [1, 100000000000000000001]}]})"),
              HasSubstr("Cannot compare number : 100000000000000000001"));
  // Messages show numbers as written.
  EXPECT_THAT(reason(R"({"a": [{"numeric": [">", 5, "<", 1.5e0]}]})"),
              HasSubstr("the lower bound 5 must be below the upper bound 1.5e0"));
  EXPECT_THAT(reason(R"({"a": 1e400})"), HasSubstr("\"a\": [1e400]"));
  EXPECT_TRUE(compile(R"({"a": [1e400, -1e400, 9007199254740993]})"));
}

}  // namespace
}  // namespace eventrouter::pattern::testing
