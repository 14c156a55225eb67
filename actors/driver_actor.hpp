#pragma once

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Enforces allocations on one resource mechanism of a node (drivers): the
/// `linux` backend writes kernel knobs, the `sim` backend a model. One per
/// mechanism (cpu, memory, tasks, disk_io, disk_space, net) per node.
///
/// - `apply` enforces an allocation for its sliver, idempotently; fails with
///   `errc::mechanism_failure` (the kernel said no) or `errc::invalid_argument`
///   (an allocation for another mechanism).
/// - `delete` removes every setting of sliver `name`.
/// - `get` reads back the settings in force for sliver `name` (after a restart,
///   the controller reconciles against them).
using driver_actor =
    caf::typed_actor<caf::replies_to<apply_atom, allocation>::with<caf::ok_atom>,
                     caf::replies_to<caf::delete_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<caf::get_atom, std::string>::with<allocation>>;

/// Creates and runs slivers' containers (mechanism `container`): namespaces
/// plus a copy-on-write clone of the reference image as the sliver's root.
///
/// - `create` makes or updates the container of `spec.name` from `spec.vref`,
///   installs `spec.keys` and `spec.initscript`; idempotent.
/// - `start`, `stop`, `destroy` act on the named sliver's container.
/// - `tick` (sent to itself every `container_backend::watch_interval()`)
///   starts again the containers whose init died without a `stop`.
using container_driver_actor =
    caf::typed_actor<caf::replies_to<create_atom, sliver_spec>::with<caf::ok_atom>,
                     caf::replies_to<start_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<stop_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<destroy_atom, std::string>::with<caf::ok_atom>,
                     caf::reacts_to<caf::tick_atom>>;

} // namespace pl
