#pragma once
// Helpers for the target tests: temporary folders, peer processes on loopback, specs from YAML,
// and waiting for a delivery's completion with a bound.

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::targets::testing {

inline const std::filesystem::path peers_dir =
    std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "tests/targets/peers";

using eventrouter::testing::TempDir;

// A helper process (a Python peer) that prints its port on its first line of stdout.
class Peer {
 public:
  explicit Peer(std::vector<std::string> argv);
  ~Peer();  // SIGTERM, then SIGKILL
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// Writes a test CA and a server certificate for 127.0.0.1 into `dir` (ca.pem, server.pem,
// server.key).
void make_test_ca(const std::filesystem::path& dir);

// The metrics registry of targets built by tests that do not look at their metrics.
inline metrics::Registry& unread_metrics() {
  static metrics::Registry registry;
  return registry;
}

TargetSpec spec_from_yaml(const std::string& yaml, const std::string& rule = "test-rule");

Invocation invocation(std::string payload, std::string event_id = "evt-1");

// Delivers and waits (at most `limit`) for the completion.
class Waiter {
 public:
  Completion completion();
  // Fails the test (and returns a result saying so) if nothing arrives in time.
  DeliveryResult wait(std::chrono::milliseconds limit = std::chrono::seconds(20));

 private:
  std::shared_ptr<std::promise<DeliveryResult>> promise_ =
      std::make_shared<std::promise<DeliveryResult>>();
};

DeliveryResult deliver_and_wait(Target& target, Invocation invocation,
                                std::chrono::milliseconds limit = std::chrono::seconds(20));

std::string read_file(const std::filesystem::path& path);
std::vector<std::string> read_lines(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text,
                bool executable = false);

}  // namespace eventrouter::targets::testing
