#pragma once
// What pending deliveries hold in memory, so that delivery.max_pending_bytes can bound it in
// every durability mode. A Charge adds its bytes to the total while the state it belongs to
// lives and takes them back when that state is destroyed, so the total follows the memory
// itself: an event's text is counted once however many deliveries share it, and whatever a
// refused batch planned is given back with the batch.

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

namespace eventrouter::delivery {

class PendingBytes {
 public:
  // What one pending delivery and one event hold beyond the event's text. Measured with
  // heaptrack on a backlog of webhook deliveries waiting for retries (GuardDuty finding,
  // 2.6 KB): an Attempt (128 B), a retry timer with its handler and the failure it keeps (about
  // 240 B), a node in the set of waiting timers, the error text; an EventState with its control
  // block and field strings (about 300 B). Then raised until the total followed resident
  // memory (5.4 KB per pending delivery of such findings, 57,515 of them, in
  // `durability: none`): the allocator's headers and spare capacity are the rest.
  static constexpr std::uint64_t kPerDelivery = 896;
  static constexpr std::uint64_t kPerEvent = 640;

  class Charge {
   public:
    Charge() = default;
    Charge(std::shared_ptr<std::atomic<std::uint64_t>> total, std::uint64_t bytes)
        : total_(std::move(total)), bytes_(bytes) {
      total_->fetch_add(bytes_);
    }
    Charge(Charge&& other) noexcept
        : total_(std::move(other.total_)), bytes_(std::exchange(other.bytes_, 0)) {}
    Charge& operator=(Charge&& other) noexcept {
      if (this != &other) {
        release();
        total_ = std::move(other.total_);
        bytes_ = std::exchange(other.bytes_, 0);
      }
      return *this;
    }
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() { release(); }

    bool charged() const { return total_ != nullptr; }
    void release() {
      if (total_) total_->fetch_sub(bytes_);
      total_.reset();
      bytes_ = 0;
    }

   private:
    // Shared: a charge may outlive the engine in a handler destroyed late.
    std::shared_ptr<std::atomic<std::uint64_t>> total_;
    std::uint64_t bytes_ = 0;
  };

  Charge charge(std::uint64_t bytes) { return Charge(total_, bytes); }
  std::uint64_t held() const { return total_->load(); }

 private:
  std::shared_ptr<std::atomic<std::uint64_t>> total_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace eventrouter::delivery
