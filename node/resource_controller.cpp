#include "node/resource_controller.hpp"

#include <functional>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"

namespace pl::node {

namespace {

using self_ptr = resource_controller_actor::stateful_pointer<resource_controller_state>;

using done_fn = std::function<void(caf::error)>;

// Applies `queue[i..]` one after the other; `await` keeps other requests out
// until the driver answered, so allocations never overtake each other.
// `done` gets the first error (or none) once every driver call answered.
void apply_from(self_ptr self, std::shared_ptr<std::vector<allocation>> queue, std::size_t i,
                std::shared_ptr<caf::error> first, done_fn done) {
  if (i == queue->size()) {
    done(std::move(*first));
    return;
  }
  auto a = (*queue)[i];
  self->request(self->state.driver, self->state.timeout, apply_atom_v, a)
      .await(
          [=](caf::ok_atom) {
            self->state.policy.applied(a);
            apply_from(self, queue, i + 1, first, done);
          },
          [=](caf::error& err) {
            if (!*first)
              *first = std::move(err);
            apply_from(self, queue, i + 1, first, done);
          });
}

void apply_pending(self_ptr self, const std::string& first, done_fn done) {
  auto queue = std::make_shared<std::vector<allocation>>(self->state.policy.pending(first));
  apply_from(self, std::move(queue), 0, std::make_shared<caf::error>(), std::move(done));
}

done_fn deliver_to(caf::typed_response_promise<caf::ok_atom> rp) {
  return [rp](caf::error err) mutable {
    if (err)
      rp.deliver(std::move(err));
    else
      rp.deliver(caf::ok_atom_v);
  };
}

resource_controller_actor::behavior_type controller(self_ptr self, mechanism m, driver_actor driver,
                                                    caf::timespan timeout) {
  self->state.policy = allocation_policy{m};
  self->state.driver = std::move(driver);
  self->state.timeout = timeout;
  return {
      [self](caf::put_atom, const std::string& name,
             const rspec& effective) -> caf::result<caf::ok_atom> {
        if (auto err = validate(effective))
          return err;
        self->state.policy.put(name, effective);
        auto rp = self->make_response_promise<caf::ok_atom>();
        apply_pending(self, name, deliver_to(rp));
        return rp;
      },
      [self](caf::delete_atom, const std::string& name) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        self->state.policy.remove(name);
        self->request(self->state.driver, self->state.timeout, caf::delete_atom_v, name)
            .await(
                [self, rp](caf::ok_atom) {
                  // Others' weights may change when a sliver leaves.
                  apply_pending(self, {}, deliver_to(rp));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self](caf::get_atom, const std::string& name) -> caf::result<allocation> {
        if (auto a = self->state.policy.in_force(name))
          return *a;
        return make_error(errc::unknown_sliver, name);
      },
  };
}

} // namespace

resource_controller_actor spawn_resource_controller(caf::actor_system& sys, mechanism m,
                                                    driver_actor driver, caf::timespan timeout) {
  return sys.spawn(controller, m, std::move(driver), timeout);
}

} // namespace pl::node
