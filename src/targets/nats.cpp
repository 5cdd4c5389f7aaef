#include "eventrouter/targets/nats.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "eventrouter/targets/header_value.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

// max_concurrency when the target does not set it, and its largest value: each publish in
// flight holds one pool thread for at most publish_timeout.
constexpr int kDefaultConcurrency = 64;
constexpr int kMaxConcurrency = 1024;

// The headers eventrouter sets on every message.
constexpr const char* kEventIdHeader = "Eventrouter-Event-Id";
constexpr const char* kRuleHeader = "Eventrouter-Rule";
constexpr const char* kTargetHeader = "Eventrouter-Target";
constexpr const char* kAttemptHeader = "Eventrouter-Attempt";
constexpr const char* kMsgIdHeader = "Nats-Msg-Id";

const std::vector<std::string> kOwnKeys = {"subject", "jetstream", "headers", "publish_timeout"};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// A header name the NATS header block can carry: printable ASCII without ':' or spaces.
bool valid_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return c > ' ' && c < 0x7f && c != ':'; });
}

// Names eventrouter sets itself, and the Nats- prefix, which the server reads (deduplication,
// expected sequences): a configured one would change how the stream stores the message.
std::optional<std::string> reserved_header_problem(std::string_view name) {
  for (const char* own : {kEventIdHeader, kRuleHeader, kTargetHeader, kAttemptHeader}) {
    if (iequals(name, own))
      return "header '" + std::string(name) + "' is set by eventrouter and cannot be configured";
  }
  if (name.size() >= 5 && iequals(name.substr(0, 5), "Nats-"))
    return "header '" + std::string(name) +
           "': Nats- headers are read by the NATS server and cannot be configured";
  return std::nullopt;
}

Expected<transform::EventTemplate, std::string> header_template(const TargetSpec& spec,
                                                                const std::string& value) {
  auto variables = transform::PayloadShaper::paths_map_from_node(spec.node, spec.position.file);
  if (!variables) return unexpected(variables.error().front().message);
  return transform::EventTemplate::compile(std::move(*variables), value, true);
}

}  // namespace

std::optional<std::string> nats_subject_problem(std::string_view subject) {
  if (subject.empty()) return "subject is empty";
  for (char c : subject) {
    if (c == '*' || c == '>')
      return "subject must name one subject, without the wildcards '*' and '>'";
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return "subject must not contain spaces or control characters";
  }
  if (subject.front() == '.' || subject.back() == '.' ||
      subject.find("..") != std::string_view::npos)
    return "subject has an empty token (a leading, trailing or doubled '.')";
  return std::nullopt;
}

std::optional<NatsTargetConfig> read_nats_target_config(const TargetSpec& spec,
                                                        std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  NatsTargetConfig config;
  config.rule = spec.rule;
  config.id = spec.id;
  config.connection = config::read_nats_connection(reader, spec.position.file.parent_path());
  if (auto subject = reader.string("subject", true)) {
    if (auto problem = nats_subject_problem(*subject)) {
      reader.problem(reader.get("subject"), *problem);
    }
    config.subject = std::move(*subject);
  }
  if (auto jetstream = reader.boolean("jetstream", false)) config.jetstream = *jetstream;
  if (auto headers = reader.string_map("headers")) {
    for (const auto& [name, value] : *headers) {
      if (!valid_header_name(name)) {
        reader.problem(reader.get("headers"),
                       "header name '" + name + "' must be printable ASCII without ':' or spaces");
      } else if (auto reserved = reserved_header_problem(name)) {
        reader.problem(reader.get("headers"), *reserved);
      } else if (auto problem = outgoing_value_problem("header '" + name + "'", value)) {
        // The check every message's headers pass again once placeholders are filled in; the
        // value is not quoted: it may be a secret.
        reader.problem(reader.get("headers"), *problem);
      } else if (auto compiled = header_template(spec, value); !compiled) {
        reader.problem(reader.get("headers"), "header '" + name + "': " + compiled.error());
      }
    }
    config.headers = std::move(*headers);
  }
  if (auto timeout = reader.duration("publish_timeout", config.publish_timeout,
                                     std::chrono::milliseconds(10), std::chrono::minutes(1))) {
    config.publish_timeout = *timeout;
  }
  if (reader.failed()) return std::nullopt;
  return config;
}

NatsTarget::NatsTarget(NatsTargetConfig config, std::vector<Header> headers,
                       std::shared_ptr<nats::Connection> connection, std::size_t threads)
    : config_(std::move(config)),
      headers_(std::move(headers)),
      connection_(std::move(connection)),
      pool_(threads) {}

NatsTarget::~NatsTarget() {
  shutdown(std::chrono::milliseconds(0));
}

void NatsTarget::send(Invocation invocation, Completion done) {
  deliver_pooled(pool_, std::move(invocation), std::move(done),
                 [this](const Invocation& pending) { return publish(pending); });
}

void NatsTarget::on_stop() {
  pool_.stop();  // queued messages complete as retryable
}

void NatsTarget::abort() {
  // Closing makes a publish or flush waiting on the server return at once (as retryable); the
  // connection is not used again after shutdown.
  natsConnection_Close(connection_->get());
}

std::string NatsTarget::where() const {
  return "nats " + config_.rule + "/" + config_.id + " to " + config_.subject;
}

Expected<nats::MsgPtr, DeliveryResult> NatsTarget::compose(const Invocation& invocation) const {
  const auto invalid = [this](const std::string& why) {
    return unexpected(
        DeliveryResult::permanent(ErrorCode::kInvalidParameter, where() + ": " + why));
  };
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& header : headers_) {
    auto value = header.value.render(placeholder_event(invocation), invocation.rule,
                                     invocation.ingestion_time);
    if (!value) return invalid("header '" + header.name + "': " + value.error());
    headers.emplace_back(header.name, std::move(*value));
  }
  headers.emplace_back(kEventIdHeader, invocation.event_id);
  headers.emplace_back(kRuleHeader, invocation.rule);
  headers.emplace_back(kTargetHeader, invocation.target);
  headers.emplace_back(kAttemptHeader, std::to_string(invocation.attempt));
  if (config_.jetstream) {
    // The same for every attempt of this delivery: the stream stores a retry once.
    headers.emplace_back(kMsgIdHeader,
                         invocation.event_id + ":" + invocation.rule + ":" + invocation.target);
  }

  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, config_.subject.c_str(), nullptr, invocation.payload.data(),
                     static_cast<int>(invocation.payload.size())) != NATS_OK) {
    return unexpected(DeliveryResult::retryable(ErrorCode::kInternalError,
                                                where() + ": cannot create the message"));
  }
  nats::MsgPtr message(raw);
  for (const auto& [name, value] : headers) {
    // Every value, configured, filled in from the event or our own, passes the one check.
    if (auto problem = outgoing_value_problem("header '" + name + "'", value))
      return invalid(*problem);
    if (natsMsgHeader_Set(raw, name.c_str(), value.c_str()) != NATS_OK)
      return invalid("header '" + name + "' cannot be set");
  }
  return message;
}

DeliveryResult NatsTarget::publish(const Invocation& invocation) {
  auto message = compose(invocation);
  if (!message) return message.error();
  // While the client is reconnecting it would buffer the message and report success for
  // something no server has seen: fail now and let the retry policy try again.
  if (!connection_->connected()) {
    return DeliveryResult::retryable(ErrorCode::kConnectionFailure,
                                     where() + ": not connected to a NATS server");
  }
  DeliveryResult result =
      config_.jetstream ? publish_jetstream(message->get()) : publish_core(message->get());
  if (result.outcome == Outcome::kSuccess) {
    spdlog::debug("{} event {} attempt {}: published", where(), invocation.event_id,
                  invocation.attempt);
  } else {
    spdlog::warn("{} event {} attempt {}: {}", where(), invocation.event_id, invocation.attempt,
                 result.error_message);
  }
  return result;
}

namespace {

DeliveryResult classify(natsStatus status, const std::string& message) {
  switch (status) {
    case NATS_TIMEOUT:
      return DeliveryResult::retryable(ErrorCode::kTimeout, message);
    case NATS_MAX_PAYLOAD:
      // Larger than the server's max_payload: no retry will make it fit.
      return DeliveryResult::permanent(ErrorCode::kInvalidParameter, message);
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_NOT_YET_CONNECTED:
      return DeliveryResult::retryable(ErrorCode::kConnectionFailure, message);
    default:
      return DeliveryResult::retryable(ErrorCode::kErrorFromTarget, message);
  }
}

}  // namespace

DeliveryResult NatsTarget::publish_core(natsMsg* message) {
  natsConnection* connection = connection_->get();
  if (auto status = natsConnection_PublishMsg(connection, message); status != NATS_OK)
    return classify(status, where() + ": publish failed: " + nats::describe(status));
  // Success means the server has it: the flush's PING/PONG round trip proves every earlier
  // byte arrived.
  if (auto status = natsConnection_FlushTimeout(connection, config_.publish_timeout.count());
      status != NATS_OK) {
    return classify(status, where() + ": flush to the server failed: " + nats::describe(status));
  }
  return DeliveryResult::ok();
}

DeliveryResult NatsTarget::publish_jetstream(natsMsg* message) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = config_.publish_timeout.count();
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus status = js_PublishMsg(&ack, connection_->jetstream(), message, &options, &code);
  if (status == NATS_OK) {
    jsPubAck_Destroy(ack);
    return DeliveryResult::ok();
  }
  const std::string detail = nats::describe(status, code);
  if (status == NATS_NO_RESPONDERS) {
    // Nobody answers on the subject: no stream captures it. Publishing again will not help
    // until a stream is made, so this goes to the dead letters rather than being retried.
    return DeliveryResult::permanent(ErrorCode::kResourceNotFound,
                                     where() + ": no JetStream stream captures subject '" +
                                         config_.subject + "' (" + detail + ")");
  }
  if (code != 0) {
    // The stream answered with an error. Running out of room may clear; anything else (a
    // message too large, a stream that refuses the subject) will not.
    if (code == JSInsufficientResourcesErr || code == JSStreamStoreFailedErr ||
        code == JSClusterNoPeersErr) {
      return DeliveryResult::retryable(ErrorCode::kErrorFromTarget,
                                       where() + ": JetStream refused the message: " + detail);
    }
    return DeliveryResult::permanent(ErrorCode::kErrorFromTarget,
                                     where() + ": JetStream refused the message: " + detail);
  }
  return classify(status, where() + ": JetStream publish failed: " + detail);
}

const TargetType& nats_target_type() {
  static const TargetType type{
      "nats",
      [] {
        std::vector<std::string> keys = config::nats_connection_keys();
        keys.insert(keys.end(), kOwnKeys.begin(), kOwnKeys.end());
        return keys;
      }(),
      {{"creds_file", PathKey::Base::kRuleFileFolder}},
      {.max_concurrency = kDefaultConcurrency, .max_concurrency_limit = kMaxConcurrency},
      [](const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
        read_nats_target_config(spec, problems);
      },
      [](const TargetSpec& spec, TargetContext&, const TargetLimits& limits,
         std::vector<config::Diagnostic>& problems) -> std::unique_ptr<Target> {
        auto config = read_nats_target_config(spec, problems);
        if (!config) return nullptr;
        std::vector<NatsTarget::Header> headers;
        for (const auto& [name, value] : config->headers) {
          auto compiled = header_template(spec, value);
          if (!compiled) throw std::invalid_argument(compiled.error());
          headers.push_back({name, std::move(*compiled)});
        }
        // Not waiting for a server: a reload while NATS is down still succeeds, and deliveries
        // fail as retryable until the client has reconnected.
        auto connection = nats::Connection::open(config->connection,
                                                 "eventrouter " + spec.rule + "/" + spec.id, false);
        if (!connection) {
          SpecReader(spec.node, spec, problems, target_name(spec))
              .problem(spec.node["servers"], connection.error());
          return nullptr;
        }
        return std::make_unique<NatsTarget>(
            std::move(*config), std::move(headers), std::move(*connection),
            static_cast<std::size_t>(limits.max_concurrency.value_or(kDefaultConcurrency)));
      }};
  return type;
}

}  // namespace eventrouter::targets
