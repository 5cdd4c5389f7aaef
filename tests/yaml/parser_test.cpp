#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eventrouter/yaml/parse.hpp"

namespace eventrouter::yaml {
namespace {

using testing::HasSubstr;

Node parsed(const std::string& text) {
  auto node = parse(text);
  EXPECT_TRUE(node) << node.error().message;
  return node ? *node : Node();
}

ParseError error_of(const std::string& text) {
  auto node = parse(text);
  EXPECT_FALSE(node);
  return node ? ParseError{} : node.error();
}

TEST(YamlParse, ScalarsKeepTheirTextAndSayWhetherTheyWerePlain) {
  const Node root = parsed("a: 10\nb: '10'\nc: \"x\"\nd: !!str 5\ne: |\n  block\n");
  EXPECT_TRUE(root.is_map());
  EXPECT_EQ(root.size(), 5u);
  EXPECT_EQ(root["a"].scalar(), "10");
  EXPECT_EQ(root["a"].tag(), kPlainTag);
  EXPECT_EQ(root["b"].scalar(), "10");
  EXPECT_EQ(root["b"].tag(), kNonPlainTag);
  EXPECT_EQ(root["c"].tag(), kNonPlainTag);
  EXPECT_EQ(root["d"].tag(), "tag:yaml.org,2002:str");
  EXPECT_EQ(root["e"].scalar(), "block\n");
  EXPECT_EQ(root["e"].tag(), kNonPlainTag);
}

TEST(YamlParse, OnlyPlainNullWordsAndEmptyValuesAreNull) {
  const Node root = parsed("a:\nb: ~\nc: null\nd: NULL\ne: 'null'\nf: nil\n");
  EXPECT_TRUE(root["a"].is_null());
  EXPECT_TRUE(root["b"].is_null());
  EXPECT_TRUE(root["c"].is_null());
  EXPECT_TRUE(root["d"].is_null());
  EXPECT_TRUE(root["e"].is_scalar());
  EXPECT_TRUE(root["f"].is_scalar());
  EXPECT_FALSE(root["missing"].is_defined());
  EXPECT_FALSE(root["missing"]);
}

TEST(YamlParse, MarksAreZeroBasedLineAndColumnOfEachNode) {
  const Node root = parsed("rules:\n  - name: one\n    targets: [a, b]\n");
  const Node rule = root["rules"][0];
  EXPECT_EQ(rule["name"].mark().line, 1);
  EXPECT_EQ(rule["name"].mark().column, 10);
  EXPECT_EQ(rule["targets"][1].mark().line, 2);
  EXPECT_EQ(rule["targets"][1].mark().column, 17);
  EXPECT_TRUE(Node().mark().is_null());
}

TEST(YamlParse, MappingsIterateInFileOrderAndSequencesByIndex) {
  const Node root = parsed("{z: 1, a: 2, m: [x, y]}");
  std::string keys;
  for (const auto& entry : root) keys += entry.first.scalar();
  EXPECT_EQ(keys, "zam");
  std::string items;
  for (const auto& item : root["m"]) items += item.scalar();
  EXPECT_EQ(items, "xy");
  EXPECT_FALSE(root["m"][2].is_defined());
  EXPECT_FALSE(root["z"]["nested"].is_defined());
  EXPECT_EQ(root["m"].size(), 2u);
  EXPECT_EQ(root["z"].size(), 0u);
}

TEST(YamlParse, AliasesShareTheAnchoredNode) {
  const Node root = parsed("base: &t {type: webhook}\nuse: *t\n");
  EXPECT_TRUE(root["use"].same_node(root["base"]));
  EXPECT_EQ(root["use"]["type"].scalar(), "webhook");
}

TEST(YamlParse, AnAliasToAnUnknownOrEnclosingAnchorIsAnError) {
  EXPECT_THAT(error_of("a: *nowhere\n").message, HasSubstr("alias *nowhere names no anchor"));
  // A node that contains an alias to itself would be a cycle no reader could walk.
  EXPECT_THAT(error_of("a: &loop [1, *loop]\n").message, HasSubstr("alias *loop names no anchor"));
}

TEST(YamlParse, AliasesOfAliasesCannotMakeMillionsOfNodes) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string previous = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", " : "") + previous;
    text += "]\n";
  }
  const ParseError error = error_of(text);
  EXPECT_THAT(error.message, HasSubstr("aliases repeat more than 1000000 nodes"));
  EXPECT_EQ(error.mark.line, 5);  // a5 (line 6) is the first level past a million
}

TEST(YamlParse, NestingHasALimit) {
  const std::string deep(kMaxDepth + 1, '[');
  EXPECT_THAT(error_of(deep).message, HasSubstr("nesting is deeper than 200 levels"));
  std::string fits(kMaxDepth, '[');
  fits += std::string(kMaxDepth, ']');
  EXPECT_TRUE(parse(fits));
}

TEST(YamlParse, SyntaxErrorsSayWhereAndWhat) {
  const ParseError error = error_of("a: 1\n b: 2\nc: [1, 2\n");
  EXPECT_EQ(error.mark.line, 1);
  EXPECT_EQ(error.mark.column, 2);
  EXPECT_EQ(error.message, "mapping values are not allowed in this context");
  const ParseError flow = error_of("limits: {max: 5\n");
  EXPECT_EQ(flow.message,
            "did not find expected ',' or '}' (while parsing a flow mapping that starts at line "
            "1)");
}

TEST(YamlParse, BadEncodingIsReportedAtItsByte) {
  const ParseError error = error_of("a: 1\nb: \xff\n");
  EXPECT_EQ(error.mark.line, 1);
  EXPECT_EQ(error.mark.column, 3);
  EXPECT_THAT(error.message, HasSubstr("UTF-8"));
}

TEST(YamlParse, DocumentsAreCounted) {
  EXPECT_TRUE(parsed("").is_null());
  EXPECT_TRUE(parsed("# only a comment\n").is_null());
  auto two = parse_documents("a: 1\n---\nb: 2\n");
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1]["b"].scalar(), "2");
  EXPECT_EQ((*two)[1].mark().line, 2);
  const ParseError error = error_of("a: 1\n---\nb: 2\n");
  EXPECT_THAT(error.message, HasSubstr("more than one document"));
}

TEST(YamlNode, SetScalarChangesTheNodeForEveryHandle) {
  Node root = parsed("path: out.jsonl\n");
  Node path = root["path"];
  path.set_scalar("/var/out.jsonl");
  EXPECT_EQ(root["path"].scalar(), "/var/out.jsonl");
  EXPECT_EQ(root["path"].tag(), kNonPlainTag);
  Node map = root;
  map.set_scalar("ignored");  // only scalars and nulls take a text
  EXPECT_TRUE(root.is_map());
}

TEST(YamlNode, CloneIsIndependentAndKeepsPositions) {
  const Node root = parsed("target:\n  id: q\n  paths: [a, b]\n");
  Node copy = root["target"].clone();
  EXPECT_EQ(copy["paths"][1].mark().line, 2);
  copy["id"].set_scalar("changed");
  EXPECT_EQ(root["target"]["id"].scalar(), "q");
  EXPECT_EQ(copy["id"].scalar(), "changed");
}

TEST(YamlNode, MadeNodesHaveNoPosition) {
  const Node map(NodeType::kMap);
  EXPECT_TRUE(map.is_map());
  EXPECT_EQ(map.size(), 0u);
  EXPECT_TRUE(map.mark().is_null());
  EXPECT_FALSE(Node(NodeType::kUndefined).is_defined());
  EXPECT_EQ(Node::scalar_node("x").scalar(), "x");
}

TEST(YamlNode, SingleQuotedHoldsAnyText) {
  const std::string text = "it's $.detail: [x] # not a comment";
  EXPECT_EQ(parsed("v: " + single_quoted(text))["v"].scalar(), text);
}

}  // namespace
}  // namespace eventrouter::yaml
