#pragma once
// The prefix and suffix indexes of the bus matcher: sorted keys behind a Bloom-filter gate,
// grouped by their first bytes.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alt_list.hpp"
#include "flat_event.hpp"
#include "flat_map.hpp"

namespace eventrouter::pattern::detail {

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

}  // namespace eventrouter::pattern::detail
