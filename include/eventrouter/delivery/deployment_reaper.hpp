#pragma once
// Tears retired deployments down on a thread of its own. The last owner of a deployment can be
// any thread: a webhook's I/O thread, a queue-file or runbook worker, the journal's writer.
// A deployment's teardown stops its targets and joins their threads, which must never happen
// on one of those threads (a worker joining itself aborts the process with EDEADLK), so no
// owner ever destroys a deployment itself: it hands it here.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace eventrouter::delivery {

class Deployment;

class DeploymentReaper {
 public:
  DeploymentReaper();
  // Finishes every teardown handed over so far, then joins. Destroy it after everything that
  // may still own a deployment (the dispatcher, the I/O contexts and their handlers).
  ~DeploymentReaper();
  DeploymentReaper(const DeploymentReaper&) = delete;
  DeploymentReaper& operator=(const DeploymentReaper&) = delete;

  // Takes ownership of `deployment` and destroys it on the reaper's thread. Thread-safe.
  void retire(Deployment* deployment);

  // Deployments handed over and not yet destroyed (for tests and shutdown logs).
  std::size_t backlog() const;

  // Waits until every deployment handed over so far is destroyed. The daemon calls it at the
  // end, while the I/O contexts its targets were built on still exist.
  void drain();

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Deployment*> queue_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace eventrouter::delivery
