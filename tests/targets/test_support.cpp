#include "test_support.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "eventrouter/yaml/parse.hpp"

namespace eventrouter::targets::testing {

Peer::Peer(std::vector<std::string> argv) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const int spawned = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot start peer " + argv[0]);
  }
  // The port arrives on the first line; give the interpreter up to 30 seconds (loaded CI).
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buffer[64];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  port_ = std::atoi(line.c_str());
  if (port_ <= 0) {
    // The destructor does not run for a half-built object: end the process here.
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("peer " + argv[1] + " did not report a port");
  }
}

Peer::~Peer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(20000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

void make_test_ca(const std::filesystem::path& dir) {
  const std::string command = (peers_dir / "make_test_ca.sh").string() + " " + dir.string();
  if (std::system(command.c_str()) != 0) throw std::runtime_error("make_test_ca.sh failed");
}

TargetSpec spec_from_yaml(const std::string& yaml, const std::string& rule) {
  TargetSpec spec;
  spec.rule = rule;
  spec.node = yaml::parse(yaml).value();
  spec.id = spec.node["id"] ? spec.node["id"].scalar() : "t";
  spec.type = spec.node["type"] ? spec.node["type"].scalar() : "";
  spec.position.file = "rules.d/test.yaml";
  spec.position.line = 1;
  spec.position.column = 1;
  return spec;
}

Invocation invocation(std::string payload, std::string event_id) {
  Invocation result;
  result.event_id = std::move(event_id);
  result.rule = "test-rule";
  result.target = "t";
  result.source = "aws.guardduty";
  result.detail_type = "GuardDuty Finding";
  result.attempt = 1;
  result.payload = std::move(payload);
  return result;
}

Completion Waiter::completion() {
  auto promise = promise_;
  auto called = std::make_shared<std::atomic<int>>(0);
  return [promise, called](DeliveryResult result) {
    if (called->fetch_add(1) == 0) {
      promise->set_value(std::move(result));
    } else {
      ADD_FAILURE() << "completion called more than once";
    }
  };
}

DeliveryResult Waiter::wait(std::chrono::milliseconds limit) {
  auto future = promise_->get_future();
  if (future.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within " << limit.count() << "ms";
    return DeliveryResult::permanent(ErrorCode::kInternalError, "test: no completion in time");
  }
  return future.get();
}

DeliveryResult deliver_and_wait(Target& target, Invocation invocation,
                                std::chrono::milliseconds limit) {
  Waiter waiter;
  target.deliver(std::move(invocation), waiter.completion());
  return waiter.wait(limit);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_file(const std::filesystem::path& path, const std::string& text, bool executable) {
  std::filesystem::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  if (executable) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_all |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec);
  }
}

}  // namespace eventrouter::targets::testing
