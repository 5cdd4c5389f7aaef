#include "flat_event.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "comparable_number.hpp"
#include "eventrouter/util/json_numbers.hpp"

namespace eventrouter::pattern::detail {

namespace {

// Nested arrays are the one thing the walk recurses into that the rules do not bound.
constexpr std::uint32_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;

}  // namespace

std::uint32_t PathTrie::add(std::string_view path) {
  std::uint32_t node = 0;
  Slot* slot = nullptr;
  while (true) {
    const std::size_t dot = path.find('.');
    const std::string_view segment = path.substr(0, dot);
    // named_child() reads eight bytes past the name it is given: look it up in a padded copy.
    std::string padded(segment);
    padded.append(8, '\0');
    slot = const_cast<Slot*>(
        named_child(children(node), std::string_view(padded.data(), segment.size())));
    if (!slot) slot = add_child(node, segment);
    if (dot != std::string_view::npos) nodes_[node].length_mask |= 1ull << kDottedBit;
    node = slot->child;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  // `slot` stays valid: nothing was added after it was found.
  if (slot->field == kNone) slot->field = field_count_++;
  return slot->field;
}

PathTrie::Slot* PathTrie::add_child(std::uint32_t parent, std::string_view segment) {
  Slot slot;
  std::memcpy(&slot.head, segment.data(), std::min<std::size_t>(segment.size(), 8));
  if (segment.size() > 8) std::memcpy(&slot.tail, segment.data() + segment.size() - 8, 8);
  slot.length = static_cast<std::uint32_t>(segment.size());
  slot.child = static_cast<std::uint32_t>(nodes_.size());
  slot.name_offset = static_cast<std::uint32_t>(names_.size());
  names_.append(segment);
  nodes_.emplace_back();
  child_counts_.push_back(0);

  Node& node = nodes_[parent];
  const std::size_t size = node.length_mask == 0 ? 0 : node.table_mask + 1;
  if (++child_counts_[parent] * 2 > size) {
    // Keep tables at most half full. The grown table goes at the end of slots_; the old one is
    // left unused (tables double, so that wastes less than the live ones take). Sizes are
    // powers of two from 4, so every table starts on a cache line or half of one.
    const std::size_t grown = std::max<std::size_t>(4, size * 2);
    const auto begin = static_cast<std::uint32_t>(slots_.size());
    slots_.resize(slots_.size() + grown);
    for (std::size_t i = 0; i < size; ++i) {
      const Slot old = slots_[node.table_begin + i];
      if (old.length != kNone) place(begin, static_cast<std::uint32_t>(grown - 1), old);
    }
    node.table_begin = begin;
    node.table_mask = static_cast<std::uint32_t>(grown - 1);
  }
  node.length_mask |= length_bit(segment.size());
  return place(node.table_begin, node.table_mask, slot);
}

PathTrie::Slot* PathTrie::place(std::uint32_t table_begin, std::uint32_t table_mask,
                                const Slot& slot) {
  std::uint32_t i = slot_hash(slot.head, slot.length) & table_mask;
  while (slots_[table_begin + i].length != kNone) i = (i + 1) & table_mask;
  slots_[table_begin + i] = slot;
  return &slots_[table_begin + i];
}

const PathTrie::Slot* PathTrie::dotted_child(std::uint32_t from, std::string_view key) const {
  std::uint32_t node = from;
  while (true) {
    const std::size_t dot = key.find('.');
    // The segment is followed by the rest of the key, so named_child()'s over-read stays
    // within what the caller guarantees readable.
    const Slot* next = named_child(children(node), key.substr(0, dot));
    if (!next || dot == std::string_view::npos) return next;
    node = next->child;
    key.remove_prefix(dot + 1);
  }
}

// Forgets the previous event's lists, resetting the heads its occurrences set (its fields may
// be of another trie: head_ only grows). Two at a time: the loop is short, and its own
// counting was a third of its instructions. It stops at the last occurrence (one pointer
// compare per pair; `end - o >= 2` took a subtraction and a shift as well).
void FlatEvent::forget_heads() {
  const Occurrence* o = occurrences_.data();
  const Occurrence* end = o + occurrence_count_;
  std::uint32_t* head = head_.data();
  if (occurrence_count_ >= 2) {
    for (const Occurrence* last = end - 1; o < last; o += 2) {
      head[o[0].field] = kNone;
      head[o[1].field] = kNone;
    }
  }
  if (o != end) head[o->field] = kNone;
  occurrence_count_ = 0;
}

simdjson::error_code FlatEvent::build(const PathTrie& trie, const Structurals& doc) {
  forget_heads();
  doc_ = doc;
  // Keys and strings are read in place when they lie before the document's first backslash
  // (most events have none at all); the others are unescaped by simdjson into `unescaped_`,
  // which is sized so that it never moves during the walk (views into it stay valid), and has
  // room for the trie's eight-byte reads past a key's end.
  const void* backslash = std::memchr(doc.text, '\\', doc.length);
  escapes_from_ = backslash ? static_cast<const char*>(backslash) : doc.text + doc.length;
  if (backslash && unescaped_.size() < doc.length + simdjson::SIMDJSON_PADDING) {
    unescaped_.resize(doc.length + simdjson::SIMDJSON_PADDING);
  }
  unescaped_end_ = unescaped_.data();
  // Every recorded value is a distinct scalar token, so the structural count bounds them:
  // sized once here, record() writes without a capacity check.
  if (occurrences_.size() < doc.count) occurrences_.resize(doc.count);
  chain_size_ = 0;
  if (current_chain_.size() < kMaxDepth) current_chain_.resize(kMaxDepth);
  next_array_ = 0;
  depth_ = 0;
  if (head_.size() < trie.field_count()) head_.resize(trie.field_count(), kNone);
  if (doc.count == 0 || token(0) != '{') return simdjson::INCORRECT_TYPE;
  // Positions must stay below kFailed (simdjson's documents are smaller anyway).
  if (doc.count >= kFailed - 2) return simdjson::CAPACITY;
  if (!trie.has_children(0)) return simdjson::SUCCESS;
  return visit_object(trie, 0, 0) == kFailed ? error_ : simdjson::SUCCESS;
}

// Gives `o` (a value depth_ arrays deep) a copy of the current chain at the end of chains_.
// Inlined into record(): as a call, its entry and exit cost as much as the copy.
[[gnu::always_inline]] inline void FlatEvent::copy_chain(Occurrence& o) {
  if (chains_.size() - chain_size_ < depth_) [[unlikely]] {
    grow_chains();
  }
  o.chain_begin = chain_size_;
  ArrayStep* to = chains_.data() + chain_size_;
  for (std::uint32_t i = 0; i < depth_; ++i) to[i] = current_chain_[i];
  chain_size_ += depth_;
}

// `o` is occurrences_[occurrence_count_] with its value set: links it into its field's list.
// Inlined into its one caller, visit() (called for every value recorded).
[[gnu::always_inline]] inline void FlatEvent::record(std::uint32_t field, Occurrence& o) {
  o.field = field;
  o.next = head_[field];
  head_[field] = occurrence_count_++;
  // Outside arrays (most values) there is no chain to copy: chain_begin is then never read.
  // Inside, the chain has one step per enclosing array, as many as depth_ counts.
  o.chain_begin = 0;
  o.chain_length = depth_;
  if (depth_ != 0) [[unlikely]] {
    copy_chain(o);
  }
}

// Room for at least one more chain of depth_ steps (out of line: once an event's arrays have
// been seen, the buffer is large enough for the next ones like it).
void FlatEvent::grow_chains() {
  chains_.resize(std::max<std::size_t>(chains_.size() * 2, chain_size_ + depth_ + 64));
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

inline bool is_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10;
}

// Powers of ten that a double holds exactly.
constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// Short plain decimals ("70", "-5.5", "0.25"), which are most numbers in events, without
// from_chars (over a hundred instructions each): at most 15 digits and no exponent. The
// digits as an integer and the power of ten that scales them are both exact in a double, so
// the division's one rounding gives the correctly rounded value, the same as from_chars.
// False (nothing written) for anything else, which from_chars then reads.
bool parse_short_decimal(const char* p, const char* end, double& out) {
  const bool negative = *p == '-';
  p += negative;
  // Fifteen digits and a point take at most sixteen characters: reading stops there (a longer
  // number is refused below without being read to its end).
  const char* limit = end - p > 16 ? p + 16 : end;
  const char* start = p;
  std::uint64_t digits = 0;
  for (; p < limit && is_digit(*p); ++p) {
    digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  const auto whole = p - start;
  if (whole == 0) return false;
  std::ptrdiff_t fraction = 0;
  if (p < limit && *p == '.') {
    const char* first = ++p;
    for (; p < limit && is_digit(*p); ++p) {
      digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
    }
    fraction = p - first;
    if (fraction == 0) return false;
  }
  // More digits than were read, an exponent, or anything else from_chars might read on.
  if (whole + fraction > 15) return false;
  if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E')) return false;
  const double value = static_cast<double>(digits) / kPowersOfTen[fraction];
  out = negative ? -value : value;
  return true;
}

// The most characters a number parse_short_decimal() accepts can have: a sign, fifteen digits
// and a point.
constexpr std::ptrdiff_t kShortDecimalChars = 17;

// The characters a JSON number is written with.
bool is_number_char(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// A JSON number's value into `out`: a number that compares numerically (most of them, and every
// short decimal) as kNumber, any other (too large or small for a double, or more precise than
// one) as kNumberText, its text as written (comparable_number.hpp). `next` is where the next
// structural character stands: a number that far away is longer than any short decimal (unless
// whitespace follows it), so it goes to the slow path without first being read digit by digit.
// Short decimals always compare numerically: fifteen significant digits read back from their
// double unchanged.
simdjson::error_code parse_json_number(const char* begin, const char* next, const char* end,
                                       Value& out) {
  if (next - begin <= kShortDecimalChars && parse_short_decimal(begin, end, out.num)) {
    out.kind = ValueKind::kNumber;
    return simdjson::SUCCESS;
  }
  const char* stop = begin;
  while (stop < end && is_number_char(*stop)) ++stop;
  const std::string_view text(begin, static_cast<std::size_t>(stop - begin));
  if (!util::is_json_number(text)) return simdjson::NUMBER_ERROR;
  if (auto value = comparable_number(text)) {
    out.kind = ValueKind::kNumber;
    out.num = *value;
  } else {
    out.kind = ValueKind::kNumberText;
    out.str = text;
  }
  return simdjson::SUCCESS;
}

}  // namespace

// The text of the string token whose opening quote is at text offset `open`, where `next` is
// the offset of the next structural character: the string ends at the last quote before it.
// Inlined (it runs for every key); a text past the document's first backslash goes to
// unescaped(). Returned by value, with a null data() for a damaged token: a string_view passed
// out by reference would make the compiler keep it in memory, and reloading it there stalled
// the walk on every key.
[[gnu::always_inline]] inline std::string_view FlatEvent::string_between(std::uint32_t open,
                                                                         std::uint32_t next) {
  const char* begin = doc_.text + open + 1;
  const char* end = doc_.text + next - 1;
  // Nearly always the closing quote is just before the next structural (no whitespace): one
  // byte test, and the backward scan over whitespace only otherwise.
  if (*end != '"' || end < begin) [[unlikely]] {
    return string_before_spaces(begin, end);
  }
  const std::string_view raw(begin, static_cast<std::size_t>(end - begin));
  if (end <= escapes_from_) [[likely]] {
    return raw;
  }
  return unescaped(raw);
}

// string_between() when whitespace may separate the closing quote from the next structural.
std::string_view FlatEvent::string_before_spaces(const char* begin, const char* end) {
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

// The position past the value at `at` (< count), counting brackets over the structural
// characters (nothing in a skipped value is read).
[[gnu::always_inline]] inline std::uint32_t FlatEvent::skip(std::uint32_t at) {
  const char first = token(at);
  if (first != '{' && first != '[') return at + 1;
  // Branch-free over the brackets' unpredictable order: one table load per character.
  std::int32_t depth = 0;
  for (std::uint32_t i = at; i < doc_.count; ++i) {
    depth += kBracketDepth.delta[static_cast<unsigned char>(token(i))];
    if (depth == 0) return i + 1;
  }
  return fail(simdjson::TAPE_ERROR);
}

// Visits the value at `at` (< count) for the trie child of `slot`. Scalars are handled inline
// (most values the walk reads are), containers out of line. A recorded value is written
// straight into its occurrence (no Value on the stack to copy).
[[gnu::always_inline]] inline std::uint32_t FlatEvent::visit(const PathTrie& trie,
                                                             const PathTrie::Slot& slot,
                                                             std::uint32_t at) {
  const char c = token(at);
  if (c == '{') {
    return trie.has_children(slot.child) ? visit_object(trie, slot.child, at) : skip(at);
  }
  if (c == '[') return visit_array(trie, slot, at);
  const std::uint32_t field = slot.field;
  if (field == kNone) return at + 1;
  // Every field of the value is written once (as a default-constructed Value would have it
  // apart from what the token sets).
  Occurrence& o = occurrences_[occurrence_count_];
  if (c == '"') [[likely]] {
    if (at + 1 >= doc_.count) return fail(simdjson::STRING_ERROR);
    const std::string_view str = string_between(doc_.index[at], doc_.index[at + 1]);
    if (!str.data()) return fail(simdjson::STRING_ERROR);
    o.value.kind = ValueKind::kString;
    o.value.str = str;
    o.value.num = 0;
  } else {
    o.value.str = {};
    o.value.num = 0;
    switch (c) {
      case 't':
        o.value.kind = ValueKind::kTrue;
        break;
      case 'f':
        o.value.kind = ValueKind::kFalse;
        break;
      case 'n':
        o.value.kind = ValueKind::kNull;
        break;
      default:  // a number
        if (c != '-' && (c < '0' || c > '9')) return fail(simdjson::TAPE_ERROR);
        const char* next = doc_.text + (at + 1 < doc_.count ? doc_.index[at + 1] : doc_.length);
        if (auto error = parse_json_number(doc_.text + doc_.index[at], next,
                                           doc_.text + doc_.length, o.value)) {
          return fail(error);
        }
        break;
    }
  }
  record(field, o);
  return at + 1;
}

// `at` is an object's '{' (of a node with children).
std::uint32_t FlatEvent::visit_object(const PathTrie& trie, std::uint32_t node, std::uint32_t at) {
  const std::uint32_t count = doc_.count;
  const PathTrie::Children children = trie.children(node);
  ++at;
  if (at < count && token(at) == '}') return at + 1;
  while (true) {
    // A key, a ':', a value, then ',' or '}'.
    if (at + 2 >= count) return fail(simdjson::TAPE_ERROR);
    const std::uint32_t open = doc_.index[at];
    const std::uint32_t colon = doc_.index[at + 1];
    if (doc_.text[open] != '"' || doc_.text[colon] != ':') return fail(simdjson::TAPE_ERROR);
    const std::string_view key = string_between(open, colon);
    if (!key.data()) return fail(simdjson::STRING_ERROR);
    const PathTrie::Slot* child = trie.child(children, key);
    at = child ? visit(trie, *child, at + 2) : skip(at + 2);
    if (at >= count) return at == kFailed ? kFailed : fail(simdjson::TAPE_ERROR);
    const char next = token(at++);
    if (next == '}') return at;
    if (next != ',') return fail(simdjson::TAPE_ERROR);
  }
}

// `at` is an array's '[' at the trie child of `slot`.
std::uint32_t FlatEvent::visit_array(const PathTrie& trie, const PathTrie::Slot& slot,
                                     std::uint32_t at) {
  if (++depth_ > kMaxDepth) return fail(simdjson::DEPTH_ERROR);
  const std::uint32_t id = next_array_++;
  std::uint32_t index = 0;
  ++at;
  if (at < doc_.count && token(at) == ']') {
    --depth_;
    return at + 1;
  }
  while (true) {
    if (at >= doc_.count) return fail(simdjson::TAPE_ERROR);
    current_chain_[depth_ - 1] = {id, index++};
    at = visit(trie, slot, at);
    if (at >= doc_.count) return at == kFailed ? kFailed : fail(simdjson::TAPE_ERROR);
    const char next = token(at++);
    if (next == ']') break;
    if (next != ',') return fail(simdjson::TAPE_ERROR);
  }
  --depth_;
  return at;
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
