#include "eventrouter/transform/json_path.hpp"

#include <cctype>
#include <charconv>

namespace eventrouter::transform {
namespace {

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '-' || c == '/' || c == ':' || c == '@' || u >= 0x80;
}

std::string at(std::size_t position) {
  return " at character " + std::to_string(position + 1);
}

}  // namespace

Expected<JsonPath, std::string> JsonPath::parse(std::string_view text) {
  if (text.empty()) return unexpected(std::string("a JSON path must not be empty"));
  if (text.size() > max_length) {
    return unexpected("a JSON path must be at most " + std::to_string(max_length) +
                      " characters (this one has " + std::to_string(text.size()) + ")");
  }
  if (text.front() != '$') {
    return unexpected(std::string("a JSON path must start with '$' (for example $.detail)"));
  }
  JsonPath path;
  path.text_ = std::string(text);
  std::size_t i = 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      ++i;
      if (i < text.size() && text[i] == '*') {
        path.steps_.emplace_back(Wildcard{});
        path.has_wildcard_ = true;
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < text.size() && is_name_char(text[i])) ++i;
      if (i == start) return unexpected("expected a field name after '.'" + at(start));
      path.steps_.emplace_back(std::string(text.substr(start, i - start)));
    } else if (c == '[') {
      ++i;
      if (i < text.size() && text[i] == '*') {
        ++i;
        path.steps_.emplace_back(Wildcard{});
        path.has_wildcard_ = true;
      } else if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        const char quote = text[i++];
        const std::size_t start = i;
        while (i < text.size() && text[i] != quote) ++i;
        if (i >= text.size()) return unexpected("unterminated quoted name" + at(start - 1));
        if (i == start) return unexpected("empty quoted name" + at(start - 1));
        path.steps_.emplace_back(std::string(text.substr(start, i - start)));
        ++i;
      } else {
        const std::size_t start = i;
        std::size_t index = 0;
        const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), index);
        if (ec != std::errc() || end == text.data() + i) {
          return unexpected("expected an array index, '*' or a quoted name after '['" + at(start));
        }
        i = static_cast<std::size_t>(end - text.data());
        path.steps_.emplace_back(index);
      }
      if (i >= text.size() || text[i] != ']') return unexpected("expected ']'" + at(i));
      ++i;
    } else {
      return unexpected(std::string("unexpected character '") + c + "'" + at(i) +
                        " (use dot notation, [index], [*] or ['name'])");
    }
  }
  return path;
}

void JsonPath::collect(simdjson::dom::element element, std::size_t step,
                       std::vector<simdjson::dom::element>& out) const {
  if (step == steps_.size()) {
    out.push_back(element);
    return;
  }
  const Step& s = steps_[step];
  if (const auto* name = std::get_if<std::string>(&s)) {
    simdjson::dom::object object;
    simdjson::dom::element child;
    if (element.get_object().get(object) == simdjson::SUCCESS &&
        object.at_key(*name).get(child) == simdjson::SUCCESS) {
      collect(child, step + 1, out);
    }
  } else if (const auto* index = std::get_if<std::size_t>(&s)) {
    simdjson::dom::array array;
    simdjson::dom::element child;
    if (element.get_array().get(array) == simdjson::SUCCESS &&
        array.at(*index).get(child) == simdjson::SUCCESS) {
      collect(child, step + 1, out);
    }
  } else {
    simdjson::dom::object object;
    simdjson::dom::array array;
    if (element.get_object().get(object) == simdjson::SUCCESS) {
      for (auto field : object) collect(field.value, step + 1, out);
    } else if (element.get_array().get(array) == simdjson::SUCCESS) {
      for (auto child : array) collect(child, step + 1, out);
    }
  }
}

JsonValue to_json_value(simdjson::dom::element element) {
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    return {JsonValue::Kind::string, std::string(text)};
  }
  return {JsonValue::Kind::json, simdjson::to_string(element)};
}

JsonValue JsonPath::select(simdjson::dom::element root) const {
  std::vector<simdjson::dom::element> matches;
  collect(root, 0, matches);
  if (!has_wildcard_) {
    if (matches.empty()) return {};
    return to_json_value(matches.front());
  }
  std::string array = "[";
  for (std::size_t i = 0; i < matches.size(); ++i) {
    if (i) array += ',';
    array += simdjson::to_string(matches[i]);
  }
  array += ']';
  return {JsonValue::Kind::json, std::move(array)};
}

}  // namespace eventrouter::transform
