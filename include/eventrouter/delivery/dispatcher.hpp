#pragma once
// Takes accepted events, matches them against the rules, and invokes every matching rule's
// targets in parallel, retrying retryable failures with backoff and writing what cannot be
// delivered to a dead-letter file.
//
// This is the in-memory engine: what is pending lives in memory (the durable journal comes
// with issue 6 and slots in front of it).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include "eventrouter/delivery/dead_letters.hpp"
#include "eventrouter/delivery/deployment.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/server/event_sink.hpp"

namespace eventrouter::delivery {

struct DispatcherOptions {
  std::filesystem::path default_dead_letter_file;  // for targets without dead_letter.path
  std::chrono::milliseconds backoff_base{1000};    // first retry after up to this long
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
};

class Dispatcher : public server::EventSink {
 public:
  Dispatcher(boost::asio::io_context& io, DispatcherOptions options, metrics::Registry& metrics);
  ~Dispatcher() override;

  // Swaps in the targets of a new rule set; events already matched finish with the old one.
  void deploy(std::shared_ptr<Deployment> deployment);
  std::shared_ptr<Deployment> current() const;

  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;

  // Stops taking events, writes deliveries waiting for a retry to their dead-letter files
  // (EXHAUSTED_RETRY_CONDITION ShuttingDown: without a journal they would otherwise be lost),
  // and waits up to `grace` for invocations in flight.
  void shutdown(std::chrono::milliseconds grace);
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  struct Attempt;
  void dispatch(const event::Event& event, const std::shared_ptr<Deployment>& deployment);
  void invoke(std::shared_ptr<Attempt> attempt);
  void on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result);
  void dead_letter(const Attempt& attempt, const targets::DeliveryResult& result,
                   std::string_view exhausted);
  std::chrono::milliseconds backoff(int attempt) const;

  boost::asio::io_context& io_;
  DispatcherOptions options_;
  metrics::Registry& metrics_;
  DeadLetters dead_letters_;
  mutable std::mutex deployment_mutex_;
  std::shared_ptr<Deployment> deployment_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::mutex waiting_mutex_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> waiting_;  // retries not yet due
  metrics::Counter& matched_;
  metrics::LabeledCounters unmatched_;  // by bus
  metrics::Histogram& dispatch_latency_;
};

}  // namespace eventrouter::delivery
