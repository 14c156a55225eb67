#pragma once

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Turns the rspecs of all slivers on a node into settings for one mechanism
/// (node): shares and limits to knob values, defaults, fairness, capacity.
/// One per mechanism per node; it owns that mechanism's driver.
///
/// - `put` sets sliver `name`'s effective rspec; the controller takes the
///   resources its mechanism enforces, recomputes the allocations it affects
///   and applies them through the driver. Rejects an invalid rspec with the
///   resource table's errors, applying nothing.
/// - `delete` removes sliver `name` and releases what it held.
/// - `get` returns the allocation last applied for sliver `name`.
using resource_controller_actor =
    caf::typed_actor<caf::replies_to<caf::put_atom, std::string, rspec>::with<caf::ok_atom>,
                     caf::replies_to<caf::delete_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<caf::get_atom, std::string>::with<allocation>>;

} // namespace pl
