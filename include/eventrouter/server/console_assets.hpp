#pragma once
// The web console's files (HTML, JavaScript, CSS), compiled into the binary from console/ so
// the daemon serves them itself: nothing is installed beside it and nothing is fetched from
// elsewhere. They hold no data, so they need no token; every data request the console makes
// carries the user's token (docs/console.md).

#include <span>
#include <string_view>

#include "eventrouter/server/http_types.hpp"

namespace eventrouter::server {

struct EmbeddedFile {
  std::string_view name;  // the file name in console/, e.g. "app.js"
  std::string_view body;
};

// Every file of console/, generated at build time (cmake/embed_files.cmake).
std::span<const EmbeddedFile> embedded_console_files();

// The answer to GET `path` under /console: /console redirects to /console/, /console/ is
// index.html, /console/NAME is that file, anything else 404. Every answer carries the
// console's Content-Security-Policy, which allows the console's own files and nothing else.
Response console_response(std::string_view path, unsigned version);

// The policy itself: scripts, styles and requests from the daemon only, no inline code.
inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace eventrouter::server
