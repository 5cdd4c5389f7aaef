#include "storm_digest.hpp"

#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::delivery {

std::string storm_digest_json(const DigestReady& digest, const std::string& id,
                              std::chrono::system_clock::time_point time) {
  const StormSummary& s = digest.summary;
  std::string out = "{";
  json::append_key(out, "version", true);
  json::append_string(out, "0");
  json::append_key(out, "id");
  json::append_string(out, id);
  json::append_key(out, "detail-type");
  json::append_string(out, "Eventrouter Storm Digest");
  json::append_key(out, "source");
  json::append_string(out, "eventrouter");
  json::append_key(out, "account");
  json::append_string(out, s.account);
  json::append_key(out, "time");
  json::append_string(out, format_rfc3339(time));
  json::append_key(out, "region");
  json::append_string(out, s.region);
  json::append_key(out, "resources");
  out += "[]";
  json::append_key(out, "detail");
  out += '{';
  json::append_key(out, "rule", true);
  json::append_string(out, digest.rule);
  json::append_key(out, "window_start");
  json::append_string(out, format_rfc3339_millis(s.window_start));
  json::append_key(out, "window_end");
  json::append_string(out, format_rfc3339_millis(s.window_end));
  json::append_key(out, "delivered");
  out += std::to_string(s.delivered);
  json::append_key(out, "held");
  out += std::to_string(s.held);
  json::append_key(out, "first_held_event_id");
  json::append_string(out, s.first_held_event_id);
  json::append_key(out, "last_held_event_id");
  json::append_string(out, s.last_held_event_id);
  json::append_key(out, "distinct");
  out += '{';
  if (!digest.digest_field.empty()) {
    json::append_key(out, digest.digest_field, true);
    out += '[';
    bool first = true;
    for (const auto& value : s.distinct) {
      if (!first) out += ',';
      first = false;
      out += value;  // JSON text already, at most kMaxDigestValueBytes
    }
    out += ']';
  }
  out += '}';
  json::append_key(out, "distinct_truncated");
  out += s.distinct_truncated ? "true" : "false";
  out += "}}";
  return out;
}

}  // namespace eventrouter::delivery
