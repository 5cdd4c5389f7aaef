#pragma once
// queue_file: appends one payload a line to a local file (JSON Lines), for other programs to
// tail. The lines waiting at a moment go out together, in as few write()s under O_APPEND as
// rotation allows (one, usually), each line whole or not at all, as a web server's buffered
// access log does; targets that name the same file share one writer, so their lines interleave
// whole and rotation happens once.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_base.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"
#include "eventrouter/targets/worker_pool.hpp"

namespace eventrouter::targets {

struct QueueFileConfig {
  enum class Fsync { kAlways, kBatch, kNever };
  std::filesystem::path path;  // absolute
  Fsync fsync = Fsync::kBatch;
  std::uint64_t max_size = 0;  // rotate when the file would grow past this; 0 = never rotate
  int max_files = 5;           // rotated files kept: path.1 (newest) .. path.N
};

std::optional<QueueFileConfig> read_queue_file_config(const TargetSpec& spec,
                                                      std::vector<config::Diagnostic>& problems);

// The line written for a payload: minified JSON, or a non-JSON payload as a JSON string; with
// the trailing newline.
std::string queue_file_line(std::string_view payload);
// The line for an invocation's payload, the same as above; cheaper when the payload is the
// invocation's event itself.
std::string queue_file_line(const Invocation& invocation);

// One open file shared by every target writing to the same path.
class FileAppender {
 public:
  struct Error {
    int errno_value = 0;
    std::string what;
  };

  static std::shared_ptr<FileAppender> shared(const QueueFileConfig& config);

  explicit FileAppender(const QueueFileConfig& config);
  ~FileAppender();

  // Writes `line` whole or not at all (a short write is truncated away). nullopt on success.
  std::optional<Error> append(std::string_view line);
  // Writes `lines` in order, in as few write()s as rotation allows; each line whole or not at
  // all. What became of each line: nullopt when written.
  std::vector<std::optional<Error>> append(std::span<const std::string_view> lines);
  // fsync()s what has been written so far.
  std::optional<Error> sync();

 private:
  std::optional<Error> open_locked();
  std::optional<Error> rotate_locked();
  std::optional<Error> write_locked(std::string_view bytes);

  QueueFileConfig config_;
  std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string run_;  // the lines of one write(), kept from batch to batch
};

// The queue_file type's descriptor (registry.cpp registers it).
const TargetType& queue_file_target_type();

class QueueFileTarget final : public TargetBase {
 public:
  explicit QueueFileTarget(QueueFileConfig config);
  ~QueueFileTarget() override;

 private:
  struct Pending {
    std::string line;
    Completion done;
  };
  void send(Invocation invocation, Completion done) override;
  void abort() override;
  void drain();
  void fail_pending();

  QueueFileConfig config_;
  std::shared_ptr<FileAppender> appender_;
  std::mutex mutex_;
  std::vector<Pending> pending_;
  bool drain_scheduled_ = false;
  WorkerPool pool_{1};  // one writer thread per target: lines keep their delivery order
};

}  // namespace eventrouter::targets
