#include "eventrouter/transform/yaml_json.hpp"

#include <cctype>
#include <string_view>

#include "eventrouter/transform/json_text.hpp"

namespace eventrouter::transform {
namespace {

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool append(std::string& out, const YAML::Node& node, std::string& error, int depth) {
  if (depth > 64) {
    error = "nested too deeply";
    return false;
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out += "null";
      return true;
    case YAML::NodeType::Scalar: {
      const std::string& value = node.Scalar();
      if (node.Tag() != "!") {  // plain (unquoted) scalar
        if (value.empty() || value == "~" || value == "null" || value == "Null" ||
            value == "NULL") {
          out += "null";
          return true;
        }
        if (value == "true" || value == "True" || value == "TRUE") {
          out += "true";
          return true;
        }
        if (value == "false" || value == "False" || value == "FALSE") {
          out += "false";
          return true;
        }
        if (is_json_number(value)) {
          out += value;
          return true;
        }
      }
      append_json_string(out, value);
      return true;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        if (!append(out, item, error, depth + 1)) return false;
      }
      out += ']';
      return true;
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          error = "mapping keys must be strings";
          return false;
        }
        if (!first) out += ',';
        first = false;
        append_json_string(out, entry.first.Scalar());
        out += ':';
        if (!append(out, entry.second, error, depth + 1)) return false;
      }
      out += '}';
      return true;
    }
  }
  return false;
}

}  // namespace

Expected<std::string, std::string> yaml_to_json(const YAML::Node& node) {
  std::string out;
  std::string error;
  if (!append(out, node, error, 0)) return unexpected(std::move(error));
  return out;
}

}  // namespace eventrouter::transform
