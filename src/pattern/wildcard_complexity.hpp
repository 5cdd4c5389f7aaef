#pragma once
// The complexity of a field's wildcard values as aws/event-ruler measures it (its
// MachineComplexityEvaluator), which EventBridge checks per rule to refuse "too complex"
// wildcard patterns: the largest number of wildcard-value prefixes that one input value can
// match at the same time. A prefix is counted once per value it leads to, and a prefix that a
// '*' follows also counts as that prefix with the '*' (the '*' matches the empty string).
//
// Example: "a*bb" against "abb" is in "a*", "a*b" and "a*bb" at once: complexity 3. And
// "*:*:*:*:*:event-bus/*" against ":::::event-bus/:::::" is in its five "...*" and five
// "...:" prefixes and in the whole pattern (the last '*' takes the rest): 11.

#include <cstddef>
#include <vector>

#include "ast.hpp"

namespace eventrouter::pattern::detail {

struct WildcardComplexity {
  std::size_t value = 0;     // exact when within the cap; cap + 1 when above it
  bool out_of_work = false;  // the evaluation stopped at its work budget (value is then a floor)
};

// Evaluates the values (distinct globs; wildcard and anything-but wildcard alike) of one field
// on their own, stopping once the complexity exceeds `cap` or the work exceeds `max_work`.
WildcardComplexity wildcard_complexity(const std::vector<const WildcardGlob*>& globs,
                                       std::size_t cap, std::size_t max_work);

}  // namespace eventrouter::pattern::detail
