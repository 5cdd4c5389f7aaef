#pragma once
// The limits that bound what one pattern can cost to compile, to hold and to match. A pattern
// may come from any client (POST /test-event-pattern, AWSEvents.TestEventPattern, rule files),
// so every figure that $or expansion or wildcard matching multiplies is counted and capped
// before the compiled form is built. docs/patterns.md lists them (messages, fixes), and
// docs/security.md their measured worst-case cost.

#include <cstddef>

namespace eventrouter::pattern::detail {

// Every refusal for size or complexity starts with EventBridge's own phrase.
inline constexpr const char* kTooComplex = "Rule is too complex - ";

// $or alternatives multiply: a pattern expands to at most this many (each is matched alone).
inline constexpr std::size_t kMaxAlternatives = 1024;
// Field conditions summed over all alternatives: a field counts once in every alternative that
// holds it. The bus matcher lays out every alternative's conditions on their own.
inline constexpr std::size_t kMaxExpandedConditions = 8192;
// Values (each entry of a field's list, each anything-but entry, each numeric range) summed
// over all alternatives: the matcher copies a condition's values into every alternative.
inline constexpr std::size_t kMaxExpandedValues = 16384;
// The bytes of those values' texts, summed the same way.
inline constexpr std::size_t kMaxExpandedValueBytes = 1u << 20;
// Expanding holds, besides the finished alternatives, the ones each $or is forking, at most
// about as many again (an $or forks its input at least twice, and the forks are all kept). So
// once that in-flight size passes this multiple of a limit, the finished pattern would pass the
// limit too (bar a later duplicate field replacing a larger one) and expansion stops at once.
inline constexpr std::size_t kExpansionGuardFactor = 4;

// event-ruler's wildcard complexity (wildcard_complexity.hpp): the most wildcard-value
// prefixes one field value can be in at once, over one rule's wildcard values on one field.
inline constexpr std::size_t kMaxWildcardComplexity = 10;
// Evaluating that complexity explores sets of prefixes; past this much work (prefix-set
// entries times bytes tried) the rule is refused as too complex to evaluate.
inline constexpr std::size_t kMaxWildcardComplexityWork = 1u << 15;

}  // namespace eventrouter::pattern::detail
