#include "bench_match.hpp"

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <utility>

#include "eventrouter/event/envelope.hpp"
#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/rule.hpp"
#include "eventrouter/util/utf8.hpp"

namespace eventrouter::app::bench {
namespace {

// Reasons quote the pattern or event; they reach a terminal, so they are cut short and their
// control characters shown as '?'.
constexpr std::size_t kMaxReasonBytes = 512;

std::string printable(std::string_view text) {
  std::string out = to_valid_utf8(text.substr(0, kMaxReasonBytes));
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  if (text.size() > kMaxReasonBytes) out += "...";
  return out;
}

// Reads a file line by line, refusing a line longer than kMaxLineBytes before holding it all,
// so that a file without newlines cannot fill the memory.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}

  enum class Result { kLine, kEnd, kTooLong };

  // The next line, without its "\n" or "\r\n".
  Result next(std::string& line) {
    line.clear();
    ++number_;
    bool any = false;
    for (;;) {
      if (start_ == end_ && !fill()) {
        if (!any) {
          --number_;
          return Result::kEnd;
        }
        break;  // a last line without a newline
      }
      any = true;
      const char* begin = buffer_.data() + start_;
      const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - start_));
      const std::size_t length =
          newline ? static_cast<std::size_t>(newline - begin) : end_ - start_;
      if (line.size() + length > kMaxLineBytes + 1) return Result::kTooLong;  // +1: a '\r'
      line.append(begin, length);
      start_ += length;
      if (newline) {
        ++start_;
        break;
      }
    }
    if (line.ends_with('\r')) line.pop_back();
    return line.size() > kMaxLineBytes ? Result::kTooLong : Result::kLine;
  }

  // The number of the line next() returned last (from 1).
  std::size_t number() const { return number_; }
  bool failed() const { return in_.bad(); }

 private:
  bool fill() {
    start_ = 0;
    end_ = 0;
    if (!in_) return false;
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    end_ = static_cast<std::size_t>(in_.gcount());
    return end_ > 0;
  }

  std::istream& in_;
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);
  std::size_t start_ = 0, end_ = 0;
  std::size_t number_ = 0;
};

bool skipped_line(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\r");
  return first == std::string_view::npos || line[first] == '#';
}

std::string where(const std::filesystem::path& file, std::size_t line) {
  return file.string() + ":" + std::to_string(line) + ": ";
}

// Reads every line of `file` that is not blank or a comment, handing each to `take(line,
// number)`, which returns an error message to stop with or an empty string. Returns the error
// that stopped it, or an empty string.
template <class Take>
std::string read_lines(const std::filesystem::path& file, Take take) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return file.string() + ": is a folder; give a file, one item a line";
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return file.string() + ": cannot open: " + std::strerror(errno);
  }
  LineReader reader(in);
  std::string line;
  for (;;) {
    const auto result = reader.next(line);
    if (result == LineReader::Result::kEnd) break;
    if (result == LineReader::Result::kTooLong) {
      return where(file, reader.number()) + "the line is longer than " +
             std::to_string(kMaxLineBytes) + " bytes";
    }
    if (skipped_line(line)) continue;
    std::string problem = take(line, reader.number());
    if (!problem.empty()) return problem;
  }
  if (reader.failed()) return file.string() + ": read error";
  return {};
}

std::string event_problem(std::string_view line) {
  std::string problem = event::describe_json_error(line);
  if (!problem.empty()) return "the event is not valid JSON: " + problem;
  if (line[line.find_first_not_of(" \t\r")] != '{') {
    return "the event is not a JSON object (one event a line, each a {...} object)";
  }
  // Ingest refuses such an event; what the matcher would make of it means nothing.
  return event::describe_duplicate_key(line);
}

}  // namespace

Expected<LoadedPatterns, std::string> load_patterns(const std::filesystem::path& file,
                                                    bool skip_invalid, std::ostream& warnings) {
  LoadedPatterns loaded;
  std::vector<rules::Rule> rules;
  auto read = read_lines(file, [&](const std::string& line, std::size_t number) {
    auto compiled = pattern::compile(line);
    if (!compiled) {
      std::string problem = where(file, number) + printable(compiled.error());
      if (!skip_invalid) return problem;
      if (++loaded.skipped <= kMaxSkippedShown) warnings << problem << " (skipped)\n";
      return std::string();
    }
    rules::Rule rule;
    rule.name = "line-" + std::to_string(number);
    rule.bus = std::string(rules::kDefaultBus);
    rule.event_pattern = line;
    rule.pattern = std::move(*compiled);
    rules.push_back(std::move(rule));
    return std::string();
  });
  if (!read.empty()) return unexpected(std::move(read));
  if (loaded.skipped > kMaxSkippedShown) {
    warnings << file.string() << ": " << loaded.skipped - kMaxSkippedShown
             << " more invalid patterns skipped\n";
  }
  if (rules.empty()) {
    return unexpected(file.string() + ": no " + (loaded.skipped ? "valid " : "") +
                      "pattern (one EventBridge event pattern a line; blank lines and lines "
                      "starting with # are skipped)");
  }
  loaded.loaded = rules.size();
  loaded.rules =
      std::make_unique<rules::RuleSet>(std::move(rules), std::vector<std::filesystem::path>{file});
  return loaded;
}

Expected<std::vector<std::string>, std::string> load_events(const std::filesystem::path& file) {
  std::vector<std::string> events;
  auto read = read_lines(file, [&](const std::string& line, std::size_t number) {
    std::string problem = event_problem(line);
    if (!problem.empty()) return where(file, number) + printable(problem);
    std::string json;
    json.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    json.append(line);
    events.push_back(std::move(json));
    return std::string();
  });
  if (!read.empty()) return unexpected(std::move(read));
  if (events.empty()) {
    return unexpected(file.string() +
                      ": no event (one JSON event a line; blank lines and lines starting with # "
                      "are skipped)");
  }
  return events;
}

MatchRun run_match(const rules::RuleSet& rules, const std::vector<std::string>& events,
                   std::chrono::seconds duration) {
  using Clock = std::chrono::steady_clock;
  // Reading the clock costs about as much as a few percent of one match; every 64 events it
  // costs nothing that shows.
  constexpr std::uint64_t kEventsPerClockRead = 64;
  MatchRun run;
  std::vector<const rules::Rule*> matched;
  const auto start = Clock::now();
  const auto deadline = start + duration;
  for (const auto& event : events) {
    matched.clear();
    rules.match(rules::kDefaultBus, simdjson::padded_string_view(event), matched);
    if (!matched.empty()) ++run.events_matched_per_pass;
    run.matches_per_pass += matched.size();
  }
  run.events_run = events.size();
  run.matches_run = run.matches_per_pass;
  bool done = Clock::now() >= deadline;
  while (!done) {
    for (const auto& event : events) {
      matched.clear();
      rules.match(rules::kDefaultBus, simdjson::padded_string_view(event), matched);
      run.matches_run += matched.size();
      if (++run.events_run % kEventsPerClockRead == 0 && Clock::now() >= deadline) {
        done = true;
        break;
      }
    }
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

void warm_up(const std::string& event) {
  auto compiled = pattern::compile(R"({"source": ["eventrouter.bench.warm-up"]})");
  if (!compiled) return;
  std::vector<pattern::Pattern> patterns{std::move(*compiled)};
  const pattern::Matcher matcher(std::move(patterns));
  std::vector<std::uint32_t> matched;
  matcher.match(simdjson::padded_string_view(event), matched);
}

std::optional<std::uint64_t> resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("VmRSS:")) continue;
    // "VmRSS:    12345 kB"
    std::uint64_t kib = 0;
    bool digits = false;
    for (char c : std::string_view(line).substr(6)) {
      if (c >= '0' && c <= '9') {
        kib = kib * 10 + static_cast<std::uint64_t>(c - '0');
        digits = true;
      } else if (digits) {
        break;
      }
    }
    if (digits) return kib;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace eventrouter::app::bench
