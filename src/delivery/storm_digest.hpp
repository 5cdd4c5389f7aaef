#pragma once
// The event a rule's targets get when a storm window that held events closes:
// detail-type "Eventrouter Storm Digest", source "eventrouter", with the window's counts.

#include <chrono>
#include <string>

#include "response_gate.hpp"

namespace eventrouter::delivery {

// The digest event's JSON (EventBridge's envelope), with id `id` and time `time`.
std::string storm_digest_json(const DigestReady& digest, const std::string& id,
                              std::chrono::system_clock::time_point time);

}  // namespace eventrouter::delivery
