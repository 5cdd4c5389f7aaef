#pragma once
// The cluster backend's SharedDedup: one key per (rule, dedup key) in the bucket
// STREAM_DEDUP, whose value holds the refire digest and when the key's window ends. A key is
// created only if it does not exist (kvStore_Create) and changed only at the revision read
// (kvStore_Update), so that of two routers racing on one key exactly one fires.

#include <atomic>
#include <memory>
#include <string>

#include <nats/nats.h>

#include "cluster_layout.hpp"
#include "eventrouter/delivery/shared_dedup.hpp"
#include "eventrouter/nats/connection.hpp"

namespace eventrouter::delivery {

class ClusterDedup final : public SharedDedup {
 public:
  ClusterDedup(std::shared_ptr<nats::Connection> connection, const ClusterLayout& layout);
  ~ClusterDedup() override;
  ClusterDedup(const ClusterDedup&) = delete;
  ClusterDedup& operator=(const ClusterDedup&) = delete;

  std::optional<bool> fire(const std::string& rule, const std::string& key,
                           const std::string& refire, std::int64_t seq, EpochMillis now,
                           std::chrono::milliseconds window) override;

 private:
  kvStore* bucket();

  std::shared_ptr<nats::Connection> connection_;
  std::string bucket_name_;
  std::atomic<kvStore*> bucket_{nullptr};
};

}  // namespace eventrouter::delivery
