// EventBridge takes events with JSON numbers of any size and precision. Whatever a target is
// sent, a number taken out of the event keeps the event's text byte for byte: no number is too
// big to deliver, and none is re-spelled (1.0 stays 1.0, 1e2 stays 1e2, -0 stays -0).

#include <gtest/gtest.h>

#include <string>

#include "eventrouter/transform/payload_shaper.hpp"
#include "eventrouter/yaml/parse.hpp"

namespace eventrouter::transform {
namespace {

// Written with whitespace, as a producer might: what comes out is minified, numbers untouched.
const char* const event = R"({
  "id": "e-1", "source": "app", "extra": 1e400,
  "detail": {
    "huge": 1e400, "tiny": -1e-400, "long": 123456789012345678901234567890,
    "past_uint64": 18446744073709551616, "past_int64": -9223372036854775809,
    "one": 1.0, "hundred": 1e2, "minus_zero": -0, "ratio": 2.50, "exp": 1E+2,
    "text": "1e400",
    "list": [ 1e400 , 2e400, 3 ],
    "nested": { "a": [ 1e400, { "b": -0 } ], "c": "x" },
    "a\/b": 10.00,
    "tags": [ {"k": "x", "v": 1e400}, {"k": "y", "v": 0.10} ]
  }
})";

std::string shape_with(const std::string& yaml) {
  auto shaper = PayloadShaper::from_node(yaml::parse(yaml).value(), "rules.yaml");
  if (!shaper) return "PROBLEM: " + shaper.error().front().message;
  auto result = shaper->shape(event, "my-rule", "2026-01-01T00:00:00Z");
  if (!result) return "ERROR: " + result.error();
  return *result;
}

std::string input_path(const std::string& path) {
  return shape_with("input_path: " + yaml::single_quoted(path));
}

std::string transformer(const std::string& paths, const std::string& input_template) {
  return shape_with("input_transformer:\n  input_paths_map: " + paths +
                    "\n  input_template: " + yaml::single_quoted(input_template) + "\n");
}

TEST(NumbersAsWritten, InputPathSelectsANumberAsItsText) {
  EXPECT_EQ(input_path("$.detail.huge"), "1e400");
  EXPECT_EQ(input_path("$.detail.tiny"), "-1e-400");
  EXPECT_EQ(input_path("$.detail.long"), "123456789012345678901234567890");
  EXPECT_EQ(input_path("$.detail.past_uint64"), "18446744073709551616");
  EXPECT_EQ(input_path("$.detail.past_int64"), "-9223372036854775809");
  EXPECT_EQ(input_path("$.detail.one"), "1.0");
  EXPECT_EQ(input_path("$.detail.hundred"), "1e2");
  EXPECT_EQ(input_path("$.detail.minus_zero"), "-0");
  EXPECT_EQ(input_path("$.detail.ratio"), "2.50");
  EXPECT_EQ(input_path("$.detail.exp"), "1E+2");
  EXPECT_EQ(input_path("$.detail.list[1]"), "2e400");
  EXPECT_EQ(input_path("$.detail.text"), R"("1e400")") << "a string stays a string";
}

TEST(NumbersAsWritten, InputPathSelectsObjectsAndArraysHoldingThem) {
  EXPECT_EQ(input_path("$.detail.nested"), R"({"a":[1e400,{"b":-0}],"c":"x"})");
  EXPECT_EQ(input_path("$.detail.list"), "[1e400,2e400,3]");
  EXPECT_EQ(input_path("$.detail.tags[*].v"), "[1e400,0.10]");
  EXPECT_EQ(input_path("$.detail.nested.a[*]"), R"([1e400,{"b":-0}])");
  EXPECT_EQ(input_path("$.detail.*.b"), "[]");
  EXPECT_EQ(input_path("$.detail['a/b']"), "10.00") << "keys match unescaped";
  const std::string whole = input_path("$");
  EXPECT_NE(whole.find(R"("extra":1e400,)"), std::string::npos) << whole;
  EXPECT_NE(whole.find(R"("past_int64":-9223372036854775809,"one":1.0,"hundred":1e2,)"),
            std::string::npos)
      << whole;
}

TEST(NumbersAsWritten, NumbersADoubleHoldsAreNotRespelledEither) {
  auto shaper =
      PayloadShaper::from_node(yaml::parse("{input_path: $.detail}").value(), "rules.yaml");
  ASSERT_TRUE(shaper);
  auto result =
      shaper->shape(R"({"detail": {"a": 2.50, "b": 1.0, "c": 1e2, "d": -0, "e": 0.1}})", "r", "t");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(*result, R"({"a":2.50,"b":1.0,"c":1e2,"d":-0,"e":0.1})");
}

TEST(NumbersAsWritten, TheWholeEventIsSentAsItIs) {
  EXPECT_EQ(shape_with("{id: t}"), event);
}

TEST(NumbersAsWritten, InputPathsMapValuesInAJsonTemplate) {
  EXPECT_EQ(transformer("{huge: $.detail.huge, long: $.detail.long, one: $.detail.one, "
                        "nested: $.detail.nested, vs: '$.detail.tags[*].v'}",
                        R"({"huge": <huge>, "long": [<long>], "one": <one>, "nested": <nested>,)"
                        R"( "vs": <vs>})"),
            R"({"huge":1e400,"long":[123456789012345678901234567890],"one":1.0,)"
            R"("nested":{"a":[1e400,{"b":-0}],"c":"x"},"vs":[1e400,0.10]})");
}

TEST(NumbersAsWritten, InputPathsMapValuesInsideJsonStrings) {
  EXPECT_EQ(transformer("{huge: $.detail.huge, zero: $.detail.minus_zero, list: $.detail.list}",
                        R"({"summary": "<huge> and <zero>", "list": "<list>"})"),
            R"({"summary":"1e400 and -0","list":"[1e400,2e400,3]"})");
  EXPECT_EQ(transformer("{huge: $.detail.huge}", R"("value <huge>")"), R"("value 1e400")");
}

TEST(NumbersAsWritten, InputPathsMapValuesInPlainText) {
  EXPECT_EQ(transformer("{huge: $.detail.huge, long: $.detail.long, hundred: $.detail.hundred, "
                        "nested: $.detail.nested}",
                        "huge=<huge> long=<long> hundred=<hundred> nested=<nested>"),
            R"(huge=1e400 long=123456789012345678901234567890 hundred=1e2 )"
            R"(nested={"a":[1e400,{"b":-0}],"c":"x"})");
}

TEST(NumbersAsWritten, PredefinedEventVariablesKeepThem) {
  const std::string without_detail = transformer("{}", R"({"e": <aws.events.event>})");
  EXPECT_EQ(without_detail, R"({"e":{"id":"e-1","source":"app","extra":1e400}})");
  const std::string whole = transformer("{}", R"({"e": <aws.events.event.json>})");
  EXPECT_NE(whole.find(R"("long":123456789012345678901234567890,)"), std::string::npos) << whole;
  EXPECT_NE(whole.find(R"("minus_zero":-0,"ratio":2.50,"exp":1E+2,)"), std::string::npos) << whole;
}

TEST(NumbersAsWritten, AMalformedNumberInWhatIsReadIsStillAnError) {
  auto shaper =
      PayloadShaper::from_node(yaml::parse("{input_path: $.detail.n}").value(), "rules.yaml");
  ASSERT_TRUE(shaper);
  for (const char* bad : {R"({"detail":{"n":01}})", R"({"detail":{"n":1.}})",
                          R"({"detail":{"n":-}})", R"({"detail":{"n":tru}})"}) {
    auto result = shaper->shape(bad, "r", "t");
    ASSERT_FALSE(result) << bad << " gave " << *result;
    EXPECT_TRUE(result.error().starts_with("the event is not valid JSON: ")) << result.error();
  }
}

}  // namespace
}  // namespace eventrouter::transform
