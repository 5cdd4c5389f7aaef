#pragma once
// Shared helpers: evaluate a pattern with every engine (one-off, bus matcher, reference) and
// insist they agree.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "eventrouter/pattern/pattern.hpp"
#include "reference_evaluator.hpp"

namespace eventrouter::pattern::testing {

inline bool match(std::string_view pattern_json, std::string_view event_json) {
  auto pattern = compile(pattern_json);
  EXPECT_TRUE(pattern.has_value()) << (pattern ? "" : pattern.error());
  if (!pattern) return false;
  auto one_off = matches(*pattern, event_json);
  EXPECT_TRUE(one_off.has_value()) << (one_off ? "" : one_off.error());
  if (!one_off) return false;
  Matcher matcher({*pattern});
  std::vector<std::uint32_t> out;
  matcher.match(event_json, out);
  EXPECT_EQ(!out.empty(), *one_off) << "bus matcher disagrees on " << pattern_json;
  EXPECT_EQ(reference::matches(pattern_json, event_json), *one_off)
      << "reference evaluator disagrees on " << pattern_json;
  return *one_off;
}

// The reason an invalid pattern is refused, without the common prefix.
inline std::string reason(std::string_view pattern_json) {
  auto pattern = compile(pattern_json);
  EXPECT_FALSE(pattern.has_value()) << "accepted: " << pattern_json;
  if (pattern) return {};
  const std::string prefix = "Event pattern is not valid. Reason: ";
  EXPECT_EQ(pattern.error().rfind(prefix, 0), 0u) << pattern.error();
  return pattern.error().substr(prefix.size());
}

// The event from the aws/event-ruler README and the EventBridge documentation.
inline constexpr std::string_view kEc2Event = R"({
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running"
  }
})";

}  // namespace eventrouter::pattern::testing
