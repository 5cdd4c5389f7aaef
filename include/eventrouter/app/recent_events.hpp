#pragma once
// The last events the daemon accepted, kept in memory for the console's pattern sandbox: pick
// one to test a pattern against, or ask which of them a pattern matches. A decorator of the
// event sink, so an event is kept only once the sink recorded it; bounded in count and bytes.

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "eventrouter/server/event_sink.hpp"
#include "eventrouter/server/http_types.hpp"
#include "eventrouter/server/router.hpp"

namespace eventrouter::app {

class RecentEvents : public server::EventSink {
 public:
  static constexpr std::size_t kMaxBytes = 8u << 20;

  // Forwards every batch to `next`; `max_events` at most server::kMaxRecentEvents.
  explicit RecentEvents(server::EventSink& next, std::size_t max_events = server::kMaxRecentEvents,
                        std::size_t max_bytes = kMaxBytes);

  void accept(std::vector<event::Event> events, server::SinkCompletion done) override;

  // GET /recent-events?limit=N: {"events":[{"id",...,"event":{...}}]}, newest first.
  server::Response answer(std::string_view target) const;

  // POST /recent-events/test-event-pattern: {"examined":n,"matched":[...]} for the newest
  // `limit` events, or why the pattern is not valid.
  Expected<std::string, server::PatternTestError> match(std::string_view pattern,
                                                        std::size_t limit) const;

 private:
  struct Kept {
    std::string id, bus, source, detail_type, json;
    std::chrono::system_clock::time_point received_at;
  };
  void keep(std::vector<std::shared_ptr<const Kept>> batch);
  std::vector<std::shared_ptr<const Kept>> newest(std::size_t limit) const;

  server::EventSink& next_;
  const std::size_t max_events_, max_bytes_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const Kept>> events_;  // oldest first
  std::size_t bytes_ = 0;
};

}  // namespace eventrouter::app
