#include "json_document.hpp"

#include "eventrouter/util/json_numbers.hpp"

namespace eventrouter::event::detail {

namespace {

simdjson::dom::parser make_parser() {
  simdjson::dom::parser p;
  // Depth is fixed at allocation; later growth keeps it.
  if (p.allocate(64 * 1024, kMaxJsonDepth) != simdjson::SUCCESS) std::abort();
  return p;
}

simdjson::dom::parser& dom_parser(int slot) {
  thread_local simdjson::dom::parser parsers[2] = {make_parser(), make_parser()};
  return parsers[slot];
}

}  // namespace

simdjson::ondemand::parser& ondemand_parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

Expected<simdjson::dom::element, BodyError> JsonDocument::parse(std::string_view text) {
  padded_ = simdjson::padded_string(text);
  simdjson::dom::element root;
  auto error = dom_parser(slot_).parse(padded_).get(root);
  if (error == simdjson::NUMBER_ERROR) {
    // A number past 64-bit integers or the double range is valid JSON (EventBridge takes it),
    // but simdjson's DOM refuses it. Such numbers read as null in a copy parsed instead: the DOM
    // only serves the envelope's fields (none of which is such a number) and its checks, while
    // padded() keeps the text itself, from which details are taken and events matched.
    const std::string copy =
        util::rewrite_json_numbers(text, [](std::string_view number, std::size_t) {
          return util::fits_simdjson_dom(number) ? std::string(number) : std::string("null");
        });
    error = dom_parser(slot_).parse(copy).get(root);
  }
  if (error == simdjson::SUCCESS) return root;
  switch (error) {
    case simdjson::UTF8_ERROR:
      return unexpected(BodyError{"InvalidUTF8", "the body is not valid UTF-8"});
    case simdjson::DEPTH_ERROR:
      return unexpected(BodyError{
          "TooDeep", "JSON nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels"});
    case simdjson::NUMBER_ERROR: {
      std::string where = describe_json_error(text);
      if (where.empty()) {
        where =
            "a number is malformed (JSON numbers have no leading zeros and need digits after "
            "'.' and 'e')";
      }
      return unexpected(BodyError{"MalformedJSON", where});
    }
    case simdjson::EMPTY:
      return unexpected(BodyError{"MalformedJSON", "the body is empty: send a JSON event"});
    default: {
      std::string where = describe_json_error(text);
      if (where.empty()) where = std::string("malformed JSON: ") + simdjson::error_message(error);
      return unexpected(BodyError{"MalformedJSON", where});
    }
  }
}

}  // namespace eventrouter::event::detail
