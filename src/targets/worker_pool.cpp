#include "eventrouter/targets/worker_pool.hpp"

#include <csignal>
#include <memory>

#include <pthread.h>

namespace eventrouter::targets {

WorkerPool::WorkerPool(std::size_t max_threads) : max_threads_(max_threads ? max_threads : 1) {}

WorkerPool::~WorkerPool() {
  stop();
  {
    std::lock_guard lock(mutex_);
    wake_.notify_all();
  }
  for (auto& thread : threads_) thread.join();
}

bool WorkerPool::post(Job job) {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  queue_.push_back(std::move(job));
  if (waiting_threads_ == 0 && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { work(); });
  } else {
    wake_.notify_one();
  }
  return true;
}

void WorkerPool::stop() {
  std::deque<Job> cancelled;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    cancelled.swap(queue_);
    wake_.notify_all();
  }
  for (auto& job : cancelled) {
    if (job.cancel) job.cancel();
  }
}

bool WorkerPool::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return running_ == 0 && queue_.empty(); });
}

std::size_t WorkerPool::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void WorkerPool::work() {
  // Writing to a pipe whose reader has gone (a runbook that ignores stdin) must give EPIPE on
  // this thread, not a process-wide SIGPIPE.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  std::unique_lock lock(mutex_);
  while (true) {
    ++waiting_threads_;
    wake_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
    --waiting_threads_;
    if (queue_.empty()) return;  // stopped
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    job.run();
    job = {};
    lock.lock();
    --running_;
    if (running_ == 0 && queue_.empty()) idle_.notify_all();
  }
}

void deliver_pooled(WorkerPool& pool, Invocation invocation, Completion done,
                    std::function<DeliveryResult(const Invocation&)> attempt) {
  // Shared because a Job's run and cancel are two copies of the same state, one of which fires.
  auto shared_done = std::make_shared<Completion>(std::move(done));
  auto shared_invocation = std::make_shared<Invocation>(std::move(invocation));
  auto shutting_down = [shared_done] {
    (*shared_done)(DeliveryResult::retryable(ErrorCode::kInternalError, "target is shutting down"));
  };
  WorkerPool::Job job;
  job.run = [shared_invocation, shared_done, attempt = std::move(attempt)] {
    (*shared_done)(attempt(*shared_invocation));
  };
  job.cancel = shutting_down;
  // A refused job is dropped without its cancel being called, so the completion is ours to call.
  if (!pool.post(std::move(job))) shutting_down();
}

}  // namespace eventrouter::targets
