#include "eventrouter/transform/json_text.hpp"

#include <simdjson.h>

#include "eventrouter/util/json_numbers.hpp"

namespace eventrouter::transform {

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

bool is_valid_json(std::string_view text) {
  // One parser per thread: parsers are not thread-safe, and reusing one avoids reallocating.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto error = parser.parse(text.data(), text.size(), true).get(root);
  if (error != simdjson::NUMBER_ERROR) return error == simdjson::SUCCESS;
  // Numbers past what the DOM holds are valid JSON (events may carry them): check the rest.
  const std::string copy =
      util::rewrite_json_numbers(text, [](std::string_view number, std::size_t) {
        return util::fits_simdjson_dom(number) ? std::string(number) : std::string("0");
      });
  return parser.parse(copy).get(root) == simdjson::SUCCESS;
}

bool append_minified(std::string& out, std::string_view json) {
  // simdjson::minify only strips whitespace outside strings, so numbers keep their spelling.
  const std::size_t start = out.size();
  out.resize(start + json.size() + simdjson::SIMDJSON_PADDING);
  std::size_t length = 0;
  const bool done =
      simdjson::minify(json.data(), json.size(), out.data() + start, length) == simdjson::SUCCESS;
  out.resize(done ? start + length : start);
  return done;
}

std::string minify_json(std::string_view text, bool& valid) {
  valid = is_valid_json(text);
  if (!valid) return {};
  std::string out;
  valid = append_minified(out, text);
  return out;
}

}  // namespace eventrouter::transform
