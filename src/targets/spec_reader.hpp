#pragma once
// Reads a target's type-specific keys from its YAML mapping, collecting one diagnostic per
// problem at the offending node. Values of secret keys are never quoted in messages.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::targets {

// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

// Parses "<digits><unit>" with unit ms, s, m, h or d (also a bare number of seconds).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a size: a whole number of bytes, optionally with K, M, G (powers of 1000) or KiB, MiB,
// GiB (powers of 1024).
std::optional<std::uint64_t> parse_size(std::string_view text);

class SpecReader {
 public:
  // `prefix` starts every message ("webhook target 'notify': "); `path` names nested keys
  // ("smtp.").
  SpecReader(YAML::Node node, const TargetSpec& spec, std::vector<config::Diagnostic>& problems,
             std::string prefix, std::string path = {});

  // Reports keys of this mapping that are not in `own_keys` (nor, at the top level, common or
  // shaping keys).
  void check_keys(const std::vector<std::string>& own_keys, bool top_level);

  bool has(std::string_view key) const;
  YAML::Node get(std::string_view key) const;
  // A nested mapping; an absent key gives a reader over an empty mapping.
  std::optional<SpecReader> child(std::string_view key);

  // Messages never quote string values, so secrets (hmac_secret, passwords) stay out of them.
  std::optional<std::string> string(std::string_view key, bool required);
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
  // `allowed` lists the accepted values; the message lists them and suggests the closest.
  std::optional<std::string> choice(std::string_view key, std::string fallback,
                                    const std::vector<std::string>& allowed);
  std::optional<std::vector<std::string>> string_list(std::string_view key, bool required);
  std::optional<std::vector<std::pair<std::string, std::string>>> string_map(std::string_view key);

  void problem(const YAML::Node& at, const std::string& message);
  std::string name(std::string_view key) const { return path_ + std::string(key); }
  const TargetSpec& spec() const { return spec_; }
  bool failed() const { return problems_.size() != problems_at_start_; }

 private:
  YAML::Node node_;
  const TargetSpec& spec_;
  std::vector<config::Diagnostic>& problems_;
  std::string prefix_;
  std::string path_;
  std::size_t problems_at_start_;
};

}  // namespace eventrouter::targets
