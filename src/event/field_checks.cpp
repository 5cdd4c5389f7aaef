#include "field_checks.hpp"

#include "json_document.hpp"

#include <algorithm>
#include <cstdio>

namespace eventrouter::event::detail {

namespace {

std::size_t utf8_chars(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

EntryError invalid(std::string message) {
  return {"InvalidArgument", std::move(message)};
}

std::string printable_key(std::string_view key) {
  std::string out;
  for (char c : key.substr(0, 100)) {
    if (is_control(static_cast<unsigned char>(c))) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  if (key.size() > 100) out += "...";
  return out;
}

// Keys of one object, compared pairwise while few (no allocation), sorted when many.
std::optional<std::string_view> repeated_key(simdjson::dom::object object) {
  const std::size_t size = object.size();
  if (size < 2) return std::nullopt;
  if (size <= 16) {
    std::string_view keys[16];
    std::size_t n = 0;
    for (auto field : object) {
      for (std::size_t i = 0; i < n; ++i)
        if (keys[i] == field.key) return field.key;
      keys[n++] = field.key;
    }
    return std::nullopt;
  }
  std::vector<std::string_view> keys;
  keys.reserve(size);
  for (auto field : object) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  const auto at = std::adjacent_find(keys.begin(), keys.end());
  if (at != keys.end()) return *at;
  return std::nullopt;
}

bool walk(simdjson::dom::element value, std::string& path, std::optional<DuplicateKey>& found) {
  if (value.is_object()) {
    simdjson::dom::object object = value.get_object().value_unsafe();
    if (auto key = repeated_key(object)) {
      found = DuplicateKey{path, std::string(*key)};
      return false;
    }
    for (auto field : object) {
      if (!field.value.is_object() && !field.value.is_array()) continue;
      const std::size_t mark = path.size();
      if (!path.empty()) path.push_back('.');
      path.append(field.key);
      const bool ok = walk(field.value, path, found);
      path.resize(mark);
      if (!ok) return false;
    }
  } else if (value.is_array()) {
    const simdjson::dom::array array = value.get_array().value_unsafe();
    for (auto item : array) {
      if ((item.is_object() || item.is_array()) && !walk(item, path, found)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<EntryError> check_text_field(std::string_view name, std::string_view value,
                                           std::size_t max_chars) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (is_control(c)) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", c);
      return invalid(std::string(name) + " contains the control character " + code +
                     " at character " + std::to_string(utf8_chars(value.substr(0, i)) + 1) +
                     "; line breaks, tabs and other control characters are not allowed there");
    }
  }
  if (value.size() > max_chars) {  // bytes bound characters from above
    const std::size_t chars = utf8_chars(value);
    if (chars > max_chars) {
      return invalid(std::string(name) + " is " + std::to_string(chars) +
                     " characters long; the limit is " + std::to_string(max_chars));
    }
  }
  return std::nullopt;
}

std::optional<EntryError> check_resources(std::string_view name,
                                          const std::vector<std::string_view>& resources) {
  if (resources.size() > kMaxResources) {
    return invalid(std::string(name) + " lists " + std::to_string(resources.size()) +
                   " resources; the limit is " + std::to_string(kMaxResources));
  }
  for (std::size_t i = 0; i < resources.size(); ++i) {
    auto problem = check_text_field(std::string(name) + "[" + std::to_string(i) + "]", resources[i],
                                    kMaxResourceChars);
    if (problem) return problem;
  }
  return std::nullopt;
}

std::optional<DuplicateKey> find_duplicate_key(simdjson::dom::element root, std::string prefix) {
  std::optional<DuplicateKey> found;
  std::string path = std::move(prefix);
  walk(root, path, found);
  return found;
}

EntryError duplicate_key_error(const DuplicateKey& duplicate, std::string_view where) {
  std::string place = duplicate.path.empty() ? std::string(where)
                                             : "the object at " + printable_key(duplicate.path);
  return invalid("the key \"" + printable_key(duplicate.key) + "\" appears more than once in " +
                 place + "; an event whose objects repeat a key is ambiguous: send each key once");
}

}  // namespace eventrouter::event::detail

namespace eventrouter::event {

std::string describe_duplicate_key(std::string_view json) {
  detail::JsonDocument document(1);
  auto root = document.parse(json);
  if (!root) return {};
  auto duplicate = detail::find_duplicate_key(*root);
  return duplicate ? detail::duplicate_key_error(*duplicate, "the event").message : std::string();
}

}  // namespace eventrouter::event
