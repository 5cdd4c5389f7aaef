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
    const std::uint32_t* found = nodes_[node].children.find(segment);
    std::uint32_t next;
    if (!found) {
      next = static_cast<std::uint32_t>(nodes_.size());
      nodes_[node].children.insert(segment) = next;
      nodes_[node].list.emplace_back(std::string(segment), next);
      nodes_[node].length_mask |= 1ull << std::min<std::size_t>(segment.size(), 63);
      nodes_.emplace_back();
    } else {
      next = *found;
    }
    node = next;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  if (nodes_[node].field == kNone) nodes_[node].field = field_count_++;
  return nodes_[node].field;
}

// The child of one node named exactly `segment` (no dot), or kNone.
static std::uint32_t named_child(const PathTrie::Node& here, std::string_view segment) {
  if (!(here.length_mask >> std::min<std::size_t>(segment.size(), 63) & 1)) return kNone;
  if (here.list.size() > PathTrie::kScanLimit) {
    const std::uint32_t* found = here.children.find(segment);
    return found ? *found : kNone;
  }
  for (const auto& [name, index] : here.list) {
    // Length, then first and last byte, before a full comparison: names of one node rarely
    // share all three.
    if (name.size() == segment.size() &&
        (segment.empty() || (name.front() == segment.front() && name.back() == segment.back() &&
                             std::memcmp(name.data(), segment.data(), segment.size()) == 0))) {
      return index;
    }
  }
  return kNone;
}

std::uint32_t PathTrie::child(std::uint32_t from, std::string_view key) const {
  // Most event keys have no dot: try the whole key first (trie names never contain one), and
  // look for dots only when that fails.
  if (std::uint32_t whole = named_child(nodes_[from], key); whole != kNone) return whole;
  if (!std::memchr(key.data(), '.', key.size())) return kNone;
  std::uint32_t node = from;
  while (true) {
    std::size_t dot = key.find('.');
    std::uint32_t next = named_child(nodes_[node], key.substr(0, dot));
    if (next == kNone) return kNone;
    node = next;
    if (dot == std::string_view::npos) return node;
    key.remove_prefix(dot + 1);
  }
}

void FlatEvent::build(const PathTrie& trie, dom::element root) {
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
  visit(trie, 0, root);
}

void FlatEvent::record(std::uint32_t field, const Value& value) {
  Occurrence o;
  o.value = value;
  o.field = field;
  o.chain_begin = static_cast<std::uint32_t>(chains_.size());
  o.chain_length = static_cast<std::uint32_t>(current_chain_.size());
  if (!current_chain_.empty()) {
    chains_.insert(chains_.end(), current_chain_.begin(), current_chain_.end());
  }
  o.next = first(field);
  head_[field] = static_cast<std::uint32_t>(occurrences_.size());
  head_stamp_[field] = stamp_;
  occurrences_.push_back(o);
}

void FlatEvent::visit(const PathTrie& trie, std::uint32_t node, dom::element value) {
  const PathTrie::Node& here = trie.node(node);
  switch (value.type()) {
    case dom::element_type::OBJECT: {
      if (here.children.empty()) return;
      for (auto [key, child_value] : dom::object(value)) {
        std::uint32_t child = trie.child(node, key);
        if (child != kNone) visit(trie, child, child_value);
      }
      return;
    }
    case dom::element_type::ARRAY: {
      std::uint32_t array = next_array_++;
      std::uint32_t index = 0;
      for (dom::element item : dom::array(value)) {
        current_chain_.push_back({array, index++});
        visit(trie, node, item);
        current_chain_.pop_back();
      }
      return;
    }
    default:
      break;
  }
  if (here.field == kNone) return;
  Value v;
  switch (value.type()) {
    case dom::element_type::STRING:
      v.kind = ValueKind::kString;
      v.str = std::string_view(value);
      break;
    case dom::element_type::INT64:
      v.kind = ValueKind::kNumber;
      v.num = static_cast<double>(int64_t(value));
      break;
    case dom::element_type::UINT64:
      v.kind = ValueKind::kNumber;
      v.num = static_cast<double>(uint64_t(value));
      break;
    case dom::element_type::DOUBLE:
      v.kind = ValueKind::kNumber;
      v.num = double(value);
      break;
    case dom::element_type::BOOL:
      v.kind = bool(value) ? ValueKind::kTrue : ValueKind::kFalse;
      break;
    default:
      v.kind = ValueKind::kNull;
      break;
  }
  record(here.field, v);
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
