#include "memory_trimmer.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

namespace eventrouter::delivery {

namespace {

// This process's resident memory in KiB (VmRSS), or 0 where /proc does not say.
std::uint64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

}  // namespace

MemoryTrimmer::MemoryTrimmer(std::function<std::uint64_t()> held, std::uint64_t backlog)
    : held_(std::move(held)), backlog_(backlog), thread_([this] { run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void MemoryTrimmer::run() {
  std::uint64_t peak = 0;  // the most pending deliveries held since the last trim
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kCheckEvery, [this] { return stop_; })) {
    const auto held = held_();
    peak = std::max(peak, held);
    if (peak == 0 || peak < backlog_ || held > peak / 8) continue;
    lock.unlock();
    const auto before = resident_kib();
    malloc_trim(0);
    const auto after = resident_kib();
    spdlog::debug(
        "the backlog drained (it held up to {} MiB, now {} MiB): malloc_trim gave memory back, "
        "resident {} MiB -> {} MiB",
        peak >> 20, held >> 20, before >> 10, after >> 10);
    peak = held;
    lock.lock();
  }
}

}  // namespace eventrouter::delivery
