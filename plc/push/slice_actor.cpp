#include "plc/push/slice_actor.hpp"

#include <map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/clock.hpp"
#include "actors/errors.hpp"

namespace pl::plc::push {

namespace {

struct slice_state {
  slice_actor_config config;
  slice_spec spec;
  /// The desired sliver on each node of the slice.
  std::map<std::int32_t, sliver_spec> desired;
  /// What each node acknowledged last; a node missing here gets the next
  /// change in full even when its desired sliver did not change.
  std::map<std::int32_t, sliver_spec> delivered;
};

using slice_pointer = slice_actor::stateful_pointer<slice_state>;

void push_sliver(slice_pointer self, const sliver_spec& sliver) {
  sliver_snapshot snapshot;
  snapshot.node_id = sliver.node_id;
  snapshot.timestamp = self->state.config.clock->now_epoch();
  snapshot.slivers.push_back(sliver);
  // Fire and forget: the put that caused this is acknowledged at once; a node
  // that does not take the push catches up with its next GetSlivers.
  self->request(self->state.config.registry, caf::infinite, push_atom_v, std::move(snapshot))
      .then(
          [self, sliver](caf::ok_atom) {
            auto i = self->state.desired.find(sliver.node_id);
            if (i != self->state.desired.end() && i->second == sliver)
              self->state.delivered[sliver.node_id] = sliver;
          },
          [self, node_id = sliver.node_id](const caf::error&) {
            self->state.delivered.erase(node_id);
          });
}

void revoke_on(slice_pointer self, std::int32_t node_id) {
  self->state.delivered.erase(node_id);
  self->request(self->state.config.registry, caf::infinite, revoke_atom_v, node_id,
                self->state.spec.name)
      .then([](caf::ok_atom) {}, [](const caf::error&) {});
}

void arm_expiry(slice_pointer self) {
  const auto left = self->state.spec.expires - self->state.config.clock->now_epoch();
  // A renewal arms another timer; the stale one finds the slice unexpired.
  self->delayed_send(self, std::chrono::seconds(std::max<std::int64_t>(left, 0)), expire_atom_v);
}

void revoke_all_and_quit(slice_pointer self) {
  for (const auto& [node_id, sliver] : self->state.desired)
    revoke_on(self, node_id);
  self->state.desired.clear();
  self->quit();
}

caf::error check_names(const slice_spec& spec, const std::vector<sliver_spec>& slivers,
                       const std::string& name) {
  if (spec.name != name)
    return make_error(errc::invalid_argument,
                      "slice actor of " + name + " was given slice " + spec.name);
  for (const auto& sliver : slivers)
    if (sliver.name != name)
      return make_error(errc::invalid_argument,
                        "slice actor of " + name + " was given a sliver of " + sliver.name);
  return {};
}

slice_actor::behavior_type slice_behavior(slice_pointer self, slice_actor_config config,
                                          slice_spec spec, std::vector<sliver_spec> slivers) {
  auto& st = self->state;
  st.config = std::move(config);
  st.spec = std::move(spec);
  for (auto& sliver : slivers)
    st.desired[sliver.node_id] = std::move(sliver);
  arm_expiry(self);
  return {
      [self](caf::get_atom) { return self->state.spec; },
      [self](caf::put_atom, slice_spec& spec,
             std::vector<sliver_spec>& slivers) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        if (auto err = check_names(spec, slivers, st.spec.name))
          return err;
        std::map<std::int32_t, sliver_spec> next;
        for (auto& sliver : slivers)
          next[sliver.node_id] = std::move(sliver);
        for (const auto& [node_id, sliver] : st.desired)
          if (!next.contains(node_id))
            revoke_on(self, node_id);
        const bool renewed = spec.expires != st.spec.expires;
        st.spec = std::move(spec);
        st.desired = std::move(next);
        for (const auto& [node_id, sliver] : st.desired) {
          auto i = st.delivered.find(node_id);
          if (i == st.delivered.end() || i->second != sliver)
            push_sliver(self, sliver);
        }
        if (renewed)
          arm_expiry(self);
        return caf::ok_atom_v;
      },
      [self](caf::delete_atom) {
        revoke_all_and_quit(self);
        return caf::ok_atom_v;
      },
      [self](expire_atom) {
        if (self->state.config.clock->now_epoch() >= self->state.spec.expires)
          revoke_all_and_quit(self);
      },
  };
}

} // namespace

slice_actor spawn_slice_actor(caf::actor_system& sys, slice_actor_config config, slice_spec spec,
                              std::vector<sliver_spec> slivers) {
  return sys.spawn(slice_behavior, std::move(config), std::move(spec), std::move(slivers));
}

} // namespace pl::plc::push
