#include "eventrouter/util/json_numbers.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace eventrouter::util {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The characters a number token can hold; a maximal run of them that starts with '-' or a
// digit is one token to check.
bool is_number_char(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

}  // namespace

bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  const std::size_t n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n || !is_digit(t[i])) return false;
  if (t[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(t[i])) ++i;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  return i == n;
}

bool fits_simdjson_dom(std::string_view number) {
  const char* begin = number.data();
  const char* end = begin + number.size();
  if (number.find_first_of(".eE") == std::string_view::npos) {
    if (number.starts_with('-')) {
      std::int64_t value;
      return std::from_chars(begin, end, value).ec == std::errc();
    }
    std::uint64_t value;
    return std::from_chars(begin, end, value).ec == std::errc();
  }
  // strtod's ERANGE covers underflow too, which simdjson reads as zero: only an infinite
  // result is refused.
  const std::string copy(number);
  const double value = std::strtod(copy.c_str(), nullptr);
  return value != HUGE_VAL && value != -HUGE_VAL;
}

std::string rewrite_json_numbers(
    std::string_view json,
    const std::function<std::string(std::string_view number, std::size_t ordinal)>& replace) {
  std::string out;
  out.reserve(json.size());
  std::size_t ordinal = 0;
  std::size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      // A string, escapes and all, up to its closing quote (or the end of an unterminated one).
      std::size_t j = i + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, json.size());
      out.append(json.substr(i, j - i));
      i = j;
    } else if (c == '-' || is_digit(c)) {
      std::size_t j = i + 1;
      while (j < json.size() && is_number_char(json[j])) ++j;
      const std::string_view token = json.substr(i, j - i);
      if (is_json_number(token)) {
        out += replace(token, ordinal++);
      } else {
        out.append(token);
      }
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace eventrouter::util
