#include "eventrouter/event/envelope.hpp"

#include <array>

#include "envelope_builder.hpp"
#include "eventrouter/util/bus_name.hpp"
#include "eventrouter/util/ids.hpp"
#include "field_checks.hpp"
#include "json_document.hpp"

namespace eventrouter::event {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::array<std::string_view, 9> kEnvelopeFields = {
    "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"};

EntryError invalid(std::string message) {
  return {"InvalidArgument", std::move(message)};
}

std::string allowed_fields() {
  std::string out;
  for (auto f : kEnvelopeFields) {
    if (!out.empty()) out += ", ";
    out += f;
  }
  return out;
}

// What every accepted entry shares: the bus, the defaults, and one clock reading.
struct Context {
  std::string_view bus;
  const EnvelopeOptions& options;
  std::chrono::system_clock::time_point now;
  std::string now_text;
};

// Fills the defaults, writes the envelope, and checks its size. `bus` is the entry's own (a
// PutEvents entry may name one).
Entry finish(detail::EnvelopeFields& fields, std::string time_storage, std::string_view bus,
             const Context& context) {
  std::string id_storage;
  if (fields.id.empty()) {
    id_storage = make_uuid_v4();
    fields.id = id_storage;
  }
  if (!time_storage.empty()) fields.time = time_storage;
  if (fields.time.empty()) fields.time = context.now_text;
  if (fields.account.empty()) fields.account = context.options.default_account;
  if (fields.region.empty()) fields.region = context.options.default_region;

  Event event;
  event.json = detail::build_envelope(fields);
  if (event.json.size() > context.options.max_event_bytes) {
    return unexpected(invalid("event is " + std::to_string(event.json.size()) +
                              " bytes, over the limit of " +
                              std::to_string(context.options.max_event_bytes) +
                              " (limits.max_event_bytes): send a smaller detail"));
  }
  event.id = std::string(fields.id);
  event.bus = std::string(bus);
  event.source = std::string(fields.source);
  event.detail_type = std::string(fields.detail_type);
  event.time = std::string(fields.time);
  event.ingested_at = context.now;
  return event;
}

// Reads `resources`: an array of strings.
bool read_resources(element value, std::vector<std::string_view>& out) {
  simdjson::dom::array array;
  if (value.get_array().get(array)) return false;
  for (element item : array) {
    std::string_view text;
    if (item.get_string().get(text)) return false;
    out.push_back(text);
  }
  return true;
}

// Every field that can reach a header, an environment or a log line, in the names of the
// request's format (`aws`: PutEvents' Source, DetailType, Resources).
std::optional<EntryError> check_fields(const detail::EnvelopeFields& f, bool aws) {
  using namespace detail;
  std::optional<EntryError> problem;
  if (!problem) problem = check_text_field(aws ? "Source" : "source", f.source, kMaxSourceChars);
  if (!problem)
    problem =
        check_text_field(aws ? "DetailType" : "detail-type", f.detail_type, kMaxDetailTypeChars);
  if (!problem) problem = check_text_field("id", f.id, kMaxIdChars);
  if (!problem) problem = check_text_field("account", f.account, kMaxAccountChars);
  if (!problem) problem = check_text_field("region", f.region, kMaxRegionChars);
  if (!problem) problem = check_text_field("version", f.version, kMaxVersionChars);
  if (!problem) problem = check_resources(aws ? "Resources" : "resources", f.resources);
  return problem;
}

// Normalises an RFC 3339 time to EventBridge's UTC, second-precision form.
std::optional<std::string> normalise_time(std::string_view text) {
  auto parsed = parse_rfc3339(text);
  if (!parsed) return std::nullopt;
  return format_rfc3339(*parsed);
}

// One envelope of `POST /events`.
Entry normalise_envelope(element value, std::string_view raw_detail, const Context& context) {
  simdjson::dom::object object;
  if (value.get_object().get(object)) {
    return unexpected(
        invalid("an event must be a JSON object with source, detail-type and detail, not a " +
                std::string(value.type() == element_type::ARRAY ? "array" : "scalar")));
  }
  detail::EnvelopeFields fields;
  std::string time_storage;
  bool has_detail = false;
  for (auto [key, field] : object) {
    auto need_string = [&](std::string_view& target) -> std::optional<EntryError> {
      if (field.get_string().get(target)) return invalid(std::string(key) + " must be a string");
      return std::nullopt;
    };
    std::optional<EntryError> problem;
    if (key == "version") {
      problem = need_string(fields.version);
    } else if (key == "id") {
      problem = need_string(fields.id);
      if (!problem && fields.id.empty())
        problem = invalid("id must not be empty; omit it to get one");
    } else if (key == "detail-type") {
      problem = need_string(fields.detail_type);
    } else if (key == "source") {
      problem = need_string(fields.source);
    } else if (key == "account") {
      problem = need_string(fields.account);
    } else if (key == "region") {
      problem = need_string(fields.region);
    } else if (key == "time") {
      std::string_view text;
      problem = need_string(text);
      if (!problem) {
        auto normal = normalise_time(text);
        if (!normal) {
          problem = invalid("time \"" + std::string(text) +
                            "\" is not an RFC 3339 timestamp such as 2026-11-20T14:02:11Z");
        } else {
          time_storage = std::move(*normal);
        }
      }
    } else if (key == "resources") {
      if (!read_resources(field, fields.resources))
        problem = invalid("resources must be an array of strings (ARNs)");
    } else if (key == "detail") {
      if (field.type() != element_type::OBJECT)
        return unexpected(EntryError{"MalformedDetail", "detail must be a JSON object"});
      has_detail = true;
    } else {
      problem = invalid("unknown field \"" + std::string(key) +
                        "\" in the event; an event has only " + allowed_fields());
    }
    if (problem) return unexpected(std::move(*problem));
  }
  if (fields.source.empty())
    return unexpected(invalid("source is required: a non-empty string such as \"aws.guardduty\""));
  if (fields.detail_type.empty())
    return unexpected(
        invalid("detail-type is required: a non-empty string such as \"GuardDuty Finding\""));
  if (!has_detail)
    return unexpected(invalid("detail is required: a JSON object (it may be empty, {})"));
  if (auto problem = check_fields(fields, false)) return unexpected(std::move(*problem));
  if (auto duplicate = detail::find_duplicate_key(value))
    return unexpected(detail::duplicate_key_error(*duplicate, "the event"));

  std::string minified_fallback;
  if (raw_detail.empty()) {
    // The on-demand pass could not point at the text; re-print the DOM instead.
    minified_fallback = simdjson::minify(object["detail"]);
    raw_detail = minified_fallback;
  }
  fields.detail_raw = raw_detail;
  return finish(fields, std::move(time_storage), context.bus, context);
}

// The raw text of each event's `detail` object, in order, so the envelope keeps the
// producer's own number spelling. An entry is empty where there is no such object.
std::vector<std::string_view> raw_details(const simdjson::padded_string& padded, bool is_array) {
  std::vector<std::string_view> out;
  auto take = [](simdjson::ondemand::object object) -> std::string_view {
    simdjson::ondemand::object detail;
    std::string_view raw;
    if (object.find_field_unordered("detail").get_object().get(detail)) return {};
    if (detail.raw_json().get(raw)) return {};
    return raw;
  };
  simdjson::ondemand::document document;
  if (detail::ondemand_parser().iterate(padded).get(document)) return out;
  if (is_array) {
    simdjson::ondemand::array array;
    if (document.get_array().get(array)) return out;
    for (auto item : array) {
      simdjson::ondemand::object object;
      out.push_back(item.get_object().get(object) ? std::string_view{} : take(object));
    }
  } else {
    simdjson::ondemand::object object;
    if (!document.get_object().get(object)) out.push_back(take(object));
  }
  return out;
}

Context make_context(std::string_view bus, const EnvelopeOptions& options) {
  const auto now = std::chrono::system_clock::now();
  return Context{bus, options, now, format_rfc3339(now)};
}

}  // namespace

Expected<std::vector<Entry>, BodyError> parse_events_request(std::string_view body,
                                                             std::string_view bus,
                                                             const EnvelopeOptions& options) {
  detail::JsonDocument document;
  auto root = document.parse(body);
  if (!root) return unexpected(root.error());
  const Context context = make_context(bus, options);
  std::vector<Entry> entries;

  if (root->type() == element_type::ARRAY) {
    simdjson::dom::array array = root->get_array().value_unsafe();
    if (array.size() == 0)
      return unexpected(BodyError{"InvalidRequest", "the array is empty: send at least one event"});
    const auto raws = raw_details(document.padded(), true);
    entries.reserve(array.size());
    std::size_t index = 0;
    for (element item : array) {
      std::string_view raw = index < raws.size() ? raws[index] : std::string_view{};
      entries.push_back(normalise_envelope(item, raw, context));
      ++index;
    }
    return entries;
  }
  if (root->type() == element_type::OBJECT) {
    const auto raws = raw_details(document.padded(), false);
    entries.push_back(
        normalise_envelope(*root, raws.empty() ? std::string_view{} : raws[0], context));
    return entries;
  }
  return unexpected(BodyError{"InvalidRequest",
                              "the body must be one event (a JSON object) or an array of events"});
}

namespace {

EntryError aws_required(std::string_view parameter) {
  return invalid("Parameter " + std::string(parameter) +
                 " is not valid. Reason: " + std::string(parameter) + " is a required argument.");
}

// EventBusName may be a name or an ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME).
std::optional<std::string_view> bus_from_name_or_arn(std::string_view text) {
  if (text.starts_with("arn:")) {
    const auto slash = text.find(":event-bus/");
    if (slash == std::string_view::npos) return std::nullopt;
    text = text.substr(slash + 11);
  }
  if (!is_valid_bus_name(text)) return std::nullopt;
  return text;
}

// AWS SDKs send Time as epoch seconds (JSON 1.1 timestamps); people send RFC 3339 strings.
std::optional<std::string> aws_time(element value) {
  double seconds;
  if (!value.get_double().get(seconds)) {
    if (seconds < 0 || seconds > 253402300799.0) return std::nullopt;
    return format_rfc3339(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(seconds))));
  }
  std::string_view text;
  if (value.get_string().get(text)) return std::nullopt;
  return normalise_time(text);
}

Entry normalise_put_events_entry(element value, std::string_view default_bus,
                                 const Context& context) {
  simdjson::dom::object object;
  if (value.get_object().get(object))
    return unexpected(invalid("each entry must be a JSON object"));
  detail::EnvelopeFields fields;
  std::string time_storage;
  std::string_view detail_text;
  bool has_detail = false;
  std::string_view bus = default_bus;
  for (auto [key, field] : object) {
    if (key == "Source" || key == "DetailType" || key == "Detail" || key == "EventBusName" ||
        key == "TraceHeader") {
      std::string_view text;
      if (field.get_string().get(text))
        return unexpected(invalid("Parameter " + std::string(key) +
                                  " is not valid. Reason: it must be a string."));
      if (key == "Source") fields.source = text;
      if (key == "DetailType") fields.detail_type = text;
      if (key == "Detail") {
        detail_text = text;
        has_detail = true;
      }
      if (key == "EventBusName" && !text.empty()) {
        auto name = bus_from_name_or_arn(text);
        if (!name)
          return unexpected(invalid("Parameter EventBusName is not valid. Reason: \"" +
                                    std::string(text) + "\" is not an event bus name or ARN."));
        bus = *name;
      }
    } else if (key == "Resources") {
      if (!read_resources(field, fields.resources))
        return unexpected(invalid(
            "Parameter Resources is not valid. Reason: it must be a list of strings (ARNs)."));
    } else if (key == "Time") {
      auto normal = aws_time(field);
      if (!normal)
        return unexpected(
            invalid("Parameter Time is not valid. Reason: use epoch seconds or an "
                    "RFC 3339 timestamp such as 2026-11-20T14:02:11Z."));
      time_storage = std::move(*normal);
    }
    // Other members (EndpointId and future ones) are ignored, as AWS's own SDKs may send them.
  }
  if (fields.source.empty()) return unexpected(aws_required("Source"));
  if (fields.detail_type.empty()) return unexpected(aws_required("DetailType"));
  if (!has_detail) return unexpected(aws_required("Detail"));
  if (auto problem = check_fields(fields, true)) return unexpected(std::move(*problem));
  if (auto duplicate = detail::find_duplicate_key(value))
    return unexpected(detail::duplicate_key_error(*duplicate, "the entry"));

  detail::JsonDocument detail_document(1);
  auto detail_root = detail_document.parse(detail_text);
  if (!detail_root || detail_root->type() != element_type::OBJECT) {
    std::string reason = detail_root ? "Detail must be a JSON object" : detail_root.error().message;
    return unexpected(EntryError{"MalformedDetail", "Detail is malformed: " + reason + "."});
  }
  if (auto duplicate = detail::find_duplicate_key(*detail_root, "detail"))
    return unexpected(detail::duplicate_key_error(*duplicate, "Detail"));
  fields.detail_raw = detail_text;
  return finish(fields, std::move(time_storage), bus, context);
}

}  // namespace

Expected<std::vector<Entry>, BodyError> parse_put_events_request(std::string_view body,
                                                                 std::string_view default_bus,
                                                                 const EnvelopeOptions& options) {
  detail::JsonDocument document;
  auto root = document.parse(body);
  if (!root) return unexpected(root.error());
  simdjson::dom::array array;
  if (root->type() != element_type::OBJECT || (*root)["Entries"].get_array().get(array)) {
    return unexpected(BodyError{"ValidationException",
                                "1 validation error detected: Value null at 'entries' failed to "
                                "satisfy constraint: Member must not be null"});
  }
  if (array.size() < 1 || array.size() > 10) {
    return unexpected(BodyError{
        "ValidationException",
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member "
        "must have length less than or equal to 10 and greater than or equal to 1 (got " +
            std::to_string(array.size()) + ")"});
  }
  const Context context = make_context(default_bus, options);
  std::vector<Entry> entries;
  entries.reserve(array.size());
  for (element item : array)
    entries.push_back(normalise_put_events_entry(item, default_bus, context));
  return entries;
}

}  // namespace eventrouter::event
