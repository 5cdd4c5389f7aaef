#include "eventrouter/nats/connection.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace eventrouter::nats {

namespace {

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

// Runs on the client's callback thread, possibly after the Connection that opened the
// connection is gone (the client keeps the connection alive for its callbacks), so it reads
// nothing of ours. The close of a connection disconnects it too: that is no news.
void on_disconnected(natsConnection* connection, void*) {
  if (!natsConnection_IsClosed(connection)) spdlog::warn("nats: disconnected; reconnecting");
}

void on_reconnected(natsConnection* connection, void*) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof url);
  spdlog::info("nats: reconnected to {}", url);
}

// Given to the retrying connect: without a callback the client's connect blocks until a server
// answers, which with unlimited reconnects is forever.
void on_connected(natsConnection* connection, void*) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof url);
  spdlog::info("nats: connected to {}", url);
}

void on_error(natsConnection*, natsSubscription*, natsStatus status, void*) {
  spdlog::warn("nats: {}", describe(status));
}

// Every option the settings name, checked in one place: the first the client refuses is
// the error.
Expected<OptionsPtr, std::string> make_options(const config::NatsConnectionConfig& config,
                                               const std::string& name, bool wait_for_server) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return unexpected(std::string("out of memory"));
  OptionsPtr options(raw);
  std::vector<const char*> servers;
  for (const auto& server : config.servers) servers.push_back(server.c_str());
  const auto check = [](natsStatus status, const char* what) -> Expected<bool, std::string> {
    if (status == NATS_OK) return true;
    return unexpected(std::string(what) + ": " + describe(status));
  };
  for (auto result : {
           check(natsOptions_SetServers(raw, servers.data(), static_cast<int>(servers.size())),
                 "servers"),
           check(natsOptions_SetName(raw, name.c_str()), "name"),
           check(natsOptions_SetTimeout(raw, config.connect_timeout.count()), "connect_timeout"),
           // A cluster node restarting is routine: never stop reconnecting.
           check(natsOptions_SetMaxReconnect(raw, -1), "reconnect"),
           check(natsOptions_SetReconnectWait(raw, 250), "reconnect"),
           check(natsOptions_SetReconnectBufSize(raw, 8 * 1024 * 1024), "reconnect buffer"),
           check(natsOptions_SetDisconnectedCB(raw, on_disconnected, nullptr), "callbacks"),
           check(natsOptions_SetReconnectedCB(raw, on_reconnected, nullptr), "callbacks"),
           check(natsOptions_SetErrorHandler(raw, on_error, nullptr), "callbacks"),
           check(natsOptions_SetRetryOnFailedConnect(
                     raw, !wait_for_server, wait_for_server ? nullptr : on_connected, nullptr),
                 "retry"),
       }) {
    if (!result) return unexpected(result.error());
  }
  if (!config.token.empty()) {
    if (auto r = check(natsOptions_SetToken(raw, config.token.c_str()), "token"); !r)
      return unexpected(r.error());
  }
  if (!config.user.empty()) {
    if (auto r = check(natsOptions_SetUserInfo(raw, config.user.c_str(), config.password.c_str()),
                       "user");
        !r)
      return unexpected(r.error());
  }
  if (!config.creds_file.empty()) {
    if (auto r =
            check(natsOptions_SetUserCredentialsFromFiles(raw, config.creds_file.c_str(), nullptr),
                  "creds_file");
        !r)
      return unexpected(r.error());
  }
  if (config.nkey) {
    if (auto r = check(natsOptions_SetNKeyFromSeed(raw, config.nkey->public_key.c_str(),
                                                   config.nkey->seed_file.c_str()),
                       "nkey");
        !r)
      return unexpected(r.error());
  }
  if (config.tls) {
    if (auto r = check(natsOptions_SetSecure(raw, true), "tls"); !r) return unexpected(r.error());
    if (!config.tls->ca_file.empty()) {
      if (auto r = check(natsOptions_LoadCATrustedCertificates(raw, config.tls->ca_file.c_str()),
                         "tls.ca_file");
          !r)
        return unexpected(r.error());
    }
    if (!config.tls->cert_file.empty()) {
      if (auto r = check(natsOptions_LoadCertificatesChain(raw, config.tls->cert_file.c_str(),
                                                           config.tls->key_file.c_str()),
                         "tls.cert_file");
          !r)
        return unexpected(r.error());
    }
  }
  return options;
}

}  // namespace

std::string describe(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == status && text != detail) {
    text += " (";
    text += detail;
    text += ")";
  }
  return text;
}

std::string describe(natsStatus status, jsErrCode code) {
  auto text = describe(status);
  if (code != 0) text += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  return text;
}

Expected<std::shared_ptr<Connection>, std::string> Connection::open(
    const config::NatsConnectionConfig& config, const std::string& name, bool wait_for_server) {
  std::shared_ptr<Connection> connection(new Connection());
  // One attempt in the foreground first: its error says why it failed (a wrong token, a TLS
  // handshake refused), which the client's background retries do not tell.
  auto options = make_options(config, name, true);
  if (!options) return unexpected("cannot set up the NATS client: " + options.error());
  auto status = natsConnection_Connect(&connection->connection_, options->get());
  if (status != NATS_OK && !wait_for_server) {
    connection->first_error_ = describe(status);
    options = make_options(config, name, false);
    if (!options) return unexpected("cannot set up the NATS client: " + options.error());
    status = natsConnection_Connect(&connection->connection_, options->get());
  }
  // NATS_NOT_YET_CONNECTED: retrying in the background, as asked.
  if (status != NATS_OK && status != NATS_NOT_YET_CONNECTED) {
    return unexpected("cannot connect to NATS (" + std::to_string(config.servers.size()) +
                      " server(s) tried): " + describe(status));
  }
  if (const auto js =
          natsConnection_JetStream(&connection->jetstream_, connection->connection_, nullptr);
      js != NATS_OK) {
    return unexpected("cannot use JetStream: " + describe(js));
  }
  return connection;
}

Connection::~Connection() {
  if (jetstream_ != nullptr) jsCtx_Destroy(jetstream_);
  if (connection_ != nullptr) {
    // What is buffered (acks, progress) goes out before the close, for at most two seconds.
    if (connected()) natsConnection_FlushTimeout(connection_, 2000);
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
  }
}

bool Connection::connected() const {
  return connection_ != nullptr && natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED;
}

std::string Connection::last_error() const {
  const char* text = nullptr;
  if (connection_ != nullptr && natsConnection_GetLastError(connection_, &text) != NATS_OK &&
      text != nullptr && first_error_.empty())
    return text;
  return first_error_;
}

std::string Connection::connected_url() const {
  char url[512] = "";
  if (!connected() || natsConnection_GetConnectedUrl(connection_, url, sizeof url) != NATS_OK)
    return {};
  return url;
}

}  // namespace eventrouter::nats
