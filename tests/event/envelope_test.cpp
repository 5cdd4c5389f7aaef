#include "eventrouter/event/envelope.hpp"
#include "eventrouter/util/bus_name.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

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

// JSON numbers have no range, and EventBridge takes any JSON detail: numbers past 64-bit
// integers or the double range are kept as written.
TEST(EventsRequest, KeepsNumbersPastTheDoubleRange) {
  auto entries = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{"n":12345678901234567890123,"m":[1e400,-1e-400]}})",
      "default", {});
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_TRUE((*entries)[0]) << (*entries)[0].error().message;
  EXPECT_NE((*entries)[0].value().json.find(
                R"("detail":{"n":12345678901234567890123,"m":[1e400,-1e-400]})"),
            std::string::npos)
      << (*entries)[0].value().json;
  // Such a number where the envelope wants a string is still refused, as any number there is.
  auto bad_time = parse_events_request(
      R"({"source":"s","detail-type":"d","time":1e400,"detail":{}})", "default", {});
  ASSERT_TRUE(bad_time);
  EXPECT_FALSE((*bad_time)[0]);
}

TEST(EventsRequest, RefusesMalformedNumbersClearly) {
  for (const char* number : {"01", "1.", "-", "1e", "1e400.5"}) {
    auto result = parse_events_request(
        std::string(R"({"source":"s","detail-type":"d","detail":{"n":)") + number + "}}", "default",
        {});
    ASSERT_FALSE(result) << number;
    EXPECT_EQ(result.error().code, "MalformedJSON") << number;
  }
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
  EXPECT_EQ(parse_events_request(nested(kMaxJsonDepth + 1), "default", {}).error().code, "TooDeep");
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

TEST(PutEventsRequest, KeepsNumbersPastTheDoubleRangeInDetail) {
  auto entries = parse_put_events_request(
      R"({"Entries":[{"Source":"s","DetailType":"d","Detail":"{\"count\": 100000000000000000000, \"x\": 1e400}"}]})",
      "default", {});
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_TRUE((*entries)[0]) << (*entries)[0].error().message;
  EXPECT_NE((*entries)[0].value().json.find(R"("count":100000000000000000000)"), std::string::npos)
      << (*entries)[0].value().json;
  // Time as a number past the double range is no time: refused as before.
  auto bad_time = parse_put_events_request(
      R"({"Entries":[{"Source":"s","DetailType":"d","Detail":"{}","Time":1e400}]})", "default", {});
  ASSERT_TRUE(bad_time);
  EXPECT_FALSE((*bad_time)[0]);
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
  EXPECT_TRUE(is_valid_bus_name("aws.partner/example.com/123/findings"));
}

// Every field that reaches a header, an environment or a log line: no control characters, and
// EventBridge's lengths. Both request formats refuse the same things.
struct FieldCase {
  std::string own_key, aws_key;  // aws_key empty: PutEvents has no such member
  std::size_t limit;
};

std::string own_event(const std::string& key, const std::string& value) {
  std::string body = R"({"source":"s","detail-type":"d","detail":{})";
  std::string quoted = "\"";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
      quoted += escaped;
    } else {
      quoted.push_back(c);
    }
  }
  quoted += "\"";
  // A later duplicate would be refused as such; replace the member instead.
  if (key == "source" || key == "detail-type") {
    body = R"({"detail":{})";
    if (key != "source") body += R"(,"source":"s")";
    if (key != "detail-type") body += R"(,"detail-type":"d")";
  }
  return body + ",\"" + key + "\":" + quoted + "}";
}

TEST(EnvelopeFields, ControlCharactersAreRefusedInEveryHeaderBoundField) {
  for (const std::string key : {"id", "source", "detail-type", "account", "region", "version"}) {
    for (const std::string& bad :
         {std::string("x\r\nContent-Length: 0"), std::string("a\nb"), std::string("tab\there"),
          std::string("nul\0x", 5), std::string("del\x7f")}) {
      auto entries = parse_events_request(own_event(key, bad), "default", {});
      ASSERT_TRUE(entries) << key;
      ASSERT_FALSE((*entries)[0]) << key << " accepted a control character";
      EXPECT_EQ((*entries)[0].error().code, "InvalidArgument");
      EXPECT_NE((*entries)[0].error().message.find(key + " contains the control character"),
                std::string::npos)
          << (*entries)[0].error().message;
    }
  }
}

TEST(EnvelopeFields, LengthsFollowEventBridge) {
  const std::vector<FieldCase> cases = {{"id", "", 256},
                                        {"source", "Source", 256},
                                        {"detail-type", "DetailType", 128},
                                        {"account", "", 64},
                                        {"region", "", 64}};
  for (const auto& c : cases) {
    // Characters, not bytes: a two-byte character counts once.
    const std::string at_limit = std::string(c.limit - 1, 'a') + "\xc3\xa9";
    auto ok = parse_events_request(own_event(c.own_key, at_limit), "default", {});
    ASSERT_TRUE(ok && (*ok)[0]) << c.own_key << ": " << (*ok)[0].error().message;
    auto over =
        parse_events_request(own_event(c.own_key, std::string(c.limit + 1, 'a')), "default", {});
    ASSERT_FALSE((*over)[0]) << c.own_key;
    EXPECT_NE((*over)[0].error().message.find("the limit is " + std::to_string(c.limit)),
              std::string::npos)
        << (*over)[0].error().message;
    if (c.aws_key.empty()) continue;
    const std::string entry = c.aws_key == "Source"
                                  ? R"({"Entries":[{"DetailType":"d","Detail":"{}","Source":")" +
                                        std::string(c.limit + 1, 'a') + R"("}]})"
                                  : R"({"Entries":[{"Source":"s","Detail":"{}","DetailType":")" +
                                        std::string(c.limit + 1, 'a') + R"("}]})";
    auto aws = parse_put_events_request(entry, "default", {});
    ASSERT_TRUE(aws);
    ASSERT_FALSE((*aws)[0]) << c.aws_key;
    EXPECT_NE((*aws)[0].error().message.find(c.aws_key + " is"), std::string::npos);
  }
}

TEST(EnvelopeFields, ResourcesAreBoundedInCountLengthAndCharacters) {
  std::string many = R"({"source":"s","detail-type":"d","detail":{},"resources":[)";
  for (int i = 0; i < 101; ++i)
    many += std::string(i ? "," : "") + "\"arn:r" + std::to_string(i) + "\"";
  many += "]}";
  auto entries = parse_events_request(many, "default", {});
  ASSERT_FALSE((*entries)[0]);
  EXPECT_NE((*entries)[0].error().message.find("the limit is 100"), std::string::npos);

  auto broken = parse_put_events_request(
      R"({"Entries":[{"Source":"s","DetailType":"d","Detail":"{}","Resources":["ok","a\r\nb"]}]})",
      "default", {});
  ASSERT_FALSE((*broken)[0]);
  EXPECT_NE((*broken)[0].error().message.find("Resources[1] contains the control character"),
            std::string::npos)
      << (*broken)[0].error().message;
}

TEST(DuplicateKeys, AreRefusedAnywhereInTheEventNamingTheKey) {
  auto top = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{},"source":"other"})", "default", {});
  ASSERT_FALSE((*top)[0]);
  EXPECT_NE((*top)[0].error().message.find("\"source\" appears more than once in the event"),
            std::string::npos)
      << (*top)[0].error().message;

  auto nested = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{"userName":"decoy","userName":"break-glass-admin"}})",
      "default", {});
  ASSERT_FALSE((*nested)[0]) << "anything-but bypass: the second userName must not slip through";
  EXPECT_NE((*nested)[0].error().message.find("\"userName\" appears more than once in the "
                                              "object at detail"),
            std::string::npos)
      << (*nested)[0].error().message;

  // Deep inside arrays, and in objects with many keys (the sorted path).
  std::string wide = R"({"source":"s","detail-type":"d","detail":{"list":[1,{"deep":{)";
  for (int i = 0; i < 40; ++i) wide += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  wide += R"("k7":0}}]}})";
  auto deep = parse_events_request(wide, "default", {});
  ASSERT_FALSE((*deep)[0]);
  EXPECT_NE((*deep)[0].error().message.find("\"k7\" appears more than once in the object at "
                                            "detail.list.deep"),
            std::string::npos)
      << (*deep)[0].error().message;

  // The same key in sibling objects is no duplicate.
  auto siblings = parse_events_request(
      R"({"source":"s","detail-type":"d","detail":{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}})",
      "default", {});
  EXPECT_TRUE((*siblings)[0]);

  auto aws = parse_put_events_request(
      R"({"Entries":[{"Source":"s","DetailType":"d","Detail":"{\"user\":{\"n\":1,\"n\":2}}"}]})",
      "default", {});
  ASSERT_FALSE((*aws)[0]);
  EXPECT_NE((*aws)[0].error().message.find("\"n\" appears more than once in the object at "
                                           "detail.user"),
            std::string::npos)
      << (*aws)[0].error().message;
}

}  // namespace
}  // namespace eventrouter::event
