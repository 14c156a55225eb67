#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/node_registry_actor.hpp"
#include "actors/slice_actor.hpp"

namespace pl {
class clock;
}

namespace pl::plc::push {

struct slice_actor_config {
  node_registry_actor registry;
  /// PLC's clock: snapshot timestamps and the expiry timer. Must outlive the
  /// actor.
  const pl::clock* clock = nullptr;
};

/// Spawns the actor of one live slice (see actors/slice_actor.hpp) with its
/// current desired state; nothing is pushed until the first `put`, because a
/// node that connects catches up through GetSlivers.
slice_actor spawn_slice_actor(caf::actor_system& sys, slice_actor_config config, slice_spec spec,
                              std::vector<sliver_spec> slivers);

} // namespace pl::plc::push
