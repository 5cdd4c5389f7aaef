#include "eventrouter/targets/worker_pool.hpp"

#include <csignal>

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

}  // namespace eventrouter::targets
