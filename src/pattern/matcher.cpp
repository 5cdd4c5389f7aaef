// The bus matcher. Every alternative of every pattern is indexed under one "anchor" condition,
// the one expected to be met least often; an event's values are looked up in the anchors'
// value indexes (hash maps for exact values, sorted key arrays for prefixes and suffixes,
// per-prefix-length hash maps for cidr ranges and IP literals, sorted bounds for numeric
// ranges), and only the alternatives whose anchor is met are then evaluated in full, on a
// compact copy of their conditions. The cost per event therefore follows the event's fields that
// rules name and the rules that come close to matching, not the number of rules.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "compiled.hpp"
#include "eventrouter/pattern/pattern.hpp"

namespace eventrouter::pattern {
namespace detail {
namespace {

using AltList = std::vector<std::uint32_t>;

// Prefixes (suffixes are stored and looked up reversed) in a sorted array. The keys that are
// prefixes of a value v all lie on the chain of prefixes of the last key <= v (any key between
// a prefix of v and v starts with that prefix), so one binary search and a walk up that chain
// find them all, whatever the number of keys.
struct AffixIndex {
  // The sorted, unique keys, packed in one buffer so that a binary search stays in cache.
  std::string bytes;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;  // offset, length per key
  std::vector<AltList> alts;                                   // per key
  std::vector<std::int32_t> parent;  // longest other key that is a prefix of this one, or -1
  std::vector<std::pair<std::string, std::uint32_t>> pending;  // filled by add(), sorted by seal()

  void add(std::string_view key, bool suffix, std::uint32_t alt) {
    std::string k(key);
    if (suffix) std::reverse(k.begin(), k.end());
    pending.emplace_back(std::move(k), alt);
  }
  std::string_view key(std::size_t i) const {
    return std::string_view(bytes).substr(spans[i].first, spans[i].second);
  }
  void seal() {
    std::sort(pending.begin(), pending.end());
    std::vector<std::string> keys;
    std::vector<std::int32_t> chain;
    for (auto& [key, alt] : pending) {
      if (!keys.empty() && keys.back() == key) {
        alts.back().push_back(alt);
        continue;
      }
      while (!chain.empty() && key.compare(0, keys[chain.back()].size(), keys[chain.back()]) != 0) {
        chain.pop_back();
      }
      parent.push_back(chain.empty() ? -1 : chain.back());
      chain.push_back(static_cast<std::int32_t>(keys.size()));
      keys.push_back(std::move(key));
      alts.push_back({alt});
    }
    pending.clear();
    pending.shrink_to_fit();
    for (const std::string& k : keys) {
      spans.emplace_back(static_cast<std::uint32_t>(bytes.size()),
                         static_cast<std::uint32_t>(k.size()));
      bytes += k;
    }
  }
  // Looks the value up as seen reversed (suffix keys) and/or ASCII lower-cased (ignore-case
  // keys), without copying it.
  template <bool kReverse, bool kLower, class Emit>
  void lookup(std::string_view value, Emit&& emit) const {
    if (spans.empty()) return;
    auto at = [&](std::size_t i) {
      auto c = static_cast<unsigned char>(kReverse ? value[value.size() - 1 - i] : value[i]);
      if (kLower && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
      return c;
    };
    // Compares from `from` on (the first `from` bytes are known equal); sets `common` to the
    // length of the common prefix of the value and the key.
    auto value_less_than = [&](std::string_view key, std::size_t from, std::size_t& common) {
      std::size_t n = std::min(key.size(), value.size());
      for (std::size_t i = from; i < n; ++i) {
        auto a = at(i);
        auto b = static_cast<unsigned char>(key[i]);
        if (a != b) {
          common = i;
          return a < b;
        }
      }
      common = n;
      return value.size() < key.size();
    };
    // Keys share long prefixes (ARNs, ids): every key between two bounds shares with the value
    // at least the shorter of the bounds' common prefixes with it, so comparisons skip those.
    std::size_t low = 0, high = spans.size();  // first key greater than the value
    std::size_t low_common = 0, high_common = 0;
    while (low < high) {
      std::size_t mid = (low + high) / 2;
      std::size_t common;
      if (value_less_than(key(mid), std::min(low_common, high_common), common)) {
        high = mid;
        high_common = common;
      } else {
        low = mid + 1;
        low_common = common;
      }
    }
    if (low == 0) return;
    // The last key <= the value is the one that set low_common: their common prefix.
    auto i = static_cast<std::int32_t>(low) - 1;
    std::size_t common = low_common;
    for (; i >= 0; i = parent[static_cast<std::size_t>(i)]) {
      if (spans[static_cast<std::size_t>(i)].second <= common)
        emit(alts[static_cast<std::size_t>(i)]);
    }
  }
  bool empty() const { return spans.empty() && pending.empty(); }
};

// A hash map of strings that first checks whether any key has the value's length, so most
// values are never hashed.
struct ExactIndex {
  FlatStringMap<AltList> by_text;
  std::vector<char> has_length;  // index = length, for lengths below kLengths
  static constexpr std::size_t kLengths = 512;

  void add(const std::string& key, std::uint32_t alt) {
    by_text.insert(key).push_back(alt);
    has_length.resize(kLengths, 0);
    if (key.size() < kLengths) has_length[key.size()] = 1;
  }
  bool may_hold(std::size_t length) const {
    return !by_text.empty() && (length >= kLengths || has_length[length]);
  }
  const AltList* find(std::string_view key) const { return by_text.find(key); }
};

// IP addresses (cidr, and exact values that are IP literals) by network: for each prefix length
// in use, a hash map from the masked address to the alternatives, so a value costs one parse
// and one lookup per distinct prefix length, whatever the number of ranges.
struct IpIndex {
  std::vector<std::pair<std::uint8_t, std::uint8_t>> shapes;  // (address bytes, prefix bits)
  FlatStringMap<AltList> by_network;

  // The length of the prefix that the range covers, or -1 when it is not one network.
  static int prefix_bits(const IpRange& r) {
    if (r.low.length != r.high.length || (r.low.length != 4 && r.low.length != 16)) return -1;
    int bits = 0;
    while (bits < r.low.length * 8 && bit(r.low, bits) == bit(r.high, bits)) ++bits;
    for (int b = bits; b < r.low.length * 8; ++b) {
      if (bit(r.low, b) != 0 || bit(r.high, b) != 1) return -1;
    }
    return bits;
  }
  static int bit(const IpAddress& ip, int b) { return ip.bytes[b / 8] >> (7 - b % 8) & 1; }
  static void key(const IpAddress& ip, int bits, std::string& out) {
    out.assign({static_cast<char>(ip.length), static_cast<char>(bits)});
    for (int i = 0; i < ip.length; ++i) {
      int keep = std::clamp(bits - i * 8, 0, 8);
      auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
      out += static_cast<char>(ip.bytes[static_cast<std::size_t>(i)] & mask);
    }
  }
  // False when the range is not one network (the caller then indexes it another way).
  bool add(const IpRange& r, std::uint32_t alt) {
    int bits = prefix_bits(r);
    if (bits < 0) return false;
    std::pair<std::uint8_t, std::uint8_t> shape{r.low.length, static_cast<std::uint8_t>(bits)};
    if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.push_back(shape);
    std::string k;
    key(r.low, bits, k);
    by_network.insert(k).push_back(alt);
    return true;
  }
  template <class Emit>
  void lookup(std::string_view value, std::string& scratch, Emit&& emit) const {
    if (shapes.empty()) return;
    std::optional<IpAddress> ip = parse_ip(value);
    if (!ip) return;
    for (auto [length, bits] : shapes) {
      if (length != ip->length) continue;
      key(*ip, bits, scratch);
      if (const AltList* alts = by_network.find(scratch)) emit(*alts);
    }
  }
};

struct Bound {
  double value;
  std::uint32_t alt;
};

// Numeric ranges: one-sided ranges are prefixes/suffixes of a sorted list; two-sided ranges
// are scanned in order of their lower bound.
struct RangeIndex {
  std::vector<Bound> lower_only;                                // sorted by low
  std::vector<Bound> upper_only;                                // sorted by high
  std::vector<std::tuple<double, double, std::uint32_t>> both;  // sorted by low
  double widest = 0;  // of the two-sided ranges: only lows in [v - widest, v] can cover v

  template <class Emit>
  void lookup(double v, Emit&& emit) const {
    for (const Bound& b : lower_only) {
      if (b.value > v) break;
      emit(b.alt);
    }
    auto it = std::lower_bound(upper_only.begin(), upper_only.end(), v,
                               [](const Bound& b, double x) { return b.value < x; });
    for (; it != upper_only.end(); ++it) emit(it->alt);
    auto from = std::lower_bound(both.begin(), both.end(), v - widest,
                                 [](const auto& r, double x) { return std::get<0>(r) < x; });
    for (; from != both.end() && std::get<0>(*from) <= v; ++from) {
      if (std::get<1>(*from) >= v) emit(std::get<2>(*from));
    }
  }
  bool empty() const { return lower_only.empty() && upper_only.empty() && both.empty(); }
};

// The value indexes of one field, holding only anchor conditions. Lookups may return more
// alternatives than truly match (the full evaluation decides), never fewer.
struct FieldIndex {
  ExactIndex exact;
  std::unordered_map<double, AltList> numbers;
  AltList on_true, on_false, on_null;
  AltList on_any;     // exists, anything-but: any value
  AltList on_string;  // any string: wildcards without literal ends, non-ASCII ci
  IpIndex ips;        // cidr, IP literals
  AffixIndex prefix, suffix, prefix_ci, suffix_ci;
  ExactIndex equals_ci;  // ASCII patterns, keyed lower-case
  RangeIndex ranges;
};

double canonical(double v) {
  return v == 0 ? 0.0 : v;
}  // -0 == 0

// How often a predicate is expected to be met (lower is better for an anchor).
double predicate_weight(const Predicate& p) {
  switch (p.kind) {
    case PredKind::kExactString:
    case PredKind::kExactNumber:
    case PredKind::kExactIp:
      return 1;
    case PredKind::kEqualsCi:
      return 1.5;
    case PredKind::kTrue:
    case PredKind::kFalse:
    case PredKind::kNull:
      return 8;
    case PredKind::kPrefix:
    case PredKind::kSuffix:
    case PredKind::kPrefixCi:
    case PredKind::kSuffixCi:
      return 3;
    case PredKind::kWildcard:
    case PredKind::kCidr:
      return 4;
    case PredKind::kNumericRange:
      return 6;
    default:
      return 30;  // exists, anything-but
  }
}

std::string predicate_key(std::uint32_t field, const Predicate& p) {
  std::string key = std::to_string(field) + ':' + std::to_string(static_cast<int>(p.kind)) + ':';
  switch (p.kind) {
    case PredKind::kExactNumber:
      return key + std::to_string(p.number);
    case PredKind::kNumericRange:
      return key + std::to_string(p.range.low) + ',' + std::to_string(p.range.high);
    default:
      return key + p.text;
  }
}

}  // namespace

// A predicate in the matcher's compact form, laid out alternative after alternative so that
// evaluating a candidate reads a few neighbouring cache lines: the common kinds carry their
// operands inline (their text in MatcherData::text), the others point at the full Predicate.
struct CompactPredicate {
  PredKind kind;
  bool low_open = false;
  bool high_open = false;
  std::uint32_t text_offset = 0;
  std::uint32_t text_length = 0;
  double low = 0;  // exact number, or range bounds
  double high = 0;
  const Predicate* full = nullptr;
};

struct CompactCondition {
  std::uint32_t field;
  std::uint32_t first;  // into MatcherData::predicates
  std::uint16_t count;
  bool has_absent;
};

struct AltEntry {
  std::uint32_t pattern;
  std::uint32_t begin;  // into MatcherData::bound
  std::uint32_t count;
  // A second cheap test besides the anchor: a condition that needs one exact string on this
  // field. A candidate whose guard fails is dropped without touching its conditions.
  std::uint32_t guard_field = kNone;
  std::uint64_t guard_hash = 0;
};

struct MatcherData {
  std::vector<Pattern> patterns;
  PathTrie trie;
  std::vector<AltEntry> alternatives;
  // Copies of every condition, laid out alternative after alternative so that evaluating a
  // candidate touches a few neighbouring cache lines rather than the patterns' scattered data.
  std::vector<Condition> conditions;
  std::vector<BoundCondition> bound;
  // The same conditions in compact form: an alternative's occupy the same index range as in
  // `bound`, ordered for evaluation (most selective first, the anchor last).
  std::vector<CompactCondition> compact;
  std::vector<CompactPredicate> predicates;
  std::string text;
  std::vector<FieldIndex> fields;   // by field id
  std::vector<char> field_indexed;  // field has at least one anchor
  AltList always;                   // alternatives with no condition a value can anchor

  void build();
  void add_compact(std::uint32_t field, const Condition& c);
  void index(std::uint32_t field, const Predicate& p, std::uint32_t alt);
};

void MatcherData::index(std::uint32_t field, const Predicate& p, std::uint32_t alt) {
  FieldIndex& fi = fields[field];
  field_indexed[field] = 1;
  switch (p.kind) {
    case PredKind::kExactString:
      fi.exact.add(p.text, alt);
      break;
    case PredKind::kExactNumber:
      fi.numbers[canonical(p.number)].push_back(alt);
      break;
    case PredKind::kTrue:
      fi.on_true.push_back(alt);
      break;
    case PredKind::kFalse:
      fi.on_false.push_back(alt);
      break;
    case PredKind::kNull:
      fi.on_null.push_back(alt);
      break;
    case PredKind::kPrefix:
      fi.prefix.add(p.text, false, alt);
      break;
    case PredKind::kSuffix:
      fi.suffix.add(p.text, true, alt);
      break;
    case PredKind::kPrefixCi:
    case PredKind::kSuffixCi:
    case PredKind::kEqualsCi: {
      if (!is_ascii(p.text)) {
        fi.on_string.push_back(alt);
        break;
      }
      std::string lower;
      ascii_lower(p.text, lower);
      if (p.kind == PredKind::kEqualsCi) {
        fi.equals_ci.add(lower, alt);
      } else if (p.kind == PredKind::kPrefixCi) {
        fi.prefix_ci.add(lower, false, alt);
      } else {
        fi.suffix_ci.add(lower, true, alt);
      }
      break;
    }
    case PredKind::kWildcard: {
      const WildcardGlob& glob = p.globs.front();
      if (glob.pieces.size() == 1) {
        fi.exact.add(glob.pieces[0], alt);
      } else if (!glob.pieces.front().empty() &&
                 glob.pieces.front().size() >= glob.pieces.back().size()) {
        fi.prefix.add(glob.pieces.front(), false, alt);
      } else if (!glob.pieces.back().empty()) {
        fi.suffix.add(glob.pieces.back(), true, alt);
      } else {
        fi.on_string.push_back(alt);
      }
      break;
    }
    case PredKind::kNumericRange: {
      const NumericRange& r = p.range;
      if (r.low == r.high) {
        fi.numbers[canonical(r.low)].push_back(alt);
      } else if (std::isinf(r.high)) {
        fi.ranges.lower_only.push_back({r.low, alt});
      } else if (std::isinf(r.low)) {
        fi.ranges.upper_only.push_back({r.high, alt});
      } else {
        fi.ranges.both.emplace_back(r.low, r.high, alt);
        fi.ranges.widest = std::max(fi.ranges.widest, r.high - r.low);
      }
      break;
    }
    case PredKind::kExactIp:
    case PredKind::kCidr:
      if (!fi.ips.add(p.ip, alt)) fi.on_string.push_back(alt);
      break;
    default:  // exists, anything-but
      fi.on_any.push_back(alt);
      break;
  }
}

void MatcherData::add_compact(std::uint32_t field, const Condition& c) {
  compact.push_back({field, static_cast<std::uint32_t>(predicates.size()),
                     static_cast<std::uint16_t>(c.predicates.size()), c.has_absent});
  for (const Predicate& p : c.predicates) {
    CompactPredicate cp{p.kind};
    cp.full = &p;
    switch (p.kind) {
      case PredKind::kExactString:
      case PredKind::kPrefix:
      case PredKind::kSuffix:
      case PredKind::kPrefixCi:
      case PredKind::kSuffixCi:
      case PredKind::kEqualsCi:
        cp.text_offset = static_cast<std::uint32_t>(text.size());
        cp.text_length = static_cast<std::uint32_t>(p.text.size());
        text += p.text;
        break;
      case PredKind::kExactNumber:
        cp.low = p.number;
        break;
      case PredKind::kNumericRange:
        cp.low = p.range.low;
        cp.high = p.range.high;
        cp.low_open = p.range.low_open;
        cp.high_open = p.range.high_open;
        break;
      default:
        break;
    }
    predicates.push_back(cp);
  }
}

void MatcherData::build() {
  // Bind every condition to this matcher's fields, and count how many alternatives share each
  // predicate: a shared predicate (say source = aws.guardduty) is a poor anchor.
  std::unordered_map<std::string, std::uint32_t> shared;
  std::size_t total = 0;
  for (const Pattern& pattern : patterns) {
    for (const Alternative& alt : pattern.data().tree.alternatives) total += alt.conditions.size();
  }
  conditions.reserve(total);  // no reallocation: `bound` points into it
  for (std::uint32_t pi = 0; pi < patterns.size(); ++pi) {
    for (const Alternative& alt : patterns[pi].data().tree.alternatives) {
      AltEntry entry{pi, static_cast<std::uint32_t>(bound.size()),
                     static_cast<std::uint32_t>(alt.conditions.size())};
      for (const Condition& c : alt.conditions) {
        std::uint32_t field = trie.add(c.path);
        conditions.push_back(c);
        bound.push_back({field, &conditions.back()});
        add_compact(field, conditions.back());
        for (const Predicate& p : c.predicates) ++shared[predicate_key(field, p)];
      }
      alternatives.push_back(entry);
    }
  }
  fields.resize(trie.field_count());
  field_indexed.assign(trie.field_count(), 0);
  for (std::uint32_t ai = 0; ai < alternatives.size(); ++ai) {
    const AltEntry& entry = alternatives[ai];
    const BoundCondition* anchor = nullptr;
    double best = 0;
    std::vector<std::pair<double, CompactCondition>> order;  // (cost, condition)
    for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
      const BoundCondition& bc = bound[ci];
      double cost = 0;
      for (const Predicate& p : bc.condition->predicates) {
        cost += predicate_weight(p) * shared[predicate_key(bc.field, p)];
      }
      order.emplace_back(cost, compact[ci]);
      if (bc.condition->has_absent) continue;  // met by absence: no value to look up
      if (!anchor || cost < best) {
        anchor = &bc;
        best = cost;
      }
    }
    // The compact form is evaluated in any order (see evaluate_compact): the conditions least
    // often met go first so that a candidate that fails is dropped soonest; the anchor, which
    // brought the candidate in, goes last.
    if (anchor) order[static_cast<std::size_t>(anchor - &bound[entry.begin])].first = 1e300;
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::uint32_t k = 0; k < entry.count; ++k) compact[entry.begin + k] = order[k].second;
    if (!anchor) {
      always.push_back(ai);
      continue;
    }
    for (const Predicate& p : anchor->condition->predicates) index(anchor->field, p, ai);
    std::uint32_t guard_shared = 0;
    for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
      const BoundCondition& bc = bound[ci];
      const auto& predicates = bc.condition->predicates;
      if (&bc == anchor || predicates.size() != 1 || predicates[0].kind != PredKind::kExactString) {
        continue;
      }
      std::uint32_t count = shared[predicate_key(bc.field, predicates[0])];
      if (alternatives[ai].guard_field == kNone || count < guard_shared) {
        alternatives[ai].guard_field = bc.field;
        alternatives[ai].guard_hash = hash_bytes(predicates[0].text);
        guard_shared = count;
      }
    }
  }
  for (FieldIndex& fi : fields) {
    for (AffixIndex* affix : {&fi.prefix, &fi.suffix, &fi.prefix_ci, &fi.suffix_ci}) affix->seal();
    auto by_value = [](const Bound& a, const Bound& b) { return a.value < b.value; };
    std::sort(fi.ranges.lower_only.begin(), fi.ranges.lower_only.end(), by_value);
    std::sort(fi.ranges.upper_only.begin(), fi.ranges.upper_only.end(), by_value);
    std::sort(fi.ranges.both.begin(), fi.ranges.both.end());
  }
}

namespace {

struct MatchScratch {
  std::vector<std::uint32_t> alt_stamp;
  std::vector<std::uint32_t> pattern_stamp;
  std::vector<std::uint32_t> candidates;
  std::string lower;
  std::uint32_t stamp = 0;
  // Per field, for guards: whether it holds exactly one string value this event, and its hash.
  enum : std::uint8_t { kMissing, kOneString, kOther };
  std::vector<std::uint32_t> field_stamp;
  std::vector<std::uint8_t> field_state;
  std::vector<std::uint64_t> field_hash;

  // False when the guard certainly fails: the field is missing, holds one value that is not a
  // string, or one string that is not the wanted one.
  bool guard_may_hold(const FlatEvent& event, std::uint32_t field, std::uint64_t hash) {
    if (field_stamp.size() <= field) {
      field_stamp.resize(field + 1, 0);
      field_state.resize(field + 1, kMissing);
      field_hash.resize(field + 1, 0);
    }
    if (field_stamp[field] != stamp) {
      field_stamp[field] = stamp;
      std::uint32_t first = event.first(field);
      if (first == kNone) {
        field_state[field] = kMissing;
      } else if (event.occurrence(first).next != kNone) {
        field_state[field] = kOther;
      } else if (event.occurrence(first).value.kind == ValueKind::kString) {
        field_state[field] = kOneString;
        field_hash[field] = hash_bytes(event.occurrence(first).value.str);
      } else {
        field_state[field] = kMissing;  // one non-string value: an exact string cannot match
      }
    }
    if (field_state[field] == kMissing) return false;
    return field_state[field] == kOther || field_hash[field] == hash;
  }

  void begin(std::size_t alts, std::size_t patterns) {
    if (alt_stamp.size() < alts) alt_stamp.resize(alts, 0);
    if (pattern_stamp.size() < patterns) pattern_stamp.resize(patterns, 0);
    if (++stamp == 0) {
      std::fill(alt_stamp.begin(), alt_stamp.end(), 0);
      std::fill(pattern_stamp.begin(), pattern_stamp.end(), 0);
      stamp = 1;
    }
    candidates.clear();
  }
  void add(std::uint32_t alt) {
    if (alt_stamp[alt] != stamp) {
      alt_stamp[alt] = stamp;
      candidates.push_back(alt);
    }
  }
  void add_all(const AltList& alts) {
    for (std::uint32_t alt : alts) add(alt);
  }
};

MatchScratch& match_scratch() {
  thread_local MatchScratch scratch;
  return scratch;
}

void collect(const FieldIndex& fi, const Value& v, MatchScratch& s) {
  s.add_all(fi.on_any);
  switch (v.kind) {
    case ValueKind::kString: {
      s.add_all(fi.on_string);
      if (fi.exact.may_hold(v.str.size())) {
        if (const AltList* alts = fi.exact.find(v.str)) s.add_all(*alts);
      }
      auto emit = [&](const AltList& alts) { s.add_all(alts); };
      fi.prefix.lookup<false, false>(v.str, emit);
      fi.suffix.lookup<true, false>(v.str, emit);
      fi.prefix_ci.lookup<false, true>(v.str, emit);
      fi.suffix_ci.lookup<true, true>(v.str, emit);
      fi.ips.lookup(v.str, s.lower, emit);
      if (fi.equals_ci.may_hold(v.str.size())) {
        ascii_lower(v.str, s.lower);
        if (const AltList* alts = fi.equals_ci.find(s.lower)) s.add_all(*alts);
      }
      break;
    }
    case ValueKind::kNumber: {
      if (!fi.numbers.empty()) {
        auto it = fi.numbers.find(canonical(v.num));
        if (it != fi.numbers.end()) s.add_all(it->second);
      }
      if (!fi.ranges.empty()) fi.ranges.lookup(v.num, [&](std::uint32_t alt) { s.add(alt); });
      break;
    }
    case ValueKind::kTrue:
      s.add_all(fi.on_true);
      break;
    case ValueKind::kFalse:
      s.add_all(fi.on_false);
      break;
    case ValueKind::kNull:
      s.add_all(fi.on_null);
      break;
  }
}

bool compact_matches(const MatcherData& data, const CompactPredicate& p, const Value& v) {
  const bool is_string = v.kind == ValueKind::kString;
  std::string_view text(data.text.data() + p.text_offset, p.text_length);
  switch (p.kind) {
    case PredKind::kExactString:
      return is_string && v.str == text;
    case PredKind::kPrefix:
      return is_string && v.str.size() >= text.size() &&
             std::memcmp(v.str.data(), text.data(), text.size()) == 0;
    case PredKind::kSuffix:
      return is_string && v.str.size() >= text.size() &&
             std::memcmp(v.str.data() + v.str.size() - text.size(), text.data(), text.size()) == 0;
    case PredKind::kPrefixCi:
      return is_string && starts_with_ci(v.str, text);
    case PredKind::kSuffixCi:
      return is_string && ends_with_ci(v.str, text);
    case PredKind::kEqualsCi:
      return is_string && equals_ci(v.str, text);
    case PredKind::kExactNumber:
      return v.kind == ValueKind::kNumber && v.num == p.low;
    case PredKind::kNumericRange: {
      if (v.kind != ValueKind::kNumber) return false;
      bool above = p.low_open ? v.num > p.low : v.num >= p.low;
      bool below = p.high_open ? v.num < p.high : v.num <= p.high;
      return above && below;
    }
    case PredKind::kTrue:
      return v.kind == ValueKind::kTrue;
    case PredKind::kFalse:
      return v.kind == ValueKind::kFalse;
    case PredKind::kNull:
      return v.kind == ValueKind::kNull;
    case PredKind::kExists:
      return true;
    case PredKind::kAbsent:
      return false;
    default:
      return predicate_matches(*p.full, v);
  }
}

// evaluate_alternative's common case on the compact form: a value outside every array imposes
// no element on the other conditions, so a condition met by such a value is met whatever else
// is chosen, and one whose values all lie outside arrays and fail it fails the alternative.
// Returns 1 (match), 0 (no match) or -1 (a value in an array decides: run the full search).
int evaluate_compact(const MatcherData& data, const AltEntry& entry, const FlatEvent& event) {
  int result = 1;
  for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
    const CompactCondition& c = data.compact[ci];
    bool met = false, present = false, in_array = false;
    for (std::uint32_t index = event.first(c.field); index != kNone && !met;
         index = event.occurrence(index).next) {
      const Occurrence& o = event.occurrence(index);
      if (o.chain_length != 0) {
        in_array = true;
        break;
      }
      present = true;
      for (std::uint32_t pi = c.first; pi < c.first + c.count; ++pi) {
        if (compact_matches(data, data.predicates[pi], o.value)) {
          met = true;
          break;
        }
      }
    }
    if (in_array) {
      result = -1;  // keep looking for a condition that fails outright
    } else if (!met && !(c.has_absent && !present)) {
      return 0;
    }
  }
  return result;
}

void run_match(const MatcherData& data, simdjson::dom::element root,
               std::vector<std::uint32_t>& out) {
  if (!root.is_object()) return;
  FlatEvent& event = thread_scratch().event;
  event.build(data.trie, root);
  MatchScratch& s = match_scratch();
  s.begin(data.alternatives.size(), data.patterns.size());
  for (const Occurrence& o : event.occurrences()) {
    if (data.field_indexed[o.field]) collect(data.fields[o.field], o.value, s);
  }
  s.add_all(data.always);
  std::size_t first_out = out.size();
  // With thousands of rules the candidates' data is spread over megabytes: fetch ahead, each
  // step from what an earlier step fetched (entry, then its conditions, then its predicates),
  // so that the misses overlap instead of adding up.
  constexpr std::size_t kEntryAhead = 8, kConditionAhead = 4, kPredicateAhead = 2;
  const std::size_t candidate_count = s.candidates.size();
  for (std::size_t k = 0; k < candidate_count; ++k) {
    if (k + kEntryAhead < candidate_count) {
      __builtin_prefetch(&data.alternatives[s.candidates[k + kEntryAhead]]);
    }
    if (k + kConditionAhead < candidate_count) {
      __builtin_prefetch(data.compact.data() +
                         data.alternatives[s.candidates[k + kConditionAhead]].begin);
    }
    if (k + kPredicateAhead < candidate_count) {
      const AltEntry& ahead = data.alternatives[s.candidates[k + kPredicateAhead]];
      if (ahead.count != 0)
        __builtin_prefetch(data.predicates.data() + data.compact[ahead.begin].first);
    }
    const AltEntry& entry = data.alternatives[s.candidates[k]];
    if (s.pattern_stamp[entry.pattern] == s.stamp) continue;
    if (entry.guard_field != kNone &&
        !s.guard_may_hold(event, entry.guard_field, entry.guard_hash)) {
      continue;
    }
    int verdict = evaluate_compact(data, entry, event);
    if (verdict < 0) {
      verdict = evaluate_alternative(data.bound.data() + entry.begin, entry.count, event) ? 1 : 0;
    }
    if (verdict == 1) {
      s.pattern_stamp[entry.pattern] = s.stamp;
      out.push_back(entry.pattern);
    }
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first_out), out.end());
}

}  // namespace
}  // namespace detail

Matcher::Matcher(std::vector<Pattern> patterns) : data_(std::make_unique<detail::MatcherData>()) {
  data_->patterns = std::move(patterns);
  data_->build();
}

Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

std::size_t Matcher::size() const {
  return data_->patterns.size();
}

void Matcher::match(simdjson::padded_string_view event_json,
                    std::vector<std::uint32_t>& out) const {
  simdjson::dom::element root;
  auto& parser = detail::thread_scratch().parser;
  if (parser.parse(event_json.data(), event_json.length(), false).get(root)) return;
  detail::run_match(*data_, root, out);
}

void Matcher::match(std::string_view event_json, std::vector<std::uint32_t>& out) const {
  simdjson::dom::element root;
  if (detail::parse_event(event_json, root)) return;
  detail::run_match(*data_, root, out);
}

}  // namespace eventrouter::pattern
