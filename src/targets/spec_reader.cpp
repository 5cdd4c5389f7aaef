#include "spec_reader.hpp"

#include "eventrouter/transform/payload_shaper.hpp"

namespace eventrouter::targets {

std::vector<std::string> keys_of_every_target() {
  std::vector<std::string> keys = common_target_keys();
  for (const auto& key : transform::PayloadShaper::keys()) keys.push_back(key);
  return keys;
}

}  // namespace eventrouter::targets
