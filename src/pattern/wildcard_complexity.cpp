#include "wildcard_complexity.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <deque>
#include <unordered_set>

namespace eventrouter::pattern::detail {
namespace {

// A glob as a token list: a byte (0-255) or a star. The prefix that has consumed the first j
// tokens is "state j" of the glob (j >= 1; the empty prefix is not counted, as in event-ruler).
constexpr int kStar = -1;
constexpr int kOtherByte = -2;  // stands for every byte no token of the current prefixes names

// The prefixes one input can be in at once: (glob << 32 | j), sorted, distinct.
using PrefixSet = std::vector<std::uint64_t>;

struct PrefixSetHash {
  std::size_t operator()(const PrefixSet& set) const {
    std::uint64_t h = set.size();
    for (std::uint64_t s : set) h = (h ^ s) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ h >> 29);
  }
};

std::uint64_t prefix_key(std::uint32_t glob, std::uint32_t consumed) {
  return std::uint64_t{glob} << 32 | consumed;
}

class Evaluator {
 public:
  explicit Evaluator(const std::vector<const WildcardGlob*>& globs) {
    for (std::uint32_t g = 0; g < globs.size(); ++g) {
      std::vector<int> tokens;
      const auto& pieces = globs[g]->pieces;
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        for (char c : pieces[i]) tokens.push_back(static_cast<unsigned char>(c));
        if (i + 1 < pieces.size()) tokens.push_back(kStar);
      }
      tokens_.push_back(std::move(tokens));
      const std::vector<int>& t = tokens_.back();
      if (t.empty()) continue;  // "" matches only the empty string: no prefix to be in
      if (t[0] == kStar) {
        initial_.push_back(prefix_key(g, 1));  // a leading '*' has matched the empty string
      } else {
        first_byte_[static_cast<std::size_t>(t[0])].push_back(g);
      }
    }
    std::sort(initial_.begin(), initial_.end());
  }

  WildcardComplexity run(std::size_t cap, std::size_t max_work) {
    WildcardComplexity result;
    std::unordered_set<PrefixSet, PrefixSetHash> seen;
    std::deque<PrefixSet> queue;
    // The first byte is special only in that globs that start with a literal begin there.
    bool initial = true;
    PrefixSet current = initial_;
    for (;;) {
      // The bytes that take some prefix further; any other byte only keeps the '*' prefixes.
      std::bitset<256> named;
      std::vector<int> bytes;
      auto name = [&](std::size_t b) {
        if (!named[b]) bytes.push_back(static_cast<int>(b));
        named.set(b);
      };
      for (std::uint64_t s : current) {
        const auto [g, j] = split(s);
        const std::vector<int>& t = tokens_[g];
        if (j < t.size() && t[j] != kStar) name(static_cast<std::size_t>(t[j]));
      }
      if (initial) {
        for (std::size_t b = 0; b < first_byte_.size(); ++b) {
          if (!first_byte_[b].empty()) name(b);
        }
      }
      if (bytes.size() < named.size()) bytes.push_back(kOtherByte);
      for (int byte : bytes) {
        PrefixSet next = step(current, byte, initial);
        work_ += current.size() + next.size();
        if (next.size() > result.value) result.value = next.size();
        if (result.value > cap) {
          result.value = cap + 1;
          return result;
        }
        if (work_ > max_work) {
          result.out_of_work = true;
          return result;
        }
        if (!next.empty() && seen.insert(next).second) queue.push_back(std::move(next));
      }
      if (queue.empty()) return result;
      current = std::move(queue.front());
      queue.pop_front();
      initial = false;
    }
  }

 private:
  static std::pair<std::uint32_t, std::uint32_t> split(std::uint64_t s) {
    return {static_cast<std::uint32_t>(s >> 32), static_cast<std::uint32_t>(s)};
  }

  // Enters state j of glob g, and the state after the '*' that follows it, if one does: the
  // '*' matches the empty string (event-ruler counts "foo*" wherever "foo" is reached).
  void enter(std::uint32_t g, std::uint32_t j, PrefixSet& out) const {
    out.push_back(prefix_key(g, j));
    const std::vector<int>& t = tokens_[g];
    if (j < t.size() && t[j] == kStar) out.push_back(prefix_key(g, j + 1));
  }

  // The prefixes in after one more byte.
  PrefixSet step(const PrefixSet& from, int byte, bool initial) const {
    PrefixSet out;
    for (std::uint64_t s : from) {
      const auto [g, j] = split(s);
      const std::vector<int>& t = tokens_[g];
      if (t[j - 1] == kStar) out.push_back(s);  // a '*' takes any byte and stays
      if (j < t.size() && t[j] == byte) enter(g, j + 1, out);
    }
    if (initial && byte >= 0) {
      for (std::uint32_t g : first_byte_[static_cast<std::size_t>(byte)]) enter(g, 1, out);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::vector<std::vector<int>> tokens_;
  std::array<std::vector<std::uint32_t>, 256> first_byte_;
  PrefixSet initial_;
  std::size_t work_ = 0;
};

}  // namespace

WildcardComplexity wildcard_complexity(const std::vector<const WildcardGlob*>& globs,
                                       std::size_t cap, std::size_t max_work) {
  return Evaluator(globs).run(cap, max_work);
}

}  // namespace eventrouter::pattern::detail
