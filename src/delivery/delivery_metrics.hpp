#pragma once
// The delivery engine's own metrics (per-target ones live in each DeployedTarget), looked up
// once so that the per-event path never touches the registry's lock.

#include "eventrouter/metrics/registry.hpp"

namespace eventrouter::delivery {

struct DeliveryMetrics {
  explicit DeliveryMetrics(metrics::Registry& source)
      : registry(source),
        matched(source.counter("eventrouter_events_matched_total",
                               "Events that matched at least one rule.")),
        unmatched(source, "eventrouter_events_unmatched_total", "Events no enabled rule matched.",
                  "bus"),
        dispatch_latency(
            source.histogram("eventrouter_ingest_to_invocation_seconds",
                             "Time from ingestion to the start of the first invocation attempt.")),
        replayed(source.counter("eventrouter_events_replayed_total",
                                "Archived events re-driven by replays.")),
        redriven(source.counter("eventrouter_dead_letters_redriven_total",
                                "Dead letters put back into delivery.")) {}

  metrics::Registry& registry;  // for the engine's parts that keep metrics of their own
  metrics::Counter& matched;
  metrics::LabeledCounters unmatched;  // by bus
  metrics::Histogram& dispatch_latency;
  metrics::Counter& replayed;
  metrics::Counter& redriven;
};

}  // namespace eventrouter::delivery
