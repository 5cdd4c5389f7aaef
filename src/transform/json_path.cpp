#include "eventrouter/transform/json_path.hpp"

#include <cctype>
#include <charconv>

#include "eventrouter/transform/event_document.hpp"

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

// What a path selects: its one match, or (a path with a wildcard) every match as a JSON array.
class JsonPath::Selection {
 public:
  explicit Selection(bool every_match) : every_match_(every_match) {
    if (every_match_) value_.kind = JsonValue::Kind::kJson;
  }

  simdjson::error_code add(simdjson::ondemand::value value) {
    if (every_match_) {
      value_.text += value_.text.empty() ? '[' : ',';
      return append_as_written(value, value_.text);
    }
    return take_single(value);
  }

  // The event itself when it is a single scalar (only `$`, which has no wildcard, selects it).
  simdjson::error_code add_root_scalar(simdjson::ondemand::document& document) {
    return take_single(document);
  }

  JsonValue result() && {
    if (every_match_) value_.text += value_.text.empty() ? "[]" : "]";
    return std::move(value_);
  }

 private:
  // The one match: a string as its text, anything else as the event spells it. `Value` is a
  // value inside the event or the event document itself.
  template <class Value>
  simdjson::error_code take_single(Value& value) {
    simdjson::ondemand::json_type type{};
    if (auto error = value.type().get(type)) return error;
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return error;
      value_ = {JsonValue::Kind::kString, std::string(text)};
      return simdjson::SUCCESS;
    }
    value_.kind = JsonValue::Kind::kJson;
    return append_as_written(value, value_.text);
  }

  bool every_match_;
  JsonValue value_;
};

simdjson::error_code JsonPath::collect(simdjson::ondemand::value value, std::size_t step,
                                       Selection& selection) const {
  if (step == steps_.size()) return selection.add(value);
  simdjson::ondemand::json_type type{};
  if (auto error = value.type().get(type)) return error;
  const Step& s = steps_[step];
  const bool wildcard = std::holds_alternative<Wildcard>(s);
  if (type == simdjson::ondemand::json_type::object) {
    const auto* name = std::get_if<std::string>(&s);
    if (!name && !wildcard) return simdjson::SUCCESS;  // an index selects nothing in an object
    simdjson::ondemand::object object;
    if (auto error = value.get_object().get(object)) return error;
    for (auto member : object) {
      simdjson::ondemand::field field;
      if (auto error = std::move(member).get(field)) return error;
      if (wildcard) {
        if (auto error = collect(field.value(), step + 1, selection)) return error;
        continue;
      }
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return error;
      // The first of repeated keys, as a DOM lookup would (ingest refuses them anyway).
      if (key == *name) return collect(field.value(), step + 1, selection);
    }
  } else if (type == simdjson::ondemand::json_type::array) {
    const auto* index = std::get_if<std::size_t>(&s);
    if (!index && !wildcard) return simdjson::SUCCESS;  // a name selects nothing in an array
    simdjson::ondemand::array array;
    if (auto error = value.get_array().get(array)) return error;
    std::size_t position = 0;
    for (auto element : array) {
      simdjson::ondemand::value child;
      if (auto error = std::move(element).get(child)) return error;
      if (wildcard) {
        if (auto error = collect(child, step + 1, selection)) return error;
      } else if (position == *index) {
        return collect(child, step + 1, selection);
      }
      ++position;
    }
  }
  return simdjson::SUCCESS;
}

Expected<JsonValue, simdjson::error_code> JsonPath::select(
    simdjson::ondemand::document& event) const {
  event.rewind();
  Selection selection(has_wildcard_);
  bool scalar = false;
  if (auto error = event.is_scalar().get(scalar)) return unexpected(error);
  if (scalar) {
    if (steps_.empty()) {
      if (auto error = selection.add_root_scalar(event)) return unexpected(error);
      return std::move(selection).result();
    }
    return has_wildcard_ ? std::move(selection).result() : JsonValue{};
  }
  simdjson::ondemand::value root;
  if (auto error = event.get_value().get(root)) return unexpected(error);
  if (auto error = collect(root, 0, selection)) return unexpected(error);
  return std::move(selection).result();
}

}  // namespace eventrouter::transform
