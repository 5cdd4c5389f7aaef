#include "eventrouter/server/router.hpp"

#include <simdjson.h>

#include <cstdio>

#include "background_worker.hpp"
#include "eventrouter/server/console_assets.hpp"
#include "eventrouter/util/bus_name.hpp"
#include "eventrouter/util/json_numbers.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::server {

namespace {

constexpr std::string_view kPutEventsTarget = "AWSEvents.PutEvents";
constexpr std::string_view kTestEventPatternTarget = "AWSEvents.TestEventPattern";
constexpr std::string_view kAwsJson = "application/x-amz-json-1.1";

std::string_view media_type(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  auto type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The body is read as JSON whatever the type says, as long as the type could describe JSON
// text: curl -d sends application/x-www-form-urlencoded, and some tools say text/plain.
// Types that cannot be one JSON text (multipart forms, XML) are refused.
bool may_hold_json(std::string_view type) {
  if (type.empty() || iequals(type, "application/json") ||
      iequals(type, "application/x-www-form-urlencoded") || iequals(type, "text/plain"))
    return true;
  constexpr std::string_view suffix = "+json";
  return type.size() > suffix.size() && iequals(type.substr(type.size() - suffix.size()), suffix);
}

bool is_read_route(Route route) {
  switch (route) {
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kMetrics:
    case Route::kRules:
    case Route::kEventHistory:
    case Route::kEventList:
    case Route::kConsole:
    case Route::kActivity:
    case Route::kRecentEvents:
    case Route::kDeadLetterList:
      return true;
    default:
      return false;
  }
}

// AWS JSON 1.1 errors: {"__type": ..., "message": ...}, which the SDKs turn into exceptions.
Response aws_error(http::status status, std::string_view type, std::string_view message) {
  std::string body = R"({"__type":)";
  json::append_string(body, type);
  body += R"(,"message":)";
  json::append_string(body, message);
  body += "}";
  Response response = json_response(status, std::move(body));
  response.set(http::field::content_type, kAwsJson);
  response.set("x-amzn-ErrorType", type);
  return response;
}

// 403 in the shape AWS's SDKs read on every route: {"__type":"AccessDeniedException",...}.
Response access_denied(std::string_view message, bool aws) {
  if (aws) return aws_error(http::status::forbidden, "AccessDeniedException", message);
  std::string body = R"({"__type":"AccessDeniedException","message":)";
  json::append_string(body, message);
  body += "}";
  return json_response(http::status::forbidden, std::move(body));
}

// The roles a route needs; for `/`, the X-Amz-Target header says which operation it is.
Requirement requirement_of(Route route, std::string_view aws_target) {
  constexpr auto ingest = static_cast<std::uint8_t>(Role::kIngest);
  constexpr auto read = static_cast<std::uint8_t>(Role::kRead);
  constexpr auto admin = static_cast<std::uint8_t>(Role::kAdmin);
  switch (route) {
    case Route::kMetrics:
      return {read, "read the metrics"};
    case Route::kRules:
      return {read, "read the rules"};
    case Route::kEventHistory:
    case Route::kEventList:
      return {read, "read the history"};
    case Route::kActivity:
      return {read, "read the activity"};
    case Route::kRecentEvents:
      return {read, "read the recent events"};
    case Route::kDeadLetterList:
      return {read, "read the dead letters"};
    case Route::kRecentEventsTest:
      return {ingest | read, "test event patterns"};
    case Route::kEvents:
    case Route::kBusEvents:
      return {ingest, "post events"};
    case Route::kAws:
      if (aws_target == kTestEventPatternTarget) return {ingest | read, "test event patterns"};
      if (aws_target == kPutEventsTarget) return {ingest, "post events"};
      // An unknown operation: any known token learns it is unknown (400) from the next check.
      return {ingest | read | admin, "call this API"};
    case Route::kTestEventPattern:
      return {ingest | read, "test event patterns"};
    case Route::kReplays:
      return {admin, "start replays"};
    case Route::kDeadLetterRedrive:
      return {admin, "redrive dead letters"};
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kConsole:
    case Route::kNotFound:
      break;
  }
  return {ingest | read | admin, "call this API"};
}

std::string put_events_result(const std::vector<event::Entry>& entries) {
  std::size_t failed = 0;
  for (const auto& entry : entries) failed += entry ? 0 : 1;
  std::string body = R"({"FailedEntryCount":)" + std::to_string(failed) + R"(,"Entries":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i) body.push_back(',');
    if (entries[i]) {
      body += R"({"EventId":)";
      json::append_string(body, entries[i]->id);
    } else {
      body += R"({"ErrorCode":)";
      json::append_string(body, entries[i].error().code);
      body += R"(,"ErrorMessage":)";
      json::append_string(body, entries[i].error().message);
    }
    body.push_back('}');
  }
  body += "]}";
  return body;
}

// Reads a member that holds JSON either as a nested value or as a string of JSON text.
// A member of the (validated) body: a string's value (AWS's form), or an object's text as
// written, so that numbers keep their spelling, including those past what simdjson's DOM holds
// (a DOM re-print would turn 1.00000000000000000001 into 1.0), read from `body` on demand;
// other values are re-printed from the DOM.
std::optional<std::string> json_member(simdjson::dom::object object, std::string_view key,
                                       const simdjson::padded_string& body) {
  simdjson::dom::element value;
  if (object[key].get(value)) return std::nullopt;
  std::string_view text;
  if (!value.get_string().get(text)) return std::string(text);
  if (value.is_object()) {
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document document;
    simdjson::ondemand::object member;
    if (!parser.iterate(body).get(document) &&
        !document.find_field_unordered(key).get_object().get(member) &&
        !member.raw_json().get(text)) {
      return std::string(text);
    }
  }
  return simdjson::minify(value);
}

}  // namespace

Router::Counters::Counters(metrics::Registry& registry)
    : received(registry, "eventrouter_events_received_total", "Events accepted, by bus.", "bus"),
      rejected(registry, "eventrouter_events_rejected_total", "Events refused, by reason.",
               "reason"),
      requests_rejected(registry, "eventrouter_requests_rejected_total",
                        "Ingest requests refused whole, by reason.", "reason"),
      requests_denied(registry, "eventrouter_http_requests_denied_total",
                      "Requests (or PutEvents entries) refused 403 because the token lacks a "
                      "role or a bus, by reason.",
                      "reason") {
  // Shown at 0 from the start, so an alert on their rate has a series to watch.
  requests_denied.get("role");
  requests_denied.get("bus");
  for (int r = 0; r <= static_cast<int>(Route::kNotFound); ++r) {
    requests.push_back(std::make_unique<metrics::LabeledCounters>(
        registry, "eventrouter_http_requests_total", "HTTP requests answered, by route and status.",
        "status", metrics::Labels{{"route", std::string(route_name(static_cast<Route>(r)))}}));
  }
}

// Pattern tests waiting for the background worker; past this they are refused with 503.
constexpr std::size_t kMaxQueuedPatternTests = 8;
// Dead-letter listings waiting for their thread (each reads files or the cluster).
constexpr std::size_t kMaxQueuedReads = 4;

Router::Router(RouterServices services)
    : services_(std::move(services)),
      counters_(services_.metrics ? std::make_unique<Counters>(*services_.metrics) : nullptr),
      pattern_worker_(std::make_unique<BackgroundWorker>(kMaxQueuedPatternTests)),
      reads_worker_(std::make_unique<BackgroundWorker>(kMaxQueuedReads)) {}

Router::~Router() = default;

std::string_view Router::route_name(Route route) {
  switch (route) {
    case Route::kHealthz:
      return "healthz";
    case Route::kReadyz:
      return "readyz";
    case Route::kMetrics:
      return "metrics";
    case Route::kRules:
      return "rules";
    case Route::kEvents:
      return "events";
    case Route::kBusEvents:
      return "bus_events";
    case Route::kAws:
      return "aws";
    case Route::kTestEventPattern:
      return "test_event_pattern";
    case Route::kReplays:
      return "replays";
    case Route::kDeadLetterRedrive:
      return "dead_letter_redrive";
    case Route::kEventHistory:
      return "event_history";
    case Route::kEventList:
      return "event_list";
    case Route::kConsole:
      return "console";
    case Route::kActivity:
      return "activity";
    case Route::kRecentEvents:
      return "recent_events";
    case Route::kRecentEventsTest:
      return "recent_events_test";
    case Route::kDeadLetterList:
      return "dead_letter_list";
    case Route::kNotFound:
      return "not_found";
  }
  return "not_found";
}

Route Router::route_of(std::string_view target, std::string* bus, http::verb method) {
  const auto path = target.substr(0, target.find('?'));
  if (path == "/events") {
    const bool read = method == http::verb::get || method == http::verb::head;
    return read ? Route::kEventList : Route::kEvents;
  }
  if (path.starts_with("/events/") && path.size() > 8) return Route::kEventHistory;
  if (path == "/") return Route::kAws;
  if (path == "/healthz") return Route::kHealthz;
  if (path == "/readyz") return Route::kReadyz;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/rules") return Route::kRules;
  if (path == "/test-event-pattern") return Route::kTestEventPattern;
  if (path == "/replays") return Route::kReplays;
  if (path == "/dead-letters/redrive") return Route::kDeadLetterRedrive;
  if (path == "/dead-letters") return Route::kDeadLetterList;
  if (path == "/activity") return Route::kActivity;
  if (path == "/recent-events") return Route::kRecentEvents;
  if (path == "/recent-events/test-event-pattern") return Route::kRecentEventsTest;
  if (path == "/console" || path.starts_with("/console/")) return Route::kConsole;
  constexpr std::string_view prefix = "/buses/", suffix = "/events";
  if (path.starts_with(prefix) && path.ends_with(suffix) &&
      path.size() > prefix.size() + suffix.size()) {
    if (bus)
      *bus = std::string(path.substr(prefix.size(), path.size() - prefix.size() - suffix.size()));
    return Route::kBusEvents;
  }
  return Route::kNotFound;
}

std::optional<Response> Router::precheck(const RequestHeader& header) const {
  return check(header, nullptr);
}

std::optional<Response> Router::authorize(const RequestHeader& header, Route route,
                                          std::string_view bus, const Access** granted) const {
  // The console's files hold no data: the browser fetches them without a token, and the
  // console sends the token with every data request.
  if (!services_.auth_required || route == Route::kHealthz || route == Route::kReadyz ||
      route == Route::kConsole)
    return std::nullopt;
  auto authorization = header[http::field::authorization];
  constexpr std::string_view bearer = "Bearer ";
  const Access* access = nullptr;
  if (authorization.size() > bearer.size() &&
      iequals(authorization.substr(0, bearer.size()), bearer) && services_.token_access) {
    access = services_.token_access(authorization.substr(bearer.size()));
  }
  if (access == nullptr) {
    auto response = json_error(http::status::unauthorized, "Unauthorized",
                               "send a valid token: Authorization: Bearer <token>");
    response.set(http::field::www_authenticate, "Bearer realm=\"eventrouter\"");
    return response;
  }
  if (granted) *granted = access;
  const bool aws = route == Route::kAws;
  if (auto denied = role_denial(*access, requirement_of(route, header["X-Amz-Target"]))) {
    if (counters_) counters_->requests_denied.get("role").inc();
    return access_denied(*denied, aws);
  }
  // PutEvents names its buses in the body: its entries are checked one by one once it is read.
  const std::string_view posted_bus = route == Route::kBusEvents ? bus
                                      : route == Route::kEvents  ? "default"
                                                                 : "";
  if (!posted_bus.empty() && !access->may_post_to(posted_bus)) {
    if (counters_) counters_->requests_denied.get("bus").inc();
    return access_denied(bus_denial(*access, posted_bus), aws);
  }
  return std::nullopt;
}

std::optional<Response> Router::check(const RequestHeader& header, const Access** granted) const {
  std::string bus;
  const Route route = route_of(header.target(), &bus, header.method());
  if (route == Route::kNotFound) {
    return json_error(http::status::not_found, "NotFound",
                      "no such path: " + std::string(header.target().substr(0, 200)) +
                          " (see GET /rules, POST /events, POST /buses/{bus}/events)");
  }
  const bool read = is_read_route(route);
  const bool method_ok =
      read ? (header.method() == http::verb::get || header.method() == http::verb::head)
           : header.method() == http::verb::post;
  if (!method_ok) {
    auto response =
        json_error(http::status::method_not_allowed, "MethodNotAllowed",
                   std::string(header.method_string()) + " is not allowed on " +
                       std::string(route_name(route)) + "; use " + (read ? "GET" : "POST"));
    response.set(http::field::allow, read ? "GET, HEAD" : "POST");
    return response;
  }
  if (route == Route::kBusEvents && !is_valid_bus_name(bus)) {
    return json_error(http::status::bad_request, "InvalidBusName", std::string(kBusNameRule));
  }
  if (auto refusal = authorize(header, route, bus, granted)) return refusal;
  if (route == Route::kBusEvents && !bus_exists(bus)) {
    return json_error(http::status::not_found, "ResourceNotFoundException",
                      unknown_bus_message(bus));
  }
  if (!read) {
    const auto type = media_type(header[http::field::content_type]);
    if (route == Route::kAws) {
      if (!type.empty() && !iequals(type, kAwsJson) && !iequals(type, "application/json")) {
        return aws_error(http::status::unsupported_media_type, "UnsupportedMediaType",
                         "send Content-Type: application/x-amz-json-1.1");
      }
      auto target = header["X-Amz-Target"];
      if (target != kPutEventsTarget && target != kTestEventPatternTarget) {
        return aws_error(http::status::bad_request, "UnknownOperationException",
                         target.empty() ? "missing X-Amz-Target header (AWSEvents.PutEvents or "
                                          "AWSEvents.TestEventPattern)"
                                        : "unsupported operation " + std::string(target) +
                                              " (AWSEvents.PutEvents and "
                                              "AWSEvents.TestEventPattern are supported)");
      }
    } else if (!may_hold_json(type)) {
      return json_error(http::status::unsupported_media_type, "UnsupportedMediaType",
                        "Content-Type " + std::string(type.substr(0, 100)) +
                            " cannot hold a JSON event: send the JSON text as the body, with "
                            "Content-Type application/json");
    }
  }
  return std::nullopt;
}

bool Router::bus_exists(std::string_view bus) const {
  return bus == "default" || !services_.bus_exists || services_.bus_exists(bus);
}

std::string Router::unknown_bus_message(std::string_view bus) {
  return "Event bus " + std::string(bus) +
         " does not exist: name it in a rule's bus or in the config's buses list, then reload";
}

// Checked before the bus's existence, so a token cannot learn which buses it may not post to
// exist. Counted once per request, like a whole refusal.
void Router::refuse_denied_buses(std::vector<event::Entry>& entries, const Access* access) const {
  if (access == nullptr) return;
  bool denied = false;
  for (auto& entry : entries) {
    if (entry && !access->may_post_to(entry->bus)) {
      entry =
          unexpected(event::EntryError{"AccessDeniedException", bus_denial(*access, entry->bus)});
      denied = true;
    }
  }
  if (denied && counters_) counters_->requests_denied.get("bus").inc();
}

// PutEvents entries for a bus that does not exist fail one by one, as the other entries of
// the request may be fine.
void Router::refuse_unknown_buses(std::vector<event::Entry>& entries) const {
  for (auto& entry : entries) {
    if (entry && !bus_exists(entry->bus)) {
      entry = unexpected(
          event::EntryError{"ResourceNotFoundException", unknown_bus_message(entry->bus)});
    }
  }
}

void Router::record(Route route, const Response& response) {
  if (!counters_) return;
  char status[8];
  const int n = std::snprintf(status, sizeof status, "%u", response.result_int());
  counters_->requests[static_cast<std::size_t>(route)]->get(std::string_view(status, n)).inc();
}

void Router::handle(Request&& request, Respond respond) {
  std::string bus;
  const Route route = route_of(request.target(), &bus, request.method());
  Respond recorded = [this, route, respond = std::move(respond)](Response response) {
    record(route, response);
    respond(std::move(response));
  };
  const Access* access = nullptr;
  if (auto refusal = check(request, &access)) return recorded(std::move(*refusal));

  switch (route) {
    case Route::kHealthz:
      return recorded(json_response(http::status::ok, R"({"status":"ok"})"));
    case Route::kReadyz: {
      if (!ready()) {
        return recorded(json_error(http::status::service_unavailable, "NotReady",
                                   "starting up or shutting down"));
      }
      const Readiness readiness = services_.readiness ? services_.readiness() : Readiness{};
      if (!readiness.ready) {
        return recorded(
            json_error(http::status::service_unavailable, "NotReady", readiness.reason));
      }
      std::string body = R"({"status":"ready")";
      if (!readiness.warnings.empty()) {
        body += R"(,"warnings":[)";
        for (std::size_t i = 0; i < readiness.warnings.size(); ++i) {
          if (i > 0) body += ",";
          json::append_string(body, readiness.warnings[i]);
        }
        body += "]";
      }
      body += "}";
      return recorded(json_response(http::status::ok, std::move(body)));
    }
    case Route::kMetrics: {
      Response response{http::status::ok, request.version()};
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (services_.metrics) response.body() = services_.metrics->render();
      return recorded(std::move(response));
    }
    case Route::kRules:
      return recorded(json_response(
          http::status::ok, services_.rules_json ? services_.rules_json() : R"({"rules":[]})"));
    case Route::kEvents:
      return handle_events(std::move(request), "default", std::move(recorded));
    case Route::kEventHistory:
    case Route::kEventList:
      if (!services_.history) {
        return recorded(json_error(http::status::not_found, "HistoryDisabled",
                                   "the history is off: set history.enabled: true in the config"));
      }
      return recorded(services_.history(request.target()));
    case Route::kBusEvents:
      return handle_events(std::move(request), std::move(bus), std::move(recorded));
    case Route::kConsole: {
      const auto target = request.target();
      return recorded(console_response(target.substr(0, target.find('?')), request.version()));
    }
    case Route::kActivity:
      if (!services_.activity_json) break;
      return recorded(json_response(http::status::ok, services_.activity_json()));
    case Route::kRecentEvents:
      if (!services_.recent_events) break;
      return recorded(services_.recent_events(request.target()));
    case Route::kRecentEventsTest: {
      auto shared = std::make_shared<Request>(std::move(request));
      return answer_in_background(
          *pattern_worker_, [this, shared] { return handle_match_recent_events(*shared); },
          std::move(recorded));
    }
    case Route::kDeadLetterList: {
      if (!services_.dead_letters) break;
      auto target = std::string(request.target());
      return answer_in_background(
          *reads_worker_, [this, target] { return services_.dead_letters(target); },
          std::move(recorded));
    }
    case Route::kAws:
      return handle_aws(std::move(request), access, std::move(recorded));
    case Route::kTestEventPattern:
      return test_event_pattern_in_background(std::move(request), false, std::move(recorded));
    case Route::kReplays:
    case Route::kDeadLetterRedrive: {
      const auto& handler = route == Route::kReplays ? services_.replay : services_.redrive;
      if (!handler) {
        return recorded(json_error(http::status::not_implemented, "NotAvailable",
                                   "this daemon does not offer " + std::string(route_name(route))));
      }
      return handler(std::move(request.body()), std::move(recorded));
    }
    case Route::kNotFound:
      break;
  }
  recorded(json_error(http::status::not_found, "NotFound", "no such path"));
}

// Hands the accepted events of a request to the sink and answers once they are recorded.
void Router::deliver_to_sink(std::vector<event::Entry> entries, std::string body, bool aws,
                             Respond respond) {
  std::vector<event::Event> accepted;
  for (auto& entry : entries) {
    if (entry) {
      if (counters_) counters_->received.get(entry->bus).inc();
      accepted.push_back(std::move(entry.value()));
    } else if (counters_) {
      counters_->rejected.get(entry.error().code).inc();
    }
  }
  if (accepted.empty() || !services_.sink)
    return respond(json_response(http::status::ok, std::move(body)));
  services_.sink->accept(
      std::move(accepted), [body = std::move(body), aws, respond = std::move(respond)](
                               std::optional<SinkRefusal> refusal) mutable {
        if (!refusal) return respond(json_response(http::status::ok, std::move(body)));
        Response response = aws ? aws_error(static_cast<http::status>(refusal->status),
                                            "ServiceUnavailableException", refusal->message)
                                : json_error(static_cast<http::status>(refusal->status),
                                             refusal->code, refusal->message);
        set_retry_after(response, refusal->retry_after);
        respond(std::move(response));
      });
}

void Router::handle_events(Request&& request, std::string bus, Respond respond) {
  auto entries = event::parse_events_request(request.body(), bus, services_.envelope);
  if (!entries) {
    if (counters_) counters_->requests_rejected.get(entries.error().code).inc();
    return respond(
        json_error(http::status::bad_request, entries.error().code, entries.error().message));
  }
  std::string body = put_events_result(*entries);
  deliver_to_sink(std::move(*entries), std::move(body), false, std::move(respond));
}

void Router::handle_aws(Request&& request, const Access* access, Respond respond) {
  if (request["X-Amz-Target"] == kTestEventPatternTarget)
    return test_event_pattern_in_background(std::move(request), true, std::move(respond));
  auto entries = event::parse_put_events_request(request.body(), "default", services_.envelope);
  if (!entries) {
    return respond(aws_error(http::status::bad_request,
                             entries.error().code == "ValidationException"
                                 ? "ValidationException"
                                 : "SerializationException",
                             entries.error().message));
  }
  refuse_denied_buses(*entries, access);
  refuse_unknown_buses(*entries);
  std::string body = put_events_result(*entries);
  deliver_to_sink(std::move(*entries), std::move(body), true,
                  [respond = std::move(respond)](Response response) {
                    if (response.result() == http::status::ok)
                      response.set(http::field::content_type, kAwsJson);
                    respond(std::move(response));
                  });
}

namespace {

// Why a pattern test has no answer: the pattern engine's reasons and the router's own.
enum class PatternTestRefusal : std::uint8_t {
  kInvalidRequest,
  kInvalidEvent,
  kInvalidPattern,
  kUnavailable,
  kBusy,
};

PatternTestRefusal refusal_of(PatternTestError::Kind kind) {
  switch (kind) {
    case PatternTestError::Kind::kInvalidPattern:
      return PatternTestRefusal::kInvalidPattern;
    case PatternTestError::Kind::kInvalidEvent:
      return PatternTestRefusal::kInvalidEvent;
  }
  return PatternTestRefusal::kInvalidEvent;
}

// Our API names each problem; AWS's TestEventPattern answers InvalidEventPatternException,
// ValidationException, or ThrottlingException when it cannot take the test now.
Response pattern_test_refusal(PatternTestRefusal refusal, std::string_view message, bool aws) {
  const bool later =
      refusal == PatternTestRefusal::kUnavailable || refusal == PatternTestRefusal::kBusy;
  const http::status status = later ? http::status::service_unavailable : http::status::bad_request;
  Response response = [&] {
    if (aws) {
      return aws_error(status,
                       later ? "ThrottlingException"
                       : refusal == PatternTestRefusal::kInvalidPattern
                           ? "InvalidEventPatternException"
                           : "ValidationException",
                       message);
    }
    switch (refusal) {
      case PatternTestRefusal::kInvalidRequest:
        return json_error(status, "InvalidRequest", message);
      case PatternTestRefusal::kInvalidEvent:
        return json_error(status, "InvalidEvent", message);
      case PatternTestRefusal::kInvalidPattern:
        return json_error(status, "InvalidEventPattern", message);
      case PatternTestRefusal::kUnavailable:
        return json_error(status, "Unavailable", message);
      case PatternTestRefusal::kBusy:
        break;
    }
    return json_error(status, "TooManyPatternTests", message);
  }();
  if (refusal == PatternTestRefusal::kBusy) set_retry_after(response, std::chrono::seconds(1));
  return response;
}

Response pattern_test_result(bool matched, bool aws) {
  Response response =
      json_response(http::status::ok, matched ? R"({"Result":true})" : R"({"Result":false})");
  if (aws) response.set(http::field::content_type, kAwsJson);
  return response;
}

}  // namespace

void Router::test_event_pattern_in_background(Request&& request, bool aws, Respond respond) {
  auto shared = std::make_shared<Request>(std::move(request));
  const bool queued = pattern_worker_->try_post(
      [this, shared, aws, respond] { respond(handle_test_event_pattern(*shared, aws)); });
  if (queued) return;
  respond(pattern_test_refusal(
      PatternTestRefusal::kBusy,
      std::to_string(kMaxQueuedPatternTests) + " pattern tests are already waiting; retry shortly",
      aws));
}

void Router::answer_in_background(BackgroundWorker& worker, std::function<Response()> answer,
                                  Respond respond) {
  if (worker.try_post([answer = std::move(answer), respond] { respond(answer()); })) return;
  Response busy = json_error(http::status::service_unavailable, "TooManyRequests",
                             "too many such requests are already waiting; retry shortly");
  set_retry_after(busy, std::chrono::seconds(1));
  respond(std::move(busy));
}

Response Router::handle_match_recent_events(const Request& request) const {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  const simdjson::padded_string body(request.body());
  if (parser.parse(body).get_object().get(object)) {
    return pattern_test_refusal(PatternTestRefusal::kInvalidRequest,
                                "the body must be {\"EventPattern\": ..., \"limit\"?: N}", false);
  }
  auto pattern = json_member(object, "EventPattern", body);
  if (!pattern) {
    return pattern_test_refusal(PatternTestRefusal::kInvalidRequest,
                                "missing EventPattern: the body is {\"EventPattern\": {...}}",
                                false);
  }
  std::size_t limit = kMaxRecentEvents;
  if (simdjson::dom::element value; !object["limit"].get(value)) {
    std::int64_t number = 0;
    if (value.get(number) || number < 1 || number > static_cast<std::int64_t>(kMaxRecentEvents)) {
      return pattern_test_refusal(
          PatternTestRefusal::kInvalidRequest,
          "limit must be a whole number from 1 to " + std::to_string(kMaxRecentEvents), false);
    }
    limit = static_cast<std::size_t>(number);
  }
  if (!services_.match_recent_events)
    return pattern_test_refusal(PatternTestRefusal::kUnavailable, "no recent events", false);
  auto answer = services_.match_recent_events(*pattern, limit);
  if (!answer)
    return pattern_test_refusal(refusal_of(answer.error().kind), answer.error().message, false);
  return json_response(http::status::ok, std::move(*answer));
}

Response Router::handle_test_event_pattern(const Request& request, bool aws) const {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  const simdjson::padded_string body(request.body());
  auto error = parser.parse(body).get_object().get(object);
  if (error == simdjson::NUMBER_ERROR) {
    // Numbers past what the DOM holds are valid JSON: validate a copy without them (the
    // members are then taken from the body itself).
    const std::string copy =
        util::rewrite_json_numbers(request.body(), [](std::string_view number, std::size_t) {
          return util::fits_simdjson_dom(number) ? std::string(number) : std::string("0");
        });
    error = parser.parse(copy).get_object().get(object);
  }
  if (error) {
    auto where = event::describe_json_error(request.body());
    return pattern_test_refusal(
        PatternTestRefusal::kInvalidRequest,
        where.empty() ? "the body must be {\"Event\": ..., \"EventPattern\": ...}" : where, aws);
  }
  auto event = json_member(object, "Event", body);
  auto pattern = json_member(object, "EventPattern", body);
  if (!event || !pattern) {
    return pattern_test_refusal(PatternTestRefusal::kInvalidRequest,
                                std::string("missing ") + (!event ? "Event" : "EventPattern") +
                                    ": the body is {\"Event\": {...}, \"EventPattern\": {...}}",
                                aws);
  }
  if (!services_.test_pattern)
    return pattern_test_refusal(PatternTestRefusal::kUnavailable, "no pattern engine", aws);
  if (auto duplicate = event::describe_duplicate_key(*event); !duplicate.empty())
    return pattern_test_refusal(PatternTestRefusal::kInvalidEvent,
                                "Event is not valid: " + duplicate, aws);
  auto result = services_.test_pattern(*pattern, *event);
  if (!result)
    return pattern_test_refusal(refusal_of(result.error().kind), result.error().message, aws);
  return pattern_test_result(*result, aws);
}

}  // namespace eventrouter::server
