#pragma once

#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "drivers/backend.hpp"

namespace pl::drivers {

/// Describes one resman tool (seed 4.3): its name, mechanism, the resource it
/// reads and sets by default, and its unit.
struct resman_tool {
  std::string_view name;
  mechanism enforced_by;
  std::string_view resource;
};

/// Returns the tool called `name` (`cpulimit`, `memlimit`, `tasklimit`,
/// `disklimit`, `bwlimit`, `iolimit`), if any.
std::optional<resman_tool> find_resman_tool(std::string_view name);

/// Returns the usage text of a tool.
std::string resman_usage(const resman_tool& tool);

/// Runs one resman command (`init`, `getlimit`, `setlimit`, `on`, `off`,
/// `default`, `--help`) against the backend's drivers; prints results on
/// `out`, errors on `err`; returns the exit status (0 ok, 1 refused, 2 usage).
/// A refused command changes nothing.
int run_resman(const resman_tool& tool, std::span<const std::string> args, backend& b,
               std::ostream& out, std::ostream& err);

} // namespace pl::drivers
