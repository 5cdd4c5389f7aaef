#pragma once
// One rule's dedup memory: which keys fired when, and with which refire values. A key is the
// SHA-256 of its values, so an entry has a fixed size whatever the event holds. At most
// `max_keys` entries: past that the oldest is evicted (the caller counts it). Not thread-safe;
// the caller holds the rule's lock.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <list>
#include <optional>
#include <unordered_map>

namespace eventrouter::delivery {

using DedupHash = std::array<unsigned char, 32>;

struct DedupHashHasher {
  std::size_t operator()(const DedupHash& hash) const noexcept {
    std::size_t out = 0;  // a SHA-256 is uniform already: its first bytes are a good hash
    std::memcpy(&out, hash.data(), sizeof out);
    return out;
  }
};

class DedupTable {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  enum class Verdict { kFirst, kRefire, kSuppress };
  struct Outcome {
    Verdict verdict = Verdict::kFirst;
    std::optional<DedupHash> evicted;  // a live key dropped to stay within max_keys
    std::uint64_t generation = 0;      // what forget() needs to undo this firing
  };

  explicit DedupTable(std::size_t max_keys) : max_keys_(max_keys) {}

  // A match with `key` and `refire` values at `now`: suppressed when the key fired less than
  // `window` ago with the same refire values; otherwise it fires and its window restarts.
  Outcome decide(const DedupHash& key, const DedupHash& refire, TimePoint now,
                 std::chrono::milliseconds window);
  // Undoes the firing of `generation` (its batch was not recorded), unless the key fired again
  // since: the next match of the key fires rather than being suppressed for a lost delivery.
  void forget(const DedupHash& key, std::uint64_t generation);
  // Puts back a key that fired at `fired_at` (at start, from the store; oldest first, so that
  // expiry and eviction stay oldest first). Keys already expired at `now` are skipped.
  void restore(const DedupHash& key, const DedupHash& refire, TimePoint fired_at, TimePoint now,
               std::chrono::milliseconds window);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    DedupHash refire;
    TimePoint fired_at;
    std::uint64_t generation;
    std::list<DedupHash>::iterator position;  // in order_
  };
  // Drops entries whose window is over, oldest first (order_ is by firing time).
  void expire(TimePoint now, std::chrono::milliseconds window);
  void insert(const DedupHash& key, const DedupHash& refire, TimePoint fired_at,
              std::optional<DedupHash>* evicted);

  std::size_t max_keys_;
  std::uint64_t next_generation_ = 1;
  std::unordered_map<DedupHash, Entry, DedupHashHasher> entries_;
  std::list<DedupHash> order_;  // oldest firing first
};

}  // namespace eventrouter::delivery
