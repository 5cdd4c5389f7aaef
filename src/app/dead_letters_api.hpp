#pragma once
// GET /dead-letters?rule=&target=&limit=: the dead letters `eventrouter dlq list` shows, as JSON
// for the console, newest first.

#include <functional>
#include <string_view>

#include "eventrouter/app/dead_letter_listing.hpp"
#include "eventrouter/server/http_types.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::app {

// Reads the dead letters that pass a filter (files, or the cluster's stream), or why it cannot.
using DeadLetterReader =
    std::function<Expected<DeadLetterListing, std::string>(const DeadLetterFilter& filter)>;

server::Response answer_dead_letters(const DeadLetterReader& read, std::string_view target);

}  // namespace eventrouter::app
