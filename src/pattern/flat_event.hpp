#pragma once
// One pass over a parsed event that keeps only the leaf values at paths some condition names,
// each with its array membership (which element of which array it sits in), and the
// array-consistent evaluation of one alternative against those values.

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ast.hpp"
#include "flat_map.hpp"
#include "predicates.hpp"

namespace eventrouter::pattern::detail {

inline constexpr std::uint32_t kNone = 0xffffffffu;

// Field paths split at '.', so that {"a":{"b":..}}, {"a.b":..} and an event key "a.b" all
// address the same field (as in event-ruler).
class PathTrie {
 public:
  struct Node {
    FlatStringMap<std::uint32_t> children;
    // The same children as a list, scanned when short (cheaper than hashing), and a mask of
    // their key lengths that turns most unknown event keys away at once.
    std::vector<std::pair<std::string, std::uint32_t>> list;
    std::uint64_t length_mask = 0;
    std::uint32_t field = kNone;
  };
  static constexpr std::size_t kScanLimit = 8;

  PathTrie() : nodes_(1) {}
  // Returns the field id of the path, adding it if new.
  std::uint32_t add(std::string_view dotted_path);
  std::uint32_t field_count() const { return field_count_; }
  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  // Child of `from` reached by an event key (which may itself contain dots); kNone if no path
  // continues that way.
  std::uint32_t child(std::uint32_t from, std::string_view key) const;

 private:
  std::vector<Node> nodes_;
  std::uint32_t field_count_ = 0;
};

struct ArrayStep {
  std::uint32_t array;  // unique per array within one event
  std::uint32_t index;  // element index
};

struct Occurrence {
  Value value;
  std::uint32_t field;
  std::uint32_t chain_begin;  // into FlatEvent::chains
  std::uint32_t chain_length;
  std::uint32_t next;  // next occurrence of the same field, or kNone
};

class FlatEvent {
 public:
  // Walks `root` (an object) collecting the leaf values at the trie's fields.
  void build(const PathTrie& trie, simdjson::dom::element root);

  std::uint32_t first(std::uint32_t field) const {
    return head_stamp_[field] == stamp_ ? head_[field] : kNone;
  }
  const Occurrence& occurrence(std::uint32_t index) const { return occurrences_[index]; }
  const std::vector<Occurrence>& occurrences() const { return occurrences_; }
  const ArrayStep* chain(const Occurrence& o) const { return chains_.data() + o.chain_begin; }
  bool has_arrays() const { return !chains_.empty(); }

 private:
  void visit(const PathTrie& trie, std::uint32_t node, simdjson::dom::element value);
  void record(std::uint32_t field, const Value& value);

  std::vector<Occurrence> occurrences_;
  std::vector<ArrayStep> chains_;
  std::vector<ArrayStep> current_chain_;
  std::vector<std::uint32_t> head_;
  std::vector<std::uint32_t> head_stamp_;
  std::uint32_t stamp_ = 0;
  std::uint32_t next_array_ = 0;
};

// A condition of an alternative bound to a field id of some PathTrie.
struct BoundCondition {
  std::uint32_t field;
  const Condition* condition;
};

// True when the alternative (conditions sorted by path) matches: every condition is met by a
// value, all chosen values lying in the same element of any array they share, and a condition
// with {"exists": false} may instead be met when no value of its field is array-consistent
// with the values chosen for the conditions before it (event-ruler's rulesForJSONEvent).
bool evaluate_alternative(const BoundCondition* conditions, std::size_t count,
                          const FlatEvent& event);

}  // namespace eventrouter::pattern::detail
