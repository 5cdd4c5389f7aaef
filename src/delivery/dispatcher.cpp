#include "eventrouter/delivery/dispatcher.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>
#include <thread>

#include "eventrouter/util/ids.hpp"

namespace eventrouter::delivery {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

// One (event, rule, target) delivery and where it stands.
struct Dispatcher::Attempt {
  std::shared_ptr<Deployment> deployment;  // keeps the rule set and its targets alive
  DeployedTarget* target;
  targets::Invocation invocation;
  std::chrono::system_clock::time_point ingested_at;
  Clock::time_point first_try;
};

Dispatcher::Dispatcher(net::io_context& io, DispatcherOptions options, metrics::Registry& metrics)
    : io_(io),
      options_(std::move(options)),
      metrics_(metrics),
      matched_(metrics.counter("eventrouter_events_matched_total",
                               "Events that matched at least one rule.")),
      unmatched_(metrics, "eventrouter_events_unmatched_total", "Events no enabled rule matched.",
                 "bus"),
      dispatch_latency_(
          metrics.histogram("eventrouter_ingest_to_invocation_seconds",
                            "Time from ingestion to the start of the first invocation attempt.")) {
  metrics_.gauge_callback("eventrouter_pending_deliveries",
                          "Deliveries in flight or waiting for a retry.",
                          [this] { return static_cast<double>(in_flight_.load()); });
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::deploy(std::shared_ptr<Deployment> deployment) {
  std::shared_ptr<Deployment> old;
  {
    std::lock_guard lock(deployment_mutex_);
    old = std::exchange(deployment_, std::move(deployment));
  }
  // The old deployment's targets shut down when its last attempt lets go of it.
}

std::shared_ptr<Deployment> Dispatcher::current() const {
  std::lock_guard lock(deployment_mutex_);
  return deployment_;
}

void Dispatcher::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  if (stopping_.load()) {
    done(server::SinkRefusal{503, "ShuttingDown", "the daemon is shutting down; retry shortly",
                             std::chrono::seconds(2)});
    return;
  }
  auto deployment = current();
  for (const auto& event : events) dispatch(event, deployment);
  done(std::nullopt);
}

void Dispatcher::dispatch(const event::Event& event,
                          const std::shared_ptr<Deployment>& deployment) {
  std::vector<const rules::Rule*> matched;
  if (deployment)
    deployment->rules().match(event.bus, simdjson::padded_string_view(event.json), matched);
  if (matched.empty()) {
    unmatched_.get(event.bus).inc();
    spdlog::debug("event {} from {} on bus {} matched no rule", event.id, event.source, event.bus);
    return;
  }
  matched_.inc();
  const std::string ingestion_time = format_rfc3339_millis(event.ingested_at);
  for (const rules::Rule* rule : matched) {
    deployment->matches_of(*rule).inc();
    for (DeployedTarget* target : deployment->targets_of(*rule)) {
      auto attempt = std::make_shared<Attempt>();
      attempt->deployment = deployment;
      attempt->target = target;
      attempt->ingested_at = event.ingested_at;
      attempt->first_try = Clock::now();
      auto& inv = attempt->invocation;
      inv.event_id = event.id;
      inv.rule = rule->name;
      inv.target = target->spec->id;
      inv.source = event.source;
      inv.detail_type = event.detail_type;
      inv.event_json = event.json;
      inv.ingestion_time = ingestion_time;
      auto payload = target->shaper.shape(event.json, rule->name, ingestion_time);
      in_flight_.fetch_add(1);
      if (!payload) {
        // The event lacks what the transformer needs: retrying cannot help.
        on_result(std::move(attempt),
                  targets::DeliveryResult::permanent("INVALID_PARAMETER", payload.error()));
        continue;
      }
      inv.payload = std::move(*payload);
      invoke(std::move(attempt));
    }
  }
}

void Dispatcher::invoke(std::shared_ptr<Attempt> attempt) {
  if (attempt->invocation.attempt == 1) {
    dispatch_latency_.observe(
        std::chrono::duration<double>(std::chrono::system_clock::now() - attempt->ingested_at)
            .count());
  }
  attempt->target->metrics.attempts->inc();
  auto* target = attempt->target->target.get();
  const auto started = Clock::now();
  target->deliver(attempt->invocation, [this, attempt, started](targets::DeliveryResult result) {
    attempt->target->metrics.duration->observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    on_result(attempt, std::move(result));
  });
}

std::chrono::milliseconds Dispatcher::backoff(int attempt) const {
  // Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
  const int shift = std::min(attempt - 1, 20);
  const auto ceiling =
      std::min<std::int64_t>(options_.backoff_cap.count(), options_.backoff_base.count() << shift);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 10,
                                                   std::max<std::int64_t>(ceiling, 1));
  return std::chrono::milliseconds(pick(random));
}

void Dispatcher::on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result) {
  const auto& inv = attempt->invocation;
  const auto& counters = attempt->target->metrics;
  if (result.outcome == targets::Outcome::success) {
    counters.succeeded->inc();
    spdlog::debug("delivered event {} to {}/{} (attempt {})", inv.event_id, inv.rule, inv.target,
                  inv.attempt);
    in_flight_.fetch_sub(1);
    return;
  }

  const auto& policy = attempt->target->spec->retry_policy;
  const auto age = Clock::now() - attempt->first_try;
  if (result.outcome == targets::Outcome::permanent) return dead_letter(*attempt, result, "");
  auto delay = backoff(inv.attempt);
  if (result.retry_after) delay = std::max<std::chrono::milliseconds>(delay, *result.retry_after);
  if (inv.attempt > policy.maximum_retry_attempts)
    return dead_letter(*attempt, result, "MaximumRetryAttempts");
  if (age + delay > std::chrono::seconds(policy.maximum_event_age_seconds))
    return dead_letter(*attempt, result, "MaximumEventAgeInSeconds");
  if (stopping_.load()) return dead_letter(*attempt, result, "ShuttingDown");

  counters.retried->inc();
  spdlog::warn("event {} to {}/{} failed (attempt {}): {} {}; retrying in {} ms", inv.event_id,
               inv.rule, inv.target, inv.attempt, result.error_code, result.error_message,
               delay.count());
  auto timer = std::make_shared<net::steady_timer>(io_, delay);
  {
    std::lock_guard lock(waiting_mutex_);
    waiting_.insert(timer);
  }
  timer->async_wait([this, timer, attempt, result](boost::system::error_code) mutable {
    {
      std::lock_guard lock(waiting_mutex_);
      waiting_.erase(timer);
    }
    if (stopping_.load()) return dead_letter(*attempt, result, "ShuttingDown");
    attempt->invocation.attempt += 1;
    invoke(std::move(attempt));
  });
}

void Dispatcher::dead_letter(const Attempt& attempt, const targets::DeliveryResult& result,
                             std::string_view exhausted) {
  const auto& inv = attempt.invocation;
  attempt.target->metrics.dead_lettered->inc();
  attempt.target->metrics.dead_letters->inc();
  const auto& spec = *attempt.target->spec;
  const auto file = spec.dead_letter ? spec.dead_letter->path : options_.default_dead_letter_file;
  spdlog::error("event {} to {}/{} dead-lettered to {} after {} attempt(s): {} {}", inv.event_id,
                inv.rule, inv.target, file.string(), inv.attempt, result.error_code,
                result.error_message);
  dead_letters_.write(
      file, DeadLetter{inv.event_json, inv.payload, inv.rule, inv.target, result.error_code,
                       result.error_message, exhausted, inv.attempt - 1});
  in_flight_.fetch_sub(1);
}

void Dispatcher::shutdown(std::chrono::milliseconds grace) {
  stopping_.store(true);
  {
    // Retries not yet due will not be made: their handlers dead-letter them.
    std::lock_guard lock(waiting_mutex_);
    for (const auto& timer : waiting_) timer->cancel();
  }
  const auto deadline = Clock::now() + grace;
  while (in_flight_.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (in_flight_.load() > 0)
    spdlog::warn("{} invocations still running at shutdown; their outcome is not recorded",
                 in_flight_.load());
}

}  // namespace eventrouter::delivery
