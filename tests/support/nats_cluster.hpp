#pragma once
// Real NATS JetStream servers for tests: one node, or a cluster named "eventrouter-test", each
// node a nats-server child process on 127.0.0.1 with ports the OS picked and its own store folder.
//
// Ports are race-free: every node starts with port -1 (the OS picks) and reports what it got in
// a ports file (`<ports_file_dir>/nats-server_<pid>.ports`, JSON with "nats", "cluster" and
// "monitoring" URLs). Node 0 starts first; the others route to its cluster port and gossip joins
// the rest. Once every port is known, each node gets a second config with those ports fixed and
// routes to all its peers, which restart() uses.
//
// Needs nats-server installed (available() says; skip otherwise) and the test executable linked
// with cnats::nats (er_module's TEST_DEPS). Create the cluster on the test's own thread: the
// servers get SIGKILL when the thread that started them ends (PR_SET_PDEATHSIG).

#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace eventrouter::testing {

class NatsCluster {
 public:
  // Starts `nodes` servers and returns once a stream with `nodes` replicas can be created.
  explicit NatsCluster(int nodes = 1) {
    if (nodes < 1) throw std::invalid_argument("NatsCluster needs at least one node");
    exe_ = find_executable();
    if (exe_.empty()) throw std::runtime_error("nats-server not found (PATH, /usr/sbin, /usr/bin)");
    nodes_.resize(static_cast<std::size_t>(nodes));
    try {
      for (int i = 0; i < nodes; ++i) start_first_time(i);
      for (int i = 0; i < nodes; ++i) write_fixed_config(i);
      wait_until_jetstream_ready();
    } catch (...) {
      stop_all();  // the destructor does not run when the constructor throws
      throw;
    }
  }
  ~NatsCluster() { stop_all(); }
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  std::string url(int node) const {
    return "nats://127.0.0.1:" + std::to_string(at(node).client_port);
  }
  std::vector<std::string> urls() const {
    std::vector<std::string> all;
    for (int i = 0; i < size(); ++i) all.push_back(url(i));
    return all;
  }
  // The flow-style YAML list a config's `servers:` key takes.
  std::string servers_yaml() const {
    std::string yaml = "[";
    for (int i = 0; i < size(); ++i) yaml += (i ? ", " : "") + url(i);
    return yaml + "]";
  }

  void kill(int node) { terminate(at(node), std::chrono::seconds(0)); }
  void stop(int node) { terminate(at(node), kStopGrace); }

  // Starts the node again on its old ports and store folder (stopping it first if it runs), and
  // waits until its client port accepts. JetStream catches up on its own shortly after.
  void restart(int node) {
    Node& n = at(node);
    terminate(n, kStopGrace);
    spawn(n, n.dir / "fixed.conf");
    const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
    while (!accepts(n.client_port)) {
      if (!running(node) || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("nats node " + std::to_string(node) +
                                 " did not come back on port " + std::to_string(n.client_port) +
                                 "\n" + log_tails());
      }
      std::this_thread::sleep_for(kPoll);
    }
  }

  // WNOWAIT: asks without reaping, so a later kill()/stop() still collects the exit.
  bool running(int node) const {
    const Node& n = at(node);
    if (n.pid <= 0) return false;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(n.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return false;
    }
    return info.si_pid == 0;
  }

  std::string log(int node) const {
    std::ifstream in(at(node).dir / "nats-server.log", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  static bool available() { return !find_executable().empty(); }

 private:
  struct Node {
    std::filesystem::path dir;
    int client_port = 0;
    int cluster_port = 0;
    pid_t pid = -1;
  };

  static constexpr auto kStartLimit = std::chrono::seconds(20);
  static constexpr auto kStopGrace = std::chrono::seconds(5);
  static constexpr auto kPoll = std::chrono::milliseconds(20);
  static constexpr const char* kClusterName = "eventrouter-test";
  // Small enough for a shared CI machine; the servers refuse streams beyond these.
  static constexpr const char* kJetStreamLimits = "max_memory_store: 256MB, max_file_store: 1GB";

  Node& at(int node) { return nodes_.at(static_cast<std::size_t>(node)); }
  const Node& at(int node) const { return nodes_.at(static_cast<std::size_t>(node)); }

  static std::string find_executable() {
    std::vector<std::filesystem::path> folders;
    if (const char* path = std::getenv("PATH")) {
      std::stringstream list(path);
      for (std::string folder; std::getline(list, folder, ':');) {
        if (!folder.empty()) folders.emplace_back(folder);
      }
    }
    folders.emplace_back("/usr/sbin");
    folders.emplace_back("/usr/bin");
    for (const auto& folder : folders) {
      const auto exe = folder / "nats-server";
      if (::access(exe.c_str(), X_OK) == 0) return exe.string();
    }
    return {};
  }

  // A node's config; `ports` holds the client listen lines, which differ between the first start
  // (OS-picked) and restarts (fixed).
  std::string config(int node, const std::string& ports, const std::string& routes) const {
    const Node& n = at(node);
    std::string text = "server_name: n" + std::to_string(node) + "\n" + ports +
                       "jetstream { store_dir: \"" + (n.dir / "js").string() + "\", " +
                       kJetStreamLimits + " }\n";
    if (size() > 1) {
      text += "cluster { name: " + std::string(kClusterName) +
              ", listen: 127.0.0.1:" + std::to_string(n.cluster_port > 0 ? n.cluster_port : -1) +
              ", routes: [" + routes + "] }\n";
    }
    return text;
  }

  static std::string route(int port) { return "nats-route://127.0.0.1:" + std::to_string(port); }

  void start_first_time(int node) {
    Node& n = at(node);
    n.dir = root_ / ("n" + std::to_string(node));
    std::filesystem::create_directories(n.dir / "ports");
    // JetStream in cluster mode refuses to start without a configured route, and node 0 has
    // no peer yet: a route to a closed loopback port satisfies the check (logged once as
    // refused). Peers that connect to node 0 later are routes all the same.
    const std::string routes = node == 0 ? route(1) : route(at(0).cluster_port);
    const std::string ports =
        "listen: \"127.0.0.1:-1\"\nports_file_dir: \"" + (n.dir / "ports").string() + "\"\n";
    spawn(n, root_.write(n.dir / "first.conf", config(node, ports, routes)));
    read_ports_file(node);
  }

  // The port number that follows `prefix` in `text`, or 0. (Not std::regex: GCC 12 warns inside
  // it under the sanitizers, and warnings are errors.)
  static int port_after(const std::string& text, std::string_view prefix) {
    const auto at = text.find(prefix);
    if (at == std::string::npos) return 0;
    int port = 0;
    for (auto i = at + prefix.size();
         i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i)
      port = port * 10 + (text[i] - '0');
    return port;
  }

  // The ports file appears once the server listens; nats-server writes it non-atomically, so a
  // file that does not parse yet is simply read again.
  void read_ports_file(int node) {
    Node& n = at(node);
    const auto file = n.dir / "ports" / ("nats-server_" + std::to_string(n.pid) + ".ports");
    const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
    for (;;) {
      std::ifstream in(file);
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      const int client = port_after(text, R"("nats":["nats://127.0.0.1:)");
      const int cluster = port_after(text, R"("cluster":["nats://127.0.0.1:)");
      if (client > 0 && (size() == 1 || cluster > 0)) {
        n.client_port = client;
        if (size() > 1) n.cluster_port = cluster;
        return;
      }
      if (!running(node) || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("nats node " + std::to_string(node) + " wrote no ports file\n" +
                                 log_tails());
      }
      std::this_thread::sleep_for(kPoll);
    }
  }

  void write_fixed_config(int node) {
    std::string routes;
    for (int peer = 0; peer < size(); ++peer) {
      if (peer == node) continue;
      routes += (routes.empty() ? "" : ", ") + route(at(peer).cluster_port);
    }
    const std::string ports =
        "listen: \"127.0.0.1:" + std::to_string(at(node).client_port) + "\"\n";
    root_.write(at(node).dir / "fixed.conf", config(node, ports, routes));
  }

  // fork rather than posix_spawn: the child must ask for SIGKILL when the test process dies, so
  // a crashed test leaves no server behind. Only async-signal-safe calls after fork.
  void spawn(Node& n, const std::filesystem::path& conf) {
    const std::string log_path = (n.dir / "nats-server.log").string();
    const std::string conf_path = conf.string();
    const char* argv[] = {exe_.c_str(), "-c", conf_path.c_str(), nullptr};
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
      const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (out < 0 || in < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    n.pid = pid;
  }

  // Sends SIGTERM (or SIGKILL when grace is zero), escalates to SIGKILL after `grace`, and
  // reaps the process.
  static void terminate(Node& n, std::chrono::seconds grace) {
    if (n.pid <= 0) return;
    ::kill(n.pid, grace.count() > 0 ? SIGTERM : SIGKILL);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
      const pid_t done = ::waitpid(n.pid, nullptr, WNOHANG);
      if (done == n.pid || done < 0) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(n.pid, SIGKILL);
        ::waitpid(n.pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    n.pid = -1;
  }

  // SIGTERM to all first so the nodes shut down in parallel, then the usual grace each.
  void stop_all() noexcept {
    for (Node& n : nodes_) {
      if (n.pid > 0) ::kill(n.pid, SIGTERM);
    }
    for (Node& n : nodes_) terminate(n, kStopGrace);
  }

  static bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  // A cluster answers clients before it has a meta leader and knows all its peers; creating
  // (and deleting) a stream with a replica on every node is the proof that it is usable.
  void wait_until_jetstream_ready() {
    const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
    std::string last_error = "no attempt";
    while (std::chrono::steady_clock::now() < deadline) {
      const auto error = try_ready_check();
      if (!error) return;
      last_error = *error;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("nats JetStream not ready after 20 s (" + last_error + ")\n" +
                             log_tails());
  }

  // One attempt; returns the error, or nothing when the stream was created.
  std::optional<std::string> try_ready_check() const {
    natsConnection* conn = nullptr;
    natsOptions* opts = nullptr;
    jsCtx* js = nullptr;
    std::optional<std::string> error;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url(0).c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 1000);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK) s = natsConnection_Connect(&conn, opts);
    jsOptions js_opts;
    jsOptions_Init(&js_opts);
    // Before there is a meta leader a request goes unanswered until this wait: keep it short so
    // retries come quickly. A create that timed out but happened is harmless: creating the same
    // stream again succeeds.
    js_opts.Wait = 500;
    if (s == NATS_OK) s = natsConnection_JetStream(&js, conn, &js_opts);
    if (s == NATS_OK) {
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = "READYCHECK";
      const char* subjects[] = {"readycheck"};
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_MemoryStorage;
      cfg.Replicas = size();
      jsErrCode code = static_cast<jsErrCode>(0);
      s = js_AddStream(nullptr, js, &cfg, nullptr, &code);
      if (s == NATS_OK) s = js_DeleteStream(js, "READYCHECK", nullptr, &code);
      if (s != NATS_OK)
        error = std::string(natsStatus_GetText(s)) + ", JetStream error " +
                std::to_string(static_cast<int>(code));
    } else {
      error = natsStatus_GetText(s);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(conn);
    natsOptions_Destroy(opts);
    return error;
  }

  // The end of every node's log, for failure messages.
  std::string log_tails() const {
    constexpr std::size_t kTail = 2000;
    std::string text;
    for (int i = 0; i < size(); ++i) {
      if (at(i).dir.empty()) continue;
      const std::string all = log(i);
      text += "--- node " + std::to_string(i) + " log (tail) ---\n" +
              (all.size() > kTail ? all.substr(all.size() - kTail) : all);
    }
    return text;
  }

  TempDir root_;  // first member: removed only after every node has stopped
  std::string exe_;
  std::vector<Node> nodes_;
};

}  // namespace eventrouter::testing
