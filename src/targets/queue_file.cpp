#include "eventrouter/targets/queue_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "eventrouter/transform/json_text.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

// The most one write() carries (lines of a batch beyond it go in the next): bounds the buffer
// a burst can make the writer hold.
constexpr std::uint64_t kMaxRun = 256 * 1024;

FileAppender::Error os_error(int errno_value, const std::string& action) {
  return {errno_value, action + ": " + std::strerror(errno_value)};
}

DeliveryResult classify(const FileAppender::Error& error, const std::filesystem::path& path) {
  const std::string message = "queue_file " + path.string() + ": " + error.what;
  switch (error.errno_value) {
    case EACCES:
    case EPERM:
    case EROFS:
      return DeliveryResult::retryable(ErrorCode::kNoPermissions, message);
    default:
      // A full disk or an I/O error may clear; the retry policy bounds how long we try.
      return DeliveryResult::retryable(ErrorCode::kErrorFromTarget, message);
  }
}

}  // namespace

std::optional<QueueFileConfig> read_queue_file_config(const TargetSpec& spec,
                                                      std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  QueueFileConfig config;
  if (auto path = reader.string("path", true)) {
    config.path = *path;
    if (!config.path.is_absolute()) {
      reader.problem(reader.get("path"), "path must be absolute");
    } else if (path->ends_with("/")) {
      reader.problem(reader.get("path"), "path must name a file, not a directory");
    }
  }
  if (auto fsync = reader.choice("fsync", "batch", {"always", "batch", "never"})) {
    config.fsync = *fsync == "always"  ? QueueFileConfig::Fsync::kAlways
                   : *fsync == "never" ? QueueFileConfig::Fsync::kNever
                                       : QueueFileConfig::Fsync::kBatch;
  }
  if (auto rotation = reader.child("rotation")) {
    rotation->check_keys({"max_size", "max_files"});
    if (auto size = rotation->size("max_size", 0, 4096, 1ULL << 50)) config.max_size = *size;
    if (auto files = rotation->integer("max_files", 5, 1, 1000)) {
      config.max_files = static_cast<int>(*files);
    }
    if (!rotation->has("max_size") && rotation->has("max_files")) {
      rotation->problem(rotation->get("max_files"),
                        "rotation.max_files needs rotation.max_size (the size that triggers it)");
    }
  }
  if (reader.failed()) return std::nullopt;
  return config;
}

std::string queue_file_line(std::string_view payload) {
  bool valid = false;
  std::string line = transform::minify_json(payload, valid);
  if (!valid) line = transform::json_string(payload);
  line += '\n';
  return line;
}

std::string queue_file_line(const Invocation& invocation) {
  // The engine's event text is valid JSON (ingest parsed and checked it; the daemon writes
  // scheduled and digest events itself): only minified, not parsed again to tell whether it is.
  if (invocation.payload_is_event) {
    std::string line;
    line.reserve(invocation.payload.size() + simdjson::SIMDJSON_PADDING + 1);
    if (transform::append_minified(line, invocation.payload)) {
      line += '\n';
      return line;
    }
  }
  return queue_file_line(invocation.payload);
}

std::shared_ptr<FileAppender> FileAppender::shared(const QueueFileConfig& config) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<FileAppender>> registry;
  const std::string key = config.path.lexically_normal().string();
  std::lock_guard lock(registry_mutex);
  if (auto existing = registry[key].lock()) {
    return existing;  // the first target's rotation settings apply to the shared file
  }
  auto appender = std::make_shared<FileAppender>(config);
  registry[key] = appender;
  return appender;
}

FileAppender::FileAppender(const QueueFileConfig& config) : config_(config) {}

FileAppender::~FileAppender() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<FileAppender::Error> FileAppender::open_locked() {
  if (fd_ >= 0) return std::nullopt;
  std::error_code ec;
  std::filesystem::create_directories(config_.path.parent_path(), ec);
  if (ec)
    return Error{ec.value(),
                 "creating " + config_.path.parent_path().string() + ": " + ec.message()};
  fd_ = ::open(config_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return os_error(errno, "opening");
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    const int saved = errno;
    ::close(fd_);
    fd_ = -1;
    return os_error(saved, "fstat");
  }
  size_ = static_cast<std::uint64_t>(status.st_size);
  return std::nullopt;
}

std::optional<FileAppender::Error> FileAppender::rotate_locked() {
  // Rotated files must hold everything they were given, whatever the targets' fsync settings.
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
  const std::string base = config_.path.string();
  for (int i = config_.max_files - 1; i >= 1; --i) {
    const std::string from = base + "." + std::to_string(i);
    const std::string to = base + "." + std::to_string(i + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return os_error(errno, "rotating " + from);
    }
  }
  if (::rename(base.c_str(), (base + ".1").c_str()) != 0 && errno != ENOENT) {
    return os_error(errno, "rotating");
  }
  const int directory = ::open(config_.path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
  return open_locked();
}

std::optional<FileAppender::Error> FileAppender::append(std::string_view line) {
  return append(std::span<const std::string_view>(&line, 1)).front();
}

std::vector<std::optional<FileAppender::Error>> FileAppender::append(
    std::span<const std::string_view> lines) {
  std::vector<std::optional<Error>> results(lines.size());
  std::lock_guard lock(mutex_);
  std::size_t next = 0;
  while (next < lines.size()) {
    std::optional<Error> error = open_locked();
    if (!error && config_.max_size > 0 && size_ > 0 &&
        size_ + lines[next].size() > config_.max_size) {
      error = rotate_locked();
    }
    // The run: the lines from `next` on that fit in the file before it must rotate again
    // (at least one, which may be larger than max_size alone), and in kMaxRun bytes.
    std::size_t end = next + 1;
    std::uint64_t bytes = lines[next].size();
    while (end < lines.size() && bytes + lines[end].size() <= kMaxRun &&
           (config_.max_size == 0 || size_ + bytes + lines[end].size() <= config_.max_size)) {
      bytes += lines[end].size();
      ++end;
    }
    if (!error) {
      if (end == next + 1) {
        error = write_locked(lines[next]);
      } else {
        run_.clear();
        for (std::size_t i = next; i < end; ++i) run_ += lines[i];
        error = write_locked(run_);
      }
    }
    for (std::size_t i = next; i < end; ++i) results[i] = error;
    next = end;
  }
  return results;
}

std::optional<FileAppender::Error> FileAppender::write_locked(std::string_view bytes) {
  const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
  if (written == static_cast<ssize_t>(bytes.size())) {
    size_ += bytes.size();
    return std::nullopt;
  }
  const int saved = written < 0 ? errno : ENOSPC;
  if (written > 0) {
    // Never leave part of a line behind: cut the file back to where these lines began.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      spdlog::error("queue_file {}: could not remove partly written lines: {}",
                    config_.path.string(), std::strerror(errno));
    }
  }
  // Reopen next time: the file may have been removed or the disk remounted.
  ::close(fd_);
  fd_ = -1;
  return os_error(saved, "writing");
}

std::optional<FileAppender::Error> FileAppender::sync() {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return std::nullopt;
  if (::fdatasync(fd_) != 0) return os_error(errno, "fsync");
  return std::nullopt;
}

QueueFileTarget::QueueFileTarget(QueueFileConfig config)
    : config_(std::move(config)), appender_(FileAppender::shared(config_)) {}

QueueFileTarget::~QueueFileTarget() {
  shutdown(std::chrono::milliseconds(0));
}

void QueueFileTarget::send(Invocation invocation, Completion done) {
  std::string line = queue_file_line(invocation);
  {
    std::lock_guard lock(mutex_);
    pending_.push_back({std::move(line), std::move(done)});
    if (drain_scheduled_) return;
    drain_scheduled_ = true;
    if (pool_.post({[this] { drain(); }, [this] { fail_pending(); }})) return;
  }
  fail_pending();  // the pool has stopped: shutdown is under way
}

void QueueFileTarget::drain() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(pending_);
      if (batch.empty()) {
        drain_scheduled_ = false;
        return;
      }
    }
    std::vector<std::optional<FileAppender::Error>> errors;
    if (config_.fsync == QueueFileConfig::Fsync::kAlways) {
      errors.resize(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        errors[i] = appender_->append(batch[i].line);
        if (!errors[i]) errors[i] = appender_->sync();
      }
    } else {
      std::vector<std::string_view> lines;
      lines.reserve(batch.size());
      for (const auto& pending : batch) lines.push_back(pending.line);
      errors = appender_->append(lines);
    }
    const bool any_written =
        std::any_of(errors.begin(), errors.end(), [](const auto& e) { return !e.has_value(); });
    if (any_written && config_.fsync == QueueFileConfig::Fsync::kBatch) {
      // Group commit: one fsync covers every line of the batch.
      if (auto error = appender_->sync()) {
        for (auto& e : errors) {
          if (!e) e = error;
        }
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(errors[i] ? classify(*errors[i], config_.path) : DeliveryResult::ok());
    }
  }
}

void QueueFileTarget::fail_pending() {
  std::vector<Pending> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    drain_scheduled_ = false;
  }
  for (auto& item : batch) {
    item.done(DeliveryResult::retryable(ErrorCode::kInternalError, "target is shutting down"));
  }
}

void QueueFileTarget::abort() {
  // Writes are short: lines still queued after the grace period are refused, not written.
  pool_.stop();
  fail_pending();
}

const TargetType& queue_file_target_type() {
  static const TargetType type{
      "queue_file",
      {"path", "fsync", "rotation"},
      {{"path", PathKey::Base::kStateDir}},
      {},  // no concurrency limit unless configured: one writer thread already orders the lines
      [](const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
        read_queue_file_config(spec, problems);
      },
      [](const TargetSpec& spec, TargetContext&, const TargetLimits&,
         std::vector<config::Diagnostic>& problems) -> std::unique_ptr<Target> {
        auto config = read_queue_file_config(spec, problems);
        if (!config) return nullptr;
        return std::make_unique<QueueFileTarget>(std::move(*config));
      }};
  return type;
}

}  // namespace eventrouter::targets
