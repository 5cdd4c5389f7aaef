#include "cluster_publisher.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <stdexcept>

namespace eventrouter::delivery {

namespace {

server::SinkRefusal cluster_refusal(const std::string& why) {
  return server::SinkRefusal{503, "ClusterUnavailable",
                             "the events were not stored by the NATS cluster (" + why +
                                 "); retry: a retried event is stored once",
                             std::chrono::seconds(2)};
}

// How many of our publishes may await their acknowledgement at once; past it, accept() waits
// up to kStallWait for room and then refuses.
constexpr std::int64_t kMaxInFlight = 16384;
constexpr std::int64_t kStallWaitMs = 250;

}  // namespace

// One request's events: answered when the last is acknowledged.
struct ClusterPublisher::Request {
  std::atomic<std::size_t> left{0};
  std::mutex mutex;
  std::optional<std::string> failure;
  server::SinkCompletion done;

  void settle(std::size_t count, std::optional<std::string> why) {
    if (why) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::move(why);
    }
    if (left.fetch_sub(count) != count) return;
    std::optional<server::SinkRefusal> refusal;
    {
      std::lock_guard lock(mutex);
      if (failure) refusal = cluster_refusal(*failure);
    }
    done(std::move(refusal));
  }
};

ClusterPublisher::ClusterPublisher(std::shared_ptr<nats::Connection> connection,
                                   const ClusterLayout& layout, std::chrono::milliseconds timeout,
                                   metrics::Registry& metrics)
    : connection_(std::move(connection)),
      layout_(layout),
      timeout_(timeout),
      duplicates_(metrics.counter("eventrouter_cluster_duplicate_events_total",
                                  "Events the cluster already held (a retried PutEvents inside "
                                  "the duplicate window): stored and delivered once.")),
      refused_(metrics.counter("eventrouter_cluster_publish_failures_total",
                               "Events the cluster did not acknowledge; their requests were "
                               "answered 503.")) {
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = kMaxInFlight;
  options.PublishAsync.AckHandler = &ClusterPublisher::on_ack;
  options.PublishAsync.AckHandlerClosure = this;
  options.PublishAsync.StallWait = kStallWaitMs;
  if (auto status = natsConnection_JetStream(&async_, connection_->get(), &options);
      status != NATS_OK) {
    throw std::runtime_error("cannot use JetStream: " + nats::describe(status));
  }
}

ClusterPublisher::~ClusterPublisher() {
  // Whatever is still unanswered gets its answer (a timeout) before the context goes.
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = timeout_.count();
  js_PublishAsyncComplete(async_, &options);
  jsCtx_Destroy(async_);
}

void ClusterPublisher::on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
                              void* closure) {
  static_cast<ClusterPublisher*>(closure)->acknowledged(msg, ack, error);
}

void ClusterPublisher::acknowledged(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error) {
  std::shared_ptr<Request> request;
  {
    std::lock_guard lock(mutex_);
    auto it = in_flight_.find(msg);
    if (it != in_flight_.end()) {
      request = std::move(it->second);
      in_flight_.erase(it);
    }
  }
  natsMsg_Destroy(msg);
  if (!request) return;
  if (ack != nullptr) {
    if (ack->Duplicate) duplicates_.inc();
    return request->settle(1, std::nullopt);
  }
  refused_.inc();
  std::string why = error != nullptr && error->ErrText != nullptr ? error->ErrText
                    : error != nullptr                            ? nats::describe(error->Err)
                                                                  : "no acknowledgement";
  request->settle(1, std::move(why));
}

void ClusterPublisher::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  if (events.empty()) return done(std::nullopt);
  if (!connection_->connected()) return done(cluster_refusal("not connected to any server"));
  auto request = std::make_shared<Request>();
  request->left = events.size();
  request->done = std::move(done);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = timeout_.count();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& event = events[i];
    natsMsg* msg = nullptr;
    const auto subject = layout_.event_subject(event.bus);
    const auto ingested = std::to_string(to_epoch_millis(event.ingested_at));
    auto status = natsMsg_Create(&msg, subject.c_str(), nullptr, event.json.data(),
                                 static_cast<int>(event.json.size()));
    if (status == NATS_OK)
      status = natsMsgHeader_Set(msg, kMsgIdHeader, message_id_for(event.id).c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kBusHeader, event.bus.c_str());
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, kIngestedAtHeader, ingested.c_str());
    if (status == NATS_OK) {
      std::lock_guard lock(mutex_);
      in_flight_.emplace(msg, request);
    }
    natsMsg* sent = msg;
    if (status == NATS_OK) status = js_PublishMsgAsync(async_, &sent, &options);
    if (status != NATS_OK) {
      // Not handed to the client: this event and those after it are not sent.
      {
        std::lock_guard lock(mutex_);
        in_flight_.erase(msg);
      }
      if (sent != nullptr) natsMsg_Destroy(msg);  // else the client kept it
      refused_.inc(events.size() - i);
      return request->settle(events.size() - i, nats::describe(status));
    }
  }
}

Expected<bool, std::string> ClusterPublisher::publish_and_wait(nats::MsgPtr msg) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = timeout_.count();
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const auto status = js_PublishMsg(&ack, connection_->jetstream(), msg.get(), &options, &code);
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (status != NATS_OK) return unexpected(nats::describe(status, code));
  return true;
}

}  // namespace eventrouter::delivery
