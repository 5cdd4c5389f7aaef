#include "eventrouter/event/envelope.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>

namespace eventrouter::event {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(EVENTROUTER_SOURCE_DIR) + "/tests/fixtures/events/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

simdjson::dom::element parse(const std::string& json) {
  static simdjson::dom::parser parser;
  return parser.parse(json).value();
}

TEST(EventsRequest, KeepsAFullEnvelopeAsGiven) {
  const auto body = fixture("guardduty-credential-exfiltration.json");
  auto entries = parse_events_request(body, "default", {});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  ASSERT_TRUE((*entries)[0]);
  const Event& event = (*entries)[0].value();
  EXPECT_EQ(event.id, "c8c4daa7-a20c-2f03-0070-b7393dd542ad");
  EXPECT_EQ(event.source, "aws.guardduty");
  EXPECT_EQ(event.detail_type, "GuardDuty Finding");
  EXPECT_EQ(event.time, "2026-11-20T14:02:11Z");
  EXPECT_EQ(event.bus, "default");
  auto json = parse(event.json);
  EXPECT_EQ(std::string_view(json["account"]), "123456789012");
  EXPECT_EQ(int64_t(json["detail"]["severity"]), 8);
  EXPECT_EQ(simdjson::minify(json["detail"]), simdjson::minify(parse(body)["detail"]));
}

TEST(EventsRequest, FillsMissingFieldsAsEventBridgeDoes) {
  auto entries = parse_events_request(
      R"({"source":"custom.scanner","detail-type":"Scan Finding","detail":{"n":1}})", "ops", {});
  ASSERT_TRUE(entries);
  const Event& event = (*entries)[0].value();
  EXPECT_EQ(event.id.size(), 36u);
  EXPECT_EQ(event.id[14], '4') << "a version 4 UUID";
  EXPECT_EQ(event.bus, "ops");
  auto json = parse(event.json);
  EXPECT_EQ(std::string_view(json["version"]), "0");
  EXPECT_EQ(std::string_view(json["account"]), "000000000000");
  EXPECT_EQ(std::string_view(json["region"]), "us-east-1");
  EXPECT_EQ(simdjson::dom::array(json["resources"]).size(), 0u);
  EXPECT_EQ(std::string_view(json["time"]).size(), 20u);
  EXPECT_EQ(std::string_view(json["time"]).back(), 'Z');
}

TEST(EventsRequest, KeepsTheProducersNumberSpellingInDetail) {
  auto entries = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{ "a" : 3.018e2, "b": [1.50, -0.0e-0] }})",
      "default", {});
  ASSERT_TRUE(entries);
  const std::string& json = (*entries)[0].value().json;
  EXPECT_NE(json.find(R"("detail":{"a":3.018e2,"b":[1.50,-0.0e-0]})"), std::string::npos) << json;
}

TEST(EventsRequest, NormalisesTimeToUtcSeconds) {
  auto entries = parse_events_request(
      R"({"source":"s","detail-type":"d","time":"2026-11-20T16:02:11.411+02:00","detail":{}})",
      "default", {});
  EXPECT_EQ((*entries)[0].value().time, "2026-11-20T14:02:11Z");
}

TEST(EventsRequest, AnArrayGivesOneEntryPerEventInOrder) {
  auto entries = parse_events_request(
      R"([{"source":"a","detail-type":"d","detail":{"i":1}},
          {"source":"b","detail-type":"d"},
          42,
          {"source":"c","detail-type":"d","detail":{"i":3}}])",
      "default", {});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].value().source, "a");
  EXPECT_EQ((*entries)[1].error().code, "InvalidArgument");
  EXPECT_NE((*entries)[1].error().message.find("detail is required"), std::string::npos);
  EXPECT_EQ((*entries)[2].error().code, "InvalidArgument");
  EXPECT_EQ((*entries)[3].value().source, "c");
  EXPECT_NE((*entries)[3].value().json.find(R"("detail":{"i":3})"), std::string::npos);
}

struct BadEntry {
  const char* body;
  const char* code;
  const char* message_part;
};

class BadEntries : public testing::TestWithParam<BadEntry> {};

TEST_P(BadEntries, AreRefusedWithAReason) {
  auto entries = parse_events_request(GetParam().body, "default", {});
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_FALSE((*entries)[0]);
  EXPECT_EQ((*entries)[0].error().code, GetParam().code);
  EXPECT_NE((*entries)[0].error().message.find(GetParam().message_part), std::string::npos)
      << (*entries)[0].error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Envelope, BadEntries,
    testing::Values(
        BadEntry{R"({"detail-type":"d","detail":{}})", "InvalidArgument", "source is required"},
        BadEntry{R"({"source":"","detail-type":"d","detail":{}})", "InvalidArgument",
                 "source is required"},
        BadEntry{R"({"source":"s","detail":{}})", "InvalidArgument", "detail-type is required"},
        BadEntry{R"({"source":7,"detail-type":"d","detail":{}})", "InvalidArgument",
                 "source must be a string"},
        BadEntry{R"({"source":"s","detail-type":"d","detail":"x"})", "MalformedDetail",
                 "detail must be a JSON object"},
        BadEntry{R"({"source":"s","detail-type":"d","detail":[1]})", "MalformedDetail",
                 "detail must be a JSON object"},
        BadEntry{R"({"source":"s","detail-type":"d","detail":{},"resources":"arn"})",
                 "InvalidArgument", "resources must be an array of strings"},
        BadEntry{R"({"source":"s","detail-type":"d","detail":{},"time":"yesterday"})",
                 "InvalidArgument", "RFC 3339"},
        BadEntry{R"({"source":"s","detail-type":"d","detail":{},"detailType":"x"})",
                 "InvalidArgument", "unknown field \"detailType\""}));

TEST(EventsRequest, RefusesAnEventOverTheSizeLimit) {
  EnvelopeOptions options;
  options.max_event_bytes = 300;
  std::string body =
      R"({"source":"s","detail-type":"d","detail":{"x":")" + std::string(400, 'a') + "\"}}";
  auto entries = parse_events_request(body, "default", options);
  ASSERT_TRUE(entries);
  ASSERT_FALSE((*entries)[0]);
  EXPECT_NE((*entries)[0].error().message.find("limits.max_event_bytes"), std::string::npos);
}

TEST(EventsRequest, MalformedJsonSaysWhere) {
  auto result = parse_events_request(R"({"source": "s", "detail": {,}})", "default", {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "MalformedJSON");
  EXPECT_NE(result.error().message.find("at byte 27"), std::string::npos) << result.error().message;
}

TEST(EventsRequest, RefusesNumbersOutOfRangeClearly) {
  auto result = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{"n":12345678901234567890123}})", "default", {});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("integers must fit in 64 bits"), std::string::npos);
}

TEST(EventsRequest, RefusesBadBodies) {
  EXPECT_EQ(parse_events_request("[]", "default", {}).error().code, "InvalidRequest");
  EXPECT_EQ(parse_events_request("\"x\"", "default", {}).error().code, "InvalidRequest");
  EXPECT_EQ(parse_events_request("", "default", {}).error().code, "MalformedJSON");
  EXPECT_EQ(parse_events_request("{\"source\":\"\xff\"}", "default", {}).error().code,
            "InvalidUTF8");
}

TEST(EventsRequest, RefusesNestingDeeperThanTheLimit) {
  auto nested = [](std::size_t depth) {
    return R"({"source":"s","detail-type":"d","detail":)" + std::string(depth - 1, '[') +
           std::string(depth - 1, ']') + "}";
  };
  // The envelope object is level 1; the detail adds depth - 1 more.
  EXPECT_EQ(parse_events_request(nested(max_json_depth + 1), "default", {}).error().code,
            "TooDeep");
  auto ok = parse_events_request(R"({"source":"s","detail-type":"d","detail":{"a":)" +
                                     std::string(997, '[') + std::string(997, ']') + "}}",
                                 "default", {});
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(PutEventsRequest, AcceptsTheAwsShape) {
  auto entries = parse_put_events_request(
      R"({"Entries":[{"Source":"aws.guardduty","DetailType":"GuardDuty Finding",
          "Detail":"{\"severity\": 8}","Resources":["arn:aws:ec2:us-east-1:1:instance/i-1"],
          "Time":1795701731.5,"EventBusName":"arn:aws:events:us-east-1:123456789012:event-bus/security"}]})",
      "default", {});
  ASSERT_TRUE(entries) << entries.error().message;
  const Event& event = (*entries)[0].value();
  EXPECT_EQ(event.bus, "security");
  EXPECT_EQ(event.time, "2026-11-26T14:02:11Z");
  EXPECT_NE(event.json.find(R"("resources":["arn:aws:ec2:us-east-1:1:instance/i-1"])"),
            std::string::npos);
  EXPECT_NE(event.json.find(R"("detail":{"severity":8})"), std::string::npos) << event.json;
}

TEST(PutEventsRequest, ReportsPerEntryErrorsAsAwsDoes) {
  auto entries = parse_put_events_request(
      R"({"Entries":[{"Source":"s","DetailType":"d","Detail":"{not json"},
                     {"DetailType":"d","Detail":"{}"},
                     {"Source":"s","DetailType":"d","Detail":"[1]"},
                     {"Source":"s","DetailType":"d","Detail":"{}"}]})",
      "default", {});
  ASSERT_TRUE(entries);
  EXPECT_EQ((*entries)[0].error().code, "MalformedDetail");
  EXPECT_EQ((*entries)[1].error().code, "InvalidArgument");
  EXPECT_NE((*entries)[1].error().message.find("Source is a required argument"), std::string::npos);
  EXPECT_EQ((*entries)[2].error().code, "MalformedDetail");
  EXPECT_TRUE((*entries)[3]);
}

TEST(PutEventsRequest, NeedsOneToTenEntries) {
  EXPECT_EQ(parse_put_events_request(R"({"Entries":[]})", "default", {}).error().code,
            "ValidationException");
  EXPECT_EQ(parse_put_events_request(R"({})", "default", {}).error().code, "ValidationException");
  std::string eleven = R"({"Entries":[)";
  for (int i = 0; i < 11; ++i)
    eleven += std::string(i ? "," : "") + R"({"Source":"s","DetailType":"d","Detail":"{}"})";
  eleven += "]}";
  EXPECT_EQ(parse_put_events_request(eleven, "default", {}).error().code, "ValidationException");
}

TEST(BusNames, FollowEventBridgeCharacters) {
  EXPECT_TRUE(is_valid_bus_name("default"));
  EXPECT_TRUE(is_valid_bus_name("security.findings-prod_1"));
  EXPECT_FALSE(is_valid_bus_name(""));
  EXPECT_FALSE(is_valid_bus_name("has space"));
  EXPECT_FALSE(is_valid_bus_name(std::string(257, 'a')));
}

}  // namespace
}  // namespace eventrouter::event
