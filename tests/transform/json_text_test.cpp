#include "eventrouter/transform/json_text.hpp"

#include <gtest/gtest.h>

namespace eventrouter::transform {
namespace {

// Events may hold numbers past 64-bit integers or the double range (ingest accepts any JSON
// number): a queue file or webhook body keeps them as written instead of quoting the event.
TEST(JsonText, NumbersPastTheDoubleRangeAreValidAndKeptAsWritten) {
  EXPECT_TRUE(is_valid_json(R"({"a": 1e400, "b": [100000000000000000000, -1e-400]})"));
  bool valid = false;
  EXPECT_EQ(minify_json(R"({"a": 1e400, "b": [ 100000000000000000000 ]})", valid),
            R"({"a":1e400,"b":[100000000000000000000]})");
  EXPECT_TRUE(valid);
  EXPECT_FALSE(is_valid_json(R"({"a": 01})"));
  EXPECT_FALSE(is_valid_json(R"({"a": 1e400,})"));
}

}  // namespace
}  // namespace eventrouter::transform
