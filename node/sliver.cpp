#include "node/sliver.hpp"

#include <functional>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"

namespace pl::node {

namespace {

using self_ptr = sliver_actor::stateful_pointer<sliver_state>;
using done_fn = std::function<void(caf::error)>;

bool exists(sliver_phase p) {
  return p == sliver_phase::created || p == sliver_phase::running || p == sliver_phase::stopped;
}

done_fn deliver_to(caf::typed_response_promise<caf::ok_atom> rp) {
  return [rp](caf::error err) mutable {
    if (err)
      rp.deliver(std::move(err));
    else
      rp.deliver(caf::ok_atom_v);
  };
}

// One container call; `await` so a sliver's steps never overtake each other.
template <class Atom, class... Ts>
void container_call(self_ptr self, Atom atom, done_fn done, Ts... xs) {
  self->request(self->state.deps.containers, self->state.deps.timeout, atom, xs...)
      .await([done](caf::ok_atom) { done({}); }, [done](caf::error& err) { done(std::move(err)); });
}

void start(self_ptr self, done_fn done) {
  container_call(
      self, start_atom_v,
      [self, done](caf::error err) {
        self->state.phase = err ? sliver_phase::failed : sliver_phase::running;
        done(std::move(err));
      },
      self->state.sliver);
}

void stop(self_ptr self, done_fn done) {
  container_call(
      self, stop_atom_v,
      [self, done](caf::error err) {
        if (!err)
          self->state.phase = sliver_phase::stopped;
        done(std::move(err));
      },
      self->state.sliver);
}

// Sends one request to every controller and calls `done` with the first
// error once all answered.
template <class... Ts>
void all_controllers(self_ptr self, done_fn done, Ts... xs) {
  const auto& cs = self->state.deps.controllers;
  if (cs.empty()) {
    done({});
    return;
  }
  auto left = std::make_shared<std::size_t>(cs.size());
  auto first = std::make_shared<caf::error>();
  for (const auto& c : cs)
    self->request(c, self->state.deps.timeout, xs...)
        .await(
            [=](caf::ok_atom) {
              if (--*left == 0)
                done(std::move(*first));
            },
            [=](caf::error& err) {
              if (!*first)
                *first = std::move(err);
              if (--*left == 0)
                done(std::move(*first));
            });
}

sliver_actor::behavior_type sliver_behavior(self_ptr self, std::string name, sliver_deps deps,
                                            sliver_phase phase, sliver_spec spec) {
  auto& st = self->state;
  st.sliver = std::move(name);
  st.deps = std::move(deps);
  st.phase = phase;
  st.spec = std::move(spec);
  return {
      [self](caf::put_atom, sliver_spec& spec) -> caf::result<caf::ok_atom> {
        if (spec.name != self->state.sliver)
          return make_error(errc::invalid_argument,
                            "spec for " + spec.name + " sent to sliver " + self->state.sliver);
        auto rp = self->make_response_promise<caf::ok_atom>();
        bool restart = self->state.phase == sliver_phase::running &&
                       spec.initscript != self->state.spec.initscript;
        container_call(
            self, create_atom_v,
            [self, rp, spec, restart](caf::error err) {
              auto done = deliver_to(rp);
              if (err) {
                if (!exists(self->state.phase))
                  self->state.phase = sliver_phase::failed;
                done(std::move(err));
                return;
              }
              self->state.spec = spec;
              if (!exists(self->state.phase))
                self->state.phase = sliver_phase::created;
              if (!restart) {
                done({});
                return;
              }
              // The new initscript runs as part of a start.
              stop(self, [self, done](caf::error err) {
                if (err)
                  done(std::move(err));
                else
                  start(self, done);
              });
            },
            spec);
        return rp;
      },
      [self](effective_atom, rspec& effective) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        self->state.effective = effective;
        all_controllers(self, deliver_to(rp), caf::put_atom_v, self->state.sliver, effective);
        return rp;
      },
      [self](start_atom) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        start(self, deliver_to(rp));
        return rp;
      },
      [self](stop_atom) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        stop(self, deliver_to(rp));
        return rp;
      },
      [self](destroy_atom) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        container_call(
            self, destroy_atom_v,
            [self, rp](caf::error err) mutable {
              if (err) {
                rp.deliver(std::move(err));
                return;
              }
              all_controllers(
                  self,
                  [self, rp](caf::error err) mutable {
                    if (err) {
                      rp.deliver(std::move(err));
                      return;
                    }
                    self->state.phase = sliver_phase::destroyed;
                    rp.deliver(caf::ok_atom_v);
                    self->quit();
                  },
                  caf::delete_atom_v, self->state.sliver);
            },
            self->state.sliver);
        return rp;
      },
      [self](status_atom) {
        return sliver_status{self->state.sliver, self->state.phase};
      },
  };
}

} // namespace

sliver_actor spawn_sliver(caf::actor_system& sys, std::string name, sliver_deps deps,
                          sliver_phase phase, sliver_spec spec) {
  return sys.spawn(sliver_behavior, std::move(name), std::move(deps), phase, std::move(spec));
}

} // namespace pl::node
