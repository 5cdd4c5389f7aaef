#pragma once
// The delivery store of the cluster backend. The events stream already holds every event, so
// nothing is appended; what this store keeps is each event's progress: the messages this
// router holds, until every delivery it started for one has finished (then the message is
// acknowledged and no router sees it again), and each (event, rule, target)'s outcome in the
// progress bucket, so that a router that gets the event after this one dies does not run a
// target that had succeeded. While an event is held its message is kept alive with progress
// signals (a long runbook, a retry waiting out its backoff); at stop, held messages are handed
// back at once rather than after the acknowledgement timeout.
//
// Every call to the cluster is made by one writer thread, in order: an outcome is recorded
// before the message is acknowledged, and no caller waits on the network.

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>

#include "cluster_layout.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/dispatcher.hpp"
#include "eventrouter/nats/connection.hpp"

namespace eventrouter::delivery {

class ClusterProgress : public StoreWithoutEvents {
 public:
  ClusterProgress(std::shared_ptr<nats::Connection> connection, const ClusterLayout& layout,
                  std::chrono::milliseconds ack_wait);
  ~ClusterProgress() override;

  // Opens the progress bucket (once the layout exists). Returns why not.
  std::optional<std::string> open_bucket();
  // A message taken from the consumer, held until its deliveries finish; `seq` is its stream
  // sequence number. Call before handing the event to the dispatcher. False when this router
  // holds the event already (handed out again after a stall): the newer message replaces the
  // older, and the event is not to be delivered twice.
  bool hold(std::int64_t seq, nats::MsgPtr msg);
  // The event needs nothing (more) from this router: acknowledge it.
  void release_now(std::int64_t seq);
  std::size_t held() const;
  // What earlier holders recorded for (event, rule, target): nothing, kDelivered or attempts.
  std::optional<int> recorded(std::int64_t seq, const std::string& rule, const std::string& target);
  // The router is stopping: events whose deliveries stop here stay held, for stop() to hand
  // back at once (rather than after a pause).
  void begin_stop() { draining_ = true; }
  // Writes what is queued, hands every held message back to the cluster, stops the writer.
  void stop();

  bool durable() const override { return true; }  // unfinished events stay in the cluster
  Ids reserve_ids(std::size_t events, std::size_t deliveries) override;
  void append(std::span<const NewEvent> events, std::span<const NewDelivery> deliveries,
              AppendDone done) override;
  void record_attempt(std::int64_t delivery_id, int attempts, EpochMillis next_attempt_at,
                      std::string last_error) override;
  void finish(std::int64_t delivery_id, std::optional<std::int64_t> delete_event_seq) override;
  // The event goes back to the cluster, for any router to try again after a pause, once none of
  // its deliveries runs here any more.
  void release(std::int64_t delivery_id) override;

 private:
  struct Delivery {
    std::int64_t seq;
    std::string key;  // in the progress bucket
  };
  struct Put {
    std::string key;
    std::string value;
  };
  struct Ack {
    std::int64_t seq;
    bool handed_back = false;  // a Nak (with a pause): some delivery did not finish here
  };
  void settle(std::int64_t delivery_id, bool finished);
  using Op = std::variant<Put, Ack>;

  std::string key_of(std::int64_t seq, std::string_view rule, std::string_view target) const;
  void enqueue(Op op);
  void run();
  void write(const Put& put);
  void acknowledge(const Ack& ack);
  void signal_progress();

  std::shared_ptr<nats::Connection> connection_;
  const ClusterLayout& layout_;
  const std::chrono::milliseconds progress_interval_;
  std::atomic<kvStore*> bucket_{nullptr};
  // Progress records are published to the bucket's subjects without waiting for each answer
  // (a round trip per delivery would cap delivery at about a thousand a second); failures are
  // logged by the context's error handler.
  jsCtx* async_ = nullptr;
  std::atomic<bool> draining_{false};

  std::atomic<std::int64_t> next_delivery_id_{1};
  mutable std::mutex mutex_;
  std::map<std::int64_t, nats::MsgPtr> held_;              // by stream sequence
  std::unordered_map<std::int64_t, int> remaining_;        // deliveries unfinished, by sequence
  std::unordered_map<std::int64_t, bool> released_;        // events with a released delivery
  std::unordered_map<std::int64_t, Delivery> deliveries_;  // by delivery id

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Op> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace eventrouter::delivery
