// The operator's requests on the cluster backend. A replay reads the events stream (its
// retention is the archive) and a redrive reads the dead-letter stream; each turns what it
// reads into work messages on the events stream, which any router takes like an event, so a
// replay or redrive survives the loss of the router that started it.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster_state.hpp"
#include "event_json.hpp"

namespace eventrouter::delivery {

using namespace cluster_detail;

namespace {

constexpr std::size_t kMostDeadLetters = 1000000;

AdminError cluster_error(const std::string& what) {
  return AdminError{503, "ClusterUnavailable", what};
}

std::int64_t to_nanos(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

Expected<ReplayResult, AdminError> ClusterBus::replay(const ReplayRequest& request,
                                                      Deployment* deployment) {
  auto& s = *state_;
  if (!request.rule.empty() && (!deployment || !deployment->has_rule(request.rule))) {
    return unexpected(
        AdminError{404, "RuleNotFound", "no rule named " + request.rule + " is loaded"});
  }
  if (s.options.archive_retention.count() == 0) {
    return unexpected(AdminError{409, "ArchiveDisabled",
                                 "there is no archive to replay: set archive.retention above 0"});
  }
  if (!s.layout_ready) return unexpected(cluster_error("the NATS cluster is not reachable"));
  // An ephemeral consumer reading the stored events from `from` on, in order.
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = s.layout.stream.c_str();
  options.Config.DeliverPolicy = js_DeliverByStartTime;
  options.Config.OptStartTime = to_nanos(request.from);
  options.Config.AckPolicy = js_AckNone;
  options.Config.InactiveThreshold = std::chrono::nanoseconds(std::chrono::minutes(1)).count();
  const auto filter =
      request.bus.empty() ? s.layout.events_subjects : s.layout.event_subject(request.bus);
  natsSubscription* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (auto status = js_PullSubscribe(&raw, s.connection->jetstream(), filter.c_str(), nullptr,
                                     nullptr, &options, &code);
      status != NATS_OK) {
    return unexpected(cluster_error("cannot read the archive: " + nats::describe(status, code)));
  }
  SubscriptionPtr sub(raw);
  ReplayResult result;
  const auto to = to_nanos(request.to);
  for (bool done = false; !done;) {
    MsgListOwner batch;
    const auto status = natsSubscription_Fetch(&batch.list, sub.get(), 256, 1000, nullptr);
    if (status == NATS_TIMEOUT) break;  // nothing more stored
    if (status != NATS_OK) {
      return unexpected(cluster_error("the replay stopped after " +
                                      std::to_string(result.events_replayed) +
                                      " events: " + nats::describe(status)));
    }
    for (int i = 0; i < batch.list.Count && !done; ++i) {
      natsMsg* stored = batch.list.Msgs[i];
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, stored) != NATS_OK) continue;
      const auto stored_at = meta->Timestamp;
      const auto seq = meta->Sequence.Stream;
      const auto pending = meta->NumPending;
      jsMsgMetaData_Destroy(meta);
      // Ingestion time decides, as with the journal; the stream's own time only bounds it.
      const auto ingested = from_millis_text(header(stored, kIngestedAtHeader), stored_at);
      if (to_nanos(ingested) >= to) {
        done = true;
        break;
      }
      if (ingested >= request.from) {
        const std::string_view json(natsMsg_GetData(stored),
                                    static_cast<std::size_t>(natsMsg_GetDataLength(stored)));
        auto work = make_msg(s.layout.replay_subject(), with_replay_name(json, request.name));
        set_header(work.get(), kMsgIdHeader,
                   message_id_for("replay:" + request.name + ":" + std::to_string(seq)));
        set_header(work.get(), kBusHeader, header(stored, kBusHeader));
        set_header(work.get(), kIngestedAtHeader, now_millis_text());
        if (!request.rule.empty()) set_header(work.get(), kOnlyRuleHeader, request.rule);
        // Counted here as the router that takes it will plan them, so that the answer is the
        // same as with the journal (the rules may change in between; rarely).
        if (deployment) {
          std::vector<const rules::Rule*> matched;
          deployment->rules().match(header(stored, kBusHeader), json, matched);
          for (const rules::Rule* rule : matched) {
            if (request.rule.empty() || rule->name == request.rule)
              result.deliveries += deployment->targets_of(*rule).size();
          }
        }
        if (auto published = s.publisher->publish_and_wait(std::move(work)); !published) {
          return unexpected(cluster_error("the replay stopped after " +
                                          std::to_string(result.events_replayed) +
                                          " events: " + published.error()));
        }
        ++result.events_replayed;
      }
      if (pending == 0) done = true;
    }
  }
  // Deliveries are planned by whichever router takes each replayed event.
  spdlog::info("replay {}: {} events, {} deliveries, published for the routers", request.name,
               result.events_replayed, result.deliveries);
  return result;
}

namespace {

Expected<std::vector<ClusterDeadLetter>, std::string> read_dead_letter_stream(
    jsCtx* js, const ClusterLayout& layout) {
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const auto status = js_GetStreamInfo(&raw, js, layout.dlq_stream.c_str(), nullptr, &code);
  nats::StreamInfoPtr info(raw);
  if (status != NATS_OK) {
    if (code == JSStreamNotFoundErr) return std::vector<ClusterDeadLetter>{};
    return unexpected("cannot read the stream " + layout.dlq_stream + ": " +
                      nats::describe(status, code));
  }
  std::vector<ClusterDeadLetter> letters;
  if (info->State.Msgs == 0) return letters;
  for (auto seq = info->State.FirstSeq;
       seq <= info->State.LastSeq && letters.size() < kMostDeadLetters; ++seq) {
    natsMsg* raw_msg = nullptr;
    const auto got = js_GetMsg(&raw_msg, js, layout.dlq_stream.c_str(), seq, nullptr, &code);
    if (got == NATS_NOT_FOUND || (got != NATS_OK && code == JSNoMessageFoundErr)) continue;
    if (got != NATS_OK) {
      return unexpected("cannot read dead letter " + std::to_string(seq) + ": " +
                        nats::describe(got, code));
    }
    nats::MsgPtr msg(raw_msg);
    letters.push_back(
        ClusterDeadLetter{seq,
                          std::string(natsMsg_GetData(raw_msg),
                                      static_cast<std::size_t>(natsMsg_GetDataLength(raw_msg))),
                          header(raw_msg, kRuleHeader), header(raw_msg, kTargetHeader)});
  }
  return letters;
}

}  // namespace

Expected<std::vector<ClusterDeadLetter>, std::string> ClusterBus::dead_letters() {
  return read_dead_letter_stream(state_->connection->jetstream(), state_->layout);
}

Expected<std::vector<ClusterDeadLetter>, std::string> read_cluster_dead_letters(
    const config::NatsBusConfig& config) {
  auto connection = nats::Connection::open(config.connection, "eventrouter dlq list", true);
  if (!connection) return unexpected(connection.error());
  return read_dead_letter_stream((*connection)->jetstream(), ClusterLayout(config));
}

Expected<RedriveResult, AdminError> ClusterBus::redrive(const std::string& rule,
                                                        const std::string& target,
                                                        Deployment* deployment) {
  auto& s = *state_;
  if (!s.layout_ready) return unexpected(cluster_error("the NATS cluster is not reachable"));
  auto letters = dead_letters();
  if (!letters) return unexpected(cluster_error(letters.error()));
  RedriveResult result;
  for (const auto& letter : *letters) {
    if ((!rule.empty() && letter.rule != rule) || (!target.empty() && letter.target != target))
      continue;
    DeployedTarget* deployed = deployment ? deployment->find(letter.rule, letter.target) : nullptr;
    auto parsed = parse_dead_letter(letter.record);
    if (!deployed || !parsed) {
      ++result.skipped;
      const auto why = "rule " + letter.rule + " target " + letter.target + " is not loaded";
      if (std::find(result.skipped_why.begin(), result.skipped_why.end(), why) ==
          result.skipped_why.end())
        result.skipped_why.push_back(why);
      continue;
    }
    auto work = make_msg(s.layout.redrive_subject(), parsed->event_json);
    set_header(work.get(), kMsgIdHeader, "redrive:" + std::to_string(letter.seq));
    set_header(work.get(), kBusHeader, deployed->rule->bus);
    set_header(work.get(), kIngestedAtHeader, now_millis_text());
    set_header(work.get(), kRuleHeader, letter.rule);
    set_header(work.get(), kTargetHeader, letter.target);
    if (auto published = s.publisher->publish_and_wait(std::move(work)); !published) {
      return unexpected(cluster_error("the redrive stopped after " +
                                      std::to_string(result.redriven) +
                                      " dead letters: " + published.error()));
    }
    // Published first, deleted second: a failure in between redrives it twice, never never.
    jsErrCode code = static_cast<jsErrCode>(0);
    js_DeleteMsg(s.connection->jetstream(), s.layout.dlq_stream.c_str(), letter.seq, nullptr,
                 &code);
    ++result.redriven;
  }
  spdlog::info("redrove {} dead letters ({} skipped) through the cluster", result.redriven,
               result.skipped);
  return result;
}

}  // namespace eventrouter::delivery
