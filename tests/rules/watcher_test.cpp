#include "eventrouter/rules/watcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "test_support.hpp"

namespace eventrouter::rules {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Counts callbacks and lets a test wait for the next ones, with a time limit.
class Calls {
 public:
  void operator()() {
    std::lock_guard lock(mutex_);
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST(Watcher, WriteRenameAndDeleteTriggerOneCallbackPerBurst) {
  testing::RulesDir dir;
  Calls calls;
  // A long quiet period, so that a loaded machine cannot split the burst below.
  RulesDirectoryWatcher watcher(
      dir.rules_dir(), [&] { calls(); }, 400ms);
  watcher.start();

  // Several writes in a burst: one callback.
  for (int i = 0; i < 5; ++i) dir.rule_file("a.yaml", "rules: []\n# " + std::to_string(i));
  ASSERT_TRUE(calls.wait_for(1));
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(calls.count(), 1);

  // An editor's save: write a temporary file, rename it into place.
  dir.write("rules.d/.a.yaml.tmp", "rules: []\n");
  fs::rename(dir.rules_dir() / ".a.yaml.tmp", dir.rules_dir() / "b.yaml");
  ASSERT_TRUE(calls.wait_for(2));

  fs::remove(dir.rules_dir() / "a.yaml");
  ASSERT_TRUE(calls.wait_for(3));
  watcher.stop();
  watcher.stop();  // idempotent
}

TEST(Watcher, OtherFilesAreIgnored) {
  testing::RulesDir dir;
  Calls calls;
  RulesDirectoryWatcher watcher(
      dir.rules_dir(), [&] { calls(); }, 50ms);
  watcher.start();
  dir.rule_file("notes.txt", "x");
  dir.rule_file(".a.yaml.swp", "x");
  dir.rule_file("a.yaml~", "x");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.count(), 0);
}

TEST(Watcher, FolderReplacedIsWatchedAgain) {
  testing::RulesDir dir;
  Calls calls;
  RulesDirectoryWatcher watcher(
      dir.rules_dir(), [&] { calls(); }, 50ms);
  watcher.start();
  fs::rename(dir.rules_dir(), dir.path() / "old-rules");
  ASSERT_TRUE(calls.wait_for(1));
  fs::create_directories(dir.rules_dir());
  ASSERT_TRUE(calls.wait_for(2, 5s));  // noticed by the once-a-second retry
  dir.rule_file("a.yaml", "rules: []\n");
  ASSERT_TRUE(calls.wait_for(3));
}

TEST(Watcher, MissingFolderFailsToStart) {
  testing::TempDir dir;
  RulesDirectoryWatcher watcher(dir.path() / "nope", [] {});
  EXPECT_THROW(watcher.start(), std::system_error);
}

TEST(Watcher, DestructorStopsTheThread) {
  testing::RulesDir dir;
  std::atomic<int> calls{0};
  {
    RulesDirectoryWatcher watcher(
        dir.rules_dir(), [&] { ++calls; }, 10ms);
    watcher.start();
  }
  dir.rule_file("a.yaml", "rules: []\n");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace eventrouter::rules
