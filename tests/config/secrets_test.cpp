#include "eventrouter/config/secrets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "support/temp_dir.hpp"

namespace eventrouter::config {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(Secrets, EnvReference) {
  ::setenv("EVENTROUTER_TEST_TOKEN", "s3cr3t", 1);
  auto value = resolve_secret_reference("${env:EVENTROUTER_TEST_TOKEN}", "/");
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "s3cr3t");
  ::unsetenv("EVENTROUTER_TEST_TOKEN");
}

TEST(Secrets, EmptyEnvVariableIsAValue) {
  ::setenv("EVENTROUTER_TEST_EMPTY", "", 1);
  auto value = resolve_secret_reference("${env:EVENTROUTER_TEST_EMPTY}", "/");
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "");
  ::unsetenv("EVENTROUTER_TEST_EMPTY");
}

TEST(Secrets, UnsetEnvVariable) {
  ::unsetenv("EVENTROUTER_TEST_NOPE");
  auto value = resolve_secret_reference("${env:EVENTROUTER_TEST_NOPE}", "/");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error(),
            "environment variable EVENTROUTER_TEST_NOPE is not set (referenced as "
            "${env:EVENTROUTER_TEST_NOPE}); set it or replace the reference");
}

TEST(Secrets, BadEnvName) {
  auto value = resolve_secret_reference("${env:1ABC}", "/");
  ASSERT_FALSE(value);
  EXPECT_THAT(value.error(), HasSubstr("'1ABC' is not a valid environment variable name"));
}

TEST(Secrets, FileReferenceTrimsTrailingNewline) {
  testing::TempDir dir;
  dir.write("secret", "line one\nline two\r\n\n");
  auto absolute = resolve_secret_reference("${file:" + (dir.path() / "secret").string() + "}", "/");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(*absolute, "line one\nline two");
  auto relative = resolve_secret_reference("${file:secret}", dir.path());
  ASSERT_TRUE(relative);
  EXPECT_EQ(*relative, "line one\nline two");
}

TEST(Secrets, UnreadableFile) {
  testing::TempDir dir;
  auto missing = resolve_secret_reference("${file:missing}", dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "cannot read secret file " + (dir.path() / "missing").string() +
                                 " (referenced as ${file:missing}): No such file or directory");
  auto folder = resolve_secret_reference("${file:.}", dir.path());
  ASSERT_FALSE(folder);
  EXPECT_THAT(folder.error(), HasSubstr("it is a directory"));
}

TEST(Secrets, Recognition) {
  EXPECT_TRUE(is_secret_reference("${env:A}"));
  EXPECT_TRUE(is_secret_reference("${file:/a/b}"));
  EXPECT_FALSE(is_secret_reference("Bearer ${env:A}"));
  EXPECT_FALSE(is_secret_reference("${env:A}x"));
  EXPECT_FALSE(is_secret_reference("${HOME}"));
  EXPECT_TRUE(mentions_secret_reference("Bearer ${env:A}"));
  EXPECT_FALSE(mentions_secret_reference("${HOME}/x"));
}

TEST(Secrets, TreeIsResolvedInPlaceAndValuesStayStrings) {
  ::setenv("EVENTROUTER_TEST_PORT", "25", 1);
  ::unsetenv("EVENTROUTER_TEST_UNSET");
  testing::TempDir dir;
  std::vector<Diagnostic> problems;
  YamlFile file(dir.path() / "rules.yaml", problems);
  yaml::Node tree = *parse_yaml_text(file, R"(
smtp:
  port: ${env:EVENTROUTER_TEST_PORT}
  list: [a, "${env:EVENTROUTER_TEST_PORT}"]
  password: ${env:EVENTROUTER_TEST_UNSET}
  header: Bearer ${env:EVENTROUTER_TEST_PORT}
${env:EVENTROUTER_TEST_PORT}: key stays
)");
  resolve_secrets(file, tree);
  EXPECT_EQ(tree["smtp"]["port"].scalar(), "25");
  EXPECT_EQ(tree["smtp"]["port"].tag(), "!");
  EXPECT_TRUE(file.is_secret(tree["smtp"]["port"]));
  EXPECT_EQ(file.quoted(tree["smtp"]["port"]), "the referenced secret");
  EXPECT_EQ(tree["smtp"]["list"][1].scalar(), "25");
  EXPECT_TRUE(tree["${env:EVENTROUTER_TEST_PORT}"].is_defined());
  ASSERT_THAT(problems, SizeIs(2));
  EXPECT_EQ(problems[0].line, 5);
  EXPECT_EQ(problems[0].column, 13);
  EXPECT_THAT(problems[0].message, HasSubstr("EVENTROUTER_TEST_UNSET is not set"));
  EXPECT_EQ(problems[1].line, 6);
  EXPECT_EQ(problems[1].column, 11);
  EXPECT_THAT(problems[1].message, HasSubstr("must be the whole value"));
  ::unsetenv("EVENTROUTER_TEST_PORT");
}

}  // namespace
}  // namespace eventrouter::config
