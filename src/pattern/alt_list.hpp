#pragma once
// The list of alternatives an index entry leads to.

#include <cstdint>
#include <vector>

namespace eventrouter::pattern::detail {

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

}  // namespace eventrouter::pattern::detail
