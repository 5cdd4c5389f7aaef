#pragma once
// Only one daemon may use a state_dir: two would each resume the other's deliveries, and
// their queue files and dead letters would interleave. The lock is an flock(2) on
// state_dir/eventrouter.lock, held for as long as this object lives (and released by the
// kernel if the process dies).

#include <filesystem>
#include <stdexcept>

namespace eventrouter::delivery {

class StateDirLockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateDirLock {
 public:
  // Creates state_dir if needed and takes the lock; throws StateDirLockError saying what to do
  // when it cannot (another process holds it, or the folder is not writable).
  explicit StateDirLock(const std::filesystem::path& state_dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  // Lets go early (before the destructor).
  void release();

 private:
  int fd_ = -1;
};

}  // namespace eventrouter::delivery
