#pragma once
// Appends JSON text to a std::string. Only what responses and envelopes need: we build small,
// fixed-shape documents on the hot path, so a streaming writer beats a DOM.

#include <cstdint>
#include <string>
#include <string_view>

namespace eventrouter::json {

// Appends `text` as a JSON string literal (quotes included), escaping what RFC 8259 requires.
// The input must be valid UTF-8 (ingest validates it); bytes >= 0x80 are copied unchanged.
void append_string(std::string& out, std::string_view text);

// Returns `text` as a JSON string literal.
std::string quote(std::string_view text);

// Appends `"key":` (with a leading comma unless `first`).
void append_key(std::string& out, std::string_view key, bool first = false);

}  // namespace eventrouter::json
