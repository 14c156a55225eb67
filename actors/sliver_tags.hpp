#pragma once

// How a sliver's tags (PLC's slice tags that apply on one node) become a
// `sliver_spec`, shared by PLC (which builds the specs it pushes) and the node
// manager (which parses GetSlivers), so both read the tags the same way.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/records.hpp"

namespace pl {

/// An enabled InitScript, for resolving a sliver's `initscript` tag.
struct named_script {
  std::int32_t initscript_id = 0;
  std::string name;
  std::string script;
};

/// Fills `spec`'s resources, enabled, vref, delegations, initscript and
/// attributes from `tags` (name, value) listed in precedence order (sliver,
/// node group, global): the first value of a name wins. Resource tags become
/// the rspec; `enabled` (an integer, > 0 enabled); `vref`; `delegations`
/// (see parse_delegations); the initscript is 2.0's literal
/// `initscript_code`, else the script named by `initscript`, else 1.5's
/// `plc_initscript_id`; every other tag stays in `attributes`. Returns why the
/// sliver cannot be used (a resource value that does not parse, `enabled`
/// not an integer), leaving `spec` partly filled; nullopt on success.
std::optional<std::string>
apply_sliver_tags(sliver_spec& spec, const std::vector<std::pair<std::string, std::string>>& tags,
                  const std::vector<named_script>& scripts);

/// Splits a `delegations` value into slice names (commas and white space
/// separate them; empty parts are dropped, duplicates kept once, order kept).
std::vector<std::string> parse_delegations(std::string_view text);

} // namespace pl
