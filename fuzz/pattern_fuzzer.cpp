// libFuzzer target for the pattern compiler and matcher. An input is a pattern and an event
// separated by the first newline. Beyond "no crash, no sanitizer report", it checks that
// refusals carry AWS's prefix and that the bus matcher agrees with one-off evaluation on valid
// events.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view pattern_json = input.substr(0, newline);
  std::string_view event_json =
      newline == std::string_view::npos ? std::string_view("{}") : input.substr(newline + 1);

  auto pattern = eventrouter::pattern::compile(pattern_json);
  if (!pattern) {
    if (pattern.error().rfind("Event pattern is not valid. Reason: ", 0) != 0) std::abort();
    return 0;
  }
  // The bus matcher first, on any bytes: its walk reads simdjson's structural index itself, so
  // a damaged event must give no crash and no read outside the event (ASan would report it).
  eventrouter::pattern::Matcher matcher({*pattern, *pattern});
  std::vector<std::uint32_t> out;
  matcher.match(event_json, out);

  auto one_off = eventrouter::pattern::matches(*pattern, event_json);
  if (!one_off) return 0;  // not a JSON object: nothing more to compare
  std::vector<std::uint32_t> expected;
  if (*one_off) expected = {0, 1};
  if (out != expected) std::abort();
  return 0;
}
