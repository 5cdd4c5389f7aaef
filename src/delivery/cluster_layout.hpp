#pragma once
// What the cluster backend keeps in JetStream, and its names: the events stream (the bus and
// the archive), the dead-letter stream, the progress bucket (per-target outcomes, so that a
// router taking over an event does not run a target again) and the routers bucket (which rule
// set each router runs), and the one durable pull consumer every router shares.

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "eventrouter/config/config.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::delivery {

// Headers of the messages the routers write.
inline constexpr const char* kMsgIdHeader = "Nats-Msg-Id";  // JetStream's duplicate check
inline constexpr const char* kBusHeader = "Eventrouter-Bus";
inline constexpr const char* kIngestedAtHeader = "Eventrouter-Ingested-At";  // epoch ms
inline constexpr const char* kOnlyRuleHeader = "Eventrouter-Only-Rule";      // replay of a rule
inline constexpr const char* kRuleHeader = "Eventrouter-Rule";               // redrive, DLQ
inline constexpr const char* kTargetHeader = "Eventrouter-Target";           // redrive, DLQ

struct ClusterLayout {
  explicit ClusterLayout(const config::NatsBusConfig& config);

  std::string stream;  // events: PREFIX.events.BUS (ingest) and PREFIX.work.* (replays, redrives)
  std::string dlq_stream;  // dead letters: PREFIX.dlq
  std::string progress_bucket;
  std::string routers_bucket;
  std::string dedup_bucket;  // rules' dedup keys, shared by the routers
  std::string consumer;
  std::string events_subjects;  // PREFIX.events.>
  std::string work_subjects;    // PREFIX.work.>
  std::string dlq_subject;
  std::string prefix;

  std::string event_subject(std::string_view bus) const;
  std::string replay_subject() const { return prefix + ".work.replay"; }
  std::string redrive_subject() const { return prefix + ".work.redrive"; }
};

struct LayoutSettings {
  int replicas = 1;
  std::chrono::milliseconds duplicate_window{120000};
  std::chrono::milliseconds ack_wait{30000};
  std::int64_t max_ack_pending = 20000;
  // Events are kept this long (the archive), and at least as long as an event may wait for a
  // delivery (maximum_event_age_seconds is at most a day), so none goes before it is delivered.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::int64_t max_bytes = std::int64_t{1} << 30;  // past it, publishing is refused
};

// Creates what is missing and brings what exists to these settings. Safe to run from every
// router at once, at every start and after the cluster comes back.
Expected<bool, std::string> ensure_layout(jsCtx* js, const ClusterLayout& layout,
                                          const LayoutSettings& settings);

// A message id for JetStream's duplicate check from an event id: the id itself when it can
// travel in a header, else a digest of it (the same event id always gives the same message id).
std::string message_id_for(std::string_view event_id);

}  // namespace eventrouter::delivery
