#pragma once
// runbook: runs a program (an argv list, never through a shell) with the payload on stdin.
// Exit 0 is success, an exit code listed in permanent_exit_codes is a permanent failure, and
// anything else (another exit code, a signal, a timeout) is retryable.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_base.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"
#include "eventrouter/targets/worker_pool.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::targets {

struct RunbookConfig {
  std::string rule, id;
  std::vector<std::string> command;                      // command[0] is absolute
  std::vector<std::pair<std::string, std::string>> env;  // added to the minimal environment
  std::string working_dir = "/";
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds kill_grace{std::chrono::seconds(5)};
  std::vector<int> permanent_exit_codes;
  std::size_t output_limit = 65536;
};

std::optional<RunbookConfig> read_runbook_config(const TargetSpec& spec,
                                                 std::vector<config::Diagnostic>& problems);

// The child's whole environment: PATH, then the EVENTROUTER_* variables, then `env`. The
// values taken from the event pass the outgoing-value check (no control characters, bounded
// length); the error says which does not.
Expected<std::vector<std::string>, std::string> runbook_environment(const RunbookConfig& config,
                                                                    const Invocation& invocation);

// The runbook type's descriptor (registry.cpp registers it).
const TargetType& runbook_target_type();

class RunbookTarget final : public TargetBase {
 public:
  // Runs up to `threads` processes at once (the target's max_concurrency).
  RunbookTarget(RunbookConfig config, std::size_t threads);
  ~RunbookTarget() override;

 private:
  void send(Invocation invocation, Completion done) override;
  void on_stop() override;
  void abort() override;
  std::chrono::milliseconds abort_wait() const override;
  DeliveryResult run(const Invocation& invocation);

  RunbookConfig config_;
  std::atomic<std::chrono::steady_clock::rep> abort_at_;
  WorkerPool pool_;  // last: joined before what run() uses is destroyed
};

}  // namespace eventrouter::targets
