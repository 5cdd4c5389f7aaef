#pragma once
// The HTTP vocabulary shared by the listener, the router and the route handlers.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace eventrouter::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using RequestHeader = http::request_header<>;
using Response = http::response<http::string_body>;

// Hands a finished response back to the connection; callable from any thread, exactly once.
using Respond = std::function<void(Response)>;

// {"error": {"code": ..., "message": ...}} with the given status.
Response json_error(http::status status, std::string_view code, std::string_view message);

// A 200 (or other status) with a JSON body.
Response json_response(http::status status, std::string body);

// Overload answers carry Retry-After so well-behaved clients back off.
void set_retry_after(Response& response, std::chrono::seconds after);

}  // namespace eventrouter::server
