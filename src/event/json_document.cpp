#include "json_document.hpp"

namespace eventrouter::event::detail {

namespace {

simdjson::dom::parser make_parser() {
  simdjson::dom::parser p;
  // Depth is fixed at allocation; later growth keeps it.
  if (p.allocate(64 * 1024, max_json_depth) != simdjson::SUCCESS) std::abort();
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
  const auto error = dom_parser(slot_).parse(padded_).get(root);
  if (error == simdjson::SUCCESS) return root;
  switch (error) {
    case simdjson::UTF8_ERROR:
      return unexpected(BodyError{"InvalidUTF8", "the body is not valid UTF-8"});
    case simdjson::DEPTH_ERROR:
      return unexpected(BodyError{
          "TooDeep", "JSON nesting is deeper than " + std::to_string(max_json_depth) + " levels"});
    case simdjson::NUMBER_ERROR:
      return unexpected(BodyError{"MalformedJSON",
                                  "a number is out of range: integers must fit in 64 bits and "
                                  "decimals in a double (send larger values as strings)"});
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
