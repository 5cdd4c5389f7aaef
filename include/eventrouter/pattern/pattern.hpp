#pragma once
// The EventBridge event-pattern language: a compiler that validates a pattern with AWS's
// reasons, a one-off evaluator, and a matcher that evaluates every enabled rule of a bus in
// one pass over the event. Semantics follow Amazon EventBridge / aws/event-ruler; see
// docs/patterns.md for every operator and the few documented differences.

#include <simdjson.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::pattern {

namespace detail {
struct PatternData;
struct MatcherData;
}  // namespace detail

// A validated, compiled pattern. Copies share the immutable compiled form.
class Pattern {
 public:
  // The pattern text as given to compile().
  const std::string& source() const;
  // Number of alternatives after expanding $or (each is matched on its own).
  std::size_t alternative_count() const;

  const detail::PatternData& data() const { return *data_; }

 private:
  friend Expected<Pattern, std::string> compile(std::string_view pattern_json);
  explicit Pattern(std::shared_ptr<const detail::PatternData> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::PatternData> data_;
};

// Compiles a pattern. On error the message is the whole text shown to users:
// "Event pattern is not valid. Reason: ...".
Expected<Pattern, std::string> compile(std::string_view pattern_json);

// One-off evaluation (CLI, POST /test-event-pattern, AWSEvents.TestEventPattern). The event is
// evaluated exactly as given (no envelope rules). Errors: "Event is not valid JSON: ..." or
// "Event must be a JSON object".
Expected<bool, std::string> matches(const Pattern& pattern, std::string_view event_json);

// All enabled rules of one bus, compiled together. Immutable after construction; match() is
// const and safe to call concurrently from many threads (each thread keeps its own parser and
// scratch space).
class Matcher {
 public:
  explicit Matcher(std::vector<Pattern> patterns);
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Appends to `out` the indices (into the constructor's vector) of the patterns the event
  // matches, ascending. The event must be a valid JSON object (ingest validated it); an event
  // that fails to parse matches nothing. The string_view overload copies into padding, the
  // padded overload does not.
  void match(simdjson::padded_string_view event_json, std::vector<std::uint32_t>& out) const;
  void match(std::string_view event_json, std::vector<std::uint32_t>& out) const;

  std::size_t size() const;

 private:
  std::unique_ptr<detail::MatcherData> data_;
};

// The `test-pattern` subcommand. P and E are each a file path, "-" (stdin) or inline JSON:
// an argument whose first non-blank character is '{' or '[' is inline JSON, anything else is
// a path (or "-"). Prints "match" / "no match" to out and returns 0 / 1; returns 2 with the
// reason on err for an invalid pattern, an invalid event or an unreadable file.
int run_test_pattern_command(std::string_view pattern_arg, std::string_view event_arg,
                             std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace eventrouter::pattern
