#include "predicates.hpp"

#include "special_casing.hpp"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace eventrouter::pattern::detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::optional<IpAddress> parse_ipv4(std::string_view text) {
  IpAddress ip;
  ip.length = 4;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    // Octets are decimal whatever their leading zeros ("010" is 10), as Java's InetAddress
    // reads them for event-ruler; any number of digits, up to a value of 255.
    std::size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      if (value > 255) return std::nullopt;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    ip.bytes[part] = static_cast<std::uint8_t>(value);
  }
  if (pos != text.size()) return std::nullopt;
  return ip;
}

std::optional<IpAddress> parse_ipv6(std::string_view text) {
  // Up to eight groups of 1-4 hex digits; one "::" stands for one or more zero groups.
  std::array<std::uint16_t, 8> head{}, tail{};
  int head_count = 0, tail_count = 0;
  bool compressed = false;
  std::size_t pos = 0;
  if (text.size() < 2) return std::nullopt;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    pos = 2;
  } else if (text[0] == ':') {
    return std::nullopt;
  }
  while (pos < text.size()) {
    std::size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && is_hex(text[pos])) {
      if (pos - start >= 4) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(hex_value(text[pos]));
      ++pos;
    }
    if (pos == start) return std::nullopt;
    auto& groups = compressed ? tail : head;
    int& count = compressed ? tail_count : head_count;
    if (head_count + tail_count >= 8) return std::nullopt;
    groups[count++] = static_cast<std::uint16_t>(value);
    if (pos == text.size()) break;
    if (text[pos] != ':') return std::nullopt;
    ++pos;
    if (pos < text.size() && text[pos] == ':') {
      if (compressed) return std::nullopt;  // at most one "::"
      compressed = true;
      ++pos;
      if (pos == text.size()) break;
    } else if (pos == text.size()) {
      return std::nullopt;  // a single trailing ':'
    }
  }
  int total = head_count + tail_count;
  if (compressed ? total > 7 : total != 8) return std::nullopt;
  std::array<std::uint16_t, 8> groups{};
  for (int i = 0; i < head_count; ++i) groups[i] = head[i];
  for (int i = 0; i < tail_count; ++i) groups[8 - tail_count + i] = tail[i];
  IpAddress ip;
  bool mapped_v4 = groups[5] == 0xffff;
  for (int i = 0; i < 5; ++i) mapped_v4 = mapped_v4 && groups[i] == 0;
  if (mapped_v4) {
    // Java's InetAddress (behind event-ruler) turns ::ffff:a.b.c.d into an IPv4 address.
    ip.length = 4;
    ip.bytes[0] = static_cast<std::uint8_t>(groups[6] >> 8);
    ip.bytes[1] = static_cast<std::uint8_t>(groups[6] & 0xff);
    ip.bytes[2] = static_cast<std::uint8_t>(groups[7] >> 8);
    ip.bytes[3] = static_cast<std::uint8_t>(groups[7] & 0xff);
    return ip;
  }
  ip.length = 16;
  for (int i = 0; i < 8; ++i) {
    ip.bytes[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
  }
  return ip;
}

bool looks_like_ipv4(std::string_view text) {
  int dots = 0;
  bool digit_run = false;
  for (char c : text) {
    if (is_digit(c)) {
      digit_run = true;
    } else if (c == '.' && digit_run) {
      ++dots;
      digit_run = false;
    } else {
      return false;
    }
  }
  return dots == 3 && digit_run;
}

bool looks_like_ipv6(std::string_view text) {
  bool colon = false;
  for (char c : text) {
    if (c == ':') {
      colon = true;
    } else if (!is_hex(c)) {
      return false;
    }
  }
  return colon;
}

// ---- Unicode case mapping ------------------------------------------------------------------

locale_t utf8_locale() {
  static locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return locale;
}

char32_t lower_of(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0x10000) return c;  // Java maps UTF-16 units: surrogates have no case
  locale_t locale = utf8_locale();
  return locale ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), locale)) : c;
}

char32_t upper_of(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if (c >= 0x10000) return c;
  locale_t locale = utf8_locale();
  return locale ? static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), locale)) : c;
}

// A pattern character's case forms as event-ruler builds them: Java's lower- and upper-case
// forms of that one character (the character itself only when it is one of them, as it nearly
// always is). A form may be several characters (ß: "ß" or "SS").
struct CaseForms {
  std::u32string_view lower, upper;
  char32_t simple[2];  // storage for single-character forms
};

void case_forms_of(char32_t c, CaseForms& forms) {
  if (auto special = special_case_of(c)) {
    forms.lower = special->lower;
    forms.upper = special->upper;
    return;
  }
  forms.simple[0] = lower_of(c);
  forms.simple[1] = upper_of(c);
  forms.lower = std::u32string_view(&forms.simple[0], 1);
  forms.upper = std::u32string_view(&forms.simple[1], 1);
}

enum class Anchor { kWhole, kStart, kEnd };

// Whether `value` is (kWhole), starts with (kStart) or ends with (kEnd) a sequence that takes
// one case form of each character of `pattern`. Forms differ in length, so this follows every
// reachable offset into the value (counted from its end for kEnd); a character's two forms
// never start alike, so there is rarely more than one.
bool matches_case_forms(const std::u32string& value, const std::u32string& pattern, Anchor anchor) {
  const bool backward = anchor == Anchor::kEnd;
  thread_local std::vector<std::size_t> offsets, next;
  offsets.assign(1, 0);
  CaseForms forms;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    case_forms_of(backward ? pattern[pattern.size() - 1 - i] : pattern[i], forms);
    next.clear();
    for (std::size_t offset : offsets) {
      for (std::u32string_view form : {forms.lower, forms.upper}) {
        if (value.size() - offset < form.size()) continue;
        const std::size_t at = backward ? value.size() - offset - form.size() : offset;
        if (value.compare(at, form.size(), form) != 0) continue;
        const std::size_t reached = offset + form.size();
        if (std::find(next.begin(), next.end(), reached) == next.end()) next.push_back(reached);
      }
    }
    if (next.empty()) return false;
    std::swap(offsets, next);
  }
  if (anchor != Anchor::kWhole) return true;
  return std::find(offsets.begin(), offsets.end(), value.size()) != offsets.end();
}

// Decodes valid UTF-8 (simdjson validated it); stray bytes decode as themselves.
void decode_utf8(std::string_view text, std::u32string& out) {
  out.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char b = *p;
    int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : 0;
    if (p + extra >= end && extra > 0) extra = 0;
    char32_t c = extra == 0 ? b : extra == 1 ? (b & 0x1f) : extra == 2 ? (b & 0x0f) : (b & 0x07);
    for (int i = 1; i <= extra; ++i) c = (c << 6) | (p[i] & 0x3f);
    out.push_back(c);
    p += extra + 1;
  }
}

bool ascii_char_eq_ci(char a, char b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return lower(a) == lower(b);
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  // parse_ipv4 refuses whatever looks_like_ipv4 would (at its first unexpected character), so
  // IPv4 literals, the common case, are read in one pass.
  if (auto ip = parse_ipv4(text)) return ip;
  if (looks_like_ipv6(text)) return parse_ipv6(text);
  return std::nullopt;
}

bool looks_like_ip(std::string_view text) {
  return looks_like_ipv4(text) || looks_like_ipv6(text);
}

bool ip_in_range(const IpAddress& ip, const IpRange& range) {
  if (ip.length != range.low.length) return false;
  return std::memcmp(ip.bytes.data(), range.low.bytes.data(), ip.length) >= 0 &&
         std::memcmp(ip.bytes.data(), range.high.bytes.data(), ip.length) <= 0;
}

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void ascii_lower(std::string_view text, std::string& out) {
  out.resize(text.size());
  // Eight bytes at a time (every event value looked up in an equals-ignore-case index goes
  // through here): a byte is an upper-case letter when its low seven bits are in 'A'..'Z' and
  // its top bit is clear; such bytes get 0x20 added.
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    std::uint64_t low7 = w & (kOnes * 0x7f);
    std::uint64_t ge_a = low7 + kOnes * (0x80 - 'A');
    std::uint64_t gt_z = low7 + kOnes * (0x7f - 'Z');
    std::uint64_t upper = (ge_a ^ gt_z) & ~w & (kOnes * 0x80);
    w |= upper >> 2;
    std::memcpy(out.data() + i, &w, 8);
  }
  for (; i < text.size(); ++i) {
    char c = text[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
}

bool equals_ci(std::string_view value, std::string_view pattern) {
  if (is_ascii(pattern)) {
    // ASCII pattern characters only accept their ASCII case forms.
    if (value.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!ascii_char_eq_ci(value[i], pattern[i])) return false;
    }
    return true;
  }
  thread_local std::u32string v, p;
  decode_utf8(value, v);
  decode_utf8(pattern, p);
  return matches_case_forms(v, p, Anchor::kWhole);
}

bool starts_with_ci(std::string_view value, std::string_view prefix) {
  if (is_ascii(prefix)) {
    if (value.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (!ascii_char_eq_ci(value[i], prefix[i])) return false;
    }
    return true;
  }
  thread_local std::u32string v, p;
  decode_utf8(value, v);
  decode_utf8(prefix, p);
  return matches_case_forms(v, p, Anchor::kStart);
}

bool ends_with_ci(std::string_view value, std::string_view suffix) {
  if (is_ascii(suffix)) {
    if (value.size() < suffix.size()) return false;
    std::size_t offset = value.size() - suffix.size();
    for (std::size_t i = 0; i < suffix.size(); ++i) {
      if (!ascii_char_eq_ci(value[offset + i], suffix[i])) return false;
    }
    return true;
  }
  thread_local std::u32string v, p;
  decode_utf8(value, v);
  decode_utf8(suffix, p);
  return matches_case_forms(v, p, Anchor::kEnd);
}

std::optional<std::string> parse_wildcard(std::string_view text, WildcardGlob& out) {
  out.pieces.assign(1, std::string());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // Positions are reported as event-ruler does: 1-based within the value.
    if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*') {
        return "Consecutive wildcard characters at pos " + std::to_string(i + 1);
      }
      out.pieces.emplace_back();
    } else if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '\\')) {
        out.pieces.back().push_back(text[++i]);
      } else {
        return "Invalid escape character at pos " + std::to_string(i + 1);
      }
    } else {
      out.pieces.back().push_back(c);
    }
  }
  return std::nullopt;
}

bool glob_matches(const WildcardGlob& glob, std::string_view value) {
  const auto& pieces = glob.pieces;
  if (pieces.size() == 1) return value == pieces[0];
  const std::string& first = pieces.front();
  const std::string& last = pieces.back();
  if (value.size() < first.size() + last.size()) return false;
  if (value.substr(0, first.size()) != first) return false;
  if (value.substr(value.size() - last.size()) != last) return false;
  // Middle pieces: leftmost placement is always safe when '*' is the only operator.
  std::string_view middle = value.substr(first.size(), value.size() - first.size() - last.size());
  std::size_t pos = 0;
  for (std::size_t i = 1; i + 1 < pieces.size(); ++i) {
    std::size_t found = middle.find(pieces[i], pos);
    if (found == std::string_view::npos) return false;
    pos = found + pieces[i].size();
  }
  return true;
}

bool predicate_matches(const Predicate& p, const Value& v) {
  const bool is_string = v.kind == ValueKind::kString;
  switch (p.kind) {
    case PredKind::kExactString:
      return is_string && v.str == p.text;
    case PredKind::kExactIp: {
      if (!is_string) return false;
      auto ip = parse_ip(v.str);
      return ip && ip_in_range(*ip, p.ip);
    }
    case PredKind::kExactNumber:
      return v.kind == ValueKind::kNumber && v.num == p.number;
    case PredKind::kExactNumberText:
      return v.kind == ValueKind::kNumberText && v.str == p.text;
    case PredKind::kTrue:
      return v.kind == ValueKind::kTrue;
    case PredKind::kFalse:
      return v.kind == ValueKind::kFalse;
    case PredKind::kNull:
      return v.kind == ValueKind::kNull;
    case PredKind::kPrefix:
      return is_string && v.str.substr(0, p.text.size()) == p.text;
    case PredKind::kPrefixCi:
      return is_string && starts_with_ci(v.str, p.text);
    case PredKind::kSuffix:
      return is_string && v.str.size() >= p.text.size() &&
             v.str.substr(v.str.size() - p.text.size()) == p.text;
    case PredKind::kSuffixCi:
      return is_string && ends_with_ci(v.str, p.text);
    case PredKind::kEqualsCi:
      return is_string && equals_ci(v.str, p.text);
    case PredKind::kWildcard:
      return is_string && glob_matches(p.globs.front(), v.str);
    case PredKind::kNumericRange: {
      if (v.kind != ValueKind::kNumber) return false;
      const NumericRange& r = p.range;
      bool above = r.low_open ? v.num > r.low : v.num >= r.low;
      bool below = r.high_open ? v.num < r.high : v.num <= r.high;
      return above && below;
    }
    case PredKind::kCidr: {
      if (!is_string) return false;
      auto ip = parse_ip(v.str);
      return ip && ip_in_range(*ip, p.ip);
    }
    case PredKind::kExists:
      return true;
    case PredKind::kAbsent:
      return false;
    // anything-but matches every present value (null, booleans and numbers included) that is
    // not excluded; a string exclusion never excludes a number and vice versa.
    case PredKind::kAnythingButStrings:
      return !is_string || std::find(p.texts.begin(), p.texts.end(), v.str) == p.texts.end();
    case PredKind::kAnythingButNumbers:
      return v.kind != ValueKind::kNumber ||
             std::find(p.numbers.begin(), p.numbers.end(), v.num) == p.numbers.end();
    case PredKind::kAnythingButPrefix:
      return !is_string || std::none_of(p.texts.begin(), p.texts.end(), [&](const std::string& t) {
        return v.str.substr(0, t.size()) == t;
      });
    case PredKind::kAnythingButSuffix:
      return !is_string || std::none_of(p.texts.begin(), p.texts.end(), [&](const std::string& t) {
        return v.str.size() >= t.size() && v.str.substr(v.str.size() - t.size()) == t;
      });
    case PredKind::kAnythingButCi:
      return !is_string || std::none_of(p.texts.begin(), p.texts.end(),
                                        [&](const std::string& t) { return equals_ci(v.str, t); });
    case PredKind::kAnythingButWildcard:
      return !is_string || std::none_of(p.globs.begin(), p.globs.end(), [&](const WildcardGlob& g) {
        return glob_matches(g, v.str);
      });
  }
  return false;
}

}  // namespace eventrouter::pattern::detail
