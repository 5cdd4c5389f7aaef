#pragma once
// auth.tokens_file: one bearer token a line, each with what it may do (docs/security.md,
// "Scoped tokens"):
//
//   TOKEN-OR-HASH [role=ROLE[,ROLE...]] [buses=BUS[,BUS...]]
//
// TOKEN-OR-HASH is the token itself or sha256:<64 hex digits> (the SHA-256 of the token).
// Blank lines and # comments are skipped. A line without role= and buses= gives full access; a
// line with buses= but no role= is an ingest token.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/net/hmac.hpp"
#include "eventrouter/server/access.hpp"

namespace eventrouter::app {

// Past these the file is refused: every line is held in memory and compared per request.
inline constexpr std::size_t kMaxTokenFileLines = 10'000;
inline constexpr std::size_t kMaxTokenLineBytes = 8 * 1024;

// One token line as read.
struct TokenEntry {
  int line = 0;
  net::Sha256Digest digest{};
  // The token as written, for the command line's default token; empty for a sha256: line.
  std::string plaintext;
  server::Access access;
};

struct TokensFile {
  std::vector<TokenEntry> entries;
  // FILE:LINE:COL: what to fix, one per bad line (or FILE: ... for the whole file).
  std::vector<config::Diagnostic> problems;
};

// Reads and checks every line; never throws. A file that cannot be read, is too long or holds
// no token is one problem without a line.
TokensFile read_tokens_file(const std::filesystem::path& file);

// `buses=` entries that name a bus for which `bus_exists` is false: FILE:LINE:COL warnings (a
// typo, or a bus the rules do not use yet).
std::vector<config::Diagnostic> unknown_bus_warnings(
    const std::filesystem::path& file, const TokensFile& tokens,
    const std::function<bool(std::string_view bus)>& bus_exists);

// The tokens the daemon checks requests against: digests and access, never the plaintext.
class TokenList {
 public:
  // Throws std::runtime_error with every problem (FILE:LINE:COL: message, one a line).
  static TokenList load(const std::filesystem::path& file);
  explicit TokenList(std::vector<TokenEntry> entries);

  // What `token` may do, or nullptr when it is not known. Compares fixed-length digests of
  // every known token with the digest of `token`, in time that depends neither on where they
  // differ, nor on any token's length, nor on which line matches.
  const server::Access* find(std::string_view token) const;
  bool contains(std::string_view token) const { return find(token) != nullptr; }

 private:
  std::vector<net::Sha256Digest> digests_;
  std::vector<server::Access> access_;  // by the index of digests_
};

}  // namespace eventrouter::app
