#pragma once
// Reading YAML files with diagnostics: every problem is recorded as FILE:LINE:COL: message and
// reading goes on, so that a user sees all mistakes of a file at once. The one typed reader of
// eventrouter: the config and rules loaders use the functions over a YamlFile, the targets
// checker a MappingReader over each target's mapping; both parse values the same way and word
// their problems the same way.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/diagnostic.hpp"

namespace eventrouter::config {

// Collects the diagnostics of one file. Also remembers which nodes got their value from a
// ${env:..} or ${file:..} reference, so that messages never quote a secret.
class YamlFile {
 public:
  YamlFile(std::filesystem::path file, std::vector<Diagnostic>& out)
      : file_(std::move(file)), out_(&out) {}

  const std::filesystem::path& path() const noexcept { return file_; }
  // The folder relative paths in this file are resolved against.
  std::filesystem::path folder() const { return file_.parent_path(); }

  void error(const yaml::Mark& mark, std::string message);
  // An empty value (`key:` with nothing after it) is reported at its key: the parser places
  // such values where the next token starts, often on the next line.
  void error(const yaml::Node& node, std::string message);
  void note_empty_value(const yaml::Node& key, const yaml::Node& value);
  void error_at_file(std::string message);  // a problem with the whole file
  // Records a diagnostic made elsewhere (e.g. by a target checker) as one of this file's.
  void report(Diagnostic diagnostic);

  std::size_t error_count() const noexcept { return errors_; }

  void mark_secret(const yaml::Node& node);
  // After a reference at `node` failed to resolve (and was reported), further errors at the
  // same position are dropped.
  void mark_failed(const yaml::Node& node);
  bool is_secret(const yaml::Node& node) const;
  // "'value'" for messages, or "the referenced secret" when the value came from a reference.
  std::string quoted(const yaml::Node& scalar) const;

 private:
  std::filesystem::path file_;
  std::vector<Diagnostic>* out_;
  std::size_t errors_ = 0;
  std::set<std::pair<int, int>> secret_marks_;
  std::set<std::pair<int, int>> failed_marks_;
  std::map<std::pair<int, int>, yaml::Mark> empty_value_keys_;
};

// Reads and parses a file holding one YAML document. On failure (missing or unreadable file,
// syntax error, several documents) records a diagnostic and returns nothing. An empty file
// gives a Null node.
std::optional<yaml::Node> parse_yaml_file(YamlFile& file);
// The same for YAML text already in memory (tests, stdin).
std::optional<yaml::Node> parse_yaml_text(YamlFile& file, const std::string& text);

// One key of a mapping, with the nodes for positions.
struct MapEntry {
  std::string key;
  yaml::Node key_node;
  yaml::Node value;
};

// Checks that `node` is a mapping whose keys are all in `allowed` (reporting wrong type,
// non-string keys, duplicates and unknown keys, with a "did you mean" where one is close) and
// returns its known entries in file order. `what` names the mapping in messages, e.g.
// "the 'limits' section". A Null node is an empty mapping.
std::vector<MapEntry> read_mapping(YamlFile& file, const yaml::Node& node, std::string_view what,
                                   const std::vector<std::string>& allowed);

// The entry for `key`, if present.
const MapEntry* find_entry(const std::vector<MapEntry>& entries, std::string_view key);

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);
// "did you mean 'y'?" for the candidate closest to `word`; nothing when none is close. Every
// suggestion eventrouter makes is worded by this.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);
// "unknown key 'x' in WHAT; did you mean 'y'?" or "...; expected one of: a, b, c".
std::string unknown_key_message(std::string_view key, std::string_view what,
                                const std::vector<std::string>& allowed);
// "NAME must be one of a, b, c, not SHOWN; did you mean 'y'?" (`suggest_for`: the value, when
// it may be compared and quoted).
std::string choice_message(std::string_view name, const std::vector<std::string>& choices,
                           std::string_view shown, std::optional<std::string_view> suggest_for);
// "a whole number from MIN to MAX" (or "a positive whole number").
std::string whole_number_range(std::int64_t min, std::int64_t max);

// Scalar grammars, one each for every reader.
// true/True/TRUE, false/False/FALSE (YAML 1.2's core schema).
std::optional<bool> parse_bool(std::string_view text);
// A whole number of bytes, optionally with K, M, G (powers of 1000) or KiB, MiB, GiB (powers
// of 1024): "65536", "64KiB", "100MiB".
std::optional<std::uint64_t> parse_size(std::string_view text);

// Typed scalar readers. Each reports a diagnostic naming `name` (e.g. "limits.max_connections")
// and what is expected when the node does not fit, and returns nothing.
std::optional<std::string> read_string(YamlFile& file, const yaml::Node& node,
                                       std::string_view name);
std::optional<bool> read_bool(YamlFile& file, const yaml::Node& node, std::string_view name);
// A whole number in [min, max].
std::optional<std::int64_t> read_integer(YamlFile& file, const yaml::Node& node,
                                         std::string_view name, std::int64_t min, std::int64_t max);
// One of `choices`, with a "did you mean" when close.
std::optional<std::string> read_choice(YamlFile& file, const yaml::Node& node,
                                       std::string_view name,
                                       const std::vector<std::string>& choices);

// Orders diagnostics by file, line and column (stable), so a file's problems read top to bottom.
void sort_diagnostics(std::vector<Diagnostic>::iterator begin,
                      std::vector<Diagnostic>::iterator end);

// True for a plain (unquoted, untagged) scalar, the kind YAML gives a type by its text.
bool is_plain_scalar(const yaml::Node& node);

// Reads the keys of one mapping whose values may hold resolved secrets (a target of a rule
// file), collecting one diagnostic per problem at the offending node, or at `fallback` when
// the node has no position. Messages name the mapping (`what`: "webhook target 'notify': ...",
// "unknown key 'x' in webhook target 'notify'; ...") and never quote a string value; unknown
// keys and choices are worded as by the functions above, booleans and sizes parsed by them.
class MappingReader {
 public:
  struct Position {
    std::filesystem::path file;
    int line = 0;  // 1-based
    int column = 0;
  };

  // `what` names the mapping in messages ("webhook target 'notify'"); `path` prefixes nested
  // key names ("smtp.").
  MappingReader(yaml::Node node, Position fallback, std::vector<Diagnostic>& problems,
                std::string what, std::string path = {});

  // Reports keys of this mapping that are neither in `own_keys` (suggested from) nor in
  // `also_allowed` (keys every such mapping takes).
  void check_keys(const std::vector<std::string>& own_keys,
                  const std::vector<std::string>& also_allowed = {});

  bool has(std::string_view key) const;
  yaml::Node get(std::string_view key) const;
  // A nested mapping; an absent key gives a reader over an empty mapping.
  std::optional<MappingReader> child(std::string_view key);

  std::optional<std::string> string(std::string_view key, bool required);
  // "<digits><unit>" with unit ms, s, m, h or d (a bare number is seconds), in [min, max].
  std::optional<std::chrono::milliseconds> duration(std::string_view key,
                                                    std::chrono::milliseconds fallback,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max);
  std::optional<long long> integer(std::string_view key, long long fallback, long long min,
                                   long long max);
  std::optional<double> number(std::string_view key, double fallback, double min, double max);
  std::optional<bool> boolean(std::string_view key, bool fallback);
  std::optional<std::uint64_t> size(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                    std::uint64_t max);
  // One of `allowed`; the message lists them and suggests the closest.
  std::optional<std::string> choice(std::string_view key, std::string fallback,
                                    const std::vector<std::string>& allowed);
  std::optional<std::vector<std::string>> string_list(std::string_view key, bool required);
  std::optional<std::vector<std::pair<std::string, std::string>>> string_map(std::string_view key);

  // Records "WHAT: message" at `at` (or the fallback position).
  void problem(const yaml::Node& at, const std::string& message);
  std::string name(std::string_view key) const { return path_ + std::string(key); }
  // Whether a problem was recorded since this reader was made.
  bool failed() const { return problems_.size() != problems_at_start_; }

 private:
  void record(const yaml::Node& at, std::string message);  // without the `what` prefix

  yaml::Node node_;
  Position fallback_;
  std::vector<Diagnostic>& problems_;
  std::string what_;
  std::string path_;
  std::size_t problems_at_start_;
};

}  // namespace eventrouter::config
