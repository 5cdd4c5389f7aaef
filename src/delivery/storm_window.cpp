#include "storm_window.hpp"

namespace eventrouter::delivery {

StormWindow::Verdict StormWindow::admit(const rules::StormSettings& settings, TimePoint now,
                                        const HeldEvent& held) {
  Verdict verdict;
  if (open_ && now >= end_) {
    // Its timer has not run yet: the digest goes out now, with the window's own end.
    verdict.closed = close(current_.window_start, end_);
    open_ = false;
  }
  if (!open_) {
    open_ = true;
    current_ = StormSummary{};
    current_.window_start = now;
    end_ = now + settings.per;
  }
  verdict.window_start = current_.window_start;
  verdict.window_end = end_;
  if (current_.delivered < static_cast<std::uint64_t>(settings.count)) {
    ++current_.delivered;
    return verdict;
  }
  verdict.deliver = false;
  verdict.first_held = current_.held == 0;
  ++current_.held;
  if (verdict.first_held) {
    current_.first_held_event_id = held.id;
    current_.account = held.account;
    current_.region = held.region;
  }
  current_.last_held_event_id = held.id;
  if (held.digest_value && !current_.distinct.contains(*held.digest_value)) {
    if (held.digest_value->size() > kMaxDigestValueBytes ||
        current_.distinct.size() >= kMaxDigestValues) {
      current_.distinct_truncated = true;
    } else {
      current_.distinct.emplace(*held.digest_value);
    }
  }
  return verdict;
}

std::optional<StormSummary> StormWindow::close(TimePoint window_start, TimePoint end) {
  if (!open_ || current_.window_start != window_start) return std::nullopt;
  // The window stays open for matches until its end; what it held so far is summed up once.
  if (current_.held == 0) return std::nullopt;
  StormSummary summary = std::move(current_);
  summary.window_end = end;
  open_ = false;
  current_ = StormSummary{};
  return summary;
}

std::optional<StormSummary> StormWindow::close_open(TimePoint end) {
  if (!open_) return std::nullopt;
  return close(current_.window_start, end);
}

}  // namespace eventrouter::delivery
