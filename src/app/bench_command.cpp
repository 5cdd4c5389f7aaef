#include "bench_command.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>

#include "bench_match.hpp"
#include "eventrouter/app/cli_options.hpp"
#include "eventrouter/util/json_writer.hpp"
#include "eventrouter/util/utf8.hpp"

namespace eventrouter::app {
namespace {

constexpr std::string_view kUsage =
    R"(usage: eventrouter bench match --patterns FILE --events FILE [--seconds N] [--skip-invalid]
                             [--json]

Times eventrouter's matcher, on one thread, on your own data: every event against every
pattern, through the events again and again for N seconds (at least once through them). Prints
the patterns loaded, the load time, the matches of one pass, events per second and the resident
memory (VmRSS).

  --patterns FILE   one EventBridge event pattern a line, each loaded as a rule named line-N;
                    blank lines and lines starting with # are skipped
  --events FILE     one JSON event a line, matched as it is (no envelope is added); blank lines
                    and lines starting with # are skipped
  --seconds N       how long to run, 1 to 600 (default 5)
  --skip-invalid    skip invalid patterns (and count them) instead of stopping at the first
  --json            print the report as one JSON object

Exit 0, or 2 for an invalid line (FILE:LINE: reason), a file it cannot read, or a usage error.
)";

constexpr int kMinSeconds = 1, kMaxSeconds = 600, kDefaultSeconds = 5;

struct BenchArgs {
  std::string patterns_file, events_file;
  int seconds = kDefaultSeconds;
  bool skip_invalid = false;
  bool json = false;
};

Expected<BenchArgs, std::string> parse_bench_args(const std::vector<std::string_view>& args) {
  auto options = split_options(args, {"--skip-invalid", "--json"});
  if (!options) return unexpected(options.error());
  BenchArgs parsed;
  for (const auto& option : *options) {
    const std::string_view name = option.name;
    if (name == "--patterns") {
      parsed.patterns_file = std::string(option.value);
    } else if (name == "--events") {
      parsed.events_file = std::string(option.value);
    } else if (name == "--seconds") {
      const auto* end = option.value.data() + option.value.size();
      int seconds = 0;
      const auto [at, error] = std::from_chars(option.value.data(), end, seconds);
      if (error != std::errc() || at != end || seconds < kMinSeconds || seconds > kMaxSeconds) {
        return unexpected("--seconds takes a whole number of seconds from " +
                          std::to_string(kMinSeconds) + " to " + std::to_string(kMaxSeconds) +
                          ", not '" + to_valid_utf8(option.value) + "'");
      }
      parsed.seconds = seconds;
    } else if (name == "--skip-invalid") {
      parsed.skip_invalid = true;
    } else if (name == "--json") {
      parsed.json = true;
    } else {
      return unexpected("unknown option " + to_valid_utf8(name));
    }
  }
  if (parsed.patterns_file.empty() || parsed.events_file.empty()) {
    return unexpected(std::string("give both --patterns FILE and --events FILE"));
  }
  return parsed;
}

struct Report {
  const BenchArgs& args;
  const bench::LoadedPatterns& patterns;
  std::size_t events = 0;
  double load_ms = 0;
  bench::MatchRun run;
  std::optional<std::uint64_t> rss_before_load, rss_after_load, rss_end;

  double events_per_second() const { return static_cast<double>(run.events_run) / run.seconds; }
  double passes() const {
    return static_cast<double>(run.events_run) / static_cast<double>(events);
  }
  // What loading the patterns added to the resident memory: the rules and the matcher.
  std::optional<std::int64_t> matcher_kib() const {
    if (!rss_before_load || !rss_after_load) return std::nullopt;
    return static_cast<std::int64_t>(*rss_after_load) - static_cast<std::int64_t>(*rss_before_load);
  }
};

std::string fixed(double value, int decimals) {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(decimals);
  text << value;
  return text.str();
}

template <class Number>
std::string kib_text(const std::optional<Number>& kib) {
  return kib ? std::to_string(*kib) + " KiB" : std::string("unknown");
}

void print_text(const Report& r, std::ostream& out) {
  out << "eventrouter bench match (one thread)\n"
      << "patterns:  " << r.patterns.loaded << " loaded from " << r.args.patterns_file;
  if (r.args.skip_invalid) out << ", " << r.patterns.skipped << " invalid skipped";
  out << "\n"
      << "load:      " << fixed(r.load_ms, 3) << " ms (read, compile, build the matcher)\n"
      << "events:    " << r.events << " in " << r.args.events_file << "\n"
      << "per pass:  " << r.run.events_matched_per_pass << " events matched at least one pattern; "
      << r.run.matches_per_pass << " (event, pattern) matches\n"
      << "run:       " << r.run.events_run << " events in " << fixed(r.run.seconds, 2) << " s ("
      << fixed(r.passes(), 2) << " passes)\n"
      << "rate:      " << fixed(r.events_per_second(), 0) << " events per second\n"
      << "memory:    VmRSS " << kib_text(r.rss_before_load) << " before the patterns, "
      << kib_text(r.rss_after_load) << " after (patterns and matcher: " << kib_text(r.matcher_kib())
      << "), " << kib_text(r.rss_end) << " at the end\n";
}

template <class Number>
void append_number(std::string& out, std::string_view key, const std::optional<Number>& value) {
  json::append_key(out, key);
  out += value ? std::to_string(*value) : std::string("null");
}

void print_json(const Report& r, std::ostream& out) {
  std::string text = "{";
  json::append_key(text, "threads", true);
  text += "1";
  json::append_key(text, "patterns_file");
  json::append_string(text, to_valid_utf8(r.args.patterns_file));
  json::append_key(text, "patterns_loaded");
  text += std::to_string(r.patterns.loaded);
  json::append_key(text, "patterns_skipped");
  text += std::to_string(r.patterns.skipped);
  json::append_key(text, "load_ms");
  text += fixed(r.load_ms, 3);
  json::append_key(text, "events_file");
  json::append_string(text, to_valid_utf8(r.args.events_file));
  json::append_key(text, "events_in_file");
  text += std::to_string(r.events);
  json::append_key(text, "events_matched_per_pass");
  text += std::to_string(r.run.events_matched_per_pass);
  json::append_key(text, "matches_per_pass");
  text += std::to_string(r.run.matches_per_pass);
  json::append_key(text, "seconds");
  text += fixed(r.run.seconds, 3);
  json::append_key(text, "events_run");
  text += std::to_string(r.run.events_run);
  json::append_key(text, "matches_run");
  text += std::to_string(r.run.matches_run);
  json::append_key(text, "passes");
  text += fixed(r.passes(), 3);
  json::append_key(text, "events_per_second");
  text += fixed(r.events_per_second(), 0);
  append_number(text, "rss_kib_before_load", r.rss_before_load);
  append_number(text, "rss_kib_after_load", r.rss_after_load);
  append_number(text, "rss_kib_end", r.rss_end);
  append_number(text, "matcher_rss_kib", r.matcher_kib());
  out << text << "}\n";
}

int run_bench_match(const std::vector<std::string_view>& args, std::ostream& out,
                    std::ostream& err) {
  for (const auto arg : args) {
    if (arg == "-h" || arg == "--help") {
      out << kUsage;
      return 0;
    }
  }
  const auto parsed = parse_bench_args(args);
  if (!parsed) {
    err << "eventrouter bench match: " << parsed.error() << "\n" << kUsage;
    return 2;
  }
  // The events are read first, so that the memory the patterns add is theirs alone.
  auto events = bench::load_events(parsed->events_file);
  if (!events) {
    err << events.error() << "\n";
    return 2;
  }
  bench::warm_up(events->front());
  const auto rss_before_load = bench::resident_kib();
  const auto load_start = std::chrono::steady_clock::now();
  auto patterns = bench::load_patterns(parsed->patterns_file, parsed->skip_invalid, err);
  if (!patterns) {
    err << patterns.error() << "\n";
    return 2;
  }
  const auto load_end = std::chrono::steady_clock::now();
  const auto rss_after_load = bench::resident_kib();
  const auto run =
      bench::run_match(*patterns->rules, *events, std::chrono::seconds(parsed->seconds));
  const Report report{
      *parsed,
      *patterns,
      events->size(),
      std::chrono::duration<double, std::milli>(load_end - load_start).count(),
      run,
      rss_before_load,
      rss_after_load,
      bench::resident_kib(),
  };
  if (parsed->json) {
    print_json(report, out);
  } else {
    print_text(report, out);
  }
  return 0;
}

}  // namespace

int run_bench_command(const std::vector<std::string_view>& args, std::ostream& out,
                      std::ostream& err) {
  if (!args.empty() && (args.front() == "-h" || args.front() == "--help")) {
    out << kUsage;
    return 0;
  }
  if (args.empty() || args.front() != "match") {
    err << "eventrouter bench: "
        << (args.empty() ? std::string("give a subcommand")
                         : "unknown subcommand " + to_valid_utf8(args.front()))
        << "\n"
        << kUsage;
    return 2;
  }
  return run_bench_match({args.begin() + 1, args.end()}, out, err);
}

}  // namespace eventrouter::app
