#pragma once
// A problem found while loading configuration or rules, reported as FILE:LINE:COL: message.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace eventrouter::config {

struct Diagnostic {
  std::filesystem::path file;
  int line = 0;    // 1-based; 0 when the problem concerns the whole file
  int column = 0;  // 1-based
  std::string message;

  // "FILE:LINE:COL: message" (or "FILE: message" without a position).
  std::string to_string() const;
};

// Thrown at start-up / load time only, never on the data path.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace eventrouter::config
