#include "eventrouter/delivery/cluster_bus.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <utility>

#include "cluster_state.hpp"
#include "event_json.hpp"
#include "eventrouter/nats/connection.hpp"
#include "eventrouter/util/bus_name.hpp"

namespace eventrouter::delivery {

using namespace cluster_detail;

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kPeerInterval{5};
constexpr int kFetchBatch = 256;
constexpr std::int64_t kFetchWaitMs = 500;

}  // namespace

ClusterBus::ClusterBus(ClusterBusOptions options, metrics::Registry& metrics)
    : state_(std::make_unique<State>(std::move(options), metrics)) {}

ClusterBus::~ClusterBus() {
  stop_consuming();
  close();
}

std::string default_router_name() {
  char name[256] = "";
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "eventrouter";
  std::string text(name);
  // As bus.nats.router_name takes them: letters, digits, '-' and '_'.
  for (char& c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return text.substr(0, 64);
}

void ClusterBus::open() {
  auto& s = *state_;
  auto connection = nats::Connection::open(s.options.nats.connection,
                                           "eventrouter " + s.options.router_name, false);
  if (!connection) throw std::runtime_error(connection.error());
  s.connection = std::move(*connection);
  s.publisher = std::make_unique<ClusterPublisher>(s.connection, s.layout,
                                                   s.options.publish_timeout, s.metrics);
  s.progress = std::make_unique<ClusterProgress>(s.connection, s.layout, s.options.nats.ack_wait);
  s.dedup = std::make_unique<ClusterDedup>(s.connection, s.layout);
  s.metrics.gauge_callback("eventrouter_cluster_connected",
                           "1 while this router is connected to a NATS server of its cluster.",
                           [&s] { return s.connection->connected() ? 1.0 : 0.0; });
  s.metrics.gauge_callback("eventrouter_cluster_held_events",
                           "Events this router holds from the shared consumer (at most "
                           "bus.nats.max_inflight_events).",
                           [&s] { return static_cast<double>(s.progress->held()); });
  // Set up now when the cluster answers, so that a router that says it is listening takes
  // events; otherwise the maintenance thread keeps trying.
  if (s.connection->connected()) s.set_up();
  s.maintenance = std::thread([&s] { s.maintain(); });
}

DeliveryStore& ClusterBus::store() {
  return *state_->progress;
}

SharedDedup& ClusterBus::shared_dedup() {
  return *state_->dedup;
}

void ClusterBus::start_consuming(Dispatcher& dispatcher) {
  auto& s = *state_;
  s.dispatcher = &dispatcher;
  s.consuming = true;
  s.consumer = std::thread([&s] { s.consume(); });
}

void ClusterBus::stop_consuming() {
  auto& s = *state_;
  s.consuming = false;
  if (s.progress) s.progress->begin_stop();
  if (s.consumer.joinable()) s.consumer.join();
}

void ClusterBus::close() {
  auto& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (s.closing) return;
    s.closing = true;
  }
  s.wake.notify_all();
  if (s.maintenance.joinable()) s.maintenance.join();
  s.layout_ready = false;  // ingest answers 503 from here on (a request still being read)
  if (s.progress) s.progress->stop();
  s.subscription.reset();
  // The publisher stays until the bus goes: a late request may still be in accept().
}

void ClusterBus::set_rules_digest(std::string digest) {
  {
    std::lock_guard lock(state_->mutex);
    state_->rules_digest = std::move(digest);
    state_->digest_changed = true;
  }
  state_->wake.notify_all();  // published at once: a rollout shows in seconds
}

ClusterStatus ClusterBus::status() const {
  const auto& s = *state_;
  ClusterStatus status;
  std::lock_guard lock(s.mutex);
  status.warnings = s.warnings;
  if (!s.connection || !s.connection->connected()) {
    status.reason = "not connected to any NATS server of bus.nats.servers; retrying";
    if (s.connection) {
      if (auto why = s.connection->last_error(); !why.empty()) status.reason += " (" + why + ")";
    }
  } else if (!s.layout_ready) {
    status.reason = "setting up the NATS streams: " +
                    (s.setup_error.empty() ? std::string("in progress") : s.setup_error);
  } else if (s.consuming && !s.subscribed) {
    status.reason = "not yet taking events from the consumer " + s.layout.consumer;
  } else {
    status.ready = true;
  }
  return status;
}

void ClusterBus::State::maintain() {
  auto next_peers = Clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex);
      wake.wait_until(lock, std::min(next_peers, Clock::now() + std::chrono::seconds(1)),
                      [this] { return closing || digest_changed; });
      if (closing) return;
      if (std::exchange(digest_changed, false)) next_peers = Clock::now();
    }
    if (!connection->connected()) {
      // Said once per reason: a wrong token or an unreachable cluster must show in the log.
      auto why = connection->last_error();
      if (why.empty()) why = "no server answers";
      std::lock_guard lock(mutex);
      if (why != connect_error) spdlog::warn("nats: cannot connect: {}; retrying", why);
      connect_error = std::move(why);
      continue;
    }
    {
      std::lock_guard lock(mutex);
      connect_error.clear();
    }
    if (!layout_ready) set_up();
    if (Clock::now() >= next_peers) {
      publish_rules();
      measure_stream();
      next_peers = Clock::now() + kPeerInterval;
    }
  }
}

// Creates or updates what the backend keeps in the cluster; until that succeeds the router
// is not ready and ingest answers 503.
void ClusterBus::State::set_up() {
  LayoutSettings settings;
  settings.replicas = options.nats.replicas;
  settings.duplicate_window = options.nats.duplicate_window;
  settings.ack_wait = options.nats.ack_wait;
  settings.retention = options.archive_retention;
  settings.max_bytes = static_cast<std::int64_t>(options.max_bytes);
  settings.max_ack_pending = std::max<std::int64_t>(
      1000, static_cast<std::int64_t>(options.nats.max_inflight_events) * 64);
  auto made = ensure_layout(connection->jetstream(), layout, settings);
  std::optional<std::string> error;
  if (!made) error = made.error();
  if (!error) error = progress->open_bucket();
  std::lock_guard lock(mutex);
  if (error) {
    if (*error != setup_error) spdlog::warn("nats: {}; retrying", *error);
    setup_error = *error;
    return;
  }
  setup_error.clear();
  layout_ready = true;
  spdlog::info("nats: stream {} ready ({} replicas), connected to {}", layout.stream,
               options.nats.replicas, connection->connected_url());
}

void ClusterBus::State::measure_stream() {
  jsStreamInfo* raw = nullptr;
  if (js_GetStreamInfo(&raw, connection->jetstream(), layout.stream.c_str(), nullptr, nullptr) !=
      NATS_OK)
    return;
  nats::StreamInfoPtr info(raw);
  stream_bytes.set(static_cast<double>(info->State.Bytes));
}

// Publishes this router's rule digest and compares every router's.
void ClusterBus::State::publish_rules() {
  std::string digest;
  {
    std::lock_guard lock(mutex);
    digest = rules_digest;
  }
  if (digest.empty()) return;
  kvStore* bucket = nullptr;
  if (js_KeyValue(&bucket, connection->jetstream(), layout.routers_bucket.c_str()) != NATS_OK)
    return;
  kvStore_PutString(nullptr, bucket, options.router_name.c_str(), digest.c_str());
  std::map<std::string, std::vector<std::string>> routers_by_digest;
  kvKeysList keys{};
  std::size_t routers = 0;
  if (kvStore_Keys(&keys, bucket, nullptr) == NATS_OK) {
    for (int i = 0; i < keys.Count; ++i) {
      kvEntry* entry = nullptr;
      if (kvStore_Get(&entry, bucket, keys.Keys[i]) != NATS_OK) continue;
      routers_by_digest[kvEntry_ValueString(entry)].push_back(keys.Keys[i]);
      ++routers;
      kvEntry_Destroy(entry);
    }
    kvKeysList_Destroy(&keys);
  }
  kvStore_Destroy(bucket);
  routers_gauge.set(static_cast<double>(routers));
  rule_sets_gauge.set(static_cast<double>(routers_by_digest.size()));
  std::vector<std::string> now;
  if (routers_by_digest.size() > 1) {
    std::string text = "routers run different rule sets (a rollout in progress?):";
    for (const auto& [rules, names] : routers_by_digest) {
      text += " rules " + rules.substr(0, 12) + " on ";
      for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
      text += ";";
    }
    text.pop_back();
    now.push_back(std::move(text));
  }
  std::lock_guard lock(mutex);
  if (routers_by_digest.size() != last_rule_sets) {
    if (routers_by_digest.size() > 1)
      spdlog::warn("nats: {}", now.front());
    else
      spdlog::info("nats: every router runs the same rules again");
    last_rule_sets = routers_by_digest.size();
  }
  warnings = std::move(now);
}

void ClusterBus::State::consume() {
  auto& sub = subscription;
  while (consuming) {
    if (!layout_ready || !connection->connected()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!sub) {
      jsSubOptions bind;
      jsSubOptions_Init(&bind);
      bind.Stream = layout.stream.c_str();
      bind.Consumer = layout.consumer.c_str();
      natsSubscription* raw = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      const auto status = js_PullSubscribe(&raw, connection->jetstream(), nullptr,
                                           layout.consumer.c_str(), nullptr, &bind, &code);
      if (status != NATS_OK) {
        spdlog::warn("nats: cannot take events from the consumer {}: {}", layout.consumer,
                     nats::describe(status, code));
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      sub.reset(raw);
      subscribed = true;
    }
    const auto held = progress->held();
    const auto room =
        options.nats.max_inflight_events > held ? options.nats.max_inflight_events - held : 0;
    if (room == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    MsgListOwner batch;
    const auto status = natsSubscription_Fetch(
        &batch.list, sub.get(), static_cast<int>(std::min<std::size_t>(room, kFetchBatch)),
        kFetchWaitMs, nullptr);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
      spdlog::debug("nats: fetch: {}", nats::describe(status));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (int i = 0; i < batch.list.Count; ++i) {
      natsMsg* msg = batch.list.Msgs[i];
      batch.list.Msgs[i] = nullptr;  // taken: destroyed by whoever holds it
      take(msg);
    }
  }
  subscribed = false;
}

void ClusterBus::State::take(natsMsg* raw) {
  nats::MsgPtr msg(raw);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, raw) != NATS_OK) {
    natsMsg_Term(raw, nullptr);  // not from a stream: nothing to deliver, ever
    return;
  }
  const auto seq = static_cast<std::int64_t>(meta->Sequence.Stream);
  const auto delivered = meta->NumDelivered;
  const auto stored_at = meta->Timestamp;
  jsMsgMetaData_Destroy(meta);

  LoggedEvent event;
  event.seq = seq;
  event.json.assign(natsMsg_GetData(raw), static_cast<std::size_t>(natsMsg_GetDataLength(raw)));
  event.bus = header(raw, kBusHeader);
  if (event.bus.empty()) event.bus = "default";
  event.ingested_at = from_millis_text(header(raw, kIngestedAtHeader), stored_at);
  event.only_rule = header(raw, kOnlyRuleHeader);
  event.replayed = natsMsg_GetSubject(raw) == layout.replay_subject();
  if (natsMsg_GetSubject(raw) == layout.redrive_subject()) {
    event.only_target = std::pair{header(raw, kRuleHeader), header(raw, kTargetHeader)};
  }
  taken.inc();
  if (auto why = refusal(natsMsg_GetSubject(raw), event.bus, event.json)) {
    // Terminated: never handed out again. Logged for the first few and then now and then,
    // so that a flood cannot fill the log.
    const auto count = refused.value();
    refused.inc();
    if (count < 10 || count % 1000 == 0)
      spdlog::warn("nats: dropped message {} on {}: {} (not published by a router?)", seq,
                   natsMsg_GetSubject(raw), *why);
    natsMsg_Term(raw, nullptr);
    return;
  }
  // The delivery count alone is not trusted to tell a first delivery: a consumer whose leader
  // moved (a NATS node lost) may hand out a message a dead router held as if it were new. A
  // message stored longer ago than ack_wait may have been held, so its progress is read too:
  // at worst, lookups that find nothing.
  const auto stored_for =
      std::chrono::system_clock::now() -
      std::chrono::system_clock::time_point(std::chrono::nanoseconds(stored_at));
  if (delivered > 1 || stored_for >= options.nats.ack_wait) {
    if (delivered > 1) redelivered.inc();
    auto counted = std::make_shared<std::atomic<bool>>(delivered > 1);
    event.progress = [this, seq, counted](const std::string& rule, const std::string& target) {
      auto made = progress->recorded(seq, rule, target);
      // Held before after all: another router (or an earlier run) recorded progress.
      if (made && !counted->exchange(true)) redelivered.inc();
      return made;
    };
  }
  if (!progress->hold(seq, std::move(msg))) return;
  if (dispatcher.load()->take_logged(std::move(event)) == 0) progress->release_now(seq);
}

std::optional<std::string> ClusterBus::State::refusal(std::string_view subject,
                                                      const std::string& bus,
                                                      const std::string& json) const {
  if (!is_valid_bus_name(bus)) return "its bus name is not valid";
  if (subject.starts_with(layout.prefix + ".events.")) {
    // An ingested event: it must pass ingest's checks again, unchanged.
    auto entries = event::parse_events_request(json, bus, options.envelope);
    if (!entries) return entries.error().message;
    if (entries->size() != 1) return std::string("not one event");
    if (!entries->front()) return entries->front().error().message;
    return std::nullopt;
  }
  // A replay or redrive carries fields ingest does not take (replay-name): it is checked for
  // what would change its meaning to the matcher.
  if (auto error = event::describe_json_error(json); !error.empty()) return error;
  if (auto duplicate = event::describe_duplicate_key(json); !duplicate.empty()) return duplicate;
  return std::nullopt;
}

void ClusterBus::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  auto& s = *state_;
  if (!s.layout_ready) {
    return done(server::SinkRefusal{503, "ClusterUnavailable",
                                    "the NATS cluster is not reachable or not set up yet; retry",
                                    std::chrono::seconds(2)});
  }
  s.publisher->accept(std::move(events), std::move(done));
}

Expected<bool, std::string> ClusterBus::publish_scheduled(const std::string& rule, std::int64_t due,
                                                          const std::string& bus,
                                                          const std::string& event_json) {
  auto& s = *state_;
  if (!s.layout_ready) return unexpected(std::string("the NATS cluster is not reachable"));
  auto msg = make_msg(s.layout.event_subject(bus), event_json);
  set_header(msg.get(), kMsgIdHeader, "schedule/" + rule + "/" + std::to_string(due));
  set_header(msg.get(), kBusHeader, bus);
  set_header(msg.get(), kIngestedAtHeader, now_millis_text());
  set_header(msg.get(), kOnlyRuleHeader, rule);
  return s.publisher->publish_and_wait(std::move(msg));
}

std::string ClusterBus::where(const std::filesystem::path&) const {
  return "the stream " + state_->layout.dlq_stream;
}

bool ClusterBus::write(const std::filesystem::path& file, const DeadLetter& letter) {
  auto& s = *state_;
  auto msg = make_msg(s.layout.dlq_subject, DeadLetters::render(letter));
  set_header(msg.get(), kRuleHeader, std::string(letter.rule));
  set_header(msg.get(), kTargetHeader, std::string(letter.target));
  set_header(msg.get(), "Eventrouter-Dead-Letter-Path", file.string());
  auto published = s.publisher->publish_and_wait(std::move(msg));
  if (!published) {
    spdlog::error("cannot write dead letter for rule {} target {} to the stream {}: {}",
                  letter.rule, letter.target, s.layout.dlq_stream, published.error());
    return false;
  }
  return true;
}

}  // namespace eventrouter::delivery
