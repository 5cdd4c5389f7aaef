#include "tokens.hpp"

#include <fstream>
#include <stdexcept>

namespace eventrouter::app {

TokenList TokenList::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot read auth.tokens_file");
  TokenList list;
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    const auto end = line.find_last_not_of(" \t\r");
    list.digests_.push_back(net::sha256(std::string_view(line).substr(start, end - start + 1)));
  }
  if (list.digests_.empty())
    throw std::runtime_error(file.string() + ": auth.tokens_file holds no token (one a line)");
  return list;
}

bool TokenList::contains(std::string_view token) const {
  const auto presented = net::sha256(token);
  bool found = false;
  for (const auto& known : digests_) found |= net::digests_equal(known, presented);
  return found;
}

}  // namespace eventrouter::app
