#include "eventrouter/util/ids.hpp"

#include <charconv>
#include <cstdint>
#include <ctime>
#include <random>

namespace eventrouter {

std::string make_uuid_v4() {
  // A per-thread generator seeded from the OS: ids need to be unique, not secret, and one
  // getrandom() call per event would cost more than the rest of the envelope work.
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  std::uint64_t high = generator();
  std::uint64_t low = generator();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant

  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](std::uint64_t bits, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = hex[(bits >> (i * 4)) & 0xf];
    }
  };
  put(high, 16);
  put(low, 16);
  return out;
}

namespace {

std::string format_utc(std::chrono::system_clock::time_point when, bool millis) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(when);
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buffer, n);
  if (millis) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - seconds).count();
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
    out += frac;
  }
  out.push_back('Z');
  return out;
}

bool read_digits(std::string_view text, std::size_t& pos, int count, int& value) {
  if (pos + count > text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + count, value);
  if (ec != std::errc() || end != text.data() + pos + count) return false;
  pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point when) {
  return format_utc(when, false);
}

std::string format_rfc3339_millis(std::chrono::system_clock::time_point when) {
  return format_utc(when, true);
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day))
    return std::nullopt;
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
    return std::nullopt;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second))
    return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int off_hours, off_minutes;
    if (!read_digits(text, pos, 2, off_hours) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, off_minutes) || off_hours > 23 || off_minutes > 59)
      return std::nullopt;
    offset = std::chrono::minutes(sign * (off_hours * 60 + off_minutes));
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  const auto midnight = std::chrono::sys_days(date);
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      midnight + std::chrono::hours(hour) + std::chrono::minutes(minute) +
      std::chrono::seconds(second) + fraction - offset);
}

}  // namespace eventrouter
