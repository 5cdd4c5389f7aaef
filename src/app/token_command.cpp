#include "token_command.hpp"

#include <istream>
#include <iterator>
#include <ostream>
#include <string>

#include "eventrouter/net/hmac.hpp"
#include "tokens.hpp"

namespace eventrouter::app {

namespace {

constexpr std::string_view kUsage =
    "usage: printf %s TOKEN | eventrouter token hash\n"
    "prints sha256:HEX, the form of the token to write in auth.tokens_file\n";

}  // namespace

int run_token_command(const std::vector<std::string_view>& args, std::istream& in,
                      std::ostream& out, std::ostream& err) {
  if (args.size() != 1 || args.front() != "hash") {
    err << "eventrouter token: " << (args.empty() ? "give a subcommand" : "unknown arguments")
        << "\n"
        << kUsage;
    return 2;
  }
  // A token longer than a tokens-file line could never be used; reading stops there.
  std::string token;
  char c;
  while (token.size() <= kMaxTokenLineBytes && in.get(c)) token.push_back(c);
  if (token.size() > kMaxTokenLineBytes) {
    err << "eventrouter token hash: the token is longer than " << kMaxTokenLineBytes << " bytes\n";
    return 2;
  }
  if (token.ends_with('\n')) token.pop_back();
  if (token.ends_with('\r')) token.pop_back();
  if (token.empty()) {
    err << "eventrouter token hash: no token on standard input\n" << kUsage;
    return 2;
  }
  for (unsigned char ch : token) {
    if (ch <= 0x20 || ch == 0x7f) {
      err << "eventrouter token hash: the token holds a blank or control character; a bearer "
             "token is one word of visible characters\n";
      return 2;
    }
  }
  out << "sha256:" << net::sha256_hex(token) << '\n';
  return 0;
}

}  // namespace eventrouter::app
