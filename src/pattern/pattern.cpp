#include "eventrouter/pattern/pattern.hpp"

#include "compiled.hpp"
#include "compiler.hpp"

namespace eventrouter::pattern {
namespace detail {

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

simdjson::error_code parse_event(std::string_view json, simdjson::dom::element& root) {
  ThreadScratch& scratch = thread_scratch();
  scratch.padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  scratch.padded.assign(json.data(), json.size());
  return scratch.parser.parse(scratch.padded.data(), json.size(), false).get(root);
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
  for (const auto& alternative : data->tree.alternatives) {
    std::vector<detail::BoundCondition> bound;
    for (const auto& condition : alternative.conditions) {
      bound.push_back({data->trie.add(condition.path), &condition});
    }
    data->bound.push_back(std::move(bound));
  }
  return Pattern(std::move(data));
}

Expected<bool, std::string> matches(const Pattern& pattern, std::string_view event_json) {
  simdjson::dom::element root;
  if (auto err = detail::parse_event(event_json, root)) {
    return unexpected(std::string("Event is not valid JSON: ") + simdjson::error_message(err));
  }
  if (!root.is_object()) return unexpected(std::string("Event must be a JSON object"));
  const detail::PatternData& data = pattern.data();
  detail::FlatEvent& event = detail::thread_scratch().event;
  event.build(data.trie, detail::thread_scratch().parser.doc);
  for (const auto& bound : data.bound) {
    if (detail::evaluate_alternative(bound.data(), bound.size(), event)) return true;
  }
  return false;
}

}  // namespace eventrouter::pattern
