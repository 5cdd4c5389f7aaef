// The matcher's walk over simdjson's structural index (FlatEvent): JSON spellings that reach
// the same values must match alike (whitespace, escapes, number forms), and damaged documents
// must match nothing without reading outside the event.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../../src/pattern/comparable_number.hpp"
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
  // Too small for a double: it matches only its own text (see number_text_test.cpp).
  EXPECT_FALSE(match(R"({"n":[{"numeric":["=",0]}]})", R"({"n":1e-400})"));
  EXPECT_TRUE(match(R"({"n":[{"numeric":["<",-1e300]}]})", R"({"n":-1.5e308})"));
  EXPECT_TRUE(match(R"({"n":[9007199254740993]})", R"({"n":9007199254740993})"));
  EXPECT_FALSE(match(R"({"n":["5"]})", R"({"n":5})"));
}

// The trie compares names of up to eight bytes in one word, up to sixteen with a second word
// and longer ones against its name text: a key differing from a rule's name in any one byte, or
// by length, must not reach it, whatever the length and whether it is escaped.
TEST(EventWalk, KeysOfEveryLengthMatchOnlyExactly) {
  for (std::size_t length = 1; length <= 40; ++length) {
    std::string name;
    for (std::size_t i = 0; i < length; ++i) name += static_cast<char>('a' + i % 26);
    const std::string pattern = R"({")" + name + R"(":["x"],"z":["y"]})";
    auto event = [](const std::string& key) { return R"({")" + key + R"(":"x","z":"y"})"; };
    EXPECT_TRUE(match(pattern, event(name))) << name;
    // The same key spelled with an escape (read from the unescaped copy).
    EXPECT_TRUE(match(pattern, event("\\u0061" + name.substr(1)))) << name;
    for (std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      std::string other = name;
      other[at] = 'A';
      EXPECT_FALSE(match(pattern, event(other))) << other;
    }
    EXPECT_FALSE(match(pattern, event(name + "a"))) << name;
    EXPECT_FALSE(match(pattern, event(name.substr(0, length - 1)))) << name;
    // A nested spelling of a dotted rule path reaches it through each segment.
    EXPECT_TRUE(match(R"({"p.)" + name + R"(":["x"]})", R"({"p":{")" + name + R"(":"x"}})"));
    EXPECT_TRUE(match(R"({"p":{")" + name + R"(":["x"]}})", R"({"p.)" + name + R"(":"x"})"));
  }
}

// The walk reads short plain decimals itself (not through from_chars): every spelling must give
// the double the pattern's parser (simdjson) gives, exactly. Spellings with up to 15 digits take
// that path; longer ones and exponents take from_chars.
TEST(EventWalk, ShortDecimalsReadExactly) {
  std::vector<std::string> spellings;
  for (const char* n :
       {"0", "-0", "-0.0", "0.1", "0.2", "0.3", "12.50", "-7.25", "100.0", "1e2", "1.5E-3",
        "123456789012345", "1234567890123456", "0.30000000000000004", "999999999999999",
        "0.000000000000001", "-0.000000000000009", "4503599627370497.5"}) {
    spellings.push_back(n);
  }
  std::mt19937_64 random(20240611);
  for (int i = 0; i < 1500; ++i) {
    std::string s = random() % 4 == 0 ? "-" : "";
    const int whole = 1 + static_cast<int>(random() % 9);
    const int fraction = static_cast<int>(random() % 9);
    s += static_cast<char>('1' + random() % 9);
    for (int d = 1; d < whole; ++d) s += static_cast<char>('0' + random() % 10);
    if (fraction != 0) {
      s += '.';
      for (int d = 0; d < fraction; ++d) s += static_cast<char>('0' + random() % 10);
    }
    spellings.push_back(s);
  }
  for (const std::string& n : spellings) {
    EXPECT_TRUE(match(R"({"n":[)" + n + "]}", R"({"n":)" + n + "}")) << n;
    // Spellings more precise than a double are no numeric bound (number_text_test.cpp).
    if (!detail::comparable_number(n)) continue;
    EXPECT_TRUE(match(R"({"n":[{"numeric":["=",)" + n + "]}]}", R"({"x":1,"n":)" + n + "}")) << n;
  }
}

// Array chains live in one buffer that grows while an event is walked: chains written before
// and after it grows must keep telling array elements apart, at every nesting depth, and a
// number followed by whitespace (far from the next structural character) is still read.
TEST(EventWalk, ArrayChainsSurviveTheirBufferGrowing) {
  std::string event = R"({"r":[)";
  for (int i = 0; i < 300; ++i) {
    if (i != 0) event += ',';
    event += R"({"a":"a)" + std::to_string(i) + R"(","b":[["b)" + std::to_string(i) + R"("]]})";
  }
  event += R"(],"n":1.5                    })";
  EXPECT_TRUE(match(R"({"r":{"a":["a0"],"b":["b0"]}})", event));
  EXPECT_TRUE(match(R"({"r":{"a":["a299"],"b":["b299"]}})", event));
  EXPECT_FALSE(match(R"({"r":{"a":["a0"],"b":["b299"]}})", event));
  EXPECT_FALSE(match(R"({"r":{"a":["a298"],"b":["b299"]}})", event));
  EXPECT_TRUE(match(R"({"n":[1.5]})", event));
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
