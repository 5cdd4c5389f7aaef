#include "eventrouter/util/ids.hpp"

#include <gtest/gtest.h>

#include <set>

#include "eventrouter/util/json_writer.hpp"

namespace eventrouter {
namespace {

TEST(Uuid, IsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = make_uuid_v4();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Rfc3339, RoundTrips) {
  auto t = parse_rfc3339("2026-11-20T14:02:11Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-20T14:02:11Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-20T14:02:11.999-01:30")),
            "2026-11-20T15:32:11Z");
  EXPECT_EQ(format_rfc3339_millis(*parse_rfc3339("2026-11-20T14:02:11.25Z")),
            "2026-11-20T14:02:11.250Z");
}

TEST(Rfc3339, RefusesWhatIsNotOne) {
  for (const char* bad :
       {"", "2026-11-20", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-20T14:02:11",
        "2026-11-20T14:02:11Zjunk", "yesterday", "2026-11-20T25:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  EXPECT_EQ(json::quote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(json::quote("h\xc3\xa9"), "\"h\xc3\xa9\"");
}

}  // namespace
}  // namespace eventrouter
