#include "eventrouter/app/watchdog.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <cstring>

namespace eventrouter::app {

namespace net = boost::asio;

Watchdog::Watchdog(net::io_context& io) : strand_(net::make_strand(io)), timer_(strand_) {
  std::uint64_t usec = 0;
  // 0: leave the variables set. WATCHDOG_PID names this process, so a child that inherits
  // them sees the watchdog as off, and systemd (NotifyAccess=main) ignores children anyway.
  const int enabled = sd_watchdog_enabled(0, &usec);
  if (enabled < 0) {
    spdlog::warn("ignoring the systemd watchdog settings: {}", std::strerror(-enabled));
    return;
  }
  if (enabled == 0 || usec == 0) return;
  interval_ = std::chrono::microseconds(usec);
  spdlog::info("systemd watchdog on: pinging every {} ms", usec / 2000);
  net::post(strand_, [this] {
    ping();
    schedule();
  });
}

void Watchdog::stop() {
  if (!enabled()) return;
  net::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Watchdog::ping() {
  sd_notify(0, "WATCHDOG=1");
}

void Watchdog::schedule() {
  if (stopped_) return;
  timer_.expires_after(interval_ / 2);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    ping();
    schedule();
  });
}

}  // namespace eventrouter::app
