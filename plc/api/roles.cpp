#include "plc/api/roles.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace pl::plc::api {

namespace {

constexpr std::array<std::pair<role, std::string_view>, 7> names{{
    {role::admin, "admin"},
    {role::pi, "pi"},
    {role::user, "user"},
    {role::tech, "tech"},
    {role::node, "node"},
    {role::anonymous, "anonymous"},
    {role::peer, "peer"},
}};

constexpr std::array<std::pair<role, int>, 5> ids{{
    {role::admin, 10},
    {role::pi, 20},
    {role::user, 30},
    {role::tech, 40},
    {role::node, 50},
}};

} // namespace

std::string_view role_name(role r) {
  for (auto& [value, name] : names)
    if (value == r)
      return name;
  return "unknown";
}

std::optional<role> parse_role(std::string_view name) {
  for (auto& [value, text] : names)
    if (text == name)
      return value;
  return std::nullopt;
}

int role_id(role r) {
  for (auto& [value, id] : ids)
    if (value == r)
      return id;
  return 0;
}

std::optional<role> role_from_id(int id) {
  for (auto& [value, rid] : ids)
    if (rid == id)
      return value;
  return std::nullopt;
}

bool intersects(const role_set& caller, const role_set& allowed) {
  return std::any_of(caller.begin(), caller.end(), [&](role r) {
    return std::find(allowed.begin(), allowed.end(), r) != allowed.end();
  });
}

} // namespace pl::plc::api
