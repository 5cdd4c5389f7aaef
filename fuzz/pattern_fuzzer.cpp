// libFuzzer target for the pattern compiler and matcher. An input is a pattern and an event
// separated by the first newline. Beyond "no crash, no sanitizer report", it checks that
// refusals carry AWS's prefix (and refusals for size or complexity name their limit), that no
// accepted pattern expands past the alternatives limit, and that the bus
// matcher agrees with one-off evaluation on valid events. The corpus and dictionary hold $or
// nesting, long value lists and repeating wildcards, so inputs reach the size and wildcard
// complexity limits (src/pattern/limits.hpp) from both sides.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
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
    constexpr std::string_view kPrefix = "Event pattern is not valid. Reason: ";
    const std::string& error = pattern.error();
    if (error.rfind(kPrefix, 0) != 0) std::abort();
    // A refusal for size or complexity starts with EventBridge's phrase and names the limit
    // and its figure. (Checked from the phrase: other messages quote the pattern's own text,
    // which may hold any words.)
    constexpr std::string_view kTooComplex = "Rule is too complex - ";
    if (error.compare(kPrefix.size(), kTooComplex.size(), kTooComplex) == 0) {
      const bool names_its_limit = error.find("the limit is ") != std::string::npos ||
                                   error.find("more than 1024 alternatives") != std::string::npos ||
                                   error.find("have complexity above 10") != std::string::npos ||
                                   error.find("too many or too long") != std::string::npos;
      if (!names_its_limit) std::abort();
    }
    return 0;
  }
  if (pattern->alternative_count() > 1024) std::abort();
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
