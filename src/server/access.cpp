#include "eventrouter/server/access.hpp"

#include <algorithm>
#include <array>

namespace eventrouter::server {

namespace {

constexpr std::array kRoles = {Role::kIngest, Role::kRead, Role::kAdmin};

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kIngest:
      return "ingest";
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
  }
  return "admin";
}

std::optional<Role> role_named(std::string_view name) {
  for (Role role : kRoles)
    if (role_name(role) == name) return role;
  return std::nullopt;
}

bool Access::may_post_to(std::string_view bus) const {
  return !buses || std::find(buses->begin(), buses->end(), bus) != buses->end();
}

std::optional<std::string> role_denial(const Access& access, const Requirement& requirement) {
  std::string needed;
  for (Role role : kRoles) {
    if ((requirement.roles & static_cast<std::uint8_t>(role)) == 0 || role == Role::kAdmin)
      continue;
    if (access.has(role)) return std::nullopt;
    needed += needed.empty() ? "role " : " or ";
    needed += role_name(role);
  }
  if (access.has(Role::kAdmin)) return std::nullopt;
  std::string message = "this token may not " + std::string(requirement.action) + ": it needs ";
  message += needed.empty() ? "role admin" : needed + " (or admin)";
  return message;
}

std::string bus_denial(const Access& access, std::string_view bus) {
  // Bus names are checked (1 to 256 safe characters) before they get here; the list comes from
  // the tokens file, which bounds it.
  std::string message =
      "this token may not post to bus '" + std::string(bus) + "' (it may post to: ";
  const auto& buses = access.buses.value_or(std::vector<std::string>{});
  for (std::size_t i = 0; i < buses.size(); ++i) {
    if (i > 0) message += ", ";
    message += buses[i];
  }
  return message + ")";
}

}  // namespace eventrouter::server
