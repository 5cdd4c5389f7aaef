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
    list.tokens_.push_back(line.substr(start, end - start + 1));
  }
  if (list.tokens_.empty())
    throw std::runtime_error(file.string() + ": auth.tokens_file holds no token (one a line)");
  return list;
}

bool TokenList::contains(std::string_view token) const {
  bool found = false;
  for (const auto& known : tokens_) {
    if (known.size() != token.size()) continue;
    unsigned char difference = 0;
    for (std::size_t i = 0; i < token.size(); ++i)
      difference |= static_cast<unsigned char>(known[i] ^ token[i]);
    found |= difference == 0;
  }
  return found;
}

}  // namespace eventrouter::app
