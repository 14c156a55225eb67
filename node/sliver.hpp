#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/driver_actor.hpp"
#include "actors/resource_controller_actor.hpp"
#include "actors/sliver_actor.hpp"

namespace pl::node {

/// What a sliver actor drives: the container driver and every resource
/// controller of the node.
struct sliver_deps {
  container_driver_actor containers;
  std::vector<resource_controller_actor> controllers;
  /// How long one container or controller call may take.
  caf::timespan timeout = std::chrono::minutes(5);
};

/// State of one sliver's actor.
struct sliver_state {
  static inline const char* name = "sliver";
  std::string sliver;
  sliver_deps deps;
  sliver_phase phase = sliver_phase::pending;
  /// The spec the container was last made from.
  sliver_spec spec;
  /// The effective rspec last handed to the controllers.
  rspec effective;
};

/// Spawns the actor of sliver `name` (pl::sliver_actor), starting in
/// `phase` with `spec` (after a restart: what the records say was applied).
///
/// - `put, spec`: makes or updates the container (the driver's create is
///   idempotent); a running sliver whose initscript changed is restarted so
///   the new one runs.
/// - `effective, rspec`: hands the rspec to every controller; answers once
///   all did, with the first error.
/// - `start`, `stop`: the container's init; `destroy`: the container, then
///   every controller's settings, then the actor quits.
/// - `status`: name and phase.
///
/// A failed create or start leaves the phase `failed`.
sliver_actor spawn_sliver(caf::actor_system& sys, std::string name, sliver_deps deps,
                          sliver_phase phase = sliver_phase::pending, sliver_spec spec = {});

} // namespace pl::node
