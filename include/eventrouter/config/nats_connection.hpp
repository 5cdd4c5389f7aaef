#pragma once
// How eventrouter reaches a NATS server or cluster: read in one place for both users of it,
// the cluster backend (bus.nats in eventrouter.yaml) and the nats target type of rule files, so
// both take the same keys, check them the same way and word their problems alike.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/config/yaml_file.hpp"

namespace eventrouter::config {

struct NatsTlsConfig {
  std::filesystem::path ca_file;    // empty: the system's trusted CAs
  std::filesystem::path cert_file;  // with key_file: a client certificate
  std::filesystem::path key_file;
};

// An NKey user: its public key, and the file holding its seed (never the seed itself).
struct NatsNKeyConfig {
  std::string public_key;
  std::filesystem::path seed_file;
};

struct NatsConnectionConfig {
  std::vector<std::string> servers;  // nats://HOST:PORT or tls://HOST:PORT
  // At most one way to authenticate (the reader refuses two).
  std::string token;
  std::string user;
  std::string password;
  std::optional<NatsNKeyConfig> nkey;
  std::filesystem::path creds_file;  // a JWT and NKey seed, as `nsc` writes them
  std::optional<NatsTlsConfig> tls;  // absent: TLS only when a server URL says tls://
  std::chrono::milliseconds connect_timeout{5000};
};

// The keys read_nats_connection takes, for the caller's check_keys.
const std::vector<std::string>& nats_connection_keys();

// Reads the connection keys of the mapping `reader` is over: servers (required), token, user
// and password, nkey {public_key, seed_file}, creds_file, tls {ca_file, cert_file, key_file},
// connect_timeout. Relative paths are taken from `folder`; files must exist. Problems go to the
// reader; what could be read is returned.
NatsConnectionConfig read_nats_connection(MappingReader& reader,
                                          const std::filesystem::path& folder);

// Whether `url` is a server address the client takes: nats://HOST:PORT, tls://HOST:PORT or
// HOST:PORT, without credentials in it (they belong in the keys, which can be secrets).
bool valid_nats_server_url(std::string_view url);

}  // namespace eventrouter::config
