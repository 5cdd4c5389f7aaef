#pragma once
// `eventrouter bench match`'s work: the user's patterns compiled into a rules::RuleSet (the
// object ingest matches every event against), the user's events read into memory, the timed
// run on one thread, and the process's resident memory.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app::bench {

// A line of either file longer than this is refused: four times EventBridge's largest event,
// and more than any pattern the compiler's size limits let through.
inline constexpr std::size_t kMaxLineBytes = 1u << 20;
// With --skip-invalid, the first this many skipped patterns are shown; the rest are counted.
inline constexpr std::size_t kMaxSkippedShown = 20;

struct LoadedPatterns {
  std::unique_ptr<rules::RuleSet> rules;  // one rule per pattern, named line-N, bus "default"
  std::size_t loaded = 0;
  std::size_t skipped = 0;  // invalid patterns passed over with --skip-invalid
};

// Reads `file`, one EventBridge event pattern a line; blank lines and lines starting with '#'
// are skipped. An invalid pattern is the error "FILE:LINE: Event pattern is not valid. Reason:
// ...", or with `skip_invalid` a warning on `warnings` (the first kMaxSkippedShown) and a
// count. A file without a valid pattern is an error.
Expected<LoadedPatterns, std::string> load_patterns(const std::filesystem::path& file,
                                                    bool skip_invalid, std::ostream& warnings);

// Reads `file`, one JSON event a line (an object, taken as it is: no envelope is added); blank
// lines and lines starting with '#' are skipped. Each event keeps simdjson's padding, as
// ingest's do. Errors: "FILE:LINE: reason"; a file without an event is an error.
Expected<std::vector<std::string>, std::string> load_events(const std::filesystem::path& file);

struct MatchRun {
  std::uint64_t events_matched_per_pass = 0;  // events that matched at least one pattern
  std::uint64_t matches_per_pass = 0;         // (event, pattern) pairs that matched
  std::uint64_t events_run = 0;               // every event matched, over every pass
  std::uint64_t matches_run = 0;              // every (event, pattern) match, over every pass
  double seconds = 0;                         // how long the run took
};

// Matches every event against `rules` on this thread, once through the events and then on,
// from the first event again, until `duration` has passed (the clock is read every few events,
// so a pass may stop part way).
MatchRun run_match(const rules::RuleSet& rules, const std::vector<std::string>& events,
                   std::chrono::seconds duration);

// Compiles a pattern and matches `event` once, so that what the compiler and the matcher
// allocate once per process or thread (parsers, scratch space) is in place before the memory is
// measured, and the memory the patterns add is theirs.
void warm_up(const std::string& event);

// This process's resident memory (VmRSS of /proc/self/status) in KiB; nothing when unknown.
std::optional<std::uint64_t> resident_kib();

}  // namespace eventrouter::app::bench
