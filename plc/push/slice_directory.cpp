#include "plc/push/slice_directory.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "plc/push/slice_actor.hpp"

namespace pl::plc::push {

namespace {

struct directory_state {
  directory_config config;
  std::map<std::int32_t, slice_actor> slices;
};

using directory_pointer = slice_directory_actor::stateful_pointer<directory_state>;

void refresh(directory_pointer self, std::int32_t slice_id, bool push) {
  auto& st = self->state;
  auto loaded = st.config.load(slice_id);
  auto i = st.slices.find(slice_id);
  if (!loaded) {
    if (i != st.slices.end()) {
      caf::anon_send(i->second, caf::delete_atom_v);
      st.slices.erase(i);
    }
    return;
  }
  if (i == st.slices.end()) {
    slice_actor_config cfg{st.config.registry, st.config.clock};
    auto actor = push ? spawn_slice_actor(self->system(), cfg, loaded->spec, {})
                      : spawn_slice_actor(self->system(), cfg, loaded->spec, loaded->slivers);
    self->monitor(actor); // it quits by itself when the slice expires
    self->link_to(actor); // and goes down with the directory
    i = st.slices.emplace(slice_id, actor).first;
    if (!push)
      return;
  }
  caf::anon_send(i->second, caf::put_atom_v, std::move(loaded->spec), std::move(loaded->slivers));
}

slice_directory_actor::behavior_type directory_behavior(directory_pointer self,
                                                        directory_config config) {
  self->state.config = std::move(config);
  self->set_down_handler([self](const caf::down_msg& down) {
    std::erase_if(self->state.slices,
                  [&](const auto& entry) { return entry.second.address() == down.source; });
  });
  for (auto slice_id : self->state.config.live_slices())
    refresh(self, slice_id, false);
  return {
      [self](caf::put_atom, std::int32_t slice_id) { refresh(self, slice_id, true); },
      [self](caf::reset_atom) {
        auto& st = self->state;
        auto live = st.config.live_slices();
        std::set<std::int32_t> keep(live.begin(), live.end());
        for (auto i = st.slices.begin(); i != st.slices.end();) {
          if (keep.contains(i->first)) {
            ++i;
          } else {
            caf::anon_send(i->second, caf::delete_atom_v);
            i = st.slices.erase(i);
          }
        }
        for (auto slice_id : live)
          refresh(self, slice_id, true);
      },
      [self](caf::get_atom, std::int32_t slice_id) -> caf::result<slice_spec> {
        auto i = self->state.slices.find(slice_id);
        if (i == self->state.slices.end())
          return make_error(errc::unknown_slice, "no live slice " + std::to_string(slice_id));
        return self->delegate(i->second, caf::get_atom_v);
      },
  };
}

} // namespace

slice_directory_actor spawn_slice_directory(caf::actor_system& sys, directory_config config,
                                            bool detached) {
  if (!config.load || !config.live_slices || config.clock == nullptr)
    throw std::invalid_argument("spawn_slice_directory: load, live_slices and clock are required");
  if (detached)
    return sys.spawn<caf::detached>(directory_behavior, std::move(config));
  return sys.spawn(directory_behavior, std::move(config));
}

} // namespace pl::plc::push
