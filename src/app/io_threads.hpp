#pragma once
// An io_context run by threads of its own and kept running (a work guard) until stop(). The
// daemon runs its delivery side (dispatcher timers, webhook I/O) on one, apart from the HTTP
// server's threads, so a flood of delivery work never delays /healthz or ingest answers.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>
#include <vector>

namespace eventrouter::app {

class IoThreads {
 public:
  explicit IoThreads(unsigned threads);
  ~IoThreads();  // stops and joins threads still running
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  boost::asio::io_context& context() { return io_; }
  void start();
  // Ends run() on every thread, as io_context::stop does: handlers not yet run are dropped.
  // Safe from any thread.
  void stop();
  void join();

 private:
  unsigned count_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace eventrouter::app
