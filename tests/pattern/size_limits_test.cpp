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

// `count` four-branch $or: 4^count alternatives, each holding `count` one-value conditions
// (field qN is "a", "b", "c" or "d" in its four branches: one byte of text each).
std::string quad_ors(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ",";
    const std::string n = std::to_string(i);
    out += "\"q" + n + R"(": {"$or": [{"a": ["a"]}, {"b": ["b"]}, {"c": ["c"]}, {"d": ["d"]}]})";
  }
  return out;
}

// An event meeting the branch "c" of every four-branch $or.
std::string quad_ors_event(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ",";
    out += "\"q" + std::to_string(i) + R"(": {"c": "c"})";
  }
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
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 16384 values"),
                    HasSubstr("fewer $or combinations or fewer values")));
  const std::string before = "{" + value_list("ids", 20000) + "," + binary_ors(10) + "}";
  EXPECT_THAT(reason(before),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 16384 values")));
  // The list on its own is one alternative, still over the values limit.
  EXPECT_THAT(reason("{" + value_list("ids", 20000) + "}"), HasSubstr("lists 20000 values"));
}

TEST(SizeLimits, AlternativesAtAndAboveTheLimit) {
  const std::string at = "{" + quad_ors(5) + "}";
  auto p = compile(at);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->alternative_count(), 1024u);
  EXPECT_TRUE(match(at, "{" + quad_ors_event(5) + "}"));
  EXPECT_FALSE(match(at, "{" + quad_ors_event(4) + "}"));
  EXPECT_THAT(reason("{" + quad_ors(5) + "," + binary_ors(1) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("more than 1024 alternatives"),
                    HasSubstr("split the rule into several rules")));
}

TEST(SizeLimits, ConditionsInOneAlternative) {
  EXPECT_TRUE(match("{" + fields(8191) + "}", "{\"z\": 0" + fields_event(8191) + "}"));
  EXPECT_TRUE(match("{" + fields(8192) + "}", "{\"z\": 0" + fields_event(8192) + "}"));
  EXPECT_FALSE(match("{" + fields(8192) + "}", "{\"z\": 0" + fields_event(8191) + "}"));
  EXPECT_THAT(
      reason("{" + fields(8193) + "}"),
      AllOf(StartsWith("Rule is too complex - "), HasSubstr("holds 8193 field conditions"),
            HasSubstr("the limit is 8192"), HasSubstr("fewer $or combinations or fewer fields")));
}

// 1,024 alternatives of 5 $or conditions and n plain fields: 1,024 × (5 + n) conditions.
TEST(SizeLimits, ConditionsMultipliedByOr) {
  const std::string at = "{" + quad_ors(5) + "," + fields(3) + "}";  // 8,192
  EXPECT_TRUE(match(at, "{" + quad_ors_event(5) + fields_event(3) + "}"));
  EXPECT_FALSE(match(at, "{" + quad_ors_event(5) + fields_event(2) + "}"));
  EXPECT_TRUE(compile("{" + quad_ors(5) + "," + fields(2) + "}"));  // 7,168
  // 9,216: found once expansion is done, with its exact figure.
  EXPECT_THAT(
      reason("{" + quad_ors(5) + "," + fields(4) + "}"),
      AllOf(StartsWith("Rule is too complex - "), HasSubstr("holds 9216 field conditions")));
}

TEST(SizeLimits, ValuesInOneField) {
  EXPECT_TRUE(compile("{" + value_list("a", 16383) + "}"));
  EXPECT_TRUE(match("{" + value_list("a", 16384) + "}", R"({"a": "v16383"})"));
  EXPECT_FALSE(match("{" + value_list("a", 16384) + "}", R"({"a": "v16384"})"));
  EXPECT_THAT(reason("{" + value_list("a", 16385) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 16385 values"),
                    HasSubstr("the limit is 16384")));
}

TEST(SizeLimits, AnythingButListEntriesAreValues) {
  std::string list;
  for (int i = 0; i < 16385; ++i) list += (i ? "," : "") + std::to_string(i);
  EXPECT_THAT(reason(R"({"a": [{"anything-but": [)" + list + "]}]}"),
              HasSubstr("lists 16385 values"));
  std::string strings;
  for (int i = 0; i < 16384; ++i) strings += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  EXPECT_TRUE(match(R"({"a": [{"anything-but": [)" + strings + "]}]}", R"({"a": "t"})"));
  EXPECT_FALSE(match(R"({"a": [{"anything-but": [)" + strings + "]}]}", R"({"a": "s16383"})"));
}

// 1,024 alternatives of 5 $or values and one shared field of n values: 1,024 × (5 + n).
TEST(SizeLimits, ValuesMultipliedByOr) {
  const std::string at = "{" + quad_ors(5) + "," + value_list("ids", 11) + "}";  // 16,384
  EXPECT_TRUE(match(at, "{" + quad_ors_event(5) + R"(, "ids": "v10"})"));
  EXPECT_FALSE(match(at, "{" + quad_ors_event(5) + R"(, "ids": "v11"})"));
  EXPECT_TRUE(compile("{" + quad_ors(5) + "," + value_list("ids", 10) + "}"));
  EXPECT_THAT(reason("{" + quad_ors(5) + "," + value_list("ids", 12) + "}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 17408 values")));
}

// Each branch of one $or lists its own values: they add up, they do not multiply.
TEST(SizeLimits, OrWithManyValuesPerBranch) {
  const std::string at =
      R"({"$or": [{)" + value_list("a", 8192) + "}, {" + value_list("b", 8192) + "}]}";
  EXPECT_TRUE(match(at, R"({"b": "v8191"})"));
  EXPECT_FALSE(match(at, R"({"b": "v8192"})"));
  EXPECT_THAT(
      reason(R"({"$or": [{)" + value_list("a", 8192) + "}, {" + value_list("b", 8193) + "}]}"),
      HasSubstr("lists 16385 values"));
}

// $or inside $or: the inner alternatives multiply the outer branch that holds them. Branch A
// is 2^7 × 4 = 512 alternatives of 8 conditions (plus a shared list of n values), branch B
// 4^4 × 2 = 512 alternatives of 5 conditions.
std::string nested_or(int four_way_items, int list_values) {
  std::string four_way = R"("$or": [{"q": [1]}, {"r": [2]}, {"s": [3]}, {"t": [4]})";
  for (int i = 4; i < four_way_items; ++i) four_way += R"(, {"u": [5]})";
  std::string a = "{" + binary_ors(7) + ", " + four_way + "]";
  if (list_values > 0) a += ", " + value_list("ids", list_values);
  return R"({"$or": [)" + a + "}, {" + quad_ors(4) + ", " + binary_ors(1) + "}]}";
}

TEST(SizeLimits, NestedOrAlternatives) {
  auto at = compile(nested_or(4, 0));
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->alternative_count(), 1024u);
  EXPECT_TRUE(match(nested_or(4, 0), "{" + binary_ors_event(7) + R"(, "s": 3})"));
  EXPECT_FALSE(match(nested_or(4, 0), "{" + binary_ors_event(7) + R"(, "s": 4})"));
  EXPECT_TRUE(match(nested_or(4, 0), "{" + quad_ors_event(4) + R"(, "g0": {"p0": "y"}})"));
  EXPECT_THAT(reason(nested_or(5, 0)), HasSubstr("more than 1024 alternatives"));
}

// 512 × (8 + n) + 512 × 5 values: n = 19 is 16,384.
TEST(SizeLimits, NestedOrTimesValues) {
  EXPECT_TRUE(compile(nested_or(4, 18)));
  EXPECT_TRUE(match(nested_or(4, 19), "{" + binary_ors_event(7) + R"(, "r": 2, "ids": "v18"})"));
  EXPECT_FALSE(match(nested_or(4, 19), "{" + binary_ors_event(7) + R"(, "r": 2, "ids": "v19"})"));
  EXPECT_THAT(reason(nested_or(4, 20)),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("lists 16896 values")));
}

// 1,024 alternatives of 5 one-byte $or values and one shared value of n bytes:
// 1,024 × (5 + n) bytes against the 1 MiB limit.
TEST(SizeLimits, ValueBytesMultipliedByOr) {
  const std::string long_value(1019, 'a');
  const std::string at = "{" + quad_ors(5) + R"(, "long": [")" + long_value + "\"]}";
  EXPECT_TRUE(match(at, "{" + quad_ors_event(5) + R"(, "long": ")" + long_value + "\"}"));
  EXPECT_FALSE(match(at, "{" + quad_ors_event(5) + R"(, "long": "a"})"));
  EXPECT_TRUE(compile("{" + quad_ors(5) + R"(, "long": [")" + long_value.substr(1) + "\"]}"));
  EXPECT_THAT(reason("{" + quad_ors(5) + R"(, "long": [")" + long_value + "a\"]}"),
              AllOf(StartsWith("Rule is too complex - "), HasSubstr("hold 1049600 bytes"),
                    HasSubstr("the limit is 1048576"), HasSubstr("fewer or shorter values")));
}

// A later duplicate field replaces the earlier one, in the count as in the pattern.
TEST(SizeLimits, DuplicateFieldCountsOnce) {
  const std::string pattern = "{" + value_list("a", 10000) + "," + value_list("a", 10000) + "," +
                              value_list("b", 5000) + "}";
  EXPECT_TRUE(match(pattern, R"({"a": "v9999", "b": "v0"})"));
}

}  // namespace
}  // namespace eventrouter::pattern::testing
