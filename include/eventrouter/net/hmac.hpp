#pragma once
// HMAC-SHA256, for signing webhook requests so receivers can verify them, and the SHA-256
// digests that API tokens are compared by.

#include <array>
#include <string>
#include <string_view>

namespace eventrouter::net {

using Sha256Digest = std::array<unsigned char, 32>;

// SHA-256 of `data`.
Sha256Digest sha256(std::string_view data);

// Whether two digests are equal, in time that does not depend on where they differ.
bool digests_equal(const Sha256Digest& a, const Sha256Digest& b);

// Lower-case hex of `bytes`, two digits a byte.
std::string to_hex(std::string_view bytes);
// The value of one hex digit (0-9, a-f, A-F), or -1 for any other character.
int hex_digit_value(char c);
// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

// Lower-case hex of HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace eventrouter::net
