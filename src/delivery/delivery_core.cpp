#include "delivery_core.hpp"

#include "eventrouter/delivery/history.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <random>
#include <thread>
#include <unordered_map>

#include "eventrouter/util/ids.hpp"
#include "storm_digest.hpp"

namespace eventrouter::delivery {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

DeliveryCore::DeliveryCore(net::io_context& io, const DispatcherOptions& options,
                           DeliveryStore& store, DeliveryMetrics& metrics)
    : io_(io),
      options_(options),
      store_(store),
      metrics_(metrics),
      archives_(store.can_archive() && options.archive_retention.count() > 0),
      dead_letter_sink_(options.dead_letter_sink ? *options.dead_letter_sink : dead_letters_),
      gate_(metrics.registry),
      // A backlog worth giving back: 16 MiB, or half the bound when that is smaller.
      trimmer_([this] { return pending_bytes_.held(); },
               std::min<std::uint64_t>(std::uint64_t{16} << 20, options.max_pending_bytes / 2)) {
  gate_.share(options.shared_dedup);
  metrics.registry.gauge_callback(
      "eventrouter_pending_bytes",
      "Bytes that pending deliveries hold in memory (their events and per-delivery state), "
      "bounded by delivery.max_pending_bytes.",
      [this] { return static_cast<double>(pending_bytes_.held()); });
}

DeliveryCore::~DeliveryCore() = default;

void DeliveryCore::charge(EventState& event) {
  if (event.charge.charged()) return;  // counted once, however it is submitted again
  const std::uint64_t bytes = event.json.capacity() + event.fields.id.capacity() +
                              event.fields.source.capacity() + event.fields.detail_type.capacity() +
                              event.bus.capacity() + event.ingestion_time.capacity() +
                              PendingBytes::kPerEvent;
  event.charge = pending_bytes_.charge(bytes);
}

void DeliveryCore::deploy(std::shared_ptr<Deployment> deployment) {
  std::shared_ptr<Deployment> old;
  {
    std::lock_guard lock(deployment_mutex_);
    std::erase_if(deployed_, [](const auto& weak) { return weak.expired(); });
    deployed_.push_back(deployment);
    old = std::exchange(deployment_, deployment);
  }
  // The old deployment's targets shut down when its last attempt lets go of it.
  // Dedup and storm state follow the rules by name: what a removed rule (or control) held goes.
  if (!deployment) return;
  for (auto& digest : gate_.keep_only(deployment->rules().rules()))
    send_digest(std::move(digest), false);
}

std::shared_ptr<Deployment> DeliveryCore::current() const {
  std::lock_guard lock(deployment_mutex_);
  return deployment_;
}

void DeliveryCore::plan(std::shared_ptr<EventState> event,
                        const std::shared_ptr<Deployment>& deployment, const std::string& only_rule,
                        Batch& batch, Controls controls) {
  // Matched straight into the batch's list, which submit() counts if the batch is recorded.
  auto& matched = batch.matches.rules;
  const std::size_t first = matched.size();
  if (deployment) {
    if (!batch.matches.deployment) batch.matches.deployment = deployment;
    // A scheduled rule's event (see Dispatcher::fire) goes to that rule alone, unmatched.
    const rules::Rule* scheduled =
        only_rule.empty() ? nullptr : deployment->rules().find(only_rule);
    if (scheduled && scheduled->schedule) {
      if (scheduled->enabled && scheduled->bus == event->bus) matched.push_back(scheduled);
    } else {
      deployment->rules().match(event->bus, simdjson::padded_string_view(event->json), matched);
    }
  }
  if (!only_rule.empty()) {
    matched.erase(
        std::remove_if(matched.begin() + static_cast<std::ptrdiff_t>(first), matched.end(),
                       [&](const rules::Rule* rule) { return rule->name != only_rule; }),
        matched.end());
  }
  std::size_t planned = 0;
  for (std::size_t i = first; i < matched.size(); ++i) {
    if (controls == Controls::kApply &&
        !gate_.admit(*matched[i], event->json, event->fields.id, batch.controls, event->seq)) {
      // Suppressed or held: a match (counted) without deliveries for this rule.
      if (options_.history) event->withheld.push_back(matched[i]->name);
      continue;
    }
    for (DeployedTarget* target : deployment->targets_of(*matched[i])) {
      add(batch, event, deployment, target);
      ++planned;
    }
  }
  if (matched.size() == first) {
    batch.matches.unmatched.push_back(&metrics_.unmatched.get(event->bus));
    spdlog::debug("event {} from {} on bus {} matched no rule", event->fields.id,
                  event->fields.source, event->bus);
  } else {
    ++batch.matches.events;
  }
  event->remaining = static_cast<int>(planned);
  // Events without deliveries are only recorded for the archive.
  if (planned > 0 || event->archived) {
    batch.events.push_back(std::move(event));
  } else if (options_.history) {
    batch.unmatched.push_back(std::move(event));
  }
}

void DeliveryCore::plan_one(std::shared_ptr<EventState> event,
                            const std::shared_ptr<Deployment>& deployment, DeployedTarget* target,
                            Batch& batch) {
  add(batch, event, deployment, target);
  event->remaining = 1;
  batch.events.push_back(std::move(event));
}

void DeliveryCore::add(Batch& batch, const std::shared_ptr<EventState>& event,
                       const std::shared_ptr<Deployment>& deployment, DeployedTarget* target) {
  auto attempt = std::make_shared<Attempt>();
  attempt->event = event;
  attempt->deployment = deployment;
  attempt->target = target;
  attempt->created_at = event->ingested_at;  // the age clock starts at ingestion
  batch.attempts.push_back(std::move(attempt));
}

void DeliveryCore::count(const Matches& matches) {
  for (const rules::Rule* rule : matches.rules) {
    rules::RuleSet::count_match(*rule);
    matches.deployment->matches_of(*rule).inc();
  }
  if (matches.events > 0) metrics_.matched.inc(matches.events);
  for (metrics::Counter* unmatched : matches.unmatched) unmatched->inc();
}

void DeliveryCore::apply_controls(GateEffects& effects) {
  for (auto& due : effects.due) schedule_digest(std::move(due));
  effects.due.clear();
  for (auto& digest : effects.ready) send_digest(std::move(digest), false);
  effects.ready.clear();
}

void DeliveryCore::submit(Batch batch, Submitted done) {
  apply_controls(batch.controls);
  pending_.fetch_add(batch.attempts.size());
  const auto ids = store_.reserve_ids(batch.events.size(), batch.attempts.size());
  // The records are views, built into vectors this thread keeps from batch to batch, so that
  // a batch costs no allocation for them (taken out while in use: a store that answers at once
  // may lead to another submit on this thread).
  thread_local Records spare;
  Records records = std::move(spare);
  records.events.clear();
  records.deliveries.clear();
  auto seq = ids.first_event_seq;
  for (const auto& e : batch.events) {
    charge(*e);
    // An event a shared log handed over keeps the log's number for it.
    if (e->seq == 0) e->seq = seq++;
    records.events.push_back(
        NewEvent{e->seq, to_epoch_millis(e->ingested_at), e->bus, e->json, e->archived});
  }
  auto id = ids.first_delivery_id;
  for (const auto& a : batch.attempts) {
    a->charge = pending_bytes_.charge(PendingBytes::kPerDelivery);
    a->id = id++;
    records.deliveries.push_back(NewDelivery{a->id, a->event->seq, a->target->rule->name,
                                             a->target->spec->id, to_epoch_millis(a->created_at)});
  }
  std::vector<std::shared_ptr<EventState>> received;  // for the history only
  if (options_.history) {
    received = std::move(batch.events);
    received.insert(received.end(), batch.unmatched.begin(), batch.unmatched.end());
  }
  store_.append_with_dedup(
      records.events, records.deliveries, batch.controls.records,
      [this, attempts = std::move(batch.attempts), matches = std::move(batch.matches),
       firings = std::move(batch.controls.firings), received = std::move(received),
       done = std::move(done)](std::optional<StoreFailure> failure) mutable {
        if (failure) {
          // Not delivered, so not fired: the producer's retry is not a duplicate.
          gate_.undo(firings);
          pending_.fetch_sub(attempts.size());
          return done(std::move(failure));
        }
        // Before answering: a scrape after the 200 sees the counts.
        count(matches);
        if (options_.history) record_receptions(received, attempts);
        done(std::nullopt);
        // Invocations start on the I/O threads: the store's writer goes back to
        // committing, and a caller holding a lock (redrive holds the dead-letter file's)
        // is not re-entered by an invocation that fails at once.
        net::post(io_, [this, attempts = std::move(attempts)]() mutable {
          for (auto& attempt : attempts) start(std::move(attempt));
        });
      });
  spare = std::move(records);
}

std::optional<StoreFailure> DeliveryCore::submit_and_wait(Batch batch) {
  std::promise<std::optional<StoreFailure>> promise;
  auto result = promise.get_future();
  submit(std::move(batch),
         [&promise](std::optional<StoreFailure> failure) { promise.set_value(failure); });
  return result.get();
}

void DeliveryCore::schedule_digest(DigestDue due) {
  const auto delay =
      std::max(std::chrono::milliseconds(0),
               std::chrono::duration_cast<std::chrono::milliseconds>(due.window_end - gate_.now()));
  auto timer = std::make_shared<net::steady_timer>(io_, delay);
  {
    std::lock_guard lock(digest_timers_mutex_);
    digest_timers_.insert(timer);
  }
  timer->async_wait([this, timer, due = std::move(due)](boost::system::error_code error) {
    {
      std::lock_guard lock(digest_timers_mutex_);
      digest_timers_.erase(timer);
    }
    // At shutdown the open windows are closed by shutdown() itself.
    if (error || stopping_.load()) return;
    if (auto digest = gate_.close_window(due.rule, due.window_start))
      send_digest(std::move(*digest), false);
  });
}

void DeliveryCore::send_digest(DigestReady digest, bool wait) {
  auto deployment = current();
  const rules::Rule* rule = deployment ? deployment->rules().find(digest.rule) : nullptr;
  if (rule == nullptr) {
    spdlog::warn(
        "storm digest of rule {} not sent: the rule is no longer loaded ({} held "
        "events, {} to {}; archived events can be replayed)",
        digest.rule, digest.summary.held, format_rfc3339(digest.summary.window_start),
        format_rfc3339(digest.summary.window_end));
    return;
  }
  const auto now = SystemClock::now();
  auto json = storm_digest_json(digest, make_uuid_v4(), now);
  auto event =
      make_event_state(EventOrigin{std::move(json), rule->bus, now, std::nullopt, archives_, 0});
  Batch batch;
  for (DeployedTarget* target : deployment->targets_of(*rule))
    add(batch, event, deployment, target);
  event->remaining = static_cast<int>(batch.attempts.size());
  batch.events.push_back(event);
  spdlog::info("rule {} held {} of {} matches between {} and {}; sending its storm digest {}",
               digest.rule, digest.summary.held, digest.summary.held + digest.summary.delivered,
               format_rfc3339(digest.summary.window_start),
               format_rfc3339(digest.summary.window_end), event->fields.id);
  const auto failed = [id = event->fields.id, rule = digest.rule](const StoreFailure& failure) {
    spdlog::error("storm digest {} of rule {} could not be recorded: {}", id, rule,
                  failure.message);
  };
  if (wait) {
    if (auto failure = submit_and_wait(std::move(batch))) failed(*failure);
    return;
  }
  submit(std::move(batch), [failed](std::optional<StoreFailure> failure) {
    if (failure) failed(*failure);
  });
}

Expected<std::string, std::string> DeliveryCore::shape(const Attempt& attempt) const {
  const auto& event = *attempt.event;
  return attempt.target->shaper.shape(event.json, attempt.target->rule->name, event.ingestion_time);
}

void DeliveryCore::start(std::shared_ptr<Attempt> attempt) {
  auto payload = shape(*attempt);
  if (!payload) {
    // The event lacks what the transformer needs: retrying cannot help.
    return on_result(
        std::move(attempt),
        targets::DeliveryResult::permanent(targets::ErrorCode::kInvalidParameter, payload.error()));
  }
  attempt->payload_charge = pending_bytes_.charge(payload->capacity());
  invoke(std::move(attempt), std::move(*payload));
}

void DeliveryCore::invoke(std::shared_ptr<Attempt> attempt, std::string payload) {
  const auto& event = *attempt->event;
  if (attempt->attempt == 1) {
    metrics_.dispatch_latency.observe(
        std::chrono::duration<double>(SystemClock::now() - event.ingested_at).count());
  }
  attempt->target->metrics().attempts->inc();
  targets::Invocation invocation;
  invocation.event_id = event.fields.id;
  invocation.rule = attempt->target->rule->name;
  invocation.target = attempt->target->spec->id;
  invocation.source = event.fields.source;
  invocation.detail_type = event.fields.detail_type;
  invocation.attempt = attempt->attempt;
  invocation.payload = std::move(payload);
  // Shares the event's text (and keeps its state alive) rather than copying it.
  invocation.event_json = std::shared_ptr<const std::string>(attempt->event, &event.json);
  invocation.ingestion_time = event.ingestion_time;
  invocation.payload_is_event =
      attempt->target->shaper.mode() == transform::PayloadShaper::Mode::kWholeEvent;
  auto* target = attempt->target->target.get();
  const auto started = Clock::now();
  running_.fetch_add(1);
  target->deliver(std::move(invocation), [this, attempt, started](targets::DeliveryResult result) {
    const auto took = Clock::now() - started;
    attempt->target->metrics().duration->observe(std::chrono::duration<double>(took).count());
    attempt->last_duration_us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    on_result(attempt, std::move(result));
    running_.fetch_sub(1);
  });
}

std::chrono::milliseconds DeliveryCore::backoff(int attempt) const {
  // Exponential backoff with jitter: uniform in [ceiling / 10, ceiling], where ceiling is
  // min(cap, base * 2^(attempt-1)). The tenth keeps a retry from following its failure at once.
  const int shift = std::min(attempt - 1, 20);
  const auto ceiling =
      std::min<std::int64_t>(options_.backoff_cap.count(), options_.backoff_base.count() << shift);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 10,
                                                   std::max<std::int64_t>(ceiling, 1));
  return std::chrono::milliseconds(pick(random));
}

void DeliveryCore::on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result) {
  attempt->payload_charge.release();  // the invocation, and its payload, are over
  const auto& counters = attempt->target->metrics();
  const auto& rule = attempt->target->rule->name;
  const auto& target = attempt->target->spec->id;
  if (result.outcome == targets::Outcome::kSuccess) {
    counters.succeeded->inc();
    spdlog::debug("delivered event {} to {}/{} (attempt {})", attempt->event->fields.id, rule,
                  target, attempt->attempt);
    record_step(*attempt, "delivered", result);
    return finish(*attempt);
  }
  if (result.outcome == targets::Outcome::kPermanent) return dead_letter(*attempt, result, "");

  const auto& policy = attempt->target->spec->retry_policy;
  auto delay = backoff(attempt->attempt);
  if (result.retry_after) delay = std::max<std::chrono::milliseconds>(delay, *result.retry_after);
  if (attempt->attempt > policy.maximum_retry_attempts)
    return dead_letter(*attempt, result, "MaximumRetryAttempts");
  const auto age = SystemClock::now() - attempt->created_at;
  if (age + delay > std::chrono::seconds(policy.maximum_event_age_seconds))
    return dead_letter(*attempt, result, "MaximumEventAgeInSeconds");
  retry_later(std::move(attempt), delay, std::move(result));
}

void DeliveryCore::retry_later(std::shared_ptr<Attempt> attempt, std::chrono::milliseconds delay,
                               targets::DeliveryResult result) {
  const auto& rule = attempt->target->rule->name;
  const auto& target = attempt->target->spec->id;
  // A resumed delivery (no error) waits without a new attempt to record.
  if (result.error_code != targets::ErrorCode::kNone) {
    store_.record_attempt(attempt->id, attempt->attempt,
                          to_epoch_millis(SystemClock::now() + delay),
                          std::string(to_string(result.error_code)) + ": " + result.error_message);
  }
  if (stopping_.load()) return set_aside(*attempt, result);
  if (result.error_code != targets::ErrorCode::kNone) {
    attempt->target->metrics().retried->inc();
    record_step(*attempt, "retrying", result);
    spdlog::warn("event {} to {}/{} failed (attempt {}): {} {}; retrying in {} ms",
                 attempt->event->fields.id, rule, target, attempt->attempt,
                 to_string(result.error_code), result.error_message, delay.count());
  }
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
    if (stopping_.load()) return set_aside(*attempt, result);
    if (result.error_code != targets::ErrorCode::kNone) attempt->attempt += 1;
    start(std::move(attempt));
  });
}

void DeliveryCore::set_aside(Attempt& attempt, const targets::DeliveryResult& result) {
  if (store_.durable()) return release(attempt);
  dead_letter(attempt, result, "ShuttingDown");
}

void DeliveryCore::dead_letter(Attempt& attempt, const targets::DeliveryResult& result,
                               std::string_view exhausted) {
  const auto& spec = *attempt.target->spec;
  const auto& rule = attempt.target->rule->name;
  const auto file = spec.dead_letter ? spec.dead_letter->path : options_.default_dead_letter_file;
  spdlog::error("event {} to {}/{} dead-lettered to {} after {} attempt(s): {} {}",
                attempt.event->fields.id, rule, spec.id, dead_letter_sink_.where(file),
                attempt.attempt, to_string(result.error_code), result.error_message);
  // Shaped again: the payload is not kept between attempts. An event the transformer cannot
  // shape is dead-lettered without one.
  const auto payload = shape(attempt);
  const bool written = dead_letter_sink_.write(
      file, DeadLetter{attempt.event->json, payload ? std::string_view(*payload) : "", rule,
                       spec.id, to_string(result.error_code), result.error_message, exhausted,
                       attempt.attempt - 1});
  record_step(attempt, written ? "dead_lettered" : "dead_letter_failed", result);
  if (written) {
    attempt.target->metrics().dead_lettered->inc();
    attempt.target->metrics().dead_letters->inc();
    return finish(attempt);
  }
  // Neither delivered nor dead-lettered (EventBridge's InvocationsFailedToBeSentToDlq). A
  // durable store keeps the record, to be tried again at the next start, rather than lose it.
  attempt.target->metrics().failed->inc();
  if (!store_.durable()) return finish(attempt);
  release(attempt);
}

bool DeliveryCore::dead_letter_unloaded(std::string_view event_json, const std::string& rule,
                                        const std::string& target, std::string_view why,
                                        int attempts) {
  const auto message = "rule " + rule + " or its target " + target + " " + std::string(why);
  return dead_letter_sink_.write(
      options_.default_dead_letter_file,
      DeadLetter{event_json, "", rule, target, to_string(targets::ErrorCode::kResourceNotFound),
                 message, "", attempts});
}

void DeliveryCore::record_receptions(const std::vector<std::shared_ptr<EventState>>& events,
                                     const std::vector<std::shared_ptr<Attempt>>& attempts) {
  History& history = *options_.history;
  std::unordered_map<const EventState*, HistoryReception> receptions;
  receptions.reserve(events.size());
  for (const auto& event : events) {
    event->history_key = history.next_key();
    HistoryReception& r = receptions[event.get()];
    r.key = event->history_key;
    r.event_id = event->fields.id;
    r.bus = event->bus;
    r.source = event->fields.source;
    r.detail_type = event->fields.detail_type;
    r.received_at = to_epoch_millis(event->ingested_at);
    r.size = event->json.size();
    r.origin = event->origin;
    r.rules = event->withheld;  // matched, though withheld from their targets
  }
  for (const auto& attempt : attempts) {
    auto it = receptions.find(attempt->event.get());
    if (it == receptions.end()) continue;
    auto& rules = it->second.rules;
    const auto& rule = attempt->target->rule->name;
    if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(rule);
    ++it->second.deliveries;
  }
  for (const auto& event : events) {
    history.record(std::move(receptions[event.get()]));
    for (const auto& rule : event->withheld) {
      HistoryStep step;
      step.reception = event->history_key;
      step.event_id = event->fields.id;
      step.at = to_epoch_millis(SystemClock::now());
      step.kind = "suppressed";
      step.rule = rule;
      options_.history->record(std::move(step));
    }
  }
}

void DeliveryCore::record_step(const Attempt& attempt, const char* kind,
                               const targets::DeliveryResult& result) {
  if (!options_.history) return;
  HistoryStep step;
  step.reception = attempt.event->history_key;
  step.event_id = attempt.event->fields.id;
  step.at = to_epoch_millis(SystemClock::now());
  step.kind = kind;
  step.rule = attempt.target->rule->name;
  step.target = attempt.target->spec->id;
  step.attempt = attempt.attempt;
  step.error_code = to_string(result.error_code);
  step.error = result.error_message;
  step.duration_us = attempt.last_duration_us;
  step.status = result.status_code;
  step.output = result.output;
  options_.history->record(std::move(step));
}

void DeliveryCore::finish(Attempt& attempt) {
  auto& event = *attempt.event;
  const bool last = event.remaining.fetch_sub(1) == 1;
  store_.finish(attempt.id,
                last && !event.archived ? std::optional<std::int64_t>(event.seq) : std::nullopt);
  pending_.fetch_sub(1);
}

void DeliveryCore::release(Attempt& attempt) {
  store_.release(attempt.id);
  pending_.fetch_sub(1);
}

std::size_t DeliveryCore::resume(DeliveryStore::Pending pending) {
  auto deployment = current();
  if (deployment) {
    try {
      gate_.restore(store_.load_dedup(to_epoch_millis(gate_.now())), deployment->rules().rules());
    } catch (const std::exception& e) {
      // Forgetting the keys costs repeated deliveries, not lost ones: start anyway.
      spdlog::error(
          "dedup keys could not be loaded from the journal ({}); duplicates of "
          "events delivered before the restart will be delivered again",
          e.what());
    }
  }
  std::unordered_map<std::int64_t, std::shared_ptr<EventState>> events;
  for (auto& stored : pending.events) {
    auto event = make_event_state(EventOrigin{std::move(stored.json), std::move(stored.bus),
                                              from_epoch_millis(stored.ingested_at), std::nullopt,
                                              stored.archived, stored.seq});
    charge(*event);
    events.emplace(stored.seq, std::move(event));
  }
  std::size_t resumed = 0;
  const auto now = SystemClock::now();
  for (auto& stored : pending.deliveries) {
    auto it = events.find(stored.event_seq);
    if (it == events.end()) continue;  // cannot happen: load_pending returns every event
    auto attempt = std::make_shared<Attempt>();
    attempt->event = it->second;
    attempt->event->remaining += 1;
    attempt->deployment = deployment;
    attempt->id = stored.id;
    attempt->attempt = stored.attempts + 1;
    attempt->created_at = from_epoch_millis(stored.created_at);
    attempt->charge = pending_bytes_.charge(PendingBytes::kPerDelivery);
    pending_.fetch_add(1);
    attempt->target = deployment ? deployment->find(stored.rule, stored.target) : nullptr;
    if (!attempt->target) {
      // The rule or target was removed or renamed while the delivery waited: it is written to
      // the default dead-letter file, where `eventrouter dlq` can redrive it once it is back.
      spdlog::error("event {} was waiting for {}/{}, which no longer exists; dead-lettered to {}",
                    attempt->event->fields.id, stored.rule, stored.target,
                    options_.default_dead_letter_file.string());
      const bool written = dead_letter_unloaded(attempt->event->json, stored.rule, stored.target,
                                                "no longer exists", stored.attempts);
      // As for any dead letter: finished once written, else kept for the next start.
      if (written) {
        finish(*attempt);
      } else {
        release(*attempt);
      }
      continue;
    }
    ++resumed;
    const auto due = from_epoch_millis(stored.next_attempt_at);
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(due - now);
    // A resumed delivery waits out what is left of its backoff, without counting a new attempt.
    retry_later(std::move(attempt), std::max(delay, std::chrono::milliseconds(0)),
                targets::DeliveryResult::ok());
  }
  if (resumed > 0) spdlog::info("resumed {} unfinished deliveries from the journal", resumed);
  return resumed;
}

void DeliveryCore::shutdown(std::chrono::milliseconds grace) {
  stopping_.store(true);
  {
    std::lock_guard lock(digest_timers_mutex_);
    for (const auto& timer : digest_timers_) timer->cancel();
  }
  // Open storm windows end now: their digests are recorded before the store closes, so a
  // restart does not lose them.
  for (auto& digest : gate_.close_all()) send_digest(std::move(digest), true);
  {
    // Retries not yet due will not be made here: their handlers set them aside.
    std::lock_guard lock(waiting_mutex_);
    for (const auto& timer : waiting_) timer->cancel();
  }
  const auto deadline = Clock::now() + grace;
  while (running_.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // What still runs, or waits in a target's own queue, is aborted now, while the I/O threads
  // can still run its completion: without a durable store it is dead-lettered (ShuttingDown),
  // with one it resumes at the next start, and no delivery outlives the threads it needs.
  std::vector<std::shared_ptr<Deployment>> live;
  {
    std::lock_guard lock(deployment_mutex_);
    for (const auto& weak : deployed_)
      if (auto deployment = weak.lock()) live.push_back(std::move(deployment));
  }
  for (const auto& deployment : live) deployment->shutdown_targets(std::chrono::milliseconds(0));
  live.clear();
  const auto aborted_by = Clock::now() + std::chrono::seconds(3);
  while (running_.load() > 0 && Clock::now() < aborted_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (running_.load() > 0) {
    spdlog::warn("{} invocations still running at shutdown; {}", running_.load(),
                 store_.durable() ? "they will be made again at the next start"
                                  : "their outcome is not recorded");
  }
}

}  // namespace eventrouter::delivery
