// The sim backend: the model's behaviour (limits enforced like the kernel
// would) and the driver actors on CAF's deterministic test coordinator.
#include <catch2/catch.hpp>

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/runtime_config.hpp"
#include "drivers/backend.hpp"
#include "drivers/driver_actors.hpp"
#include "drivers/memory_policy_actor.hpp"
#include "drivers/sim/containers.hpp"
#include "drivers/sim/model.hpp"
#include "tests/coordinator_request.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;

TEST_CASE("sim: a fork loop stops at the task limit") {
  sim::model m;
  REQUIRE_FALSE(m.apply({"s", mechanism::tasks, {{"tasks_max", 16}}}));
  int n = 0;
  while (m.fork("s") && n < 1000)
    ++n;
  CHECK(n == 16);
  CHECK(*m.usage("s", "tasks_max") == 16);
}

TEST_CASE("sim: memory past the limit OOM-kills only that sliver") {
  sim::model m;
  REQUIRE_FALSE(m.apply({"a", mechanism::memory, {{"mem_limit", 1000}}}));
  REQUIRE_FALSE(m.apply({"b", mechanism::memory, {{"mem_limit", 1000}}}));
  REQUIRE(m.allocate("b", 500));
  REQUIRE(m.allocate("a", 900));
  CHECK_FALSE(m.allocate("a", 200));
  CHECK(m.oom_kills("a") == 1);
  CHECK(m.oom_kills("b") == 0);
  CHECK(*m.usage("b", "mem_limit") == 500);
}

TEST_CASE("sim: the fair victim is the sliver furthest over its share") {
  sim::model m;
  m.parent_memory_limit(1000);
  for (auto s : {"a", "b"})
    REQUIRE_FALSE(m.apply({s, mechanism::memory, {{"mem_limit", 2000}, {"mem_share", 32}}}));
  REQUIRE(m.allocate("a", 650));
  REQUIRE(m.allocate("b", 300));
  CHECK(m.enforce_fair_victim(95) == std::optional<std::string>{"a"});
  CHECK(m.oom_kills("b") == 0);
  CHECK_FALSE(m.enforce_fair_victim(95).has_value());
}

TEST_CASE("sim: writes past the disk limit fail; shrinking below use is refused") {
  sim::model m;
  REQUIRE_FALSE(m.apply({"s", mechanism::disk_space, {{"disk_max", 1000}}}));
  CHECK(m.write("s", 900));
  CHECK_FALSE(m.write("s", 200));
  CHECK(m.apply({"s", mechanism::disk_space, {{"disk_max", 800}}}));
  CHECK(value_or_default(*m.read("s", mechanism::disk_space), "disk_max") == 1000);
  CHECK_FALSE(m.apply({"s", mechanism::disk_space, {{"disk_max", 2000}}}));
  CHECK(m.write("s", 200));
}

TEST_CASE("sim: remove takes a mechanism away, the sliver goes with the last one; time is "
          "charged") {
  sim::model m;
  REQUIRE_FALSE(m.apply({"s", mechanism::cpu, {{"cpu_share", 64}}}));
  REQUIRE_FALSE(m.apply({"s", mechanism::tasks, {}}));
  auto t = m.elapsed();
  CHECK(t > 0);
  CHECK(m.slivers(mechanism::cpu) == std::vector<std::string>{"s"});
  REQUIRE_FALSE(m.remove("s", mechanism::cpu));
  CHECK(m.slivers(mechanism::cpu).empty());
  CHECK(m.size() == 1);
  CHECK_FALSE(m.read("s", mechanism::cpu));
  REQUIRE_FALSE(m.remove("s", mechanism::tasks));
  CHECK(m.size() == 0);
  CHECK(m.elapsed() > t);
}

namespace {

struct virtual_system {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<caf::actor> spawned;

  virtual_system() {
    configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~virtual_system() {
    for (auto& x : spawned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched->run();
  }

  template <class Reply, class Handle, class... Ts>
  caf::expected<Reply> call(const Handle& hdl, Ts... xs) {
    return pl::testing::request_and_run<Reply>(*sys, *sched, hdl, xs...);
  }
};

} // namespace

TEST_CASE("driver actors translate apply/get/delete and container messages") {
  test::temp_dir tmp;
  backend_options o;
  o.kind = "sim";
  o.state_dir = tmp.path;
  auto b = make_backend(o);
  REQUIRE(b);
  virtual_system vs;
  std::map<mechanism, driver_actor> hdl;
  for (auto& [m, d] : b->drivers) {
    hdl[m] = spawn_driver(*vs.sys, d);
    vs.spawned.push_back(caf::actor_cast<caf::actor>(hdl[m]));
  }
  auto ctr = spawn_container_driver(*vs.sys, b->containers);
  vs.spawned.push_back(caf::actor_cast<caf::actor>(ctr));

  allocation cpu{"s1", mechanism::cpu, {{"cpu_share", 96}, {"cpu_pct", 10}}};
  CHECK(vs.call<caf::ok_atom>(hdl[mechanism::cpu], apply_atom_v, cpu));
  auto got = vs.call<allocation>(hdl[mechanism::cpu], caf::get_atom_v, std::string{"s1"});
  REQUIRE(got);
  CHECK(got->values.at("cpu_share") == 96);
  CHECK(got->values.at("cpu_pct") == 10);
  // A wrong mechanism is refused with invalid_argument and changes nothing.
  auto bad = vs.call<caf::ok_atom>(hdl[mechanism::cpu], apply_atom_v,
                                   allocation{"s1", mechanism::memory, {{"mem_limit", 1}}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == static_cast<std::uint8_t>(errc::invalid_argument));
  CHECK(vs.call<caf::ok_atom>(hdl[mechanism::cpu], caf::delete_atom_v, std::string{"s1"}));
  auto gone = vs.call<allocation>(hdl[mechanism::cpu], caf::get_atom_v, std::string{"s1"});
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == static_cast<std::uint8_t>(errc::unknown_sliver));

  sliver_spec spec;
  spec.name = "s1";
  CHECK(vs.call<caf::ok_atom>(ctr, create_atom_v, spec));
  CHECK(vs.call<caf::ok_atom>(ctr, start_atom_v, std::string{"s1"}));
  CHECK(b->containers->running("s1"));
  CHECK(vs.call<caf::ok_atom>(ctr, stop_atom_v, std::string{"s1"}));
  CHECK_FALSE(b->containers->running("s1"));
  CHECK(vs.call<caf::ok_atom>(ctr, destroy_atom_v, std::string{"s1"}));
  CHECK_FALSE(vs.call<caf::ok_atom>(ctr, start_atom_v, std::string{"s1"}));
}

TEST_CASE("the memory policy actor runs the fair victim on the actor clock") {
  using namespace std::chrono_literals;
  virtual_system vs;
  sim::model m;
  m.parent_memory_limit(1000);
  for (auto s : {"a", "b"})
    REQUIRE_FALSE(m.apply({s, mechanism::memory, {{"mem_limit", 2000}, {"mem_share", 32}}}));
  REQUIRE(m.allocate("a", 300));
  REQUIRE(m.allocate("b", 200));
  int runs = 0;
  bool fail_next = false;
  std::vector<std::string> victims;
  std::vector<std::string> failures;
  auto policy = spawn_memory_policy(
      *vs.sys,
      [&]() -> caf::expected<std::optional<std::string>> {
        ++runs;
        if (fail_next) {
          fail_next = false;
          return make_error(errc::mechanism_failure, "memory.usage_in_bytes unreadable");
        }
        return m.enforce_fair_victim(90);
      },
      10s,
      {.victim = [&](const std::string& v) { victims.push_back(v); },
       .failure = [&](const caf::error& e) { failures.push_back(describe(e)); }});
  vs.spawned.push_back(caf::actor_cast<caf::actor>(policy));
  vs.sched->run();
  CHECK(runs == 0); // the first run is one interval after spawn
  vs.sched->advance_time(9s);
  vs.sched->run();
  CHECK(runs == 0);
  vs.sched->advance_time(1s);
  vs.sched->run();
  CHECK(runs == 1);
  CHECK(victims.empty()); // 500 of 1000 pages: no pressure
  // Pressure: "a" is furthest over its half of the parent.
  REQUIRE(m.allocate("a", 450));
  vs.sched->advance_time(10s);
  vs.sched->run();
  CHECK(runs == 2);
  CHECK(victims == std::vector<std::string>{"a"});
  CHECK(m.oom_kills("a") == 1);
  CHECK(m.oom_kills("b") == 0);
  // A failed run is reported; the timer goes on.
  fail_next = true;
  vs.sched->advance_time(10s);
  vs.sched->run();
  CHECK(runs == 3);
  CHECK(failures ==
        std::vector<std::string>{"mechanism_failure: memory.usage_in_bytes unreadable"});
  for (int i = 0; i < 3; ++i) {
    vs.sched->advance_time(10s);
    vs.sched->run();
  }
  CHECK(runs == 6);
  // A long jump of the clock gives one run, not a burst of missed ones.
  vs.sched->advance_time(60s);
  vs.sched->run();
  CHECK(runs == 7);
  CHECK(victims.size() == 1);
}
