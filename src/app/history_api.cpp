#include "history_api.hpp"

#include "query_string.hpp"

#include <charconv>
#include <string>

#include "eventrouter/config/duration.hpp"
#include "eventrouter/net/hmac.hpp"
#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"
#include "eventrouter/util/utf8.hpp"

namespace eventrouter::app {
namespace {

namespace http = boost::beast::http;

constexpr std::size_t kMaxEventId = 256;
constexpr std::string_view kQueryKeys = "since, until, rule, outcome, bus, limit, before";

// An RFC 3339 time, or a duration back from `now`.
std::optional<delivery::EpochMillis> read_time(std::string_view text,
                                               std::chrono::system_clock::time_point now) {
  if (auto when = parse_rfc3339(text)) return delivery::to_epoch_millis(*when);
  if (auto ago = config::parse_duration(text)) return delivery::to_epoch_millis(now - *ago);
  return std::nullopt;
}

std::string millis_text(delivery::EpochMillis millis) {
  return format_rfc3339_millis(delivery::from_epoch_millis(millis));
}

void append_reception(std::string& out, const delivery::Journey& journey, bool with_steps) {
  const auto& r = journey.reception;
  out += "{";
  json::append_key(out, "event_id", true);
  json::append_string(out, r.event_id);
  json::append_key(out, "received_at");
  json::append_string(out, millis_text(r.received_at));
  json::append_key(out, "bus");
  json::append_string(out, r.bus);
  json::append_key(out, "source");
  json::append_string(out, r.source);
  json::append_key(out, "detail_type");
  json::append_string(out, r.detail_type);
  json::append_key(out, "size");
  out += std::to_string(r.size);
  json::append_key(out, "origin");
  json::append_string(out, r.origin);
  json::append_key(out, "rules");
  out += "[";
  for (std::size_t i = 0; i < r.rules.size(); ++i) {
    if (i > 0) out += ",";
    json::append_string(out, r.rules[i]);
  }
  out += "]";
  json::append_key(out, "deliveries");
  out += std::to_string(r.deliveries);
  json::append_key(out, "delivered");
  out += std::to_string(journey.delivered);
  json::append_key(out, "failed");
  out += std::to_string(journey.failed);
  json::append_key(out, "outcome");
  json::append_string(out, journey.outcome);
  if (with_steps) {
    json::append_key(out, "steps");
    out += "[";
    for (std::size_t i = 0; i < journey.steps.size(); ++i) {
      const auto& s = journey.steps[i];
      if (i > 0) out += ",";
      out += "{";
      json::append_key(out, "at", true);
      json::append_string(out, millis_text(s.at));
      json::append_key(out, "kind");
      json::append_string(out, s.kind);
      json::append_key(out, "rule");
      json::append_string(out, s.rule);
      json::append_key(out, "target");
      json::append_string(out, s.target);
      json::append_key(out, "attempt");
      out += std::to_string(s.attempt);
      if (!s.error_code.empty()) {
        json::append_key(out, "error_code");
        json::append_string(out, s.error_code);
        json::append_key(out, "error");
        json::append_string(out, s.error);
      }
      if (s.status) {
        json::append_key(out, "status");
        out += std::to_string(*s.status);
      }
      if (s.duration_us >= 0) {
        json::append_key(out, "duration_ms");
        out +=
            std::to_string(s.duration_us / 1000) + "." + std::to_string(s.duration_us % 1000 / 100);
      }
      if (!s.output.empty()) {
        json::append_key(out, "output");
        json::append_string(out, s.output);
      }
      out += "}";
    }
    out += "]";
  }
  out += "}";
}

server::Response bad_request(std::string_view message) {
  return server::json_error(http::status::bad_request, "InvalidHistoryQuery", message);
}

server::Response event_journey(delivery::History& history, std::string_view encoded_id) {
  auto id = percent_decode(encoded_id);
  if (!id || id->empty() || id->size() > kMaxEventId) {
    return bad_request("give an event id of 1 to 256 characters, percent-encoded: /events/{id}");
  }
  const auto journeys = history.journeys(*id);
  if (journeys.empty()) {
    return server::json_error(http::status::not_found, "EventNotFound",
                              "no history of this event: it was never received, or it is older "
                              "than history.max_age or beyond history.max_bytes");
  }
  std::string body = "{";
  json::append_key(body, "event_id", true);
  json::append_string(body, to_valid_utf8(*id));
  json::append_key(body, "receptions");
  body += "[";
  for (std::size_t i = 0; i < journeys.size(); ++i) {
    if (i > 0) body += ",";
    append_reception(body, journeys[i], true);
  }
  body += "]}";
  return server::json_response(http::status::ok, std::move(body));
}

}  // namespace

Expected<delivery::HistoryQuery, std::string> parse_history_query(
    std::string_view query, std::chrono::system_clock::time_point now) {
  delivery::HistoryQuery out;
  auto pairs = parse_query(query);
  if (!pairs) return unexpected(pairs.error());
  for (const auto& [key, text] : *pairs) {
    const std::string* value = &text;
    if (key == "since" || key == "until") {
      auto when = read_time(*value, now);
      if (!when) {
        return unexpected(key + " must be an RFC 3339 time (2026-12-06T15:00:00Z) or how long " +
                          "ago (15m, 2h, 7d)");
      }
      (key == "since" ? out.since : out.until) = *when;
    } else if (key == "rule") {
      out.rule = *value;
    } else if (key == "bus") {
      out.bus = *value;
    } else if (key == "outcome") {
      if (*value != "unmatched" && *value != "suppressed" && *value != "pending" &&
          *value != "delivered" && *value != "failed") {
        return unexpected(
            std::string("outcome must be unmatched, suppressed, pending, delivered or failed"));
      }
      out.outcome = *value;
    } else if (key == "limit") {
      auto limit = parse_limit(*value, 1000);
      if (!limit) return unexpected(limit.error());
      out.limit = *limit;
    } else if (key == "before") {
      std::int64_t number = 0;
      const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
      if (ec != std::errc() || end != value->data() + value->size() || number < 1) {
        return unexpected(std::string("before must be the `next` of an earlier page"));
      }
      out.before = number;
    } else {
      return unexpected("unknown query parameter '" + key + "'; use " + std::string(kQueryKeys));
    }
  }
  if (out.since >= out.until) return unexpected(std::string("since must be earlier than until"));
  return out;
}

server::Response answer_history(delivery::History& history, std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  constexpr std::string_view prefix = "/events/";
  if (path.starts_with(prefix)) return event_journey(history, path.substr(prefix.size()));
  auto parsed = parse_history_query(query_of(target), std::chrono::system_clock::now());
  if (!parsed) return bad_request(parsed.error());
  const auto page = history.list(*parsed);
  std::string body = "{";
  json::append_key(body, "events", true);
  body += "[";
  for (std::size_t i = 0; i < page.journeys.size(); ++i) {
    if (i > 0) body += ",";
    append_reception(body, page.journeys[i], false);
  }
  body += "]";
  json::append_key(body, "next");
  body += page.next ? std::to_string(page.next) : "null";
  body += "}";
  return server::json_response(http::status::ok, std::move(body));
}

}  // namespace eventrouter::app
