#include "eventrouter/delivery/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace eventrouter::delivery {

namespace fs = std::filesystem;

StateDirLock::StateDirLock(const fs::path& state_dir) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) {
    throw StateDirLockError("cannot create state_dir " + state_dir.string() + ": " + ec.message());
  }
  const fs::path lock_file = state_dir / "eventrouter.lock";
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw StateDirLockError("cannot open " + lock_file.string() + ": " + std::strerror(errno) +
                            " (check that state_dir is writable by this user)");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(std::exchange(fd_, -1));
    throw StateDirLockError("another eventrouter process is using state_dir " + state_dir.string() +
                            "; stop it, or give this one a state_dir of its own");
  }
}

StateDirLock::~StateDirLock() {
  release();
}

void StateDirLock::release() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

}  // namespace eventrouter::delivery
