#pragma once

#include <map>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/driver_actor.hpp"
#include "drivers/container_backend.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::drivers {

/// State of a mechanism's driver actor: the plain driver it translates to.
struct driver_state_base {
  std::shared_ptr<mechanism_driver> impl;
};

struct cpu_driver_state : driver_state_base {
  static inline const char* name = "cpu_driver";
};
struct memory_driver_state : driver_state_base {
  static inline const char* name = "memory_driver";
};
struct tasks_driver_state : driver_state_base {
  static inline const char* name = "tasks_driver";
};
struct disk_io_driver_state : driver_state_base {
  static inline const char* name = "disk_io_driver";
};
struct disk_space_driver_state : driver_state_base {
  static inline const char* name = "disk_space_driver";
};
struct net_driver_state : driver_state_base {
  static inline const char* name = "net_driver";
};

/// State of the container driver actor.
struct container_driver_state {
  static inline const char* name = "container_driver";
  std::shared_ptr<container_backend> impl;
};

/// Spawns the driver actor for `impl->kind()`.
driver_actor spawn_driver(caf::actor_system& sys, std::shared_ptr<mechanism_driver> impl);

/// Spawns the container driver actor.
container_driver_actor spawn_container_driver(caf::actor_system& sys,
                                              std::shared_ptr<container_backend> impl);

} // namespace pl::drivers
