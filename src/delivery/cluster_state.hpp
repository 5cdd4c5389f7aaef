#pragma once
// The cluster backend's shared state, for the files that implement ClusterBus (connection and
// consumer in cluster_bus.cpp, replays, redrives and dead letters in cluster_admin.cpp).

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster_dedup.hpp"
#include "cluster_layout.hpp"
#include "cluster_progress.hpp"
#include "cluster_publisher.hpp"
#include "eventrouter/delivery/cluster_bus.hpp"
#include "eventrouter/nats/connection.hpp"

namespace eventrouter::delivery {

namespace cluster_detail {

inline std::string header(natsMsg* msg, const char* name) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, name, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

inline std::chrono::system_clock::time_point from_millis_text(const std::string& text,
                                                              std::int64_t fallback_nanos) {
  EpochMillis millis = fallback_nanos / 1000000;
  std::from_chars(text.data(), text.data() + text.size(), millis);  // unchanged if no number
  return from_epoch_millis(millis);
}

inline nats::MsgPtr make_msg(const std::string& subject, std::string_view data) {
  natsMsg* msg = nullptr;
  if (natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) !=
      NATS_OK)
    throw std::bad_alloc();
  return nats::MsgPtr(msg);
}

inline void set_header(natsMsg* msg, const char* name, const std::string& value) {
  natsMsgHeader_Set(msg, name, value.c_str());
}

inline std::string now_millis_text() {
  return std::to_string(to_epoch_millis(std::chrono::system_clock::now()));
}

struct SubscriptionDeleter {
  void operator()(natsSubscription* sub) const {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

struct MsgListOwner {
  natsMsgList list{};
  ~MsgListOwner() { natsMsgList_Destroy(&list); }
};

}  // namespace cluster_detail

struct ClusterBus::State {
  State(ClusterBusOptions o, metrics::Registry& registry)
      : options(std::move(o)),
        layout(options.nats),
        metrics(registry),
        routers_gauge(registry.gauge("eventrouter_cluster_routers",
                                     "Routers that published their rule set in the last 30 s.")),
        rule_sets_gauge(registry.gauge(
            "eventrouter_cluster_rule_sets",
            "Distinct rule sets the routers run; above 1 during a half-finished rollout.")),
        stream_bytes(
            registry.gauge("eventrouter_cluster_stream_bytes",
                           "Bytes the events stream holds (the archive and the events "
                           "not yet delivered); at bus.nats.max_bytes ingest answers 503.")),
        taken(registry.counter("eventrouter_cluster_events_taken_total",
                               "Events this router took from the shared consumer.")),
        refused(registry.counter("eventrouter_cluster_events_refused_total",
                                 "Messages on the stream's subjects that are not events ingest "
                                 "would take (published by something else); dropped.")),
        redelivered(registry.counter("eventrouter_cluster_events_redelivered_total",
                                     "Taken events that another router (or an earlier run of "
                                     "this one) had held before.")) {}

  ClusterBusOptions options;
  ClusterLayout layout;
  metrics::Registry& metrics;
  metrics::Gauge& routers_gauge;
  metrics::Gauge& rule_sets_gauge;
  metrics::Gauge& stream_bytes;
  metrics::Counter& taken;
  metrics::Counter& refused;
  metrics::Counter& redelivered;

  std::shared_ptr<nats::Connection> connection;
  std::unique_ptr<ClusterPublisher> publisher;
  std::unique_ptr<ClusterProgress> progress;
  std::unique_ptr<ClusterDedup> dedup;

  std::atomic<bool> layout_ready{false};
  std::atomic<bool> consuming{false};
  std::atomic<bool> subscribed{false};
  std::atomic<Dispatcher*> dispatcher{nullptr};

  mutable std::mutex mutex;  // guards the strings below and wakes the maintenance thread
  std::condition_variable wake;
  bool closing = false;
  std::string setup_error;
  std::string connect_error;  // the last reason logged for not being connected
  std::string rules_digest;
  bool digest_changed = false;  // published at once, not at the next round
  std::vector<std::string> warnings;
  std::size_t last_rule_sets = 1;

  // Outlives the messages taken through it: acknowledging a message goes through its
  // subscription. Destroyed in close(), after the held messages are handed back.
  cluster_detail::SubscriptionPtr subscription;
  std::thread maintenance;
  std::thread consumer;

  void maintain();
  void set_up();
  void publish_rules();
  void measure_stream();
  void consume();
  void take(natsMsg* raw);
  // Why a message is not an event to deliver, or nothing.
  std::optional<std::string> refusal(std::string_view subject, const std::string& bus,
                                     const std::string& json) const;
};

}  // namespace eventrouter::delivery
