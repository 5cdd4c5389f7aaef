#pragma once
// `eventrouter token hash`: the sha256:HEX form of a token for auth.tokens_file, so the file
// need not hold the token itself.

#include <iosfwd>
#include <string_view>
#include <vector>

namespace eventrouter::app {

// Reads the token from `in` (one trailing newline is dropped, so `echo TOKEN |` works) and
// prints sha256:HEX. Exit 0, or 2 with a message for a bad token or usage.
int run_token_command(const std::vector<std::string_view>& args, std::istream& in,
                      std::ostream& out, std::ostream& err);

}  // namespace eventrouter::app
