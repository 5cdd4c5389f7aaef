#include "comparable_number.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace eventrouter::pattern::detail {
namespace {

// A decimal's value as significant digits (no leading or trailing zeros) and the power of ten
// of the digit before the first: value = 0.DIGITS x 10^exponent. Zero has no digits, whatever
// its sign. Exponents saturate far beyond any double's. No allocation (events' long numbers
// come through here): a double's forms have at most 17 significant digits, so a decimal with
// more than kMaxDigits is marked `overlong` and equals none of them.
constexpr std::size_t kMaxDigits = 24;

struct Decimal {
  bool negative = false;
  bool overlong = false;
  std::uint8_t count = 0;
  std::array<char, kMaxDigits> digits{};
  std::int64_t exponent = 0;
  bool operator==(const Decimal& o) const {
    return !overlong && !o.overlong && negative == o.negative && count == o.count &&
           exponent == o.exponent &&
           std::equal(digits.begin(), digits.begin() + count, o.digits.begin());
  }
};

Decimal decimal_of(std::string_view text) {
  Decimal d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.negative = true;
    ++i;
  }
  std::int64_t point = 0;  // significant digits (and zeros between them) before the point
  std::int64_t zeros = 0;  // zeros after the last significant digit, not yet stored
  bool seen_point = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    const char c = text[i];
    if (c == '.') {
      seen_point = true;
      continue;
    }
    if (d.count == 0 && zeros == 0 && c == '0') {
      if (seen_point) --point;  // a zero after the point and before any significant digit
      continue;
    }
    if (!seen_point) ++point;
    if (c == '0') {
      ++zeros;
      continue;
    }
    for (; zeros > 0; --zeros) {
      if (d.count == kMaxDigits) d.overlong = true;
      if (!d.overlong) d.digits[d.count++] = '0';
    }
    if (d.count == kMaxDigits) d.overlong = true;
    if (!d.overlong) d.digits[d.count++] = c;
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
  if (d.count == 0 && !d.overlong) return Decimal{};
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
  if (form.count < 2) {
    char two_digits[32];
    std::snprintf(two_digits, sizeof two_digits, "%.1e", value);
    form = decimal_of(two_digits);
  }
  if (decimal_of(number) != form) return std::nullopt;
  return value;
}

}  // namespace eventrouter::pattern::detail
