#pragma once
// Ingest on the cluster backend: each accepted event is published to the events stream, with
// its event id as the message id (a PutEvents retried inside the duplicate window is stored
// once), and the request is answered only when the stream has acknowledged every event of it,
// that is, when it is stored on a majority of the stream's replicas. Publishing is
// asynchronous: the events of many requests are in flight at once, and each request waits
// only for its own acknowledgements.

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cluster_layout.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/nats/connection.hpp"
#include "eventrouter/server/event_sink.hpp"

namespace eventrouter::delivery {

class ClusterPublisher : public server::EventSink {
 public:
  ClusterPublisher(std::shared_ptr<nats::Connection> connection, const ClusterLayout& layout,
                   std::chrono::milliseconds timeout, metrics::Registry& metrics);
  ~ClusterPublisher() override;

  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;

  // Publishes `msg` (taken) and waits for the stream's acknowledgement: replays, redrives and
  // dead letters, which are few and whose caller waits anyway.
  Expected<bool, std::string> publish_and_wait(nats::MsgPtr msg);

 private:
  struct Request;
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure);
  void acknowledged(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error);

  std::shared_ptr<nats::Connection> connection_;
  const ClusterLayout& layout_;
  std::chrono::milliseconds timeout_;
  jsCtx* async_ = nullptr;  // a JetStream context of its own, with the acknowledgement handler
  std::mutex mutex_;
  std::unordered_map<natsMsg*, std::shared_ptr<Request>> in_flight_;
  metrics::Counter& duplicates_;
  metrics::Counter& refused_;
};

}  // namespace eventrouter::delivery
