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
#include "eventrouter/targets/target_spec.hpp"
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
  std::string rule, id;
  struct Smtp {
    std::string host;
    int port = 25;
    std::string starttls = "opportunistic";  // required | opportunistic | never
    bool tls = false;                        // implicit TLS (smtps, usually port 465)
    std::string username, password;
    std::string ca_file;  // empty: the system store
    bool verify = true;
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  } smtp;
  MailAddress from;
  std::vector<MailAddress> to;
  std::string subject = "eventrouter: <aws.events.rule-name>";
  int max_concurrency = 2;
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

class EmailTarget final : public Target {
 public:
  EmailTarget(EmailConfig config, transform::EventTemplate subject);
  ~EmailTarget() override;

  void deliver(Invocation invocation, Completion done) override;
  void shutdown(std::chrono::milliseconds grace) override;

 private:
  DeliveryResult send(const Invocation& invocation);

  EmailConfig config_;
  transform::EventTemplate subject_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> abort_{false};
  WorkerPool pool_;
};

// Builds the subject template of a checked email target (its placeholders may use the
// target's input_paths_map variables and the predefined ones).
Expected<transform::EventTemplate, std::string> email_subject_template(const TargetSpec& spec,
                                                                       const std::string& subject);

}  // namespace eventrouter::targets
