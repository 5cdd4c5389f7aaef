#pragma once
// One connection to a NATS server or cluster through the official C client, made from the
// settings config::read_nats_connection reads, and the owners for the client's objects. The
// client reconnects by itself (to any server of the list, forever); connected() tells whether
// it is connected now.

#include <nats/nats.h>

#include <memory>
#include <string>

#include "eventrouter/config/nats_connection.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::nats {

struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

struct StreamInfoDeleter {
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;

// The client's words for `status`, with the detail of the last error on this thread.
std::string describe(natsStatus status);
// The same for a JetStream API call, which also returns the server's error code.
std::string describe(natsStatus status, jsErrCode code);

class Connection {
 public:
  // Connects to the configured servers. With `wait_for_server` false the call returns at once
  // when no server answers yet and the client keeps trying in the background (a router starts,
  // and reports itself not ready, while its cluster is down); otherwise it fails after the
  // connect timeout. `name` is shown by the server (connz) to tell routers apart.
  static Expected<std::shared_ptr<Connection>, std::string> open(
      const config::NatsConnectionConfig& config, const std::string& name, bool wait_for_server);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* get() const { return connection_; }
  // The JetStream context, for requests of up to `request_timeout_ms`.
  jsCtx* jetstream() const { return jetstream_; }
  bool connected() const;
  // Why the last connection attempt failed (e.g. "Authorization Violation"), or "".
  std::string last_error() const;
  // The URL of the server it is connected to, or "" when it is not.
  std::string connected_url() const;

 private:
  Connection() = default;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
  std::string first_error_;  // why the first, foreground attempt failed
};

}  // namespace eventrouter::nats
