#pragma once
// The characters whose lower- or upper-case form in Java (String.toLowerCase/toUpperCase with
// Locale.ROOT, which event-ruler applies to each pattern character of equals-ignore-case) is
// more than one character: Unicode's unconditional SpecialCasing mappings, such as ß → SS,
// İ → i̇ and ﬁ → FI. Every other character maps to its simple case forms.

#include <optional>
#include <string_view>

namespace eventrouter::pattern::detail {

struct SpecialCase {
  char32_t code;
  std::u32string_view lower;
  std::u32string_view upper;
};

// The full case forms of `c` when one of them is longer than one character.
std::optional<SpecialCase> special_case_of(char32_t c);

}  // namespace eventrouter::pattern::detail
