#pragma once
// Where ingest hands accepted events. The delivery engine implements it; a 200 is only sent
// once the sink says the events are recorded.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/event/event.hpp"

namespace eventrouter::server {

// Why a sink could not take a batch; the request is answered with `status` and Retry-After.
struct SinkRefusal {
  int status = 503;
  std::string code;     // e.g. "Overloaded", "DiskFull"
  std::string message;  // says what is wrong and what to do
  std::chrono::seconds retry_after{1};
};

using SinkCompletion = std::function<void(std::optional<SinkRefusal>)>;

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes a batch of accepted events (in request order); calls `done` exactly once, from any
  // thread, with nothing when they are recorded, or the reason they were not.
  virtual void accept(std::vector<event::Event> events, SinkCompletion done) = 0;
};

}  // namespace eventrouter::server
