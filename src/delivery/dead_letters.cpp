#include "eventrouter/delivery/dead_letters.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::delivery {

std::string DeadLetters::render(const DeadLetter& letter) {
  std::string line = "{";
  json::append_key(line, "time", true);
  json::append_string(line, format_rfc3339_millis(std::chrono::system_clock::now()));
  json::append_key(line, "rule");
  json::append_string(line, letter.rule);
  json::append_key(line, "target");
  json::append_string(line, letter.target);
  json::append_key(line, "attributes");
  line += "{";
  json::append_key(line, "ERROR_CODE", true);
  json::append_string(line, letter.error_code);
  json::append_key(line, "ERROR_MESSAGE");
  json::append_string(line, letter.error_message);
  if (!letter.exhausted_retry_condition.empty()) {
    json::append_key(line, "EXHAUSTED_RETRY_CONDITION");
    json::append_string(line, letter.exhausted_retry_condition);
  }
  json::append_key(line, "RETRY_ATTEMPTS");
  line += std::to_string(letter.retry_attempts);
  line += "}";
  json::append_key(line, "event");
  line += letter.event_json;  // already minified JSON
  json::append_key(line, "payload");
  json::append_string(line, letter.payload);
  line += "}";
  return line;
}

bool DeadLetters::write(const std::filesystem::path& file, const DeadLetter& letter) {
  std::string line = render(letter);
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    spdlog::error("cannot write dead letter for rule {} target {} to {}: {}", letter.rule,
                  letter.target, file.string(), std::strerror(errno));
    return false;
  }
  // One write per record: O_APPEND keeps concurrent writers from interleaving lines.
  const ssize_t written = ::write(fd, line.data(), line.size());
  const bool ok = written == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  if (!ok) spdlog::error("cannot write dead letter to {}: {}", file.string(), std::strerror(errno));
  ::close(fd);
  return ok;
}

}  // namespace eventrouter::delivery
