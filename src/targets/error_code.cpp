#include <ostream>

#include "eventrouter/targets/target.hpp"

namespace eventrouter::targets {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "";
    case ErrorCode::kConnectionFailure:
      return "CONNECTION_FAILURE";
    case ErrorCode::kTimeout:
      return "TIMEOUT";
    case ErrorCode::kThrottling:
      return "THROTTLING";
    case ErrorCode::kErrorFromTarget:
      return "ERROR_FROM_TARGET";
    case ErrorCode::kInvalidParameter:
      return "INVALID_PARAMETER";
    case ErrorCode::kNoPermissions:
      return "NO_PERMISSIONS";
    case ErrorCode::kResourceNotFound:
      return "RESOURCE_NOT_FOUND";
    case ErrorCode::kInternalError:
      return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";  // not reached: every enumerator is named above
}

std::ostream& operator<<(std::ostream& out, ErrorCode code) {
  return out << (code == ErrorCode::kNone ? std::string_view("(none)") : to_string(code));
}

}  // namespace eventrouter::targets
