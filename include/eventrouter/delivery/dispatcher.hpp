#pragma once
// The delivery engine as the daemon sees it: takes accepted events (the ingest sink), matches
// them against the rules, records them and their deliveries in the store, and invokes every
// matching rule's targets in parallel, retrying retryable failures with backoff and writing
// what cannot be delivered to a dead-letter file; and carries out the operator's replays and
// redrives. It puts together the pieces that do each job: admission (refusals under load),
// the core (planning, invoking, retries, dead letters) and the admin operations.
//
// Without a store (durability: none) the same engine runs from memory alone.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/delivery/delivery_options.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/deployment.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/server/event_sink.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::delivery {

// An operator request (replay, redrive) that could not be carried out.
struct AdminError {
  int status = 400;
  std::string code;
  std::string message;
};

struct ReplayRequest {
  std::string name;  // carried by replayed events as replay-name
  std::chrono::system_clock::time_point from, to;
  std::string bus;   // empty: every bus
  std::string rule;  // empty: every rule that matches
};

struct ReplayResult {
  std::size_t events_replayed = 0;
  std::size_t deliveries = 0;
};

struct RedriveResult {
  std::size_t redriven = 0;
  std::size_t skipped = 0;               // their rule or target no longer exists; left in place
  std::vector<std::string> skipped_why;  // one line per distinct reason
};

// An event a shared, replicated log (the cluster backend) hands to this router to deliver.
// It is durable already, and numbered by the log; the log forgets it once every delivery the
// dispatcher started for it has finished (DeliveryStore::finish).
struct LoggedEvent {
  std::int64_t seq = 0;  // the log's number for it, above 0
  std::string json;
  std::string bus;
  std::chrono::system_clock::time_point ingested_at;  // the age clock of its deliveries
  std::string only_rule;  // a replay of one rule: only that rule's deliveries
  bool replayed = false;  // an operator's replay: dedup and max_invocations do not apply
  // A redrive: exactly this (rule, target) delivery, without matching.
  std::optional<std::pair<std::string, std::string>> only_target;
  // What earlier holders of the event recorded for a (rule, target): nothing when no attempt
  // was recorded, kDelivered when it finished, else the attempts made. Asked only when set.
  static constexpr int kDelivered = -1;
  std::function<std::optional<int>(const std::string& rule, const std::string& target)> progress;
};

// Replays and redrives carried out by the backend rather than by this dispatcher (the cluster
// backend turns them into work for every router).
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  virtual Expected<ReplayResult, AdminError> replay(const ReplayRequest& request,
                                                    Deployment* deployment) = 0;
  virtual Expected<RedriveResult, AdminError> redrive(const std::string& rule,
                                                      const std::string& target,
                                                      Deployment* deployment) = 0;
};

class DeliveryCore;
class Admission;
class AdminOperations;
class MemoryStore;
struct DeliveryMetrics;

class Dispatcher : public server::EventSink {
 public:
  // `io` runs retry timers and starts invocations: the delivery side's io_context, which the
  // daemon keeps apart from the HTTP server's.
  Dispatcher(boost::asio::io_context& io, DispatcherOptions options, metrics::Registry& metrics);
  ~Dispatcher() override;

  // Swaps in the targets of a new rule set; events already matched finish with the old one.
  void deploy(std::shared_ptr<Deployment> deployment);
  std::shared_ptr<Deployment> current() const;

  // Picks up every unfinished delivery the store held at start (after deploy, before taking
  // events). Returns how many deliveries resumed.
  std::size_t resume(DeliveryStore::Pending pending);

  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;

  // Delivers a scheduled rule's event (built by the caller) to that rule's targets only, on
  // `bus`, through the same store, retries and dead letters as an accepted event. Returns
  // whether deliveries were recorded: false while the engine refuses events (stopping, full),
  // or when the rule is not loaded, disabled or not scheduled.
  bool fire(const std::string& rule, std::string event_json, std::string bus);

  // Delivers an event from a shared log: matches it (or takes its one target), skips the
  // deliveries its progress says are done, and starts the rest, resuming their attempt count.
  // Returns how many deliveries started; 0 means the log may forget the event now.
  std::size_t take_logged(LoggedEvent event);
  // From now on replay() and redrive() are the backend's (set before serving).
  void set_admin_backend(AdminBackend* backend) { admin_backend_ = backend; }

  // Re-drives archived events through the current rules; blocks until they are recorded.
  Expected<ReplayResult, AdminError> replay(const ReplayRequest& request);
  // Puts dead letters (of `rule` / `target` when not empty) back into delivery; blocks.
  Expected<RedriveResult, AdminError> redrive(const std::string& rule, const std::string& target);

  // Stops taking events and waits up to `grace` for invocations in flight. With a durable
  // store, deliveries waiting for a retry stay in it for the next start; without one they are
  // written to their dead-letter files (EXHAUSTED_RETRY_CONDITION ShuttingDown), not lost.
  void shutdown(std::chrono::milliseconds grace);
  std::size_t pending() const;

 private:
  DispatcherOptions options_;
  std::unique_ptr<MemoryStore> memory_store_;  // when options_ name no store
  std::unique_ptr<DeliveryMetrics> metrics_;
  std::unique_ptr<DeliveryCore> core_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<AdminOperations> admin_;
  AdminBackend* admin_backend_ = nullptr;
};

}  // namespace eventrouter::delivery
