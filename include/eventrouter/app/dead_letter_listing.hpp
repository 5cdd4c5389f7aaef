#pragma once
// Reading dead-letter files (JSON Lines written by delivery::DeadLetters) for `eventrouter dlq
// list`. Works on the files alone, so it needs no running daemon.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/rules/rule_set.hpp"

namespace eventrouter::app {

struct DeadLetterFilter {
  std::optional<std::string> rule;
  std::optional<std::string> target;
  // 0: keep every matching record. Otherwise at most this many of each file's (or source's)
  // newest, so that a listing's memory does not grow with the files (files are appended to,
  // so their newest records are their last).
  std::size_t keep_newest = 0;
};

// One record, with the fields the table shows. Absent fields are empty (retry_attempts: -1).
struct DeadLetterRecord {
  std::string raw;  // the line as stored
  std::filesystem::path file;
  std::size_t line = 0;  // 1-based
  std::string time;
  std::string rule;
  std::string target;
  std::string error_code;
  std::string exhausted_retry_condition;  // empty for a permanent failure
  long long retry_attempts = -1;
  std::string event_id;
};

struct DeadLetterListing {
  std::vector<DeadLetterRecord> records;     // matching records (kept), oldest first
  std::size_t matched = 0;                   // matching records, kept or not
  std::vector<std::filesystem::path> files;  // every file looked at, in the order read
  std::size_t malformed = 0;                 // lines skipped (each reported)
  std::size_t unreadable = 0;                // files that exist but could not be read
};

// The dead-letter files of a setup: STATE_DIR/dead-letters.jsonl, then every target's
// dead_letter.path in rule order, each once. `rules` may be null (rules that do not load).
std::vector<std::filesystem::path> dead_letter_files(const config::Config& config,
                                                     const rules::RuleSet* rules);

// Reads every file and keeps the records that match `filter`. A missing file holds nothing. A
// line that is not a dead-letter record is reported on `err` as FILE:LINE: reason and skipped;
// a file that cannot be read is reported as FILE: reason.
DeadLetterListing read_dead_letters(const std::vector<std::filesystem::path>& files,
                                    const DeadLetterFilter& filter, std::ostream& err);

// The same for records kept elsewhere than in a file (the cluster's dead-letter stream):
// `source` is shown where a file would be, and each line comes with its position there.
DeadLetterListing read_dead_letter_lines(
    const std::filesystem::path& source,
    const std::vector<std::pair<std::size_t, std::string>>& lines, const DeadLetterFilter& filter,
    std::ostream& err);

// One aligned row per record under a heading, then a total line ("3 dead letters in 2 files").
// Control characters in values (event ids come from outside) are shown as '?'.
void print_dead_letter_table(const DeadLetterListing& listing, std::ostream& out);

// Every record as stored, one a line.
void print_dead_letter_jsonl(const DeadLetterListing& listing, std::ostream& out);

}  // namespace eventrouter::app
