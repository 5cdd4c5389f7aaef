#pragma once
// A concurrency limit with a first-come, first-served waiting line: at most `limit` items hold
// a slot at once; the others wait, in arrival order, and each freed slot passes straight to the
// oldest waiting item. Not synchronised: the owner calls it under its own lock.

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace eventrouter::targets {

template <class Item>
class FifoSlots {
 public:
  explicit FifoSlots(std::size_t limit) : limit_(limit < 1 ? 1 : limit) {}

  // True: `item` holds a slot now. False: it waits (kept here) until a slot passes to it.
  bool admit(Item item) {
    if (running_ < limit_) {
      ++running_;
      return true;
    }
    waiting_.push_back(std::move(item));
    return false;
  }

  // Frees one slot. When an item is waiting, the slot passes to it at once and it is returned:
  // the caller starts it.
  std::optional<Item> release() {
    if (!waiting_.empty()) {
      Item next = std::move(waiting_.front());
      waiting_.pop_front();
      return next;
    }
    if (running_ > 0) --running_;
    return std::nullopt;
  }

  // Takes every waiting item out, oldest first (shutdown); none of them got a slot.
  std::vector<Item> take_waiting() {
    std::vector<Item> out(std::make_move_iterator(waiting_.begin()),
                          std::make_move_iterator(waiting_.end()));
    waiting_.clear();
    return out;
  }

  std::size_t limit() const { return limit_; }
  std::size_t running() const { return running_; }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  std::size_t limit_;
  std::size_t running_ = 0;
  std::deque<Item> waiting_;
};

}  // namespace eventrouter::targets
