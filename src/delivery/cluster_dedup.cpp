#include "cluster_dedup.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace eventrouter::delivery {

namespace {

// Tries before a key that other routers keep changing counts as fired by them.
constexpr int kAttempts = 4;

// "REFIRE EXPIRES_AT SEQ": the refire digest, the window's end, the event that fired it.
std::string value_of(const std::string& refire, EpochMillis expires_at, std::int64_t seq) {
  return refire + ' ' + std::to_string(expires_at) + ' ' + std::to_string(seq);
}

struct Stored {
  std::string_view refire;
  EpochMillis expires_at = 0;
  std::int64_t seq = 0;
};

bool parse_number(std::string_view text, std::int64_t& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

std::optional<Stored> parse(std::string_view value) {
  const auto first = value.find(' ');
  const auto second = first == std::string_view::npos ? first : value.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  Stored stored{value.substr(0, first), 0, 0};
  if (!parse_number(value.substr(first + 1, second - first - 1), stored.expires_at) ||
      !parse_number(value.substr(second + 1), stored.seq)) {
    return std::nullopt;
  }
  return stored;
}

struct EntryDeleter {
  void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};

}  // namespace

ClusterDedup::ClusterDedup(std::shared_ptr<nats::Connection> connection,
                           const ClusterLayout& layout)
    : connection_(std::move(connection)), bucket_name_(layout.dedup_bucket) {}

ClusterDedup::~ClusterDedup() {
  if (auto* bucket = bucket_.exchange(nullptr)) kvStore_Destroy(bucket);
}

kvStore* ClusterDedup::bucket() {
  if (auto* open = bucket_.load()) return open;
  kvStore* bucket = nullptr;
  const auto status = js_KeyValue(&bucket, connection_->jetstream(), bucket_name_.c_str());
  if (status != NATS_OK) {
    spdlog::warn("nats: cannot open the bucket {}: {}; dedup is decided by this router alone",
                 bucket_name_, nats::describe(status));
    return nullptr;
  }
  kvStore* expected = nullptr;
  if (!bucket_.compare_exchange_strong(expected, bucket)) {
    kvStore_Destroy(bucket);
    return expected;
  }
  return bucket;
}

std::optional<bool> ClusterDedup::fire(const std::string& rule, const std::string& key,
                                       const std::string& refire, std::int64_t seq, EpochMillis now,
                                       std::chrono::milliseconds window) {
  kvStore* kv = bucket();
  if (kv == nullptr) return std::nullopt;
  // Rule names are letters, digits, '.', '-', '_' and keys hex: all characters a key takes.
  const std::string name = rule + '.' + key;
  const std::string value = value_of(refire, now + window.count(), seq);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    kvEntry* raw = nullptr;
    auto status = kvStore_Get(&raw, kv, name.c_str());
    std::unique_ptr<kvEntry, EntryDeleter> entry(raw);
    uint64_t revision = 0;
    if (status == NATS_NOT_FOUND) {
      // Only one router creates it; another's create fails and that router reads it again.
      status = kvStore_CreateString(&revision, kv, name.c_str(), value.c_str());
      if (status == NATS_OK) return true;
      continue;
    }
    if (status != NATS_OK) {
      spdlog::warn("nats: cannot read dedup key of rule {}: {}", rule, nats::describe(status));
      return std::nullopt;
    }
    const auto stored = parse(kvEntry_ValueString(entry.get()));
    // This very event fired it, on a router that stopped before delivering: not a duplicate.
    if (stored && stored->seq == seq && seq != 0) return true;
    if (stored && stored->expires_at > now && stored->refire == refire) return false;
    // Its window is over or its refire values changed: fire, unless another router just did.
    status = kvStore_UpdateString(&revision, kv, name.c_str(), value.c_str(),
                                  kvEntry_Revision(entry.get()));
    if (status == NATS_OK) return true;
  }
  return false;  // other routers kept changing it: they fired
}

}  // namespace eventrouter::delivery
