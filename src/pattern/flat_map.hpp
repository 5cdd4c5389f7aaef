#pragma once
// A string-keyed hash table with open addressing, keys packed in one buffer: a lookup is one
// hash, one or two probes into a flat array and one comparison, with no per-node allocation.
// Built once (insert), then only read (find).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::pattern::detail {

// Byte equality of two short strings of length n, without a call: overlapping 8- or 4-byte
// loads.
[[gnu::always_inline]] inline bool bytes_equal(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    std::uint64_t x, y;
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    std::uint32_t x, y, u, v;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    std::memcpy(&u, a + n - 4, 4);
    std::memcpy(&v, b + n - 4, 4);
    return x == y && u == v;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// ASCII lower-casing of eight bytes: a byte is an upper-case letter when its low seven bits are
// in 'A'..'Z' and its top bit is clear; such bytes get 0x20 added.
inline std::uint64_t lower_word(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  std::uint64_t low7 = w & (kOnes * 0x7f);
  std::uint64_t ge_a = low7 + kOnes * (0x80 - 'A');
  std::uint64_t gt_z = low7 + kOnes * (0x7f - 'Z');
  return w | (((ge_a ^ gt_z) & ~w & (kOnes * 0x80)) >> 2);
}

// Whether `value` (n bytes) equals `lower` (n bytes, ASCII lower-case) ignoring ASCII case.
inline bool equals_ascii_ci(const char* value, const char* lower, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, value + i, 8);
    std::memcpy(&y, lower + i, 8);
    if (lower_word(x) != y) return false;
  }
  for (; i < n; ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}

// A fast hash for the short keys and values looked up on every event (8 bytes at a time), in
// three steps so that a caller already reading a value word by word can hash it on the way:
// hash_start(size), hash_word() for each whole 8-byte word, hash_finish() with the 0-7 bytes
// left.
inline std::uint64_t hash_mix(std::uint64_t x) {
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 29;
  return x;
}
inline std::uint64_t hash_start(std::size_t size) {
  return 0x9E3779B97F4A7C15ull ^ (size * 0xff51afd7ed558ccdull);
}
// Per word only a multiply and a rotation (both bijective, so no word's bits are lost);
// hash_finish mixes the whole.
inline std::uint64_t hash_word(std::uint64_t h, std::uint64_t word) {
  const std::uint64_t x = (h ^ word) * 0x94d049bb133111ebull;
  return x << 29 | x >> 35;
}
inline std::uint64_t hash_finish(std::uint64_t h, const char* p, std::size_t n) {
  // The last 0-7 bytes, read as at most two overlapping loads (no call to memcpy).
  std::uint64_t tail = 0;
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    tail = static_cast<std::uint64_t>(a) << 32 | b;
  } else if (n > 0) {
    tail = static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) << 16 |
           static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
           static_cast<unsigned char>(p[n - 1]);
  }
  return hash_mix(h ^ tail ^ (static_cast<std::uint64_t>(n) << 56));
}
inline std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t h = hash_start(s.size());
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = hash_word(h, w);
  }
  return hash_finish(h, p, n);
}

template <class V>
class FlatStringMap {
 public:
  // The value for `key`, default-constructed when new. The reference is valid until the next
  // insert.
  V& insert(std::string_view key) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::uint64_t h = hash_bytes(key);
    Slot& slot = slots_[slot_of(key, h)];
    if (!slot.used) {
      slot.hash = h;
      slot.offset = static_cast<std::uint32_t>(bytes_.size());
      slot.length = static_cast<std::uint32_t>(key.size());
      slot.used = true;
      bytes_.append(key);
      ++count_;
    }
    return slot.value;
  }
  const V* find(std::string_view key) const {
    if (count_ == 0) return nullptr;
    const Slot& slot = slots_[slot_of(key, hash_bytes(key))];
    return slot.used ? &slot.value : nullptr;
  }
  // What Lookup::find_by_hash() reads of the map itself (16 bytes), for keeping it beside the
  // data a caller reads with it. Valid while the map is not changed.
  class Lookup;
  Lookup lookup() const;
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    bool used = false;
    V value{};
  };

  // The slot holding `key`, or the empty slot where it would go.
  std::size_t slot_of(std::string_view key, std::uint64_t h) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.used) return i;
      if (s.hash == h && s.length == key.size() &&
          bytes_equal(bytes_.data() + s.offset, key.data(), key.size())) {
        return i;
      }
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.clear();
    slots_.resize(old.empty() ? 8 : old.size() * 2);
    std::size_t mask = slots_.size() - 1;
    for (Slot& s : old) {
      if (!s.used) continue;
      std::size_t i = s.hash & mask;
      while (slots_[i].used) i = (i + 1) & mask;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  std::string bytes_;
  std::size_t count_ = 0;
};

template <class V>
class FlatStringMap<V>::Lookup {
 public:
  // Like find(), but takes equal 64-bit hashes and lengths for equal keys without comparing the
  // bytes (one cache line per lookup instead of two): with negligible probability it returns
  // another key's value, so it serves only callers that tolerate extra results.
  // `h` is hash_bytes(key).
  const V* find_by_hash(std::string_view key, std::uint64_t h) const {
    if (!slots_) return nullptr;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.hash == h && s.length == key.size()) return &s.value;
    }
  }

 private:
  friend class FlatStringMap;
  const Slot* slots_ = nullptr;  // null: the map is empty
  std::size_t mask_ = 0;
};

template <class V>
typename FlatStringMap<V>::Lookup FlatStringMap<V>::lookup() const {
  Lookup l;
  if (count_ != 0) {
    l.slots_ = slots_.data();
    l.mask_ = slots_.size() - 1;
  }
  return l;
}

}  // namespace eventrouter::pattern::detail
