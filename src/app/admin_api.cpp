#include "admin_api.hpp"

#include <simdjson.h>

#include "eventrouter/util/ids.hpp"
#include "eventrouter/util/json_writer.hpp"

namespace eventrouter::app {

namespace http = server::http;

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
      return false;
  }
  return true;
}

// The body as an object of string members, or why not.
Expected<std::vector<std::pair<std::string, std::string>>, std::string> string_members(
    std::string_view body, const std::vector<std::string_view>& allowed) {
  std::vector<std::pair<std::string, std::string>> members;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return members;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object object;
  if (parser.parse(padded).get_object().get(object))
    return unexpected(std::string("the body must be a JSON object"));
  for (auto [key, value] : object) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      return unexpected("unknown key \"" + std::string(key) + "\"; the keys are " + known);
    }
    std::string_view text;
    if (value.get_string().get(text))
      return unexpected("\"" + std::string(key) + "\" must be a string");
    members.emplace_back(std::string(key), std::string(text));
  }
  return members;
}

server::Response error_response(int status, std::string_view code, std::string_view message) {
  return server::json_error(static_cast<http::status>(status), code, message);
}

}  // namespace

Expected<delivery::ReplayRequest, std::string> parse_replay_request(std::string_view body) {
  auto members = string_members(body, {"name", "from", "to", "bus", "rule"});
  if (!members) return unexpected(members.error());
  delivery::ReplayRequest request;
  bool have_from = false, have_to = false;
  for (const auto& [key, value] : *members) {
    if (key == "from" || key == "to") {
      auto time = parse_rfc3339(value);
      if (!time) {
        return unexpected("\"" + key + "\" is not an RFC 3339 time: \"" + value +
                          "\" (write e.g. 2026-11-28T10:00:00Z)");
      }
      (key == "from" ? request.from : request.to) = *time;
      (key == "from" ? have_from : have_to) = true;
    } else if (key == "name") {
      if (!valid_name(value))
        return unexpected(
            std::string("\"name\" must be 1 to 64 of the characters . - _ A-Z a-z 0-9"));
      request.name = value;
    } else if (key == "bus") {
      request.bus = value;
    } else {
      request.rule = value;
    }
  }
  if (!have_from || !have_to)
    return unexpected(std::string("give the time window: \"from\" and \"to\" (RFC 3339)"));
  if (request.from >= request.to)
    return unexpected(std::string("\"from\" must be earlier than \"to\""));
  if (request.name.empty()) {
    std::string stamp = format_rfc3339(std::chrono::system_clock::now());
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    request.name = "replay-" + stamp;
  }
  return request;
}

AdminApi::~AdminApi() {
  std::vector<Worker> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.thread.join();
}

void AdminApi::run(std::function<void()> work) {
  std::lock_guard lock(mutex_);
  // Threads of finished requests are joined here, so they do not pile up.
  std::erase_if(workers_, [](Worker& worker) {
    if (!worker.done->load()) return false;
    worker.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back(Worker{std::thread([work = std::move(work), done] {
                              work();
                              done->store(true);
                            }),
                            done});
}

server::RouterServices::AdminHandler AdminApi::replay_handler() {
  return [this](std::string body, server::Respond respond) {
    auto request = parse_replay_request(body);
    if (!request) return respond(error_response(400, "InvalidReplay", request.error()));
    run([this, request = std::move(*request), respond = std::move(respond)] {
      auto result = dispatcher_.replay(request);
      if (!result) {
        return respond(
            error_response(result.error().status, result.error().code, result.error().message));
      }
      std::string out = "{";
      json::append_key(out, "name", true);
      json::append_string(out, request.name);
      json::append_key(out, "state");
      json::append_string(out, "COMPLETED");
      json::append_key(out, "events_replayed");
      out += std::to_string(result->events_replayed);
      json::append_key(out, "deliveries");
      out += std::to_string(result->deliveries);
      out += "}";
      respond(server::json_response(http::status::ok, std::move(out)));
    });
  };
}

server::RouterServices::AdminHandler AdminApi::redrive_handler() {
  return [this](std::string body, server::Respond respond) {
    auto members = string_members(body, {"rule", "target"});
    if (!members) return respond(error_response(400, "InvalidRedrive", members.error()));
    std::string rule, target;
    for (const auto& [key, value] : *members) (key == "rule" ? rule : target) = value;
    run([this, rule, target, respond = std::move(respond)] {
      auto result = dispatcher_.redrive(rule, target);
      if (!result) {
        return respond(
            error_response(result.error().status, result.error().code, result.error().message));
      }
      std::string out = "{";
      json::append_key(out, "redriven", true);
      out += std::to_string(result->redriven);
      json::append_key(out, "skipped");
      out += std::to_string(result->skipped);
      json::append_key(out, "skipped_reasons");
      out += "[";
      for (std::size_t i = 0; i < result->skipped_why.size(); ++i) {
        if (i) out += ",";
        json::append_string(out, result->skipped_why[i]);
      }
      out += "]}";
      respond(server::json_response(http::status::ok, std::move(out)));
    });
  };
}

}  // namespace eventrouter::app
