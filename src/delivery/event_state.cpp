#include "event_state.hpp"

#include <simdjson.h>

#include "eventrouter/util/ids.hpp"

namespace eventrouter::delivery {

std::shared_ptr<EventState> make_event_state(EventOrigin origin) {
  auto state = std::make_shared<EventState>();
  state->json = std::move(origin.json);
  // Matching and shaping read the event in place; ingest's buffers have the room already.
  state->json.reserve(state->json.size() + simdjson::SIMDJSON_PADDING);
  state->fields = origin.fields ? std::move(*origin.fields) : event_fields(state->json);
  state->bus = std::move(origin.bus);
  state->ingested_at = origin.ingested_at;
  state->ingestion_time = format_rfc3339_millis(state->ingested_at);
  state->archived = origin.archived;
  state->seq = origin.seq;
  return state;
}

}  // namespace eventrouter::delivery
