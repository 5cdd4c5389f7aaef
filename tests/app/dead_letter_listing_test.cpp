// `dlq list` on real files: records from several files, filters, the table and the JSONL output,
// and lines that are not records.
#include "eventrouter/app/dead_letter_listing.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "eventrouter/rules/loader.hpp"

namespace {

namespace fs = std::filesystem;
using eventrouter::app::DeadLetterFilter;
using eventrouter::app::print_dead_letter_jsonl;
using eventrouter::app::print_dead_letter_table;
using eventrouter::app::read_dead_letters;

std::string record(std::string_view time, std::string_view rule, std::string_view target,
                   std::string_view event_id, std::string_view condition = "MaximumRetryAttempts",
                   int attempts = 3) {
  std::string attrs = R"("ERROR_CODE":"CONNECTION_FAILURE","ERROR_MESSAGE":"refused",)";
  if (!condition.empty()) {
    attrs += R"("EXHAUSTED_RETRY_CONDITION":")" + std::string(condition) + R"(",)";
  }
  attrs += R"("RETRY_ATTEMPTS":)" + std::to_string(attempts);
  return R"({"time":")" + std::string(time) + R"(","rule":")" + std::string(rule) +
         R"(","target":")" + std::string(target) + R"(","attributes":{)" + attrs +
         R"(},"event":{"id":")" + std::string(event_id) +
         R"(","source":"s","detail-type":"d","detail":{}},"payload":"{}"})";
}

class DeadLetterListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("er-dlq-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ / "locked.jsonl", fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(DeadLetterListingTest, ReadsEveryFileOldestFirstAndFilters) {
  const auto a = write("a.jsonl", record("2026-11-28T10:00:02.000Z", "r1", "web", "e2") + "\n" +
                                      record("2026-11-28T10:00:00.000Z", "r2", "web", "e0") + "\n");
  const auto b = write("b.jsonl", record("2026-11-28T10:00:01.000Z", "r1", "hook", "e1") + "\n");
  std::ostringstream err;
  auto all = read_dead_letters({a, b, dir_ / "missing.jsonl"}, {}, err);
  EXPECT_EQ(err.str(), "");  // a missing file is simply empty
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.records[0].event_id, "e0");
  EXPECT_EQ(all.records[1].event_id, "e1");
  EXPECT_EQ(all.records[2].event_id, "e2");
  EXPECT_EQ(all.records[1].file, b);
  EXPECT_EQ(all.records[0].line, 2u);
  EXPECT_EQ(all.records[0].error_code, "CONNECTION_FAILURE");
  EXPECT_EQ(all.records[0].retry_attempts, 3);
  EXPECT_EQ(all.records[0].exhausted_retry_condition, "MaximumRetryAttempts");

  auto by_rule = read_dead_letters({a, b}, DeadLetterFilter{"r1", std::nullopt}, err);
  ASSERT_EQ(by_rule.records.size(), 2u);
  EXPECT_EQ(by_rule.records[0].event_id, "e1");
  EXPECT_EQ(by_rule.records[1].event_id, "e2");

  auto by_both = read_dead_letters({a, b}, DeadLetterFilter{"r1", "web"}, err);
  ASSERT_EQ(by_both.records.size(), 1u);
  EXPECT_EQ(by_both.records[0].event_id, "e2");

  auto by_target = read_dead_letters({a, b}, DeadLetterFilter{std::nullopt, "nope"}, err);
  EXPECT_TRUE(by_target.records.empty());
}

TEST_F(DeadLetterListingTest, ReportsAndSkipsMalformedLines) {
  const auto file = write("bad.jsonl", record("2026-11-28T10:00:00.000Z", "r", "t", "ok1") +
                                           "\n"
                                           "not json at all\n"
                                           "\n"
                                           "[1,2,3]\n"
                                           R"({"rule":"r"})"
                                           "\n" +
                                           record("2026-11-28T10:00:01.000Z", "r", "t", "ok2") +
                                           "\n"
                                           R"({"time":"2026-11-28T10:00:02.000Z","rule":"r","tar)");
  std::ostringstream err;
  auto listing = read_dead_letters({file}, {}, err);
  ASSERT_EQ(listing.records.size(), 2u);
  EXPECT_EQ(listing.records[0].event_id, "ok1");
  EXPECT_EQ(listing.records[1].event_id, "ok2");
  EXPECT_EQ(listing.malformed, 4u);
  const std::string text = err.str();
  const std::string f = file.string();
  EXPECT_NE(text.find(f + ":2: not JSON"), std::string::npos) << text;
  EXPECT_EQ(text.find(f + ":3:"), std::string::npos) << "blank lines are not errors: " << text;
  EXPECT_NE(text.find(f + ":4: not a JSON object"), std::string::npos) << text;
  EXPECT_NE(text.find(f + ":5: not a dead-letter record"), std::string::npos) << text;
  EXPECT_NE(text.find(f + ":7: not JSON"), std::string::npos) << "a torn last line: " << text;
}

TEST_F(DeadLetterListingTest, CountsUnreadableFiles) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const auto file = write("locked.jsonl", record("2026-11-28T10:00:00.000Z", "r", "t", "e") + "\n");
  fs::permissions(file, fs::perms::none);
  std::ostringstream err;
  auto listing = read_dead_letters({file}, {}, err);
  EXPECT_EQ(listing.unreadable, 1u);
  EXPECT_NE(err.str().find(file.string() + ": cannot read"), std::string::npos) << err.str();
}

TEST_F(DeadLetterListingTest, AFolderWhereTheFileShouldBeIsReported) {
  fs::create_directories(dir_ / "folder.jsonl");
  std::ostringstream err;
  auto listing = read_dead_letters({dir_ / "folder.jsonl"}, {}, err);
  EXPECT_EQ(listing.unreadable, 1u);
  EXPECT_TRUE(listing.records.empty());
  EXPECT_NE(err.str().find((dir_ / "folder.jsonl").string() + ": cannot read"), std::string::npos)
      << err.str();
}

TEST_F(DeadLetterListingTest, TableHasAHeadingAlignedRowsAndATotal) {
  const auto a = write(
      "a.jsonl", record("2026-11-28T10:00:00.000Z", "rule-one", "web", "e-1") + "\n" +
                     record("2026-11-28T10:00:01.000Z", "r2", "runbook-x", "e-2", "", 0) + "\n");
  std::ostringstream err, out;
  print_dead_letter_table(read_dead_letters({a}, {}, err), out);
  std::istringstream lines(out.str());
  std::string heading, row1, row2, total, extra;
  std::getline(lines, heading);
  std::getline(lines, row1);
  std::getline(lines, row2);
  std::getline(lines, total);
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_EQ(heading.find("TIME"), 0u);
  for (std::string_view column : {"RULE", "TARGET", "ERROR_CODE", "RETRY_ATTEMPTS",
                                  "EXHAUSTED_RETRY_CONDITION", "EVENT_ID", "FILE"}) {
    EXPECT_NE(heading.find(column), std::string::npos) << column;
  }
  // Columns line up: each value starts under its heading.
  EXPECT_EQ(row1.find("rule-one"), heading.find("RULE"));
  EXPECT_EQ(row2.find("r2"), heading.find("RULE"));
  EXPECT_EQ(row2.find("runbook-x"), heading.find("TARGET"));
  EXPECT_EQ(row1.find("MaximumRetryAttempts"), heading.find("EXHAUSTED_RETRY_CONDITION"));
  EXPECT_EQ(row2.find("- "), heading.find("EXHAUSTED_RETRY_CONDITION"))
      << "a permanent failure shows '-': " << row2;
  EXPECT_EQ(row1.find("e-1"), heading.find("EVENT_ID"));
  EXPECT_NE(row1.find("a.jsonl:1"), std::string::npos) << row1;
  EXPECT_NE(row2.find("a.jsonl:2"), std::string::npos) << row2;
  EXPECT_EQ(total, "2 dead letters in 1 file");
}

TEST_F(DeadLetterListingTest, TableNeverPrintsControlCharacters) {
  const auto a =
      write("a.jsonl", record("2026-11-28T10:00:00.000Z", "r", "t", R"(evil\u001b[31mred)") + "\n");
  std::ostringstream err, out;
  print_dead_letter_table(read_dead_letters({a}, {}, err), out);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
  EXPECT_NE(out.str().find("evil?[31mred"), std::string::npos) << out.str();
}

TEST_F(DeadLetterListingTest, EmptyListingSaysWhereItLooked) {
  std::ostringstream err, out;
  print_dead_letter_table(read_dead_letters({dir_ / "none.jsonl"}, {}, err), out);
  EXPECT_EQ(out.str(), "no dead letters (looked in " + (dir_ / "none.jsonl").string() + ")\n");
}

TEST_F(DeadLetterListingTest, JsonLinesAreTheRecordsAsStored) {
  const std::string first = record("2026-11-28T10:00:00.000Z", "r", "t", "e0");
  const std::string second = record("2026-11-28T10:00:01.000Z", "r", "u", "e1");
  const auto a = write("a.jsonl", second + "\r\ngarbage\n");
  const auto b = write("b.jsonl", first + "\n");
  std::ostringstream err, out;
  print_dead_letter_jsonl(read_dead_letters({a, b}, {}, err), out);
  EXPECT_EQ(out.str(), first + "\n" + second + "\n");
  std::ostringstream filtered;
  print_dead_letter_jsonl(read_dead_letters({a, b}, DeadLetterFilter{std::nullopt, "u"}, err),
                          filtered);
  EXPECT_EQ(filtered.str(), second + "\n");
}

}  // namespace

namespace {

// The files come from the config and the rules, loaded as the daemon loads them.
TEST_F(DeadLetterListingTest, FilesAreTheDefaultThenEachTargetsDeadLetterPathOnce) {
  write("eventrouter.yaml", "listen: 127.0.0.1:9\nrules_dir: rules.d\nstate_dir: state\n");
  fs::create_directories(dir_ / "rules.d");
  write("rules.d/a.yaml", R"(rules:
  - name: r1
    event_pattern: { source: [a] }
    targets:
      - { id: q, type: queue_file, path: q.jsonl, dead_letter: { path: dlq/shared.jsonl } }
      - { id: w, type: webhook, url: "http://127.0.0.1:1/", dead_letter: { path: /tmp/er-abs.jsonl } }
      - { id: n, type: webhook, url: "http://127.0.0.1:1/" }
  - name: r2
    event_pattern: { source: [b] }
    targets:
      - { id: q, type: queue_file, path: q2.jsonl, dead_letter: { path: dlq/../dlq/shared.jsonl } }
)");
  const auto config = eventrouter::config::load_config(dir_ / "eventrouter.yaml");
  const auto rules =
      eventrouter::rules::load_rule_set(config, eventrouter::targets::TargetCatalog{});
  const auto files = eventrouter::app::dead_letter_files(config, rules.get());
  const fs::path state = fs::weakly_canonical(dir_) / "state";
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(fs::weakly_canonical(files[0]), state / "dead-letters.jsonl");
  EXPECT_EQ(fs::weakly_canonical(files[1]), state / "dlq" / "shared.jsonl");
  EXPECT_EQ(files[2], "/tmp/er-abs.jsonl");

  // Without rules (they do not load), only the default file is read.
  const auto fallback = eventrouter::app::dead_letter_files(config, nullptr);
  ASSERT_EQ(fallback.size(), 1u);
  EXPECT_EQ(fs::weakly_canonical(fallback[0]), state / "dead-letters.jsonl");
}

}  // namespace

namespace {

TEST_F(DeadLetterListingTest, KeepsOnlyEachFilesNewestWhenAskedAndCountsTheRest) {
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines +=
        record("2026-11-28T10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".000Z",
               "r1", "web", "e" + std::to_string(i)) +
        "\n";
  }
  const auto a = write("a.jsonl", lines);
  const auto b = write("b.jsonl", record("2026-11-28T09:00:00.000Z", "r1", "web", "old") + "\n");
  std::ostringstream err;
  DeadLetterFilter filter;
  filter.keep_newest = 3;
  auto listing = read_dead_letters({a, b}, filter, err);
  EXPECT_EQ(listing.matched, 51u);
  ASSERT_EQ(listing.records.size(), 4u);  // three of a's, and b's one
  EXPECT_EQ(listing.records[0].event_id, "old");
  EXPECT_EQ(listing.records[1].event_id, "e47");
  EXPECT_EQ(listing.records[3].event_id, "e49");
}

}  // namespace
