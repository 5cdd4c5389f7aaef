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

TEST(YamlFile, BothReadersParseBooleansAlike) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/a.yaml", problems);
  auto tree = *parse_yaml_text(file, "a: True\nb: FALSE\nc: yes\nd: 'on'\n");
  MappingReader reader(tree, {"/x/a.yaml", 1, 1}, problems, "t");
  for (const char* key : {"a", "b", "c", "d"}) {
    EXPECT_EQ(read_bool(file, tree[key], key), reader.boolean(key, false)) << key;
  }
  EXPECT_EQ(reader.boolean("a", false), true);
  EXPECT_EQ(reader.boolean("b", true), false);
  // YAML 1.1's yes/no/on/off are not booleans here, for either reader.
  EXPECT_EQ(reader.boolean("c", false), std::nullopt);
  EXPECT_EQ(reader.boolean("d", false), std::nullopt);
}

TEST(YamlFile, BothReadersWordChoicesAndUnknownKeysAlike) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/a.yaml", problems);
  auto tree = *parse_yaml_text(file, "level: wran\nlevl: x\n");
  const std::vector<std::string> levels = {"debug", "info", "warn"};
  read_choice(file, tree["level"], "level", levels);
  read_mapping(file, tree, "the section", {"level"});
  MappingReader reader(tree, {"/x/a.yaml", 1, 1}, problems, "the section");
  reader.choice("level", "info", levels);
  reader.check_keys({"level"});
  std::vector<std::string> messages;
  for (const auto& p : problems) messages.push_back(p.to_string());
  EXPECT_THAT(
      messages,
      ElementsAre("/x/a.yaml:1:8: level must be one of debug, info, warn, not 'wran'; did "
                  "you mean 'warn'?",
                  "/x/a.yaml:2:1: unknown key 'levl' in the section; did you mean 'level'?",
                  "/x/a.yaml:1:8: the section: level must be one of debug, info, warn, "
                  "not 'wran'; did you mean 'warn'?",
                  "/x/a.yaml:2:1: unknown key 'levl' in the section; did you mean 'level'?"));
}

TEST(YamlFile, MappingReaderNamesNestedKeysAndFallsBackToItsPosition) {
  std::vector<Diagnostic> problems;
  YamlFile file("/x/a.yaml", problems);
  auto tree = *parse_yaml_text(file, "smtp: {prot: 25, port: 99999}\n");
  MappingReader reader(tree, {"/x/a.yaml", 7, 3}, problems, "email target 'm'");
  auto smtp = reader.child("smtp");
  ASSERT_TRUE(smtp);
  smtp->check_keys({"host", "port"});
  EXPECT_EQ(smtp->integer("port", 25, 1, 65535), std::nullopt);
  EXPECT_EQ(reader.string("from", true), std::nullopt);
  std::vector<std::string> messages;
  for (const auto& p : problems) messages.push_back(p.to_string());
  EXPECT_THAT(messages,
              ElementsAre("/x/a.yaml:1:8: unknown key 'smtp.prot' in email target 'm'; did you "
                          "mean 'smtp.port'?",
                          "/x/a.yaml:1:24: email target 'm': smtp.port must be a whole number "
                          "from 1 to 65535",
                          "/x/a.yaml:1:1: email target 'm': from is required"));
  EXPECT_TRUE(reader.failed());
}

TEST(YamlFile, Sizes) {
  EXPECT_EQ(parse_size("65536"), 65536u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("1 MB"), 1000000u);
  EXPECT_EQ(parse_size("2g"), 2000000000u);
  EXPECT_EQ(parse_size("1 parsec"), std::nullopt);
  EXPECT_EQ(parse_size("KiB"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999999999999GiB"), std::nullopt);
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
