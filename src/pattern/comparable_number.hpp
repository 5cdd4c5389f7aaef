#pragma once
// Which JSON numbers compare by value. As in event-ruler (the engine behind EventBridge), a
// number compares numerically only when it is a double written exactly: read as the nearest
// double, that double is finite and its shortest decimal form (the fewest significant digits
// that read back as it, but at least two, closest to it: Java's Double.toString) has the same
// value as the number as written. So 0.1, 1e20 and
// 100000000000000000000 compare by value; 9007199254740993 (no double holds it),
// 1.00000000000000000001, 5e-324 (whose double is 4.9e-324) and 1e400 do not. Other numbers
// in events match only a pattern number written with the same text; as numeric bounds and
// anything-but numbers they are refused ("Cannot compare number").

#include <optional>
#include <string_view>

namespace eventrouter::pattern::detail {

// The value of `number` (a valid JSON number) if it compares numerically, else nullopt.
std::optional<double> comparable_number(std::string_view number);

}  // namespace eventrouter::pattern::detail
