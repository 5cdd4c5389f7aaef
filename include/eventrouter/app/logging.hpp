#pragma once
// Logging to stderr (journald picks it up), as text or one JSON object a line.

#include <string_view>

#include "eventrouter/config/config.hpp"

namespace eventrouter::app {

// Applies log.level and log.format. Safe to call again (a reload).
void configure_logging(const config::LogConfig& log);

}  // namespace eventrouter::app
