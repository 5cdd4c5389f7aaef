#pragma once
// The order of field paths that decides `exists: false` inside arrays: fields are considered
// in sorted path order, as event-ruler sorts them, and Java compares strings by UTF-16 code
// units. For UTF-8 text that is byte order except for one block: characters U+E000 to U+FFFF
// (lead bytes 0xEE and 0xEF) come after every character outside the Basic Multilingual Plane
// (lead bytes 0xF0 to 0xF4), whose UTF-16 surrogates (0xD800 to 0xDFFF) are smaller.

#include <algorithm>
#include <string_view>

namespace eventrouter::pattern::detail {

// A byte's rank in UTF-16 order. Only a lead byte can differ first between two valid UTF-8
// strings that share everything before it, and continuation bytes (0x80 to 0xBF) never meet
// the remapped values.
constexpr unsigned utf16_rank(unsigned char byte) {
  return byte == 0xEE || byte == 0xEF ? byte + 0x10u : byte;
}

struct Utf16PathLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    const auto differ = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (differ.first == a.end()) return differ.second != b.end();  // a is a prefix of b
    if (differ.second == b.end()) return false;
    return utf16_rank(static_cast<unsigned char>(*differ.first)) <
           utf16_rank(static_cast<unsigned char>(*differ.second));
  }
};

}  // namespace eventrouter::pattern::detail
