#pragma once
// The heart of the delivery engine: plans an event's deliveries from the rules it matches,
// records them in the store, invokes the targets, retries retryable failures with backoff and
// writes what cannot be delivered to a dead-letter file. Every decision about a delivery is
// made here; the store only records the outcome.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "delivery_metrics.hpp"
#include "event_state.hpp"
#include "eventrouter/delivery/dead_letters.hpp"
#include "eventrouter/delivery/delivery_options.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/deployment.hpp"
#include "eventrouter/targets/target.hpp"
#include "memory_trimmer.hpp"
#include "response_gate.hpp"

namespace eventrouter::delivery {

class DeliveryCore {
 public:
  DeliveryCore(boost::asio::io_context& io, const DispatcherOptions& options, DeliveryStore& store,
               DeliveryMetrics& metrics);
  ~DeliveryCore();

  void deploy(std::shared_ptr<Deployment> deployment);
  std::shared_ptr<Deployment> current() const;

  // Whether a rule's dedup and max_invocations apply: not to what an operator asked for
  // (replays).
  enum class Controls { kApply, kBypass };
  // Matches `event` against `deployment` (only `only_rule` when not empty) and adds the event
  // and one delivery per matched target to `batch`, except to the targets of rules whose dedup
  // suppresses it or whose max_invocations holds it.
  void plan(std::shared_ptr<EventState> event, const std::shared_ptr<Deployment>& deployment,
            const std::string& only_rule, Batch& batch, Controls controls = Controls::kApply);
  // Adds `event` with exactly one delivery, to `target`, without matching (redrive).
  void plan_one(std::shared_ptr<EventState> event, const std::shared_ptr<Deployment>& deployment,
                DeployedTarget* target, Batch& batch);

  // Sets the timers of storm windows that began to hold events and sends the digests of windows
  // that closed (submit() does it for its batch; a batch that is not submitted needs it too).
  void apply_controls(GateEffects& effects);
  // Records the batch, counts its matches, then starts its deliveries; `done` says whether it
  // was recorded.
  using Submitted = std::function<void(std::optional<StoreFailure>)>;
  void submit(Batch batch, Submitted done);
  std::optional<StoreFailure> submit_and_wait(Batch batch);

  // Picks up every unfinished delivery the store holds (after deploy, before taking events).
  // Returns how many deliveries resumed.
  std::size_t resume(DeliveryStore::Pending pending);

  // From now on stopping(): admission refuses, nothing new is started or scheduled.
  void begin_shutdown() { stopping_.store(true); }
  // Stops, and waits up to `grace` for invocations in flight, then aborts the rest. With a
  // durable store, deliveries waiting for a retry stay in it for the next start; otherwise
  // they are written to their dead-letter files (ShuttingDown).
  void shutdown(std::chrono::milliseconds grace);

  bool stopping() const { return stopping_.load(); }
  std::size_t pending() const { return pending_.load(); }
  // What pending deliveries hold in memory (delivery.max_pending_bytes bounds it).
  std::uint64_t pending_bytes() const { return pending_bytes_.held(); }
  // Accepted events are archived (kept after delivery for replays).
  bool archives() const { return archives_; }
  const DispatcherOptions& options() const { return options_; }
  DeliveryStore& store() { return store_; }
  DeadLetters& dead_letter_files() { return dead_letters_; }
  // Writes an event whose rule or target is not loaded to the default dead-letter file
  // (RESOURCE_NOT_FOUND, "rule R or its target T <why>"), where a redrive finds it once the
  // rule is back. Returns whether it was written.
  bool dead_letter_unloaded(std::string_view event_json, const std::string& rule,
                            const std::string& target, std::string_view why, int attempts);

 private:
  struct Records {
    std::vector<NewEvent> events;
    std::vector<NewDelivery> deliveries;
  };
  // A storm window's digest is due: a timer on the delivery threads sends it then.
  void schedule_digest(DigestDue due);
  // Sends a digest event to its rule's targets in the current deployment, through the store.
  // `wait`: until it is recorded (at shutdown, before the store closes).
  void send_digest(DigestReady digest, bool wait);
  void add(Batch& batch, const std::shared_ptr<EventState>& event,
           const std::shared_ptr<Deployment>& deployment, DeployedTarget* target);
  void count(const Matches& matches);
  // Counts a submitted event's text and state in pending_bytes() while it lives.
  void charge(EventState& event);
  Expected<std::string, std::string> shape(const Attempt& attempt) const;
  void start(std::shared_ptr<Attempt> attempt);
  void invoke(std::shared_ptr<Attempt> attempt, std::string payload);
  void on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result);
  void retry_later(std::shared_ptr<Attempt> attempt, std::chrono::milliseconds delay,
                   targets::DeliveryResult result);
  // At stop, a delivery that will not be tried again here: kept by a durable store, else
  // written down.
  void set_aside(Attempt& attempt, const targets::DeliveryResult& result);
  void dead_letter(Attempt& attempt, const targets::DeliveryResult& result,
                   std::string_view exhausted);
  // The history's record of newly recorded events (with their planned deliveries) and of what
  // happens to one delivery.
  void record_receptions(const std::vector<std::shared_ptr<EventState>>& events,
                         const std::vector<std::shared_ptr<Attempt>>& attempts);
  void record_step(const Attempt& attempt, const char* kind, const targets::DeliveryResult& result);
  // The delivery is over (delivered or dead-lettered): the store forgets it.
  void finish(Attempt& attempt);
  // The delivery stops here but stays in the store, for the next start.
  void release(Attempt& attempt);
  std::chrono::milliseconds backoff(int attempt) const;

  boost::asio::io_context& io_;
  const DispatcherOptions& options_;
  DeliveryStore& store_;
  DeliveryMetrics& metrics_;
  const bool archives_;
  DeadLetters dead_letters_;
  DeadLetterSink& dead_letter_sink_;  // dead_letters_, unless the options name another
  mutable std::mutex deployment_mutex_;
  std::shared_ptr<Deployment> deployment_;
  // Every deployment ever deployed that may still be alive (older ones drain their attempts):
  // shutdown() stops all of their targets.
  std::vector<std::weak_ptr<Deployment>> deployed_;
  std::atomic<std::size_t> pending_{0};  // recorded deliveries not yet finished
  std::atomic<std::size_t> running_{0};  // invocations in progress
  std::atomic<bool> stopping_{false};
  std::mutex waiting_mutex_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> waiting_;  // retries not yet due
  ResponseGate gate_;
  std::mutex digest_timers_mutex_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> digest_timers_;  // storm windows' ends
  PendingBytes pending_bytes_;
  // Last: it stops (joins its thread) before the rest goes.
  MemoryTrimmer trimmer_;
};

}  // namespace eventrouter::delivery
