#include "flat_event.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace eventrouter::pattern::detail {

namespace dom = simdjson::dom;

std::uint32_t PathTrie::add(std::string_view path) {
  std::uint32_t node = 0;
  while (true) {
    std::size_t dot = path.find('.');
    std::string_view segment = path.substr(0, dot);
    std::uint32_t next = nodes_[node].child_count == 0 ? kNone : named_child(nodes_[node], segment);
    if (next == kNone) {
      next = static_cast<std::uint32_t>(nodes_.size());
      Slot slot{static_cast<std::uint32_t>(names_.size()),
                static_cast<std::uint32_t>(segment.size()), next};
      names_.append(segment);
      nodes_.emplace_back();
      insert_slot(nodes_[node], slot);
      nodes_[node].length_mask |= 1ull << std::min<std::size_t>(segment.size(), 63);
    }
    node = next;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  if (nodes_[node].field == kNone) nodes_[node].field = field_count_++;
  return nodes_[node].field;
}

void PathTrie::insert_slot(Node& node, const Slot& slot) {
  auto place = [&](std::vector<Slot>& table, const Slot& s) {
    const std::size_t mask = table.size() - 1;
    std::size_t i = slot_hash(names_.data() + s.name_offset, s.name_length) & mask;
    while (table[i].child != kNone) i = (i + 1) & mask;
    table[i] = s;
  };
  ++node.child_count;
  if (node.child_count * 2 > node.table.size()) {  // keep it at most half full
    std::vector<Slot> grown(std::max<std::size_t>(4, node.table.size() * 2), Slot{0, 0, kNone});
    for (const Slot& s : node.table) {
      if (s.child != kNone) place(grown, s);
    }
    node.table = std::move(grown);
  }
  place(node.table, slot);
}

std::uint32_t PathTrie::dotted_child(std::uint32_t from, std::string_view key) const {
  std::uint32_t node = from;
  while (true) {
    std::size_t dot = key.find('.');
    if (nodes_[node].child_count == 0) return kNone;
    std::uint32_t next = named_child(nodes_[node], key.substr(0, dot));
    if (next == kNone) return kNone;
    node = next;
    if (dot == std::string_view::npos) return node;
    key.remove_prefix(dot + 1);
  }
}

void FlatEvent::build(const PathTrie& trie, const dom::document& doc) {
  occurrences_.clear();
  chains_.clear();
  current_chain_.clear();
  next_array_ = 0;
  if (head_.size() < trie.field_count()) {
    head_.resize(trie.field_count(), kNone);
    head_stamp_.resize(trie.field_count(), 0);
  }
  if (++stamp_ == 0) {  // wrapped: forget every stamp
    std::fill(head_stamp_.begin(), head_stamp_.end(), 0);
    stamp_ = 1;
  }
  tape_ = doc.tape.get();
  strings_ = doc.string_buf.get();
  // tape[0] is the root marker, tape[1] the root value (an object).
  if (trie.has_children(0)) visit_object(trie, 0, 1);
}

// Inlined into its one caller, visit() (called for every value recorded).
[[gnu::always_inline]] inline void FlatEvent::record(std::uint32_t field, const Value& value) {
  const auto chain_length = static_cast<std::uint32_t>(current_chain_.size());
  const auto chain_begin = static_cast<std::uint32_t>(chains_.size());
  if (chain_length != 0) {
    chains_.insert(chains_.end(), current_chain_.begin(), current_chain_.end());
  }
  occurrences_.push_back({value, field, chain_begin, chain_length, first(field)});
  head_[field] = static_cast<std::uint32_t>(occurrences_.size() - 1);
  head_stamp_[field] = stamp_;
}

namespace {

inline std::uint8_t tape_type(std::uint64_t word) {
  return static_cast<std::uint8_t>(word >> 56);
}
// For '{' and '[': the index just after the matching '}' or ']'.
inline std::size_t tape_after(std::uint64_t word) {
  return static_cast<std::uint32_t>(word);
}
inline std::uint64_t tape_payload(std::uint64_t word) {
  return word & simdjson::internal::JSON_VALUE_MASK;
}

}  // namespace

// `at` is the index of an object's '{' whose node has children; returns the index after it.
std::size_t FlatEvent::visit_object(const PathTrie& trie, std::uint32_t node, std::size_t at) {
  const std::size_t end = tape_after(tape_[at]) - 1;  // the '}'
  std::size_t i = at + 1;
  while (i < end) {
    // A key (a string on the tape: a 32-bit length, then the bytes), then its value.
    const std::uint8_t* text = strings_ + tape_payload(tape_[i]);
    std::uint32_t length;
    std::memcpy(&length, text, sizeof(length));
    ++i;
    std::uint32_t child =
        trie.child(node, std::string_view(reinterpret_cast<const char*>(text + 4), length));
    if (child != kNone) {
      i = visit(trie, child, i);
      continue;
    }
    // Skip the value.
    switch (tape_type(tape_[i])) {
      case '{':
      case '[':
        i = tape_after(tape_[i]);
        break;
      case 'l':
      case 'u':
      case 'd':
        i += 2;
        break;
      default:
        i += 1;
        break;
    }
  }
  return end + 1;
}

// Visits the value at `at` for trie node `node`; returns the index after it.
std::size_t FlatEvent::visit(const PathTrie& trie, std::uint32_t node, std::size_t at) {
  const std::uint64_t word = tape_[at];
  const std::uint32_t field = trie.node(node).field;
  Value v;
  std::size_t next = at + 1;  // the tape index after this value
  switch (tape_type(word)) {
    case '{':
      if (trie.has_children(node)) return visit_object(trie, node, at);
      return tape_after(word);
    case '[': {
      const std::size_t end = tape_after(word) - 1;  // the ']'
      std::uint32_t array = next_array_++;
      std::uint32_t index = 0;
      for (std::size_t i = at + 1; i < end;) {
        current_chain_.push_back({array, index++});
        i = visit(trie, node, i);
        current_chain_.pop_back();
      }
      return end + 1;
    }
    case '"': {
      if (field == kNone) return at + 1;
      const std::uint8_t* text = strings_ + tape_payload(word);
      std::uint32_t length;
      std::memcpy(&length, text, sizeof(length));
      v.kind = ValueKind::kString;
      v.str = std::string_view(reinterpret_cast<const char*>(text + 4), length);
      next = at + 1;
      break;
    }
    case 'l':
      if (field == kNone) return at + 2;
      v.kind = ValueKind::kNumber;
      v.num = static_cast<double>(static_cast<std::int64_t>(tape_[at + 1]));
      next = at + 2;
      break;
    case 'u':
      if (field == kNone) return at + 2;
      v.kind = ValueKind::kNumber;
      v.num = static_cast<double>(tape_[at + 1]);
      next = at + 2;
      break;
    case 'd':
      if (field == kNone) return at + 2;
      v.kind = ValueKind::kNumber;
      std::memcpy(&v.num, &tape_[at + 1], sizeof(v.num));
      next = at + 2;
      break;
    case 't':
      v.kind = ValueKind::kTrue;
      break;
    case 'f':
      v.kind = ValueKind::kFalse;
      break;
    default:  // 'n'
      v.kind = ValueKind::kNull;
      break;
  }
  if (field != kNone) record(field, v);
  return next;
}

namespace {

class AlternativeSearch {
 public:
  AlternativeSearch(const BoundCondition* conditions, std::size_t count, const FlatEvent& event,
                    std::vector<ArrayStep>& membership)
      : conditions_(conditions), count_(count), event_(event), membership_(membership) {
    membership_.clear();
  }

  bool run() { return step(0); }

 private:
  bool consistent(const Occurrence& o) const {
    const ArrayStep* chain = event_.chain(o);
    for (std::uint32_t i = 0; i < o.chain_length; ++i) {
      for (const ArrayStep& m : membership_) {
        if (m.array == chain[i].array && m.index != chain[i].index) return false;
      }
    }
    return true;
  }

  static bool value_matches(const Condition& condition, const Value& value) {
    for (const Predicate& p : condition.predicates) {
      if (p.kind != PredKind::kAbsent && predicate_matches(p, value)) return true;
    }
    return false;
  }

  // Memoised on (condition index, membership) once a search grows past a few steps: the outcome
  // of the rest of the search depends on nothing else, and events with large arrays would
  // otherwise explore every combination. Small searches skip the bookkeeping.
  bool step(std::size_t i) {
    if (i == count_) return true;
    if (++steps_ <= kStepsBeforeMemo || !event_.has_arrays()) return search(i);
    std::string key(reinterpret_cast<const char*>(&i), sizeof(i));
    std::vector<ArrayStep> sorted = membership_;
    std::sort(sorted.begin(), sorted.end(),
              [](const ArrayStep& a, const ArrayStep& b) { return a.array < b.array; });
    key.append(reinterpret_cast<const char*>(sorted.data()), sorted.size() * sizeof(ArrayStep));
    if (failed_.count(key)) return false;
    bool ok = search(i);
    if (!ok) failed_.insert(std::move(key));
    return ok;
  }

  bool search(std::size_t i) {
    const BoundCondition& bound = conditions_[i];
    bool present = false;
    for (std::uint32_t index = event_.first(bound.field); index != kNone;
         index = event_.occurrence(index).next) {
      const Occurrence& o = event_.occurrence(index);
      if (!consistent(o)) continue;
      present = true;
      if (!value_matches(*bound.condition, o.value)) continue;
      std::size_t mark = membership_.size();
      const ArrayStep* chain = event_.chain(o);
      for (std::uint32_t k = 0; k < o.chain_length; ++k) {
        bool known = std::any_of(membership_.begin(), membership_.begin() + mark,
                                 [&](const ArrayStep& m) { return m.array == chain[k].array; });
        if (!known) membership_.push_back(chain[k]);
      }
      bool ok = step(i + 1);
      membership_.resize(mark);
      if (ok) return true;
    }
    if (bound.condition->has_absent && !present) return step(i + 1);
    return false;
  }

  const BoundCondition* conditions_;
  std::size_t count_;
  const FlatEvent& event_;
  static constexpr std::size_t kStepsBeforeMemo = 64;
  std::size_t steps_ = 0;
  std::vector<ArrayStep>& membership_;  // the thread's buffer, reused across calls
  std::unordered_set<std::string> failed_;
};

}  // namespace

namespace {

// The common case, decided without the search: a value outside every array imposes no element
// on the other conditions, so a condition met by such a value is met whatever else is chosen,
// and a condition whose values all lie outside arrays and fail it fails the alternative.
// Returns 1 (match), 0 (no match) or -1 (a value in an array was reached first: search).
int evaluate_flat(const BoundCondition* conditions, std::size_t count, const FlatEvent& event) {
  int result = 1;
  for (std::size_t i = 0; i < count; ++i) {
    const Condition& condition = *conditions[i].condition;
    bool met = false, present = false, in_array = false;
    for (std::uint32_t index = event.first(conditions[i].field); index != kNone && !met;
         index = event.occurrence(index).next) {
      const Occurrence& o = event.occurrence(index);
      if (o.chain_length != 0) {
        in_array = true;
        break;
      }
      present = true;
      for (const Predicate& p : condition.predicates) {
        if (p.kind != PredKind::kAbsent && predicate_matches(p, o.value)) {
          met = true;
          break;
        }
      }
    }
    if (in_array) {
      result = -1;  // keep looking for a condition that fails outright
    } else if (!met && !(condition.has_absent && !present)) {
      return 0;
    }
  }
  return result;
}

}  // namespace

bool evaluate_alternative(const BoundCondition* conditions, std::size_t count,
                          const FlatEvent& event) {
  int flat = evaluate_flat(conditions, count, event);
  if (flat >= 0) return flat == 1;
  thread_local std::vector<ArrayStep> membership;
  AlternativeSearch search(conditions, count, event, membership);
  return search.run();
}

}  // namespace eventrouter::pattern::detail
