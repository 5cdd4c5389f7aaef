#include "reference_evaluator.hpp"

#include <locale.h>
#include <wctype.h>

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../../src/pattern/special_casing.hpp"

namespace eventrouter::pattern::reference {
namespace {

namespace dom = simdjson::dom;

// ---- the event as a list of leaves ------------------------------------------------------------

struct Leaf {
  std::string path;              // "detail.resource.type"
  dom::element value;            // a string, number, true, false or null
  std::map<int, int> positions;  // array id -> element index, for every enclosing array
};

void flatten(dom::element element, const std::string& path, std::map<int, int>& positions,
             int& next_array, std::vector<Leaf>& leaves) {
  if (element.is_object()) {
    for (auto [key, value] : dom::object(element)) {
      std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
      flatten(value, child, positions, next_array, leaves);
    }
  } else if (element.is_array()) {
    int id = next_array++;
    int index = 0;
    for (dom::element item : dom::array(element)) {
      positions[id] = index++;
      flatten(item, path, positions, next_array, leaves);
    }
    positions.erase(id);
  } else {
    leaves.push_back({path, element, positions});
  }
}

// ---- the pattern as alternatives ---------------------------------------------------------------

// The path as Java holds it, UTF-16 code units, for the order event-ruler considers fields in
// (it decides exists: false inside arrays). Written out independently of the matcher's own.
std::u16string utf16_of(const std::string& utf8) {
  std::u16string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t c = length == 1 ? lead : lead & (0x7F >> length);
    for (int k = 1; k < length && i + k < utf8.size(); ++k)
      c = (c << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += length;
    if (c >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

struct JavaStringLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return utf16_of(a) < utf16_of(b);
  }
};

// path -> list of allowed values, in event-ruler's field order
using Alternative = std::map<std::string, dom::array, JavaStringLess>;

bool is_or_list(dom::element value) {
  if (!value.is_array() || dom::array(value).size() < 2) return false;
  for (dom::element item : dom::array(value)) {
    if (!item.is_object()) return false;
  }
  return true;
}

// "$or" is the operator only when every "$or" of the pattern can be: it lists two or more
// objects, and no object inside a $or names an operator; otherwise it is a field name throughout.
const std::set<std::string_view> kOperators = {
    "exactly", "equals-ignore-case", "prefix",  "suffix", "anything-but",
    "exists",  "wildcard",           "numeric", "cidr"};

bool or_is_operator(dom::object object, bool in_or) {
  for (auto [key, value] : object) {
    if (key == "$or") {
      if (!is_or_list(value)) return false;
      for (dom::element branch : dom::array(value)) {
        if (!or_is_operator(branch, true)) return false;
      }
    } else if (in_or && kOperators.count(key)) {
      return false;
    } else if (value.is_object() && !or_is_operator(value, in_or)) {
      return false;
    }
  }
  return true;
}

bool or_operator = true;  // set by matches() for the pattern at hand

std::vector<Alternative> expand(dom::object object, const std::string& prefix,
                                std::vector<Alternative> alternatives) {
  for (auto [key, value] : object) {
    if (key == "$or" && or_operator) {
      std::vector<Alternative> result;
      for (dom::element branch : dom::array(value)) {
        std::vector<Alternative> start = alternatives;
        if (start.empty()) start.emplace_back();
        for (auto& alt : expand(branch, prefix, start)) result.push_back(alt);
      }
      alternatives = result;
    } else if (value.is_object()) {
      alternatives = expand(value, prefix + std::string(key) + ".", alternatives);
    } else {
      if (alternatives.empty()) alternatives.emplace_back();
      for (auto& alt : alternatives) alt[prefix + std::string(key)] = value;
    }
  }
  return alternatives;
}

// ---- single values --------------------------------------------------------------------------

// Numbers are read as text: matches() parses both documents with every number turned into a
// string holding kNumberMark and the number's text, so that numbers of any size survive the DOM.
constexpr char kNumberMark = '\x01';

std::string numbers_as_strings(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\') {
        out += json[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = json.find_first_not_of("0123456789+-.eE", i);
      if (end == std::string_view::npos) end = json.size();
      out += "\"\\u0001" + std::string(json.substr(i, end - i)) + "\"";
      i = end - 1;
    } else {
      out += c;
    }
  }
  return out;
}

bool is_number(dom::element e) {
  if (!e.is_string()) return false;
  std::string_view s = e;
  return !s.empty() && s[0] == kNumberMark;
}

bool is_text(dom::element e) {
  return e.is_string() && !is_number(e);
}

std::string_view number_text(dom::element e) {
  return std::string_view(e).substr(1);
}

// Written with no other reference than the rule itself: the number's nearest double is finite
// and its shortest round-trip decimal (found with printf precision 1..17) has the same digits
// and decimal exponent as the number as written, with at least two significant digits
// (precision 1 and up), as Java writes a double.
std::string normalised_decimal(std::string text) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.erase(0, 1);
  long exponent = 0;
  if (auto e = text.find_first_of("eE"); e != std::string::npos) {
    exponent = std::stol(text.substr(e + 1));
    text.resize(e);
  }
  auto point = text.find('.');
  if (point != std::string::npos) {
    exponent -= static_cast<long>(text.size() - point - 1);
    text.erase(point, 1);
  }
  text.erase(0, std::min(text.find_first_not_of('0'), text.size()));
  if (text.empty()) return "0";
  while (text.back() == '0') {
    text.pop_back();
    ++exponent;
  }
  return std::string(negative ? "-" : "") + text + "e" + std::to_string(exponent);
}

std::optional<double> comparable(std::string_view text) {
  std::string copy(text);
  errno = 0;
  double v = std::strtod(copy.c_str(), nullptr);
  if (errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  for (int precision = 1; precision < 17; ++precision) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*e", precision, v);
    if (std::strtod(buf, nullptr) == v) {
      if (normalised_decimal(buf) != normalised_decimal(copy)) return std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

double to_double(dom::element e) {
  return comparable(number_text(e)).value_or(0);
}

// Numbers equal as event-ruler has them: by value when both compare numerically, else by text.
bool same_number(dom::element a, dom::element b) {
  auto x = comparable(number_text(a)), y = comparable(number_text(b));
  if (x && y) return *x == *y;
  return !x && !y && number_text(a) == number_text(b);
}

// Case-insensitive comparison, written independently of the matcher's: by recursion over code
// points, trying both case forms of each pattern character (Java's, with the SpecialCasing
// table the matcher uses for data only).
std::u32string code_points(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int length = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    char32_t c = length == 1 ? b : length == 2 ? (b & 0x1f) : length == 3 ? (b & 0x0f) : (b & 7);
    for (int k = 1; k < length && i + k < text.size(); ++k) {
      c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    }
    out.push_back(c);
    i += length;
  }
  return out;
}

std::vector<std::u32string> case_forms(char32_t c) {
  if (auto special = detail::special_case_of(c)) {
    return {std::u32string(special->lower), std::u32string(special->upper)};
  }
  if (c >= 0x10000) return {std::u32string(1, c)};
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return {std::u32string(1, static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), utf8))),
          std::u32string(1, static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), utf8)))};
}

bool fits_ignoring_case(const std::u32string& value, std::size_t at, const std::u32string& pattern,
                        std::size_t next) {
  if (next == pattern.size()) return at == value.size();
  for (const std::u32string& form : case_forms(pattern[next])) {
    if (value.compare(at, form.size(), form) == 0 &&
        fits_ignoring_case(value, at + form.size(), pattern, next + 1)) {
      return true;
    }
  }
  return false;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return fits_ignoring_case(code_points(a), 0, code_points(b), 0);
}

bool starts_with(std::string_view s, std::string_view p, bool ignore_case) {
  if (!ignore_case) return s.substr(0, p.size()) == p;
  const std::u32string value = code_points(s), pattern = code_points(p);
  for (std::size_t k = 0; k <= value.size(); ++k) {
    if (fits_ignoring_case(value.substr(0, k), 0, pattern, 0)) return true;
  }
  return false;
}

bool ends_with(std::string_view s, std::string_view p, bool ignore_case) {
  if (!ignore_case) return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
  const std::u32string value = code_points(s), pattern = code_points(p);
  for (std::size_t k = 0; k <= value.size(); ++k) {
    if (fits_ignoring_case(value.substr(k), 0, pattern, 0)) return true;
  }
  return false;
}

// Wildcard by dynamic programming over (pattern token, text position).
bool wildcard_matches(std::string_view pattern, std::string_view text) {
  std::vector<int> tokens;  // -1 = star, otherwise a byte
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      tokens.push_back(static_cast<unsigned char>(pattern[++i]));
    } else if (pattern[i] == '*') {
      tokens.push_back(-1);
    } else {
      tokens.push_back(static_cast<unsigned char>(pattern[i]));
    }
  }
  std::vector<std::vector<char>> ok(tokens.size() + 1, std::vector<char>(text.size() + 1, 0));
  ok[tokens.size()][text.size()] = 1;
  for (std::size_t t = tokens.size(); t-- > 0;) {
    for (std::size_t x = text.size() + 1; x-- > 0;) {
      if (tokens[t] == -1) {
        ok[t][x] = ok[t + 1][x] || (x < text.size() && ok[t][x + 1]);
      } else {
        ok[t][x] =
            x < text.size() && static_cast<unsigned char>(text[x]) == tokens[t] && ok[t + 1][x + 1];
      }
    }
  }
  return ok[0][0];
}

std::optional<std::vector<unsigned char>> ip_bytes(std::string_view text) {
  std::string s(text);
  bool v4_shape = !s.empty() && std::count(s.begin(), s.end(), '.') == 3 &&
                  s.find_first_not_of("0123456789.") == std::string::npos;
  bool v6_shape = s.find(':') != std::string::npos &&
                  s.find_first_not_of("0123456789abcdefABCDEF:") == std::string::npos;
  if (v4_shape) {
    // Decimal octets, leading zeros allowed (inet_pton refuses them).
    std::vector<unsigned char> out;
    std::size_t start = 0;
    for (int part = 0; part < 4; ++part) {
      std::size_t end = part == 3 ? s.size() : s.find('.', start);
      std::string octet = s.substr(start, end - start);
      if (octet.empty()) return std::nullopt;
      octet.erase(0, std::min(octet.find_first_not_of('0'), octet.size() - 1));
      if (octet.size() > 3 || std::stoul(octet) > 255) return std::nullopt;
      out.push_back(static_cast<unsigned char>(std::stoul(octet)));
      start = end + 1;
    }
    return out;
  }
  if (v6_shape) {
    unsigned char buf[16];
    if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return std::nullopt;
    bool mapped = std::all_of(buf, buf + 10, [](unsigned char b) { return b == 0; }) &&
                  buf[10] == 0xff && buf[11] == 0xff;
    if (mapped) return std::vector<unsigned char>(buf + 12, buf + 16);
    return std::vector<unsigned char>(buf, buf + 16);
  }
  return std::nullopt;
}

bool in_cidr(std::string_view cidr, std::string_view text) {
  auto slash = cidr.find('/');
  auto base = ip_bytes(cidr.substr(0, slash));
  int bits = std::stoi(std::string(cidr.substr(slash + 1)));
  auto ip = ip_bytes(text);
  if (!base || !ip || ip->size() != base->size()) return false;
  std::vector<unsigned char> low = *base, high = *base;
  for (int bit = bits; bit < static_cast<int>(high.size()) * 8; ++bit) {
    low[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
    high[bit / 8] |= static_cast<unsigned char>(0x80 >> (bit % 8));
  }
  return *ip >= low && *ip <= high;
}

bool numeric_holds(dom::array terms, double v) {
  std::vector<dom::element> t(terms.begin(), terms.end());
  for (std::size_t i = 0; i + 1 < t.size(); i += 2) {
    std::string_view op = t[i];
    double bound = to_double(t[i + 1]);
    bool ok = op == "="    ? v == bound
              : op == "<"  ? v < bound
              : op == "<=" ? v <= bound
              : op == ">"  ? v > bound
                           : v >= bound;
    if (!ok) return false;
  }
  return true;
}

std::vector<dom::element> as_list(dom::element e) {
  if (e.is_array()) {
    dom::array a = e;
    return {a.begin(), a.end()};
  }
  return {e};
}

bool anything_but(dom::element operand, dom::element value) {
  if (operand.is_object()) {
    auto [kind, arg] = *dom::object(operand).begin();
    if (!is_text(value)) return true;  // these forms only ever exclude strings
    std::string_view s = value;
    for (dom::element item : as_list(arg)) {
      std::string_view x = item;
      bool excluded = kind == "prefix"               ? starts_with(s, x, false)
                      : kind == "suffix"             ? ends_with(s, x, false)
                      : kind == "equals-ignore-case" ? same_ignoring_case(s, x)
                                                     : wildcard_matches(x, s);
      if (excluded) return false;
    }
    return true;
  }
  for (dom::element item : as_list(operand)) {
    if (is_text(item) && is_text(value) && std::string_view(item) == std::string_view(value)) {
      return false;
    }
    if (is_number(item) && is_number(value) && comparable(number_text(value)) &&
        to_double(item) == to_double(value)) {
      return false;
    }
  }
  return true;
}

bool operator_matches(std::string_view op, dom::element arg, dom::element value) {
  bool is_string = is_text(value);
  std::string_view s = is_string ? std::string_view(value) : std::string_view();
  if (op == "exactly") return is_string && s == std::string_view(arg);
  if (op == "prefix" || op == "suffix") {
    bool ignore_case = arg.is_object();
    std::string_view x =
        ignore_case ? std::string_view((*dom::object(arg).begin()).value) : std::string_view(arg);
    if (!is_string) return false;
    return op == "prefix" ? starts_with(s, x, ignore_case) : ends_with(s, x, ignore_case);
  }
  if (op == "equals-ignore-case") return is_string && same_ignoring_case(s, std::string_view(arg));
  if (op == "wildcard") return is_string && wildcard_matches(std::string_view(arg), s);
  if (op == "anything-but") return anything_but(arg, value);
  if (op == "numeric") {
    return is_number(value) && comparable(number_text(value)) &&
           numeric_holds(arg, to_double(value));
  }
  if (op == "exists") return bool(arg);  // exists: true is met by any leaf value
  if (op == "cidr") return is_string && in_cidr(std::string_view(arg), s);
  return false;
}

bool value_matches(dom::element wanted, dom::element value) {
  switch (wanted.type()) {
    case dom::element_type::OBJECT: {
      auto [op, arg] = *dom::object(wanted).begin();
      return operator_matches(op, arg, value);
    }
    case dom::element_type::STRING: {
      if (is_number(wanted)) return is_number(value) && same_number(wanted, value);
      if (!is_text(value)) return false;
      auto wanted_ip = ip_bytes(std::string_view(wanted));
      if (wanted_ip) return ip_bytes(std::string_view(value)) == wanted_ip;
      return std::string_view(wanted) == std::string_view(value);
    }
    case dom::element_type::BOOL:
      return value.is_bool() && bool(value) == bool(wanted);
    case dom::element_type::NULL_VALUE:
      return value.is_null();
    default:
      return false;
  }
}

bool wants_absence(dom::array values) {
  for (dom::element v : values) {
    if (v.is_object()) {
      auto [op, arg] = *dom::object(v).begin();
      if (op == "exists" && !bool(arg)) return true;
    }
  }
  return false;
}

// ---- one alternative ----------------------------------------------------------------------

bool consistent(const std::map<int, int>& a, const std::map<int, int>& b) {
  for (const auto& [id, index] : a) {
    auto it = b.find(id);
    if (it != b.end() && it->second != index) return false;
  }
  return true;
}

// Conditions are taken in order of their path; each is met by a leaf consistent with the
// array elements chosen so far, or (with exists: false) by no such leaf existing.
bool satisfied(const std::vector<std::pair<std::string, dom::array>>& conditions, std::size_t i,
               const std::map<int, int>& chosen, const std::vector<Leaf>& leaves) {
  // A condition whose leaves sit in no array constrains no later choice: it is decided here,
  // in a loop, so that patterns of thousands of conditions do not recurse thousands deep.
  for (; i < conditions.size(); ++i) {
    const auto& [path, values] = conditions[i];
    bool present = false, in_array = false, hit = false;
    for (const Leaf& leaf : leaves) {
      if (leaf.path != path) continue;
      present = true;
      in_array = in_array || !leaf.positions.empty();
      for (dom::element wanted : values) hit = hit || value_matches(wanted, leaf.value);
    }
    if (in_array) break;
    if (!present && wants_absence(values)) continue;
    if (!hit) return false;
  }
  if (i == conditions.size()) return true;
  const auto& [path, values] = conditions[i];
  bool present = false;
  for (const Leaf& leaf : leaves) {
    if (leaf.path != path || !consistent(leaf.positions, chosen)) continue;
    present = true;
    bool hit = false;
    for (dom::element wanted : values) hit = hit || value_matches(wanted, leaf.value);
    if (!hit) continue;
    std::map<int, int> next = chosen;
    next.insert(leaf.positions.begin(), leaf.positions.end());
    if (satisfied(conditions, i + 1, next, leaves)) return true;
  }
  if (!present && wants_absence(values)) return satisfied(conditions, i + 1, chosen, leaves);
  return false;
}

}  // namespace

bool matches(std::string_view pattern_json, std::string_view event_json) {
  dom::parser pattern_parser, event_parser;
  simdjson::padded_string pattern_text(numbers_as_strings(pattern_json)),
      event_text(numbers_as_strings(event_json));
  dom::element pattern = pattern_parser.parse(pattern_text);
  dom::element event = event_parser.parse(event_text);

  std::vector<Leaf> leaves;
  std::map<int, int> positions;
  int next_array = 0;
  flatten(event, "", positions, next_array, leaves);

  or_operator = or_is_operator(pattern, false);
  for (const Alternative& alt : expand(pattern, "", {})) {
    std::vector<std::pair<std::string, dom::array>> conditions(alt.begin(), alt.end());
    if (satisfied(conditions, 0, {}, leaves)) return true;
  }
  return false;
}

}  // namespace eventrouter::pattern::reference
