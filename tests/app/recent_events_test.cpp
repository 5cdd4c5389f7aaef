#include "eventrouter/app/recent_events.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace eventrouter::app {
namespace {

// A sink that records nothing and answers as told: accepted, or refused as a full journal is.
class AnsweringSink : public server::EventSink {
 public:
  bool refuse = false;
  void accept(std::vector<event::Event>, server::SinkCompletion done) override {
    if (refuse)
      return done(server::SinkRefusal{503, "Overloaded", "full", std::chrono::seconds(1)});
    done(std::nullopt);
  }
};

event::Event make_event(const std::string& id, std::size_t padding = 0) {
  event::Event e;
  e.id = id;
  e.bus = "default";
  e.source = "test";
  e.detail_type = "Finding";
  e.json = R"({"id":")" + id + R"(","source":"test","detail":{"pad":")" +
           std::string(padding, 'x') + R"("}})";
  return e;
}

std::vector<std::string> listed_ids(const RecentEvents& recent) {
  const auto response = recent.answer("/recent-events?limit=100");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(response.body()).value();
  std::vector<std::string> ids;
  simdjson::dom::array events = root["events"].get_array().value();
  for (auto e : events) ids.emplace_back(std::string_view(e["id"].get_string().value()));
  return ids;
}

void send(RecentEvents& recent, std::vector<event::Event> events) {
  recent.accept(std::move(events), [](std::optional<server::SinkRefusal>) {});
}

TEST(RecentEvents, KeepsTheNewestWithinTheirCountAndBytes) {
  AnsweringSink sink;
  RecentEvents recent(sink, 3, 300);
  send(recent, {make_event("a"), make_event("b")});
  send(recent, {make_event("c"), make_event("d")});
  EXPECT_EQ(listed_ids(recent), (std::vector<std::string>{"d", "c", "b"}));
  send(recent, {make_event("big", 220)});  // ~270 bytes: only it and nothing older fits
  EXPECT_EQ(listed_ids(recent), (std::vector<std::string>{"big"}));
  send(recent, {make_event("huge", 400)});  // larger than the whole bound: never kept
  EXPECT_EQ(listed_ids(recent), (std::vector<std::string>{"big"}));
}

TEST(RecentEvents, KeepsNothingTheSinkRefused) {
  AnsweringSink sink;
  RecentEvents recent(sink);
  sink.refuse = true;
  bool refused = false;
  recent.accept({make_event("a")},
                [&](std::optional<server::SinkRefusal> refusal) { refused = refusal.has_value(); });
  EXPECT_TRUE(refused);  // the refusal reaches the request
  EXPECT_TRUE(listed_ids(recent).empty());
}

TEST(RecentEvents, TellsWhichMatchAPattern) {
  AnsweringSink sink;
  RecentEvents recent(sink);
  send(recent, {make_event("a"), make_event("b", 3)});
  auto matched = recent.match(R"({"detail":{"pad":["xxx"]}})", 100);
  ASSERT_TRUE(matched.has_value());
  EXPECT_NE(matched->find(R"("examined":2)"), std::string::npos) << *matched;
  EXPECT_NE(matched->find(R"("id":"b")"), std::string::npos) << *matched;
  EXPECT_EQ(matched->find(R"("id":"a")"), std::string::npos) << *matched;
  auto invalid = recent.match(R"({"detail":{"pad":"xxx"}})", 100);
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().kind, server::PatternTestError::Kind::kInvalidPattern);
  EXPECT_TRUE(invalid.error().message.starts_with("Event pattern is not valid. Reason:"));
}

}  // namespace
}  // namespace eventrouter::app
