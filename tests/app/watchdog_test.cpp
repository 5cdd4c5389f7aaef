// The watchdog speaks systemd's notify protocol: datagrams on the unix socket named by
// NOTIFY_SOCKET. These tests play systemd's part with a socket of their own.
#include "eventrouter/app/watchdog.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A unix datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  NotifySocket() {
    dir_ = fs::temp_directory_path() / ("er-watchdog-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = dir_ / "notify";
    fs::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path_.string();
    p.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("cannot bind " + p);
    ::setenv("NOTIFY_SOCKET", p.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    fs::remove_all(dir_);
  }

  // Collects the messages that arrive within `window`.
  std::vector<std::string> receive_for(std::chrono::milliseconds window) {
    std::vector<std::string> messages;
    const auto deadline = std::chrono::steady_clock::now() + window;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0us) break;
      timeval tv{static_cast<time_t>(left.count() / 1000000),
                 static_cast<suseconds_t>(left.count() % 1000000)};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      char buf[256];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0) break;  // timed out
      messages.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages;
  }

 private:
  fs::path dir_, path_;
  int fd_ = -1;
};

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  void TearDown() override {
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
};

TEST_F(WatchdogTest, PingsEveryHalfIntervalAndStopsCleanly) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);  // WatchdogSec=100ms: a ping every 50 ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);

  boost::asio::io_context io;
  eventrouter::app::Watchdog watchdog(io);
  ASSERT_TRUE(watchdog.enabled());
  EXPECT_EQ(watchdog.interval(), 100ms);
  auto runner = std::async(std::launch::async, [&] { io.run(); });

  const auto pings = systemd.receive_for(600ms);
  // 600 ms at one ping per 50 ms is about 12; allow a slow, shared machine plenty of slack.
  EXPECT_GE(pings.size(), 4u);
  EXPECT_LE(pings.size(), 14u);
  for (const auto& message : pings) EXPECT_EQ(message, "WATCHDOG=1");

  // Once stopped, the watchdog leaves no work behind: run() returns by itself.
  watchdog.stop();
  ASSERT_EQ(runner.wait_for(5s), std::future_status::ready) << "io_context kept running";
  systemd.receive_for(50ms);  // a ping that was already in flight
  EXPECT_TRUE(systemd.receive_for(300ms).empty());
}

TEST_F(WatchdogTest, StopsPingingWhenTheEventLoopIsWedged) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);
  boost::asio::io_context io;
  // The only io thread is blocked for 500 ms from the start: systemd must hear nothing then.
  boost::asio::post(io, [] { std::this_thread::sleep_for(500ms); });
  eventrouter::app::Watchdog watchdog(io);
  ASSERT_TRUE(watchdog.enabled());
  auto runner = std::async(std::launch::async, [&] { io.run_for(1500ms); });
  const auto during = systemd.receive_for(400ms);
  EXPECT_TRUE(during.empty()) << during.size() << " pings from a blocked loop";
  // Once the loop is free again, the pings resume.
  const auto after = systemd.receive_for(600ms);
  EXPECT_GE(after.size(), 2u);
  watchdog.stop();
  ASSERT_EQ(runner.wait_for(5s), std::future_status::ready);
}

TEST_F(WatchdogTest, OffWithoutWatchdogSec) {
  NotifySocket systemd;
  boost::asio::io_context io;
  eventrouter::app::Watchdog watchdog(io);
  EXPECT_FALSE(watchdog.enabled());
  EXPECT_EQ(watchdog.interval(), 0us);
  // No work was queued, so run() returns at once; nothing was sent.
  auto runner = std::async(std::launch::async, [&] { io.run(); });
  ASSERT_EQ(runner.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(systemd.receive_for(200ms).empty());
  watchdog.stop();  // harmless when off
}

TEST_F(WatchdogTest, OffWhenTheSettingsAreForAnotherProcess) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);
  // Inherited from a parent (e.g. a runbook started by the daemon): not ours to ping for.
  ::setenv("WATCHDOG_PID", std::to_string(::getppid()).c_str(), 1);
  boost::asio::io_context io;
  eventrouter::app::Watchdog watchdog(io);
  EXPECT_FALSE(watchdog.enabled());
  io.run_for(200ms);
  EXPECT_TRUE(systemd.receive_for(100ms).empty());
}

TEST_F(WatchdogTest, OffWhenWatchdogUsecIsGarbage) {
  NotifySocket systemd;
  for (const char* bad : {"soon", "-5", "0", ""}) {
    ::setenv("WATCHDOG_USEC", bad, 1);
    boost::asio::io_context io;
    eventrouter::app::Watchdog watchdog(io);
    EXPECT_FALSE(watchdog.enabled()) << "WATCHDOG_USEC=" << bad;
    io.run_for(100ms);
  }
  EXPECT_TRUE(systemd.receive_for(100ms).empty());
}

}  // namespace
