#include "flat_event.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

namespace eventrouter::pattern::detail {

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
    if (dot != std::string_view::npos) nodes_[node].has_grandchildren = true;
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

simdjson::error_code FlatEvent::build(const PathTrie& trie, const Structurals& doc) {
  doc_ = doc;
  // Keys and strings are read in place when they lie before the document's first backslash
  // (most events have none at all); the others are unescaped by simdjson into `unescaped_`,
  // which is sized so that it never moves during the walk (views into it stay valid).
  const void* backslash = std::memchr(doc.text, '\\', doc.length);
  escapes_from_ = backslash ? static_cast<const char*>(backslash) : doc.text + doc.length;
  if (backslash && unescaped_.size() < doc.length + simdjson::SIMDJSON_PADDING) {
    unescaped_.resize(doc.length + simdjson::SIMDJSON_PADDING);
  }
  unescaped_end_ = unescaped_.data();
  // Every recorded value is a distinct scalar token, so the structural count bounds them:
  // sized once here, record() writes without a capacity check.
  if (occurrences_.size() < doc.count) occurrences_.resize(doc.count);
  occurrence_count_ = 0;
  chains_.clear();
  current_chain_.clear();
  next_array_ = 0;
  depth_ = 0;
  if (head_.size() < trie.field_count()) {
    head_.resize(trie.field_count(), kNone);
    head_stamp_.resize(trie.field_count(), 0);
  }
  if (++stamp_ == 0) {  // wrapped: forget every stamp
    std::fill(head_stamp_.begin(), head_stamp_.end(), 0);
    stamp_ = 1;
  }
  if (doc.count == 0 || token(0) != '{') return simdjson::INCORRECT_TYPE;
  std::uint32_t at = 0;
  if (!trie.has_children(0)) return simdjson::SUCCESS;
  return visit_object(trie, 0, at);
}

// Inlined into its one caller, visit() (called for every value recorded).
[[gnu::always_inline]] inline void FlatEvent::record(std::uint32_t field, const Value& value) {
  const auto chain_length = static_cast<std::uint32_t>(current_chain_.size());
  const auto chain_begin = static_cast<std::uint32_t>(chains_.size());
  if (chain_length != 0) {
    chains_.insert(chains_.end(), current_chain_.begin(), current_chain_.end());
  }
  occurrences_[occurrence_count_] = {value, field, chain_begin, chain_length, first(field)};
  head_[field] = occurrence_count_++;
  head_stamp_[field] = stamp_;
}

namespace {

// Whether any of the n bytes at p is a backslash, eight at a time (for a text past the
// document's first backslash). It may read up to seven bytes past the end, which simdjson's
// padding (after the document) makes safe. The zero-byte test has false positives only above
// a true hit, so masking off the bytes past the end keeps the answer exact.
[[gnu::always_inline]] inline bool has_backslash(const char* p, std::size_t n) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    const std::uint64_t x = word ^ (kOnes * static_cast<unsigned char>('\\'));
    std::uint64_t found = (x - kOnes) & ~x & (kOnes * 0x80);
    if (n - i < 8) found &= (1ull << (8 * (n - i))) - 1;
    if (found) return true;
  }
  return false;
}

inline bool is_json_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// How each character moves the bracket depth: +1 for '{' and '[', -1 for '}' and ']'.
constexpr struct BracketDepth {
  std::int8_t delta[256] = {};
  constexpr BracketDepth() {
    delta[static_cast<unsigned char>('{')] = delta[static_cast<unsigned char>('[')] = 1;
    delta[static_cast<unsigned char>('}')] = delta[static_cast<unsigned char>(']')] = -1;
  }
} kBracketDepth;

// A JSON number as a double, as simdjson reads it: out of range upwards is an error, a value
// too small for a double is zero.
simdjson::error_code parse_json_number(const char* begin, const char* end, double& out) {
  const auto [stop, error] = std::from_chars(begin, end, out);
  if (error == std::errc()) return simdjson::SUCCESS;
  if (error != std::errc::result_out_of_range) return simdjson::NUMBER_ERROR;
  const char* exponent = begin;
  while (exponent != stop && *exponent != 'e' && *exponent != 'E') ++exponent;
  if (exponent + 1 < stop && exponent[1] == '-') {
    out = *begin == '-' ? -0.0 : 0.0;
    return simdjson::SUCCESS;
  }
  return simdjson::NUMBER_ERROR;
}

// Nested arrays are the one thing the walk recurses into that the rules do not bound.
constexpr std::uint32_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;

}  // namespace

// The text of the string token at structural `at` (its opening quote): it ends at the last
// quote before the next structural character. Inlined (it runs for every key); a text past
// the document's first backslash goes to unescaped(). Returned by value, with a null data()
// for a damaged token: a string_view passed out by reference would make the compiler keep it
// in memory, and reloading it there stalled the walk on every key.
[[gnu::always_inline]] inline std::string_view FlatEvent::string_at(std::uint32_t at) {
  if (at + 1 >= doc_.count) return {};
  const char* begin = doc_.text + doc_.index[at] + 1;
  const char* end = doc_.text + doc_.index[at + 1] - 1;
  while (end >= begin && is_json_space(*end)) --end;
  if (end < begin || *end != '"') return {};
  const std::string_view raw(begin, static_cast<std::size_t>(end - begin));
  if (end <= escapes_from_) return raw;
  return unescaped(raw);
}

// `raw` is a string's text as it stands in the document; if it holds an escape, its unescaped
// form (written by simdjson after the previous ones) is returned instead, or a null view for
// an invalid escape.
std::string_view FlatEvent::unescaped(std::string_view raw) {
  if (!has_backslash(raw.data(), raw.size())) return raw;
  auto* dst = reinterpret_cast<std::uint8_t*>(unescaped_end_);
  std::uint8_t* written =
      doc_.unescaper->parse_string(reinterpret_cast<const std::uint8_t*>(raw.data()), dst);
  if (!written) return {};
  const std::string_view text(unescaped_end_, static_cast<std::size_t>(written - dst));
  unescaped_end_ = reinterpret_cast<char*>(written);
  return text;
}

// Moves `at` past the value that starts there, counting brackets over the structural
// characters (nothing in a skipped value is read).
[[gnu::always_inline]] inline simdjson::error_code FlatEvent::skip(std::uint32_t& at) const {
  const char first = token(at);
  if (first != '{' && first != '[') {
    ++at;
    return simdjson::SUCCESS;
  }
  // Branch-free over the brackets' unpredictable order: one table load per character.
  std::int32_t depth = 0;
  for (std::uint32_t i = at; i < doc_.count; ++i) {
    depth += kBracketDepth.delta[static_cast<unsigned char>(token(i))];
    if (depth == 0) {
      at = i + 1;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::TAPE_ERROR;
}

// Visits the value at `at` for trie node `node`; on return `at` is just past it. Scalars are
// handled inline (most values the walk reads are), containers out of line.
[[gnu::always_inline]] inline simdjson::error_code FlatEvent::visit(const PathTrie& trie,
                                                                    std::uint32_t node,
                                                                    std::uint32_t& at) {
  const char c = token(at);
  if (c == '{') {
    if (!trie.has_children(node)) return skip(at);
    return visit_object(trie, node, at);
  }
  if (c == '[') return visit_array(trie, node, at);
  const std::uint32_t field = trie.node(node).field;
  if (field == kNone) {
    ++at;
    return simdjson::SUCCESS;
  }
  Value v;
  switch (c) {
    case '"':
      v.kind = ValueKind::kString;
      v.str = string_at(at);
      if (!v.str.data()) return simdjson::STRING_ERROR;
      break;
    case 't':
      v.kind = ValueKind::kTrue;
      break;
    case 'f':
      v.kind = ValueKind::kFalse;
      break;
    case 'n':
      v.kind = ValueKind::kNull;
      break;
    default:  // a number
      if (c != '-' && (c < '0' || c > '9')) return simdjson::TAPE_ERROR;
      v.kind = ValueKind::kNumber;
      if (auto error =
              parse_json_number(doc_.text + doc_.index[at], doc_.text + doc_.length, v.num)) {
        return error;
      }
      break;
  }
  ++at;
  record(field, v);
  return simdjson::SUCCESS;
}

// `at` is an object's '{' (of a node with children); on return it is just past the '}'.
simdjson::error_code FlatEvent::visit_object(const PathTrie& trie, std::uint32_t node,
                                             std::uint32_t& at) {
  ++at;
  if (at < doc_.count && token(at) == '}') {
    ++at;
    return simdjson::SUCCESS;
  }
  while (true) {
    // A key, a ':', a value, then ',' or '}'.
    if (at + 2 >= doc_.count || token(at) != '"' || token(at + 1) != ':') {
      return simdjson::TAPE_ERROR;
    }
    const std::string_view key = string_at(at);
    if (!key.data()) return simdjson::STRING_ERROR;
    at += 2;
    const std::uint32_t child = trie.child(node, key);
    if (auto error = child == kNone ? skip(at) : visit(trie, child, at)) return error;
    if (at >= doc_.count) return simdjson::TAPE_ERROR;
    const char next = token(at++);
    if (next == '}') return simdjson::SUCCESS;
    if (next != ',') return simdjson::TAPE_ERROR;
  }
}

// `at` is an array's '[' at a field's node; on return it is just past the ']'.
simdjson::error_code FlatEvent::visit_array(const PathTrie& trie, std::uint32_t node,
                                            std::uint32_t& at) {
  if (++depth_ > kMaxDepth) return simdjson::DEPTH_ERROR;
  const std::uint32_t id = next_array_++;
  std::uint32_t index = 0;
  ++at;
  if (at < doc_.count && token(at) == ']') {
    ++at;
    --depth_;
    return simdjson::SUCCESS;
  }
  while (true) {
    if (at >= doc_.count) return simdjson::TAPE_ERROR;
    current_chain_.push_back({id, index++});
    auto error = visit(trie, node, at);
    current_chain_.pop_back();
    if (error) return error;
    if (at >= doc_.count) return simdjson::TAPE_ERROR;
    const char next = token(at++);
    if (next == ']') break;
    if (next != ',') return simdjson::TAPE_ERROR;
  }
  --depth_;
  return simdjson::SUCCESS;
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
