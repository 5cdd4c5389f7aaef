#pragma once
// `eventrouter bench match --patterns FILE --events FILE [--seconds N] [--skip-invalid]
// [--json]`: times the daemon's matcher on the user's own patterns and events, so that it can
// be compared with another engine on the same data.

#include <iosfwd>
#include <string_view>
#include <vector>

namespace eventrouter::app {

// `args` are the arguments after "bench". Prints the report on `out`; exit 0, or 2 with the
// reason on `err` for a usage error, an unreadable file or an invalid line.
int run_bench_command(const std::vector<std::string_view>& args, std::ostream& out,
                      std::ostream& err);

}  // namespace eventrouter::app
