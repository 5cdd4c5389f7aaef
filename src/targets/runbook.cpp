#include "eventrouter/targets/runbook.hpp"
#include "eventrouter/targets/header_value.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <limits>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "eventrouter/targets/process.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool is_env_name(const std::string& name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

// The last `limit` bytes of a process's stderr, on one line, for an error message.
std::string tail(const std::string& text, std::size_t limit = 512) {
  std::string out = text.size() > limit ? text.substr(text.size() - limit) : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

}  // namespace

std::optional<RunbookConfig> read_runbook_config(const TargetSpec& spec,
                                                 std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  RunbookConfig config;
  config.rule = spec.rule;
  config.id = spec.id;
  if (auto command = reader.string_list("command", true)) {
    const yaml::Node at = reader.get("command");
    if (command->empty()) {
      reader.problem(at, "command must list the program and its arguments");
    } else if (!std::filesystem::path((*command)[0]).is_absolute()) {
      reader.problem(at,
                     "command[0] must be an absolute path (runbooks are never run through a "
                     "shell or looked up in PATH)");
    } else if (::access((*command)[0].c_str(), X_OK) != 0) {
      const bool missing = errno == ENOENT;
      reader.problem(
          at, "command[0] " + (*command)[0] + (missing ? " does not exist" : " is not executable"));
    } else if (std::filesystem::is_directory((*command)[0])) {
      reader.problem(at, "command[0] " + (*command)[0] + " is a directory");
    } else {
      config.command = std::move(*command);
    }
  }
  if (auto timeout = reader.duration("timeout", config.timeout, std::chrono::milliseconds(10),
                                     std::chrono::hours(24))) {
    config.timeout = *timeout;
  }
  if (auto grace = reader.duration("kill_grace", config.kill_grace, std::chrono::milliseconds(0),
                                   std::chrono::minutes(10))) {
    config.kill_grace = *grace;
  }
  if (auto env = reader.string_map("env")) {
    for (const auto& [name, value] : *env) {
      if (!is_env_name(name)) {
        reader.problem(reader.get("env"), "env name '" + name +
                                              "' must be letters, digits and '_', not starting "
                                              "with a digit");
      } else if (name.starts_with("EVENTROUTER_")) {
        reader.problem(reader.get("env"),
                       "env name '" + name + "' is reserved (eventrouter sets EVENTROUTER_*)");
      }
    }
    config.env = std::move(*env);
  }
  if (auto dir = reader.string("working_dir", false)) {
    if (!std::filesystem::path(*dir).is_absolute()) {
      reader.problem(reader.get("working_dir"), "working_dir must be an absolute path");
    } else if (!std::filesystem::is_directory(*dir)) {
      reader.problem(reader.get("working_dir"), "working_dir " + *dir + " is not a directory");
    } else {
      config.working_dir = *dir;
    }
  }
  if (reader.has("permanent_exit_codes")) {
    const yaml::Node codes = reader.get("permanent_exit_codes");
    if (!codes.is_sequence()) {
      reader.problem(codes, "permanent_exit_codes must be a list of exit codes (1 to 255)");
    } else {
      for (const auto& code : codes) {
        int value = 0;
        const std::string& text = code.scalar();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (!code.is_scalar() || ec != std::errc() || end != text.data() + text.size() ||
            value < 1 || value > 255) {
          reader.problem(code, "permanent_exit_codes must hold exit codes from 1 to 255");
        } else {
          config.permanent_exit_codes.push_back(value);
        }
      }
    }
  }
  if (auto limit = reader.size("output_limit", config.output_limit, 0, 16ULL << 20)) {
    config.output_limit = *limit;
  }
  if (reader.failed()) return std::nullopt;
  return config;
}

Expected<std::vector<std::string>, std::string> runbook_environment(const RunbookConfig& config,
                                                                    const Invocation& invocation) {
  std::vector<std::pair<std::string, std::string>> variables = {
      {"PATH", default_path},
      {"EVENTROUTER_EVENT_ID", invocation.event_id},
      {"EVENTROUTER_RULE", invocation.rule},
      {"EVENTROUTER_TARGET", invocation.target},
      {"EVENTROUTER_ATTEMPT", std::to_string(invocation.attempt)},
      {"EVENTROUTER_SOURCE", invocation.source},
      {"EVENTROUTER_DETAIL_TYPE", invocation.detail_type},
  };
  for (const auto& [name, value] : variables) {
    if (auto problem = outgoing_value_problem("the variable " + name, value))
      return unexpected(*problem);
  }
  for (const auto& [name, value] : config.env) {
    auto existing = std::find_if(variables.begin(), variables.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    if (existing != variables.end()) {
      existing->second = value;
    } else {
      variables.emplace_back(name, value);
    }
  }
  std::vector<std::string> out;
  out.reserve(variables.size());
  for (const auto& [name, value] : variables) out.push_back(name + "=" + value);
  return out;
}

RunbookTarget::RunbookTarget(RunbookConfig config, std::size_t threads)
    : config_(std::move(config)),
      abort_at_(std::numeric_limits<std::chrono::steady_clock::rep>::max()),
      pool_(threads) {}

RunbookTarget::~RunbookTarget() {
  shutdown(std::chrono::milliseconds(0));
}

void RunbookTarget::send(Invocation invocation, Completion done) {
  deliver_pooled(pool_, std::move(invocation), std::move(done),
                 [this](const Invocation& pending) { return run(pending); });
}

DeliveryResult RunbookTarget::run(const Invocation& invocation) {
  ProcessRequest request;
  request.argv = config_.command;
  auto environment = runbook_environment(config_, invocation);
  if (!environment) {
    return DeliveryResult::permanent(
        ErrorCode::kInvalidParameter,
        "runbook " + config_.rule + "/" + config_.id + ": " + environment.error());
  }
  request.environment = std::move(*environment);
  request.working_dir = config_.working_dir;
  request.input = invocation.payload;
  request.timeout = config_.timeout;
  request.kill_grace = config_.kill_grace;
  request.output_limit = config_.output_limit;
  request.abort_at = &abort_at_;
  const ProcessResult result = run_process(request);

  const std::string who = "runbook " + config_.rule + "/" + config_.id;
  DeliveryResult outcome;
  std::string what;
  switch (result.status) {
    case ProcessResult::Status::kExited:
      what = "exited with " + std::to_string(result.exit_code);
      if (result.exit_code == 0) {
        outcome = DeliveryResult::ok();
      } else if (std::find(config_.permanent_exit_codes.begin(), config_.permanent_exit_codes.end(),
                           result.exit_code) != config_.permanent_exit_codes.end()) {
        outcome = DeliveryResult::permanent(
            ErrorCode::kErrorFromTarget,
            who + " " + what + " (a permanent_exit_code): " + tail(result.err));
      } else {
        outcome = DeliveryResult::retryable(ErrorCode::kErrorFromTarget,
                                            who + " " + what + ": " + tail(result.err));
      }
      break;
    case ProcessResult::Status::kSignaled:
      what = "was killed by signal " + std::to_string(result.signal);
      outcome = DeliveryResult::retryable(ErrorCode::kErrorFromTarget,
                                          who + " " + what + ": " + tail(result.err));
      break;
    case ProcessResult::Status::kTimedOut:
      what = "timed out after " + std::to_string(config_.timeout.count()) +
             "ms; its process group was ended";
      outcome = DeliveryResult::retryable(ErrorCode::kTimeout, who + " " + what);
      break;
    case ProcessResult::Status::kAborted:
      what = "was stopped at shutdown";
      outcome = DeliveryResult::retryable(ErrorCode::kInternalError, who + " " + what);
      break;
    case ProcessResult::Status::kSpawnFailed:
      what = std::string("could not start ") + config_.command[0] + ": " +
             std::strerror(result.spawn_error);
      if (result.spawn_error == E2BIG) {
        // The arguments and environment are too large for the kernel: no retry can fit them.
        outcome = DeliveryResult::permanent(ErrorCode::kInvalidParameter, who + " " + what);
      } else {
        outcome =
            DeliveryResult::retryable(result.spawn_error == ENOENT   ? ErrorCode::kResourceNotFound
                                      : result.spawn_error == EACCES ? ErrorCode::kNoPermissions
                                                                     : ErrorCode::kInternalError,
                                      who + " " + what);
      }
      break;
  }

  if (result.status == ProcessResult::Status::kExited) outcome.status_code = result.exit_code;
  outcome.output = result.out;
  if (!result.err.empty()) {
    if (!outcome.output.empty() && outcome.output.back() != '\n') outcome.output += '\n';
    outcome.output += "[stderr] " + result.err;
  }
  const auto level =
      outcome.outcome == Outcome::kSuccess ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "{} event {} attempt {} {} in {}ms", who, invocation.event_id,
              invocation.attempt, what, result.elapsed.count());
  if (!result.out.empty()) {
    spdlog::log(level, "{} event {} stdout{}: {}", who, invocation.event_id,
                result.out_truncated ? " (truncated)" : "", result.out);
  }
  if (!result.err.empty()) {
    spdlog::log(level, "{} event {} stderr{}: {}", who, invocation.event_id,
                result.err_truncated ? " (truncated)" : "", result.err);
  }
  return outcome;
}

void RunbookTarget::on_stop() {
  pool_.stop();  // queued invocations complete as retryable
}

void RunbookTarget::abort() {
  // The process groups still running are ended: TERM now, KILL after kill_grace.
  abort_at_ = std::chrono::steady_clock::now().time_since_epoch().count();
}

std::chrono::milliseconds RunbookTarget::abort_wait() const {
  return config_.kill_grace + std::chrono::seconds(1);
}

// max_concurrency when the target does not set it.
constexpr int kDefaultConcurrency = 4;

const TargetType& runbook_target_type() {
  static const TargetType type{
      "runbook",
      {"command", "timeout", "kill_grace", "env", "working_dir", "permanent_exit_codes",
       "output_limit"},
      {{"command", PathKey::Base::kRuleFileFolder, true},
       {"working_dir", PathKey::Base::kRuleFileFolder}},
      {.max_concurrency = kDefaultConcurrency, .max_concurrency_limit = 256},
      [](const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
        read_runbook_config(spec, problems);
      },
      [](const TargetSpec& spec, TargetContext&, const TargetLimits& limits,
         std::vector<config::Diagnostic>& problems) -> std::unique_ptr<Target> {
        auto config = read_runbook_config(spec, problems);
        if (!config) return nullptr;
        // As many threads as runs may be in flight; the concurrency limit holds the others.
        return std::make_unique<RunbookTarget>(
            std::move(*config),
            static_cast<std::size_t>(limits.max_concurrency.value_or(kDefaultConcurrency)));
      }};
  return type;
}

}  // namespace eventrouter::targets
