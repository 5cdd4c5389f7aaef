#include "eventrouter/delivery/dispatcher.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <future>
#include <random>
#include <thread>
#include <unordered_map>

#include "event_json.hpp"
#include "eventrouter/util/ids.hpp"

namespace eventrouter::delivery {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// What every delivery of one event shares.
struct Dispatcher::EventState {
  std::int64_t seq = 0;
  EventFields fields;  // id, source, detail-type
  std::string bus;
  std::string json;  // with spare capacity for simdjson's padding
  SystemClock::time_point ingested_at;
  std::string ingestion_time;
  bool archived = false;          // the journal keeps it after its deliveries finish
  std::atomic<int> remaining{0};  // deliveries not finished
};

// One (event, rule, target) delivery and where it stands.
struct Dispatcher::Attempt {
  std::shared_ptr<EventState> event;
  std::shared_ptr<Deployment> deployment;  // keeps the rule set and its targets alive
  DeployedTarget* target = nullptr;
  std::int64_t id = 0;
  int attempt = 1;                     // the attempt about to be made, 1-based
  SystemClock::time_point created_at;  // the event-age clock starts here
  std::optional<std::string> payload;  // shaped on the first attempt
};

// What a batch adds to the match counters. Counted only once the batch is recorded: a request
// refused after matching (the journal could not record it) must not count as matched.
struct Dispatcher::Matches {
  std::shared_ptr<Deployment> deployment;    // the batch's (one per batch); keeps `rules` alive
  std::vector<const rules::Rule*> rules;     // one per (event, matched rule)
  std::uint64_t events = 0;                  // events that matched a rule
  std::vector<metrics::Counter*> unmatched;  // one per unmatched event: its bus's counter
};

struct Dispatcher::Batch {
  std::vector<std::shared_ptr<EventState>> events;
  std::vector<std::shared_ptr<Attempt>> attempts;
  Matches matches;
};

Dispatcher::Dispatcher(net::io_context& io, DispatcherOptions options, metrics::Registry& metrics)
    : io_(io),
      options_(std::move(options)),
      metrics_(metrics),
      expiry_timer_(io),
      matched_(metrics.counter("eventrouter_events_matched_total",
                               "Events that matched at least one rule.")),
      unmatched_(metrics, "eventrouter_events_unmatched_total", "Events no enabled rule matched.",
                 "bus"),
      dispatch_latency_(
          metrics.histogram("eventrouter_ingest_to_invocation_seconds",
                            "Time from ingestion to the start of the first invocation attempt.")),
      replayed_(metrics.counter("eventrouter_events_replayed_total",
                                "Archived events re-driven by replays.")),
      redriven_(metrics.counter("eventrouter_dead_letters_redriven_total",
                                "Dead letters put back into delivery.")) {
  metrics_.gauge_callback("eventrouter_pending_deliveries",
                          "Deliveries recorded and not yet finished (in flight or waiting for a "
                          "retry).",
                          [this] { return static_cast<double>(pending_.load()); });
  if (auto* journal = options_.journal) {
    metrics_.gauge_callback("eventrouter_journal_bytes",
                            "Bytes the journal uses (pages in use plus the write-ahead log).",
                            [journal] { return static_cast<double>(journal->bytes_in_use()); });
    metrics_.gauge_callback("eventrouter_journal_commits",
                            "Journal transactions committed since start (group commits).",
                            [journal] { return static_cast<double>(journal->commits()); });
    if (options_.archive_retention.count() > 0) schedule_archive_expiry();
  }
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::deploy(std::shared_ptr<Deployment> deployment) {
  std::shared_ptr<Deployment> old;
  {
    std::lock_guard lock(deployment_mutex_);
    std::erase_if(deployed_, [](const auto& weak) { return weak.expired(); });
    deployed_.push_back(deployment);
    old = std::exchange(deployment_, std::move(deployment));
  }
  // The old deployment's targets shut down when its last attempt lets go of it.
}

std::shared_ptr<Deployment> Dispatcher::current() const {
  std::lock_guard lock(deployment_mutex_);
  return deployment_;
}

std::optional<server::SinkRefusal> Dispatcher::overloaded() const {
  if (stopping_.load()) {
    return server::SinkRefusal{503, "ShuttingDown", "the daemon is shutting down; retry shortly",
                               std::chrono::seconds(2)};
  }
  if (pending_.load() >= options_.max_pending_deliveries) {
    return server::SinkRefusal{
        503, "TooManyPendingDeliveries",
        std::to_string(pending_.load()) +
            " deliveries are waiting for their targets (delivery.max_pending_deliveries is " +
            std::to_string(options_.max_pending_deliveries) +
            "); retry later, and check the targets' health",
        std::chrono::seconds(5)};
  }
  // The archive makes room by itself (Journal drops its oldest events past
  // archive.max_bytes), so a full journal means undelivered work fills it.
  if (options_.journal && options_.journal->live_bytes() >= options_.max_journal_bytes) {
    return server::SinkRefusal{
        503, "JournalFull",
        "undelivered events fill the journal (" + std::to_string(options_.journal->live_bytes()) +
            " bytes; delivery.max_journal_bytes is " + std::to_string(options_.max_journal_bytes) +
            "); retry later, and check the targets' health",
        std::chrono::seconds(5)};
  }
  return std::nullopt;
}

void Dispatcher::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  if (auto refusal = overloaded()) return done(std::move(refusal));
  auto deployment = current();
  Batch batch;
  for (auto& event : events) {
    auto state = std::make_shared<EventState>();
    state->fields =
        EventFields{std::move(event.id), std::move(event.source), std::move(event.detail_type)};
    state->bus = std::move(event.bus);
    state->json = std::move(event.json);
    state->ingested_at = event.ingested_at;
    state->archived = options_.journal && options_.archive_retention.count() > 0;
    plan(std::move(state), deployment, {}, batch);
  }
  submit(std::move(batch), [done = std::move(done)](std::optional<JournalFailure> failure) {
    if (!failure) return done(std::nullopt);
    if (failure->disk_full) {
      return done(server::SinkRefusal{
          503, "DiskFull",
          "the disk holding the journal is full, so the events were not recorded: free space "
          "in state_dir, then retry",
          std::chrono::seconds(30)});
    }
    done(server::SinkRefusal{503, "JournalUnavailable",
                             "the events could not be recorded (" + failure->message + "); retry",
                             std::chrono::seconds(5)});
  });
}

void Dispatcher::plan(std::shared_ptr<EventState> event,
                      const std::shared_ptr<Deployment>& deployment, const std::string& only_rule,
                      Batch& batch) {
  // Matched straight into the batch's list, which submit() counts if the batch is recorded.
  auto& matched = batch.matches.rules;
  const std::size_t first = matched.size();
  if (deployment) {
    if (!batch.matches.deployment) batch.matches.deployment = deployment;
    deployment->rules().match(event->bus, simdjson::padded_string_view(event->json), matched);
  }
  if (!only_rule.empty()) {
    matched.erase(
        std::remove_if(matched.begin() + static_cast<std::ptrdiff_t>(first), matched.end(),
                       [&](const rules::Rule* rule) { return rule->name != only_rule; }),
        matched.end());
  }
  std::size_t planned = 0;
  for (std::size_t i = first; i < matched.size(); ++i) {
    for (DeployedTarget* target : deployment->targets_of(*matched[i])) {
      batch.attempts.push_back(new_attempt(event, deployment, target));
      ++planned;
    }
  }
  if (planned == 0) {
    batch.matches.unmatched.push_back(&unmatched_.get(event->bus));
    spdlog::debug("event {} from {} on bus {} matched no rule", event->fields.id,
                  event->fields.source, event->bus);
  } else {
    ++batch.matches.events;
  }
  event->remaining = static_cast<int>(planned);
  event->ingestion_time = format_rfc3339_millis(event->ingested_at);
  // Events without deliveries are only written for the archive.
  if (planned > 0 || event->archived) {
    if (options_.journal) event->seq = options_.journal->next_event_seq();
    batch.events.push_back(std::move(event));
  }
}

std::shared_ptr<Dispatcher::Attempt> Dispatcher::new_attempt(
    const std::shared_ptr<EventState>& event, const std::shared_ptr<Deployment>& deployment,
    DeployedTarget* target) {
  auto attempt = std::make_shared<Attempt>();
  attempt->event = event;
  attempt->deployment = deployment;
  attempt->target = target;
  attempt->id = options_.journal ? options_.journal->next_delivery_id() : 0;
  attempt->created_at = event->ingested_at;
  return attempt;
}

void Dispatcher::count(const Matches& matches) {
  for (const rules::Rule* rule : matches.rules) {
    rules::RuleSet::count_match(*rule);
    matches.deployment->matches_of(*rule).inc();
  }
  if (matches.events > 0) matched_.inc(matches.events);
  for (metrics::Counter* unmatched : matches.unmatched) unmatched->inc();
}

void Dispatcher::submit(Batch batch, std::function<void(std::optional<JournalFailure>)> done) {
  pending_.fetch_add(batch.attempts.size());
  auto start_all = [this](std::vector<std::shared_ptr<Attempt>>& attempts) {
    for (auto& attempt : attempts) start(std::move(attempt));
  };
  if (!options_.journal) {
    count(batch.matches);
    done(std::nullopt);
    // On the I/O threads, as with a journal: the caller may hold a lock (redrive holds the
    // dead-letter file's) that an invocation failing at once would need.
    net::post(io_,
              [attempts = std::move(batch.attempts), start_all]() mutable { start_all(attempts); });
    return;
  }
  std::vector<JournalEvent> events;
  events.reserve(batch.events.size());
  for (const auto& e : batch.events) {
    events.push_back(
        JournalEvent{e->seq, to_epoch_millis(e->ingested_at), e->bus, e->json, e->archived});
  }
  std::vector<JournalDelivery> deliveries;
  deliveries.reserve(batch.attempts.size());
  for (const auto& a : batch.attempts) {
    deliveries.push_back(JournalDelivery{a->id, a->event->seq, a->target->rule->name,
                                         a->target->spec->id, 0, to_epoch_millis(a->created_at),
                                         to_epoch_millis(a->created_at), ""});
  }
  options_.journal->append(
      std::move(events), std::move(deliveries),
      [this, attempts = std::move(batch.attempts), matches = std::move(batch.matches),
       done = std::move(done), start_all](std::optional<JournalFailure> failure) mutable {
        if (failure) {
          pending_.fetch_sub(attempts.size());
          return done(std::move(failure));
        }
        // Before answering: a scrape after the 200 sees the counts.
        count(matches);
        done(std::nullopt);
        // Invocations start on the I/O threads: the journal's writer goes back
        // to committing.
        net::post(io_,
                  [attempts = std::move(attempts), start_all]() mutable { start_all(attempts); });
      });
}

std::optional<JournalFailure> Dispatcher::submit_and_wait(Batch batch) {
  std::promise<std::optional<JournalFailure>> promise;
  auto result = promise.get_future();
  submit(std::move(batch),
         [&promise](std::optional<JournalFailure> failure) { promise.set_value(failure); });
  return result.get();
}

void Dispatcher::start(std::shared_ptr<Attempt> attempt) {
  if (!attempt->payload) {
    const auto& event = *attempt->event;
    auto payload = attempt->target->shaper.shape(event.json, attempt->target->rule->name,
                                                 event.ingestion_time);
    if (!payload) {
      // The event lacks what the transformer needs: retrying cannot help.
      return on_result(std::move(attempt),
                       targets::DeliveryResult::permanent("INVALID_PARAMETER", payload.error()));
    }
    attempt->payload = std::move(*payload);
  }
  invoke(std::move(attempt));
}

void Dispatcher::invoke(std::shared_ptr<Attempt> attempt) {
  const auto& event = *attempt->event;
  if (attempt->attempt == 1) {
    dispatch_latency_.observe(
        std::chrono::duration<double>(SystemClock::now() - event.ingested_at).count());
  }
  attempt->target->metrics.attempts->inc();
  targets::Invocation invocation;
  invocation.event_id = event.fields.id;
  invocation.rule = attempt->target->rule->name;
  invocation.target = attempt->target->spec->id;
  invocation.source = event.fields.source;
  invocation.detail_type = event.fields.detail_type;
  invocation.attempt = attempt->attempt;
  invocation.payload = *attempt->payload;
  invocation.event_json = event.json;
  invocation.ingestion_time = event.ingestion_time;
  auto* target = attempt->target->target.get();
  const auto started = Clock::now();
  running_.fetch_add(1);
  target->deliver(std::move(invocation), [this, attempt, started](targets::DeliveryResult result) {
    attempt->target->metrics.duration->observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    on_result(attempt, std::move(result));
    running_.fetch_sub(1);
  });
}

std::chrono::milliseconds Dispatcher::backoff(int attempt) const {
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

void Dispatcher::on_result(std::shared_ptr<Attempt> attempt, targets::DeliveryResult result) {
  const auto& counters = attempt->target->metrics;
  const auto& rule = attempt->target->rule->name;
  const auto& target = attempt->target->spec->id;
  if (result.outcome == targets::Outcome::success) {
    counters.succeeded->inc();
    spdlog::debug("delivered event {} to {}/{} (attempt {})", attempt->event->fields.id, rule,
                  target, attempt->attempt);
    return finish(*attempt);
  }
  if (result.outcome == targets::Outcome::permanent) return dead_letter(*attempt, result, "");

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

void Dispatcher::retry_later(std::shared_ptr<Attempt> attempt, std::chrono::milliseconds delay,
                             targets::DeliveryResult result) {
  const auto& rule = attempt->target->rule->name;
  const auto& target = attempt->target->spec->id;
  if (options_.journal && !result.error_code.empty()) {
    options_.journal->record_attempt(attempt->id, attempt->attempt,
                                     to_epoch_millis(SystemClock::now() + delay),
                                     result.error_code + ": " + result.error_message);
  }
  if (stopping_.load()) {
    if (options_.journal) return release(*attempt);
    return dead_letter(*attempt, result, "ShuttingDown");
  }
  if (!result.error_code.empty()) {
    attempt->target->metrics.retried->inc();
    spdlog::warn("event {} to {}/{} failed (attempt {}): {} {}; retrying in {} ms",
                 attempt->event->fields.id, rule, target, attempt->attempt, result.error_code,
                 result.error_message, delay.count());
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
    if (stopping_.load()) {
      // With a journal the delivery resumes at the next start; without, it is written down.
      if (options_.journal) return release(*attempt);
      return dead_letter(*attempt, result, "ShuttingDown");
    }
    if (!result.error_code.empty()) attempt->attempt += 1;
    start(std::move(attempt));
  });
}

void Dispatcher::dead_letter(Attempt& attempt, const targets::DeliveryResult& result,
                             std::string_view exhausted) {
  const auto& spec = *attempt.target->spec;
  const auto& rule = attempt.target->rule->name;
  const auto file = spec.dead_letter ? spec.dead_letter->path : options_.default_dead_letter_file;
  spdlog::error("event {} to {}/{} dead-lettered to {} after {} attempt(s): {} {}",
                attempt.event->fields.id, rule, spec.id, file.string(), attempt.attempt,
                result.error_code, result.error_message);
  const bool written = dead_letters_.write(
      file, DeadLetter{attempt.event->json, attempt.payload.value_or(""), rule, spec.id,
                       result.error_code, result.error_message, exhausted, attempt.attempt - 1});
  if (written) {
    attempt.target->metrics.dead_lettered->inc();
    attempt.target->metrics.dead_letters->inc();
    return finish(attempt);
  }
  // Neither delivered nor dead-lettered (EventBridge's InvocationsFailedToBeSentToDlq). With a
  // journal the record stays, to be tried again at the next start, rather than vanish.
  attempt.target->metrics.failed->inc();
  if (!options_.journal) return finish(attempt);
  release(attempt);
}

void Dispatcher::finish(Attempt& attempt) {
  auto& event = *attempt.event;
  const bool last = event.remaining.fetch_sub(1) == 1;
  if (options_.journal) {
    options_.journal->finish(attempt.id, last && !event.archived
                                             ? std::optional<std::int64_t>(event.seq)
                                             : std::nullopt);
  }
  pending_.fetch_sub(1);
}

void Dispatcher::release(Attempt&) {
  pending_.fetch_sub(1);
}

std::size_t Dispatcher::resume(Journal::Pending pending) {
  auto deployment = current();
  std::unordered_map<std::int64_t, std::shared_ptr<EventState>> events;
  for (auto& stored : pending.events) {
    auto state = std::make_shared<EventState>();
    state->seq = stored.seq;
    state->fields = event_fields(stored.json);
    state->bus = std::move(stored.bus);
    state->json = std::move(stored.json);
    state->json.reserve(state->json.size() + simdjson::SIMDJSON_PADDING);
    state->ingested_at = from_epoch_millis(stored.ingested_at);
    state->ingestion_time = format_rfc3339_millis(state->ingested_at);
    state->archived = stored.archived;
    events.emplace(stored.seq, std::move(state));
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
    pending_.fetch_add(1);
    attempt->target = deployment ? deployment->find(stored.rule, stored.target) : nullptr;
    if (!attempt->target) {
      // The rule or target was removed or renamed while the delivery waited: it is written to
      // the default dead-letter file, where `eventrouter dlq` can redrive it once it is back.
      spdlog::error("event {} was waiting for {}/{}, which no longer exists; dead-lettered to {}",
                    attempt->event->fields.id, stored.rule, stored.target,
                    options_.default_dead_letter_file.string());
      const bool written = dead_letters_.write(
          options_.default_dead_letter_file,
          DeadLetter{
              attempt->event->json, "", stored.rule, stored.target, "RESOURCE_NOT_FOUND",
              "rule " + stored.rule + " or its target " + stored.target + " no longer exists", "",
              stored.attempts});
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

Expected<ReplayResult, AdminError> Dispatcher::replay(const ReplayRequest& request) {
  if (!options_.journal || options_.archive_retention.count() == 0) {
    return unexpected(AdminError{
        409, "ArchiveDisabled",
        "there is no archive to replay: set durability: fsync and archive.retention above 0"});
  }
  auto deployment = current();
  if (!request.rule.empty() && (!deployment || !deployment->has_rule(request.rule))) {
    return unexpected(
        AdminError{404, "RuleNotFound", "no rule named " + request.rule + " is loaded"});
  }
  ReplayResult result;
  std::int64_t after = 0;
  const auto from = to_epoch_millis(request.from), to = to_epoch_millis(request.to);
  for (;;) {
    auto stored = options_.journal->archived_events(from, to, request.bus, after, 256);
    if (stored.empty()) break;
    after = stored.back().seq;
    // Waits for room instead of refusing: a replay is an operator's deliberate backlog.
    const auto deadline = Clock::now() + std::chrono::minutes(10);
    while (pending_.load() >= options_.max_pending_deliveries && !stopping_.load()) {
      if (Clock::now() > deadline) {
        return unexpected(AdminError{503, "TooManyPendingDeliveries",
                                     "the replay stopped after " +
                                         std::to_string(result.events_replayed) +
                                         " events: deliveries are not draining; check targets"});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stopping_.load()) {
      return unexpected(AdminError{503, "ShuttingDown",
                                   "the daemon is shutting down; the replay stopped after " +
                                       std::to_string(result.events_replayed) + " events"});
    }
    Batch batch;
    for (auto& e : stored) {
      auto state = std::make_shared<EventState>();
      state->json = with_replay_name(e.json, request.name);
      state->fields = event_fields(state->json);
      state->bus = std::move(e.bus);
      state->ingested_at = SystemClock::now();
      plan(std::move(state), deployment, request.rule, batch);
    }
    result.events_replayed += stored.size();
    result.deliveries += batch.attempts.size();
    if (auto failure = submit_and_wait(std::move(batch))) {
      return unexpected(AdminError{503, failure->disk_full ? "DiskFull" : "JournalUnavailable",
                                   "the replay stopped after " +
                                       std::to_string(result.events_replayed - stored.size()) +
                                       " events: " + failure->message});
    }
    replayed_.inc(stored.size());
  }
  spdlog::info("replay {}: {} events, {} deliveries", request.name, result.events_replayed,
               result.deliveries);
  return result;
}

Expected<RedriveResult, AdminError> Dispatcher::redrive(const std::string& rule,
                                                        const std::string& target) {
  auto deployment = current();
  std::vector<std::filesystem::path> files = {options_.default_dead_letter_file};
  if (deployment) {
    for (auto& file : deployment->dead_letter_files())
      if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(file);
  }
  RedriveResult result;
  std::optional<AdminError> error;
  for (const auto& file : files) {
    dead_letters_.rewrite(file, [&](std::vector<std::string>& lines) {
      Batch batch;
      std::vector<std::string> kept;
      for (auto& line : lines) {
        auto letter = parse_dead_letter(line);
        const bool wanted = letter && (rule.empty() || letter->rule == rule) &&
                            (target.empty() || letter->target == target);
        DeployedTarget* deployed =
            wanted && deployment ? deployment->find(letter->rule, letter->target) : nullptr;
        if (!deployed) {
          if (wanted) {
            ++result.skipped;
            const auto why = "rule " + letter->rule + " target " + letter->target +
                             " is not loaded (in " + file.string() + ")";
            if (std::find(result.skipped_why.begin(), result.skipped_why.end(), why) ==
                result.skipped_why.end())
              result.skipped_why.push_back(why);
          }
          kept.push_back(std::move(line));
          continue;
        }
        auto state = std::make_shared<EventState>();
        state->json = std::move(letter->event_json);
        state->json.reserve(state->json.size() + simdjson::SIMDJSON_PADDING);
        state->fields = event_fields(state->json);
        state->bus = deployed->rule->bus;
        state->ingested_at = SystemClock::now();
        state->ingestion_time = format_rfc3339_millis(state->ingested_at);
        state->remaining = 1;
        if (options_.journal) state->seq = options_.journal->next_event_seq();
        batch.attempts.push_back(new_attempt(state, deployment, deployed));
        batch.events.push_back(std::move(state));
      }
      if (batch.attempts.empty()) return false;
      const std::size_t count = batch.attempts.size();
      if (auto failure = submit_and_wait(std::move(batch))) {
        error = AdminError{503, failure->disk_full ? "DiskFull" : "JournalUnavailable",
                           "could not record the redriven deliveries: " + failure->message};
        return false;  // the file stays as it was
      }
      result.redriven += count;
      redriven_.inc(count);
      lines = std::move(kept);
      return true;
    });
    if (error) return unexpected(std::move(*error));
  }
  spdlog::info("redrove {} dead letters ({} skipped)", result.redriven, result.skipped);
  return result;
}

void Dispatcher::schedule_archive_expiry() {
  expiry_timer_.expires_after(std::chrono::minutes(1));
  expiry_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_.load()) return;
    options_.journal->expire_archive(
        to_epoch_millis(SystemClock::now() - options_.archive_retention));
    schedule_archive_expiry();
  });
}

void Dispatcher::shutdown(std::chrono::milliseconds grace) {
  stopping_.store(true);
  expiry_timer_.cancel();
  {
    // Retries not yet due will not be made here: their handlers leave them to the journal.
    std::lock_guard lock(waiting_mutex_);
    for (const auto& timer : waiting_) timer->cancel();
  }
  const auto deadline = Clock::now() + grace;
  while (running_.load() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // What still runs, or waits in a target's own queue, is aborted now, while the I/O threads
  // can still run its completion: without a journal it is dead-lettered (ShuttingDown), with
  // one it resumes at the next start, and no delivery outlives the threads it needs.
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
                 options_.journal ? "they will be made again at the next start"
                                  : "their outcome is not recorded");
  }
}

}  // namespace eventrouter::delivery
