#include "tokens.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "eventrouter/util/bus_name.hpp"

namespace eventrouter::app {

namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::string_view kBlanks = " \t";
// Text from the file quoted in a message is cut here, so a message stays one readable line.
constexpr std::size_t kQuotedBytes = 64;

std::string quoted(std::string_view text) {
  if (text.size() <= kQuotedBytes) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kQuotedBytes)) + "...'";
}

// One whitespace-separated field of a line and its 1-based column.
struct Field {
  std::string_view text;
  int column;
};

std::vector<Field> split_fields(std::string_view line) {
  std::vector<Field> fields;
  std::size_t at = 0;
  while ((at = line.find_first_not_of(kBlanks, at)) != std::string_view::npos) {
    const auto end = std::min(line.find_first_of(kBlanks, at), line.size());
    fields.push_back({line.substr(at, end - at), static_cast<int>(at) + 1});
    at = end;
  }
  return fields;
}

// The comma-separated items of a value, each with its column; an empty item is kept (and
// refused by the caller).
std::vector<Field> split_list(const Field& value) {
  std::vector<Field> items;
  std::size_t at = 0;
  while (true) {
    const auto comma = value.text.find(',', at);
    const auto end = comma == std::string_view::npos ? value.text.size() : comma;
    items.push_back({value.text.substr(at, end - at), value.column + static_cast<int>(at)});
    if (comma == std::string_view::npos) return items;
    at = comma + 1;
  }
}

// Reads one line's fields into `entry`, or says what to fix (and at which column).
class LineReader {
 public:
  explicit LineReader(TokenEntry& entry) : entry_(entry) {}

  // The problem's message and column, or nothing when the line is good.
  std::optional<std::pair<std::string, int>> read(const std::vector<Field>& fields) {
    if (auto problem = read_token(fields.front())) return problem;
    for (std::size_t i = 1; i < fields.size(); ++i)
      if (auto problem = read_option(fields[i])) return problem;
    if (!have_roles_) {
      // Without role=, a line is full access, unless it limits buses: then it is for posting.
      entry_.access.roles = static_cast<std::uint8_t>(entry_.access.buses ? server::Role::kIngest
                                                                          : server::Role::kAdmin);
    }
    return std::nullopt;
  }

 private:
  using Problem = std::optional<std::pair<std::string, int>>;

  Problem read_token(const Field& field) {
    const auto text = field.text;
    if (text.starts_with("role=") || text.starts_with("buses=")) {
      return std::pair{"the line starts with " + quoted(text.substr(0, text.find('=') + 1)) +
                           ": write the token (or sha256:HASH) first, then role= and buses=",
                       field.column};
    }
    if (!text.starts_with(kHashPrefix)) {
      entry_.digest = net::sha256(text);
      entry_.plaintext = std::string(text);
      return std::nullopt;
    }
    const auto hex = text.substr(kHashPrefix.size());
    const int hex_column = field.column + static_cast<int>(kHashPrefix.size());
    if (hex.size() != 2 * entry_.digest.size()) {
      return std::pair{
          "sha256: needs 64 hex digits (the SHA-256 of the token, as `eventrouter "
          "token hash` prints it), not " +
              std::to_string(hex.size()),
          hex_column};
    }
    for (std::size_t i = 0; i < entry_.digest.size(); ++i) {
      const int high = net::hex_digit_value(hex[2 * i]), low = net::hex_digit_value(hex[2 * i + 1]);
      if (high < 0 || low < 0) {
        return std::pair{std::string("sha256: holds a character that is not a hex digit (0-9, "
                                     "a-f)"),
                         hex_column + static_cast<int>(2 * i + (high < 0 ? 0 : 1))};
      }
      entry_.digest[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return std::nullopt;
  }

  Problem read_option(const Field& field) {
    const auto equals = field.text.find('=');
    if (equals == std::string_view::npos) {
      // Not quoted: with a token that holds a space, this text is part of the token.
      return std::pair{std::string("unexpected text after the token: write role=ROLE or "
                                   "buses=BUS,BUS after it (a token holds no spaces)"),
                       field.column};
    }
    const auto key = field.text.substr(0, equals);
    const Field value{field.text.substr(equals + 1), field.column + static_cast<int>(equals) + 1};
    if (key == "role") return read_roles(value, field.column);
    if (key == "buses") return read_buses(value, field.column);
    return std::pair{"unknown key " + quoted(key) + " (the keys are role and buses)", field.column};
  }

  Problem read_roles(const Field& value, int column) {
    if (have_roles_) return std::pair{std::string("role= is given twice on this line"), column};
    have_roles_ = true;
    if (value.text.empty()) {
      return std::pair{"role= is empty: give one or more of " + std::string(server::kRoleNames) +
                           ", separated by commas",
                       column};
    }
    entry_.access.roles = 0;
    for (const auto& item : split_list(value)) {
      const auto role = server::role_named(item.text);
      if (!role) {
        return std::pair{
            (item.text.empty() ? std::string("empty role") : "unknown role " + quoted(item.text)) +
                " (the roles are " + std::string(server::kRoleNames) + ")",
            item.column};
      }
      entry_.access.roles |= static_cast<std::uint8_t>(*role);
    }
    return std::nullopt;
  }

  Problem read_buses(const Field& value, int column) {
    if (entry_.access.buses)
      return std::pair{std::string("buses= is given twice on this line"), column};
    if (value.text.empty()) {
      return std::pair{std::string("buses= is empty: name at least one bus (BUS,BUS...), or leave "
                                   "buses= out to allow every bus"),
                       column};
    }
    auto& buses = entry_.access.buses.emplace();
    for (const auto& item : split_list(value)) {
      if (!is_valid_bus_name(item.text)) {
        return std::pair{(item.text.empty() ? std::string("empty bus name in buses=")
                                            : "bus " + quoted(item.text) + " is not valid") +
                             ": " + std::string(kBusNameRule),
                         item.column};
      }
      if (std::find(buses.begin(), buses.end(), item.text) == buses.end())
        buses.emplace_back(item.text);
    }
    return std::nullopt;
  }

  TokenEntry& entry_;
  bool have_roles_ = false;
};

}  // namespace

TokensFile read_tokens_file(const std::filesystem::path& file) {
  TokensFile result;
  const auto whole_file = [&](std::string message) {
    result.problems.push_back({file, 0, 0, std::move(message)});
  };
  std::ifstream in(file);
  if (!in) {
    whole_file("cannot read auth.tokens_file");
    return result;
  }
  std::map<net::Sha256Digest, int> first_line_of;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    if (static_cast<std::size_t>(++number) > kMaxTokenFileLines) {
      whole_file("auth.tokens_file has more than " + std::to_string(kMaxTokenFileLines) +
                 " lines; keep one line per token and client");
      return result;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxTokenLineBytes) {
      result.problems.push_back({file, number, 1,
                                 "line is longer than " + std::to_string(kMaxTokenLineBytes) +
                                     " bytes: a line is TOKEN [role=ROLE] [buses=BUS,BUS]"});
      continue;
    }
    const auto fields = split_fields(line);
    if (fields.empty() || fields.front().text.starts_with('#')) continue;
    TokenEntry entry;
    entry.line = number;
    if (auto problem = LineReader(entry).read(fields)) {
      result.problems.push_back({file, number, problem->second, std::move(problem->first)});
      continue;
    }
    const auto [seen, inserted] = first_line_of.emplace(entry.digest, number);
    if (!inserted) {
      result.problems.push_back(
          {file, number, 1,
           "this token is already on line " + std::to_string(seen->second) +
               " (give each token one line; several roles are role=ingest,read)"});
      continue;
    }
    result.entries.push_back(std::move(entry));
  }
  if (result.entries.empty() && result.problems.empty())
    whole_file("auth.tokens_file holds no token (one a line: TOKEN [role=ROLE] [buses=BUS,BUS])");
  return result;
}

std::vector<config::Diagnostic> unknown_bus_warnings(
    const std::filesystem::path& file, const TokensFile& tokens,
    const std::function<bool(std::string_view bus)>& bus_exists) {
  std::vector<config::Diagnostic> warnings;
  for (const auto& entry : tokens.entries) {
    if (!entry.access.buses) continue;
    for (const auto& bus : *entry.access.buses) {
      if (bus == "default" || bus_exists(bus)) continue;
      warnings.push_back({file, entry.line, 0,
                          "buses= names bus '" + bus +
                              "', which no rule and no entry of the config's buses list uses "
                              "(yet): events posted there are refused as unknown"});
    }
  }
  return warnings;
}

TokenList TokenList::load(const std::filesystem::path& file) {
  auto tokens = read_tokens_file(file);
  if (!tokens.problems.empty()) {
    std::string message;
    for (const auto& problem : tokens.problems) {
      if (!message.empty()) message += '\n';
      message += problem.to_string();
    }
    throw std::runtime_error(message);
  }
  return TokenList(std::move(tokens.entries));
}

TokenList::TokenList(std::vector<TokenEntry> entries) {
  for (auto& entry : entries) {
    digests_.push_back(entry.digest);
    access_.push_back(std::move(entry.access));
  }
}

const server::Access* TokenList::find(std::string_view token) const {
  const auto presented = net::sha256(token);
  // Every digest is compared and the match picked by masks, not branches, so neither timing
  // nor the branch predictor tells which line (if any) matched. Tokens are unique (checked at
  // load), so at most one digest matches.
  std::size_t match = 0, found = 0;
  for (std::size_t i = 0; i < digests_.size(); ++i) {
    const std::size_t mask =
        std::size_t{0} - static_cast<std::size_t>(net::digests_equal(digests_[i], presented));
    match |= i & mask;
    found |= mask;
  }
  return found != 0 ? &access_[match] : nullptr;
}

}  // namespace eventrouter::app
