#include "drivers/driver_actors.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/errors.hpp"

namespace pl::drivers {

namespace {

template <class State>
driver_actor::behavior_type mechanism_behavior(typename driver_actor::stateful_pointer<State> self,
                                               std::shared_ptr<mechanism_driver> impl) {
  self->state.impl = std::move(impl);
  return {
      [self](apply_atom, const allocation& a) -> caf::result<caf::ok_atom> {
        if (auto err = self->state.impl->apply(a))
          return err;
        return caf::ok_atom_v;
      },
      [self](caf::delete_atom, const std::string& sliver) -> caf::result<caf::ok_atom> {
        if (auto err = self->state.impl->remove(sliver))
          return err;
        return caf::ok_atom_v;
      },
      [self](caf::get_atom, const std::string& sliver) -> caf::result<allocation> {
        auto x = self->state.impl->read(sliver);
        if (!x)
          return x.error();
        return std::move(*x);
      },
  };
}

container_driver_actor::behavior_type
container_behavior(container_driver_actor::stateful_pointer<container_driver_state> self,
                   std::shared_ptr<container_backend> impl) {
  self->state.impl = std::move(impl);
  auto reply = [](caf::error err) -> caf::result<caf::ok_atom> {
    if (err)
      return err;
    return caf::ok_atom_v;
  };
  // The watchdog: containers whose init died (not stopped) are started
  // again, here, so it never races a stop or destroy of the same container.
  auto interval = self->state.impl->watch_interval();
  if (interval.count() > 0)
    self->delayed_send(self, interval, caf::tick_atom_v);
  return {
      [self, interval](caf::tick_atom) {
        for (const auto& name : self->state.impl->died()) {
          if (auto err = self->state.impl->start(name))
            spdlog::warn("drivers.container event=restart_failed sliver={} error={}", name,
                         describe(err));
          else
            spdlog::warn("drivers.container event=restarted sliver={} reason=init_died", name);
        }
        if (interval.count() > 0)
          self->delayed_send(self, interval, caf::tick_atom_v);
      },
      [self, reply](create_atom, const sliver_spec& spec) {
        return reply(self->state.impl->create(spec));
      },
      [self, reply](start_atom, const std::string& name) {
        return reply(self->state.impl->start(name));
      },
      [self, reply](stop_atom, const std::string& name) {
        return reply(self->state.impl->stop(name));
      },
      [self, reply](destroy_atom, const std::string& name) {
        return reply(self->state.impl->destroy(name));
      },
  };
}

} // namespace

driver_actor spawn_driver(caf::actor_system& sys, std::shared_ptr<mechanism_driver> impl) {
  switch (impl->kind()) {
  case mechanism::cpu:
    return sys.spawn(mechanism_behavior<cpu_driver_state>, std::move(impl));
  case mechanism::memory:
    return sys.spawn(mechanism_behavior<memory_driver_state>, std::move(impl));
  case mechanism::tasks:
    return sys.spawn(mechanism_behavior<tasks_driver_state>, std::move(impl));
  case mechanism::disk_io:
    return sys.spawn(mechanism_behavior<disk_io_driver_state>, std::move(impl));
  case mechanism::disk_space:
    return sys.spawn(mechanism_behavior<disk_space_driver_state>, std::move(impl));
  case mechanism::net:
  case mechanism::container:
    break;
  }
  return sys.spawn(mechanism_behavior<net_driver_state>, std::move(impl));
}

container_driver_actor spawn_container_driver(caf::actor_system& sys,
                                              std::shared_ptr<container_backend> impl) {
  return sys.spawn(container_behavior, std::move(impl));
}

} // namespace pl::drivers
