#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

namespace pl::drivers {

namespace linux_cg {
class memory_policy;
} // namespace linux_cg

/// Runs a memory policy once and returns the victim it killed, if any
/// (`linux_cg::memory_policy::check`, or the sim model's fair victim).
using memory_policy_step = std::function<caf::expected<std::optional<std::string>>()>;

/// Tells the owner what a run did; both optional.
struct memory_policy_events {
  std::function<void(const std::string& victim)> victim;
  std::function<void(const caf::error&)> failure;
};

/// The fair-victim timer: a `tick` to itself every `interval` on the actor
/// clock (so the test coordinator's virtual time drives it), one policy run
/// per tick. A failed run is reported and the timer goes on.
using memory_policy_actor = caf::typed_actor<caf::reacts_to<caf::tick_atom>>;

/// State of the memory policy actor.
struct memory_policy_state {
  static inline const char* name = "memory_policy";
  memory_policy_step step;
  caf::timespan interval{};
  memory_policy_events events;
  /// Runs so far.
  std::uint64_t runs = 0;
};

/// Spawns the timer over `step`; the first run is one `interval` after spawn.
memory_policy_actor spawn_memory_policy(caf::actor_system& sys, memory_policy_step step,
                                        caf::timespan interval, memory_policy_events events = {});

/// Spawns the timer over the linux fair-victim policy.
memory_policy_actor spawn_memory_policy(caf::actor_system& sys,
                                        std::shared_ptr<linux_cg::memory_policy> policy,
                                        caf::timespan interval, memory_policy_events events = {});

} // namespace pl::drivers
