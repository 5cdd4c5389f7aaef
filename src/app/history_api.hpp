#pragma once
// GET /events/{id} and GET /events?...: the history as the HTTP API shows it (docs/http-api.md),
// with the query checked and every error saying what to write instead.

#include <string_view>

#include "eventrouter/delivery/history.hpp"
#include "eventrouter/server/http_types.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// The listing's query (`since=1h&rule=page&outcome=failed&limit=20&before=123`), checked.
// `since` and `until` are RFC 3339 times or durations back from `now` ("15m", "2d").
Expected<delivery::HistoryQuery, std::string> parse_history_query(
    std::string_view query, std::chrono::system_clock::time_point now);

// The answer for a request target (path and query) of either route.
server::Response answer_history(delivery::History& history, std::string_view target);

}  // namespace eventrouter::app
