#include "eventrouter/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <ostream>
#include <sstream>

#include "admin_api.hpp"
#include "dead_letters_api.hpp"
#include "eventrouter/app/activity.hpp"
#include "eventrouter/app/logging.hpp"
#include "eventrouter/app/recent_events.hpp"
#include "eventrouter/app/scheduler.hpp"
#include "eventrouter/app/watchdog.hpp"
#include "eventrouter/delivery/cluster_bus.hpp"
#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/delivery/history.hpp"
#include "eventrouter/delivery/journal.hpp"
#include "eventrouter/delivery/state_dir_lock.hpp"
#include "eventrouter/net/hmac.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/commands.hpp"
#include "eventrouter/rules/rule_store.hpp"
#include "eventrouter/rules/watcher.hpp"
#include "eventrouter/server/http_server.hpp"
#include "eventrouter/targets/registry.hpp"
#include "eventrouter/util/ids.hpp"
#include "history_api.hpp"
#include "io_threads.hpp"
#include "tokens.hpp"

namespace eventrouter::app {

namespace net = boost::asio;

namespace {

StartError start_error(const config::ConfigError& error) {
  std::ostringstream report;
  for (const auto& diagnostic : error.diagnostics()) report << diagnostic.to_string() << "\n";
  return StartError(report.str());
}

StartError start_error(std::string_view what) {
  return StartError("eventrouter: " + std::string(what) + "\n");
}

config::Config load(const std::filesystem::path& config_file) {
  try {
    return config::load_config(config_file);
  } catch (const config::ConfigError& error) {
    throw start_error(error);
  }
}

// The kind of a failure comes from the step that failed, never from its wording.
Expected<bool, server::PatternTestError> test_pattern(std::string_view pattern_json,
                                                      std::string_view event_json) {
  using Kind = server::PatternTestError::Kind;
  auto compiled = pattern::compile(pattern_json);
  if (!compiled)
    return unexpected(server::PatternTestError{Kind::kInvalidPattern, compiled.error()});
  auto matched = pattern::matches(*compiled, event_json);
  if (!matched) return unexpected(server::PatternTestError{Kind::kInvalidEvent, matched.error()});
  return *matched;
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
                                             delivery::DeliveryStore* store,
                                             delivery::DeadLetterSink* dead_letters,
                                             delivery::History* history) {
  delivery::DispatcherOptions options;
  options.default_dead_letter_file = config.state_dir / "dead-letters.jsonl";
  options.store = store;                    // nothing: durability none, a store in memory
  options.dead_letter_sink = dead_letters;  // nothing: files
  options.backoff_base = config.delivery.backoff_base;
  options.backoff_cap = config.delivery.backoff_cap;
  options.archive_retention =
      std::chrono::duration_cast<std::chrono::seconds>(config.delivery.archive_retention);
  options.max_pending_deliveries = config.delivery.max_pending_deliveries;
  options.max_journal_bytes = config.delivery.max_journal_bytes;
  options.max_pending_bytes = config.delivery.max_pending_bytes;
  options.history = history;  // nothing: history.enabled false
  return options;
}

// What routers compare to tell whether they run the same rules: the rule files, by name and
// content, in the order the rule set read them.
std::string rules_digest(const rules::RuleSet& rule_set) {
  std::string all;
  for (const auto& file : rule_set.files()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    all += file.filename().string() + '\n' + std::to_string(content.str().size()) + '\n' +
           content.str();
  }
  return eventrouter::net::sha256_hex(all);
}

delivery::ClusterBusOptions cluster_options(const config::Config& config) {
  delivery::ClusterBusOptions options;
  options.nats = *config.bus.nats;
  options.router_name = config.bus.nats->router_name.empty() ? delivery::default_router_name()
                                                             : config.bus.nats->router_name;
  options.archive_retention = config.delivery.archive_retention;
  options.max_bytes = config.bus.nats->max_bytes;
  options.envelope.max_event_bytes = config.limits.max_event_bytes;
  return options;
}

// Logs each drop of archived events made to keep the journal under archive.max_bytes.
std::function<void(std::size_t, delivery::EpochMillis)> archive_drop_reporter(
    metrics::Counter& dropped_total, std::uint64_t bound) {
  return [&dropped_total, bound](std::size_t dropped, delivery::EpochMillis oldest) {
    dropped_total.inc(dropped);
    spdlog::warn(
        "archive: dropped the {} oldest archived events (the oldest ingested at {}) before "
        "their retention, to keep the journal's data under archive.max_bytes ({} bytes)",
        dropped,
        format_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(oldest))),
        bound);
  };
}

}  // namespace

Daemon::Daemon(const std::filesystem::path& config_file)
    : config_(load(config_file)),
      threads_(std::max(1u, std::thread::hardware_concurrency())),
      io_(static_cast<int>(threads_)),
      delivery_io_(std::make_unique<IoThreads>(threads_)),
      http_work_(net::make_work_guard(io_)),
      // Caught from here on (and queued until run() handles them), so a signal that arrives
      // while starting never kills the process with the default action.
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      target_context_(std::make_unique<targets::TargetContext>(
          targets::TargetContext{delivery_io_->context(), metrics_})) {
  configure_logging(config_.log);
}

Daemon::~Daemon() {
  // If run() never ran (start() failed), its teardown is done here; otherwise this is a no-op.
  if (drainer_.joinable()) drainer_.join();
  scheduler_.reset();                        // it fires into the dispatcher and the cluster
  if (cluster_) cluster_->stop_consuming();  // it hands events to the dispatcher
  prepared_.reset();
  if (dispatcher_) dispatcher_->deploy(nullptr);
  reaper_.drain();
}

void Daemon::start() {
  std::optional<TokensFile> tokens;
  if (!config_.tokens_file.empty()) {
    tokens = read_tokens_file(config_.tokens_file);
    if (!tokens->problems.empty()) throw start_error(config::ConfigError(tokens->problems));
  }
  try {
    store_ = std::make_unique<rules::RuleStore>(config_, targets::catalog());
  } catch (const config::ConfigError& error) {
    throw start_error(error);
  }
  if (tokens) {
    // A bus no rule uses yet is allowed (rules may come later); it is most often a typo.
    const auto rules = store_->current();
    const auto warnings =
        unknown_bus_warnings(config_.tokens_file, *tokens, [&](std::string_view bus) {
          const auto& named = config_.buses;
          return std::find(named.begin(), named.end(), bus) != named.end() || rules->has_bus(bus);
        });
    for (const auto& warning : warnings) spdlog::warn("{}", warning.to_string());
    tokens_ = std::make_unique<TokenList>(std::move(tokens->entries));
  }
  open_state();
  deploy_rules();
  start_server();
  watch_rules();
}

// One daemon per state_dir, whatever its durability: queue files and dead letters live there
// too. The lock is taken, and the journal opened, before anything listens: a journal that
// cannot be opened stops the start. Unfinished deliveries resume once the targets are built.
void Daemon::open_state() {
  try {
    state_lock_ = std::make_unique<delivery::StateDirLock>(config_.state_dir);
  } catch (const std::exception& e) {
    throw start_error(e.what());
  }
  if (config_.history.enabled) {
    delivery::HistoryOptions options;
    options.file = config_.state_dir / "history.db";
    options.max_age = std::chrono::duration_cast<std::chrono::seconds>(config_.history.max_age);
    options.max_bytes = config_.history.max_bytes;
    try {
      history_ = std::make_unique<delivery::History>(std::move(options));
    } catch (const std::exception& e) {
      throw start_error(e.what());
    }
    history_->publish_metrics(metrics_);
  }
  if (config_.bus.backend == config::Backend::kNats) {
    try {
      cluster_ = std::make_unique<delivery::ClusterBus>(cluster_options(config_), metrics_);
      cluster_->open();
    } catch (const std::exception& e) {
      throw start_error(e.what());
    }
    return;
  }
  if (config_.delivery.durability == config::Durability::kNone) return;
  auto& archive_dropped =
      metrics_.counter("eventrouter_archive_dropped_total",
                       "Archived events dropped before their retention to keep the journal under "
                       "archive.max_bytes.");
  try {
    delivery::JournalOptions options;
    options.state_dir = config_.state_dir;
    options.lock_state_dir = false;  // held above
    options.archive_max_bytes = config_.delivery.effective_archive_max_bytes();
    options.on_archive_dropped = archive_drop_reporter(archive_dropped, options.archive_max_bytes);
    journal_ = std::make_unique<delivery::Journal>(std::move(options));
  } catch (const std::exception& e) {
    throw start_error(e.what());
  }
}

// Builds the rules' targets, resumes what the journal holds, and arranges for reloads: a
// reload builds the new rule set's targets before the swap, and if they cannot be built the
// reload fails as a whole and the running rules and targets stay.
void Daemon::deploy_rules() {
  std::optional<delivery::Journal::Pending> pending;
  if (journal_) {
    try {
      pending = journal_->load_pending();
    } catch (const std::exception& e) {
      throw start_error(e.what());
    }
  }
  delivery::DeliveryStore* store = journal_.get();
  if (cluster_) store = &cluster_->store();
  auto options = dispatch_options(config_, store, cluster_.get(), history_.get());
  if (cluster_) options.shared_dedup = &cluster_->shared_dedup();
  dispatcher_ =
      std::make_unique<delivery::Dispatcher>(delivery_io_->context(), std::move(options), metrics_);
  if (cluster_) dispatcher_->set_admin_backend(cluster_.get());
  try {
    dispatcher_->deploy(
        delivery::Deployment::create(store_->current(), *target_context_, metrics_, reaper_));
  } catch (const std::exception& e) {
    throw start_error(e.what());
  }
  if (pending) dispatcher_->resume(std::move(*pending));
  if (cluster_) {
    cluster_->set_rules_digest(rules_digest(*store_->current()));
    cluster_->start_consuming(*dispatcher_);
  }
  admin_ = std::make_unique<AdminApi>(*dispatcher_);
  scheduler_ = std::make_unique<Scheduler>(
      [this] { return store_->current(); },
      [this](const rules::Rule& rule, rules::ScheduleTime due, std::string json) {
        return fire_scheduled(rule, due, std::move(json));
      },
      metrics_, ScheduleClock::from_environment());
  reloads_ok_ = &metrics_.counter("eventrouter_rule_reloads_total", "Rule reloads, by outcome.",
                                  {{"outcome", "success"}});
  reloads_failed_ = &metrics_.counter("eventrouter_rule_reloads_total", "Rule reloads, by outcome.",
                                      {{"outcome", "failure"}});
  store_->on_prepare([this](const std::shared_ptr<const rules::RuleSet>& rule_set) {
    prepared_ = delivery::Deployment::create(rule_set, *target_context_, metrics_, reaper_);
  });
  store_->on_swap([this](const std::shared_ptr<const rules::RuleSet>& rule_set) {
    dispatcher_->deploy(std::move(prepared_));
    if (cluster_) cluster_->set_rules_digest(rules_digest(*rule_set));
  });
}

// What `eventrouter dlq list` would show, for GET /dead-letters: the dead-letter files, or the
// cluster's dead-letter stream. Lines that are not records are counted, not reported.
Expected<DeadLetterListing, std::string> Daemon::read_dead_letters(
    const DeadLetterFilter& filter) const {
  std::ostringstream ignored;
  if (!cluster_) {
    return app::read_dead_letters(dead_letter_files(config_, store_->current().get()), filter,
                                  ignored);
  }
  auto letters = cluster_->dead_letters();  // on the router's own connection
  if (!letters)
    return unexpected("cannot read the dead letters from the NATS cluster: " + letters.error());
  std::vector<std::pair<std::size_t, std::string>> lines;
  for (auto& letter : *letters) lines.emplace_back(letter.seq, std::move(letter.record));
  return read_dead_letter_lines("nats:" + config_.bus.nats->stream + "_DLQ", lines, filter,
                                ignored);
}

// With the cluster backend every router publishes the event and the stream keeps one copy.
bool Daemon::fire_scheduled(const rules::Rule& rule, rules::ScheduleTime due, std::string json) {
  if (!cluster_) return dispatcher_->fire(rule.name, std::move(json), rule.bus);
  auto published =
      cluster_->publish_scheduled(rule.name, due.time_since_epoch().count(), rule.bus, json);
  if (!published) {
    spdlog::warn("schedule of rule {}: cannot publish to the cluster: {}", rule.name,
                 published.error());
  }
  return published.has_value();
}

void Daemon::start_server() {
  server::RouterServices services;
  recent_ = std::make_unique<RecentEvents>(cluster_ ? static_cast<server::EventSink&>(*cluster_)
                                                    : *dispatcher_);
  services.sink = recent_.get();
  services.recent_events = [this](std::string_view target) { return recent_->answer(target); };
  services.match_recent_events = [this](std::string_view pattern, std::size_t limit) {
    return recent_->match(pattern, limit);
  };
  activity_ = std::make_unique<Activity>(metrics_);
  activity_->start();
  services.activity_json = [this] { return activity_->json(Activity::Clock::now()); };
  services.dead_letters = [this](std::string_view target) {
    return answer_dead_letters(
        [this](const DeadLetterFilter& filter) { return read_dead_letters(filter); }, target);
  };
  if (cluster_) {
    services.readiness = [this] {
      auto status = cluster_->status();
      return server::Readiness{status.ready, std::move(status.reason), std::move(status.warnings)};
    };
  }
  services.envelope.max_event_bytes = config_.limits.max_event_bytes;
  services.metrics = &metrics_;
  services.rules_json = [this] {
    return rules::render_rules_json(*store_->current(), store_->status());
  };
  services.test_pattern = test_pattern;
  services.bus_exists = [this](std::string_view bus) {
    const auto& named = config_.buses;
    if (std::find(named.begin(), named.end(), bus) != named.end()) return true;
    auto deployment = dispatcher_->current();
    return deployment && deployment->rules().has_bus(bus);
  };
  if (history_) {
    services.history = [this](std::string_view target) {
      return answer_history(*history_, target);
    };
  }
  services.replay = admin_->replay_handler();
  services.redrive = admin_->redrive_handler();
  if (tokens_) {
    services.auth_required = true;
    services.token_access = [this](std::string_view token) { return tokens_->find(token); };
  }
  router_ = std::make_unique<server::Router>(std::move(services));
  server_ = std::make_unique<server::HttpServer>(io_, server_options(config_), *router_, &metrics_);
  try {
    server_->listen();
  } catch (const std::system_error& e) {
    throw start_error(std::string(e.what()) + " (listen in " + config_.file.string() + ")");
  } catch (const std::exception& e) {
    throw start_error(std::string(e.what()) + " (in " + config_.file.string() + ")");
  }
}

void Daemon::watch_rules() {
  watcher_ = std::make_unique<rules::RulesDirectoryWatcher>(config_.rules_dir, [this] {
    net::post(io_, [this] { reload("a file in rules_dir changed"); });
  });
  try {
    watcher_->start();
  } catch (const std::exception& e) {
    spdlog::warn("not watching {} for changes ({}); reload with SIGHUP", config_.rules_dir.string(),
                 e.what());
  }
}

boost::asio::ip::tcp::endpoint Daemon::local_endpoint() const {
  return server_->local_endpoint();
}

void Daemon::reload(std::string_view why) {
  sd_notify(0, "RELOADING=1");
  spdlog::info("reloading rules ({})", why);
  (store_->reload() ? *reloads_ok_ : *reloads_failed_).inc();
  sd_notify(0, "READY=1");
}

void Daemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      reload("SIGHUP");
      return wait_for_signal();
    }
    spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    stop();
  });
}

int Daemon::run() {
  const auto endpoint = local_endpoint();
  spdlog::info("eventrouter {} listening on {}:{} ({}) with {} rules from {}", EVENTROUTER_VERSION,
               endpoint.address().to_string(), endpoint.port(), config_.tls ? "https" : "http",
               store_->current()->rules().size(), config_.rules_dir.string());
  wait_for_signal();
  if (!stopping_.load()) {  // stop() may come first, from another thread
    server_->start();
    router_->set_ready(true);
    sd_notify(0, "READY=1");
  }
  watchdog_ = std::make_unique<Watchdog>(io_);

  delivery_io_->start();
  scheduler_->start();  // not after stop(): it is a no-op then
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& thread : pool) thread.join();
  delivery_io_->join();
  if (drainer_.joinable()) drainer_.join();
  watchdog_.reset();  // its timer belongs to io_, which has stopped
  // The last deployments are torn down now, while the I/O contexts their targets were built on
  // still exist (their threads have stopped; the targets were shut down by the dispatcher).
  prepared_.reset();
  dispatcher_->deploy(nullptr);
  reaper_.drain();
  spdlog::info("stopped");
  return 0;
}

void Daemon::stop() {
  if (stopping_.exchange(true)) return;
  sd_notify(0, "STOPPING=1");
  router_->set_ready(false);
  server_->stop();
  // Waiting happens off the I/O threads, which keep serving the requests in flight.
  drainer_ = std::thread([this] { drain(); });
}

void Daemon::drain() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_->open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  scheduler_->stop();                        // fires no more
  if (cluster_) cluster_->stop_consuming();  // no new events taken from here on
  dispatcher_->shutdown(config_.delivery.shutdown_grace);
  // What is still queued (delivery progress) is written before the process ends.
  if (journal_) journal_->close();
  if (cluster_) cluster_->close();  // and unfinished events are handed back to the cluster
  watcher_->stop();
  delivery_io_->stop();
  io_.stop();
}

int run_daemon(const std::filesystem::path& config_file, std::ostream& err) {
  try {
    Daemon daemon(config_file);
    daemon.start();
    return daemon.run();
  } catch (const StartError& error) {
    err << error.what();
    return 1;
  }
}

}  // namespace eventrouter::app
