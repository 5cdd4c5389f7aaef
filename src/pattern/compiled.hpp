#pragma once
// The compiled form behind a Pattern: the validated tree plus its fields bound to a PathTrie.

#include <mutex>
#include <vector>

#include "ast.hpp"
#include "flat_event.hpp"

namespace eventrouter::pattern::detail {

struct PatternData {
  PatternTree tree;

  // The fields bound to a trie of this pattern's own, for matching it alone (matches()). Built
  // on first use: a rule's pattern is matched through its bus's Matcher, which binds its own,
  // and building both for 10,000 rules would double their start-up cost.
  struct Alone {
    PathTrie trie;
    std::vector<std::vector<BoundCondition>> bound;  // one per alternative, same order
  };
  const Alone& alone() const;

 private:
  mutable std::once_flag alone_once_;
  mutable Alone alone_;
};

// Each thread's parser and scratch event; events are parsed on the calling thread.
struct ThreadScratch {
  simdjson::dom::parser parser;  // its stage 1 and string unescaping (no DOM is built)
  FlatEvent event;
  std::string padded;  // a copy of an unpadded event, with simdjson's padding
};
ThreadScratch& thread_scratch();

// The event copied into the thread's buffer with simdjson's padding.
simdjson::padded_string_view pad_event(std::string_view json);

// Walks the event for the trie's fields into the thread's FlatEvent (see FlatEvent::build).
simdjson::error_code flatten_event(const PathTrie& trie, simdjson::padded_string_view json);

}  // namespace eventrouter::pattern::detail
