#include "eventrouter/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace {

// %j: the message as a JSON string, so `log.format: json` stays valid JSON whatever the
// message holds (quotes from user input, newlines from a runbook's stderr).
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted = json::quote(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// %E: the message with control characters escaped (\n, \r, \t, \xHH), so one log record
// is one line whatever the message holds: an event id, a bus name or a runbook's stderr must
// not forge log lines.
class EscapedMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) {
        dest.push_back(c);
        continue;
      }
      const char* named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
      if (named) {
        dest.append(named, named + 2);
      } else {
        const char escaped[4] = {'\\', 'x', hex[u >> 4], hex[u & 0xf]};
        dest.append(escaped, escaped + 4);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessageFlag>();
  }
};

}  // namespace

void configure_logging(const config::LogConfig& log) {
  static auto logger = [] {
    auto created = std::make_shared<spdlog::logger>(
        "eventrouter", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(created);
    return created;
  }();
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::info);
  if (log.format == config::LogFormat::kJson) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                                 std::string("\n"));
    formatter->add_flag<JsonMessageFlag>('j');
    formatter->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":%j})");
    logger->set_formatter(std::move(formatter));
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                                 std::string("\n"));
    formatter->add_flag<EscapedMessageFlag>('E');
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %E");
    logger->set_formatter(std::move(formatter));
  }
}

}  // namespace eventrouter::app
