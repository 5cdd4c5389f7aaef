#pragma once
// The daemon's configuration file (eventrouter.yaml), as docs/configuration.md describes it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/config/nats_connection.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::config {

struct ListenAddress {
  std::string host = "127.0.0.1";  // loopback by default; never 0.0.0.0 unless asked
  std::uint16_t port = 8088;       // 0 lets the OS pick (tests use this)
};

struct TlsConfig {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::filesystem::path client_ca_file;  // empty: no client certificates required
};

struct Limits {
  std::size_t max_event_bytes = 262144;
  std::size_t max_request_bytes = 1048576;
  std::size_t max_connections = 1024;
  // A client must finish its request headers this long after their first byte (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  // A keep-alive connection with no request in flight is closed after this long.
  std::chrono::milliseconds idle_timeout{60000};
};

enum class LogFormat { kText, kJson };

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  LogFormat format = LogFormat::kText;
};

// fsync: journaled and forced to disk before the 200; none: memory only, lost on a crash.
enum class Durability { kFsync, kNone };

// How accepted events are kept until delivered (see docs/delivery.md).
struct DeliveryConfig {
  Durability durability = Durability::kFsync;
  // Past either bound ingest answers 503 with Retry-After.
  std::size_t max_pending_deliveries = 100000;
  std::size_t max_journal_bytes = std::size_t{1} << 30;
  // What pending deliveries may hold in memory (their events' text and per-delivery state).
  std::uint64_t max_pending_bytes = std::uint64_t{256} << 20;
  // Retries wait a random time up to backoff_base * 2^(retry - 1), at most backoff_cap.
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  // On SIGTERM, invocations in flight get this long to finish.
  std::chrono::milliseconds shutdown_grace{5000};
  // Accepted events are kept this long for replays; 0 turns the archive off.
  std::chrono::milliseconds archive_retention{std::chrono::hours(24 * 7)};
  // ...and while the journal's data stays under this many bytes (0: three quarters of
  // max_journal_bytes): past it the oldest archived events go first, before their retention.
  std::size_t archive_max_bytes = 0;
  std::size_t effective_archive_max_bytes() const {
    return archive_max_bytes ? archive_max_bytes : max_journal_bytes / 4 * 3;
  }
};

// Where accepted events wait for delivery: the local journal, or a NATS JetStream cluster that
// several routers share (docs/scale-out.md).
enum class Backend { kJournal, kNats };

struct NatsBusConfig {
  NatsConnectionConfig connection;
  std::string stream = "EVENTROUTER";  // the events; also names the DLQ stream and the buckets
  std::string subject_prefix = "eventrouter";  // subjects: PREFIX.events.BUS, PREFIX.dlq, ...
  int replicas = 1;                            // default: 3 when servers lists three or more
  // A PutEvents retried within this window (same event id) is stored once.
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
  std::string consumer = "eventrouter";  // the durable pull consumer every router shares
  // How long the cluster waits for a router's progress on an event before handing it to
  // another router.
  std::chrono::milliseconds ack_wait{std::chrono::seconds(30)};
  // The events stream's size (the cluster reserves it); past it, ingest answers 503.
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
  // Events one router works on at once.
  std::size_t max_inflight_events = 256;
  std::string router_name;  // empty: the host name
};

struct BusConfig {
  Backend backend = Backend::kJournal;
  std::optional<NatsBusConfig> nats;  // with backend nats
};

// Each event's journey (history.db in state_dir), for GET /events and `eventrouter history`.
struct HistoryConfig {
  bool enabled = true;
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)};
  std::size_t max_bytes = std::size_t{256} << 20;
};

struct Config {
  std::filesystem::path file;  // the file this was loaded from (absolute)
  ListenAddress listen;
  std::filesystem::path rules_dir;  // absolute, resolved against the config file's folder
  std::filesystem::path state_dir = "/var/lib/eventrouter";
  std::filesystem::path tokens_file;  // empty: no authentication
  std::optional<TlsConfig> tls;
  Limits limits;
  LogConfig log;
  DeliveryConfig delivery;
  HistoryConfig history;
  BusConfig bus;
  // Buses that take events besides "default" and those the rules name. Events for any other
  // bus are refused (404 ResourceNotFoundException), as EventBridge refuses unknown buses.
  std::vector<std::string> buses;
  // Serve on a non-loopback address without auth (refused unless set).
  bool allow_unauthenticated = false;
};

// Loads and checks a configuration file (a folder stands for the eventrouter.yaml inside it).
// Every problem is collected; if there is any, throws ConfigError holding all of them as
// FILE:LINE:COL diagnostics. Relative paths resolve against the file's folder; string values
// may be ${env:NAME} or ${file:PATH} references.
Config load_config(const std::filesystem::path& file);

// The same, without throwing: appends every problem to `problems` and returns what could be
// read (defaults where a key was wrong), or nothing when the file could not be read or parsed
// at all. `validate` uses it to go on and check the rules after a bad config value.
std::optional<Config> parse_config(const std::filesystem::path& file,
                                   std::vector<Diagnostic>& problems);

// "HOST:PORT", "[IPv6]:PORT"; port 0 to 65535. The error says what to write instead.
Expected<ListenAddress, std::string> parse_listen_address(std::string_view text);
// Whether `host` (as `listen` gives it) is a loopback address: 127.0.0.0/8, ::1, localhost.
bool is_loopback_host(std::string_view host);
// The inverse, with brackets around IPv6 hosts.
std::string format_listen_address(const ListenAddress& address);

// The levels log.level accepts, in order of verbosity.
const std::vector<std::string>& log_levels();

// The file `serve` and `validate` use without -c: ./config/eventrouter.yaml if it exists,
// else /etc/eventrouter/eventrouter.yaml.
std::filesystem::path default_config_path();

}  // namespace eventrouter::config
