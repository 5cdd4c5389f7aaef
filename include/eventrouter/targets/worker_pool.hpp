#pragma once
// A small pool of threads for one target's blocking work (waiting for a process, talking SMTP,
// fsync). Each target has its own, so a hanging target only ever ties up its own threads.
// Threads start lazily, up to the limit, which doubles as the target's concurrency limit.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventrouter/targets/target.hpp"

namespace eventrouter::targets {

class WorkerPool {
 public:
  struct Job {
    std::function<void()> run;     // on a pool thread
    std::function<void()> cancel;  // instead of run, if the pool stops before the job starts
  };

  explicit WorkerPool(std::size_t max_threads);
  ~WorkerPool();  // cancels queued jobs and joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job; false (and the job untouched) once the pool has stopped.
  bool post(Job job);

  // Stops accepting and cancels every job that has not started. Running jobs continue.
  void stop();

  // Waits until running jobs have finished, up to `timeout`; true if they all did.
  bool wait_idle(std::chrono::milliseconds timeout);

  std::size_t running() const;

 private:
  void work();

  const std::size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Job> queue_;
  std::vector<std::thread> threads_;
  std::size_t waiting_threads_ = 0;
  std::size_t running_ = 0;
  bool stopped_ = false;
};

// How the pooled targets (runbook, email) deliver: `attempt` runs on a pool thread and its result
// goes to `done`. An invocation the pool refuses, or drops at stop() before it started, completes
// as retryable so the delivery engine tries it again after a restart; `done` is called exactly
// once either way. `attempt` may use the target that owns `pool`: the pool is that target's last
// member, so it is joined before anything `attempt` uses is destroyed.
void deliver_pooled(WorkerPool& pool, Invocation invocation, Completion done,
                    std::function<DeliveryResult(const Invocation&)> attempt);

}  // namespace eventrouter::targets
