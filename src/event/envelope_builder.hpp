#pragma once
// Writes a normalised EventBridge envelope. Shared by both request formats.

#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::event::detail {

struct EnvelopeFields {
  std::string_view version = "0";
  std::string_view id;
  std::string_view detail_type;
  std::string_view source;
  std::string_view account;
  std::string_view time;
  std::string_view region;
  std::vector<std::string_view> resources;
  std::string_view detail_raw;  // the detail object's JSON text, minified on the way out
};

// Returns the envelope JSON, with spare capacity for simdjson's padding.
std::string build_envelope(const EnvelopeFields& fields);

}  // namespace eventrouter::event::detail
