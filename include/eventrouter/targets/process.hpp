#pragma once
// Runs a program to completion in its own process group, feeding stdin and capturing stdout and
// stderr up to a bound, with a timeout that ends the whole group (SIGTERM, then SIGKILL).
// Blocking: call it from a worker thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::targets {

struct ProcessRequest {
  std::vector<std::string> argv;         // argv[0] is an absolute path; never run by a shell
  std::vector<std::string> environment;  // "NAME=value", the child's whole environment
  std::string working_dir = "/";
  std::string_view input;  // written to stdin, which is then closed
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds kill_grace{5000};  // between SIGTERM and SIGKILL
  std::size_t output_limit = 65536;            // bytes kept of each of stdout and stderr
  // Checked while waiting: once the clock passes it, the group is ended as on a timeout.
  const std::atomic<std::chrono::steady_clock::rep>* abort_at = nullptr;
};

struct ProcessResult {
  enum class Status { kExited, kSignaled, kTimedOut, kAborted, kSpawnFailed };
  Status status = Status::kSpawnFailed;
  int exit_code = -1;    // exited
  int signal = 0;        // signaled
  int spawn_error = 0;   // spawn_failed: errno
  std::string out, err;  // captured output, each at most output_limit bytes
  bool out_truncated = false, err_truncated = false;
  std::chrono::milliseconds elapsed{0};
};

ProcessResult run_process(const ProcessRequest& request);

}  // namespace eventrouter::targets
