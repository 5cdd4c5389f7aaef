#pragma once
// The checks every envelope field gets at ingest, whichever request format brought it. Event
// data is hostile: what passes here reaches HTTP headers, e-mail headers, runbook environments,
// file names and log lines, so control characters and unbounded lengths stop at the door.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "eventrouter/event/event.hpp"

namespace eventrouter::event::detail {

// EventBridge's own limits where it has them (PutEventsRequestEntry), ours elsewhere.
inline constexpr std::size_t kMaxIdChars = 256;
inline constexpr std::size_t kMaxSourceChars = 256;
inline constexpr std::size_t kMaxDetailTypeChars = 128;
inline constexpr std::size_t kMaxAccountChars = 64;
inline constexpr std::size_t kMaxRegionChars = 64;
inline constexpr std::size_t kMaxVersionChars = 64;
inline constexpr std::size_t kMaxResources = 100;
inline constexpr std::size_t kMaxResourceChars = 2048;

// Why `value` (the field `name`) cannot be accepted, or nothing when it can: more than
// `max_chars` characters, or a control character (U+0000 to U+001F, U+007F).
std::optional<EntryError> check_text_field(std::string_view name, std::string_view value,
                                           std::size_t max_chars);

// Checks the resources list: at most kMaxResources entries, each a text field.
std::optional<EntryError> check_resources(std::string_view name,
                                          const std::vector<std::string_view>& resources);

// The first key that appears twice in one object anywhere in `root`, with the path of that
// object ("detail.user"), or nothing. An event with a repeated key is ambiguous: a matcher and
// a runbook's jq could each read a different value.
struct DuplicateKey {
  std::string path;  // where the object is, "" for the top level
  std::string key;
};
// `prefix` names where `root` sits ("detail" for a PutEvents Detail string).
std::optional<DuplicateKey> find_duplicate_key(simdjson::dom::element root,
                                               std::string prefix = {});

// The InvalidArgument error that names a duplicate key, for `where` ("the event", "Detail").
EntryError duplicate_key_error(const DuplicateKey& duplicate, std::string_view where);

}  // namespace eventrouter::event::detail
