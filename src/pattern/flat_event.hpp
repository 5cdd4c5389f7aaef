#pragma once
// One pass over a parsed event that keeps only the leaf values at paths some condition names,
// each with its array membership (which element of which array it sits in), and the
// array-consistent evaluation of one alternative against those values.

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ast.hpp"
#include "predicates.hpp"

namespace eventrouter::pattern::detail {

inline constexpr std::uint32_t kNone = 0xffffffffu;

// Reads eight bytes at p as one word (unaligned; the caller makes sure they are readable).
[[gnu::always_inline]] inline std::uint64_t load_word(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// The word of a name's first eight bytes (zero beyond its end), read as load_word(p) & this
// mask: one table load instead of a shift whose width is undefined at a length of zero.
inline constexpr struct HeadMasks {
  std::uint64_t mask[9] = {};
  constexpr HeadMasks() {
    for (int n = 0; n < 8; ++n) mask[n] = (1ull << (8 * n)) - 1;
    mask[8] = ~0ull;
  }
} kHeadMasks;

// Memory for the trie's slot array, aligned to a cache line so that no slot straddles two.
template <class T>
struct LineAligned {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  LineAligned() = default;
  template <class U>
  LineAligned(const LineAligned<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const LineAligned<U>&) const {
    return true;
  }
};

// Field paths split at '.', so that {"a":{"b":..}}, {"a.b":..} and an event key "a.b" all
// address the same field (as in event-ruler).
//
// The walk looks up every key of every object it enters, so the layout serves that lookup: a
// node's children sit in one open-addressed table (all nodes' tables in one array), and a
// child's slot holds all the walk needs of it: its name's first eight bytes, last eight bytes
// and length, so that a masked 8-byte load of the event key finds the slot (hash of that word
// and the length) and decides names of up to sixteen bytes; its field; and its node, read only
// to descend into it. A recorded leaf value thus costs one slot (half a cache line) and no node.
// Lookups read up to eight bytes past the end of the key they are given, which the event's
// padding (or the unescaping buffer) makes safe.
class PathTrie {
 public:
  struct Slot {
    std::uint64_t head = 0;         // the name's first eight bytes, zero beyond its end
    std::uint64_t tail = 0;         // the name's last eight bytes, if it is longer
    std::uint32_t length = kNone;   // kNone: empty slot (no name has that length)
    std::uint32_t child = kNone;    // the child's node
    std::uint32_t field = kNone;    // the child's field, if a rule names it
    std::uint32_t name_offset = 0;  // into names_ (read only for names past 16 bytes)
  };
  struct Node {
    // A bit per length of the children's names (length modulo 64: a shared bit only lets a
    // key on to the table), which turns most unknown event keys away before the table is read;
    // bit kDottedBit says some child has children of its own: only then can an event key with
    // a dot ("a.b") lead anywhere from here. Zero when the node has no children.
    std::uint64_t length_mask = 0;
    std::uint32_t table_begin = 0;  // into slots_
    std::uint32_t table_mask = 0;   // table size - 1 (tables are powers of two, at least 4)
  };
  static constexpr unsigned kDottedBit = 63;
  // What a lookup among one node's children needs, taken once per object the walk enters
  // (and then kept in registers or the walk's frame instead of reached through the trie for
  // every key).
  struct Children {
    std::uint64_t length_mask;
    const Slot* table;
    std::uint32_t table_mask;
    std::uint32_t node;
  };

  PathTrie() : nodes_(1), child_counts_(1) {}
  // Returns the field id of the path, adding it if new.
  std::uint32_t add(std::string_view dotted_path);
  std::uint32_t field_count() const { return field_count_; }
  bool has_children(std::uint32_t node) const { return nodes_[node].length_mask != 0; }
  Children children(std::uint32_t node) const {
    const Node& n = nodes_[node];
    return {n.length_mask, slots_.data() + n.table_begin, n.table_mask, node};
  }
  // The slot of the child of `from` reached by an event key (which may itself contain dots);
  // null if no path continues that way. The eight bytes after the key must be readable.
  // Inlined into the walk (a call per key cost more than the lookup itself).
  [[gnu::always_inline]] const Slot* child(const Children& from, std::string_view key) const {
    // Most event keys have no dot: try the whole key first (trie names never contain one), and
    // look for dots only when that fails.
    const Slot* whole = named_child(from, key);
    if (whole || !(from.length_mask >> kDottedBit & 1)) [[likely]] {
      return whole;
    }
    if (!std::memchr(key.data(), '.', key.size())) return nullptr;
    return dotted_child(from.node, key);
  }

 private:
  static std::uint64_t length_bit(std::size_t n) { return 1ull << (n & 63); }
  // Multiplicative hash of the head word and the length; the product's high half is well mixed.
  static std::uint32_t slot_hash(std::uint64_t head, std::size_t n) {
    return static_cast<std::uint32_t>(((head ^ n) * 0x9E3779B97F4A7C15ull) >> 32);
  }
  // Whether the bytes of a name longer than eight past its first eight are those of `segment`
  // (of the same length): the last eight are in the slot, and longer names compare the words
  // between against names_ (overlapping loads, no call).
  bool tail_equal(const Slot& slot, const char* segment, std::size_t n) const {
    if (load_word(segment + n - 8) != slot.tail) return false;
    const char* name = names_.data() + slot.name_offset;
    for (std::size_t i = 8; i + 8 < n; i += 8) {
      if (load_word(segment + i) != load_word(name + i)) return false;
    }
    return true;
  }
  // The slot of the child of one node named exactly `segment` (no dot), or null. Inlined: it
  // runs for every key of every object the walk enters.
  [[gnu::always_inline]] const Slot* named_child(const Children& here,
                                                 std::string_view segment) const {
    const std::size_t n = segment.size();
    if (!(here.length_mask & length_bit(n))) return nullptr;
    const std::uint64_t head =
        load_word(segment.data()) & kHeadMasks.mask[std::min<std::size_t>(n, 8)];
    for (std::uint32_t i = slot_hash(head, n) & here.table_mask;; i = (i + 1) & here.table_mask) {
      const Slot& slot = here.table[i];
      if (slot.head == head && slot.length == n && (n <= 8 || tail_equal(slot, segment.data(), n)))
          [[likely]] {
        return &slot;
      }
      if (slot.length == kNone) return nullptr;
    }
  }
  const Slot* dotted_child(std::uint32_t from, std::string_view key) const;
  Slot* add_child(std::uint32_t parent, std::string_view segment);
  Slot* place(std::uint32_t table_begin, std::uint32_t table_mask, const Slot& slot);

  std::vector<Node> nodes_;
  std::vector<Slot, LineAligned<Slot>> slots_;
  std::vector<std::uint32_t> child_counts_;  // per node (for adding only)
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

  std::uint32_t first(std::uint32_t field) const { return head_[field]; }
  const Occurrence& occurrence(std::uint32_t index) const { return occurrences_[index]; }
  std::span<const Occurrence> occurrences() const {
    return {occurrences_.data(), occurrence_count_};
  }
  const ArrayStep* chain(const Occurrence& o) const { return chains_.data() + o.chain_begin; }
  bool has_arrays() const { return chain_size_ != 0; }

 private:
  // The visit functions take the position in the structural index of the value they visit and
  // return the position just past it, or kFailed after storing the error in error_. Positions
  // travel in registers (a position passed by reference lived in memory, reloaded and stored
  // again around every call), and since kFailed is past every valid position, the caller's one
  // bounds check (at >= count) also catches a failure.
  static constexpr std::uint32_t kFailed = kNone;
  std::uint32_t fail(simdjson::error_code error) {
    error_ = error;
    return kFailed;
  }
  char token(std::uint32_t at) const { return doc_.text[doc_.index[at]]; }
  std::uint32_t visit_object(const PathTrie& trie, std::uint32_t node, std::uint32_t at);
  std::uint32_t visit_array(const PathTrie& trie, const PathTrie::Slot& slot, std::uint32_t at);
  std::uint32_t visit(const PathTrie& trie, const PathTrie::Slot& slot, std::uint32_t at);
  std::uint32_t skip(std::uint32_t at);
  std::string_view string_between(std::uint32_t open, std::uint32_t next);
  std::string_view string_before_spaces(const char* begin, const char* end);
  std::string_view unescaped(std::string_view raw);
  void record(std::uint32_t field, Occurrence& o);
  void copy_chain(Occurrence& o);
  void grow_chains();
  void forget_heads();

  Structurals doc_;
  // Why the walk returned kFailed.
  simdjson::error_code error_ = simdjson::SUCCESS;
  const char* escapes_from_ = nullptr;  // the document's first backslash (or its end)
  std::vector<char> unescaped_;         // strings with escapes, unescaped (one event's)
  char* unescaped_end_ = nullptr;
  std::uint32_t depth_ = 0;              // of nested arrays
  std::vector<Occurrence> occurrences_;  // the first occurrence_count_ are this event's
  std::uint32_t occurrence_count_ = 0;
  // The chains of this event's values in arrays: the first chain_size_ steps of chains_, which
  // only grows (a step is written by index, not appended: vector::insert cost some seventy
  // instructions per value).
  std::vector<ArrayStep> chains_;
  std::uint32_t chain_size_ = 0;
  // The element of each enclosing array, outermost first: the first depth_ entries. Sized for
  // the depth limit once, so that entering an element is one store.
  std::vector<ArrayStep> current_chain_;
  // Per field, its last occurrence (the head of its list), kNone for none. build() resets only
  // the entries the previous event set, found through its occurrences: cheaper than a stamp
  // per entry, which record() and every first() had to load and compare.
  std::vector<std::uint32_t> head_;
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
