#pragma once

#include <optional>
#include <vector>

#include <caf/fwd.hpp>

#include "drivers/backend.hpp"
#include "node/sliver.hpp"

// Puts a node's actors together on a driver backend (`linux` or `sim`): one
// driver actor per mechanism the backend has, one resource controller in
// front of each, and the container driver. nodemgr, the tests and the
// simulator wire nodes the same way.

namespace pl::node {

/// Holds the actors `spawn_node_actors` made (the drivers stay reachable for
/// shutting down; slivers reach them through the controllers).
struct node_actors {
  sliver_deps deps;
  std::vector<driver_actor> drivers;
  /// The net mechanism's controller, when the backend has a net driver (the
  /// byte caps put lowered ceilings there).
  std::optional<resource_controller_actor> net;
};

/// Spawns the driver actors, resource controllers and container driver for
/// `backend` (which must outlive them).
node_actors spawn_node_actors(caf::actor_system& sys, const drivers::backend& backend);

/// Sends every actor of `actors` an exit message (user shutdown).
void stop_node_actors(const node_actors& actors);

} // namespace pl::node
