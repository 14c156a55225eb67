#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Runs one sliver's lifecycle on a node (node); spawned by the node manager.
///
/// - `put` sets the desired spec (keys, initscript, vref, enabled); a changed
///   initscript or a disabled sliver restarts or stops it.
/// - `effective` sets the effective rspec (after loans); the sliver hands it to
///   every resource controller.
/// - `start`, `stop`, `destroy` drive the container through its driver;
///   `destroy` also releases every resource, then the actor terminates.
/// - `status` returns the sliver's name and phase.
using sliver_actor =
    caf::typed_actor<caf::replies_to<caf::put_atom, sliver_spec>::with<caf::ok_atom>,
                     caf::replies_to<effective_atom, rspec>::with<caf::ok_atom>,
                     caf::replies_to<start_atom>::with<caf::ok_atom>,
                     caf::replies_to<stop_atom>::with<caf::ok_atom>,
                     caf::replies_to<destroy_atom>::with<caf::ok_atom>,
                     caf::replies_to<status_atom>::with<sliver_status>>;

} // namespace pl
