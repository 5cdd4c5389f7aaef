#include "eventrouter/delivery/delivery_store.hpp"

namespace eventrouter::delivery {

EpochMillis to_epoch_millis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_epoch_millis(EpochMillis millis) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(millis));
}

}  // namespace eventrouter::delivery
