#include "event_json.hpp"

#include <simdjson.h>

#include "eventrouter/util/json_numbers.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::delivery {

EventFields event_fields(std::string_view event_json) {
  EventFields fields;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  auto error = parser.parse(event_json.data(), event_json.size()).get_object().get(object);
  if (error == simdjson::NUMBER_ERROR) {
    // A number past what the DOM holds (ingest accepts any JSON number): the envelope's fields
    // are strings, so a copy with such numbers as null gives them all the same.
    const std::string copy =
        util::rewrite_json_numbers(event_json, [](std::string_view number, std::size_t) {
          return util::fits_simdjson_dom(number) ? std::string(number) : std::string("null");
        });
    error = parser.parse(copy).get_object().get(object);
  }
  if (error) return fields;
  std::string_view text;
  if (!object["id"].get_string().get(text)) fields.id = text;
  if (!object["source"].get_string().get(text)) fields.source = text;
  if (!object["detail-type"].get_string().get(text)) fields.detail_type = text;
  return fields;
}

std::string with_replay_name(std::string_view event_json, std::string_view replay_name) {
  std::string out;
  out.reserve(event_json.size() + replay_name.size() + 32 + simdjson::SIMDJSON_PADDING);
  const auto end = event_json.rfind('}');
  out.append(event_json.substr(0, end));
  // An envelope always has members, so the new one follows a comma.
  out += ",\"replay-name\":";
  json::append_string(out, replay_name);
  out += "}";
  return out;
}

std::optional<StoredDeadLetter> parse_dead_letter(std::string_view line) {
  // On-Demand, so the event comes back as written, numbers spelled as the producer spelled them.
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return std::nullopt;
  StoredDeadLetter letter;
  bool have_event = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    std::string_view text;
    if (key == "rule" || key == "target") {
      if (field.value().get_string().get(text)) return std::nullopt;
      (key == "rule" ? letter.rule : letter.target) = text;
    } else if (key == "event") {
      simdjson::ondemand::object event;
      if (field.value().get_object().get(event) || event.raw_json().get(text)) return std::nullopt;
      letter.event_json = text;
      have_event = true;
    }
  }
  if (letter.rule.empty() || letter.target.empty() || !have_event) return std::nullopt;
  return letter;
}

}  // namespace eventrouter::delivery
