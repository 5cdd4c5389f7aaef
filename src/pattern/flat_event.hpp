#pragma once
// One pass over a parsed event that keeps only the leaf values at paths some condition names,
// each with its array membership (which element of which array it sits in), and the
// array-consistent evaluation of one alternative against those values.

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
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
  struct Slot {
    std::uint32_t name_offset;  // into names_
    std::uint32_t name_length;
    std::uint32_t child = kNone;  // kNone: empty slot
  };
  struct Node {
    // The children in an open-addressed table hashed on the name's length and three of its
    // bytes (no loop over the name), and a mask of their key lengths that turns most unknown
    // event keys away at once.
    std::vector<Slot> table;
    std::uint32_t child_count = 0;
    std::uint64_t length_mask = 0;
    std::uint32_t field = kNone;
    // Whether some child has children of its own: only then can an event key with a dot
    // ("a.b") lead anywhere from here.
    bool has_grandchildren = false;
  };

  PathTrie() : nodes_(1) {}
  // Returns the field id of the path, adding it if new.
  std::uint32_t add(std::string_view dotted_path);
  std::uint32_t field_count() const { return field_count_; }
  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  bool has_children(std::uint32_t index) const { return nodes_[index].child_count != 0; }
  // Child of `from` reached by an event key (which may itself contain dots); kNone if no path
  // continues that way.
  std::uint32_t child(std::uint32_t from, std::string_view key) const {
    // Most event keys have no dot: try the whole key first (trie names never contain one), and
    // look for dots only when that fails.
    const Node& here = nodes_[from];
    std::uint32_t whole = named_child(here, key);
    if (whole != kNone || !here.has_grandchildren) return whole;
    if (!std::memchr(key.data(), '.', key.size())) return kNone;
    return dotted_child(from, key);
  }

 private:
  static std::uint32_t slot_hash(const char* p, std::size_t n) {
    std::uint32_t bytes = 0;
    if (n != 0) {
      bytes = static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
              static_cast<std::uint32_t>(static_cast<unsigned char>(p[n - 1])) << 8 |
              static_cast<std::uint32_t>(static_cast<unsigned char>(p[n / 2])) << 16;
    }
    std::uint32_t h = (bytes ^ static_cast<std::uint32_t>(n) * 0x9E3779B1u) * 0x85EBCA77u;
    return h ^ (h >> 15);
  }
  // The child of one node named exactly `segment` (no dot), or kNone. Inlined: it runs for
  // every key of every object the walk enters.
  [[gnu::always_inline]] std::uint32_t named_child(const Node& here,
                                                   std::string_view segment) const {
    if (!(here.length_mask >> std::min<std::size_t>(segment.size(), 63) & 1)) return kNone;
    const std::size_t mask = here.table.size() - 1;
    for (std::size_t i = slot_hash(segment.data(), segment.size()) & mask;; i = (i + 1) & mask) {
      const Slot& slot = here.table[i];
      if (slot.child == kNone) return kNone;
      if (slot.name_length == segment.size() &&
          bytes_equal(names_.data() + slot.name_offset, segment.data(), segment.size())) {
        return slot.child;
      }
    }
  }
  std::uint32_t dotted_child(std::uint32_t from, std::string_view key) const;
  void insert_slot(Node& node, const Slot& slot);

  std::vector<Node> nodes_;
  std::string names_;
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

// A document after simdjson's stage 1: its text (with simdjson's padding after it), the
// positions of its structural characters and of the first byte of every scalar, and the
// parser that can unescape its strings.
struct Structurals {
  const char* text = nullptr;
  std::size_t length = 0;
  const std::uint32_t* index = nullptr;
  std::uint32_t count = 0;
  const simdjson::internal::dom_parser_implementation* unescaper = nullptr;
};

class FlatEvent {
 public:
  // Walks the document (its root must be an object) collecting the leaf values at the trie's
  // fields, over simdjson's structural index (stage 1): one forward pass that compares keys in
  // place, reads only the values some rule names, and steps over every other value by its
  // brackets without parsing it. The document must be valid JSON (callers validate it, see
  // Matcher::match); anything else gives an error or, in parts no rule reads, goes unnoticed,
  // but never a read outside the document and its padding.
  simdjson::error_code build(const PathTrie& trie, const Structurals& doc);

  std::uint32_t first(std::uint32_t field) const {
    return head_stamp_[field] == stamp_ ? head_[field] : kNone;
  }
  const Occurrence& occurrence(std::uint32_t index) const { return occurrences_[index]; }
  std::span<const Occurrence> occurrences() const {
    return {occurrences_.data(), occurrence_count_};
  }
  const ArrayStep* chain(const Occurrence& o) const { return chains_.data() + o.chain_begin; }
  bool has_arrays() const { return !chains_.empty(); }

 private:
  char token(std::uint32_t at) const { return doc_.text[doc_.index[at]]; }
  simdjson::error_code visit_object(const PathTrie& trie, std::uint32_t node, std::uint32_t& at);
  simdjson::error_code visit_array(const PathTrie& trie, std::uint32_t node, std::uint32_t& at);
  simdjson::error_code visit(const PathTrie& trie, std::uint32_t node, std::uint32_t& at);
  simdjson::error_code skip(std::uint32_t& at) const;
  std::string_view string_at(std::uint32_t at);
  std::string_view unescaped(std::string_view raw);
  void record(std::uint32_t field, const Value& value);

  Structurals doc_;
  const char* escapes_from_ = nullptr;  // the document's first backslash (or its end)
  std::vector<char> unescaped_;         // strings with escapes, unescaped (one event's)
  char* unescaped_end_ = nullptr;
  std::uint32_t depth_ = 0;              // of nested arrays
  std::vector<Occurrence> occurrences_;  // the first occurrence_count_ are this event's
  std::uint32_t occurrence_count_ = 0;
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
