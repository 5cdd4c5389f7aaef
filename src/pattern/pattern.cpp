#include "eventrouter/pattern/pattern.hpp"

#include <algorithm>

#include "compiled.hpp"
#include "compiler.hpp"
#include "eventrouter/util/json_numbers.hpp"

// flatten_event() runs simdjson's stage 1 on its own through dom::parser::implementation and
// the stage-1 result (structural_indexes), public members that simdjson marks as meant for
// internal and benchmarking use. They are as in simdjson 3.x (Debian 12 ships 3.0.1); check
// them before building against another major version.
static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3,
              "flatten_event() uses simdjson 3.x's stage-1 interface: check it for this version");

namespace eventrouter::pattern {
namespace detail {

const PatternData::Alone& PatternData::alone() const {
  std::call_once(alone_once_, [this] {
    for (const auto& alternative : tree.alternatives) {
      std::vector<BoundCondition> bound;
      for (const auto& condition : alternative.conditions) {
        bound.push_back({alone_.trie.add(condition->path), condition.get()});
      }
      alone_.bound.push_back(std::move(bound));
    }
  });
  return alone_;
}

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

simdjson::padded_string_view pad_event(std::string_view json) {
  std::string& padded = thread_scratch().padded;
  padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(json.data(), json.size());
  return simdjson::padded_string_view(padded.data(), json.size(), padded.capacity());
}

simdjson::error_code flatten_event(const PathTrie& trie, simdjson::padded_string_view json) {
  ThreadScratch& scratch = thread_scratch();
  simdjson::dom::parser& parser = scratch.parser;
  if (!parser.implementation || parser.capacity() < json.length()) {
    if (auto error = parser.allocate(std::max<std::size_t>(json.length(), 4096))) return error;
  }
  // Only simdjson's stage 1 (finding the structural characters and validating UTF-8 and
  // strings): FlatEvent walks its index itself instead of having stage 2 build simdjson's tape
  // for the whole event, most of which no rule reads.
  simdjson::internal::dom_parser_implementation& stage1 = *parser.implementation;
  if (auto error = stage1.stage1(reinterpret_cast<const std::uint8_t*>(json.data()), json.length(),
                                 simdjson::stage1_mode::regular)) {
    return error;
  }
  return scratch.event.build(
      trie, Structurals{json.data(), json.length(), stage1.structural_indexes.get(),
                        stage1.n_structural_indexes, &stage1});
}

}  // namespace detail

const std::string& Pattern::source() const {
  return data_->tree.source;
}

std::size_t Pattern::alternative_count() const {
  return data_->tree.alternatives.size();
}

Expected<Pattern, std::string> compile(std::string_view pattern_json) {
  auto tree = detail::compile_pattern(pattern_json);
  if (!tree) return unexpected(std::string(detail::kInvalidPatternPrefix) + tree.error());
  auto data = std::make_shared<detail::PatternData>();
  data->tree = std::move(tree).value();
  return Pattern(std::move(data));
}

Expected<bool, std::string> matches(const Pattern& pattern, std::string_view event_json) {
  // The matcher's walk reads only what rules name, so the whole event is validated first, with
  // a full parse by the same thread parser (the walk then runs its stage 1 again).
  const simdjson::padded_string_view padded = detail::pad_event(event_json);
  simdjson::dom::element root;
  auto parse_error =
      detail::thread_scratch().parser.parse(padded.data(), padded.length(), false).get(root);
  if (parse_error == simdjson::NUMBER_ERROR) {
    // Numbers past 64-bit integers or the double range are valid JSON, which simdjson's DOM
    // refuses: validate a copy where they read as 0 (the walk reads them from the event itself).
    const std::string copy =
        util::rewrite_json_numbers(event_json, [](std::string_view number, std::size_t) {
          return util::fits_simdjson_dom(number) ? std::string(number) : std::string("0");
        });
    parse_error = detail::thread_scratch().parser.parse(copy).get(root);
  }
  if (parse_error) {
    return unexpected(std::string("Event is not valid JSON: ") +
                      simdjson::error_message(parse_error));
  }
  if (!root.is_object()) return unexpected(std::string("Event must be a JSON object"));
  const detail::PatternData::Alone& data = pattern.data().alone();
  if (auto err = detail::flatten_event(data.trie, padded)) {
    return unexpected(std::string("Event is not valid JSON: ") + simdjson::error_message(err));
  }
  const detail::FlatEvent& event = detail::thread_scratch().event;
  for (const auto& bound : data.bound) {
    if (detail::evaluate_alternative(bound.data(), bound.size(), event)) return true;
  }
  return false;
}

}  // namespace eventrouter::pattern
