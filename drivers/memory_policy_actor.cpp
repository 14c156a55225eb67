#include "drivers/memory_policy_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "drivers/linux/memory_policy.hpp"

namespace pl::drivers {

namespace {

memory_policy_actor::behavior_type
memory_policy_behavior(memory_policy_actor::stateful_pointer<memory_policy_state> self,
                       memory_policy_step step, caf::timespan interval,
                       memory_policy_events events) {
  self->state.step = std::move(step);
  self->state.interval = interval;
  self->state.events = std::move(events);
  self->delayed_send(self, interval, caf::tick_atom_v);
  return {
      [self](caf::tick_atom) {
        auto& st = self->state;
        ++st.runs;
        auto result = st.step();
        if (!result) {
          if (st.events.failure)
            st.events.failure(result.error());
        } else if (*result && st.events.victim) {
          st.events.victim(**result);
        }
        self->delayed_send(self, st.interval, caf::tick_atom_v);
      },
  };
}

} // namespace

memory_policy_actor spawn_memory_policy(caf::actor_system& sys, memory_policy_step step,
                                        caf::timespan interval, memory_policy_events events) {
  return sys.spawn(memory_policy_behavior, std::move(step), interval, std::move(events));
}

memory_policy_actor spawn_memory_policy(caf::actor_system& sys,
                                        std::shared_ptr<linux_cg::memory_policy> policy,
                                        caf::timespan interval, memory_policy_events events) {
  return spawn_memory_policy(
      sys, [policy] { return policy->check(); }, interval, std::move(events));
}

} // namespace pl::drivers
