#include "eventrouter/transform/event_document.hpp"

#include "eventrouter/transform/json_text.hpp"
#include "eventrouter/util/json_numbers.hpp"

namespace eventrouter::transform {
namespace {

using simdjson::ondemand::json_type;

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A scalar's raw token runs up to the next token: the whitespace in between is not its text.
std::string_view without_trailing_space(std::string_view token) {
  while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
  return token;
}

simdjson::simdjson_result<std::string_view> raw_token(simdjson::ondemand::value& value) {
  return value.raw_json_token();
}

simdjson::simdjson_result<std::string_view> raw_token(simdjson::ondemand::document& document) {
  return document.raw_json_token();
}

simdjson::error_code append_container(std::string_view text, std::string& out) {
  return append_minified(out, text) ? simdjson::SUCCESS : simdjson::TAPE_ERROR;
}

// On-Demand checks a scalar only when it is converted; these are copied, so they are checked
// here instead (stage 1 has already checked strings).
simdjson::error_code check_scalar(json_type type, std::string_view token) {
  switch (type) {
    case json_type::number:
      return util::is_json_number(token) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
    case json_type::boolean:
      return token == "true" || token == "false" ? simdjson::SUCCESS : simdjson::T_ATOM_ERROR;
    case json_type::null:
      return token == "null" ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    default:
      return simdjson::SUCCESS;
  }
}

template <class Value>
simdjson::error_code append_value(Value& value, std::string& out) {
  json_type type{};
  if (auto error = value.type().get(type)) return error;
  std::string_view text;
  if (type == json_type::object) {
    simdjson::ondemand::object object;
    if (auto error = value.get_object().get(object)) return error;
    if (auto error = object.raw_json().get(text)) return error;
    return append_container(text, out);
  }
  if (type == json_type::array) {
    simdjson::ondemand::array array;
    if (auto error = value.get_array().get(array)) return error;
    if (auto error = array.raw_json().get(text)) return error;
    return append_container(text, out);
  }
  if (auto error = raw_token(value).get(text)) return error;
  text = without_trailing_space(text);
  if (auto error = check_scalar(type, text)) return error;
  out += text;
  return simdjson::SUCCESS;
}

}  // namespace

Expected<simdjson::ondemand::document, std::string> read_event(std::string_view event_json) {
  // One parser and one padded copy per thread: shaping runs on whichever thread delivers, a
  // parser is not thread-safe, and reusing both avoids allocating for every event.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.reserve(event_json.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(event_json);
  simdjson::ondemand::document document;
  if (auto error = parser.iterate(padded.data(), padded.size(), padded.capacity()).get(document)) {
    return unexpected(event_not_valid(error));
  }
  return document;
}

std::string event_not_valid(simdjson::error_code error) {
  return "the event is not valid JSON: " + std::string(simdjson::error_message(error));
}

simdjson::error_code append_as_written(simdjson::ondemand::value value, std::string& out) {
  return append_value(value, out);
}

simdjson::error_code append_as_written(simdjson::ondemand::document& document, std::string& out) {
  return append_value(document, out);
}

}  // namespace eventrouter::transform
