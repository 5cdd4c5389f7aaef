#pragma once
// One thread, and a short queue, for request work that costs more than an I/O thread should
// spend: compiling a request-supplied event pattern. While it runs, the I/O threads go on
// answering health checks and ingest; when the queue is full, callers are told so at once
// (and answer 503) instead of piling work up.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace eventrouter::server {

class BackgroundWorker {
 public:
  explicit BackgroundWorker(std::size_t max_queued);
  // Runs what is queued, then joins.
  ~BackgroundWorker();
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  // Queues `job`; false when `max_queued` jobs are already waiting.
  bool try_post(std::function<void()> job);

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace eventrouter::server
