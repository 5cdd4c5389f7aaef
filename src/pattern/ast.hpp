#pragma once
// The validated form of a pattern: a list of alternatives ($or expanded), each a list of
// conditions sorted by field path, each condition an OR of predicates on one leaf field.
// Alternatives share the conditions they have in common.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eventrouter::pattern::detail {

enum class PredKind : std::uint8_t {
  kExactString,      // "abc" (exact, case-sensitive)
  kExactIp,          // "10.0.0.1": a string that is an IP literal compares as an address
  kExactNumber,      // 3.018e2 (by value)
  kExactNumberText,  // 1e400: a number that does not compare numerically, matched by its text
  kTrue,
  kFalse,
  kNull,
  kPrefix,
  kPrefixCi,  // {"prefix": {"equals-ignore-case": ..}}
  kSuffix,
  kSuffixCi,
  kEqualsCi,
  kWildcard,
  kNumericRange,  // {"numeric": [...]} (also "=")
  kCidr,
  kExists,  // {"exists": true}
  kAbsent,  // {"exists": false}: satisfied by the absence of the field, never by a value
  kAnythingButStrings,
  kAnythingButNumbers,
  kAnythingButPrefix,
  kAnythingButSuffix,
  kAnythingButCi,
  kAnythingButWildcard,
};

struct IpAddress {
  std::uint8_t length = 0;  // 4 or 16 bytes
  std::array<std::uint8_t, 16> bytes{};
};

struct IpRange {
  IpAddress low;
  IpAddress high;
};

struct NumericRange {
  double low;   // -inf when there is no lower bound
  double high;  // +inf when there is no upper bound
  bool low_open;
  bool high_open;
};

// A wildcard value split at its (unescaped) stars: pieces[0]*pieces[1]*...*pieces[n-1].
struct WildcardGlob {
  std::vector<std::string> pieces;  // size = stars + 1
  std::size_t stars() const { return pieces.size() - 1; }
};

struct Predicate {
  PredKind kind = PredKind::kExactString;
  std::string text;  // exact / prefix / suffix / equals-ignore-case value; a number's text
  std::vector<std::string> texts;   // anything-but string lists (prefix/suffix/ci forms too)
  std::vector<double> numbers;      // anything-but numbers
  double number = 0;                // exact number
  NumericRange range{};             // numeric
  IpRange ip{};                     // cidr, exact IP (low == high)
  std::vector<WildcardGlob> globs;  // wildcard (one) or anything-but wildcard (several)
};

struct Condition {
  std::string path;                   // dotted field path, e.g. "detail.severity"
  std::vector<Predicate> predicates;  // ORed
  bool has_absent = false;            // one of the predicates is {"exists": false}
};

struct Alternative {
  // ANDed, sorted by path (UTF-16 order, path_order.hpp). Shared: a condition written once in the
  // pattern is one object, however many $or alternatives hold it.
  std::vector<std::shared_ptr<const Condition>> conditions;
};

struct PatternTree {
  std::string source;
  std::vector<Alternative> alternatives;  // ORed
};

}  // namespace eventrouter::pattern::detail
