#pragma once
// Maps requests to the HTTP API of docs/http-api.md. Checks what can be checked from the headers
// alone (path, method, content type, authentication) before the body is read, so a request that
// will be refused never costs its body.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "eventrouter/event/envelope.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/server/access.hpp"
#include "eventrouter/server/event_sink.hpp"
#include "eventrouter/server/http_types.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::server {

// Why a pattern test (POST /test-event-pattern, AWSEvents.TestEventPattern) has no answer. The
// kind decides the error code each API answers with; the message is shown as it is.
struct PatternTestError {
  enum class Kind : std::uint8_t { kInvalidPattern, kInvalidEvent };
  Kind kind;
  std::string message;
};

// What /readyz reports beyond starting and stopping: a backend that cannot take events (its
// cluster is unreachable) is not ready; warnings are shown while it stays ready.
struct Readiness {
  bool ready = true;
  std::string reason;
  std::vector<std::string> warnings;
};

// The most events GET /recent-events lists and POST /recent-events/test-event-pattern examines.
inline constexpr std::size_t kMaxRecentEvents = 100;

// What the routes need from the rest of the daemon, injected so the server stays small.
struct RouterServices {
  EventSink* sink = nullptr;
  event::EnvelopeOptions envelope;
  metrics::Registry* metrics = nullptr;
  // GET /rules: the loaded rules as JSON.
  std::function<std::string()> rules_json;
  // POST /test-event-pattern and AWSEvents.TestEventPattern: match, no match, or why the
  // pattern or event is not valid.
  std::function<Expected<bool, PatternTestError>(std::string_view pattern, std::string_view event)>
      test_pattern;
  // Whether events may be sent to `bus` (a valid bus name other than "default"). Unset: every
  // bus may. The daemon answers from the config's `buses` and the loaded rules, so the buses
  // a client can name, and with them the metric labels, stay bounded.
  std::function<bool(std::string_view bus)> bus_exists;
  // What a bearer token may do, or nullptr for an unknown token (401). Used when
  // `auth_required`; health and readiness never need a token. The Access must outlive the
  // router.
  std::function<const Access*(std::string_view token)> token_access;
  bool auth_required = false;
  // POST /replays and POST /dead-letters/redrive: operator requests that may take long. They
  // get the JSON body and answer through `respond`, from any thread.
  using AdminHandler = std::function<void(std::string body, Respond respond)>;
  AdminHandler replay;
  AdminHandler redrive;
  // GET /events/{id} and GET /events?...: the history's answer for the request target (path
  // and query). Unset: the history is off.
  std::function<Response(std::string_view target)> history;
  // The web console's data (docs/console.md). GET /activity: the last hour per minute.
  std::function<std::string()> activity_json;
  // GET /recent-events?limit=N: the last events accepted, for the console's pattern sandbox.
  std::function<Response(std::string_view target)> recent_events;
  // POST /recent-events/test-event-pattern: which of the last `limit` events `pattern`
  // matches, as the JSON answer, or why the pattern is not valid. Runs off the I/O threads.
  std::function<Expected<std::string, PatternTestError>(std::string_view pattern,
                                                        std::size_t limit)>
      match_recent_events;
  // GET /dead-letters?rule=&target=&limit=: reads files or the cluster, so it runs off the I/O
  // threads.
  std::function<Response(std::string_view target)> dead_letters;
  // GET /readyz, once started: unset means ready.
  std::function<Readiness()> readiness;
};

enum class Route {
  kHealthz,
  kReadyz,
  kMetrics,
  kRules,
  kEvents,
  kBusEvents,
  kAws,
  kTestEventPattern,
  kReplays,
  kDeadLetterRedrive,
  kEventHistory,  // GET /events/{id}
  kEventList,     // GET /events
  kConsole,       // GET /console/...: the web console's files
  kActivity,
  kRecentEvents,
  kRecentEventsTest,  // POST /recent-events/test-event-pattern
  kDeadLetterList,    // GET /dead-letters
  kNotFound
};

class BackgroundWorker;

class Router {
 public:
  explicit Router(RouterServices services);
  ~Router();

  // A refusal decided from the headers alone, or nothing when the body should be read.
  std::optional<Response> precheck(const RequestHeader& header) const;

  // Answers a complete request; `respond` may be called later, from another thread.
  void handle(Request&& request, Respond respond);

  void set_ready(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

  // Counts an answer in eventrouter_http_requests_total.
  void record(Route route, const Response& response);

  // The route's label for metrics ("events", "healthz", ...).
  static std::string_view route_name(Route route);
  // The route of a request for `target` with `method` (GET /events lists the history; POST
  // /events sends events).
  static Route route_of(std::string_view target, std::string* bus = nullptr,
                        http::verb method = http::verb::post);

 private:
  // precheck, and the token's access when authentication is on (else nullptr: everything).
  std::optional<Response> check(const RequestHeader& header, const Access** granted) const;
  // 401 or 403, or nothing when the token may make the request.
  std::optional<Response> authorize(const RequestHeader& header, Route route, std::string_view bus,
                                    const Access** granted) const;
  // PutEvents entries for a bus the token may not post to fail one by one (AccessDeniedException).
  void refuse_denied_buses(std::vector<event::Entry>& entries, const Access* access) const;
  bool bus_exists(std::string_view bus) const;
  static std::string unknown_bus_message(std::string_view bus);
  void refuse_unknown_buses(std::vector<event::Entry>& entries) const;
  void handle_events(Request&& request, std::string bus, Respond respond);
  void handle_aws(Request&& request, const Access* access, Respond respond);
  // The answer in the shape of the API asked: ours, or AWS's (`aws`).
  Response handle_test_event_pattern(const Request& request, bool aws) const;
  // Runs handle_test_event_pattern on the background worker (a request's pattern may take
  // milliseconds to compile); answers 503 at once when the worker's queue is full.
  void test_event_pattern_in_background(Request&& request, bool aws, Respond respond);
  Response handle_match_recent_events(const Request& request) const;
  // Runs `answer` on `worker`, or answers 503 at once when its queue is full.
  void answer_in_background(BackgroundWorker& worker, std::function<Response()> answer,
                            Respond respond);
  void deliver_to_sink(std::vector<event::Entry> entries, std::string body, bool aws,
                       Respond respond);

  // Counters found once, not per request (the registry's lookup locks and builds strings).
  struct Counters {
    explicit Counters(metrics::Registry& registry);
    std::vector<std::unique_ptr<metrics::LabeledCounters>> requests;  // by Route, then status
    metrics::LabeledCounters received;                                // by bus
    metrics::LabeledCounters rejected;                                // by reason
    metrics::LabeledCounters requests_rejected;                       // by reason
    metrics::LabeledCounters requests_denied;                         // "role" or "bus"
  };

  RouterServices services_;
  std::unique_ptr<Counters> counters_;
  std::atomic<bool> ready_{false};
  // Last: their jobs use the members above.
  std::unique_ptr<BackgroundWorker> pattern_worker_;
  std::unique_ptr<BackgroundWorker> reads_worker_;  // dead-letter listings
};

}  // namespace eventrouter::server
