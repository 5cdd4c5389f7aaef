#pragma once
// Dead letters: deliveries that ran out of retries or failed permanently, appended as JSON
// lines with EventBridge's attributes, so nothing is dropped silently.

#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::delivery {

struct DeadLetter {
  std::string_view event_json;
  std::string_view payload;
  std::string_view rule;
  std::string_view target;
  std::string_view error_code;
  std::string_view error_message;
  std::string_view exhausted_retry_condition;  // MaximumRetryAttempts | MaximumEventAgeInSeconds |
                                               // "" (permanent)
  int retry_attempts = 0;
};

// Where the engine puts a dead letter: a file of this host (DeadLetters), or a replicated
// stream with the cluster backend. `file` is the target's dead_letter.path (or the default),
// which a stream keeps as an attribute of the record.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Returns false, having logged why, when the record could not be kept.
  virtual bool write(const std::filesystem::path& file, const DeadLetter& letter) = 0;
  // Where write(file, ...) puts a record, for the log.
  virtual std::string where(const std::filesystem::path& file) const { return file.string(); }
};

class DeadLetters : public DeadLetterSink {
 public:
  // Appends one record to `file` (created with its folders). Returns false, having logged why,
  // when the file cannot be written.
  bool write(const std::filesystem::path& file, const DeadLetter& letter) override;

  // Lets `edit` change the lines of `file` while no record can be appended to it; when `edit`
  // returns true the file is replaced (atomically, by rename) with the edited lines. Used by
  // redrive, which must not lose a record written meanwhile.
  bool rewrite(const std::filesystem::path& file,
               const std::function<bool(std::vector<std::string>& lines)>& edit);

  // One JSON line (no newline) for a record; exposed for tests.
  static std::string render(const DeadLetter& letter);

 private:
  std::mutex mutex_;
};

}  // namespace eventrouter::delivery
