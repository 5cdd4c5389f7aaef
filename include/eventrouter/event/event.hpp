#pragma once
// An accepted event, normalised into EventBridge's envelope.

#include <chrono>
#include <string>

namespace eventrouter::event {

struct Event {
  std::string id;
  std::string bus;
  std::string source;
  std::string detail_type;
  std::string time;  // the envelope's `time`, RFC 3339
  std::chrono::system_clock::time_point ingested_at;
  // The whole normalised envelope, minified, in EventBridge's field order:
  // version, id, detail-type, source, account, time, region, resources, detail.
  // The string has spare capacity for simdjson's padding, so the matcher reads it in place.
  std::string json;
};

// A refused entry of a request, as PutEvents reports it per entry.
struct EntryError {
  std::string code;     // InvalidArgument | MalformedDetail
  std::string message;  // says what to fix
};

}  // namespace eventrouter::event
