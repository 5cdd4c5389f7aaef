#include "cluster_layout.hpp"

#include <algorithm>

#include "eventrouter/nats/connection.hpp"
#include "eventrouter/net/hmac.hpp"
#include "eventrouter/targets/header_value.hpp"

namespace eventrouter::delivery {

namespace {

constexpr std::int64_t kNanosPerMilli = 1000000;
constexpr std::chrono::hours kLongestEventAge{25};  // a day of retries, and an hour to spare
constexpr std::chrono::hours kDedupKeyAge{24 * 7};  // the longest dedup.window

std::int64_t nanos(std::chrono::milliseconds ms) {
  return ms.count() * kNanosPerMilli;
}

struct ConsumerInfoDeleter {
  void operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
};

Expected<bool, std::string> ensure_stream(jsCtx* js, jsStreamConfig& config) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto status = js_AddStream(&info, js, &config, nullptr, &code);
  if (status != NATS_OK && code == JSStreamNameExistErr) {
    // It exists with other settings (another router's, or an older version's): ours win.
    status = js_UpdateStream(&info, js, &config, nullptr, &code);
  }
  nats::StreamInfoPtr owned(info);
  if (status != NATS_OK) {
    return unexpected("cannot create or update the stream " + std::string(config.Name) + ": " +
                      nats::describe(status, code));
  }
  return true;
}

Expected<bool, std::string> ensure_bucket(jsCtx* js, const std::string& name, int replicas,
                                          std::chrono::milliseconds ttl) {
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = name.c_str();
  config.History = 1;
  config.Replicas = replicas;
  config.TTL = nanos(ttl);
  config.StorageType = js_FileStorage;
  kvStore* kv = nullptr;
  auto status = js_CreateKeyValue(&kv, js, &config);
  if (kv != nullptr) kvStore_Destroy(kv);
  if (status != NATS_OK) {
    return unexpected("cannot create the key-value bucket " + name + ": " + nats::describe(status));
  }
  return true;
}

}  // namespace

ClusterLayout::ClusterLayout(const config::NatsBusConfig& config)
    : stream(config.stream),
      dlq_stream(config.stream + "_DLQ"),
      progress_bucket(config.stream + "_PROGRESS"),
      routers_bucket(config.stream + "_ROUTERS"),
      dedup_bucket(config.stream + "_DEDUP"),
      consumer(config.consumer),
      events_subjects(config.subject_prefix + ".events.>"),
      work_subjects(config.subject_prefix + ".work.>"),
      dlq_subject(config.subject_prefix + ".dlq"),
      prefix(config.subject_prefix) {}

std::string ClusterLayout::event_subject(std::string_view bus) const {
  // Bus names are letters, digits and . - _ /. A dot would split the name into subject tokens
  // (and "a..b" is no subject at all), so it becomes '~', which no bus name has: one token,
  // one bus, and a replay can read exactly the bus it names.
  std::string subject = prefix + ".events.";
  for (char c : bus) subject += c == '.' ? '~' : c;
  return subject;
}

Expected<bool, std::string> ensure_layout(jsCtx* js, const ClusterLayout& layout,
                                          const LayoutSettings& settings) {
  const char* subjects[] = {layout.events_subjects.c_str(), layout.work_subjects.c_str()};
  jsStreamConfig events;
  jsStreamConfig_Init(&events);
  events.Name = layout.stream.c_str();
  events.Subjects = subjects;
  events.SubjectsLen = 2;
  events.Retention = js_LimitsPolicy;  // kept after delivery: the archive
  events.MaxAge = nanos(std::max<std::chrono::milliseconds>(settings.retention, kLongestEventAge));
  events.MaxBytes = settings.max_bytes;
  events.Discard = js_DiscardNew;  // full: refuse new events rather than drop undelivered ones
  events.Storage = js_FileStorage;
  events.Replicas = settings.replicas;
  events.Duplicates = nanos(settings.duplicate_window);
  if (auto made = ensure_stream(js, events); !made) return made;

  const char* dlq_subjects[] = {layout.dlq_subject.c_str()};
  jsStreamConfig dlq;
  jsStreamConfig_Init(&dlq);
  dlq.Name = layout.dlq_stream.c_str();
  dlq.Subjects = dlq_subjects;
  dlq.SubjectsLen = 1;
  dlq.Retention = js_LimitsPolicy;  // kept until redriven (deleted one by one then)
  dlq.Storage = js_FileStorage;
  dlq.Replicas = settings.replicas;
  dlq.Duplicates = nanos(settings.duplicate_window);
  if (auto made = ensure_stream(js, dlq); !made) return made;

  // Progress matters while an event may still be handed to another router.
  if (auto made = ensure_bucket(js, layout.progress_bucket, settings.replicas,
                                kLongestEventAge + std::chrono::hours(23));
      !made)
    return made;
  // A router's entry lapses when it stops refreshing it.
  if (auto made =
          ensure_bucket(js, layout.routers_bucket, settings.replicas, std::chrono::seconds(30));
      !made)
    return made;

  // Each key's value says when its window ends; the bucket's age bound is the longest window a
  // rule may have, so no key outlives every window.
  if (auto made = ensure_bucket(js, layout.dedup_bucket, settings.replicas, kDedupKeyAge); !made)
    return made;

  jsConsumerConfig consumer;
  jsConsumerConfig_Init(&consumer);
  consumer.Durable = layout.consumer.c_str();
  consumer.AckPolicy = js_AckExplicit;
  consumer.AckWait = nanos(settings.ack_wait);
  consumer.MaxDeliver = -1;  // an event is never given up on: its deliveries decide its fate
  consumer.MaxAckPending = settings.max_ack_pending;
  consumer.DeliverPolicy = js_DeliverAll;
  consumer.Replicas = settings.replicas;
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto status = js_AddConsumer(&info, js, layout.stream.c_str(), &consumer, nullptr, &code);
  if (status != NATS_OK && code != 0) {
    // It exists with other settings: ours win.
    status = js_UpdateConsumer(&info, js, layout.stream.c_str(), &consumer, nullptr, &code);
  }
  std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter> owned(info);
  if (status != NATS_OK) {
    return unexpected("cannot create or update the consumer " + layout.consumer + ": " +
                      nats::describe(status, code));
  }
  return true;
}

std::string message_id_for(std::string_view event_id) {
  if (!event_id.empty() && event_id.size() <= 256 &&
      !targets::outgoing_value_problem(kMsgIdHeader, event_id)) {
    return std::string(event_id);
  }
  return "sha256-" + net::sha256_hex(event_id);
}

}  // namespace eventrouter::delivery
