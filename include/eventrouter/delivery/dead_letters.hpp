#pragma once
// Dead letters: deliveries that ran out of retries or failed permanently, appended as JSON
// lines with EventBridge's attributes, so nothing is dropped silently.

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

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

class DeadLetters {
 public:
  // Appends one record to `file` (created with its folders). Returns false, having logged why,
  // when the file cannot be written.
  bool write(const std::filesystem::path& file, const DeadLetter& letter);

  // One JSON line (no newline) for a record; exposed for tests.
  static std::string render(const DeadLetter& letter);

 private:
  std::mutex mutex_;
};

}  // namespace eventrouter::delivery
