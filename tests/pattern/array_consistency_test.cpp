// Array consistency (aws/event-ruler's rulesForJSONEvent): fields a pattern names inside the
// objects of one event array must all be satisfied by the same array element.

#include "test_helpers.hpp"

namespace eventrouter::pattern::testing {
namespace {

constexpr const char* kEmployees = R"({
  "employees": [
    {"firstName": "John", "lastName": "Doe"},
    {"firstName": "Anna", "lastName": "Smith"},
    {"firstName": "Peter", "lastName": "Jones"}
  ]
})";

TEST(ArrayConsistency, ArrayStructureIsCrushedOutOfThePattern) {
  EXPECT_TRUE(match(R"({"employees": {"firstName": ["Anna"]}})", kEmployees));
  EXPECT_TRUE(
      match(R"({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}})", kEmployees));
}

TEST(ArrayConsistency, FieldsFromDifferentElementsDoNotMatch) {
  EXPECT_FALSE(
      match(R"({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}})", kEmployees));
  EXPECT_FALSE(match(R"({"employees": {"first": ["Anna"], "last": ["Jones"]}})",
                     R"({"employees": [{"first": "Anna", "last": "Smith"},
                                       {"first": "Peter", "last": "Jones"}]})"));
}

TEST(ArrayConsistency, MultiLevelArrays) {
  const char* event = R"({"employees": [
      [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
      [{"firstName": "Peter", "lastName": "Jones"}]]})";
  EXPECT_TRUE(match(R"({"employees": {"firstName": ["Anna"]}})", event));
  EXPECT_TRUE(match(R"({"employees": {"firstName": ["Peter"], "lastName": ["Jones"]}})", event));
  EXPECT_FALSE(match(R"({"employees": {"firstName": ["John"], "lastName": ["Smith"]}})", event));
  EXPECT_FALSE(match(R"({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}})", event));
}

TEST(ArrayConsistency, NestedArraysInsideOneElement) {
  const char* event = R"({"findings": [
      {"severity": "HIGH", "resources": [{"type": "AwsS3Bucket"}, {"type": "AwsIamRole"}]},
      {"severity": "LOW", "resources": [{"type": "AwsEc2Instance"}]}]})";
  EXPECT_TRUE(match(
      R"({"findings": {"severity": ["HIGH"], "resources": {"type": ["AwsIamRole"]}}})", event));
  EXPECT_FALSE(match(
      R"({"findings": {"severity": ["HIGH"], "resources": {"type": ["AwsEc2Instance"]}}})", event));
  EXPECT_TRUE(match(
      R"({"findings": {"severity": ["LOW"], "resources": {"type": ["AwsEc2Instance"]}}})", event));
}

TEST(ArrayConsistency, FieldsOutsideTheArrayCombineFreely) {
  const char* event = R"({"source": "hr", "employees": [{"name": "Anna", "tags": ["a", "b"]},
                                                        {"name": "Bob", "tags": ["c"]}]})";
  EXPECT_TRUE(
      match(R"({"source": ["hr"], "employees": {"name": ["Anna"], "tags": ["b"]}})", event));
  EXPECT_FALSE(
      match(R"({"source": ["hr"], "employees": {"name": ["Anna"], "tags": ["c"]}})", event));
  // Two different arrays never constrain each other.
  EXPECT_TRUE(match(R"({"x": ["1"], "y": ["4"]})", R"({"x": ["1", "2"], "y": ["3", "4"]})"));
}

TEST(ArrayConsistency, OperatorsTakePartInConsistency) {
  const char* event =
      R"({"items": [{"price": 5, "name": "cheap"}, {"price": 500, "name": "dear"}]})";
  EXPECT_TRUE(match(
      R"({"items": {"price": [{"numeric": [">", 100]}], "name": [{"prefix": "de"}]}})", event));
  EXPECT_FALSE(match(
      R"({"items": {"price": [{"numeric": [">", 100]}], "name": [{"prefix": "ch"}]}})", event));
  EXPECT_TRUE(match(R"({"items": {"price": [{"exists": true}], "name": ["cheap"]}})", event));
  EXPECT_TRUE(match(R"({"items": {"price": [{"anything-but": 5}], "name": ["dear"]}})", event));
  EXPECT_FALSE(match(R"({"items": {"price": [{"anything-but": 500}], "name": ["dear"]}})", event));
}

TEST(ArrayConsistency, ExistsFalseIsJudgedAgainstTheElementsChosenBefore) {
  const char* event = R"({"a": [{"x": 1, "z": 1}, {"y": 1}]})";
  // a.y (chosen: element 1) is ordered before a.z: element 1 has no z.
  EXPECT_TRUE(match(R"({"a": {"y": [1], "z": [{"exists": false}]}})", event));
  // a.x comes before a.y: nothing is chosen yet, and element 0 has an x.
  EXPECT_FALSE(match(R"({"a": {"x": [{"exists": false}], "y": [1]}})", event));
  EXPECT_FALSE(match(R"({"a": {"x": [{"exists": false}]}})", event));
  EXPECT_TRUE(match(R"({"a": {"w": [{"exists": false}]}})", event));
}

// Fields are considered in Java's string order (UTF-16 code units), where a character beyond
// the Basic Multilingual Plane (a surrogate pair, 0xD835.. for U+1D49C) sorts before U+E000,
// though its UTF-8 bytes (F0..) sort after U+E000's (EE..). The example above, with x and y
// renamed so that byte order and Java's order disagree.
TEST(ArrayConsistency, ExistsFalseTakesFieldsInJavaStringOrder) {
  const char* event = "{\"a\": [{\"\uE000\": 1, \"z\": 1}, {\"\U0001D49C\": 1}]}";
  // U+1D49C comes first: element 2 is chosen for it, and it has no U+E000.
  EXPECT_TRUE(match("{\"a\": {\"\uE000\": [{\"exists\": false}], \"\U0001D49C\": [1]}}", event));
  // Two fields both in the BMP keep byte order: U+E000 before U+FFFD.
  const char* bmp = "{\"a\": [{\"\uE000\": 1, \"z\": 1}, {\"\uFFFD\": 1}]}";
  EXPECT_FALSE(match("{\"a\": {\"\uE000\": [{\"exists\": false}], \"\uFFFD\": [1]}}", bmp));
}

// The bus matcher decides these without its full search: a condition met by one value pins its
// element, one met by several values in an array is resolved against the pinned ones, and a
// value outside every array constrains nothing.
TEST(ArrayConsistency, PinnedAndSeveralCandidateElements) {
  const char* event = R"({"a": [{"x": "1", "y": "p", "z": 7}, {"x": "1", "y": "q"},
                                {"x": "2", "y": "q", "z": 9}]})";
  EXPECT_TRUE(match(R"({"a": {"x": ["1"], "y": ["q"]}})", event));
  EXPECT_FALSE(match(R"({"a": {"x": ["1"], "y": ["r"]}})", event));
  EXPECT_TRUE(match(R"({"a": {"x": ["1"], "z": [7]}})", event));
  EXPECT_FALSE(match(R"({"a": {"x": ["1"], "z": [9]}})", event));
  EXPECT_FALSE(match(R"({"a": {"y": ["p"], "z": [9]}})", event));
  // Two conditions with several candidate elements each.
  EXPECT_TRUE(match(R"({"a": {"x": ["1", "2"], "y": ["q"], "z": [9]}})", event));
  EXPECT_FALSE(match(R"({"a": {"x": ["1"], "y": ["q"], "z": [9]}})", event));
  EXPECT_TRUE(match(R"({"a": {"x": [{"prefix": ""}], "y": [{"prefix": ""}]}})", event));
}

TEST(ArrayConsistency, ValuesOutsideArraysConstrainNothing) {
  // "a.b" outside the array and a.b inside it address the same field.
  const char* event = R"({"a.b": "1", "a": [{"b": "2", "c": "z"}, {"b": "3", "c": "w"}]})";
  EXPECT_TRUE(match(R"({"a": {"b": ["1"], "c": ["w"]}})", event));
  EXPECT_TRUE(match(R"({"a": {"b": ["2"], "c": ["z"]}})", event));
  EXPECT_FALSE(match(R"({"a": {"b": ["2"], "c": ["w"]}})", event));
  EXPECT_TRUE(match(R"({"a": {"b": ["1", "2"], "c": ["w"]}})", event));
}

TEST(ArrayConsistency, ManyElementsStayFast) {
  std::string event = R"({"a": [)";
  for (int i = 0; i < 300; ++i) {
    if (i) event += ",";
    event += R"({"p": )" + std::to_string(i) + R"(, "q": "v", "r": [1, 2, 3]})";
  }
  event += "]}";
  EXPECT_FALSE(match(R"({"a": {"p": [{"numeric": [">=", 0]}], "q": ["v"], "r": [4]}})", event));
  EXPECT_TRUE(match(R"({"a": {"p": [299], "q": ["v"], "r": [3]}})", event));
}

}  // namespace
}  // namespace eventrouter::pattern::testing
