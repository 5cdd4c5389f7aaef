#pragma once
// The compiled form behind a Pattern: the validated tree plus its fields bound to a PathTrie.

#include <vector>

#include "ast.hpp"
#include "flat_event.hpp"

namespace eventrouter::pattern::detail {

struct PatternData {
  PatternTree tree;
  PathTrie trie;
  std::vector<std::vector<BoundCondition>> bound;  // one per alternative, same order
};

// Each thread's parser and scratch event; events are parsed on the calling thread.
struct ThreadScratch {
  simdjson::dom::parser parser;
  FlatEvent event;
  std::string padded;  // a copy of an unpadded event, with simdjson's padding
};
ThreadScratch& thread_scratch();

// Parses `json` (copied into padding) with the thread's parser.
simdjson::error_code parse_event(std::string_view json, simdjson::dom::element& root);

}  // namespace eventrouter::pattern::detail
