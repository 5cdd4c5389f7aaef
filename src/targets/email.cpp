#include "eventrouter/targets/email.hpp"
#include "eventrouter/targets/header_value.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <curl/curl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "eventrouter/util/ids.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool is_plain_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

std::string base64(std::string_view data) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    const unsigned v = static_cast<unsigned char>(data[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool is_atext_phrase(std::string_view name) {
  static constexpr std::string_view specials = "()<>[]:;@\\,.\"";
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return specials.find(c) != std::string_view::npos; });
}

std::string format_address(const MailAddress& address) {
  if (address.display_name.empty()) return address.address;
  std::string name;
  if (!is_plain_ascii(address.display_name)) {
    name = encode_header_value(address.display_name);
  } else if (is_atext_phrase(address.display_name)) {
    name = address.display_name;
  } else {
    name = "\"";
    for (char c : address.display_name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += "\"";
  }
  return name + " <" + address.address + ">";
}

std::string rfc5322_date(std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &parts);
  return buffer;
}

struct Upload {
  std::string data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

int abort_transfer(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::optional<MailAddress> parse_mail_address(std::string_view text) {
  if (has_control(text)) return std::nullopt;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  MailAddress result;
  std::string_view address = text;
  const std::size_t open = text.rfind('<');
  if (open != std::string_view::npos) {
    if (!text.ends_with(">")) return std::nullopt;
    std::string_view name = text.substr(0, open);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (name.find_first_of("\"<>") != std::string_view::npos) return std::nullopt;
    result.display_name = std::string(name);
    address = text.substr(open + 1, text.size() - open - 2);
  }
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
      address.find_first_of(" <>\",;()[]\\") != std::string_view::npos ||
      address.substr(at + 1).find('.') == std::string_view::npos ||
      address.substr(at + 1).find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  result.address = std::string(address);
  return result;
}

std::string encode_header_value(std::string_view value) {
  if (is_plain_ascii(value) && value.size() <= 900) return std::string(value);
  // Encoded words of at most 45 bytes (60 base64 characters), split between UTF-8 characters.
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t end = std::min(value.size(), i + 45);
    while (end < value.size() && end > i + 1 &&
           (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(value.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t column = 0;
  auto emit = [&](std::string_view piece) {
    if (column + piece.size() > 75) {  // 76 with the '=' of the soft break
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      out += "\r\n";
      column = 0;
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' ||
                             (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    const bool literal =
        (u >= 33 && u <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    // A '.' opening a line is encoded too, so no SMTP server can mistake it for the end.
    if (literal && !(c == '.' && column == 0)) {
      emit(std::string_view(&text[i], 1));
    } else {
      const char encoded[3] = {'=', hex[u >> 4], hex[u & 0xf]};
      emit(std::string_view(encoded, 3));
    }
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

Expected<std::string, std::string> build_email_message(const EmailConfig& config,
                                                       const std::string& subject,
                                                       const Invocation& invocation,
                                                       std::chrono::system_clock::time_point now) {
  const std::string domain = config.from.address.substr(config.from.address.rfind('@') + 1);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Date", rfc5322_date(now)},
      {"From", format_address(config.from)},
  };
  std::string to;
  for (const auto& address : config.to) {
    if (!to.empty()) to += ",\r\n ";
    to += format_address(address);
  }
  headers.emplace_back("To", to);
  headers.emplace_back("Subject", subject);
  headers.emplace_back("Message-ID", "<" + make_uuid_v4() + "@" + domain + ">");
  headers.emplace_back("MIME-Version", "1.0");
  headers.emplace_back("Content-Type", "text/plain; charset=UTF-8");
  headers.emplace_back("Content-Transfer-Encoding", "quoted-printable");
  headers.emplace_back("X-Eventrouter-Event-Id", invocation.event_id);
  headers.emplace_back("X-Eventrouter-Rule", invocation.rule);
  headers.emplace_back("X-Eventrouter-Target", invocation.target);

  std::string message;
  for (const auto& [name, value] : headers) {
    // From and To are built (and folded) by us from addresses checked when the rules loaded;
    // every other value goes through the one outgoing-value check, before any encoding.
    if (name != "From" && name != "To") {
      if (auto problem = outgoing_value_problem("the " + name + " header", value))
        return unexpected(*problem);
    }
    message += name + ": " + (name == "Subject" ? encode_header_value(value) : value) + "\r\n";
  }
  message += "\r\n";
  message += quoted_printable(invocation.payload);
  return message;
}

std::optional<EmailConfig> read_email_config(const TargetSpec& spec,
                                             std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  EmailConfig config;
  config.rule = spec.rule;
  config.id = spec.id;
  if (!reader.has("smtp")) reader.problem(spec.node, "smtp is required (at least smtp.host)");
  if (auto smtp = reader.child("smtp")) {
    smtp->check_keys({"host", "port", "starttls", "tls", "username", "password", "ca_file",
                      "verify", "timeout"});
    if (reader.has("smtp")) {
      if (auto host = smtp->string("host", true)) {
        if (host->empty() || has_control(*host) ||
            host->find_first_of(" /@") != std::string::npos) {
          smtp->problem(smtp->get("host"), "smtp.host must be a host name or address");
        }
        config.smtp.host = *host;
      }
    }
    if (auto tls = smtp->boolean("tls", false)) config.smtp.tls = *tls;
    if (auto port = smtp->integer("port", config.smtp.tls ? 465 : 25, 1, 65535)) {
      config.smtp.port = static_cast<int>(*port);
    }
    if (auto starttls =
            smtp->choice("starttls", "opportunistic", {"required", "opportunistic", "never"})) {
      config.smtp.starttls = *starttls == "required" ? EmailConfig::StartTls::kRequired
                             : *starttls == "never"  ? EmailConfig::StartTls::kNever
                                                     : EmailConfig::StartTls::kOpportunistic;
    }
    if (config.smtp.tls && smtp->has("starttls")) {
      smtp->problem(smtp->get("starttls"),
                    "smtp.starttls does not apply with smtp.tls: true (implicit TLS)");
    }
    if (auto username = smtp->string("username", false)) config.smtp.username = *username;
    if (auto password = smtp->string("password", false)) config.smtp.password = *password;
    if (config.smtp.username.empty() != config.smtp.password.empty()) {
      smtp->problem(reader.get("smtp"), "smtp.username and smtp.password go together");
    }
    if (!config.smtp.username.empty() && !config.smtp.tls &&
        config.smtp.starttls != EmailConfig::StartTls::kRequired) {
      smtp->problem(reader.get("smtp"),
                    "smtp.username needs TLS so the password is never sent in clear: set "
                    "smtp.starttls: required or smtp.tls: true");
    }
    if (auto ca_file = smtp->string("ca_file", false)) {
      if (::access(ca_file->c_str(), R_OK) != 0) {
        smtp->problem(smtp->get("ca_file"), "smtp.ca_file " + *ca_file + " cannot be read");
      }
      config.smtp.ca_file = *ca_file;
    }
    if (auto verify = smtp->boolean("verify", true)) config.smtp.verify = *verify;
    if (auto timeout = smtp->duration("timeout", config.smtp.timeout,
                                      std::chrono::milliseconds(100), std::chrono::minutes(10))) {
      config.smtp.timeout = *timeout;
    }
  }
  if (auto from = reader.string("from", true)) {
    if (auto address = parse_mail_address(*from)) {
      config.from = std::move(*address);
    } else {
      reader.problem(reader.get("from"),
                     "from must be an address such as alerts@example.com or "
                     "\"Security Alerts <alerts@example.com>\"");
    }
  }
  if (reader.has("to") && reader.get("to").is_scalar()) {
    reader.problem(reader.get("to"), "to must be a list of addresses");
  } else if (auto to = reader.string_list("to", true)) {
    if (to->empty() || to->size() > 100) {
      reader.problem(reader.get("to"), "to must list 1 to 100 addresses");
    }
    for (const auto& entry : *to) {
      if (auto address = parse_mail_address(entry)) {
        config.to.push_back(std::move(*address));
      } else {
        reader.problem(reader.get("to"), "to has an entry that is not an e-mail address");
      }
    }
  }
  if (auto subject = reader.string("subject", false)) {
    if (has_control(*subject)) {
      reader.problem(reader.get("subject"), "subject must not contain line breaks");
    }
    config.subject = *subject;
  }
  if (!reader.failed()) {
    auto compiled = email_subject_template(spec, config.subject);
    if (!compiled) reader.problem(reader.get("subject"), "subject: " + compiled.error());
  }
  if (reader.failed()) return std::nullopt;
  return config;
}

Expected<transform::EventTemplate, std::string> email_subject_template(const TargetSpec& spec,
                                                                       const std::string& subject) {
  auto variables = transform::PayloadShaper::paths_map_from_node(spec.node, spec.position.file);
  if (!variables) return unexpected(variables.error().front().message);
  return transform::EventTemplate::compile(std::move(*variables), subject, true);
}

EmailTarget::EmailTarget(EmailConfig config, transform::EventTemplate subject, std::size_t threads)
    : config_(std::move(config)), subject_(std::move(subject)), pool_(threads) {
  init_curl_once();
}

EmailTarget::~EmailTarget() {
  shutdown(std::chrono::milliseconds(0));
}

void EmailTarget::send(Invocation invocation, Completion done) {
  deliver_pooled(pool_, std::move(invocation), std::move(done),
                 [this](const Invocation& pending) { return send_once(pending); });
}

std::string EmailTarget::where() const {
  return "email " + config_.rule + "/" + config_.id + " via " + config_.smtp.host + ":" +
         std::to_string(config_.smtp.port);
}

Expected<std::string, DeliveryResult> EmailTarget::compose(const Invocation& invocation) const {
  auto subject =
      subject_.render(placeholder_event(invocation), invocation.rule, invocation.ingestion_time);
  if (!subject) {
    return unexpected(DeliveryResult::permanent(ErrorCode::kInvalidParameter,
                                                where() + ": subject: " + subject.error()));
  }
  auto built = build_email_message(config_, *subject, invocation, std::chrono::system_clock::now());
  if (!built) {
    return unexpected(
        DeliveryResult::permanent(ErrorCode::kInvalidParameter, where() + ": " + built.error()));
  }
  return std::move(*built);
}

namespace {

struct CurlEasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

// One SMTP transfer: the curl handle and everything its options point at, which must live as
// long as it does. The handles are released however the transfer ends.
struct EmailTarget::Transfer {
  std::unique_ptr<CURL, CurlEasyCleanup> curl{curl_easy_init()};
  std::unique_ptr<curl_slist, CurlListFree> recipients;
  std::string url;
  std::string mail_from;
  Upload upload;
  char error_buffer[CURL_ERROR_SIZE] = "";
};

void EmailTarget::configure(Transfer& transfer) {
  char hostname[256] = "localhost";
  ::gethostname(hostname, sizeof hostname - 1);
  transfer.url = std::string(config_.smtp.tls ? "smtps://" : "smtp://") +
                 (config_.smtp.host.find(':') != std::string::npos ? "[" + config_.smtp.host + "]"
                                                                   : config_.smtp.host) +
                 ":" + std::to_string(config_.smtp.port) + "/" + hostname;
  transfer.mail_from = "<" + config_.from.address + ">";
  for (const auto& address : config_.to) {
    curl_slist* longer =
        curl_slist_append(transfer.recipients.get(), ("<" + address.address + ">").c_str());
    if (longer != nullptr) {
      (void)transfer.recipients.release();  // appending keeps the list: `longer` now holds it
      transfer.recipients.reset(longer);
    }
  }

  CURL* curl = transfer.curl.get();
  curl_easy_setopt(curl, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, transfer.mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, transfer.recipients.get());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &transfer.upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                   static_cast<curl_off_t>(transfer.upload.data.size()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.smtp.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.smtp.timeout.count()));
  // Lets shutdown abort a transfer that outlives the grace period.
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &abort_);
  if (!config_.smtp.tls) {
    long use_ssl = CURLUSESSL_TRY;
    switch (config_.smtp.starttls) {
      case EmailConfig::StartTls::kRequired:
        use_ssl = CURLUSESSL_ALL;
        break;
      case EmailConfig::StartTls::kOpportunistic:
        use_ssl = CURLUSESSL_TRY;
        break;
      case EmailConfig::StartTls::kNever:
        use_ssl = CURLUSESSL_NONE;
        break;
    }
    curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
  }
  if (!config_.smtp.ca_file.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, config_.smtp.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, config_.smtp.verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, config_.smtp.verify ? 2L : 0L);
  if (!config_.smtp.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config_.smtp.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.smtp.password.c_str());
  }
}

DeliveryResult EmailTarget::classify(int code, long response, const std::string& detail) const {
  std::string message = where() + ": " + detail;
  if (response > 0) message += " (SMTP " + std::to_string(response) + ")";
  switch (static_cast<CURLcode>(code)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return DeliveryResult::retryable(ErrorCode::kConnectionFailure, message);
    case CURLE_USE_SSL_FAILED:
      return DeliveryResult::retryable(
          ErrorCode::kConnectionFailure,
          message + "; the server did not offer STARTTLS, which smtp.starttls: required demands");
    case CURLE_OPERATION_TIMEDOUT:
      return DeliveryResult::retryable(ErrorCode::kTimeout, message);
    case CURLE_ABORTED_BY_CALLBACK:
      return DeliveryResult::retryable(ErrorCode::kInternalError,
                                       where() + ": aborted at shutdown");
    case CURLE_LOGIN_DENIED:
      return DeliveryResult::retryable(ErrorCode::kNoPermissions, message);
    default:
      if (response >= 500 && response < 600) {
        return DeliveryResult::permanent(ErrorCode::kErrorFromTarget, message);
      }
      return DeliveryResult::retryable(ErrorCode::kErrorFromTarget, message);
  }
}

DeliveryResult EmailTarget::send_once(const Invocation& invocation) {
  auto message = compose(invocation);
  if (!message) return message.error();

  Transfer transfer;
  if (!transfer.curl) {
    return DeliveryResult::retryable(ErrorCode::kInternalError,
                                     where() + ": curl_easy_init failed");
  }
  transfer.upload = Upload{std::move(*message), 0};
  configure(transfer);
  const CURLcode code = curl_easy_perform(transfer.curl.get());
  long response = 0;
  curl_easy_getinfo(transfer.curl.get(), CURLINFO_RESPONSE_CODE, &response);

  if (code == CURLE_OK) {
    spdlog::info("{} event {} attempt {}: sent to {} recipient(s)", where(), invocation.event_id,
                 invocation.attempt, config_.to.size());
    return DeliveryResult::ok();
  }
  const DeliveryResult result =
      classify(code, response,
               transfer.error_buffer[0] != '\0' ? transfer.error_buffer : curl_easy_strerror(code));
  spdlog::warn("{} event {} attempt {}: {}", where(), invocation.event_id, invocation.attempt,
               result.error_message);
  return result;
}

void EmailTarget::on_stop() {
  pool_.stop();  // queued messages complete as retryable
}

void EmailTarget::abort() {
  // A message in flight is bounded by smtp.timeout; past the grace period it is aborted.
  abort_ = true;
}

// max_concurrency when the target does not set it.
constexpr int kDefaultConcurrency = 2;

const TargetType& email_target_type() {
  static const TargetType type{
      "email",
      {"smtp", "from", "to", "subject"},
      {},
      {.max_concurrency = kDefaultConcurrency, .max_concurrency_limit = 64},
      [](const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
        read_email_config(spec, problems);
      },
      [](const TargetSpec& spec, TargetContext&, const TargetLimits& limits,
         std::vector<config::Diagnostic>& problems) -> std::unique_ptr<Target> {
        auto config = read_email_config(spec, problems);
        if (!config) return nullptr;
        auto subject = email_subject_template(spec, config->subject);
        if (!subject) throw std::invalid_argument(subject.error());
        return std::make_unique<EmailTarget>(
            std::move(*config), std::move(*subject),
            static_cast<std::size_t>(limits.max_concurrency.value_or(kDefaultConcurrency)));
      }};
  return type;
}

}  // namespace eventrouter::targets
