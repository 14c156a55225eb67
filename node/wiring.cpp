#include "node/wiring.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "drivers/driver_actors.hpp"
#include "node/resource_controller.hpp"

namespace pl::node {

node_actors spawn_node_actors(caf::actor_system& sys, const drivers::backend& backend) {
  node_actors out;
  for (const auto& [m, driver] : backend.drivers) {
    auto d = drivers::spawn_driver(sys, driver);
    out.drivers.push_back(d);
    out.deps.controllers.push_back(spawn_resource_controller(sys, m, d));
    if (m == mechanism::net)
      out.net = out.deps.controllers.back();
  }
  out.deps.containers = drivers::spawn_container_driver(sys, backend.containers);
  return out;
}

void stop_node_actors(const node_actors& actors) {
  for (const auto& c : actors.deps.controllers)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  for (const auto& d : actors.drivers)
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(actors.deps.containers, caf::exit_reason::user_shutdown);
}

} // namespace pl::node
