#pragma once

// Keeps one slice actor per live slice and feeds it committed changes: the
// database listener (or anything else) names the slice that changed, the
// directory reloads it and hands the result to its actor, which pushes.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/node_registry_actor.hpp"

namespace pl {
class clock;
}

namespace pl::plc::push {

/// A live slice and its sliver on each node, as GetSlivers would hand them out.
struct desired_slice {
  slice_spec spec;
  std::vector<sliver_spec> slivers;
};

struct directory_config {
  /// Reads one slice from the database; nullopt when it is deleted, expired or
  /// not instantiated on nodes. May block.
  std::function<std::optional<desired_slice>(std::int32_t slice_id)> load;
  /// Lists the ids of every live slice. May block.
  std::function<std::vector<std::int32_t>()> live_slices;
  node_registry_actor registry;
  /// PLC's clock, handed to the slice actors. Must outlive them.
  const pl::clock* clock = nullptr;
};

/// - `put, slice_id`: the slice changed (or may have); reload it and let its
///   actor push the difference, spawning or deleting the actor as needed.
/// - `reset`: notifications may have been lost (the listener reconnected):
///   reload every live slice and drop actors of slices no longer live.
/// - `get, slice_id`: the desired state its actor holds, or
///   `errc::unknown_slice` when no actor holds that slice.
using slice_directory_actor =
    caf::typed_actor<caf::reacts_to<caf::put_atom, std::int32_t>, caf::reacts_to<caf::reset_atom>,
                     caf::replies_to<caf::get_atom, std::int32_t>::with<slice_spec>>;

/// Spawns the directory; `detached` gives it its own thread, since `load`
/// blocks (tests on the test coordinator pass false). It starts by loading
/// every live slice without pushing: nodes catch up through GetSlivers.
slice_directory_actor spawn_slice_directory(caf::actor_system& sys, directory_config config,
                                            bool detached = true);

} // namespace pl::plc::push
