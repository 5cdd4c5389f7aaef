#pragma once
// What the bus matcher compiles its rules into: the path trie, each field's value indexes, and
// every alternative in a compact form for evaluation. Built by matcher_build.cpp, read by
// matcher.cpp.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "alt_list.hpp"
#include "ast.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "field_index.hpp"
#include "flat_event.hpp"

namespace eventrouter::pattern::detail {

// Each alternative in the matcher's compact form, in one contiguous block of `blob` so that
// evaluating a candidate reads a few neighbouring cache lines (one stream the prefetcher
// follows) instead of several scattered heap blocks: a header, its conditions (ordered for
// evaluation: most selective first, the anchor last), their predicates, then their texts.
struct AltHeader {
  std::uint32_t pattern;
  std::uint32_t bound_begin;  // into MatcherData::bound (the full search)
  // A second cheap test besides the anchor: a condition that needs one exact string on this
  // field. A candidate whose guard fails is dropped without reading its conditions.
  std::uint32_t guard_field = kNone;
  std::uint32_t count;  // conditions
  std::uint64_t guard_hash = 0;
};

struct CondCell {
  std::uint32_t field;
  std::uint32_t predicate_count;
  bool has_absent;
};

// The common kinds carry their operands inline (text at `text_offset` bytes from the header),
// the others point at the full Predicate.
struct PredCell {
  PredKind kind;
  bool low_open = false;
  bool high_open = false;
  bool ascii_ci = false;  // an ignore-case kind with an ASCII text, stored lower-case
  std::uint32_t text_length = 0;
  union {
    double low;  // exact number, or range bounds
    std::uint64_t text_offset;
    const Predicate* full;
  };
  double high = 0;
};
static_assert(sizeof(AltHeader) == 24 && sizeof(CondCell) == 12 && sizeof(PredCell) == 24);

// Where an alternative's predicates start in its block: after the header and the conditions,
// rounded up to 8 bytes (blocks start on 8-byte words).
constexpr std::size_t predicates_offset(std::size_t conditions) {
  return (sizeof(AltHeader) + conditions * sizeof(CondCell) + 7) & ~std::size_t{7};
}

struct MatcherData {
  std::vector<Pattern> patterns;
  PathTrie trie;
  // Every alternative's conditions, alternative after alternative, for the full search. They
  // point into `patterns`, whose alternatives share the conditions they have in common.
  std::vector<BoundCondition> bound;
  std::vector<std::uint64_t> blob;      // the alternatives' compact forms (8-byte words)
  std::vector<std::uint32_t> alt_word;  // per alternative: its first word in `blob`
  std::vector<FieldIndex> fields;       // by field id
  std::vector<FieldProbe> probes;       // by field id; kinds == 0: no anchor on the field
  AltList always;                       // alternatives with no condition a value can anchor

  std::size_t alternative_count() const { return alt_word.size(); }
  const AltHeader& header(std::uint32_t alt) const {
    return *reinterpret_cast<const AltHeader*>(blob.data() + alt_word[alt]);
  }
  void build();
  void index(std::uint32_t field, const Predicate& p, std::uint32_t alt);
};

}  // namespace eventrouter::pattern::detail
