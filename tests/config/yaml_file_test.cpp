#include "eventrouter/config/yaml_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace eventrouter::config {
namespace {

using ::testing::ElementsAre;

TEST(YamlFile, EditDistance) {
  EXPECT_EQ(edit_distance("listen", "listen"), 0u);
  EXPECT_EQ(edit_distance("listne", "listen"), 1u);  // a swap is one edit
  EXPECT_EQ(edit_distance("wran", "warn"), 1u);
  EXPECT_EQ(edit_distance("Listen", "listen"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(YamlFile, ClosestMatch) {
  const std::vector<std::string> keys = {"name",  "description",   "bus",
                                         "state", "event_pattern", "targets"};
  EXPECT_EQ(closest_match("nmae", keys), "name");
  EXPECT_EQ(closest_match("descripton", keys), "description");
  EXPECT_EQ(closest_match("event-pattern", keys), "event_pattern");
  EXPECT_EQ(closest_match("EventPattern", keys), "event_pattern");  // case is ignored
  EXPECT_EQ(closest_match("pattern", keys), std::nullopt);          // too far to be a typo
  EXPECT_EQ(closest_match("target", keys), "targets");
  EXPECT_EQ(closest_match("xyz", keys), std::nullopt);
}

TEST(YamlFile, MultipleDocumentsAreRejected) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/a.yaml", problems);
  EXPECT_FALSE(parse_yaml_text(file, "a: 1\n---\nb: 2\n"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 3);
  EXPECT_THAT(problems[0].message, ::testing::HasSubstr("more than one YAML document"));
}

TEST(YamlFile, FolderIsNotAFile) {
  testing::TempDir dir;
  std::vector<Diagnostic> problems;
  YamlFile file(dir.path(), problems);
  EXPECT_FALSE(parse_yaml_file(file));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, "cannot read file: it is a directory");
}

TEST(YamlFile, ReadIntegerRange) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/a.yaml", problems);
  auto tree = *parse_yaml_text(file, "a: 185\nb: 186\nc: 1.5\nd: +3\n");
  EXPECT_EQ(read_integer(file, tree["a"], "a", 0, 185), 185);
  EXPECT_EQ(read_integer(file, tree["b"], "b", 0, 185), std::nullopt);
  EXPECT_EQ(read_integer(file, tree["c"], "c", 0, 185), std::nullopt);
  EXPECT_EQ(read_integer(file, tree["d"], "d", 0, 185), 3);
  std::vector<std::string> messages;
  for (const auto& p : problems) messages.push_back(p.to_string());
  EXPECT_THAT(
      messages,
      ElementsAre("/x/a.yaml:2:4: b is out of range: '186' is not a whole number from 0 to 185",
                  "/x/a.yaml:3:4: c must be a whole number from 0 to 185, not '1.5'"));
}

TEST(YamlFile, DiagnosticsSortByPosition) {
  std::vector<Diagnostic> d = {
      {"/b", 1, 1, "x"}, {"/a", 3, 1, "y"}, {"/a", 1, 5, "z"}, {"/a", 1, 2, "w"}};
  sort_diagnostics(d.begin(), d.end());
  EXPECT_EQ(d[0].message, "w");
  EXPECT_EQ(d[1].message, "z");
  EXPECT_EQ(d[2].message, "y");
  EXPECT_EQ(d[3].message, "x");
}

}  // namespace
}  // namespace eventrouter::config
