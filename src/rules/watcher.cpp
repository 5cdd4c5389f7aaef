#include "eventrouter/rules/watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

namespace eventrouter::rules {

namespace {

constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Whether a change to `name` can change the rule set. Editors' temporary files (.swp, ~,
// 4913) do not; the rename that puts the saved file in place does. "..data" is the link that
// Kubernetes swaps when a mounted ConfigMap changes.
bool relevant(std::string_view name) {
  if (name == "..data") return true;
  if (name.empty() || name[0] == '.') return false;
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

}  // namespace

RulesDirectoryWatcher::RulesDirectoryWatcher(std::filesystem::path dir,
                                             std::function<void()> on_change,
                                             std::chrono::milliseconds debounce)
    : dir_(std::move(dir)), on_change_(std::move(on_change)), debounce_(debounce) {}

RulesDirectoryWatcher::~RulesDirectoryWatcher() {
  stop();
}

bool RulesDirectoryWatcher::add_watch() {
  watch_ = ::inotify_add_watch(inotify_fd_, dir_.c_str(), kMask);
  return watch_ >= 0;
}

void RulesDirectoryWatcher::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    const int err = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  if (!add_watch()) {
    const int err = errno;
    ::close(inotify_fd_);
    ::close(stop_fd_);
    inotify_fd_ = stop_fd_ = -1;
    throw std::system_error(err, std::generic_category(), "watching " + dir_.string());
  }
  thread_ = std::thread([this] { run(); });
}

void RulesDirectoryWatcher::stop() {
  std::lock_guard lock(mutex_);
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(inotify_fd_);
  ::close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void RulesDirectoryWatcher::run() {
  using clock = std::chrono::steady_clock;
  bool pending = false;              // a burst of changes not yet reported
  clock::time_point first_change{};  // of that burst
  clock::time_point last_change{};
  const auto retry_watch = std::chrono::seconds(1);
  alignas(inotify_event) std::array<char, 16 * 1024> buffer{};

  for (;;) {
    // Wake for the end of a quiet period, to look for a lost folder again, or forever.
    int timeout_ms = -1;
    if (pending) {
      const auto deadline = std::min(last_change + debounce_, first_change + debounce_ * 10);
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      timeout_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    } else if (watch_ < 0) {
      timeout_ms = static_cast<int>(std::chrono::milliseconds(retry_watch).count());
    }
    std::array<pollfd, 2> fds{{{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}}};
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("rules watcher: poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;

    bool changed = false;
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
      for (;;) {
        const ssize_t len = ::read(inotify_fd_, buffer.data(), buffer.size());
        if (len <= 0) break;
        for (ssize_t offset = 0; offset < len;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
          offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
          if ((event->mask & IN_Q_OVERFLOW) != 0) {
            changed = true;  // events were lost: assume the worst
          } else if ((event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
            if (event->wd == watch_) {
              spdlog::warn("rules watcher: {} was removed or moved; waiting for it to return",
                           dir_.string());
              if ((event->mask & IN_IGNORED) == 0) ::inotify_rm_watch(inotify_fd_, watch_);
              watch_ = -1;
              changed = true;
            }
          } else if (event->len > 0 && relevant(event->name)) {
            changed = true;
          }
        }
      }
    }
    if (watch_ < 0 && add_watch()) {
      spdlog::info("rules watcher: watching {} again", dir_.string());
      changed = true;
    }
    const auto now = clock::now();
    if (changed) {
      if (!pending) first_change = now;
      pending = true;
      last_change = now;
      if (now < first_change + debounce_ * 10) continue;
    }
    if (pending && (now >= last_change + debounce_ || now >= first_change + debounce_ * 10)) {
      pending = false;
      on_change_();
    }
  }
}

}  // namespace eventrouter::rules
