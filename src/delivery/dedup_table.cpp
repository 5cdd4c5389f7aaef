#include "dedup_table.hpp"

namespace eventrouter::delivery {

DedupTable::Outcome DedupTable::decide(const DedupHash& key, const DedupHash& refire, TimePoint now,
                                       std::chrono::milliseconds window) {
  expire(now, window);
  Outcome outcome;
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second.refire == refire) {
      outcome.verdict = Verdict::kSuppress;
      return outcome;
    }
    // Changed where it matters: fires again, and its window starts over.
    outcome.verdict = Verdict::kRefire;
    order_.erase(it->second.position);
    entries_.erase(it);
  }
  insert(key, refire, now, &outcome.evicted);
  outcome.generation = entries_.at(key).generation;
  return outcome;
}

void DedupTable::forget(const DedupHash& key, std::uint64_t generation) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.generation != generation) return;
  order_.erase(it->second.position);
  entries_.erase(it);
}

void DedupTable::restore(const DedupHash& key, const DedupHash& refire, TimePoint fired_at,
                         TimePoint now, std::chrono::milliseconds window) {
  if (fired_at + window <= now || entries_.contains(key)) return;
  std::optional<DedupHash> evicted;  // restored oldest first: the oldest make room
  insert(key, refire, fired_at, &evicted);
}

void DedupTable::expire(TimePoint now, std::chrono::milliseconds window) {
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    if (it->second.fired_at + window > now) break;
    entries_.erase(it);
    order_.pop_front();
  }
}

void DedupTable::insert(const DedupHash& key, const DedupHash& refire, TimePoint fired_at,
                        std::optional<DedupHash>* evicted) {
  if (entries_.size() >= max_keys_ && !order_.empty()) {
    *evicted = order_.front();
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{refire, fired_at, next_generation_++, std::prev(order_.end())});
}

}  // namespace eventrouter::delivery
