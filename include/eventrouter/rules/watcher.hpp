#pragma once
// Watches rules_dir with inotify and calls back when a rule file changes, once per burst of
// changes (editors write, rename and delete in quick succession).

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

namespace eventrouter::rules {

class RulesDirectoryWatcher {
 public:
  // `on_change` runs on the watcher's thread, `debounce` after the last change of a burst
  // (but at most 10 debounce periods after its first change, so a constant stream of writes
  // cannot postpone a reload forever).
  RulesDirectoryWatcher(std::filesystem::path dir, std::function<void()> on_change,
                        std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
  ~RulesDirectoryWatcher();  // stops

  RulesDirectoryWatcher(const RulesDirectoryWatcher&) = delete;
  RulesDirectoryWatcher& operator=(const RulesDirectoryWatcher&) = delete;

  // Starts watching; throws std::system_error when inotify cannot be set up. If the folder is
  // removed or renamed, watching resumes (with a callback) when it is back.
  void start();
  // Stops the thread and waits for it (an on_change in progress finishes first). Idempotent.
  void stop();

 private:
  void run();
  bool add_watch();

  std::filesystem::path dir_;
  std::function<void()> on_change_;
  std::chrono::milliseconds debounce_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd written by stop()
  int watch_ = -1;
  std::thread thread_;
  std::mutex mutex_;
};

}  // namespace eventrouter::rules
