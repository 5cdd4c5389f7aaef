#pragma once
// The `eventrouter` command line: serve, validate, test-pattern, dlq, replay, token, --version.

#include <iosfwd>

namespace eventrouter::app {

// Parses arguments and runs one subcommand; returns the process exit status.
int run_cli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace eventrouter::app
