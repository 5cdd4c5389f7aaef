#pragma once
// The tokens-file half of `eventrouter validate`: the rules module checks the config and the
// rules; this checks auth.tokens_file, which only the app reads.

#include <filesystem>
#include <ostream>

#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::app {

// Checks the config's auth.tokens_file, if it names one. Prints each problem as
// FILE:LINE:COL: message and returns false when there is any; prints FILE:LINE: warning: ...
// for buses= entries that no rule or config names (still valid). A config that cannot be
// read is left to the rules' check, which reports it.
bool validate_tokens_file(const std::filesystem::path& config_file,
                          const targets::TargetCatalog& catalog, std::ostream& err);

}  // namespace eventrouter::app
