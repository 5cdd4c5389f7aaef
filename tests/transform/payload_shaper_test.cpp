// Payload shaping as EventBridge does it: whole event, input, input_path, input_transformer.

#include "eventrouter/transform/payload_shaper.hpp"
#include "eventrouter/yaml/parse.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace eventrouter::transform {
namespace {

const char* const ec2_event = R"({
  "version": "0",
  "id": "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "123456789012",
  "time": "2015-11-11T21:29:54Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
  "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "count": 3, "ratio": 2.50,
             "tags": [{"key": "Owner", "value": "payments"}, {"key": "Env", "value": "prod"}],
             "note": "say \"hi\"\nbye", "aws/securityhub/ProductName": "Security Hub"}
})";

PayloadShaper shaper_from(const std::string& yaml) {
  auto shaper = PayloadShaper::from_node(yaml::parse(yaml).value(), "rules.yaml");
  if (!shaper) {
    std::string all;
    for (const auto& d : shaper.error()) all += d.message + "\n";
    ADD_FAILURE() << "unexpected problems:\n" << all;
    return PayloadShaper{};
  }
  return std::move(*shaper);
}

std::vector<config::Diagnostic> problems_of(const std::string& yaml) {
  auto shaper = PayloadShaper::from_node(yaml::parse(yaml).value(), "rules.yaml");
  if (shaper) return {};
  return shaper.error();
}

std::string shape(const std::string& yaml, const char* event = ec2_event) {
  auto result = shaper_from(yaml).shape(event, "my-rule", "2015-11-11T21:29:55.123Z");
  if (!result) return "ERROR: " + result.error();
  return *result;
}

std::string transformer(const std::string& paths, const std::string& tmpl) {
  const yaml::Node node = yaml::parse("input_transformer:\n  input_paths_map: " + paths +
                                      "\n  input_template: " + yaml::single_quoted(tmpl) + "\n")
                              .value();
  auto shaper = PayloadShaper::from_node(node, "rules.yaml");
  if (!shaper) return "PROBLEM: " + shaper.error().front().message;
  auto result = shaper->shape(ec2_event, "my-rule", "2015-11-11T21:29:55.123Z");
  if (!result) return "ERROR: " + result.error();
  return *result;
}

const char* const common_paths =
    R"({instance: $.detail.instance-id, state: $.detail.state, count: $.detail.count,
        tags: $.detail.tags, note: $.detail.note, missing: $.detail.nope})";

TEST(PayloadShaper, WithoutShapingKeysTheTargetGetsTheWholeEvent) {
  EXPECT_EQ(shape("{id: t, type: webhook}"), ec2_event);
}

TEST(PayloadShaper, InputIsAConstantFromYamlOrJsonText) {
  EXPECT_EQ(shape("{input: {action: isolate, level: 3, dry: false, none: null, q: '7'}}"),
            R"({"action":"isolate","level":3,"dry":false,"none":null,"q":"7"})");
  EXPECT_EQ(shape(R"({input: '{ "a" : [1, 2.50] }'})"), R"({"a":[1,2.50]})");
  EXPECT_EQ(shape(R"({input: '"just text"'})"), R"("just text")");
}

TEST(PayloadShaper, InputYamlScalarsHaveTheSameTypesAsInEventPatterns) {
  EXPECT_EQ(shape("{input: {hex: 0x1F, plus: +1, str: !!str 5, yes: yes, list: [1.5, ~]}}"),
            R"({"hex":31,"plus":1,"str":"5","yes":"yes","list":[1.5,null]})");
}

TEST(PayloadShaper, InputYamlThatJsonCannotHoldIsReportedWhereItIs) {
  auto problems = problems_of("{input: {a: 1,\n b: .inf, a: 2}}");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].message.rfind("input: '.inf'", 0), 0u) << problems[0].message;
  EXPECT_EQ(problems[0].line, 2);
  EXPECT_EQ(problems[0].column, 5);
  EXPECT_EQ(problems[1].message.rfind("input: duplicate key 'a'", 0), 0u) << problems[1].message;
  EXPECT_EQ(problems[1].line, 2);
}

TEST(PayloadShaper, InputMustBeJsonText) {
  auto problems = problems_of("{input: hello world}");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("input must be JSON text"), std::string::npos);
  EXPECT_EQ(problems[0].line, 1);
  EXPECT_EQ(problems[0].column, 9);
}

TEST(PayloadShaper, InputPathSelectsPartOfTheEvent) {
  EXPECT_EQ(shape("{input_path: '$.detail.tags[1]'}"), R"({"key":"Env","value":"prod"})");
  EXPECT_EQ(shape("{input_path: $.detail.state}"), R"("RUNNING")");
  EXPECT_EQ(shape("{input_path: $.detail.count}"), "3");
  EXPECT_EQ(shape("{input_path: '$.detail.tags[*].value'}"), R"(["payments","prod"])");
  EXPECT_EQ(shape("{input_path: \"$.detail['aws/securityhub/ProductName']\"}"),
            R"("Security Hub")");
  EXPECT_EQ(shape("{input_path: $.detail.aws/securityhub/ProductName}"), R"("Security Hub")");
  EXPECT_EQ(shape("{input_path: $}").substr(0, 25), R"({"version":"0","id":"7bf7)");
}

TEST(PayloadShaper, InputPathThatSelectsNothingIsAnError) {
  EXPECT_EQ(shape("{input_path: $.detail.nope}"),
            "ERROR: input_path $.detail.nope selects nothing in this event");
}

TEST(PayloadShaper, BadJsonPathsAreReportedAtLoad) {
  for (const char* yaml :
       {"{input_path: detail}", "{input_path: '$.detail[x]'}", "{input_path: '$.detail..x'}",
        "{input_path: '$.a b'}", "{input_path: '$.detail[\"unterminated]'}"}) {
    auto problems = problems_of(yaml);
    ASSERT_EQ(problems.size(), 1u) << yaml;
    EXPECT_TRUE(problems[0].message.starts_with("input_path: ")) << problems[0].message;
  }
  EXPECT_EQ(problems_of("{input_path: '$." + std::string(300, 'a') + "'}").size(), 1u);
}

TEST(PayloadShaper, OnlyOneShapingKeyIsAllowed) {
  auto problems = problems_of("{input: '{}', input_path: $.detail}");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("only one of"), std::string::npos);
}

// The examples from EventBridge's documentation of input transformation.
TEST(InputTransformer, SimpleStringTemplateKeepsItsQuotes) {
  EXPECT_EQ(transformer(common_paths, R"("instance <instance> is in <state>")"),
            R"("instance i-0123456789 is in RUNNING")");
}

TEST(InputTransformer, StringWithEscapedQuotes) {
  EXPECT_EQ(transformer(common_paths, R"("instance \"<instance>\" is in <state>")"),
            R"("instance \"i-0123456789\" is in RUNNING")");
}

TEST(InputTransformer, UnquotedPlaceholdersBecomeJsonValues) {
  EXPECT_EQ(transformer(common_paths, R"({
  "instance" : <instance>,
  "state": [ 9, <state>, true ],
  "count": <count>, "tags": <tags>, "missing": <missing>,
  "Transformed" : "Yes"
})"),
            R"({"instance":"i-0123456789","state":[9,"RUNNING",true],"count":3,)"
            R"("tags":[{"key":"Owner","value":"payments"},{"key":"Env","value":"prod"}],)"
            R"("missing":null,"Transformed":"Yes"})");
}

TEST(InputTransformer, QuotedPlaceholdersAreEscapedSoTheResultStaysJson) {
  EXPECT_EQ(
      transformer(common_paths,
                  R"({"status": "instance \"<instance>\" is in <state>", "n": "<note>",)"
                  R"( "t": "<tags>", "m": "[<missing>]"})"),
      R"({"status":"instance \"i-0123456789\" is in RUNNING","n":"say \"hi\"\nbye",)"
      R"("t":"[{\"key\":\"Owner\",\"value\":\"payments\"},{\"key\":\"Env\",\"value\":\"prod\"}]",)"
      R"("m":"[]"})");
}

TEST(InputTransformer, PlainTextTemplatesInsertValuesAsTheyAre) {
  EXPECT_EQ(transformer(common_paths, "<instance> is in state <state> (<count>) <missing>."),
            "i-0123456789 is in state RUNNING (3) .");
  EXPECT_EQ(transformer(common_paths, "note: <note>"), "note: say \"hi\"\nbye");
  EXPECT_EQ(transformer(common_paths, "a < b and <b> is literal? no: <state>"),
            "PROBLEM: input_template uses <b>, which input_paths_map does not define");
}

TEST(InputTransformer, PredefinedVariables) {
  EXPECT_EQ(transformer("{}", R"({"rule": <aws.events.rule-name>,)"
                              R"( "at": "<aws.events.event.ingestion-time>"})"),
            R"({"rule":"my-rule","at":"2015-11-11T21:29:55.123Z"})");
  const std::string original = transformer("{}", R"({"e": <aws.events.event>})");
  EXPECT_EQ(original.find(R"("detail":)"), std::string::npos) << original;
  EXPECT_NE(original.find(R"("source":"aws.ec2")"), std::string::npos) << original;
  const std::string whole = transformer("{}", R"({"e": <aws.events.event.json>})");
  EXPECT_NE(whole.find(R"("detail":{"instance-id":"i-0123456789")"), std::string::npos);
  EXPECT_NE(whole.find(R"("ratio":2.50)"), std::string::npos) << "numbers keep their spelling";
  EXPECT_EQ(transformer("{}", "<aws.events.rule-name> triggered"), "my-rule triggered");
}

TEST(InputTransformer, PlaceholdersAreCheckedWhenTheRuleLoads) {
  EXPECT_EQ(transformer("{a: $.detail}", "<b>"),
            "PROBLEM: input_template uses <b>, which input_paths_map does not define");
  EXPECT_NE(transformer("{}", "<aws.events.rule-arn>").find("does not support"), std::string::npos);
  EXPECT_NE(transformer("{}", "<aws.events.nope>").find("not a predefined variable"),
            std::string::npos);
  EXPECT_NE(transformer("{}", R"({"e": "<aws.events.event>"})").find("only be used as a JSON"),
            std::string::npos);
  EXPECT_NE(transformer("{a: $.id}", R"({<a>: 1})").find("object key"), std::string::npos);
  EXPECT_NE(transformer("{a: $.id}", R"({"x": <a> <a>})").find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(transformer("{a: $.id}", R"({"x": <a>)").find("not valid JSON"), std::string::npos);
  EXPECT_NE(transformer("{'aws.events.x': $.id}", "x").find("reserved"), std::string::npos);
  EXPECT_NE(transformer("{'a b': $.id}", "x").find("letters, digits"), std::string::npos);
  EXPECT_NE(transformer("{a: nope}", "x").find("must start with '$'"), std::string::npos);
}

TEST(InputTransformer, LimitsMatchEventBridge) {
  std::string paths = "{";
  for (int i = 0; i < 101; ++i) paths += "v" + std::to_string(i) + ": $.id,";
  paths += "}";
  EXPECT_NE(transformer(paths, "x").find("at most 100"), std::string::npos);
  EXPECT_EQ(transformer("{}", std::string(8192, 'x')), std::string(8192, 'x'));
  EXPECT_NE(transformer("{}", std::string(8193, 'x')).find("at most 8192"), std::string::npos);
  EXPECT_NE(problems_of("input_transformer: {input_paths_map: {a: $.id}}")
                .at(0)
                .message.find("needs an input_template"),
            std::string::npos);
}

TEST(InputTransformer, DiagnosticsPointAtTheOffendingNode) {
  const std::string yaml =
      "id: t\n"
      "input_transformer:\n"
      "  input_paths_map:\n"
      "    good: $.detail\n"
      "    bad: detail\n"
      "  input_template: '<good>'\n"
      "  extra: 1\n";
  auto problems = problems_of(yaml);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].file, "rules.yaml");
  EXPECT_EQ(problems[0].line, 7);
  EXPECT_EQ(problems[0].column, 3);
  EXPECT_EQ(problems[1].line, 5);
  EXPECT_EQ(problems[1].column, 10);
}

TEST(InputTransformer, WorksOnTheGuardDutyFixture) {
  std::ifstream in(EVENTROUTER_SOURCE_DIR
                   "/tests/fixtures/events/guardduty-credential-exfiltration.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string event = buffer.str();
  yaml::Node node = yaml::parse(R"(
input_transformer:
  input_paths_map: { role: $.detail.resource.accessKeyDetails.principalId,
                     tags: "$.detail.resource.instanceDetails.tags[*].value" }
  input_template: '{"role": <role>, "rule": <aws.events.rule-name>, "tags": <tags>}'
)")
                        .value();
  auto shaper = PayloadShaper::from_node(node, "r.yaml");
  ASSERT_TRUE(shaper);
  auto payload = shaper->shape(event, "guardduty-credential-exfiltration", "t");
  ASSERT_TRUE(payload) << payload.error();
  EXPECT_EQ(*payload,
            R"({"role":"AROASZCEXAMPLEROLEID:i-0b1c2d3e4f5a6b7c8",)"
            R"("rule":"guardduty-credential-exfiltration","tags":["production","payments-team"]})");
}

TEST(PayloadShaper, MalformedEventIsAnError) {
  auto result = shaper_from("{input_path: $.a}").shape("{not json", "r", "t");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace eventrouter::transform
