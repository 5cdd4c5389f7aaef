#pragma once
// Pattern JSON -> validated PatternTree, refusing invalid patterns with AWS's reasons.

#include <string>
#include <string_view>

#include "ast.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::pattern::detail {

inline constexpr std::string_view kInvalidPatternPrefix = "Event pattern is not valid. Reason: ";
// $or alternatives multiply; past this many the pattern is refused (split it into rules).
inline constexpr std::size_t kMaxAlternatives = 1024;
// Total wildcard characters allowed across one rule's wildcard values on one field.
inline constexpr std::size_t kMaxWildcardsPerField = 24;

// On error returns the reason only (without kInvalidPatternPrefix).
Expected<PatternTree, std::string> compile_pattern(std::string_view json);

}  // namespace eventrouter::pattern::detail
