#include "cluster_progress.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "eventrouter/net/hmac.hpp"

namespace eventrouter::delivery {

namespace {

constexpr std::string_view kDone = "done";
constexpr std::int64_t kHandBackPauseMs = 5000;
constexpr std::int64_t kMostRecordsInFlight = 65536;

void on_record_failed(jsCtx*, jsPubAckErr* error, void*) {
  // Without it, a router taking the event over may run this target again: at least once.
  spdlog::warn(
      "nats: cannot record delivery progress ({}); if this event is handed to another "
      "router, this target may run again",
      error->ErrText != nullptr ? error->ErrText : nats::describe(error->Err));
}

}  // namespace

ClusterProgress::ClusterProgress(std::shared_ptr<nats::Connection> connection,
                                 const ClusterLayout& layout, std::chrono::milliseconds ack_wait)
    : connection_(std::move(connection)),
      layout_(layout),
      // Three signals per acknowledgement timeout: one lost signal hands nothing over.
      progress_interval_(
          std::max<std::chrono::milliseconds>(ack_wait / 3, std::chrono::milliseconds(200))) {
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = kMostRecordsInFlight;
  options.PublishAsync.ErrHandler = on_record_failed;
  natsConnection_JetStream(&async_, connection_->get(), &options);
  writer_ = std::thread([this] { run(); });
}

ClusterProgress::~ClusterProgress() {
  stop();
  if (async_ != nullptr) jsCtx_Destroy(async_);
  if (auto* bucket = bucket_.exchange(nullptr)) kvStore_Destroy(bucket);
}

std::optional<std::string> ClusterProgress::open_bucket() {
  if (bucket_.load() != nullptr) return std::nullopt;
  kvStore* bucket = nullptr;
  const auto status =
      js_KeyValue(&bucket, connection_->jetstream(), layout_.progress_bucket.c_str());
  if (status != NATS_OK) {
    return "cannot open the bucket " + layout_.progress_bucket + ": " + nats::describe(status);
  }
  kvStore* expected = nullptr;
  if (!bucket_.compare_exchange_strong(expected, bucket)) kvStore_Destroy(bucket);
  return std::nullopt;
}

// Rule names and target ids are hex-encoded: a key then holds only characters the bucket
// takes, and no two (rule, target) pairs share one.
std::string ClusterProgress::key_of(std::int64_t seq, std::string_view rule,
                                    std::string_view target) const {
  return std::to_string(seq) + '.' + net::to_hex(rule) + '.' + net::to_hex(target);
}

bool ClusterProgress::hold(std::int64_t seq, nats::MsgPtr msg) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = held_.try_emplace(seq, nullptr);
  it->second = std::move(msg);
  return inserted;
}

void ClusterProgress::release_now(std::int64_t seq) {
  enqueue(Ack{seq});
}

std::size_t ClusterProgress::held() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

std::optional<int> ClusterProgress::recorded(std::int64_t seq, const std::string& rule,
                                             const std::string& target) {
  kvStore* bucket = bucket_.load();
  if (bucket == nullptr) return std::nullopt;
  kvEntry* entry = nullptr;
  const auto key = key_of(seq, rule, target);
  const auto status = kvStore_Get(&entry, bucket, key.c_str());
  if (status != NATS_OK) {
    if (status != NATS_NOT_FOUND)
      spdlog::warn("nats: cannot read the progress of event {}: {}", seq, nats::describe(status));
    return std::nullopt;
  }
  const std::string_view value(kvEntry_ValueString(entry));
  std::optional<int> made;
  if (value == kDone) {
    made = LoggedEvent::kDelivered;
  } else {
    int attempts = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), attempts);
    if (ec == std::errc() && attempts > 0) made = attempts;
  }
  kvEntry_Destroy(entry);
  return made;
}

DeliveryStore::Ids ClusterProgress::reserve_ids(std::size_t, std::size_t deliveries) {
  // Event numbers are the stream's; delivery ids are this router's own.
  const auto first =
      next_delivery_id_.fetch_add(static_cast<std::int64_t>(deliveries), std::memory_order_relaxed);
  return Ids{0, first};
}

void ClusterProgress::append(std::span<const NewEvent>, std::span<const NewDelivery> deliveries,
                             AppendDone done) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& delivery : deliveries) {
      deliveries_.emplace(
          delivery.id,
          Delivery{delivery.event_seq, key_of(delivery.event_seq, delivery.rule, delivery.target)});
      ++remaining_[delivery.event_seq];
    }
  }
  done(std::nullopt);  // the event is in the stream already
}

void ClusterProgress::record_attempt(std::int64_t delivery_id, int attempts, EpochMillis,
                                     std::string) {
  std::string key;
  {
    std::lock_guard lock(mutex_);
    auto it = deliveries_.find(delivery_id);
    if (it == deliveries_.end()) return;
    key = it->second.key;
  }
  enqueue(Put{std::move(key), std::to_string(attempts)});
}

void ClusterProgress::finish(std::int64_t delivery_id, std::optional<std::int64_t>) {
  settle(delivery_id, true);
}

void ClusterProgress::release(std::int64_t delivery_id) {
  settle(delivery_id, false);
}

void ClusterProgress::settle(std::int64_t delivery_id, bool finished) {
  std::string key;
  std::optional<Ack> event_done;
  {
    std::lock_guard lock(mutex_);
    auto it = deliveries_.find(delivery_id);
    if (it == deliveries_.end()) return;
    const auto seq = it->second.seq;
    key = std::move(it->second.key);
    deliveries_.erase(it);
    if (!finished) released_[seq] = true;
    if (--remaining_[seq] == 0) {
      remaining_.erase(seq);
      event_done = Ack{seq, released_.erase(seq) > 0};
    }
  }
  if (finished) enqueue(Put{std::move(key), std::string(kDone)});
  if (event_done && !(event_done->handed_back && draining_)) enqueue(*event_done);
}

void ClusterProgress::enqueue(Op op) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
}

void ClusterProgress::run() {
  auto next_signal = std::chrono::steady_clock::now() + progress_interval_;
  for (;;) {
    std::deque<Op> ops;
    bool stopping = false;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait_until(lock, next_signal, [this] { return stopping_ || !queue_.empty(); });
      ops.swap(queue_);
      stopping = stopping_;
    }
    for (const auto& op : ops) {
      if (const auto* put = std::get_if<Put>(&op)) {
        write(*put);
      } else {
        acknowledge(std::get<Ack>(op));
      }
    }
    if (stopping) break;
    if (std::chrono::steady_clock::now() >= next_signal) {
      signal_progress();
      next_signal = std::chrono::steady_clock::now() + progress_interval_;
    }
  }
  // Handed back now: another router (or this one, restarted) takes them without waiting out
  // the acknowledgement timeout; their progress is in the bucket.
  std::map<std::int64_t, nats::MsgPtr> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_);
  }
  for (auto& [seq, msg] : held) natsMsg_Nak(msg.get(), nullptr);
  if (!held.empty())
    spdlog::info("nats: handed {} unfinished events back to the cluster", held.size());
}

void ClusterProgress::write(const Put& put) {
  if (bucket_.load() == nullptr || async_ == nullptr) return;
  // A key-value put is a publish to $KV.BUCKET.KEY on the bucket's stream.
  const auto subject = "$KV." + layout_.progress_bucket + "." + put.key;
  if (const auto status = js_PublishAsync(async_, subject.c_str(), put.value.data(),
                                          static_cast<int>(put.value.size()), nullptr);
      status != NATS_OK) {
    spdlog::warn(
        "nats: cannot record delivery progress ({}); if this event is handed to another "
        "router, this target may run again",
        nats::describe(status));
  }
}

void ClusterProgress::acknowledge(const Ack& ack) {
  nats::MsgPtr msg;
  {
    std::lock_guard lock(mutex_);
    auto it = held_.find(ack.seq);
    if (it == held_.end()) return;
    msg = std::move(it->second);
    held_.erase(it);
  }
  if (ack.handed_back) {
    // Tried again by some router after a pause, with the progress recorded so far.
    natsMsg_NakWithDelay(msg.get(), kHandBackPauseMs, nullptr);
    return;
  }
  if (const auto status = natsMsg_Ack(msg.get(), nullptr); status != NATS_OK) {
    spdlog::warn(
        "nats: cannot acknowledge event {} ({}); another router may get it, and skip "
        "its finished targets",
        ack.seq, nats::describe(status));
  }
}

void ClusterProgress::signal_progress() {
  std::lock_guard lock(mutex_);
  for (auto& [seq, msg] : held_) natsMsg_InProgress(msg.get(), nullptr);
}

void ClusterProgress::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

}  // namespace eventrouter::delivery
