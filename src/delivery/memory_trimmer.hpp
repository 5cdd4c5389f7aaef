#pragma once
// Gives memory back to the system once a backlog has drained. glibc keeps what a backlog freed
// for reuse, so a daemon that once held a large backlog would stay that large; malloc_trim
// returns it. It runs on a thread of its own, never on an I/O thread while it serves, and only
// after pending deliveries held at least `backlog` bytes and then fell to an eighth of their
// peak or less (not to none: one delivery whose backoff reached minutes would keep the rest
// of the freed memory until it ends).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace eventrouter::delivery {

class MemoryTrimmer {
 public:
  static constexpr std::chrono::milliseconds kCheckEvery{250};

  // `held`: the bytes pending deliveries hold now.
  MemoryTrimmer(std::function<std::uint64_t()> held, std::uint64_t backlog);
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

 private:
  void run();

  std::function<std::uint64_t()> held_;
  const std::uint64_t backlog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eventrouter::delivery
