#pragma once
// `eventrouter serve`: the daemon, in three phases. start() builds everything from the
// configuration and listens; reload() swaps in the rules on disk; stop() drains what is in
// flight and ends run(). Every part lives as long as the Daemon, so the threads and callbacks
// that use them never refer to a local of a scope that has ended.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "eventrouter/app/dead_letter_listing.hpp"
#include "eventrouter/config/config.hpp"
#include "eventrouter/delivery/deployment_reaper.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/rules/schedule.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::delivery {
class ClusterBus;
class Deployment;
class Dispatcher;
class History;
class Journal;
class StateDirLock;
}  // namespace eventrouter::delivery
namespace eventrouter::rules {
struct Rule;
class RuleStore;
class RulesDirectoryWatcher;
}  // namespace eventrouter::rules
namespace eventrouter::server {
class HttpServer;
class Router;
}  // namespace eventrouter::server

namespace eventrouter::app {

class Activity;
class AdminApi;
class IoThreads;
class RecentEvents;
class Scheduler;
class TokenList;
class Watchdog;

// The daemon could not start. what() is the whole report (possibly several lines, one per
// problem), ready for standard error.
class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Daemon {
 public:
  // Loads the configuration (throws StartError listing every problem) and applies its log
  // settings. From here on SIGINT, SIGTERM and SIGHUP are caught, and handled once run() runs.
  explicit Daemon(const std::filesystem::path& config_file);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Loads the rules, takes the state_dir, opens the journal, builds the targets, resumes the
  // deliveries left unfinished and listens. Throws StartError; nothing listens then.
  void start();
  // Serves until stop() has drained everything (SIGTERM and SIGINT call it), then tears the
  // last deployments down. Returns the process's exit status.
  int run();
  // Re-reads rules_dir; the new rules replace the running ones only when they are valid and
  // their targets can be built. Safe from any thread (reloads are serialised).
  void reload(std::string_view why);
  // Stops taking requests and drains requests and deliveries in flight, off the I/O threads;
  // run() returns when done. Safe from any thread; calls after the first are ignored.
  void stop();

  // Where it listens (after start()); the port the OS picked when the configuration says 0.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  const config::Config& config() const { return config_; }

 private:
  void open_state();
  void deploy_rules();
  void start_server();
  void watch_rules();
  void wait_for_signal();
  void drain();
  bool fire_scheduled(const rules::Rule& rule, rules::ScheduleTime due, std::string json);
  Expected<DeadLetterListing, std::string> read_dead_letters(const DeadLetterFilter& filter) const;

  config::Config config_;
  unsigned threads_;
  metrics::Registry metrics_;
  // Before the I/O contexts and the dispatcher: whatever they still own at the end hands its
  // deployment over here.
  delivery::DeploymentReaper reaper_;
  boost::asio::io_context io_;  // the HTTP server's
  // Deliveries (dispatcher timers, webhook I/O) get their own io_context and threads: however
  // much delivery work piles up, the HTTP server's threads stay free for /healthz and ingest.
  std::unique_ptr<IoThreads> delivery_io_;
  // The HTTP threads run until drain() stops them, even with no I/O pending: an answer that
  // waits for the journal's writer thread still needs them.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> http_work_;
  boost::asio::signal_set signals_;
  std::unique_ptr<targets::TargetContext> target_context_;
  std::unique_ptr<TokenList> tokens_;  // none: no authentication
  std::unique_ptr<rules::RuleStore> store_;
  std::unique_ptr<delivery::StateDirLock> state_lock_;
  std::unique_ptr<delivery::History> history_;  // none: history.enabled false
  std::unique_ptr<delivery::Journal> journal_;
  std::unique_ptr<delivery::ClusterBus> cluster_;  // bus.backend: nats, instead of the journal
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  std::unique_ptr<AdminApi> admin_;
  std::unique_ptr<Scheduler> scheduler_;  // fires scheduled rules into the dispatcher or cluster
  // A reload's new deployment, built before the swap (on_prepare) and deployed by on_swap.
  std::shared_ptr<delivery::Deployment> prepared_;
  metrics::Counter* reloads_ok_ = nullptr;
  metrics::Counter* reloads_failed_ = nullptr;
  // The console's data: the last events accepted (in front of the sink) and the last hour.
  std::unique_ptr<RecentEvents> recent_;
  std::unique_ptr<Activity> activity_;
  std::unique_ptr<server::Router> router_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<rules::RulesDirectoryWatcher> watcher_;
  std::unique_ptr<Watchdog> watchdog_;
  std::atomic<bool> stopping_{false};
  std::thread drainer_;
};

// Starts a Daemon and runs it. Returns the process exit status: 0 after a clean shutdown, 1
// when start-up fails (the reasons are written to `err`).
int run_daemon(const std::filesystem::path& config_file, std::ostream& err);

}  // namespace eventrouter::app
