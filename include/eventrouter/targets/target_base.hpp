#pragma once
// The base every adapter derives from: it owns what all of them must get right the same way,
// so an adapter writes only how to send one invocation (and, if it has something to end, how to
// abort). deliver() and shutdown() are final here:
//  - deliver() refuses once shutdown began (retryable, at once) and counts what is in flight;
//  - shutdown() stops accepting, lets in-flight invocations finish within the grace period,
//    then asks the adapter to abort what is left, and completes as retryable whatever the
//    adapter has still not completed shortly after;
//  - each `done` runs exactly once, whichever of the adapter, the abort or the shutdown gets
//    there first, and never after shutdown() returned.
// An adapter's destructor calls shutdown(0ms) first: the base's destructor runs only after the
// adapter's members (its threads, its sockets) are gone.

#include <chrono>
#include <memory>

#include "eventrouter/targets/target.hpp"

namespace eventrouter::targets {

class TargetBase : public Target {
 public:
  TargetBase();
  ~TargetBase() override;
  TargetBase(const TargetBase&) = delete;
  TargetBase& operator=(const TargetBase&) = delete;

  void deliver(Invocation invocation, Completion done) final;
  void shutdown(std::chrono::milliseconds grace) final;

 protected:
  // Sends one invocation and calls `done` with its result, from any thread. Never called once
  // shutdown began. Calling `done` again, or after shutdown completed it, does nothing.
  virtual void send(Invocation invocation, Completion done) = 0;

  // Shutdown began (called once): drop work that has not started (it completes as retryable),
  // let go of idle resources. In-flight invocations go on.
  virtual void on_stop() {}

  // The grace period is over and invocations are still in flight: end them (kill processes,
  // close sockets) so that they complete, as retryable. May be called more than once.
  virtual void abort() {}

  // How long the aborted invocations get to complete before the base completes them itself.
  virtual std::chrono::milliseconds abort_wait() const { return std::chrono::seconds(2); }

 private:
  struct Ledger;
  std::shared_ptr<Ledger> ledger_;  // shared with the completions handed to send()
};

}  // namespace eventrouter::targets
