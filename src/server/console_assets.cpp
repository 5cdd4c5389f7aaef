#include "eventrouter/server/console_assets.hpp"

#include <array>
#include <utility>

namespace eventrouter::server {

namespace {

std::string_view content_type_of(std::string_view name) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

// Headers every console answer carries, errors included: the browser must never run
// anything the daemon did not ship, nor show the console inside another site's frame.
void set_console_headers(Response& response) {
  response.set("Content-Security-Policy", kConsoleContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-cache");
}

}  // namespace

Response console_response(std::string_view path, unsigned version) {
  constexpr std::string_view prefix = "/console/";
  Response response{http::status::ok, version};
  set_console_headers(response);
  if (!path.starts_with(prefix)) {  // "/console" itself: relative links need the slash
    response.result(http::status::permanent_redirect);
    response.set(http::field::location, prefix);
    return response;
  }
  std::string_view name = path.substr(prefix.size());
  if (name.empty()) name = "index.html";
  for (const auto& file : embedded_console_files()) {
    if (file.name == name) {
      response.set(http::field::content_type, content_type_of(name));
      response.body() = std::string(file.body);
      return response;
    }
  }
  response.result(http::status::not_found);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = "no such console file; open /console/\n";
  return response;
}

}  // namespace eventrouter::server
