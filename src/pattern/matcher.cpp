// The bus matcher. Every alternative of every pattern is indexed under one "anchor" condition,
// the one expected to be met least often (rules' own values stand for the events': a value many
// rules name on a field is common, one among hundreds of different values is rare); an event's
// values are looked up in the anchors' value indexes (one hash map for exact values, one sorted
// key array for prefixes and one for suffixes, the case-sensitive and ignore-case forms together
// keyed lower-case; per-prefix-length hash maps for cidr ranges and IP literals; sorted bounds
// for numeric ranges), and only the alternatives whose anchor is met are then evaluated in full,
// on a compact copy of their conditions kept in one contiguous block per alternative. The cost
// per event therefore follows the event's fields that rules name and the rules that come close
// to matching, not the number of rules. After warm-up nothing is allocated per event.
//
// This file matches one event. What it reads is declared in matcher_data.hpp (the value indexes
// in field_index.hpp and affix_index.hpp) and built by matcher_build.cpp.

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>

#include "compiled.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "flat_map.hpp"
#include "matcher_data.hpp"

namespace eventrouter::pattern {
namespace detail {
namespace {

struct MatchScratch {
  // One bit per alternative: already a candidate this event. Cleared through `candidates`, so
  // the cost follows the candidates, not the rules (and the bits stay in the first-level cache).
  std::vector<std::uint64_t> seen;
  std::vector<std::uint32_t> candidates;
  // A value prepared for the index lookups, lower-cased (at kLowerPad: eight readable bytes
  // before it, for AffixGate::may_hold_reversed, and eight after, for may_hold) and reversed
  // (eight readable bytes after it). Grow only.
  static constexpr std::size_t kLowerPad = 8;
  std::vector<char> lower, reversed;
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

  void begin(std::size_t alts) {
    // Forget the previous event's candidates (their words only).
    for (std::uint32_t alt : candidates) seen[alt >> 6] = 0;
    candidates.clear();
    if (seen.size() * 64 < alts) seen.resize((alts + 63) / 64, 0);
    if (++stamp == 0) {
      std::fill(field_stamp.begin(), field_stamp.end(), 0);
      stamp = 1;
    }
  }
  [[gnu::always_inline]] void add(std::uint32_t alt) {
    std::uint64_t& word = seen[alt >> 6];
    const std::uint64_t bit = 1ull << (alt & 63);
    if (!(word & bit)) {
      word |= bit;
      candidates.push_back(alt);
    }
  }
  [[gnu::always_inline]] void add_all(const AltList& alts) {
    alts.for_each([this](std::uint32_t alt) { add(alt); });
  }
};

MatchScratch& match_scratch() {
  thread_local MatchScratch scratch;
  return scratch;
}

// Writes the value ASCII lower-cased to lower[0, n), eight bytes at a time; returns
// hash_bytes() of the lower-cased value, computed on the way.
std::uint64_t prepare(std::string_view text, char* lower) {
  const std::size_t n = text.size();
  std::uint64_t h = hash_start(n);
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time where SSE2 is there (every x86-64): upper-case letters are the
  // bytes in 'A'..'Z' as signed bytes (so no byte from 0x80 up), each raised by 0x20.
  const __m128i before_a = _mm_set1_epi8('A' - 1);
  const __m128i after_z = _mm_set1_epi8('Z' + 1);
  const __m128i case_bit = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, before_a), _mm_cmplt_epi8(x, after_z));
    x = _mm_add_epi8(x, _mm_and_si128(upper, case_bit));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lower + i), x);
    const auto w0 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(x));
    const auto w1 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)));
    h = hash_word(hash_word(h, w0), w1);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = lower_word(load_word(text.data() + i));
    std::memcpy(lower + i, &w, 8);
    h = hash_word(h, w);
  }
  if (i != n && n >= 8) {
    // The last 1-7 bytes: one more word, overlapping the previous one (whose bytes it
    // rewrites with the same values), instead of a byte loop.
    const std::uint64_t w = lower_word(load_word(text.data() + n - 8));
    std::memcpy(lower + n - 8, &w, 8);
    return hash_finish(h, lower + i, n - i);
  }
  for (std::size_t j = i; j < n; ++j) {
    char c = text[j];
    lower[j] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return hash_finish(h, lower + i, n - i);
}

// Writes text[0, n) reversed to out[0, n), eight bytes at a time. `text` must have eight
// readable bytes before it (its first word may be read from there).
void reverse_into(const char* text, std::size_t n, char* out) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = __builtin_bswap64(load_word(text + n - i - 8));
    std::memcpy(out + i, &w, 8);
  }
  if (i != n) {
    // The first 1-7 bytes of the text: the word ending there, of which the bytes before the
    // text land past n in `out` (which has room for them).
    const std::uint64_t w = __builtin_bswap64(load_word(text + n - i - 8));
    std::memcpy(out + i, &w, 8);
  }
}

// Adds the alternatives whose anchor on this field the value may meet. `probe` says which
// parts of `fi` hold anything; the others are not read.
void collect(const FieldProbe& probe, const FieldIndex& fi, const Value& v, MatchScratch& s) {
  const std::uint32_t kinds = probe.kinds;
  if (kinds & FieldProbe::kAny) s.add_all(fi.on_any);
  switch (v.kind) {
    case ValueKind::kString: {
      if (kinds & FieldProbe::kString) s.add_all(fi.on_string);
      auto emit = [&](const AltList& alts) { s.add_all(alts); };
      const bool exact = (kinds & FieldProbe::kExact) && probe.may_hold_exact(v.str.size());
      const bool prefix = kinds & FieldProbe::kPrefix;
      const bool suffix = kinds & FieldProbe::kSuffix;
      if (exact || prefix || suffix) {
        const std::size_t n = v.str.size();
        if (s.lower.size() < n + 2 * MatchScratch::kLowerPad) {
          s.lower.resize(
              std::max<std::size_t>(n + 2 * MatchScratch::kLowerPad, 2 * s.lower.size()));
          s.reversed.resize(s.lower.size());
        }
        char* lower_text = s.lower.data() + MatchScratch::kLowerPad;
        const std::uint64_t hash = prepare(v.str, lower_text);
        const std::string_view lower(lower_text, n);
        if (exact) {
          if (const AltList* alts = fi.hot.exact.find_by_hash(lower, hash)) s.add_all(*alts);
        }
        if (prefix && fi.hot.prefix.may_hold(lower)) fi.prefix.search(lower, emit);
        if (suffix && fi.hot.suffix.may_hold_reversed(lower)) {
          reverse_into(lower_text, n, s.reversed.data());
          fi.suffix.search(std::string_view(s.reversed.data(), n), emit);
        }
      }
      if (kinds & FieldProbe::kIp) fi.ips.lookup(v.str, emit);
      break;
    }
    case ValueKind::kNumber: {
      if (kinds & FieldProbe::kNumber) {
        auto it = fi.numbers.find(canonical(v.num));
        if (it != fi.numbers.end()) s.add_all(it->second);
      }
      if (kinds & FieldProbe::kRange) {
        fi.ranges.lookup(v.num, [&](std::uint32_t alt) { s.add(alt); });
      }
      break;
    }
    case ValueKind::kTrue:
      if (kinds & FieldProbe::kTrue) s.add_all(fi.on_true);
      break;
    case ValueKind::kFalse:
      if (kinds & FieldProbe::kFalse) s.add_all(fi.on_false);
      break;
    case ValueKind::kNull:
      if (kinds & FieldProbe::kNull) s.add_all(fi.on_null);
      break;
    case ValueKind::kNumberText:
      // Only the on_any list (above) can hold what such a number meets: exact-number patterns
      // of the same text are rare enough to stay unindexed (see MatcherData::index).
      break;
  }
}

// compact_matches() for every kind but an exact string.
[[gnu::noinline]] bool compact_matches_other(const PredCell& p, const char* base, const Value& v) {
  const bool is_string = v.kind == ValueKind::kString;
  switch (p.kind) {
    case PredKind::kPrefix:
      return is_string && v.str.size() >= p.text_length &&
             bytes_equal(v.str.data(), base + p.text_offset, p.text_length);
    case PredKind::kSuffix:
      return is_string && v.str.size() >= p.text_length &&
             bytes_equal(v.str.data() + v.str.size() - p.text_length, base + p.text_offset,
                         p.text_length);
    case PredKind::kPrefixCi:
      if (!is_string) return false;
      if (p.ascii_ci) {
        return v.str.size() >= p.text_length &&
               equals_ascii_ci(v.str.data(), base + p.text_offset, p.text_length);
      }
      return starts_with_ci(v.str, {base + p.text_offset, p.text_length});
    case PredKind::kSuffixCi:
      if (!is_string) return false;
      if (p.ascii_ci) {
        return v.str.size() >= p.text_length &&
               equals_ascii_ci(v.str.data() + v.str.size() - p.text_length, base + p.text_offset,
                               p.text_length);
      }
      return ends_with_ci(v.str, {base + p.text_offset, p.text_length});
    case PredKind::kEqualsCi:
      if (!is_string) return false;
      if (p.ascii_ci) {
        return v.str.size() == p.text_length &&
               equals_ascii_ci(v.str.data(), base + p.text_offset, p.text_length);
      }
      return equals_ci(v.str, {base + p.text_offset, p.text_length});
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
    case PredKind::kExactIp:
    case PredKind::kCidr: {
      if (!is_string) return false;
      const IpAddress* ip = event_ips().get(v.str);
      return ip && ip_in_range(*ip, p.full->ip);
    }
    case PredKind::kExists:
      return true;
    case PredKind::kAbsent:
      return false;
    default:
      return predicate_matches(*p.full, v);
  }
}

// Whether the value meets the predicate. An exact string, the most common kind, is decided
// inline; the others take a call.
[[gnu::always_inline]] inline bool compact_matches(const PredCell& p, const char* base,
                                                   const Value& v) {
  if (p.kind == PredKind::kExactString) {
    return v.kind == ValueKind::kString && v.str.size() == p.text_length &&
           bytes_equal(v.str.data(), base + p.text_offset, p.text_length);
  }
  return compact_matches_other(p, base, v);
}

[[gnu::noinline]] bool any_of_several_matches(const PredCell* p, std::uint32_t count,
                                              const char* base, const Value& v) {
  for (std::uint32_t i = 0; i < count; ++i) {
    if (compact_matches(p[i], base, v)) return true;
  }
  return false;
}

// Whether the value meets any of the condition's predicates (most conditions have one).
[[gnu::always_inline]] inline bool any_matches(const PredCell* p, std::uint32_t count,
                                               const char* base, const Value& v) {
  if (count == 1) return compact_matches(*p, base, v);
  return any_of_several_matches(p, count, base, v);
}

// Two values in arrays can be chosen together unless they lie in different elements of one
// array.
bool consistent(const FlatEvent& event, const Occurrence& a, const Occurrence& b) {
  const ArrayStep* ca = event.chain(a);
  const ArrayStep* cb = event.chain(b);
  for (std::uint32_t i = 0; i < a.chain_length; ++i) {
    for (std::uint32_t j = 0; j < b.chain_length; ++j) {
      if (ca[i].array == cb[j].array && ca[i].index != cb[j].index) return false;
    }
  }
  return true;
}

// evaluate_alternative on the compact form, for all but the rare cases that need its search.
// A value outside every array imposes no element on the other conditions, so a condition met
// by such a value is met whatever else is chosen. A condition met by exactly one value in an
// array pins that value; the pinned values must be pairwise consistent, and at most one
// condition with several candidate values in arrays is resolved against them. An
// {"exists": false} condition whose field has values in arrays depends on the values chosen
// before it (in path order): those, and two or more conditions with several values in arrays,
// are left to the search. Returns 1 (match), 0 (no match) or -1 (run the full search).
int evaluate_compact(const AltHeader& header, const FlatEvent& event) {
  const char* base = reinterpret_cast<const char*>(&header);
  const auto* conds = reinterpret_cast<const CondCell*>(base + sizeof(AltHeader));
  const auto* preds = reinterpret_cast<const PredCell*>(base + predicates_offset(header.count));
  constexpr std::size_t kMaxPinned = 8;
  const Occurrence* pinned[kMaxPinned];
  std::size_t pinned_count = 0;
  const CondCell* multi = nullptr;
  const PredCell* multi_preds = nullptr;
  bool search = false;
  for (std::uint32_t ci = 0; ci < header.count; ++ci) {
    const CondCell& c = conds[ci];
    const PredCell* p = preds;
    preds += c.predicate_count;
    const std::uint32_t first = event.first(c.field);
    if (first != kNone) {
      // The common case: one value, outside every array.
      const Occurrence& o = event.occurrence(first);
      if (o.next == kNone && o.chain_length == 0) {
        if (any_matches(p, c.predicate_count, base, o.value)) continue;
        return 0;  // present and not met: {"exists": false} cannot help either
      }
    } else if (c.has_absent) {
      continue;  // met by the absence of the field
    } else {
      return 0;
    }
    bool present = false, in_array = false, free_match = false;
    const Occurrence* only = nullptr;
    std::uint32_t matched = 0;
    for (std::uint32_t index = first; index != kNone;) {
      const Occurrence& o = event.occurrence(index);
      index = o.next;
      present = true;
      if (o.chain_length != 0) in_array = true;
      if (!any_matches(p, c.predicate_count, base, o.value)) continue;
      if (o.chain_length == 0) {
        free_match = true;
        if (!c.has_absent) break;
      } else if (matched++ == 0) {
        only = &o;
      }
    }
    if (c.has_absent && in_array) {
      search = true;
    } else if (free_match) {
      continue;
    } else if (matched == 0) {
      if (c.has_absent && !present) continue;
      return 0;  // no value can meet it, whatever is chosen for the others
    } else if (matched == 1 && pinned_count < kMaxPinned) {
      pinned[pinned_count++] = only;
    } else if (!multi) {
      multi = &c;
      multi_preds = p;
    } else {
      search = true;
    }
  }
  if (search) return -1;
  for (std::size_t i = 1; i < pinned_count; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (!consistent(event, *pinned[i], *pinned[j])) return 0;
    }
  }
  if (!multi) return 1;
  for (std::uint32_t index = event.first(multi->field); index != kNone;) {
    const Occurrence& o = event.occurrence(index);
    index = o.next;
    if (!any_matches(multi_preds, multi->predicate_count, base, o.value)) continue;
    bool ok = true;
    for (std::size_t i = 0; i < pinned_count && ok; ++i) ok = consistent(event, o, *pinned[i]);
    if (ok) return 1;
  }
  return 0;
}

void run_match(const MatcherData& data, simdjson::padded_string_view json,
               std::vector<std::uint32_t>& out) {
  if (flatten_event(data.trie, json)) return;
  const FlatEvent& event = thread_scratch().event;
  MatchScratch& s = match_scratch();
  s.begin(data.alternative_count());
  event_ips().clear();
  for (const Occurrence& o : event.occurrences()) {
    const FieldProbe& probe = data.probes[o.field];
    if (probe.kinds != 0) collect(probe, data.fields[o.field], o.value, s);
  }
  s.add_all(data.always);
  std::size_t first_out = out.size();
  // With thousands of rules the candidates' blocks are spread over megabytes: fetch a few
  // ahead so that the misses overlap instead of adding up.
  constexpr std::size_t kAhead = 4;
  const std::size_t candidate_count = s.candidates.size();
  const std::uint64_t* blob = data.blob.data();
  for (std::size_t k = 0; k < candidate_count; ++k) {
    if (k + kAhead < candidate_count) {
      const char* ahead =
          reinterpret_cast<const char*>(blob + data.alt_word[s.candidates[k + kAhead]]);
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64);
      __builtin_prefetch(ahead + 128);
    }
    const AltHeader& header = data.header(s.candidates[k]);
    if (header.guard_field != kNone &&
        !s.guard_may_hold(event, header.guard_field, header.guard_hash)) {
      continue;
    }
    int verdict = evaluate_compact(header, event);
    if (verdict < 0) {
      verdict =
          evaluate_alternative(data.bound.data() + header.bound_begin, header.count, event) ? 1 : 0;
    }
    if (verdict == 1) {
      out.push_back(header.pattern);
    }
  }
  // A pattern with several alternatives ($or) may have matched more than once.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first_out), out.end());
  out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(first_out), out.end()),
            out.end());
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
  detail::run_match(*data_, event_json, out);
}

void Matcher::match(std::string_view event_json, std::vector<std::uint32_t>& out) const {
  detail::run_match(*data_, detail::pad_event(event_json), out);
}

}  // namespace eventrouter::pattern
