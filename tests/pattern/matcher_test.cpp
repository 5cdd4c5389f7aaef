// The bus matcher: several rules at once, ascending indices, the fixtures, and concurrent use.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "eventrouter/pattern/pattern.hpp"

namespace eventrouter::pattern {
namespace {

std::vector<Pattern> compile_all(const std::vector<std::string>& sources) {
  std::vector<Pattern> out;
  for (const auto& s : sources) {
    auto p = compile(s);
    EXPECT_TRUE(p.has_value()) << s;
    if (p) out.push_back(*p);
  }
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<std::string> kSecurityRules = {
    R"({"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 7]}]}})",
    R"({"source": ["aws.guardduty"]})",
    R"({"source": ["aws.securityhub"], "detail": {"findings": {"Severity": {"Label": ["CRITICAL", "HIGH"]}}}})",
    R"({"source": [{"prefix": "aws."}], "detail-type": [{"suffix": "Finding"}]})",
    R"({"source": ["aws.macie"], "detail": {"severity": {"description": ["High"]}}})",
    R"({"detail-type": ["AWS Console Sign In via CloudTrail"],
        "detail": {"additionalEventData": {"MFAUsed": ["No"]}}})",
    R"({"source": ["aws.config"], "detail": {"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}})",
    R"({"source": ["aws.access-analyzer"], "detail": {"isPublic": [true]}})",
    R"({"region": [{"anything-but": ["us-east-1", "us-west-2"]}]})",
    R"({"account": [{"exists": false}]})",
};

TEST(Matcher, ReturnsAscendingIndicesOfMatchingRules) {
  Matcher matcher(compile_all({R"({"a": ["x"]})", R"({"b": ["y"]})", R"({"a": [{"prefix": "x"}]})",
                               R"({"a": [{"exists": false}]})"}));
  EXPECT_EQ(matcher.size(), 4u);
  std::vector<std::uint32_t> out;
  matcher.match(std::string_view(R"({"a": "x", "b": "y"})"), out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{0, 1, 2}));
  out.clear();
  matcher.match(std::string_view(R"({"b": "y"})"), out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{1, 3}));
  // Appends: existing contents are kept.
  out = {99};
  matcher.match(std::string_view(R"({"a": "xx"})"), out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{99, 2}));
}

TEST(Matcher, EmptyMatcherAndUnparsableEvents) {
  Matcher empty({});
  std::vector<std::uint32_t> out;
  empty.match(std::string_view(R"({"a": 1})"), out);
  EXPECT_TRUE(out.empty());
  Matcher one(compile_all({R"({"a": [{"exists": false}]})"}));
  one.match(std::string_view("not json"), out);
  one.match(std::string_view("[1]"), out);
  EXPECT_TRUE(out.empty());
}

TEST(Matcher, PaddedOverloadGivesTheSameAnswer) {
  Matcher matcher(compile_all(kSecurityRules));
  simdjson::padded_string event(
      std::string(R"({"source": "aws.guardduty", "detail": {"severity": 8}})"));
  std::vector<std::uint32_t> padded, plain;
  matcher.match(simdjson::padded_string_view(event), padded);
  matcher.match(std::string_view(event.data(), event.size()), plain);
  EXPECT_EQ(padded, plain);
  EXPECT_EQ(padded, (std::vector<std::uint32_t>{0, 1, 9}));
}

TEST(Matcher, FixturesMatchTheirRulesAndAgreeWithOneOffEvaluation) {
  auto patterns = compile_all(kSecurityRules);
  Matcher matcher(patterns);
  std::filesystem::path dir =
      std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "tests/fixtures/events";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string event = read_file(entry.path());
    std::vector<std::uint32_t> got;
    matcher.match(std::string_view(event), got);
    std::vector<std::uint32_t> want;
    for (std::uint32_t i = 0; i < patterns.size(); ++i) {
      auto r = matches(patterns[i], event);
      ASSERT_TRUE(r.has_value()) << entry.path() << ": " << r.error();
      if (*r) want.push_back(i);
    }
    EXPECT_EQ(got, want) << entry.path();
    // Every security finding fixture is picked up by the generic "aws.* ... Finding" rule or a
    // source-specific one.
    EXPECT_FALSE(got.empty()) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 7);
}

TEST(Matcher, ConcurrentCallersGetTheSameAnswers) {
  auto patterns = compile_all(kSecurityRules);
  Matcher matcher(patterns);
  std::filesystem::path dir =
      std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "tests/fixtures/events";
  std::vector<std::string> events;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    events.push_back(read_file(entry.path()));
  std::vector<std::vector<std::uint32_t>> expected;
  for (const auto& e : events) {
    expected.emplace_back();
    matcher.match(std::string_view(e), expected.back());
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 300; ++round) {
        for (std::size_t i = 0; i < events.size(); ++i) {
          std::vector<std::uint32_t> got;
          matcher.match(std::string_view(events[i]), got);
          if (got != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Matcher, SharedPredicatesAcrossManyRules) {
  std::vector<std::string> sources;
  for (int i = 0; i < 2000; ++i) {
    sources.push_back(R"({"source": ["aws.guardduty"], "detail": {"id": [")" + std::to_string(i) +
                      R"("]}})");
  }
  Matcher matcher(compile_all(sources));
  std::vector<std::uint32_t> out;
  matcher.match(
      std::string_view(R"({"source": "aws.guardduty", "detail": {"id": ["17", "1999"]}})"), out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{17, 1999}));
}

}  // namespace
}  // namespace eventrouter::pattern
