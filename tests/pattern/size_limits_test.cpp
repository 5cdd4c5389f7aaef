// The limits on a pattern's size once $or is expanded (src/pattern/limits.hpp): each is met
// exactly (accepted, and matching as it should), and passed by one (refused with EventBridge's
// "Rule is too complex" and the limit's figure), for every shape that multiplies: $or × $or,
// $or × many values, nested $or, many fields, long values.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_helpers.hpp"

namespace eventrouter::pattern::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// `count` two-branch $or: 2^count alternatives, each holding `count` one-value conditions
// (field oN is "x" in one branch, pN is "y" in the other).
std::string binary_ors(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ",";
    const std::string n = std::to_string(i);
    out += "\"g" + n + R"(": {"$or": [{"o)" + n + R"(": ["x"]}, {"p)" + n + R"(": ["y"]}]})";
  }
  return out;
}

// A field listing `count` values "v0", "v1", ...
std::string value_list(const std::string& field, int count) {
  std::string out = "\"" + field + "\": [";
  for (int i = 0; i < count; ++i) {
    if (i) out += ",";
    out += "\"v" + std::to_string(i) + "\"";
  }
  return out + "]";
}

// `count` fields f0, f1, ... each listing "x".
std::string fields(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ",";
    out += "\"f" + std::to_string(i) + R"(": ["x"])";
  }
  return out;
}

std::string fields_event(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += ",\"f" + std::to_string(i) + R"(": "x")";
  return out;
}

// An event meeting the branch "pN" of every binary $or but the first, where it meets "o0".
std::string binary_ors_event(int count) {
  std::string out = R"("g0": {"o0": "x"})";
  for (int i = 1; i < count; ++i) {
    const std::string n = std::to_string(i);
    out += ",\"g" + n + R"(": {"p)" + n + R"(": "y"})";
  }
  return out;
}

// The issue's pattern: ten two-branch $or (1,024 alternatives) and a 20,000-value field. Its
// leaves are parsed once and shared while expanding, so it is refused before anything is
// copied per alternative.
TEST(SizeLimits, ReportedOrTimesValueListIsRefusedCheaply) {
  const std::string after = "{" + binary_ors(10) + "," + value_list("ids", 20000) + "}";
  EXPECT_THAT(reason(after),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 32768 values"),
                    HasSubstr("fewer $or combinations or fewer values")));
  const std::string before = "{" + value_list("ids", 20000) + "," + binary_ors(10) + "}";
  EXPECT_THAT(reason(before),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 32768 values")));
  // The same list without the $or is one alternative, well within the limit.
  EXPECT_TRUE(match("{" + value_list("ids", 20000) + "}", R"({"ids": "v19999"})"));
}

TEST(SizeLimits, AlternativesAtAndAboveTheLimit) {
  auto at = compile("{" + binary_ors(10) + "}");
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->alternative_count(), 1024u);
  EXPECT_TRUE(match("{" + binary_ors(10) + "}", "{" + binary_ors_event(10) + "}"));
  EXPECT_FALSE(match("{" + binary_ors(10) + "}", R"({"g0": {"o0": "y"}})"));
  EXPECT_THAT(reason("{" + binary_ors(11) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 1024 alternatives"),
                    HasSubstr("split the rule into several rules")));
}

TEST(SizeLimits, ConditionsInOneAlternative) {
  EXPECT_TRUE(match("{" + fields(16383) + "}", "{\"z\": 0" + fields_event(16383) + "}"));
  EXPECT_TRUE(match("{" + fields(16384) + "}", "{\"z\": 0" + fields_event(16384) + "}"));
  EXPECT_FALSE(match("{" + fields(16384) + "}", "{\"z\": 0" + fields_event(16383) + "}"));
  EXPECT_THAT(
      reason("{" + fields(16385) + "}"),
      AllOf(StartsWith("Rule is too complex - "), HasSubstr("holds 16385 field conditions"),
            HasSubstr("the limit is 16384"), HasSubstr("fewer $or combinations or fewer fields")));
}

// 1,024 alternatives of 10 $or conditions and n plain fields: 1,024 × (10 + n) conditions.
TEST(SizeLimits, ConditionsMultipliedByOr) {
  const std::string at = "{" + binary_ors(10) + "," + fields(6) + "}";  // 16,384
  EXPECT_TRUE(match(at, "{" + binary_ors_event(10) + fields_event(6) + "}"));
  EXPECT_FALSE(match(at, "{" + binary_ors_event(10) + fields_event(5) + "}"));
  EXPECT_TRUE(compile("{" + binary_ors(10) + "," + fields(5) + "}"));  // 15,360
  // 17,408: found once expansion is done, with its exact figure.
  EXPECT_THAT(
      reason("{" + binary_ors(10) + "," + fields(7) + "}"),
      AllOf(StartsWith("Rule is too complex - "), HasSubstr("holds 17408 field conditions")));
}

TEST(SizeLimits, ValuesInOneField) {
  EXPECT_TRUE(compile("{" + value_list("a", 32767) + "}"));
  EXPECT_TRUE(match("{" + value_list("a", 32768) + "}", R"({"a": "v32767"})"));
  EXPECT_FALSE(match("{" + value_list("a", 32768) + "}", R"({"a": "v32768"})"));
  EXPECT_THAT(reason("{" + value_list("a", 32769) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 32769 values"),
                    HasSubstr("the limit is 32768")));
}

TEST(SizeLimits, AnythingButListEntriesAreValues) {
  std::string list;
  for (int i = 0; i < 32769; ++i) list += (i ? "," : "") + std::to_string(i);
  EXPECT_THAT(reason(R"({"a": [{"anything-but": [)" + list + "]}]}"),
              HasSubstr("lists 32769 values"));
  std::string strings;
  for (int i = 0; i < 32768; ++i) strings += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  EXPECT_TRUE(match(R"({"a": [{"anything-but": [)" + strings + "]}]}", R"({"a": "t"})"));
  EXPECT_FALSE(match(R"({"a": [{"anything-but": [)" + strings + "]}]}", R"({"a": "s32767"})"));
}

// 1,024 alternatives of 10 $or values and one shared field of n values: 1,024 × (10 + n).
TEST(SizeLimits, ValuesMultipliedByOr) {
  const std::string at = "{" + binary_ors(10) + "," + value_list("ids", 22) + "}";  // 32,768
  EXPECT_TRUE(match(at, "{" + binary_ors_event(10) + R"(, "ids": "v21"})"));
  EXPECT_FALSE(match(at, "{" + binary_ors_event(10) + R"(, "ids": "v22"})"));
  EXPECT_TRUE(compile("{" + binary_ors(10) + "," + value_list("ids", 21) + "}"));
  EXPECT_THAT(reason("{" + binary_ors(10) + "," + value_list("ids", 23) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 33792 values")));
}

// Each branch of one $or lists its own values: they add up, they do not multiply.
TEST(SizeLimits, OrWithManyValuesPerBranch) {
  const std::string below =
      R"({"$or": [{)" + value_list("a", 16384) + "}, {" + value_list("b", 16384) + "}]}";
  EXPECT_TRUE(match(below, R"({"b": "v16383"})"));
  EXPECT_FALSE(match(below, R"({"b": "v16384"})"));
  EXPECT_THAT(
      reason(R"({"$or": [{)" + value_list("a", 16384) + "}, {" + value_list("b", 16385) + "}]}"),
      HasSubstr("lists 32769 values"));
}

// $or inside $or: the inner alternatives multiply the outer branch that holds them. Branch A
// is 2^7 × 4 = 512 alternatives of 8 conditions (plus a shared list of n values), branch B
// 2^9 = 512 alternatives of 9 conditions.
std::string nested_or(int four_way_items, int list_values) {
  std::string four_way = R"("$or": [{"q": [1]}, {"r": [2]}, {"s": [3]}, {"t": [4]})";
  for (int i = 4; i < four_way_items; ++i) four_way += R"(, {"u": [5]})";
  std::string a = "{" + binary_ors(7) + ", " + four_way + "]";
  if (list_values > 0) a += ", " + value_list("ids", list_values);
  return R"({"$or": [)" + a + "}, {" + binary_ors(9) + "}]}";
}

TEST(SizeLimits, NestedOrAlternatives) {
  auto at = compile(nested_or(4, 0));
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->alternative_count(), 1024u);
  EXPECT_TRUE(match(nested_or(4, 0), "{" + binary_ors_event(7) + R"(, "s": 3})"));
  EXPECT_FALSE(match(nested_or(4, 0), "{" + binary_ors_event(7) + R"(, "s": 4})"));
  EXPECT_TRUE(match(nested_or(4, 0), "{" + binary_ors_event(9) + "}"));
  EXPECT_THAT(reason(nested_or(5, 0)), HasSubstr("more than 1024 alternatives"));
}

// 512 × (8 + n) + 512 × 9 values: n = 47 is 32,768.
TEST(SizeLimits, NestedOrTimesValues) {
  EXPECT_TRUE(compile(nested_or(4, 46)));
  EXPECT_TRUE(match(nested_or(4, 47), "{" + binary_ors_event(7) + R"(, "r": 2, "ids": "v46"})"));
  EXPECT_FALSE(match(nested_or(4, 47), "{" + binary_ors_event(7) + R"(, "r": 2, "ids": "v47"})"));
  EXPECT_THAT(reason(nested_or(4, 48)),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 33280 values")));
}

// 1,024 alternatives of 10 one-byte $or values and one shared value of n bytes:
// 1,024 × (10 + n) bytes against the 1 MiB limit.
TEST(SizeLimits, ValueBytesMultipliedByOr) {
  const std::string long_value(1014, 'a');
  const std::string at = "{" + binary_ors(10) + R"(, "long": [")" + long_value + "\"]}";
  EXPECT_TRUE(match(at, "{" + binary_ors_event(10) + R"(, "long": ")" + long_value + "\"}"));
  EXPECT_FALSE(match(at, "{" + binary_ors_event(10) + R"(, "long": "a"})"));
  EXPECT_TRUE(compile("{" + binary_ors(10) + R"(, "long": [")" + long_value.substr(1) + "\"]}"));
  EXPECT_THAT(reason("{" + binary_ors(10) + R"(, "long": [")" + long_value + "a\"]}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("hold 1049600 bytes"),
                    HasSubstr("the limit is 1048576"), HasSubstr("fewer or shorter values")));
}

// A later duplicate field replaces the earlier one, in the count as in the pattern.
TEST(SizeLimits, DuplicateFieldCountsOnce) {
  const std::string pattern = "{" + value_list("a", 20000) + "," + value_list("a", 20000) + "," +
                              value_list("b", 10000) + "}";
  EXPECT_TRUE(match(pattern, R"({"a": "v19999", "b": "v0"})"));
}

}  // namespace
}  // namespace eventrouter::pattern::testing
