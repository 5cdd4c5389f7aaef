#pragma once
// The systemd watchdog: when the unit sets WatchdogSec=, systemd passes WATCHDOG_USEC and
// restarts the service unless it hears "WATCHDOG=1" at least that often. The pings are sent by
// a timer on the daemon's own io_context, so a wedged event loop stops them and gets the
// daemon restarted, which a free-running thread would not.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>

namespace eventrouter::app {

class Watchdog {
 public:
  // Reads the watchdog settings from the environment (sd_watchdog_enabled) and, when the
  // watchdog is on for this process, pings once now and then every half interval while `io`
  // runs. Otherwise does nothing and adds no work to `io`.
  explicit Watchdog(boost::asio::io_context& io);

  // Must not outlive `io`; destroy it once `io` has stopped running (or after stop()).
  ~Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  bool enabled() const { return interval_.count() > 0; }
  // systemd's WatchdogSec (zero when the watchdog is off); pings go out twice as often.
  std::chrono::microseconds interval() const { return interval_; }

  // Stops pinging. Thread-safe; the pending timer is cancelled on the io_context, after which
  // the watchdog no longer keeps `io` busy.
  void stop();

 private:
  void ping();
  void schedule();

  std::chrono::microseconds interval_{0};
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;  // only touched on strand_
};

}  // namespace eventrouter::app
