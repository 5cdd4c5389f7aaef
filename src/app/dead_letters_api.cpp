#include "dead_letters_api.hpp"

#include <algorithm>

#include "eventrouter/util/json_writer.hpp"
#include "query_string.hpp"

namespace eventrouter::app {

namespace {

namespace http = boost::beast::http;

constexpr std::size_t kDefaultLimit = 100, kMaxLimit = 1000;

server::Response bad_query(std::string_view message) {
  return server::json_error(http::status::bad_request, "InvalidQuery", message);
}

void append_record(std::string& out, const DeadLetterRecord& record) {
  out += "{";
  json::append_key(out, "time", true);
  json::append_string(out, record.time);
  json::append_key(out, "rule");
  json::append_string(out, record.rule);
  json::append_key(out, "target");
  json::append_string(out, record.target);
  json::append_key(out, "event_id");
  json::append_string(out, record.event_id);
  json::append_key(out, "error_code");
  json::append_string(out, record.error_code);
  json::append_key(out, "exhausted_retry_condition");
  json::append_string(out, record.exhausted_retry_condition);
  json::append_key(out, "retry_attempts");
  out += std::to_string(record.retry_attempts);
  json::append_key(out, "record");
  out += record.raw;  // a JSON object: the listing kept only lines that parse as one
  out += "}";
}

}  // namespace

server::Response answer_dead_letters(const DeadLetterReader& read, std::string_view target) {
  DeadLetterFilter filter;
  std::size_t limit = kDefaultLimit;
  auto pairs = parse_query(query_of(target));
  if (!pairs) return bad_query(pairs.error());
  for (auto& [key, value] : *pairs) {
    if (key == "rule") {
      filter.rule = std::move(value);
    } else if (key == "target") {
      filter.target = std::move(value);
    } else if (key == "limit") {
      auto parsed = parse_limit(value, kMaxLimit);
      if (!parsed) return bad_query(parsed.error());
      limit = *parsed;
    } else {
      return bad_query("unknown query parameter '" + key + "'; use rule, target, limit");
    }
  }
  filter.keep_newest = limit;  // the answer's memory stays bounded whatever the files hold
  auto listing = read(filter);
  if (!listing) {
    return server::json_error(http::status::service_unavailable, "DeadLettersUnavailable",
                              listing.error());
  }
  auto& records = listing->records;
  // Times are RFC 3339 in UTC with the same precision, so their text sorts as they do.
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.time > b.time; });
  std::string body = R"({"dead_letters":[)";
  for (std::size_t i = 0; i < records.size() && i < limit; ++i) {
    if (i > 0) body += ",";
    append_record(body, records[i]);
  }
  body += "]";
  json::append_key(body, "total");
  body += std::to_string(listing->matched);
  json::append_key(body, "malformed");
  body += std::to_string(listing->malformed);
  json::append_key(body, "unreadable");
  body += std::to_string(listing->unreadable);
  body += "}";
  return server::json_response(http::status::ok, std::move(body));
}

}  // namespace eventrouter::app
