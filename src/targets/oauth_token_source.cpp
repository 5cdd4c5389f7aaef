#include "eventrouter/targets/oauth_token_source.hpp"

#include <memory>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

namespace eventrouter::targets {

namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlEasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The answer's body, up to kMaxTokenResponseBytes; a longer one ends the transfer.
struct Answer {
  std::string body;
  bool too_large = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto& answer = *static_cast<Answer*>(user);
  const std::size_t n = size * count;
  if (answer.body.size() + n > kMaxTokenResponseBytes) {
    answer.too_large = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  answer.body.append(data, n);
  return n;
}

int abort_transfer(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

std::string printable(const char* text) {
  std::string out(text);
  if (out.size() > 200) out.resize(200);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

DeliveryResult shutting_down() {
  return DeliveryResult::retryable(ErrorCode::kInternalError,
                                   "OAuth token fetch aborted: the target is shutting down");
}

}  // namespace

OAuthTokenSource::OAuthTokenSource(OAuthClientCredentials config, metrics::Registry& metrics,
                                   const std::string& rule, const std::string& target)
    : config_(std::move(config)),
      endpoint_(config_.endpoint_name()),
      // Created at the first fetch: a webhook that never fetched a token adds nothing to a
      // scrape.
      fetches_([&metrics, rule, target] {
        auto outcome = [&](const char* name) {
          return &metrics.counter("eventrouter_webhook_token_fetches_total",
                                  "OAuth token fetches of webhook targets, by outcome.",
                                  {{"rule", rule}, {"target", target}, {"outcome", name}});
        };
        return FetchCounters{outcome("success"), outcome("retryable_failure"),
                             outcome("permanent_failure")};
      }) {
  init_curl_once();
}

OAuthTokenSource::~OAuthTokenSource() {
  stop();
}

void OAuthTokenSource::stop() {
  abort_ = true;
  pool_.stop();  // a fetch not yet started is cancelled; one running ends at its next progress
}

void OAuthTokenSource::get(Callback ready) {
  std::unique_lock lock(mutex_);
  if (cached_ &&
      (!cached_->refresh_at || std::chrono::steady_clock::now() < *cached_->refresh_at)) {
    std::string token = cached_->token;
    lock.unlock();
    ready(std::move(token));
    return;
  }
  waiting_.push_back(std::move(ready));
  if (fetching_) return;  // single flight: this caller waits for the fetch under way
  fetching_ = true;
  lock.unlock();
  WorkerPool::Job job;
  job.run = [this] { complete(fetch()); };
  job.cancel = [this] { complete(unexpected(shutting_down())); };
  if (!pool_.post(std::move(job))) complete(unexpected(shutting_down()));
}

void OAuthTokenSource::refused(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (cached_ && cached_->token == token) cached_.reset();
}

void OAuthTokenSource::complete(const Expected<AccessToken, DeliveryResult>& outcome) {
  std::vector<Callback> waiting;
  {
    std::lock_guard lock(mutex_);
    fetching_ = false;
    waiting.swap(waiting_);
    if (outcome) {
      Cached cached{outcome->value, std::nullopt};
      if (outcome->expires_in) {
        cached.refresh_at = std::chrono::steady_clock::now() + *outcome->expires_in -
                            token_refresh_margin(*outcome->expires_in);
      }
      cached_ = std::move(cached);
    } else {
      cached_.reset();
    }
  }
  const FetchCounters& fetches = fetches_.get();
  if (outcome) {
    fetches.succeeded->inc();
  } else if (outcome.error().outcome == Outcome::kPermanent) {
    fetches.failed_permanent->inc();
  } else {
    fetches.failed_retryable->inc();
  }
  for (auto& ready : waiting) {
    if (outcome) {
      ready(outcome->value);
    } else {
      ready(unexpected(outcome.error()));
    }
  }
}

Expected<AccessToken, DeliveryResult> OAuthTokenSource::fetch() {
  const std::string who = "token endpoint " + endpoint_;
  std::unique_ptr<CURL, CurlEasyCleanup> handle{curl_easy_init()};
  if (!handle) {
    return unexpected(
        DeliveryResult::retryable(ErrorCode::kInternalError, who + ": curl_easy_init failed"));
  }
  CURL* curl = handle.get();
  const net::HttpUrl& url = config_.token_url;
  const std::string address =
      std::string(url.tls ? "https://" : "http://") + url.host_header() + url.target;
  const std::string body = token_request_body(config_);
  std::unique_ptr<curl_slist, CurlListFree> headers{
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded")};
  if (curl_slist* longer = curl_slist_append(headers.get(), "Accept: application/json")) {
    (void)headers.release();  // appending keeps the list: `longer` now holds it
    headers.reset(longer);
  }
  Answer answer;
  char error_buffer[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, address.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Never through a proxy from the environment: the request carries the client secret, and the
  // webhook requests themselves go direct too.
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "eventrouter/" EVENTROUTER_VERSION);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &abort_);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!config_.tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, config_.tls.ca_file.c_str());
  }
  if (!config_.tls.verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  const CURLcode code = curl_easy_perform(curl);
  if (abort_) return unexpected(shutting_down());
  if (code == CURLE_WRITE_ERROR && answer.too_large) {
    return unexpected(DeliveryResult::retryable(
        ErrorCode::kErrorFromTarget,
        who + ": answer larger than " + std::to_string(kMaxTokenResponseBytes) + " bytes"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return unexpected(DeliveryResult::retryable(
        ErrorCode::kTimeout,
        who + ": no answer within " + std::to_string(config_.timeout.count()) + "ms"));
  }
  if (code != CURLE_OK) {
    const std::string detail = printable(error_buffer[0] ? error_buffer : curl_easy_strerror(code));
    return unexpected(DeliveryResult::retryable(ErrorCode::kConnectionFailure,
                                                who + ": request failed: " + detail));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  auto token = parse_token_response(status, answer.body, endpoint_, config_.client_secret);
  if (token) {
    spdlog::debug("{}: granted a token{}", who,
                  token->expires_in
                      ? " for " + std::to_string(token->expires_in->count()) + "s"
                      : std::string(" without expires_in (kept until a webhook refuses it)"));
  }
  return token;
}

}  // namespace eventrouter::targets
