#pragma once
// Reading YAML files with diagnostics: every problem is recorded as FILE:LINE:COL: message and
// reading goes on, so that a user sees all mistakes of a file at once. Shared by the config and
// rules loaders (and by the targets checker for the keys of each target type).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

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

  void error(const YAML::Mark& mark, std::string message);
  // An empty value (`key:` with nothing after it) is reported at its key: yaml-cpp places
  // such values where the next token starts, often on the next line.
  void error(const YAML::Node& node, std::string message);
  void note_empty_value(const YAML::Node& key, const YAML::Node& value);
  void error_at_file(std::string message);  // a problem with the whole file
  // Records a diagnostic made elsewhere (e.g. by a target checker) as one of this file's.
  void report(Diagnostic diagnostic);

  std::size_t error_count() const noexcept { return errors_; }

  void mark_secret(const YAML::Node& node);
  // After a reference at `node` failed to resolve (and was reported), further errors at the
  // same position are dropped.
  void mark_failed(const YAML::Node& node);
  bool is_secret(const YAML::Node& node) const;
  // "'value'" for messages, or "the referenced secret" when the value came from a reference.
  std::string quoted(const YAML::Node& scalar) const;

 private:
  std::filesystem::path file_;
  std::vector<Diagnostic>* out_;
  std::size_t errors_ = 0;
  std::set<std::pair<int, int>> secret_marks_;
  std::set<std::pair<int, int>> failed_marks_;
  std::map<std::pair<int, int>, YAML::Mark> empty_value_keys_;
};

// Reads and parses a file holding one YAML document. On failure (missing or unreadable file,
// syntax error, several documents) records a diagnostic and returns nothing. An empty file
// gives a Null node.
std::optional<YAML::Node> parse_yaml_file(YamlFile& file);
// The same for YAML text already in memory (tests, stdin).
std::optional<YAML::Node> parse_yaml_text(YamlFile& file, const std::string& text);

// One key of a mapping, with the nodes for positions.
struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Checks that `node` is a mapping whose keys are all in `allowed` (reporting wrong type,
// non-string keys, duplicates and unknown keys, with a "did you mean" where one is close) and
// returns its known entries in file order. `what` names the mapping in messages, e.g.
// "the 'limits' section". A Null node is an empty mapping.
std::vector<MapEntry> read_mapping(YamlFile& file, const YAML::Node& node, std::string_view what,
                                   const std::vector<std::string>& allowed);

// The entry for `key`, if present.
const MapEntry* find_entry(const std::vector<MapEntry>& entries, std::string_view key);

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);
// "unknown key 'x' in WHAT; did you mean 'y'?" or "...; expected one of: a, b, c".
std::string unknown_key_message(std::string_view key, std::string_view what,
                                const std::vector<std::string>& allowed);

// Typed scalar readers. Each reports a diagnostic naming `name` (e.g. "limits.max_connections")
// and what is expected when the node does not fit, and returns nothing.
std::optional<std::string> read_string(YamlFile& file, const YAML::Node& node,
                                       std::string_view name);
std::optional<bool> read_bool(YamlFile& file, const YAML::Node& node, std::string_view name);
// A whole number in [min, max].
std::optional<std::int64_t> read_integer(YamlFile& file, const YAML::Node& node,
                                         std::string_view name, std::int64_t min, std::int64_t max);
// One of `choices`, with a "did you mean" when close.
std::optional<std::string> read_choice(YamlFile& file, const YAML::Node& node,
                                       std::string_view name,
                                       const std::vector<std::string>& choices);

// Orders diagnostics by file, line and column (stable), so a file's problems read top to bottom.
void sort_diagnostics(std::vector<Diagnostic>::iterator begin,
                      std::vector<Diagnostic>::iterator end);

// True for a plain (unquoted, untagged) scalar, the kind YAML gives a type by its text.
bool is_plain_scalar(const YAML::Node& node);

}  // namespace eventrouter::config
