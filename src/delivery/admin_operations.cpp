#include "admin_operations.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "event_json.hpp"

namespace eventrouter::delivery {

namespace {

using Clock = std::chrono::steady_clock;

AdminError store_error(const StoreFailure& failure, std::string message) {
  return AdminError{503, failure.disk_full ? "DiskFull" : "JournalUnavailable",
                    std::move(message) + failure.message};
}

}  // namespace

AdminOperations::AdminOperations(boost::asio::io_context& io, DeliveryCore& core,
                                 DeliveryMetrics& metrics)
    : core_(core), metrics_(metrics), expiry_timer_(io) {
  if (core_.archives()) schedule_archive_expiry();
}

void AdminOperations::stop() {
  expiry_timer_.cancel();
}

void AdminOperations::schedule_archive_expiry() {
  expiry_timer_.expires_after(std::chrono::minutes(1));
  expiry_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || core_.stopping()) return;
    core_.store().expire_archive(
        to_epoch_millis(SystemClock::now() - core_.options().archive_retention));
    schedule_archive_expiry();
  });
}

Expected<ReplayResult, AdminError> AdminOperations::replay(const ReplayRequest& request) {
  if (!core_.archives()) {
    return unexpected(AdminError{
        409, "ArchiveDisabled",
        "there is no archive to replay: set durability: fsync and archive.retention above 0"});
  }
  auto deployment = core_.current();
  if (!request.rule.empty() && (!deployment || !deployment->has_rule(request.rule))) {
    return unexpected(
        AdminError{404, "RuleNotFound", "no rule named " + request.rule + " is loaded"});
  }
  const auto& options = core_.options();
  ReplayResult result;
  std::int64_t after = 0;
  const auto from = to_epoch_millis(request.from), to = to_epoch_millis(request.to);
  for (;;) {
    auto stored = core_.store().archived_events(from, to, request.bus, after, 256);
    if (stored.empty()) break;
    after = stored.back().seq;
    // Waits for room instead of refusing: a replay is an operator's deliberate backlog.
    const auto deadline = Clock::now() + std::chrono::minutes(10);
    while ((core_.pending() >= options.max_pending_deliveries ||
            core_.pending_bytes() >= options.max_pending_bytes) &&
           !core_.stopping()) {
      if (Clock::now() > deadline) {
        return unexpected(AdminError{503, "TooManyPendingDeliveries",
                                     "the replay stopped after " +
                                         std::to_string(result.events_replayed) +
                                         " events: deliveries are not draining; check targets"});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (core_.stopping()) {
      return unexpected(AdminError{503, "ShuttingDown",
                                   "the daemon is shutting down; the replay stopped after " +
                                       std::to_string(result.events_replayed) + " events"});
    }
    Batch batch;
    for (auto& e : stored) {
      // A replayed event is new: ingested now, with replay-name, and not archived again.
      auto event =
          make_event_state(EventOrigin{with_replay_name(e.json, request.name), std::move(e.bus),
                                       SystemClock::now(), std::nullopt, false, 0});
      event->origin = "replay";
      core_.plan(std::move(event), deployment, request.rule, batch,
                 DeliveryCore::Controls::kBypass);
    }
    result.events_replayed += stored.size();
    result.deliveries += batch.attempts.size();
    if (auto failure = core_.submit_and_wait(std::move(batch))) {
      return unexpected(store_error(
          *failure, "the replay stopped after " +
                        std::to_string(result.events_replayed - stored.size()) + " events: "));
    }
    metrics_.replayed.inc(stored.size());
  }
  spdlog::info("replay {}: {} events, {} deliveries", request.name, result.events_replayed,
               result.deliveries);
  return result;
}

Expected<RedriveResult, AdminError> AdminOperations::redrive(const std::string& rule,
                                                             const std::string& target) {
  auto deployment = core_.current();
  std::vector<std::filesystem::path> files = {core_.options().default_dead_letter_file};
  if (deployment) {
    for (auto& file : deployment->dead_letter_files())
      if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(file);
  }
  RedriveResult result;
  std::optional<AdminError> error;
  for (const auto& file : files) {
    core_.dead_letter_files().rewrite(file, [&](std::vector<std::string>& lines) {
      Batch batch;
      std::vector<std::string> kept;
      for (auto& line : lines) {
        auto letter = parse_dead_letter(line);
        const bool wanted = letter && (rule.empty() || letter->rule == rule) &&
                            (target.empty() || letter->target == target);
        DeployedTarget* deployed =
            wanted && deployment ? deployment->find(letter->rule, letter->target) : nullptr;
        if (!deployed) {
          if (wanted) {
            ++result.skipped;
            const auto why = "rule " + letter->rule + " target " + letter->target +
                             " is not loaded (in " + file.string() + ")";
            if (std::find(result.skipped_why.begin(), result.skipped_why.end(), why) ==
                result.skipped_why.end())
              result.skipped_why.push_back(why);
          }
          kept.push_back(std::move(line));
          continue;
        }
        // A redriven delivery starts afresh: a new event for exactly the target it failed at.
        auto event =
            make_event_state(EventOrigin{std::move(letter->event_json), deployed->rule->bus,
                                         SystemClock::now(), std::nullopt, false, 0});
        event->origin = "redrive";
        core_.plan_one(std::move(event), deployment, deployed, batch);
      }
      if (batch.attempts.empty()) return false;
      const std::size_t count = batch.attempts.size();
      if (auto failure = core_.submit_and_wait(std::move(batch))) {
        error = store_error(*failure, "could not record the redriven deliveries: ");
        return false;  // the file stays as it was
      }
      result.redriven += count;
      metrics_.redriven.inc(count);
      lines = std::move(kept);
      return true;
    });
    if (error) return unexpected(std::move(*error));
  }
  spdlog::info("redrove {} dead letters ({} skipped)", result.redriven, result.skipped);
  return result;
}

}  // namespace eventrouter::delivery
