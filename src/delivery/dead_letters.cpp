#include "eventrouter/delivery/dead_letters.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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

bool DeadLetters::rewrite(const std::filesystem::path& file,
                          const std::function<bool(std::vector<std::string>& lines)>& edit) {
  std::lock_guard lock(mutex_);
  std::ifstream in(file);
  if (!in) return false;  // no dead letters there
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(std::move(line));
  in.close();
  if (!edit(lines)) return false;
  auto temporary = file;
  temporary += ".redrive";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& line : lines) out << line << '\n';
    out.flush();
    if (!out) {
      spdlog::error("cannot rewrite {}: {}", file.string(), std::strerror(errno));
      return false;
    }
  }
  // On disk before it replaces the file, so a power cut cannot leave the kept records empty.
  if (const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  // The redriven records are in the journal already: a crash before the rename repeats them.
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) spdlog::error("cannot replace {}: {}", file.string(), ec.message());
  return !ec;
}

}  // namespace eventrouter::delivery
