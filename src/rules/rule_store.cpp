#include "eventrouter/rules/rule_store.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "eventrouter/rules/loader.hpp"

namespace eventrouter::rules {

RuleStore::RuleStore(config::Config config, targets::TargetCatalog catalog)
    : config_(std::move(config)), catalog_(std::move(catalog)) {
  current_.store(load_rule_set(config_, catalog_));
  status_.time = std::chrono::system_clock::now();
}

bool RuleStore::reload() {
  std::lock_guard reload_lock(reload_mutex_);
  const auto started = std::chrono::system_clock::now();
  std::vector<config::Diagnostic> problems;
  std::shared_ptr<const RuleSet> next;
  const auto previous = current_.load();
  try {
    next = parse_rule_set(config_, catalog_, problems, previous.get());
    if (next && preparer_) preparer_(next);
  } catch (const config::ConfigError& e) {
    next = nullptr;
    problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
  } catch (const std::exception& e) {
    // Unexpected (I/O, memory) or refused by the preparer: still only a failed reload, never
    // a stopped daemon.
    next = nullptr;
    config::Diagnostic d;
    d.file = config_.rules_dir;
    d.message = std::string("reload failed: ") + e.what();
    problems.push_back(std::move(d));
  }
  if (!next) {
    for (const auto& d : problems) spdlog::error("rules reload rejected: {}", d.to_string());
    spdlog::error("rules reload rejected with {} problem(s); still running the previous {} rules",
                  problems.size(), previous->rules().size());
    std::lock_guard lock(status_mutex_);
    status_.time = started;
    status_.ok = false;
    status_.errors = std::move(problems);
    ++status_.failed;
    return false;
  }
  current_.store(next);
  {
    std::lock_guard lock(status_mutex_);
    status_.time = started;
    status_.ok = true;
    status_.errors.clear();
    ++status_.succeeded;
  }
  spdlog::info("rules reloaded: {} rules ({} enabled) from {} files", next->rules().size(),
               next->enabled_count(), next->files().size());
  if (listener_) {
    try {
      listener_(next);
    } catch (const std::exception& e) {
      spdlog::error("after the rules reload: {}", e.what());
    }
  }
  return true;
}

ReloadStatus RuleStore::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void RuleStore::on_swap(SwapListener listener) {
  std::lock_guard reload_lock(reload_mutex_);
  listener_ = std::move(listener);
}

void RuleStore::on_prepare(SwapListener preparer) {
  std::lock_guard reload_lock(reload_mutex_);
  preparer_ = std::move(preparer);
}

}  // namespace eventrouter::rules
