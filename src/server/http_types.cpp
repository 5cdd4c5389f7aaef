#include "eventrouter/server/http_types.hpp"

#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::server {

Response json_response(http::status status, std::string body) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::server, "eventrouter/" EVENTROUTER_VERSION);
  response.body() = std::move(body);
  return response;
}

Response json_error(http::status status, std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":)";
  json::append_string(body, code);
  body += R"(,"message":)";
  json::append_string(body, message);
  body += "}}";
  return json_response(status, std::move(body));
}

void set_retry_after(Response& response, std::chrono::seconds after) {
  response.set(http::field::retry_after, std::to_string(std::max<long long>(1, after.count())));
}

}  // namespace eventrouter::server
