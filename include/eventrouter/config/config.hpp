#pragma once
// The daemon's configuration file (eventrouter.yaml), as DESIGN.md section 1 defines it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"

namespace eventrouter::config {

struct ListenAddress {
  std::string host = "127.0.0.1";  // loopback by default; never 0.0.0.0 unless asked
  std::uint16_t port = 8088;       // 0 lets the OS pick (tests use this)
};

struct TlsConfig {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::filesystem::path client_ca_file;  // empty: no client certificates required
};

struct Limits {
  std::size_t max_event_bytes = 262144;
  std::size_t max_request_bytes = 1048576;
  std::size_t max_connections = 1024;
};

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  std::string format = "text";  // text | json
};

struct Config {
  std::filesystem::path file;       // the file this was loaded from (absolute)
  ListenAddress listen;
  std::filesystem::path rules_dir;  // absolute, resolved against the config file's folder
  std::filesystem::path state_dir = "/var/lib/eventrouter";
  std::filesystem::path tokens_file;  // empty: no authentication
  std::optional<TlsConfig> tls;
  Limits limits;
  LogConfig log;
};

// Loads and checks a configuration file. Every problem is collected; if there is any, throws
// ConfigError holding all of them as FILE:LINE:COL diagnostics.
Config load_config(const std::filesystem::path& file);

// The file `serve` and `validate` use without -c: ./config/eventrouter.yaml if it exists,
// else /etc/eventrouter/eventrouter.yaml.
std::filesystem::path default_config_path();

}  // namespace eventrouter::config
