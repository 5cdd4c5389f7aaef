#include "envelope_builder.hpp"

#include <simdjson.h>

#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::event::detail {

std::string build_envelope(const EnvelopeFields& f) {
  std::string out;
  std::size_t estimate = 160 + f.id.size() + f.detail_type.size() + f.source.size() +
                         f.account.size() + f.time.size() + f.region.size() + f.detail_raw.size();
  for (auto r : f.resources) estimate += r.size() + 8;
  out.reserve(estimate + simdjson::SIMDJSON_PADDING);

  out.push_back('{');
  json::append_key(out, "version", true);
  json::append_string(out, f.version);
  json::append_key(out, "id");
  json::append_string(out, f.id);
  json::append_key(out, "detail-type");
  json::append_string(out, f.detail_type);
  json::append_key(out, "source");
  json::append_string(out, f.source);
  json::append_key(out, "account");
  json::append_string(out, f.account);
  json::append_key(out, "time");
  json::append_string(out, f.time);
  json::append_key(out, "region");
  json::append_string(out, f.region);
  json::append_key(out, "resources");
  out.push_back('[');
  for (std::size_t i = 0; i < f.resources.size(); ++i) {
    if (i) out.push_back(',');
    json::append_string(out, f.resources[i]);
  }
  out.push_back(']');
  json::append_key(out, "detail");
  // The detail keeps its own text (numbers are not re-printed), minus insignificant whitespace.
  const std::size_t start = out.size();
  out.resize(start + f.detail_raw.size());
  std::size_t written = 0;
  if (simdjson::minify(f.detail_raw.data(), f.detail_raw.size(), out.data() + start, written) !=
      simdjson::SUCCESS) {
    written = f.detail_raw.size();
    out.replace(start, written, f.detail_raw);
  }
  out.resize(start + written);
  out.push_back('}');
  if (out.capacity() < out.size() + simdjson::SIMDJSON_PADDING)
    out.reserve(out.size() + simdjson::SIMDJSON_PADDING);
  return out;
}

}  // namespace eventrouter::event::detail
