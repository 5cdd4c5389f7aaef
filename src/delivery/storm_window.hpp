#pragma once
// One rule's storm control (max_invocations): a window of `per` opens at a match when none is
// open; its first `count` matches are delivered, later ones are held and summed up in a digest
// when the window closes. Not thread-safe; the caller holds the rule's lock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "eventrouter/rules/response_controls.hpp"

namespace eventrouter::delivery {

// The bounds of a digest's list of distinct values.
inline constexpr std::size_t kMaxDigestValues = 100;
inline constexpr std::size_t kMaxDigestValueBytes = 256;

// What a closed window held, for the digest event.
struct StormSummary {
  std::chrono::system_clock::time_point window_start, window_end;
  std::uint64_t delivered = 0;
  std::uint64_t held = 0;
  std::string first_held_event_id, last_held_event_id;
  std::string account, region;                  // the first held event's
  std::set<std::string, std::less<>> distinct;  // digest_field values of held events, as JSON
                                                // text
  bool distinct_truncated = false;
};

// What a held event brings to the summary.
struct HeldEvent {
  std::string_view id;
  std::string_view account, region;
  // The digest field's value as JSON text; nothing when the field is missing or not asked for.
  std::optional<std::string_view> digest_value;
};

class StormWindow {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  struct Verdict {
    bool deliver = true;
    // The first event held in this window: a digest is due at `window_end` (the caller sets a
    // timer and then calls close(window_start, ...)).
    bool first_held = false;
    TimePoint window_start, window_end;
    // A window that ended with held events and whose digest had not been taken yet.
    std::optional<StormSummary> closed;
  };

  // A match at `now`. `held` describes the event, read only when it is held.
  Verdict admit(const rules::StormSettings& settings, TimePoint now, const HeldEvent& held);
  // The summary of the window that opened at `window_start`, if it is still the open one and
  // held events; it closes at `end` (its timer, or now at shutdown).
  std::optional<StormSummary> close(TimePoint window_start, TimePoint end);
  // The open window's summary, closed at `end`, if it held events (shutdown).
  std::optional<StormSummary> close_open(TimePoint end);

 private:
  bool open_ = false;
  TimePoint end_;
  StormSummary current_;
};

}  // namespace eventrouter::delivery
