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

// A fast hash for the short keys and values looked up on every event (8 bytes at a time).
inline std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xff51afd7ed558ccdull);
  const char* p = s.data();
  std::size_t n = s.size();
  auto mix = [](std::uint64_t x) {
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
  };
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h ^ w) * 0x94d049bb133111ebull;
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  if (n > 0) std::memcpy(&tail, p, n);
  return mix(h ^ tail ^ (static_cast<std::uint64_t>(n) << 56));
}

template <class V>
class FlatStringMap {
 public:
  // The value for `key`, default-constructed when new.
  V& insert(std::string_view key) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::uint64_t h = hash_bytes(key);
    std::size_t i = slot_of(key, h);
    if (slots_[i].value == kEmpty) {
      slots_[i] = {h, static_cast<std::uint32_t>(bytes_.size()),
                   static_cast<std::uint32_t>(key.size()),
                   static_cast<std::uint32_t>(values_.size())};
      bytes_.append(key);
      values_.emplace_back();
      ++count_;
    }
    return values_[slots_[i].value];
  }
  const V* find(std::string_view key) const {
    if (count_ == 0) return nullptr;
    std::size_t i = slot_of(key, hash_bytes(key));
    return slots_[i].value == kEmpty ? nullptr : &values_[slots_[i].value];
  }
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t value = kEmpty;
  };

  // The slot holding `key`, or the empty slot where it would go.
  std::size_t slot_of(std::string_view key, std::uint64_t h) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return i;
      if (s.hash == h && s.length == key.size() &&
          std::memcmp(bytes_.data() + s.offset, key.data(), key.size()) == 0) {
        return i;
      }
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 8 : old.size() * 2, Slot{});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.value == kEmpty) continue;
      std::size_t i = s.hash & mask;
      while (slots_[i].value != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string bytes_;
  std::vector<V> values_;
  std::size_t count_ = 0;
};

}  // namespace eventrouter::pattern::detail
