#pragma once
// HMAC-SHA256, for signing webhook requests so receivers can verify them.

#include <string>
#include <string_view>

namespace eventrouter::net {

// Lower-case hex of HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace eventrouter::net
