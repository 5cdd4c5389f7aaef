#pragma once
// A rule's response controls: dedup (one delivery per key within a window) and storm control
// (at most N deliveries per window, the rest summed up in one digest event). Both optional.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace eventrouter::rules {

// dedup: {key: [paths], window: DURATION, refire_when_changed: [paths]}
struct DedupSettings {
  std::vector<std::string> key;         // 1 to 5 dot-separated paths into the event (detail.id)
  std::chrono::milliseconds window{0};  // 1s to 7d, from the last time a key fired
  std::vector<std::string> refire_when_changed;  // 0 to 5 paths
};

// max_invocations: {count: N, per: DURATION, digest_field: PATH}
struct StormSettings {
  int count = 0;                     // deliveries per window, at least 1
  std::chrono::milliseconds per{0};  // the window, 1s to 1d, opened by a rule's first match
  std::string digest_field;          // optional: a path whose distinct values the digest lists
};

struct ResponseControls {
  std::optional<DedupSettings> dedup;
  std::optional<StormSettings> max_invocations;
};

inline constexpr std::size_t kMaxDedupPaths = 5;
inline constexpr std::chrono::milliseconds kMinDedupWindow = std::chrono::seconds(1);
inline constexpr std::chrono::milliseconds kMaxDedupWindow = std::chrono::hours(24 * 7);
inline constexpr std::chrono::milliseconds kMinStormWindow = std::chrono::seconds(1);
inline constexpr std::chrono::milliseconds kMaxStormWindow = std::chrono::hours(24);
inline constexpr int kMaxStormCount = 1000000;

// A dot-separated path into an event (detail.id, detail.service.count): 1 to 256 characters,
// segments of letters, digits, '_', '-', '/', ':' or '@'. Returns what is wrong, or nothing.
std::optional<std::string> event_path_problem(const std::string& path);

}  // namespace eventrouter::rules
