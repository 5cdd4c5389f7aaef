#include "eventrouter/delivery/deployment_reaper.hpp"

#include "eventrouter/delivery/deployment.hpp"

namespace eventrouter::delivery {

DeploymentReaper::DeploymentReaper() : thread_([this] { run(); }) {}

DeploymentReaper::~DeploymentReaper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DeploymentReaper::retire(Deployment* deployment) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(deployment);
  }
  wake_.notify_all();
}

std::size_t DeploymentReaper::backlog() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + busy_;
}

void DeploymentReaper::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
}

void DeploymentReaper::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to tear down
    Deployment* next = queue_.front();
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    delete next;  // shuts its targets down: may take up to their grace periods
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0) idle_.notify_all();
  }
}

}  // namespace eventrouter::delivery
