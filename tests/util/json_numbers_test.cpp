#include "eventrouter/util/json_numbers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace eventrouter::util {
namespace {

TEST(JsonNumbers, Grammar) {
  for (const char* yes : {"0", "-0", "1", "-12", "1.5", "0.25", "1e5", "1E+5", "1e-5", "-0.0e-0",
                          "100000000000000000000", "1e400"}) {
    EXPECT_TRUE(is_json_number(yes)) << yes;
  }
  for (const char* no : {"", "-", "01", "-01", "1.", ".5", "1e", "1e+", "+1", "1.5.5", "1-", "e5",
                         "0x10", "1e400.5"}) {
    EXPECT_FALSE(is_json_number(no)) << no;
  }
}

TEST(JsonNumbers, WhatTheDomHolds) {
  EXPECT_TRUE(fits_simdjson_dom("18446744073709551615"));
  EXPECT_FALSE(fits_simdjson_dom("18446744073709551616"));
  EXPECT_TRUE(fits_simdjson_dom("-9223372036854775808"));
  EXPECT_FALSE(fits_simdjson_dom("-9223372036854775809"));
  EXPECT_TRUE(fits_simdjson_dom("1.7976931348623157e308"));
  EXPECT_FALSE(fits_simdjson_dom("1e309"));
  EXPECT_FALSE(fits_simdjson_dom("-1e309"));
  EXPECT_TRUE(fits_simdjson_dom("1e-400"));  // reads as zero
  EXPECT_TRUE(fits_simdjson_dom("18446744073709551616.0"));
}

TEST(JsonNumbers, RewritesNumbersOutsideStringsOnly) {
  auto ordinal = [](std::string_view, std::size_t i) { return "#" + std::to_string(i); };
  EXPECT_EQ(rewrite_json_numbers(R"({"a-1":[1,-2.5e3],"b":"x\"9","c":true,"d":01,"e":3})", ordinal),
            R"({"a-1":[#0,#1],"b":"x\"9","c":true,"d":01,"e":#2})");
  EXPECT_EQ(rewrite_json_numbers(R"(["\\",7])", ordinal), R"(["\\",#0])");
  EXPECT_EQ(rewrite_json_numbers(R"(["unterminated 5)", ordinal), R"(["unterminated 5)");
}

}  // namespace
}  // namespace eventrouter::util
