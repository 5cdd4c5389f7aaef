#pragma once
// The query of a request target (`a=1&b=x%20y`), read the same way by every GET endpoint: each
// value percent-decoded, and every problem a message that says what to write instead.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// %XX and '+' decoded; nothing when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text);

// The part of `target` after '?', or "".
std::string_view query_of(std::string_view target);

// The (key, decoded value) pairs in order; empty pairs skipped.
Expected<std::vector<std::pair<std::string, std::string>>, std::string> parse_query(
    std::string_view query);

// A `limit` from 1 to `max`.
Expected<std::size_t, std::string> parse_limit(std::string_view value, std::size_t max);

}  // namespace eventrouter::app
