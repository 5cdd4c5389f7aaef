#include "eventrouter/util/utf8.hpp"

#include <gtest/gtest.h>

namespace eventrouter {
namespace {

TEST(ToValidUtf8, KeepsValidTextAndReplacesEveryInvalidByte) {
  EXPECT_EQ(to_valid_utf8("plain ascii"), "plain ascii");
  EXPECT_EQ(to_valid_utf8("stra\xC3\x9F"
                          "e \xF0\x9F\x94\xA5"),
            "stra\xC3\x9F"
            "e \xF0\x9F\x94\xA5");
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80").size(), 12u);  // above U+10FFFF
  EXPECT_EQ(to_valid_utf8(std::string_view("nul\0byte", 8)), std::string("nul\0byte", 8));
}

}  // namespace
}  // namespace eventrouter
