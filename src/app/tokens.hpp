#pragma once
// Bearer tokens for the HTTP API: one a line in auth.tokens_file; blank lines and # comments
// are skipped.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/net/hmac.hpp"

namespace eventrouter::app {

class TokenList {
 public:
  // Throws std::runtime_error naming the file when it cannot be read or holds no token.
  static TokenList load(const std::filesystem::path& file);
  // Compares fixed-length digests of every known token with the digest of `token`, in time
  // that depends neither on where they differ nor on any token's length.
  bool contains(std::string_view token) const;

 private:
  std::vector<net::Sha256Digest> digests_;
};

}  // namespace eventrouter::app
