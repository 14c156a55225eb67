// pl::clock in real and virtual time: the manual clock, and the CAF adapter
// that moves with the test coordinator's virtual clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/caf_clock.hpp"
#include "actors/clock.hpp"
#include "actors/runtime_config.hpp"

using namespace std::chrono_literals;

namespace {

pl::clock::time_point epoch_seconds(std::int64_t s) {
  return pl::clock::time_point{std::chrono::seconds{s}};
}

} // namespace

TEST_CASE("manual_clock moves only when told to", "[clock]") {
  pl::manual_clock clk{epoch_seconds(1'190'000'000)};
  CHECK(clk.now_epoch() == 1'190'000'000);
  CHECK(clk.now_epoch() == 1'190'000'000);
  clk.advance(90s);
  CHECK(clk.now_epoch() == 1'190'000'090);
  clk.advance(500ms);
  CHECK(clk.now() == epoch_seconds(1'190'000'090) + 500ms);
  CHECK(clk.now_epoch() == 1'190'000'090); // whole seconds, truncated
  clk.set(epoch_seconds(42));
  CHECK(clk.now_epoch() == 42);
  CHECK(pl::manual_clock{}.now_epoch() == 1'000'000'000);
}

TEST_CASE("system_clock_source reads the real clock", "[clock]") {
  pl::system_clock_source clk;
  auto before = std::chrono::system_clock::now();
  auto t = clk.now();
  auto after = std::chrono::system_clock::now();
  CHECK(before <= t);
  CHECK(t <= after);
}

TEST_CASE("caf_clock follows the test coordinator's virtual time", "[clock]") {
  caf::actor_system_config cfg;
  pl::configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  const auto epoch = epoch_seconds(1'190'000'000);
  pl::caf_clock clk{sys.clock(), epoch};
  CHECK(clk.now() == epoch);
  sched.advance_time(5s);
  CHECK(clk.now() == epoch + 5s);

  // A timer and the logic it triggers see the same virtual time.
  std::optional<std::int64_t> fired_at;
  auto timer = sys.spawn([&](caf::event_based_actor* self) {
    self->delayed_send(self, 30s, caf::tick_atom_v);
    return caf::behavior{[&, self](caf::tick_atom) {
      fired_at = clk.now_epoch();
      self->quit();
    }};
  });
  sched.run();
  CHECK_FALSE(fired_at.has_value());
  sched.advance_time(29s);
  sched.run();
  CHECK_FALSE(fired_at.has_value());
  sched.advance_time(1s);
  sched.run();
  REQUIRE(fired_at.has_value());
  CHECK(*fired_at == 1'190'000'000 + 5 + 30);
}

TEST_CASE("caf_clock on the real scheduler never runs backwards", "[clock]") {
  caf::actor_system_config cfg;
  pl::configure_runtime(cfg, {.max_threads = 1});
  caf::actor_system sys{cfg};
  const auto epoch = epoch_seconds(1'190'000'000);
  pl::caf_clock clk{sys.clock(), epoch};
  auto a = clk.now();
  auto b = clk.now();
  CHECK(epoch <= a);
  CHECK(a <= b);
  CHECK(b - epoch < 60s);
}
