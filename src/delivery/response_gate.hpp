#pragma once
// Dedup and storm control (a rule's `dedup` and `max_invocations`) for the delivery engine:
// plan() asks admit() for every rule an event matched whether that rule's targets get it.
// State is kept per rule name, so that it survives a reload that keeps the rule. Thread-safe:
// ingest plans on several threads at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "dedup_table.hpp"
#include "eventrouter/delivery/delivery_store.hpp"
#include "eventrouter/delivery/shared_dedup.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/rules/rule.hpp"
#include "storm_window.hpp"

namespace eventrouter::delivery {

// Keys a rule remembers at most; past it the oldest are evicted (a flood of distinct ids must
// not exhaust memory).
inline constexpr std::size_t kMaxDedupKeysPerRule = 100000;

// A dedup key fired by a batch, for undoing it when the batch is not recorded.
struct DedupFiring {
  std::string rule;
  DedupHash key;
  std::uint64_t generation = 0;
};

// A storm window of `rule` that held events: its digest is due at `window_end`.
struct DigestDue {
  std::string rule;
  std::chrono::system_clock::time_point window_start, window_end;
};

// A closed window's summary, ready to go out as a digest event to `rule`'s targets.
struct DigestReady {
  std::string rule;
  std::string digest_field;
  StormSummary summary;
};

// What admitting a batch's matches leaves to do.
struct GateEffects {
  std::vector<DedupRecord> records;  // written with the batch
  std::vector<DedupFiring> firings;  // undone if the batch is not recorded
  std::vector<DigestDue> due;        // timers to set
  std::vector<DigestReady> ready;    // digests to send now
};

class ResponseGate {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Now = std::function<TimePoint()>;

  explicit ResponseGate(
      metrics::Registry& metrics, std::size_t max_keys_per_rule = kMaxDedupKeysPerRule,
      Now now = [] { return std::chrono::system_clock::now(); });

  // Whether `rule`'s targets get the event (`json`, with simdjson's padding; `id` for logs).
  // A rule without controls always passes.
  // `seq`: the shared log's number for the event (cluster backend), 0 when it has none yet.
  bool admit(const rules::Rule& rule, std::string_view json, std::string_view id,
             GateEffects& effects, std::int64_t seq = 0);
  // The batch these firings belong to was not recorded: they did not happen.
  void undo(const std::vector<DedupFiring>& firings);
  // Dedup state from the store (at start, oldest firing first), for the rules of `rules`.
  void restore(const std::vector<DedupRecord>& records, const std::vector<rules::Rule>& rules);
  // The window of `rule` opened at `window_start`, closed by its timer.
  std::optional<DigestReady> close_window(const std::string& rule, TimePoint window_start);
  // Every open window that held events, closed now (shutdown).
  std::vector<DigestReady> close_all();
  // After a reload: forgets the state of rules no longer loaded, or of controls a rule no
  // longer has; the digests of windows closed that way are returned.
  std::vector<DigestReady> keep_only(const std::vector<rules::Rule>& rules);

  TimePoint now() const { return now_(); }
  // From now on dedup asks `shared` (other routers' keys) first; the local keys are the
  // fallback when it cannot be reached.
  void share(SharedDedup* shared) { shared_ = shared; }

 private:
  struct RuleState {
    std::mutex mutex;
    std::optional<DedupTable> dedup;
    StormWindow storm;
    std::string digest_field;  // of the settings the window was opened with
  };
  std::shared_ptr<RuleState> state_of(const std::string& rule);
  std::shared_ptr<RuleState> find(const std::string& rule);
  bool admit_dedup(const rules::Rule& rule, const rules::DedupSettings& settings, RuleState& state,
                   simdjson::ondemand::document* event, std::string_view id, std::int64_t seq,
                   TimePoint now, GateEffects& effects);

  metrics::Registry& metrics_;
  metrics::LabeledCounters suppressed_, held_, evicted_;
  std::size_t max_keys_;
  Now now_;
  SharedDedup* shared_ = nullptr;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<RuleState>, std::less<>> rules_;
};

}  // namespace eventrouter::delivery
