#pragma once

// Request-response on CAF's deterministic test coordinator, for the suites
// that drive actors without a scheduler of their own.

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <optional>
#include <utility>

namespace pl::testing {

/// Sends `xs...` to `hdl` from a short-lived event-based actor and runs the
/// coordinator until idle: the reply (or the error) must have arrived by then,
/// else the test fails, since on the coordinator nothing else can deliver it.
template <class Reply, class Handle, class... Ts>
caf::expected<Reply> request_and_run(caf::actor_system& sys,
                                     caf::scheduler::test_coordinator& sched, const Handle& hdl,
                                     Ts... xs) {
  std::optional<caf::expected<Reply>> result;
  sys.spawn([&result, hdl, xs...](caf::event_based_actor* self) {
    self->request(hdl, caf::infinite, xs...)
        .then([&result](Reply& x) { result.emplace(std::move(x)); },
              [&result](caf::error& err) { result.emplace(std::move(err)); });
  });
  sched.run();
  REQUIRE(result.has_value());
  return std::move(*result);
}

} // namespace pl::testing
