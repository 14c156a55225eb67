#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/clock.hpp"

namespace pl {

/// Reads the time of a CAF actor clock, so plain logic sees the same time as
/// the actors' timers (`delayed_send`, request timeouts).
///
/// This is how virtual time reaches code that takes a `pl::clock`: under
/// `scheduler.policy` "testing", `sys.clock()` is the test coordinator's
/// `caf::detail::test_actor_clock`, whose time moves only with
/// `sched.advance_time(d)` (or `trigger_timeouts()` jumping to the next
/// timer); this adapter then moves by exactly the same amount. Under the real
/// scheduler the actor clock is `steady_clock`, so this is wall time anchored
/// at `epoch` that never jumps backwards.
///
/// The adapter reads `source` on every call: it must not outlive the actor
/// system (or test coordinator) that owns it.
class caf_clock final : public clock {
public:
  /// Maps the actor clock's current time to `epoch`.
  caf_clock(const caf::actor_clock& source, time_point epoch);

  time_point now() const override;

private:
  const caf::actor_clock* source_;
  std::chrono::steady_clock::time_point origin_;
  time_point epoch_;
};

} // namespace pl
