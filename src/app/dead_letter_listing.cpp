#include "eventrouter/app/dead_letter_listing.hpp"

#include "text_table.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace eventrouter::app {

namespace fs = std::filesystem;

namespace {

std::string string_member(simdjson::dom::element element, std::string_view key) {
  std::string_view value;
  if (element[key].get(value)) return {};
  return std::string(value);
}

// Parses one line into `record`; returns the reason when it is not a dead-letter record.
std::optional<std::string> parse_record(simdjson::dom::parser& parser, const std::string& line,
                                        DeadLetterRecord& record) {
  simdjson::dom::element root;
  if (const auto error = parser.parse(line).get(root)) {
    return std::string("not JSON: ") + simdjson::error_message(error);
  }
  if (!root.is_object()) return std::string("not a JSON object");
  std::string_view rule, target;
  if (root["rule"].get(rule) || root["target"].get(target)) {
    return std::string("not a dead-letter record: \"rule\" and \"target\" must be strings");
  }
  record.rule = rule;
  record.target = target;
  record.time = string_member(root, "time");
  simdjson::dom::element attributes;
  if (!root["attributes"].get(attributes)) {
    record.error_code = string_member(attributes, "ERROR_CODE");
    record.exhausted_retry_condition = string_member(attributes, "EXHAUSTED_RETRY_CONDITION");
    std::int64_t attempts = 0;
    if (!attributes["RETRY_ATTEMPTS"].get(attempts)) record.retry_attempts = attempts;
  }
  simdjson::dom::element event;
  if (!root["event"].get(event)) record.event_id = string_member(event, "id");
  return std::nullopt;
}

bool matches(const DeadLetterRecord& record, const DeadLetterFilter& filter) {
  return (!filter.rule || record.rule == *filter.rule) &&
         (!filter.target || record.target == *filter.target);
}

// Adds one stored line (number `number` of `source`) to `listing` when it matches.
void add_line(const fs::path& source, std::size_t number, std::string line,
              const DeadLetterFilter& filter, DeadLetterListing& listing,
              simdjson::dom::parser& parser, std::ostream& err) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.find_first_not_of(" \t") == std::string::npos) return;
  DeadLetterRecord record;
  if (const auto problem = parse_record(parser, line, record)) {
    // A torn last line (a crash mid-write) or a hand edit: report it, keep the rest usable.
    err << source.string() << ':' << number << ": " << *problem << "; line skipped\n";
    ++listing.malformed;
    return;
  }
  if (!matches(record, filter)) return;
  ++listing.matched;
  record.raw = std::move(line);
  record.file = source;
  record.line = number;
  listing.records.push_back(std::move(record));
}

// Drops the oldest of the records from `first` on beyond `keep` of them (0: keeps all). Called
// when twice as many are held, so the erasing costs little per record.
void keep_newest(DeadLetterListing& listing, std::size_t first, std::size_t keep, bool finished) {
  const std::size_t held = listing.records.size() - first;
  if (keep == 0 || held <= keep || (!finished && held < 2 * keep)) return;
  const auto begin = listing.records.begin() + static_cast<std::ptrdiff_t>(first);
  listing.records.erase(begin, begin + static_cast<std::ptrdiff_t>(held - keep));
}

// Reads one file into `listing`; a missing file holds no dead letters yet.
void read_file(const fs::path& file, const DeadLetterFilter& filter, DeadLetterListing& listing,
               simdjson::dom::parser& parser, std::ostream& err) {
  std::error_code ec;
  if (!fs::exists(file, ec) && !ec) return;
  errno = 0;
  std::ifstream in(file);
  if (!in) {
    err << file.string() << ": cannot read: " << std::strerror(errno) << '\n';
    ++listing.unreadable;
    return;
  }
  std::string line;
  std::size_t number = 0;
  const std::size_t first = listing.records.size();
  while (std::getline(in, line)) {
    add_line(file, ++number, std::move(line), filter, listing, parser, err);
    keep_newest(listing, first, filter.keep_newest, false);
  }
  keep_newest(listing, first, filter.keep_newest, true);
  if (in.bad()) {
    // E.g. a folder where the file should be: it opens, but reading fails.
    err << file.string() << ": cannot read after line " << number << ": "
        << std::strerror(errno != 0 ? errno : EIO) << '\n';
    ++listing.unreadable;
  }
}

// Paths under the working directory are shown relative to it: shorter, and what users type.
std::string display_path(const fs::path& file) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec || file.is_relative()) return file.string();
  const fs::path relative = file.lexically_relative(cwd);
  if (!relative.empty() && *relative.begin() != "..") return relative.string();
  return file.string();
}

// Event ids and error codes come from outside; never let them drive the terminal.
}  // namespace

std::vector<fs::path> dead_letter_files(const config::Config& config, const rules::RuleSet* rules) {
  std::vector<fs::path> files{config.state_dir / "dead-letters.jsonl"};
  if (rules != nullptr) {
    for (const auto& rule : rules->rules()) {
      for (const auto& target : rule.targets) {
        if (target.dead_letter) files.push_back(target.dead_letter->path);
      }
    }
  }
  // Targets may share a file; read each once (compare resolved paths, links included).
  std::vector<fs::path> unique, keys;
  for (auto& file : files) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(file, ec);
    if (ec) key = file.lexically_normal();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(std::move(key));
    unique.push_back(file.lexically_normal());
  }
  return unique;
}

DeadLetterListing read_dead_letters(const std::vector<fs::path>& files,
                                    const DeadLetterFilter& filter, std::ostream& err) {
  DeadLetterListing listing;
  listing.files = files;
  simdjson::dom::parser parser;
  for (const auto& file : files) read_file(file, filter, listing, parser, err);
  // Oldest first across files; RFC 3339 UTC times in one format sort as text.
  std::stable_sort(
      listing.records.begin(), listing.records.end(),
      [](const DeadLetterRecord& a, const DeadLetterRecord& b) { return a.time < b.time; });
  return listing;
}

DeadLetterListing read_dead_letter_lines(
    const fs::path& source, const std::vector<std::pair<std::size_t, std::string>>& lines,
    const DeadLetterFilter& filter, std::ostream& err) {
  DeadLetterListing listing;
  listing.files = {source};
  simdjson::dom::parser parser;
  for (const auto& [number, line] : lines) {
    add_line(source, number, line, filter, listing, parser, err);
    keep_newest(listing, 0, filter.keep_newest, false);
  }
  keep_newest(listing, 0, filter.keep_newest, true);
  return listing;
}

void print_dead_letter_table(const DeadLetterListing& listing, std::ostream& out) {
  if (listing.records.empty()) {
    out << "no dead letters (looked in";
    for (std::size_t i = 0; i < listing.files.size(); ++i) {
      out << (i == 0 ? " " : ", ") << display_path(listing.files[i]);
    }
    out << ")\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"TIME", "RULE", "TARGET", "ERROR_CODE",
                                              "RETRY_ATTEMPTS", "EXHAUSTED_RETRY_CONDITION",
                                              "EVENT_ID", "FILE"}};
  std::vector<fs::path> used_files;
  for (const auto& r : listing.records) {
    rows.push_back({table_cell(r.time), table_cell(r.rule), table_cell(r.target),
                    table_cell(r.error_code),
                    r.retry_attempts < 0 ? "-" : std::to_string(r.retry_attempts),
                    table_cell(r.exhausted_retry_condition), table_cell(r.event_id),
                    display_path(r.file) + ":" + std::to_string(r.line)});
    if (std::find(used_files.begin(), used_files.end(), r.file) == used_files.end()) {
      used_files.push_back(r.file);
    }
  }
  print_table(rows, out);
  out << plural(listing.records.size(), "dead letter", "dead letters") << " in "
      << plural(used_files.size(), "file", "files") << '\n';
}

void print_dead_letter_jsonl(const DeadLetterListing& listing, std::ostream& out) {
  for (const auto& record : listing.records) out << record.raw << '\n';
}

}  // namespace eventrouter::app
