#pragma once
// Small helpers for writing JSON text by hand: string escaping and validation/minification.

#include <string>
#include <string_view>

namespace eventrouter::transform {

// Appends `text` as the contents of a JSON string (no surrounding quotes), escaping quotes,
// backslashes and control characters. UTF-8 passes through unchanged.
void append_json_escaped(std::string& out, std::string_view text);

// Appends `text` as a complete JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);

// `text` as a JSON string literal.
std::string json_string(std::string_view text);

// True when `text` is one complete, valid JSON value.
bool is_valid_json(std::string_view text);

// Appends `json` without the whitespace outside its strings (numbers and strings keep their
// spelling). Does not validate; false if simdjson cannot minify it (an unterminated string).
bool append_minified(std::string& out, std::string_view json);

// If `text` is valid JSON, returns it with insignificant whitespace removed (numbers and strings
// keep their exact spelling); otherwise returns an empty string and sets `valid` to false.
std::string minify_json(std::string_view text, bool& valid);

}  // namespace eventrouter::transform
