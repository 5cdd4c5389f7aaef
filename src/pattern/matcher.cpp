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

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "compiled.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "flat_map.hpp"

namespace eventrouter::pattern {
namespace detail {
namespace {

// A list of alternatives: most hold one or two, kept inline so that reading them costs no
// further cache miss; the rest go to the heap.
class AltList {
 public:
  void push_back(std::uint32_t alt) {
    if (count_ < kInline) {
      inline_[count_] = alt;
    } else {
      rest_.push_back(alt);
    }
    ++count_;
  }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  template <class F>
  [[gnu::always_inline]] void for_each(F&& f) const {
    if (count_ == 0) return;
    f(inline_[0]);
    if (count_ == 1) return;
    for (std::uint32_t i = 1; i < kInline && i < count_; ++i) f(inline_[i]);
    for (std::uint32_t alt : rest_) f(alt);
  }

 private:
  static constexpr std::uint32_t kInline = 3;
  std::uint32_t count_ = 0;
  std::uint32_t inline_[kInline] = {};
  std::vector<std::uint32_t> rest_;
};

// The length of the common prefix of a[0, n) and b[0, n), given that the first `from` bytes
// are equal; eight bytes at a time.
inline std::size_t common_prefix(const char* a, const char* b, std::size_t from, std::size_t n) {
  std::size_t i = from;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t x = load_word(a + i) ^ load_word(b + i);
    if (x != 0) return i + static_cast<std::size_t>(__builtin_ctzll(x) >> 3);
  }
  if (i == n) return n;
  if (n >= 8) {
    // The last 1-7 bytes: the word ending at n, whose first bytes are known equal.
    const std::uint64_t x = load_word(a + n - 8) ^ load_word(b + n - 8);
    return x == 0 ? n : n - 8 + static_cast<std::size_t>(__builtin_ctzll(x) >> 3);
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// The first test of a value against a prefix or suffix index (AffixIndex), from 24 bytes that
// are copied beside the field's other first tests (FieldHot): whether the value starts with the
// prefix all keys share, then a Bloom filter ("gate") of the keys' "windows", the up to eight
// bytes after that shared prefix (the window's length is part of its hash). A value whose
// windows of those lengths are all absent has no key as prefix, and is turned away before the
// index's binary search.
struct AffixGate {
  const char* shared = nullptr;               // the shared prefix (forwards for a suffix index)
  const std::uint64_t* gate_words = nullptr;  // null: no gate, every value passes
  std::uint32_t skip = 0;                     // the shared prefix's length
  std::uint16_t window_lengths = 0;           // bit w: some key has a window of w bytes
  std::uint16_t gate_shift = 0;

  // `word` holds the window's w bytes (and zeros above them).
  static std::uint64_t window_hash(std::uint64_t word, std::size_t w) {
    return (word ^ (w * 0x9E3779B97F4A7C15ull)) * 0xff51afd7ed558ccdull;
  }
  // False when no key can be a prefix of the value (stored as the keys are). Inlined into the
  // lookups of every value; the search itself is not. The value's buffer must have eight
  // readable bytes after skip.
  [[gnu::always_inline]] bool may_hold(std::string_view value) const {
    if (value.size() < skip || !bytes_equal(value.data(), shared, skip)) return false;
    return passes(load_word(value.data() + skip), value.size() - skip);
  }
  // may_hold() of the reverse of `value` (for a suffix index, whose keys are stored reversed),
  // read from the value as it stands so that only values the gate lets through are reversed.
  // The eight bytes before the value must be readable.
  [[gnu::always_inline]] bool may_hold_reversed(std::string_view value) const {
    if (value.size() < skip) return false;
    const std::size_t room = value.size() - skip;
    if (!bytes_equal(value.data() + room, shared, skip)) return false;
    // The reversed text's eight bytes after skip are the eight before the shared suffix here.
    return passes(__builtin_bswap64(load_word(value.data() + room - 8)), room);
  }
  // Whether the gate lets through a value whose `room` bytes after the shared prefix start
  // with those of `word` (the bytes past room are ignored).
  [[gnu::always_inline]] bool passes(std::uint64_t word, std::size_t room) const {
    if (!gate_words) return true;
    if (window_lengths == 1u << 8) {  // the common case: every key has eight bytes past skip
      if (room < 8) return false;
      const std::uint64_t bit = window_hash(word, 8) >> gate_shift;
      return gate_words[bit / 64] >> (bit % 64) & 1;
    }
    for (std::uint32_t lengths = window_lengths; lengths != 0; lengths &= lengths - 1) {
      const auto w = static_cast<std::size_t>(__builtin_ctz(lengths));
      if (w > room) break;
      const std::uint64_t bit = window_hash(word & kHeadMasks.mask[w], w) >> gate_shift;
      if (gate_words[bit / 64] >> (bit % 64) & 1) return true;
    }
    return false;
  }
};
static_assert(sizeof(AffixGate) == 24);

// Prefixes (suffixes are stored and looked up reversed) in a sorted array. The keys that are
// prefixes of a value v all lie on the chain of prefixes of the last key <= v (any key between
// a prefix of v and v starts with that prefix), so one binary search and a walk up that chain
// find them all, whatever the number of keys.
//
// With thousands of keys a binary search over the keys' bytes costs a cache miss or two per
// step, so the search first runs over `heads`: per key, the eight bytes that follow the prefix
// all keys share, as a big-endian integer (zero-padded), in one small contiguous array. Integer
// order agrees with byte order wherever two heads differ, so only the keys whose head equals the
// value's are then compared in full.
//
// Most indexes need no search at all: every key is at least as long as the shortest, so a key
// that is a prefix of a value shares the value's first `group_length` bytes (the shortest key's
// length, up to kMaxGroupLength) and lies in the run of sorted keys that begin with them. A hash
// map from those bytes to the run finds the few keys to test, or the range to search.
struct AffixIndex {
  // What a lookup reads of one key, in one 16-byte record: its text's place in `bytes`, the
  // longest other key that is a prefix of it (-1: none), and its alternatives.
  struct Key {
    std::uint32_t offset;
    std::uint32_t length;
    std::int32_t parent;
    std::uint32_t alts;  // into `alts`
  };
  AffixGate first_test;    // filled by seal()
  std::uint32_t skip = 0;  // the length of the prefix all keys share
  struct Group {
    std::uint32_t begin, end;  // into `keys`
  };
  // Groups of up to kLinearKeys keys are tested key by key, larger ones searched.
  static constexpr std::size_t kMaxGroupLength = 32, kLinearKeys = 8;
  std::uint32_t group_length = 0;    // 0: no groups (search() searches)
  FlatStringMap<Group> groups;       // by the keys' first group_length bytes
  std::vector<std::uint64_t> heads;  // per key
  std::vector<Key> keys;             // sorted, unique
  std::string bytes;                 // the keys' texts, packed
  std::vector<std::uint64_t> gate;   // the gate's words
  std::vector<AltList> alts;
  bool reversed = false;       // a suffix index: keys (and the values searched) are reversed
  std::string shared_forward;  // a suffix index's shared suffix, forwards (first_test.shared)
  std::vector<std::pair<std::string, std::uint32_t>> pending;  // filled by add(), sorted by seal()

  explicit AffixIndex(bool reversed_keys = false) : reversed(reversed_keys) {}
  void add(std::string_view key, std::uint32_t alt) {
    std::string k(key);
    if (reversed) std::reverse(k.begin(), k.end());
    pending.emplace_back(std::move(k), alt);
  }
  std::string_view key(std::size_t i) const {
    return {bytes.data() + keys[i].offset, keys[i].length};
  }
  static std::uint64_t head(std::string_view text, std::size_t from) {
    std::uint64_t h = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      std::uint64_t byte = from + i < text.size() ? static_cast<unsigned char>(text[from + i]) : 0;
      h = h << 8 | byte;
    }
    return h;
  }
  void seal() {
    std::sort(pending.begin(), pending.end());
    std::vector<std::string> texts;
    std::vector<std::int32_t> chain;
    for (auto& [text, alt] : pending) {
      if (!texts.empty() && texts.back() == text) {
        alts.back().push_back(alt);
        continue;
      }
      while (!chain.empty() && text.compare(0, texts[static_cast<std::size_t>(chain.back())].size(),
                                            texts[static_cast<std::size_t>(chain.back())]) != 0) {
        chain.pop_back();
      }
      keys.push_back(
          {0, 0, chain.empty() ? -1 : chain.back(), static_cast<std::uint32_t>(alts.size())});
      chain.push_back(static_cast<std::int32_t>(texts.size()));
      texts.push_back(std::move(text));
      alts.emplace_back().push_back(alt);
    }
    pending.clear();
    pending.shrink_to_fit();
    if (texts.empty()) return;
    // Sorted keys: the prefix all share is the one the first and the last share.
    const std::string& first = texts.front();
    const std::string& last = texts.back();
    std::size_t n = 0;
    while (n < first.size() && n < last.size() && first[n] == last[n]) ++n;
    skip = static_cast<std::uint32_t>(n);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      keys[i].offset = static_cast<std::uint32_t>(bytes.size());
      keys[i].length = static_cast<std::uint32_t>(texts[i].size());
      bytes += texts[i];
      heads.push_back(head(texts[i], n));
    }
    build_groups(texts);
    build_gate();
    first_test.skip = skip;
    if (reversed) {
      shared_forward.assign(bytes.data(), skip);
      std::reverse(shared_forward.begin(), shared_forward.end());
      first_test.shared = shared_forward.data();
    } else {
      first_test.shared = bytes.data();
    }
    first_test.gate_words = gate.empty() ? nullptr : gate.data();
  }
  void build_groups(const std::vector<std::string>& texts) {
    std::size_t shortest = texts.front().size();
    for (const std::string& text : texts) shortest = std::min(shortest, text.size());
    const std::size_t length = std::min(shortest, kMaxGroupLength);
    if (length <= skip) return;  // one group: no better than the search
    FlatStringMap<Group> built;
    for (std::size_t i = 0; i < texts.size();) {
      std::size_t end = i + 1;
      while (end < texts.size() && texts[end].compare(0, length, texts[i], 0, length) == 0) ++end;
      built.insert(std::string_view(texts[i]).substr(0, length)) = {
          static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(end)};
      i = end;
    }
    groups = std::move(built);
    group_length = static_cast<std::uint32_t>(length);
  }
  void build_gate() {
    std::size_t bits = 64;
    while (bits < keys.size() * 16) bits *= 2;
    gate.assign(bits / 64, 0);
    const auto shift = static_cast<std::uint16_t>(64 - __builtin_ctzll(bits));
    first_test.gate_shift = shift;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::size_t w = std::min<std::size_t>(keys[i].length - skip, 8);
      if (w == 0) {  // the shared prefix itself is a key: every value that gets this far passes
        gate.clear();
        first_test.window_lengths = 0;
        return;
      }
      first_test.window_lengths |= static_cast<std::uint16_t>(1u << w);
      std::uint64_t word = 0;
      std::memcpy(&word, bytes.data() + keys[i].offset + skip, w);
      const std::uint64_t bit = AffixGate::window_hash(word, w) >> shift;
      gate[bit / 64] |= 1ull << (bit % 64);
    }
  }
  // Looks up a value already prepared the way the keys are stored (reversed for suffix keys,
  // ASCII lower-cased) and let through by first_test (whose copy in FieldHot the caller
  // checks), calling emit(alts) for every key that is a prefix of it.
  template <class Emit>
  [[gnu::noinline]] void search(std::string_view value, Emit&& emit) const {
    if (keys.empty()) return;
    std::size_t lo = 0, hi = keys.size();  // the keys that may be prefixes of the value
    if (group_length != 0) {
      if (value.size() < group_length) return;
      const Group* group = groups.find(value.substr(0, group_length));
      if (!group) return;
      lo = group->begin;
      hi = group->end;
      if (hi - lo <= kLinearKeys) {
        for (std::size_t i = lo; i < hi; ++i) {
          const Key& k = keys[i];
          if (k.length <= value.size() &&
              bytes_equal(value.data() + group_length, bytes.data() + k.offset + group_length,
                          k.length - group_length)) {
            emit(alts[k.alts]);
          }
        }
        return;
      }
    }
    // The number of heads in [lo, hi) <= the value's (branch-free: the steps are unpredictable).
    const std::uint64_t h = head_at(value, skip);
    const std::uint64_t* base = heads.data() + lo;
    std::size_t n = hi - lo;
    while (n > 1) {
      std::size_t half = n / 2;
      base = base[half] <= h ? base + half : base;
      n -= half;
    }
    std::size_t upper = static_cast<std::size_t>(base - heads.data()) + (*base <= h ? 1 : 0);
    // Keys with a smaller head are smaller than the value and keys with a greater head are
    // greater; those with an equal head (just before `upper`) are compared in full.
    std::size_t low = upper;
    if (low >= lo + 8 && heads[low - 8] == h) {
      low = static_cast<std::size_t>(
          std::lower_bound(heads.begin() + static_cast<std::ptrdiff_t>(lo),
                           heads.begin() + static_cast<std::ptrdiff_t>(upper), h) -
          heads.begin());
    }
    while (low > lo && heads[low - 1] == h) --low;
    std::size_t high = upper;  // first key greater than the value, within [low, upper]
    while (low < high) {
      std::size_t mid = (low + high) / 2;
      std::string_view k = key(mid);
      std::size_t m = std::min(k.size(), value.size());
      std::size_t common = common_prefix(value.data(), k.data(), skip, m);
      bool less = common < m ? static_cast<unsigned char>(value[common]) <
                                   static_cast<unsigned char>(k[common])
                             : value.size() < k.size();
      if (less) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    // The keys that are prefixes of the value are the last key <= it and the chain of its
    // prefixes (within the group, as every prefix of a key in it is).
    if (low == lo) return;
    auto i = static_cast<std::int32_t>(low) - 1;
    std::string_view last = key(static_cast<std::size_t>(i));
    std::size_t common =
        common_prefix(value.data(), last.data(), skip, std::min(last.size(), value.size()));
    while (i >= 0) {
      const Key& k = keys[static_cast<std::size_t>(i)];
      if (k.length <= common) emit(alts[k.alts]);
      i = k.parent;
    }
  }
  // head() of a value, eight bytes at a time when it has them.
  static std::uint64_t head_at(std::string_view text, std::size_t from) {
    if (text.size() >= from + 8) {
      std::uint64_t w;
      std::memcpy(&w, text.data() + from, 8);
      return __builtin_bswap64(w);
    }
    return head(text, from);
  }
  bool empty() const { return keys.empty(); }
};

// A hash map of strings, with a mask of its keys' lengths that turns most values away unhashed.
struct ExactIndex {
  FlatStringMap<AltList> by_text;
  std::uint64_t lengths = 0;  // bit min(length, 63) for each key

  void add(const std::string& key, std::uint32_t alt) {
    by_text.insert(key).push_back(alt);
    lengths |= 1ull << std::min<std::size_t>(key.size(), 63);
  }
};

// The IP address each string value of the current event parses to, so that a value is parsed
// once however many cidr and IP-literal predicates test it (the index lookup, then every
// candidate's evaluation). Keyed by the address and length of the value's bytes, which lie in
// the parser's string buffer and do not move during one event; forgotten at every event. An
// event with many IP-tested values keeps only the first kMax (the others are parsed each time).
struct EventIps {
  static constexpr std::size_t kMax = 16;
  struct Entry {
    const char* data;
    std::size_t size;
    std::optional<IpAddress> ip;
  };
  std::array<Entry, kMax> entries;
  std::size_t count = 0;

  void clear() { count = 0; }
  // The parse of `text` (parse_ip), or nullptr when it is not an IP literal. The pointer is
  // valid until the next call.
  const IpAddress* get(std::string_view text) {
    for (std::size_t i = 0; i < count; ++i) {
      const Entry& e = entries[i];
      if (e.data == text.data() && e.size == text.size()) return e.ip ? &*e.ip : nullptr;
    }
    if (count == kMax) {
      overflow = parse_ip(text);
      return overflow ? &*overflow : nullptr;
    }
    Entry& e = entries[count++];
    e.data = text.data();
    e.size = text.size();
    e.ip = parse_ip(text);
    return e.ip ? &*e.ip : nullptr;
  }

 private:
  std::optional<IpAddress> overflow;
};

EventIps& event_ips() {
  thread_local EventIps ips;
  return ips;
}

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
  // The key of the network of `bits` that holds `ip`: its length, the prefix length and the
  // masked address, written to `out` (room for 18 bytes).
  static std::string_view key(const IpAddress& ip, int bits, char* out) {
    out[0] = static_cast<char>(ip.length);
    out[1] = static_cast<char>(bits);
    for (int i = 0; i < ip.length; ++i) {
      int keep = std::clamp(bits - i * 8, 0, 8);
      auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
      out[2 + i] = static_cast<char>(ip.bytes[static_cast<std::size_t>(i)] & mask);
    }
    return {out, static_cast<std::size_t>(2 + ip.length)};
  }
  static constexpr std::size_t kKeyRoom = 18;
  // False when the range is not one network (the caller then indexes it another way).
  bool add(const IpRange& r, std::uint32_t alt) {
    int bits = prefix_bits(r);
    if (bits < 0) return false;
    std::pair<std::uint8_t, std::uint8_t> shape{r.low.length, static_cast<std::uint8_t>(bits)};
    if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.push_back(shape);
    char k[kKeyRoom];
    by_network.insert(key(r.low, bits, k)).push_back(alt);
    return true;
  }
  template <class Emit>
  void lookup(std::string_view value, Emit&& emit) const {
    if (shapes.empty()) return;
    const IpAddress* ip = event_ips().get(value);
    if (!ip) return;
    char k[kKeyRoom];
    for (auto [length, bits] : shapes) {
      if (length != ip->length) continue;
      if (const AltList* alts = by_network.find(key(*ip, bits, k))) emit(*alts);
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
// alternatives than truly match (the full evaluation decides), never fewer: so the string
// indexes are keyed ASCII lower-case, and case-sensitive and ignore-case anchors share them
// (a value costs one lower-casing, one hash lookup and two binary searches, not six lookups);
// a candidate whose value differs only in case is dropped by the evaluation.
// The first tests of a string value against a field's exact, prefix and suffix indexes, copied
// side by side into one cache line: a value that meets no key costs this line and the words the
// tests themselves read (a table slot, a gate word), instead of the scattered headers of three
// indexes.
struct alignas(64) FieldHot {
  // May return extra alternatives (see find_by_hash), as every index may.
  FlatStringMap<AltList>::Lookup exact;
  AffixGate prefix, suffix;
};
static_assert(sizeof(FieldHot) == 64);

struct FieldIndex {
  // Filled once the indexes are sealed. It points into them (as their first tests do, a suffix
  // index's shared suffix possibly into its own string object), so a FieldIndex stays where it
  // was built.
  FieldHot hot;
  ExactIndex exact;  // exact strings, ASCII equals-ignore-case
  std::unordered_map<double, AltList> numbers;
  AltList on_true, on_false, on_null;
  AltList on_any;                   // exists, anything-but: any value
  AltList on_string;                // any string: wildcards without literal ends, non-ASCII ci
  IpIndex ips;                      // cidr, IP literals
  AffixIndex prefix, suffix{true};  // with their ASCII ignore-case forms
  RangeIndex ranges;
};

// What a field's index holds, in 16 bytes per field kept side by side: every value of an
// indexed field reads this first, and touches only the parts of its (much larger, scattered)
// FieldIndex that can find something, instead of testing each part for emptiness there.
struct FieldProbe {
  enum : std::uint32_t {
    kAny = 1,
    kString = 2,
    kExact = 4,
    kPrefix = 8,
    kSuffix = 16,
    kIp = 32,
    kNumber = 64,
    kRange = 128,
    kTrue = 256,
    kFalse = 512,
    kNull = 1024,
  };
  std::uint32_t kinds = 0;
  // Bit min(length, 63) is set when an exact key has that length: most values whose length no
  // key has are never hashed.
  std::uint64_t exact_lengths = 0;

  static FieldProbe of(const FieldIndex& fi) {
    FieldProbe p;
    auto set = [&p](bool on, std::uint32_t kind) { p.kinds |= on ? kind : 0; };
    set(!fi.on_any.empty(), kAny);
    set(!fi.on_string.empty(), kString);
    set(!fi.exact.by_text.empty(), kExact);
    set(!fi.prefix.empty(), kPrefix);
    set(!fi.suffix.empty(), kSuffix);
    set(!fi.ips.shapes.empty(), kIp);
    set(!fi.numbers.empty(), kNumber);
    set(!fi.ranges.empty(), kRange);
    set(!fi.on_true.empty(), kTrue);
    set(!fi.on_false.empty(), kFalse);
    set(!fi.on_null.empty(), kNull);
    p.exact_lengths = fi.exact.lengths;
    return p;
  }
  bool may_hold_exact(std::size_t length) const {
    return exact_lengths >> std::min<std::size_t>(length, 63) & 1;
  }
};

std::string lowered(std::string_view text) {
  std::string out;
  ascii_lower(text, out);
  return out;
}

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
      // A long prefix or suffix is nearly as specific as a whole value, a short one is not.
      return 1 + 16.0 / static_cast<double>(std::max<std::size_t>(p.text.size(), 8));
    case PredKind::kWildcard:
      return 4;
    case PredKind::kCidr: {
      // By the share of the address space the range covers: a /24 is far narrower than a /8.
      const double bits = p.ip.low.length * 8.0;
      const int prefix = IpIndex::prefix_bits(p.ip);
      return 1 + 3 * (prefix < 0 ? 1.0 : (bits - prefix) / bits);
    }
    case PredKind::kNumericRange:
      // A range bounded on both sides is far narrower than one open on a side.
      return std::isinf(p.range.low) || std::isinf(p.range.high) ? 6 : 2;
    default:
      return 30;  // exists, anything-but
  }
}

// The expected share of events that meet a predicate, roughly, for choosing anchors: rules'
// values stand for the events' (a value many rules on a field name, like a region or a source,
// is common in events; a value one rule in hundreds on that field names, like an id, is rare),
// scaled by the kind's weight, and lowered for texts with many digits (ids, accounts,
// addresses). A field few rules name tells little: kFieldPrior counts as that many more values
// on every field, so that one value among two rules on a field is not taken for a common one
// (it made a source, which a ninth of the rules name, look the better anchor than a /24).
constexpr double kFieldPrior = 8;
double predicate_cost(const Predicate& p, std::uint32_t shared, std::uint32_t field_total) {
  double share = (shared + 1.0) / (field_total + kFieldPrior);
  std::size_t digits = 0;
  for (char c : p.text) digits += c >= '0' && c <= '9';
  for (const WildcardGlob& g : p.globs) {
    for (const std::string& piece : g.pieces) {
      for (char c : piece) digits += c >= '0' && c <= '9';
    }
  }
  return predicate_weight(p) * share / (1.0 + 0.25 * static_cast<double>(digits));
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
  // Copies of every condition, laid out alternative after alternative, for the full search.
  std::vector<Condition> conditions;
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

namespace {

// Appends one alternative's compact form to `blob`.
void append_compact(std::vector<std::uint64_t>& blob, AltHeader header,
                    const std::vector<std::pair<std::uint32_t, const Condition*>>& ordered) {
  std::vector<PredCell> preds;
  std::string text;
  std::size_t pred_count = 0;
  for (const auto& [field, c] : ordered) pred_count += c->predicates.size();
  const std::size_t preds_at = predicates_offset(ordered.size());
  const std::size_t text_base = preds_at + pred_count * sizeof(PredCell);
  std::vector<CondCell> conds;
  for (const auto& [field, c] : ordered) {
    conds.push_back({field, static_cast<std::uint32_t>(c->predicates.size()), c->has_absent});
    for (const Predicate& p : c->predicates) {
      PredCell cell{};
      cell.kind = p.kind;
      cell.full = &p;
      switch (p.kind) {
        case PredKind::kPrefixCi:
        case PredKind::kSuffixCi:
        case PredKind::kEqualsCi:
          cell.text_offset = text_base + text.size();
          cell.text_length = static_cast<std::uint32_t>(p.text.size());
          cell.ascii_ci = is_ascii(p.text);
          if (cell.ascii_ci) {
            std::string lower;
            ascii_lower(p.text, lower);
            text += lower;
          } else {
            text += p.text;
          }
          break;
        case PredKind::kExactString:
        case PredKind::kPrefix:
        case PredKind::kSuffix:
          cell.text_offset = text_base + text.size();
          cell.text_length = static_cast<std::uint32_t>(p.text.size());
          text += p.text;
          break;
        case PredKind::kExactNumber:
          cell.low = p.number;
          break;
        case PredKind::kNumericRange:
          cell.low = p.range.low;
          cell.high = p.range.high;
          cell.low_open = p.range.low_open;
          cell.high_open = p.range.high_open;
          break;
        default:
          break;
      }
      preds.push_back(cell);
    }
  }
  header.count = static_cast<std::uint32_t>(ordered.size());
  const std::size_t bytes = text_base + text.size();
  const std::size_t first = blob.size();
  blob.resize(first + (bytes + 7) / 8, 0);
  auto* base = reinterpret_cast<std::byte*>(blob.data() + first);
  new (base) AltHeader(header);
  auto* cond_at = base + sizeof(AltHeader);
  for (const CondCell& c : conds) {
    new (cond_at) CondCell(c);
    cond_at += sizeof(CondCell);
  }
  auto* pred_at = base + preds_at;
  for (const PredCell& p : preds) {
    new (pred_at) PredCell(p);
    pred_at += sizeof(PredCell);
  }
  std::memcpy(pred_at, text.data(), text.size());
}

}  // namespace

void MatcherData::index(std::uint32_t field, const Predicate& p, std::uint32_t alt) {
  FieldIndex& fi = fields[field];
  switch (p.kind) {
    case PredKind::kExactString:
      fi.exact.add(lowered(p.text), alt);
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
      fi.prefix.add(lowered(p.text), alt);
      break;
    case PredKind::kSuffix:
      fi.suffix.add(lowered(p.text), alt);
      break;
    case PredKind::kPrefixCi:
    case PredKind::kSuffixCi:
    case PredKind::kEqualsCi: {
      if (!is_ascii(p.text)) {
        fi.on_string.push_back(alt);
      } else if (p.kind == PredKind::kEqualsCi) {
        fi.exact.add(lowered(p.text), alt);
      } else if (p.kind == PredKind::kPrefixCi) {
        fi.prefix.add(lowered(p.text), alt);
      } else {
        fi.suffix.add(lowered(p.text), alt);
      }
      break;
    }
    case PredKind::kWildcard: {
      const WildcardGlob& glob = p.globs.front();
      if (glob.pieces.size() == 1) {
        fi.exact.add(lowered(glob.pieces[0]), alt);
      } else if (!glob.pieces.front().empty() &&
                 glob.pieces.front().size() >= glob.pieces.back().size()) {
        fi.prefix.add(lowered(glob.pieces.front()), alt);
      } else if (!glob.pieces.back().empty()) {
        fi.suffix.add(lowered(glob.pieces.back()), alt);
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

void MatcherData::build() {
  // Bind every condition to this matcher's fields, and count how many alternatives share each
  // predicate: a shared predicate (say source = aws.guardduty) is a poor anchor.
  std::unordered_map<std::string, std::uint32_t> shared;
  std::vector<std::uint32_t> field_total;  // predicates on each field, all rules together
  std::size_t total = 0;
  for (const Pattern& pattern : patterns) {
    for (const Alternative& alt : pattern.data().tree.alternatives) total += alt.conditions.size();
  }
  conditions.reserve(total);  // no reallocation: `bound` points into it
  struct Entry {
    std::uint32_t pattern, begin, count;
  };
  std::vector<Entry> entries;
  for (std::uint32_t pi = 0; pi < patterns.size(); ++pi) {
    for (const Alternative& alt : patterns[pi].data().tree.alternatives) {
      entries.push_back({pi, static_cast<std::uint32_t>(bound.size()),
                         static_cast<std::uint32_t>(alt.conditions.size())});
      for (const Condition& c : alt.conditions) {
        std::uint32_t field = trie.add(c.path);
        conditions.push_back(c);
        bound.push_back({field, &conditions.back()});
        for (const Predicate& p : c.predicates) ++shared[predicate_key(field, p)];
        if (field_total.size() <= field) field_total.resize(field + 1, 0);
        field_total[field] += static_cast<std::uint32_t>(c.predicates.size());
      }
    }
  }
  fields.resize(trie.field_count());
  for (std::uint32_t ai = 0; ai < entries.size(); ++ai) {
    const Entry& entry = entries[ai];
    AltHeader header{};
    header.pattern = entry.pattern;
    header.bound_begin = entry.begin;
    header.guard_field = kNone;
    const BoundCondition* anchor = nullptr;
    double best = 0;
    std::vector<std::pair<double, std::uint32_t>> order;  // (cost, condition)
    for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
      const BoundCondition& bc = bound[ci];
      double cost = 0;
      for (const Predicate& p : bc.condition->predicates) {
        cost += predicate_cost(p, shared[predicate_key(bc.field, p)], field_total[bc.field]);
      }
      order.emplace_back(cost, ci);
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
    if (!anchor) {
      always.push_back(ai);
    } else {
      for (const Predicate& p : anchor->condition->predicates) index(anchor->field, p, ai);
      std::uint32_t guard_shared = 0;
      for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
        const BoundCondition& bc = bound[ci];
        const auto& predicates = bc.condition->predicates;
        if (&bc == anchor || predicates.size() != 1 ||
            predicates[0].kind != PredKind::kExactString) {
          continue;
        }
        std::uint32_t count = shared[predicate_key(bc.field, predicates[0])];
        if (header.guard_field == kNone || count < guard_shared) {
          header.guard_field = bc.field;
          header.guard_hash = hash_bytes(predicates[0].text);
          guard_shared = count;
        }
      }
    }
    std::vector<std::pair<std::uint32_t, const Condition*>> ordered;
    for (const auto& [cost, ci] : order) ordered.emplace_back(bound[ci].field, bound[ci].condition);
    alt_word.push_back(static_cast<std::uint32_t>(blob.size()));
    append_compact(blob, header, ordered);
  }
  for (FieldIndex& fi : fields) {
    for (AffixIndex* affix : {&fi.prefix, &fi.suffix}) affix->seal();
    fi.hot = {fi.exact.by_text.lookup(), fi.prefix.first_test, fi.suffix.first_test};
    auto by_value = [](const Bound& a, const Bound& b) { return a.value < b.value; };
    std::sort(fi.ranges.lower_only.begin(), fi.ranges.lower_only.end(), by_value);
    std::sort(fi.ranges.upper_only.begin(), fi.ranges.upper_only.end(), by_value);
    std::sort(fi.ranges.both.begin(), fi.ranges.both.end());
    probes.push_back(FieldProbe::of(fi));
  }
}

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
