#include "eventrouter/config/yaml_json.hpp"

#include <charconv>
#include <cstdint>
#include <set>

#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::config {

namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool all_digits(std::string_view s, bool (*ok)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool is_dec(char c) {
  return c >= '0' && c <= '9';
}
bool is_oct(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view strip_sign(std::string_view s, bool& negative) {
  negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  return s;
}

std::string strip_leading_zeros(std::string_view digits) {
  std::size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return std::string(digits.substr(i));
}

// YAML 1.2 core schema integer, as JSON number text.
std::optional<std::string> core_int(std::string_view text) {
  bool negative = false;
  std::string_view body = strip_sign(text, negative);
  if (all_digits(body, is_dec)) return (negative ? "-" : "") + strip_leading_zeros(body);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    const bool hex = text[1] == 'x';
    std::string_view digits = text.substr(2);
    if (!all_digits(digits, hex ? is_hex : is_oct)) return std::nullopt;
    std::uint64_t value = 0;
    auto [ptr, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 8);
    (void)ptr;
    if (ec != std::errc{}) return std::nullopt;
    return std::to_string(value);
  }
  return std::nullopt;
}

// YAML 1.2 core schema float (without .inf/.nan), as JSON number text.
std::optional<std::string> core_float(std::string_view text) {
  bool negative = false;
  std::string_view s = strip_sign(text, negative);
  std::string_view exponent;
  bool has_exponent = false;
  if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    has_exponent = true;
    exponent = s.substr(e + 1);
    s = s.substr(0, e);
    std::string_view exp_digits = exponent;
    if (!exp_digits.empty() && (exp_digits[0] == '+' || exp_digits[0] == '-'))
      exp_digits.remove_prefix(1);
    if (!all_digits(exp_digits, is_dec)) return std::nullopt;
  }
  const auto dot = s.find('.');
  std::string_view whole = dot == std::string_view::npos ? s : s.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (!whole.empty() && !all_digits(whole, is_dec)) return std::nullopt;
  if (!fraction.empty() && !all_digits(fraction, is_dec)) return std::nullopt;
  std::string out = negative ? "-" : "";
  out += whole.empty() ? std::string("0") : strip_leading_zeros(whole);
  if (dot != std::string_view::npos) {
    out += '.';
    out += fraction.empty() ? std::string_view("0") : fraction;
  }
  if (has_exponent) {
    out += 'e';
    out += exponent;
  }
  return out;
}

bool is_inf_or_nan(std::string_view text) {
  bool negative = false;
  std::string_view s = strip_sign(text, negative);
  static const std::set<std::string_view> special = {".inf", ".Inf", ".INF",
                                                     ".nan", ".NaN", ".NAN"};
  return special.count(s) > 0;
}

std::optional<bool> core_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

class Converter {
 public:
  explicit Converter(YamlFile& file) : file_(file) {}

  bool convert(const yaml::Node& node, std::string& out) {
    switch (node.type()) {
      case yaml::NodeType::kNull:
      case yaml::NodeType::kUndefined:
        out += "null";
        return true;
      case yaml::NodeType::kSequence: {
        out += '[';
        bool ok = true;
        for (std::size_t i = 0; i < node.size(); ++i) {
          if (i > 0) out += ',';
          ok = convert(node[i], out) && ok;
        }
        out += ']';
        return ok;
      }
      case yaml::NodeType::kMap:
        return convert_map(node, out);
      case yaml::NodeType::kScalar:
        return convert_scalar(node, out);
    }
    return false;
  }

 private:
  bool convert_map(const yaml::Node& node, std::string& out) {
    out += '{';
    bool ok = true;
    bool first = true;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const yaml::Node key = it->first;  // a copy: `it->` returns a temporary proxy
      if (!key.is_scalar()) {
        file_.error(key, "a key in a JSON object must be a string, not a list or mapping");
        ok = false;
        continue;
      }
      if (!seen.insert(key.scalar()).second) {
        file_.error(key, "duplicate key '" + key.scalar() + "'; keep only one");
        ok = false;
        continue;
      }
      if (!first) out += ',';
      first = false;
      json::append_string(out, key.scalar());
      out += ':';
      ok = convert(it->second, out) && ok;
    }
    out += '}';
    return ok;
  }

  bool convert_scalar(const yaml::Node& node, std::string& out) {
    const std::string& text = node.scalar();
    const std::string& tag = node.tag();
    if (tag == "!" || tag == std::string(kTagPrefix) + "str") {
      json::append_string(out, text);
      return true;
    }
    if (tag == "?") return convert_plain(node, out);
    if (tag == std::string(kTagPrefix) + "int" || tag == std::string(kTagPrefix) + "float") {
      auto number = core_int(text);
      if (!number && tag.ends_with("float")) number = core_float(text);
      if (!number) {
        file_.error(node, "'" + text + "' is not a number JSON can hold");
        return false;
      }
      out += *number;
      return true;
    }
    if (tag == std::string(kTagPrefix) + "bool") {
      auto b = core_bool(text);
      if (!b) {
        file_.error(node, "'" + text + "' is not true or false");
        return false;
      }
      out += *b ? "true" : "false";
      return true;
    }
    if (tag == std::string(kTagPrefix) + "null") {
      out += "null";
      return true;
    }
    file_.error(node, "unsupported YAML tag '" + tag + "'; JSON values have no tags");
    return false;
  }

  bool convert_plain(const yaml::Node& node, std::string& out) {
    const std::string& text = node.scalar();
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
      out += "null";
      return true;
    }
    if (auto b = core_bool(text)) {
      out += *b ? "true" : "false";
      return true;
    }
    if (auto number = core_int(text)) {
      out += *number;
      return true;
    }
    if (is_inf_or_nan(text)) {
      file_.error(node, "'" + text +
                            "' (infinity or not-a-number) cannot be written in JSON; "
                            "quote it if you mean the string");
      return false;
    }
    if (auto number = core_float(text)) {
      out += *number;
      return true;
    }
    json::append_string(out, text);
    return true;
  }

  YamlFile& file_;
};

}  // namespace

std::optional<std::string> yaml_to_json(YamlFile& file, const yaml::Node& node) {
  std::string out;
  Converter converter(file);
  if (!converter.convert(node, out)) return std::nullopt;
  return out;
}

}  // namespace eventrouter::config
