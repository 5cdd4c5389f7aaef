// The bus matcher's value indexes at scale: thousands of prefix, suffix, case-insensitive,
// wildcard, exact and cidr rules over a small alphabet (so keys share long prefixes and nest),
// checked rule by rule against the one-off evaluator, which uses no index.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"

namespace eventrouter::pattern {
namespace {

class IndexGenerator {
 public:
  // With a stem, every text starts with it and is three times longer: keys then share long
  // prefixes (as ARNs do) and many agree on the bytes after the stem too.
  // With a minimum length, every pattern text has at least that many characters after the
  // stem: an index then groups its keys by their first characters (see AffixIndex), in few
  // large groups for a minimum of 2 and many small ones for 4.
  explicit IndexGenerator(std::uint64_t seed, std::string stem = "", int min_length = 0)
      : rng_(seed), stem_(std::move(stem)), min_length_(min_length) {}

  // Short strings over "aAb1:" so that many keys are prefixes of one another.
  std::string text(int max_length) {
    static const char kAlphabet[] = "aAb1:";
    // Every pattern text carries the stem (so the keys of a field share it); one event text in
    // eight does not.
    std::string out = (stem_.empty() || !in_event_ || pick(8)) ? stem_ : "";
    int n = (in_event_ ? 0 : min_length_) + pick((stem_.empty() ? 1 : 3) * max_length + 1);
    for (int i = 0; i < n; ++i) out += kAlphabet[pick(5)];
    return out;
  }
  std::string ip() {
    return "10." + std::to_string(pick(3)) + "." + std::to_string(pick(3)) + "." +
           std::to_string(pick(8));
  }
  std::string pattern() {
    std::string value;
    switch (pick(9)) {
      case 0:
        value = "\"" + text(6) + "\"";
        break;
      case 1:
        value = R"({"prefix":")" + text(6) + "\"}";
        break;
      case 2:
        value = R"({"suffix":")" + text(6) + "\"}";
        break;
      case 3:
        value = R"({"prefix":{"equals-ignore-case":")" + text(6) + "\"}}";
        break;
      case 4:
        value = R"({"suffix":{"equals-ignore-case":")" + text(6) + "\"}}";
        break;
      case 5:
        value = R"({"equals-ignore-case":")" + text(6) + "\"}";
        break;
      case 6:
        value = R"({"wildcard":")" + text(3) + "*" + text(3) + "\"}";
        break;
      case 7: {
        static const int kBits[] = {8, 16, 24, 29, 30, 31};
        value = R"({"cidr":")" + ip() + "/" + std::to_string(kBits[pick(6)]) + "\"}";
        break;
      }
      default:
        value = "\"" + ip() + "\"";
        break;
    }
    std::string field = pick(2) ? "v" : "w";
    return "{\"" + field + "\":[" + value + "]}";
  }
  std::string event() {
    in_event_ = true;
    auto value = [&] { return "\"" + (pick(3) ? text(8) : ip()) + "\""; };
    std::string out = R"({"v":)" + value() + R"(,"w":[)" + value() + "," + value() + "]}";
    in_event_ = false;
    return out;
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::mt19937_64 rng_;
  std::string stem_;
  int min_length_;
  bool in_event_ = false;
};

void check_against_one_off(IndexGenerator& gen, std::size_t min_matches) {
  std::vector<Pattern> patterns;
  for (int i = 0; i < 3000; ++i) {
    auto p = compile(gen.pattern());
    ASSERT_TRUE(p.has_value()) << p.error();
    patterns.push_back(*p);
  }
  Matcher matcher(patterns);
  std::size_t total = 0;
  for (int e = 0; e < 300; ++e) {
    std::string event = gen.event();
    std::vector<std::uint32_t> got;
    matcher.match(std::string_view(event), got);
    std::vector<std::uint32_t> want;
    for (std::uint32_t i = 0; i < patterns.size(); ++i) {
      auto m = matches(patterns[i], event);
      ASSERT_TRUE(m.has_value());
      if (*m) want.push_back(i);
    }
    ASSERT_EQ(got, want) << "event: " << event;
    total += want.size();
  }
  EXPECT_GT(total, min_matches);  // the rules do match: the comparison is not vacuous
}

TEST(MatcherIndexes, ThousandsOfAffixAndCidrRulesAgreeWithOneOffEvaluation) {
  IndexGenerator gen(5);
  check_against_one_off(gen, 300);
}

TEST(MatcherIndexes, KeysSharingLongPrefixesAgreeWithOneOffEvaluation) {
  IndexGenerator gen(6, "arn:aws:iam::");
  check_against_one_off(gen, 100);
}

TEST(MatcherIndexes, KeysInLargeGroupsAgreeWithOneOffEvaluation) {
  IndexGenerator gen(7, "", 2);
  check_against_one_off(gen, 100);
}

TEST(MatcherIndexes, KeysInSmallGroupsAgreeWithOneOffEvaluation) {
  IndexGenerator gen(8, "arn:", 4);
  check_against_one_off(gen, 30);
}

}  // namespace
}  // namespace eventrouter::pattern
