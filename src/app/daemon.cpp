#include "eventrouter/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <csignal>
#include <ostream>
#include <thread>

#include "admin_api.hpp"
#include "eventrouter/app/logging.hpp"
#include "eventrouter/app/watchdog.hpp"
#include "eventrouter/config/config.hpp"
#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/delivery/state_dir_lock.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/commands.hpp"
#include "eventrouter/rules/rule_store.hpp"
#include "eventrouter/rules/watcher.hpp"
#include "eventrouter/server/http_server.hpp"
#include "eventrouter/targets/registry.hpp"
#include "eventrouter/util/ids.hpp"
#include "io_threads.hpp"
#include "tokens.hpp"

namespace eventrouter::app {

namespace net = boost::asio;

namespace {

void print(std::ostream& err, const config::ConfigError& error) {
  for (const auto& diagnostic : error.diagnostics()) err << diagnostic.to_string() << "\n";
}

Expected<bool, std::string> test_pattern(std::string_view pattern_json,
                                         std::string_view event_json) {
  auto compiled = pattern::compile(pattern_json);
  if (!compiled) return unexpected(compiled.error());
  return pattern::matches(*compiled, event_json);
}

server::ServerOptions server_options(const config::Config& config) {
  server::ServerOptions options;
  options.host = config.listen.host;
  options.port = config.listen.port;
  options.max_request_bytes = config.limits.max_request_bytes;
  options.max_connections = config.limits.max_connections;
  options.header_timeout = config.limits.header_timeout;
  options.idle_timeout = config.limits.idle_timeout;
  if (config.tls) {
    options.tls = server::ServerTls{config.tls->cert_file.string(), config.tls->key_file.string(),
                                    config.tls->client_ca_file.string()};
  }
  return options;
}

delivery::DispatcherOptions dispatch_options(const config::Config& config,
                                             delivery::Journal* journal) {
  delivery::DispatcherOptions options;
  options.default_dead_letter_file = config.state_dir / "dead-letters.jsonl";
  options.journal = journal;
  options.backoff_base = config.delivery.backoff_base;
  options.backoff_cap = config.delivery.backoff_cap;
  options.archive_retention =
      std::chrono::duration_cast<std::chrono::seconds>(config.delivery.archive_retention);
  options.max_pending_deliveries = config.delivery.max_pending_deliveries;
  options.max_journal_bytes = config.delivery.max_journal_bytes;
  return options;
}

}  // namespace

int run_daemon(const std::filesystem::path& config_file, std::ostream& err) {
  config::Config config;
  try {
    config = config::load_config(config_file);
  } catch (const config::ConfigError& error) {
    print(err, error);
    return 1;
  }
  configure_logging(config.log);

  std::optional<TokenList> tokens;
  if (!config.tokens_file.empty()) {
    try {
      tokens = TokenList::load(config.tokens_file);
    } catch (const std::exception& e) {
      err << "eventrouter: " << e.what() << "\n";
      return 1;
    }
  }

  std::unique_ptr<rules::RuleStore> store;
  try {
    store = std::make_unique<rules::RuleStore>(config, targets::catalog());
  } catch (const config::ConfigError& error) {
    print(err, error);
    return 1;
  }

  metrics::Registry metrics;
  // Before the I/O context and the dispatcher: whatever they still own at the end hands its
  // deployment over here.
  delivery::DeploymentReaper reaper;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  net::io_context io(static_cast<int>(threads));
  // Deliveries (dispatcher timers, webhook I/O) get their own io_context and threads: however
  // much delivery work piles up, the HTTP server's threads stay free for /healthz and ingest.
  IoThreads delivery_io(threads);
  // The HTTP threads run until the stopper stops them, even with no I/O pending: an answer
  // that waits for the journal's writer thread still needs them.
  auto http_work = net::make_work_guard(io);
  // Caught from here on (and queued until the handler is set), so a signal that arrives while
  // starting never kills the process with the default action.
  net::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  targets::TargetContext target_context{delivery_io.context(), metrics};

  // One daemon per state_dir, whatever its durability: queue files and dead letters live
  // there too. Taken before anything listens, and held until the process ends.
  std::optional<delivery::StateDirLock> state_lock;
  try {
    state_lock.emplace(config.state_dir);
  } catch (const std::exception& e) {
    err << "eventrouter: " << e.what() << "\n";
    return 1;
  }

  // The journal opens before anything listens: a journal that cannot be opened stops the start.
  std::unique_ptr<delivery::Journal> journal;
  std::optional<delivery::Journal::Pending> pending;
  auto& archive_dropped =
      metrics.counter("eventrouter_archive_dropped_total",
                      "Archived events dropped before their retention to keep the journal under "
                      "archive.max_bytes.");
  if (config.delivery.durability != "none") {
    try {
      delivery::JournalOptions journal_options;
      journal_options.state_dir = config.state_dir;
      journal_options.lock_state_dir = false;  // held above
      journal_options.archive_max_bytes = config.delivery.effective_archive_max_bytes();
      journal_options.on_archive_dropped = [&archive_dropped,
                                            bound = journal_options.archive_max_bytes](
                                               std::size_t dropped, delivery::EpochMillis oldest) {
        archive_dropped.inc(dropped);
        spdlog::warn(
            "archive: dropped the {} oldest archived events (the oldest ingested at {}) before "
            "their retention, to keep the journal's data under archive.max_bytes ({} bytes)",
            dropped,
            format_rfc3339(
                std::chrono::system_clock::time_point(std::chrono::milliseconds(oldest))),
            bound);
      };
      journal = std::make_unique<delivery::Journal>(journal_options);
      pending = journal->load_pending();
    } catch (const std::exception& e) {
      err << "eventrouter: " << e.what() << "\n";
      return 1;
    }
  }
  delivery::Dispatcher dispatcher(delivery_io.context(), dispatch_options(config, journal.get()),
                                  metrics);
  try {
    dispatcher.deploy(
        delivery::Deployment::create(store->current(), target_context, metrics, reaper));
  } catch (const std::exception& e) {
    err << "eventrouter: " << e.what() << "\n";
    return 1;
  }
  if (pending) dispatcher.resume(std::move(*pending));
  AdminApi admin(dispatcher);
  auto& reloads_ok = metrics.counter("eventrouter_rule_reloads_total", "Rule reloads, by outcome.",
                                     {{"outcome", "success"}});
  auto& reloads_failed = metrics.counter("eventrouter_rule_reloads_total",
                                         "Rule reloads, by outcome.", {{"outcome", "failure"}});
  // A reload builds the new rule set's targets before the swap; if they cannot be built the
  // reload fails as a whole and the running rules and targets stay.
  std::shared_ptr<delivery::Deployment> prepared;
  store->on_prepare([&](const std::shared_ptr<const rules::RuleSet>& rule_set) {
    prepared = delivery::Deployment::create(rule_set, target_context, metrics, reaper);
  });
  store->on_swap([&](const std::shared_ptr<const rules::RuleSet>&) {
    dispatcher.deploy(std::move(prepared));
  });
  auto reload = [&](std::string_view why) {
    sd_notify(0, "RELOADING=1");
    spdlog::info("reloading rules ({})", why);
    (store->reload() ? reloads_ok : reloads_failed).inc();
    sd_notify(0, "READY=1");
  };

  server::RouterServices services;
  services.sink = &dispatcher;
  services.envelope.max_event_bytes = config.limits.max_event_bytes;
  services.metrics = &metrics;
  services.rules_json = [&] {
    return rules::render_rules_json(*store->current(), store->status());
  };
  services.test_pattern = test_pattern;
  services.bus_exists = [&dispatcher, named = config.buses](std::string_view bus) {
    if (std::find(named.begin(), named.end(), bus) != named.end()) return true;
    auto deployment = dispatcher.current();
    return deployment && deployment->rules().has_bus(bus);
  };
  services.replay = admin.replay_handler();
  services.redrive = admin.redrive_handler();
  if (tokens) {
    services.auth_required = true;
    services.token_valid = [&tokens](std::string_view token) { return tokens->contains(token); };
  }
  server::Router router(std::move(services));
  server::HttpServer server(io, server_options(config), router, &metrics);
  try {
    server.listen();
  } catch (const std::system_error& e) {
    err << "eventrouter: " << e.what() << " (listen in " << config.file.string() << ")\n";
    return 1;
  } catch (const std::exception& e) {
    err << "eventrouter: " << e.what() << " (in " << config.file.string() << ")\n";
    return 1;
  }
  rules::RulesDirectoryWatcher watcher(
      config.rules_dir, [&] { net::post(io, [&] { reload("a file in rules_dir changed"); }); });
  try {
    watcher.start();
  } catch (const std::exception& e) {
    spdlog::warn("not watching {} for changes ({}); reload with SIGHUP", config.rules_dir.string(),
                 e.what());
  }

  const auto endpoint = server.local_endpoint();
  spdlog::info("eventrouter {} listening on {}:{} ({}) with {} rules from {}", EVENTROUTER_VERSION,
               endpoint.address().to_string(), endpoint.port(), config.tls ? "https" : "http",
               store->current()->rules().size(), config.rules_dir.string());

  std::thread stopper;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          reload("SIGHUP");
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        sd_notify(0, "STOPPING=1");
        router.set_ready(false);
        server.stop();
        // Waiting happens off the I/O threads, which keep serving in-flight requests.
        stopper = std::thread([&] {
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          dispatcher.shutdown(config.delivery.shutdown_grace);
          // What is still queued (delivery progress) is written before the process ends.
          if (journal) journal->close();
          watcher.stop();
          delivery_io.stop();
          io.stop();
        });
      };
  signals.async_wait(on_signal);

  server.start();
  router.set_ready(true);
  sd_notify(0, "READY=1");
  Watchdog watchdog(io);  // after io, so it is destroyed first

  delivery_io.start();
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  delivery_io.join();
  if (stopper.joinable()) stopper.join();
  // The last deployments are torn down now, while the I/O contexts their targets were built on
  // still exist (their threads have stopped; the targets were shut down by the dispatcher).
  prepared.reset();
  dispatcher.deploy(nullptr);
  reaper.drain();
  spdlog::info("stopped");
  return 0;
}

}  // namespace eventrouter::app
