#pragma once
// What a bearer token may do (docs/security.md, "Scoped tokens"): its roles, and the buses it
// may post events to. The router decides each request from this; the app reads it from
// auth.tokens_file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::server {

// Bits of Access::roles. Admin holds every other role; ingest and read are separate scopes.
enum class Role : std::uint8_t { kIngest = 1, kRead = 2, kAdmin = 4 };

// "ingest", "read", "admin".
std::string_view role_name(Role role);
// The role of that name, or nothing.
std::optional<Role> role_named(std::string_view name);
// "ingest, read, admin": for messages that list the choices.
inline constexpr std::string_view kRoleNames = "ingest, read, admin";

struct Access {
  std::uint8_t roles = static_cast<std::uint8_t>(Role::kAdmin);
  // The buses events may be posted to, in the order the file names them; nothing: every bus.
  std::optional<std::vector<std::string>> buses;

  // Whether the token holds `role`, itself or through admin.
  bool has(Role role) const {
    return (roles & (static_cast<std::uint8_t>(role) | static_cast<std::uint8_t>(Role::kAdmin))) !=
           0;
  }
  bool may_post_to(std::string_view bus) const;
};

// What a request needs: any one of `roles` (a bit set of Role), to do `action` ("post events").
struct Requirement {
  std::uint8_t roles;
  std::string_view action;
};

// Why `access` may not do what `requirement` asks ("this token may not read the rules: it needs
// role read (or admin)"), or nothing when it may. Never names the token.
std::optional<std::string> role_denial(const Access& access, const Requirement& requirement);
// "this token may not post to bus 'x' (it may post to: default, scanners)".
std::string bus_denial(const Access& access, std::string_view bus);

}  // namespace eventrouter::server
