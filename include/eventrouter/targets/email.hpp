#pragma once
// email: sends the payload as the UTF-8 text body of an RFC 5322 message, over SMTP with
// libcurl (STARTTLS required, opportunistic or never; or implicit TLS), with optional AUTH.
// Header values never contain CR or LF (a subject that would is refused), so events cannot
// inject headers.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_base.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"
#include "eventrouter/targets/worker_pool.hpp"
#include "eventrouter/transform/payload_shaper.hpp"

namespace eventrouter::targets {

struct MailAddress {
  std::string display_name;  // may be empty
  std::string address;       // local@domain
};

// Parses "local@domain" or "Display Name <local@domain>"; nullopt if it is neither, or if it
// contains CR, LF or other control characters.
std::optional<MailAddress> parse_mail_address(std::string_view text);

struct EmailConfig {
  // smtp.starttls: whether the plain connection must, may or must not be upgraded to TLS.
  enum class StartTls { kRequired, kOpportunistic, kNever };

  std::string rule, id;
  struct Smtp {
    std::string host;
    int port = 25;
    StartTls starttls = StartTls::kOpportunistic;
    bool tls = false;  // implicit TLS (smtps, usually port 465); starttls does not apply
    std::string username, password;
    std::string ca_file;  // empty: the system store
    bool verify = true;
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  } smtp;
  MailAddress from;
  std::vector<MailAddress> to;
  std::string subject = "eventrouter: <aws.events.rule-name>";
};

std::optional<EmailConfig> read_email_config(const TargetSpec& spec,
                                             std::vector<config::Diagnostic>& problems);

// The whole message (headers, blank line, quoted-printable body), CRLF line endings. Fails if
// a header value would contain CR or LF.
Expected<std::string, std::string> build_email_message(const EmailConfig& config,
                                                       const std::string& subject,
                                                       const Invocation& invocation,
                                                       std::chrono::system_clock::time_point now);

// RFC 2047 encoded-words for a header value that is not plain printable ASCII, folded to keep
// lines short; plain ASCII comes back unchanged.
std::string encode_header_value(std::string_view value);

// Quoted-printable (RFC 2045) with CRLF line endings; LF and CRLF in `text` become line breaks.
std::string quoted_printable(std::string_view text);

// The email type's descriptor (registry.cpp registers it).
const TargetType& email_target_type();

class EmailTarget final : public TargetBase {
 public:
  // Sends up to `threads` messages at once (the target's max_concurrency).
  EmailTarget(EmailConfig config, transform::EventTemplate subject, std::size_t threads);
  ~EmailTarget() override;

 private:
  struct Transfer;

  void send(Invocation invocation, Completion done) override;
  void on_stop() override;
  void abort() override;

  // One message, start to end, on a pool thread.
  DeliveryResult send_once(const Invocation& invocation);
  // The message for `invocation`, or why it can never be sent (permanent).
  Expected<std::string, DeliveryResult> compose(const Invocation& invocation) const;
  // Points the transfer's curl handle at the server, the envelope and the message.
  void configure(Transfer& transfer);
  // The result of a failed transfer (libcurl's code, the last SMTP reply, libcurl's words).
  DeliveryResult classify(int code, long response, const std::string& detail) const;
  std::string where() const;  // "email RULE/ID via HOST:PORT", for messages

  EmailConfig config_;
  transform::EventTemplate subject_;
  std::atomic<bool> abort_{false};
  WorkerPool pool_;  // last: joined before what send_once() uses is destroyed
};

// Builds the subject template of a checked email target (its placeholders may use the
// target's input_paths_map variables and the predefined ones).
Expected<transform::EventTemplate, std::string> email_subject_template(const TargetSpec& spec,
                                                                       const std::string& subject);

}  // namespace eventrouter::targets
