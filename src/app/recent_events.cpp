#include "eventrouter/app/recent_events.hpp"

#include <algorithm>

#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"
#include "query_string.hpp"

namespace eventrouter::app {

namespace {

namespace http = boost::beast::http;

constexpr std::size_t kDefaultListed = 20;

}  // namespace

RecentEvents::RecentEvents(server::EventSink& next, std::size_t max_events, std::size_t max_bytes)
    : next_(next),
      max_events_(std::min(max_events, server::kMaxRecentEvents)),
      max_bytes_(max_bytes) {}

void RecentEvents::accept(std::vector<event::Event> events, server::SinkCompletion done) {
  // Copies of the newest events of the batch (the sink takes the originals), kept once the
  // sink has recorded them: an event refused with 503 was never accepted.
  std::vector<std::shared_ptr<const Kept>> batch;
  const auto first = events.size() > max_events_ ? events.size() - max_events_ : 0;
  for (std::size_t i = first; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.json.size() > max_bytes_) continue;
    batch.push_back(std::make_shared<const Kept>(
        Kept{e.id, e.bus, e.source, e.detail_type, std::string(e.json), e.ingested_at}));
  }
  next_.accept(std::move(events), [this, batch = std::move(batch), done = std::move(done)](
                                      std::optional<server::SinkRefusal> refusal) mutable {
    if (!refusal) keep(std::move(batch));
    done(std::move(refusal));
  });
}

void RecentEvents::keep(std::vector<std::shared_ptr<const Kept>> batch) {
  std::lock_guard lock(mutex_);
  for (auto& kept : batch) {
    bytes_ += kept->json.size();
    events_.push_back(std::move(kept));
    while (events_.size() > max_events_ || bytes_ > max_bytes_) {
      bytes_ -= events_.front()->json.size();
      events_.pop_front();
    }
  }
}

std::vector<std::shared_ptr<const RecentEvents::Kept>> RecentEvents::newest(
    std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const auto count = std::min(limit, events_.size());
  return {events_.rbegin(), events_.rbegin() + static_cast<std::ptrdiff_t>(count)};
}

namespace {

template <typename Kept>
void append_summary(std::string& out, const Kept& kept) {
  json::append_key(out, "id", true);
  json::append_string(out, kept.id);
  json::append_key(out, "bus");
  json::append_string(out, kept.bus);
  json::append_key(out, "source");
  json::append_string(out, kept.source);
  json::append_key(out, "detail-type");
  json::append_string(out, kept.detail_type);
  json::append_key(out, "received_at");
  json::append_string(out, format_rfc3339_millis(kept.received_at));
}

}  // namespace

server::Response RecentEvents::answer(std::string_view target) const {
  std::size_t limit = kDefaultListed;
  auto pairs = parse_query(query_of(target));
  if (!pairs) {
    return server::json_error(http::status::bad_request, "InvalidQuery", pairs.error());
  }
  for (const auto& [key, value] : *pairs) {
    if (key != "limit") {
      return server::json_error(http::status::bad_request, "InvalidQuery",
                                "unknown query parameter '" + key + "'; use limit");
    }
    auto parsed = parse_limit(value, server::kMaxRecentEvents);
    if (!parsed)
      return server::json_error(http::status::bad_request, "InvalidQuery", parsed.error());
    limit = *parsed;
  }
  std::string body = R"({"events":[)";
  bool first = true;
  for (const auto& kept : newest(limit)) {
    if (!first) body += ",";
    first = false;
    body += "{";
    append_summary(body, *kept);
    json::append_key(body, "event");
    body += kept->json;  // the normalised envelope: valid, minified JSON
    body += "}";
  }
  body += "]}";
  return server::json_response(http::status::ok, std::move(body));
}

Expected<std::string, server::PatternTestError> RecentEvents::match(std::string_view pattern,
                                                                    std::size_t limit) const {
  auto compiled = pattern::compile(pattern);
  if (!compiled) {
    return unexpected(server::PatternTestError{server::PatternTestError::Kind::kInvalidPattern,
                                               compiled.error()});
  }
  const auto events = newest(limit);
  std::string body = R"({"examined":)" + std::to_string(events.size()) + R"(,"matched":[)";
  bool first = true;
  for (const auto& kept : events) {
    auto matched = pattern::matches(*compiled, kept->json);
    if (!matched || !*matched) continue;
    if (!first) body += ",";
    first = false;
    body += "{";
    append_summary(body, *kept);
    body += "}";
  }
  body += "]}";
  return body;
}

}  // namespace eventrouter::app
