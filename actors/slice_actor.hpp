#pragma once

#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Holds the desired state of one live slice at PLC (plc/push).
///
/// - `get` returns the current desired state.
/// - `put` replaces it after a committed change (attributes, node set, expiry,
///   renewal) with the slice and its sliver on each node (per-node tags
///   applied): the actor pushes the slivers that changed to their nodes
///   through the node registry and revokes the sliver on nodes the slice left.
///   Fails with `errc::invalid_argument` when the spec or a sliver names
///   another slice.
/// - `delete` revokes every sliver of the slice, then the actor terminates.
/// - `expire` is the actor's own timer (a delayed message through the actor
///   clock) at `slice_spec::expires`; it acts like `delete` unless renewed.
using slice_actor = caf::typed_actor<
    caf::replies_to<caf::get_atom>::with<slice_spec>,
    caf::replies_to<caf::put_atom, slice_spec, std::vector<sliver_spec>>::with<caf::ok_atom>,
    caf::replies_to<caf::delete_atom>::with<caf::ok_atom>, caf::reacts_to<expire_atom>>;

} // namespace pl
