#include "comparable_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace eventrouter::pattern::detail {
namespace {

// A decimal's value as significant digits (no leading or trailing zeros) and the power of ten
// of the digit before the first: value = 0.DIGITS x 10^exponent. Zero has no digits, whatever
// its sign. Exponents saturate far beyond any double's.
struct Decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;
  bool operator==(const Decimal&) const = default;
};

Decimal decimal_of(std::string_view text) {
  Decimal d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.negative = true;
    ++i;
  }
  std::int64_t point = 0;  // digits before the decimal point, leading zeros dropped
  bool seen_point = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    const char c = text[i];
    if (c == '.') {
      seen_point = true;
      continue;
    }
    if (d.digits.empty() && c == '0') {
      if (seen_point) --point;  // a zero after the point and before any significant digit
      continue;
    }
    d.digits.push_back(c);
    if (!seen_point) ++point;
  }
  std::int64_t exponent = 0;
  if (i < text.size()) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    for (; i < text.size(); ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (text[i] - '0');
    }
    if (negative_exponent) exponent = -exponent;
  }
  while (!d.digits.empty() && d.digits.back() == '0') d.digits.pop_back();
  if (d.digits.empty()) return Decimal{};
  d.exponent = point + exponent;
  return d;
}

}  // namespace

std::optional<double> comparable_number(std::string_view number) {
  double value;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  // Out of range either way: past the doubles, or so small that it reads as zero (or as a
  // subnormal that is not what was written).
  if (error != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  // Java's Double.toString form, which event-ruler compares against: the fewest significant
  // digits that read back as the double, but at least two, and of those the decimal closest
  // to it. It differs from the plain shortest form only where that has one digit and the
  // closest two-digit decimal is not that digit and a zero: 4.9e-324 where the shortest is
  // 5e-324.
  char shortest[32];
  const auto written = std::to_chars(shortest, shortest + sizeof shortest, value);
  Decimal form = decimal_of(std::string_view(shortest, written.ptr - shortest));
  if (form.digits.size() < 2) {
    char two_digits[32];
    std::snprintf(two_digits, sizeof two_digits, "%.1e", value);
    form = decimal_of(two_digits);
  }
  if (decimal_of(number) != form) return std::nullopt;
  return value;
}

}  // namespace eventrouter::pattern::detail
