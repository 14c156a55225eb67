#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pl::plc::api {

/// A caller's role. The first five are rows of the `roles` table (with
/// PLCAPI's ids; node, 50, is held by node-authenticated callers only, and
/// tag types may list it); anonymous and peer are pseudo-roles a method may list.
enum class role { admin, pi, user, tech, node, anonymous, peer };

/// Returns PLCAPI's name of `r` ("admin", "pi", ...).
std::string_view role_name(role r);

/// Parses a role name; nullopt for an unknown one.
std::optional<role> parse_role(std::string_view name);

/// Returns the role's id in the roles table (10, 20, 30, 40, 50), or 0 for a pseudo-role.
int role_id(role r);

/// Maps a roles-table id to its role; nullopt for an unknown id.
std::optional<role> role_from_id(int id);

using role_set = std::vector<role>;

/// Tells whether any role of `caller` appears in `allowed`.
bool intersects(const role_set& caller, const role_set& allowed);

} // namespace pl::plc::api
