#pragma once
// nats: publishes each payload to a NATS subject, for SIEMs and data lakes that read from NATS.
// Core NATS (fire and forget: success once the client flushed the message to the server) or
// JetStream (success once the stream acknowledged it, with Nats-Msg-Id set so a retried delivery
// is stored once). Publishing blocks for up to publish_timeout, so it runs on the target's own
// WorkerPool, never on the delivery io_context.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/config/nats_connection.hpp"
#include "eventrouter/nats/connection.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_base.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"
#include "eventrouter/targets/worker_pool.hpp"
#include "eventrouter/transform/payload_shaper.hpp"

namespace eventrouter::targets {

struct NatsTargetConfig {
  std::string rule, id;
  config::NatsConnectionConfig connection;
  std::string subject;
  bool jetstream = false;
  // Configured headers, in file order; values may hold placeholders (like an e-mail subject).
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds publish_timeout{std::chrono::seconds(5)};
};

std::optional<NatsTargetConfig> read_nats_target_config(const TargetSpec& spec,
                                                        std::vector<config::Diagnostic>& problems);

// Why `subject` cannot be published to (empty, a wildcard, whitespace, an empty token), or
// nothing.
std::optional<std::string> nats_subject_problem(std::string_view subject);

// The nats type's descriptor (registry.cpp registers it).
const TargetType& nats_target_type();

class NatsTarget final : public TargetBase {
 public:
  struct Header {
    std::string name;
    transform::EventTemplate value;
  };

  // Publishes up to `threads` messages at once (the target's max_concurrency) over `connection`.
  NatsTarget(NatsTargetConfig config, std::vector<Header> headers,
             std::shared_ptr<nats::Connection> connection, std::size_t threads);
  ~NatsTarget() override;

 private:
  void send(Invocation invocation, Completion done) override;
  void on_stop() override;
  void abort() override;

  // One message, built and published, on a pool thread.
  DeliveryResult publish(const Invocation& invocation);
  // The message for `invocation`, or why it can never be sent (permanent).
  Expected<nats::MsgPtr, DeliveryResult> compose(const Invocation& invocation) const;
  DeliveryResult publish_core(natsMsg* message);
  DeliveryResult publish_jetstream(natsMsg* message);
  std::string where() const;  // "nats RULE/ID to SUBJECT", for messages

  NatsTargetConfig config_;
  std::vector<Header> headers_;
  std::shared_ptr<nats::Connection> connection_;
  WorkerPool pool_;  // last: joined before what publish() uses is destroyed
};

}  // namespace eventrouter::targets
