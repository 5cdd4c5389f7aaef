#pragma once
// The number tokens of a JSON text. JSON numbers have no range, and EventBridge takes any valid
// JSON, but simdjson's DOM refuses integers past 64 bits and decimals past the double range
// (NUMBER_ERROR). These helpers let a caller validate such a text with the DOM anyway, by
// rewriting its numbers first, while the original text stays what is matched and stored.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace eventrouter::util {

// True when `token` is one JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view token);

// True when simdjson's DOM parser holds this JSON number: an integer (no fraction or exponent)
// within int64 or uint64, or any other number whose value does not overflow a double (one too
// small for a double reads as zero).
bool fits_simdjson_dom(std::string_view number);

// A copy of `json` with each number token outside strings replaced by replace(token, ordinal),
// ordinals counting the numbers from 0 in text order. Runs of number characters that are not
// a valid JSON number are copied unchanged (and counted as nothing), so a parse of the copy
// still refuses them; the rest of the text is copied as it is, valid or not.
std::string rewrite_json_numbers(
    std::string_view json,
    const std::function<std::string(std::string_view number, std::size_t ordinal)>& replace);

}  // namespace eventrouter::util
