#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/driver_actor.hpp"
#include "actors/resource_controller_actor.hpp"
#include "node/allocation_policy.hpp"

namespace pl::node {

/// State of a resource controller: one mechanism's policy and its driver.
struct resource_controller_state {
  static inline const char* name = "resource_controller";
  allocation_policy policy{mechanism::cpu};
  driver_actor driver;
  /// How long one driver call may take.
  caf::timespan timeout = std::chrono::minutes(5);
};

/// Spawns the controller of mechanism `m` in front of `driver`. Each `put`
/// or `delete` recomputes the policy and applies, one at a time, every
/// allocation that changed (for cpu, a new reservation can change every
/// sliver's weight), the named sliver's first; the reply waits for them and
/// carries the first driver error. An allocation that failed stays pending
/// and is applied again with the next change.
resource_controller_actor
spawn_resource_controller(caf::actor_system& sys, mechanism m, driver_actor driver,
                          caf::timespan timeout = std::chrono::minutes(5));

} // namespace pl::node
