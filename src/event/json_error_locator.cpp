// Error path only: simdjson says *that* a document is malformed, Boost.JSON says *where*.
#include <boost/json/src.hpp>

#include "eventrouter/event/envelope.hpp"

namespace eventrouter::event {

std::string describe_json_error(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  std::size_t consumed = parser.write_some(body.data(), body.size(), ec);
  if (!ec) {
    parser.finish(ec);
    if (ec) consumed = body.size();
  }
  if (!ec && !parser.done()) {
    ec = boost::json::error::incomplete;
    consumed = body.size();
  }
  if (!ec) return {};
  if (ec == boost::json::error::too_deep) {
    return "JSON nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels (at byte " +
           std::to_string(consumed) + ")";
  }
  return "malformed JSON at byte " + std::to_string(consumed) + ": " + ec.message();
}

}  // namespace eventrouter::event
