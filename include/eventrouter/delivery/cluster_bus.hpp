#pragma once
// The cluster backend (bus.backend: nats): routers on several hosts share one replicated NATS
// JetStream bus. Ingest publishes each event to the events stream and answers once the stream
// has stored it; every router takes events from one shared durable consumer, so each event is
// worked by one router at a time, and hands them to its dispatcher; the event is acknowledged
// when every delivery has succeeded or been dead-lettered. Dead letters go to a replicated
// stream, replays read the events stream (its retention is the archive), and each router
// publishes the digest of the rules it runs, so that a half-finished rollout shows.
// docs/scale-out.md describes it for operators.

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/delivery/dead_letters.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/delivery/shared_dedup.hpp"
#include "eventrouter/event/envelope.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/server/event_sink.hpp"

namespace eventrouter::delivery {

struct ClusterBusOptions {
  config::NatsBusConfig nats;
  std::string router_name;  // as other routers and the server's connz show it
  // The archive: events stay in the stream this long (and at least a day, for their retries).
  std::chrono::milliseconds archive_retention{std::chrono::hours(24 * 7)};
  std::uint64_t max_bytes = std::uint64_t{1} << 30;  // the stream's bound; past it, ingest 503
  std::chrono::milliseconds publish_timeout{5000};
  // Events taken from the stream are checked again as ingest checks them: whoever can publish
  // to the stream's subjects can put anything there.
  event::EnvelopeOptions envelope;
};

// Where the cluster stands, for /readyz and the log.
struct ClusterStatus {
  bool ready = false;
  std::string reason;                 // why not ready
  std::vector<std::string> warnings;  // e.g. routers running different rules
};

// A dead letter as the cluster keeps it.
struct ClusterDeadLetter {
  std::uint64_t seq = 0;
  std::string record;  // the same JSON line a dead-letter file holds
  std::string rule, target;
};

class ClusterBus : public server::EventSink, public AdminBackend, public DeadLetterSink {
 public:
  ClusterBus(ClusterBusOptions options, metrics::Registry& metrics);
  ~ClusterBus() override;

  // Connects, and sets up the streams, buckets and consumer once the cluster answers (in the
  // background: a router starts, and says it is not ready, while its cluster is down). Throws
  // std::runtime_error when the settings themselves are refused.
  void open();
  DeliveryStore& store();
  // Rules' dedup keys, shared by every router (the bucket STREAM_DEDUP).
  SharedDedup& shared_dedup();
  // Starts taking events from the shared consumer and handing them to `dispatcher`.
  void start_consuming(Dispatcher& dispatcher);
  // Stops taking events (first); after the dispatcher's shutdown, close() writes what is
  // queued and hands unfinished events back to the cluster.
  void stop_consuming();
  void close();

  // The digest of the rule set this router runs, published for the other routers to compare.
  void set_rules_digest(std::string digest);
  ClusterStatus status() const;

  // Ingest.
  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;
  // A scheduled rule's event for `due` (epoch seconds), published by every router: its
  // message id (schedule/RULE/DUE) lets the stream keep one copy, which one router delivers
  // to that rule alone. Waits for the stream's acknowledgement.
  Expected<bool, std::string> publish_scheduled(const std::string& rule, std::int64_t due,
                                                const std::string& bus,
                                                const std::string& event_json);
  // Replays and redrives become work messages any router takes.
  Expected<ReplayResult, AdminError> replay(const ReplayRequest& request,
                                            Deployment* deployment) override;
  Expected<RedriveResult, AdminError> redrive(const std::string& rule, const std::string& target,
                                              Deployment* deployment) override;
  // Dead letters go to the dead-letter stream.
  bool write(const std::filesystem::path& file, const DeadLetter& letter) override;
  std::string where(const std::filesystem::path& file) const override;

  // Every dead letter in the cluster, oldest first (eventrouter dlq list).
  Expected<std::vector<ClusterDeadLetter>, std::string> dead_letters();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The dead letters of the cluster `config` names, read without a running router (eventrouter
// dlq list): connects, reads, disconnects.
Expected<std::vector<ClusterDeadLetter>, std::string> read_cluster_dead_letters(
    const config::NatsBusConfig& config);

// The router name used when bus.nats.router_name is not set: the host name.
std::string default_router_name();

}  // namespace eventrouter::delivery
