#pragma once
// The delivery engine's per-event and per-delivery state, and the one place an event's state
// is made, whichever way the event arrives (accepted, resumed, replayed, redriven).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_json.hpp"
#include "eventrouter/delivery/deployment.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "pending_bytes.hpp"
#include "response_gate.hpp"

namespace eventrouter::delivery {

using SystemClock = std::chrono::system_clock;

// What every delivery of one event shares.
struct EventState {
  std::int64_t seq = 0;
  EventFields fields;  // id, source, detail-type
  std::string bus;
  std::string json;  // with spare capacity for simdjson's padding
  SystemClock::time_point ingested_at;
  std::string ingestion_time;     // ingested_at as targets' placeholders show it
  bool archived = false;          // the store keeps it after its deliveries finish
  std::atomic<int> remaining{0};  // deliveries not finished
  const char* origin = "ingest";  // for the history: "ingest", "replay", "redrive", "schedule"
  // Its reception in the history; 0 without one (no history, or resumed after a restart).
  std::int64_t history_key = 0;
  // For the history: rules it matched whose dedup or storm control kept it from their targets.
  std::vector<std::string> withheld;
  // Its text and state in delivery.max_pending_bytes, from the moment it is submitted.
  PendingBytes::Charge charge;
};

// How an event arrives. `fields` when the caller has them already (ingest parsed them);
// otherwise they are read from `json`.
struct EventOrigin {
  std::string json;
  std::string bus;
  SystemClock::time_point ingested_at;
  std::optional<EventFields> fields;
  bool archived = false;
  std::int64_t seq = 0;  // a stored event's (resume); new events are numbered at submit
};
std::shared_ptr<EventState> make_event_state(EventOrigin origin);

// One (event, rule, target) delivery and where it stands.
struct Attempt {
  std::shared_ptr<EventState> event;
  std::shared_ptr<Deployment> deployment;  // keeps the rule set and its targets alive
  DeployedTarget* target = nullptr;
  std::int64_t id = 0;
  int attempt = 1;                     // the attempt about to be made, 1-based
  SystemClock::time_point created_at;  // the event-age clock starts here
  std::int64_t last_duration_us = -1;  // how long the last invocation took
  // Its state in delivery.max_pending_bytes, from the moment it is submitted.
  PendingBytes::Charge charge;
  // The shaped payload while an invocation holds it (shaped per invocation, not kept between
  // attempts: a backlog waiting for retries holds each event once, not twice).
  PendingBytes::Charge payload_charge;
};

// What a batch adds to the match counters. Counted only once the batch is recorded: a request
// refused after matching (the store could not record it) must not count as matched.
struct Matches {
  std::shared_ptr<Deployment> deployment;    // the batch's (one per batch); keeps `rules` alive
  std::vector<const rules::Rule*> rules;     // one per (event, matched rule)
  std::uint64_t events = 0;                  // events that matched a rule
  std::vector<metrics::Counter*> unmatched;  // one per unmatched event: its bus's counter
};

// Events and their planned deliveries, recorded together and started once recorded.
struct Batch {
  std::vector<std::shared_ptr<EventState>> events;
  std::vector<std::shared_ptr<Attempt>> attempts;
  Matches matches;
  std::vector<std::shared_ptr<EventState>> unmatched;  // kept only for the history
  GateEffects controls;  // what dedup and storm control decided for it
};

}  // namespace eventrouter::delivery
