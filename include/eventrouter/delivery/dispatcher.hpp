#pragma once
// Takes accepted events, matches them against the rules, records them and their deliveries in
// the journal, and invokes every matching rule's targets in parallel, retrying retryable
// failures with backoff and writing what cannot be delivered to a dead-letter file.
//
// Without a journal (durability: none) the same engine runs from memory alone.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "eventrouter/delivery/dead_letters.hpp"
#include "eventrouter/delivery/deployment.hpp"
#include "eventrouter/delivery/journal.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/server/event_sink.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::delivery {

struct DispatcherOptions {
  std::filesystem::path default_dead_letter_file;  // for targets without dead_letter.path
  std::chrono::milliseconds backoff_base{1000};    // first retry after up to this long
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  Journal* journal = nullptr;  // nothing: durability none, everything in memory
  // Accepted events stay in the journal this long for replays (0: no archive). Needs a journal.
  std::chrono::seconds archive_retention{std::chrono::hours(24 * 7)};
  // Past either bound, ingest answers 503 with Retry-After instead of growing without limit.
  std::size_t max_pending_deliveries = 100000;
  std::uint64_t max_journal_bytes = std::uint64_t{1} << 30;
};

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

class Dispatcher : public server::EventSink {
 public:
  // `io` runs retry timers and starts invocations: the delivery side's io_context, which the
  // daemon keeps apart from the HTTP server's.
  Dispatcher(boost::asio::io_context& io, DispatcherOptions options, metrics::Registry& metrics);
  ~Dispatcher() override;

  // Swaps in the targets of a new rule set; events already matched finish with the old one.
  void deploy(std::shared_ptr<Deployment> deployment);
  std::shared_ptr<Deployment> current() const;

  // Picks up every unfinished delivery in the journal (after deploy, before taking events).
  // Returns how many deliveries resumed.
  std::size_t resume(Journal::Pending pending);

  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;

  // Re-drives archived events through the current rules; blocks until they are recorded.
  Expected<ReplayResult, AdminError> replay(const ReplayRequest& request);
  // Puts dead letters (of `rule` / `target` when not empty) back into delivery; blocks.
  Expected<RedriveResult, AdminError> redrive(const std::string& rule, const std::string& target);

  // Stops taking events and waits up to `grace` for invocations in flight. With a journal,
  // deliveries waiting for a retry stay in it for the next start; without one they are written
  // to their dead-letter files (EXHAUSTED_RETRY_CONDITION ShuttingDown), not lost.
  void shutdown(std::chrono::milliseconds grace);
  std::size_t pending() const { return pending_.load(); }

 private:
  struct EventState;
  struct Attempt;
  struct Matches;
  struct Batch;
  std::optional<server::SinkRefusal> overloaded() const;
  void plan(std::shared_ptr<EventState> event, const std::shared_ptr<Deployment>& deployment,
            const std::string& only_rule, Batch& batch);
  // A new delivery of `event` to `target`, its age clock started at ingestion.
  std::shared_ptr<Attempt> new_attempt(const std::shared_ptr<EventState>& event,
                                       const std::shared_ptr<Deployment>& deployment,
                                       DeployedTarget* target);
  // Adds a recorded batch's matches to the rules' match_count and the match metrics.
  void count(const Matches& matches);
  // Records the batch, counts its matches, then starts its deliveries; `done` says whether it
  // was recorded.
  void submit(Batch batch, std::function<void(std::optional<JournalFailure>)> done);
  std::optional<JournalFailure> submit_and_wait(Batch batch);
  void start(std::shared_ptr<Attempt> attempt);
  void invoke(std::shared_ptr<Attempt> attempt);
  void retry_later(std::shared_ptr<Attempt> attempt, std::chrono::milliseconds delay,
                   targets::DeliveryResult result);
  void on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result);
  void dead_letter(Attempt& attempt, const targets::DeliveryResult& result,
                   std::string_view exhausted);
  void finish(Attempt& attempt);
  void release(Attempt& attempt);
  void schedule_archive_expiry();
  std::chrono::milliseconds backoff(int attempt) const;

  boost::asio::io_context& io_;
  DispatcherOptions options_;
  metrics::Registry& metrics_;
  DeadLetters dead_letters_;
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
  boost::asio::steady_timer expiry_timer_;
  metrics::Counter& matched_;
  metrics::LabeledCounters unmatched_;  // by bus
  metrics::Histogram& dispatch_latency_;
  metrics::Counter& replayed_;
  metrics::Counter& redriven_;
};

}  // namespace eventrouter::delivery
