#pragma once
// Bearer tokens for the HTTP API: one a line in auth.tokens_file; blank lines and # comments
// are skipped.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::app {

class TokenList {
 public:
  // Throws std::runtime_error naming the file when it cannot be read or holds no token.
  static TokenList load(const std::filesystem::path& file);
  // Compares in time independent of where the strings differ.
  bool contains(std::string_view token) const;

 private:
  std::vector<std::string> tokens_;
};

}  // namespace eventrouter::app
