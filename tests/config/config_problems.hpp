#pragma once
// What the config tests read back: the diagnostics of a config file written to a TempDir.

#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::config {

// Loads `text` as a config file and returns the diagnostics (empty when it is valid).
inline std::vector<Diagnostic> problems_of(const testing::TempDir& dir, std::string_view text) {
  const auto file = dir.write("eventrouter.yaml", text);
  std::vector<Diagnostic> problems;
  parse_config(file, problems);
  return problems;
}

}  // namespace eventrouter::config
