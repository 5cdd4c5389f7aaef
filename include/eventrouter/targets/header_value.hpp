#pragma once
// The one check for every value eventrouter puts into an outgoing header (webhook requests,
// e-mail messages) or a runbook's environment. Ingest already refuses control characters in
// the envelope fields; this is the last line, at the place values leave the process, so that
// no path (a payload placeholder, a replayed or redriven event, a future target) can smuggle
// a line break into a request or a message.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eventrouter::targets {

// Longest value one outgoing header or environment variable may carry.
inline constexpr std::size_t kMaxOutgoingValueBytes = 8192;

// Why `value` cannot be sent as the header (or variable) `name`: a control character
// (U+0000 to U+001F, U+007F; line breaks included) or more than kMaxOutgoingValueBytes bytes.
// Nothing when it can. The message never quotes the value, which may be a secret.
std::optional<std::string> outgoing_value_problem(std::string_view name, std::string_view value);

}  // namespace eventrouter::targets
