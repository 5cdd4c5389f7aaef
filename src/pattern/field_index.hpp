#pragma once
// The value indexes of one field of the bus matcher, which hold its rules' anchor conditions,
// and the few words of them every value of the field reads first.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "affix_index.hpp"
#include "alt_list.hpp"
#include "flat_map.hpp"
#include "predicates.hpp"

namespace eventrouter::pattern::detail {

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

inline EventIps& event_ips() {
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

// The value indexes of one field, holding only anchor conditions. Lookups may return more
// alternatives than truly match (the full evaluation decides), never fewer: so the string
// indexes are keyed ASCII lower-case, and case-sensitive and ignore-case anchors share them
// (a value costs one lower-casing, one hash lookup and two binary searches, not six lookups);
// a candidate whose value differs only in case is dropped by the evaluation.
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

// The key of a number in an index: -0 and 0 are one number.
inline double canonical(double v) {
  return v == 0 ? 0.0 : v;
}

}  // namespace eventrouter::pattern::detail
