#pragma once
// `eventrouter serve`: wires configuration, rules, targets, delivery and the HTTP server, and
// runs until SIGTERM or SIGINT.

#include <filesystem>
#include <iosfwd>

namespace eventrouter::app {

// Returns the process exit status: 0 after a clean shutdown, 1 when start-up fails (the
// reasons are written to `err`).
int run_daemon(const std::filesystem::path& config_file, std::ostream& err);

}  // namespace eventrouter::app
