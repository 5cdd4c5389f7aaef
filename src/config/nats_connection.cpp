#include "eventrouter/config/nats_connection.hpp"

#include <charconv>

namespace eventrouter::config {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTlsKeys = {"ca_file", "cert_file", "key_file"};
const std::vector<std::string> kNKeyKeys = {"public_key", "seed_file"};

// A file the client will read at connect: a typo is caught here rather than at the first
// reconnect. Relative to `folder`.
std::optional<fs::path> existing_file(MappingReader& reader, std::string_view key,
                                      const fs::path& folder) {
  auto text = reader.string(key, false);
  if (!text) return std::nullopt;
  if (text->empty()) {
    reader.problem(reader.get(key), reader.name(key) + " is empty; give a path or remove the key");
    return std::nullopt;
  }
  fs::path path(*text);
  if (path.is_relative()) path = folder / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    reader.problem(reader.get(key),
                   reader.name(key) + ": " + path.string() + " does not exist or is not a file");
    return std::nullopt;
  }
  return path;
}

void read_tls(MappingReader& reader, const fs::path& folder, NatsConnectionConfig& out) {
  if (!reader.has("tls")) return;
  auto tls = reader.child("tls");
  if (!tls) return;
  tls->check_keys(kTlsKeys);
  NatsTlsConfig config;
  if (auto ca = existing_file(*tls, "ca_file", folder)) config.ca_file = *ca;
  auto cert = existing_file(*tls, "cert_file", folder);
  auto key = existing_file(*tls, "key_file", folder);
  if (tls->has("cert_file") != tls->has("key_file")) {
    tls->problem(reader.get("tls"), "a client certificate needs both " + tls->name("cert_file") +
                                        " and " + tls->name("key_file"));
  } else if (cert && key) {
    config.cert_file = *cert;
    config.key_file = *key;
  }
  out.tls = std::move(config);
}

void read_nkey(MappingReader& reader, const fs::path& folder, NatsConnectionConfig& out) {
  if (!reader.has("nkey")) return;
  auto nkey = reader.child("nkey");
  if (!nkey) return;
  nkey->check_keys(kNKeyKeys);
  auto public_key = nkey->string("public_key", true);
  if (public_key && (public_key->size() != 56 || public_key->front() != 'U')) {
    nkey->problem(
        nkey->get("public_key"),
        nkey->name("public_key") + " must be a user's public NKey: 56 characters starting with U");
    public_key.reset();
  }
  if (!nkey->has("seed_file"))
    nkey->problem(reader.get("nkey"), nkey->name("seed_file") + " is required");
  auto seed = existing_file(*nkey, "seed_file", folder);
  if (public_key && seed) out.nkey = NatsNKeyConfig{*public_key, *seed};
}

// At most one way to authenticate: two would leave the server to pick one.
void check_one_auth(MappingReader& reader) {
  std::vector<std::string_view> given;
  for (std::string_view key : {"token", "user", "nkey", "creds_file"})
    if (reader.has(key)) given.push_back(key);
  if (given.size() > 1) {
    reader.problem(reader.get(given[1]), "give one way to authenticate, not both " +
                                             reader.name(given[0]) + " and " +
                                             reader.name(given[1]));
  }
  for (auto [key, needs] : {std::pair{"password", "user"}, std::pair{"user", "password"}}) {
    if (reader.has(key) && !reader.has(needs))
      reader.problem(reader.get(key), reader.name(key) + " needs " + reader.name(needs));
  }
}

}  // namespace

const std::vector<std::string>& nats_connection_keys() {
  static const std::vector<std::string> keys = {"servers", "token",      "user", "password",
                                                "nkey",    "creds_file", "tls",  "connect_timeout"};
  return keys;
}

bool valid_nats_server_url(std::string_view url) {
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    const auto name = rest.substr(0, scheme);
    if (name != "nats" && name != "tls") return false;
    rest.remove_prefix(scheme + 3);
  }
  if (rest.find('@') != std::string_view::npos || rest.find('/') != std::string_view::npos)
    return false;
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto host = rest.substr(0, colon), port = rest.substr(colon + 1);
  for (char c : host)
    if (c <= ' ' || c == '?' || c == '#') return false;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && end == port.data() + port.size() && value > 0 && value <= 65535;
}

NatsConnectionConfig read_nats_connection(MappingReader& reader, const fs::path& folder) {
  NatsConnectionConfig out;
  if (auto servers = reader.string_list("servers", true)) {
    if (servers->empty())
      reader.problem(reader.get("servers"),
                     reader.name("servers") + " is empty; list at least one server");
    for (const auto& server : *servers) {
      if (valid_nats_server_url(server)) {
        out.servers.push_back(server);
      } else {
        // Not quoted: a URL may carry credentials.
        reader.problem(reader.get("servers"),
                       reader.name("servers") +
                           " has an entry that is not nats://HOST:PORT, tls://HOST:PORT or "
                           "HOST:PORT (credentials go in token, user/password, nkey or "
                           "creds_file, not in the URL)");
      }
    }
  }
  check_one_auth(reader);
  if (auto token = reader.string("token", false)) out.token = *token;
  if (auto user = reader.string("user", false)) out.user = *user;
  if (auto password = reader.string("password", false)) out.password = *password;
  if (auto creds = existing_file(reader, "creds_file", folder)) out.creds_file = *creds;
  read_nkey(reader, folder, out);
  read_tls(reader, folder, out);
  if (auto timeout = reader.duration("connect_timeout", out.connect_timeout,
                                     std::chrono::milliseconds(100), std::chrono::minutes(5)))
    out.connect_timeout = *timeout;
  return out;
}

}  // namespace eventrouter::config
