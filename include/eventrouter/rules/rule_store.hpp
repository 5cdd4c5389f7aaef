#pragma once
// Holds the current rule set and replaces it on reload: the new set is built completely and
// swapped in atomically only if it is valid; otherwise the running rules stay, every error is
// logged, and a failed reload is counted. Events already matched keep the snapshot they hold.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::rules {

struct ReloadStatus {
  std::chrono::system_clock::time_point time;  // of the last load (the first one included)
  bool ok = true;                              // outcome of the last load
  std::vector<config::Diagnostic> errors;      // of the last load, when it failed
  std::uint64_t succeeded = 0;                 // reloads that swapped in a new rule set
  std::uint64_t failed = 0;                    // reloads rejected for errors
};

class RuleStore {
 public:
  using SwapListener = std::function<void(const std::shared_ptr<const RuleSet>&)>;

  // Loads the first rule set from config.rules_dir; throws ConfigError with every problem
  // (start-up fails on invalid rules, unlike a reload).
  RuleStore(config::Config config, targets::TargetCatalog catalog);

  // The rule set to match an event against. Hold the pointer for as long as the event is
  // processed; a concurrent reload does not disturb it.
  std::shared_ptr<const RuleSet> current() const noexcept { return current_.load(); }

  // Reloads rules_dir (SIGHUP, file change). Never throws. Returns whether a new rule set was
  // swapped in. Concurrent calls are serialised.
  bool reload();

  ReloadStatus status() const;

  // Called (from the reloading thread, after the swap) with each new rule set. Set it before
  // reloads can happen. An exception from it is logged and otherwise ignored.
  void on_swap(SwapListener listener);

  // Called with each new, valid rule set before it is swapped in, e.g. to build its targets.
  // Throwing rejects the reload like an invalid rule file would: the running rules stay, and
  // the error (every diagnostic of a ConfigError, or what()) is logged and recorded in
  // status(). Set it before reloads can happen.
  void on_prepare(SwapListener preparer);

  const config::Config& config() const noexcept { return config_; }

 private:
  config::Config config_;
  targets::TargetCatalog catalog_;
  std::atomic<std::shared_ptr<const RuleSet>> current_;
  std::mutex reload_mutex_;  // one reload at a time
  mutable std::mutex status_mutex_;
  ReloadStatus status_;
  SwapListener listener_;
  SwapListener preparer_;
};

}  // namespace eventrouter::rules
