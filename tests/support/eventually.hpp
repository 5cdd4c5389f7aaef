#pragma once
// Waiting for something another thread or process does, without assuming how fast this (shared,
// noisy) machine is: poll until true, with a deadline far beyond any healthy run.

#include <chrono>
#include <thread>

namespace eventrouter::testing {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace eventrouter::testing
