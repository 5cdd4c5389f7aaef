#include "eventrouter/delivery/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "admin_operations.hpp"
#include "admission.hpp"
#include "delivery_core.hpp"
#include "delivery_metrics.hpp"
#include "event_state.hpp"
#include "eventrouter/delivery/memory_store.hpp"

namespace eventrouter::delivery {

namespace {

DeliveryStore& store_of(DispatcherOptions& options, std::unique_ptr<MemoryStore>& memory) {
  if (options.store) return *options.store;
  memory = std::make_unique<MemoryStore>();
  options.store = memory.get();
  return *memory;
}

}  // namespace

Dispatcher::Dispatcher(boost::asio::io_context& io, DispatcherOptions options,
                       metrics::Registry& metrics)
    : options_(std::move(options)) {
  auto& store = store_of(options_, memory_store_);
  metrics_ = std::make_unique<DeliveryMetrics>(metrics);
  core_ = std::make_unique<DeliveryCore>(io, options_, store, *metrics_);
  admission_ = std::make_unique<Admission>(options_, *core_, store);
  admin_ = std::make_unique<AdminOperations>(io, *core_, *metrics_);
  metrics.gauge_callback("eventrouter_pending_deliveries",
                         "Deliveries recorded and not yet finished (in flight or waiting for a "
                         "retry).",
                         [core = core_.get()] { return static_cast<double>(core->pending()); });
  store.publish_metrics(metrics);
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::deploy(std::shared_ptr<Deployment> deployment) {
  core_->deploy(std::move(deployment));
}

std::shared_ptr<Deployment> Dispatcher::current() const {
  return core_->current();
}

std::size_t Dispatcher::resume(DeliveryStore::Pending pending) {
  return core_->resume(std::move(pending));
}

std::size_t Dispatcher::pending() const {
  return core_->pending();
}

void Dispatcher::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  if (auto refusal = admission_->refusal()) return done(std::move(refusal));
  auto deployment = core_->current();
  const bool archived = core_->archives();
  Batch batch;
  for (auto& event : events) {
    core_->plan(
        make_event_state(EventOrigin{
            std::move(event.json), std::move(event.bus), event.ingested_at,
            EventFields{std::move(event.id), std::move(event.source), std::move(event.detail_type)},
            archived, 0}),
        deployment, {}, batch);
  }
  core_->submit(std::move(batch), [done = std::move(done)](std::optional<StoreFailure> failure) {
    if (!failure) return done(std::nullopt);
    done(store_refusal(*failure));
  });
}

bool Dispatcher::fire(const std::string& rule, std::string event_json, std::string bus) {
  if (admission_->refusal()) return false;
  auto deployment = core_->current();
  const rules::Rule* scheduled = deployment ? deployment->rules().find(rule) : nullptr;
  if (!scheduled || !scheduled->schedule) return false;  // never a pattern rule's targets
  Batch batch;
  // Not archived: a replay matches patterns, which a scheduled event never went through.
  auto event =
      make_event_state(EventOrigin{std::move(event_json), std::move(bus),
                                   std::chrono::system_clock::now(), std::nullopt, false, 0});
  event->origin = "schedule";
  core_->plan(std::move(event), deployment, rule, batch);
  if (batch.attempts.empty()) return false;
  core_->submit(std::move(batch), [rule](std::optional<StoreFailure> failure) {
    if (failure)
      spdlog::error("schedule of rule {}: its event was not recorded: {}", rule, failure->message);
  });
  return true;
}

std::size_t Dispatcher::take_logged(LoggedEvent logged) {
  auto deployment = core_->current();
  auto event = make_event_state(EventOrigin{std::move(logged.json), std::move(logged.bus),
                                            logged.ingested_at, std::nullopt, false, logged.seq});
  Batch batch;
  if (logged.only_target) {
    const auto& [rule, target] = *logged.only_target;
    DeployedTarget* deployed = deployment ? deployment->find(rule, target) : nullptr;
    if (!deployed) {
      // Redriven for a rule or target this router does not run (a rollout in progress): it
      // goes back to the dead letters, where the operator can redrive it again.
      core_->dead_letter_unloaded(event->json, rule, target, "is not loaded", 0);
      return 0;
    }
    core_->plan_one(event, deployment, deployed, batch);
  } else {
    core_->plan(event, deployment, logged.only_rule, batch,
                logged.replayed ? DeliveryCore::Controls::kBypass : DeliveryCore::Controls::kApply);
  }
  if (logged.progress) {
    std::erase_if(batch.attempts, [&](const std::shared_ptr<Attempt>& attempt) {
      const auto made = logged.progress(attempt->target->rule->name, attempt->target->spec->id);
      if (!made) return false;
      if (*made == LoggedEvent::kDelivered) return true;
      attempt->attempt = *made + 1;
      return false;
    });
    event->remaining = static_cast<int>(batch.attempts.size());
  }
  if (batch.attempts.empty()) {
    core_->apply_controls(batch.controls);  // a held event may have started a storm window
    return 0;
  }
  const auto started = batch.attempts.size();
  core_->submit(std::move(batch), [](std::optional<StoreFailure>) {});
  return started;
}

Expected<ReplayResult, AdminError> Dispatcher::replay(const ReplayRequest& request) {
  if (admin_backend_) return admin_backend_->replay(request, core_->current().get());
  return admin_->replay(request);
}

Expected<RedriveResult, AdminError> Dispatcher::redrive(const std::string& rule,
                                                        const std::string& target) {
  if (admin_backend_) return admin_backend_->redrive(rule, target, core_->current().get());
  return admin_->redrive(rule, target);
}

void Dispatcher::shutdown(std::chrono::milliseconds grace) {
  core_->begin_shutdown();  // first: an expiry that is running now schedules no other
  admin_->stop();
  core_->shutdown(grace);
}

}  // namespace eventrouter::delivery
