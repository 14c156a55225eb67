// configure_runtime, the type-ID block and the typed interfaces, driven by the
// deterministic test coordinator (no threads, no sleeps, virtual time).
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/settings.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/driver_actor.hpp"
#include "actors/errors.hpp"
#include "actors/runtime_config.hpp"
#include "actors/ticket_actor.hpp"
#include "tests/coordinator_request.hpp"

using namespace std::chrono_literals;

namespace {

// An actor system on the test coordinator. Actors spawned through it are
// stopped when it goes out of scope, also after a failed REQUIRE, so a failure
// never leaves the system waiting for them.
struct virtual_system {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<caf::actor> spawned;

  virtual_system() {
    pl::configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~virtual_system() {
    for (auto& x : spawned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched->run();
  }

  template <class F, class... Ts>
  auto spawn(F fun, Ts&&... xs) {
    auto hdl = sys->spawn(fun, std::forward<Ts>(xs)...);
    spawned.push_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  // Sends a request from a short-lived event-based actor and runs the
  // coordinator until idle; the reply (or error) must have arrived by then.
  template <class Reply, class Handle, class... Ts>
  caf::expected<Reply> call(const Handle& hdl, Ts... xs) {
    return pl::testing::request_and_run<Reply>(*sys, *sched, hdl, xs...);
  }
};

// A minimal in-memory driver, enough to exercise driver_actor's messages.
struct toy_driver_state {
  static inline const char* name = "toy_driver";
  std::map<std::string, pl::allocation> applied;
};

pl::driver_actor::behavior_type
toy_driver(pl::driver_actor::stateful_pointer<toy_driver_state> self, pl::mechanism mech) {
  return {
      [=](pl::apply_atom, pl::allocation& x) -> caf::result<caf::ok_atom> {
        if (x.enforced_by != mech)
          return pl::make_error(pl::errc::invalid_argument, "wrong mechanism");
        self->state.applied[x.sliver] = std::move(x);
        return caf::ok_atom_v;
      },
      [=](caf::delete_atom, const std::string& sliver) -> caf::result<caf::ok_atom> {
        self->state.applied.erase(sliver);
        return caf::ok_atom_v;
      },
      [=](caf::get_atom, const std::string& sliver) -> caf::result<pl::allocation> {
        auto i = self->state.applied.find(sliver);
        if (i == self->state.applied.end())
          return pl::make_error(pl::errc::unknown_sliver, sliver);
        return i->second;
      },
  };
}

// A minimal ticket holder whose expiry is an actor-clock timer.
struct toy_ticket_state {
  static inline const char* name = "toy_ticket";
  pl::ticket issued;
  bool revoked = false;
  bool expired = false;
};

pl::ticket_actor::behavior_type
toy_ticket(pl::ticket_actor::stateful_pointer<toy_ticket_state> self, pl::ticket issued,
           std::chrono::seconds lifetime) {
  self->state.issued = std::move(issued);
  self->delayed_send(self, lifetime, pl::expire_atom_v);
  return {
      [=](caf::get_atom) { return self->state.issued; },
      [=](pl::valid_atom) { return !self->state.revoked && !self->state.expired; },
      [=](pl::revoke_atom) {
        self->state.revoked = true;
        return caf::ok_atom_v;
      },
      [=](pl::expire_atom) { self->state.expired = true; },
  };
}

} // namespace

TEST_CASE("configure_runtime sets max-threads explicitly", "[runtime]") {
  caf::actor_system_config a;
  pl::configure_runtime(a, {.max_threads = 3});
  CHECK(caf::get_or(a, "scheduler.max-threads", std::size_t{0}) == 3);
  caf::actor_system_config b;
  pl::configure_runtime(b);
  CHECK(caf::get_or(b, "scheduler.max-threads", std::size_t{0}) == pl::default_max_threads());
  CHECK(pl::default_max_threads() >= 1);
  CHECK(caf::get_or(b, "scheduler.policy", caf::atom("")) != caf::atom("testing"));
  caf::actor_system_config c;
  pl::configure_runtime(c, {.virtual_time = true});
  CHECK(caf::get_or(c, "scheduler.policy", caf::atom("")) == caf::atom("testing"));
}

TEST_CASE("the system knows every type of the block by name", "[runtime]") {
  virtual_system vs;
  CHECK_FALSE(vs.sys->has_middleman());
  for (const char* name :
       {"pl::rspec", "pl::slice_spec", "pl::sliver_spec", "pl::sliver_snapshot", "pl::ticket",
        "pl::loan", "std::vector<pl::loan>", "pl::sliver_status", "pl::admission_refusal",
        "pl::node_status", "pl::node_hello", "pl::node_contact", "std::vector<pl::node_contact>",
        "pl::allocation", "pl::proper_request", "pl::proper_reply",
        "std::vector<pl::sliver_spec>"}) {
    INFO(name);
    CHECK(vs.sys->types().make_value(name) != nullptr);
  }
  CHECK(vs.sys->types().make_value("pl::no_such_record") == nullptr);
  CHECK(caf::id_block::planetlab::begin == caf::first_custom_type_id);
  // 16 shared records + 11 vnet records (actors/vnet_records.hpp) + the push
  // link's slice list.
  CHECK(caf::id_block::planetlab::end - caf::id_block::planetlab::begin == 28);
}

TEST_CASE("pl errors render readably", "[runtime]") {
  virtual_system vs;
  CHECK(vs.sys->render(pl::make_error(pl::errc::unknown_resource, "cpu_sharez")) ==
        "pl: unknown_resource (cpu_sharez)");
  CHECK(vs.sys->render(caf::error{pl::errc::expired}) == "pl: expired");
}

TEST_CASE("driver_actor messages under the test coordinator", "[runtime]") {
  virtual_system vs;
  auto drv = vs.spawn(toy_driver, pl::mechanism::cpu);
  const std::string name = "princeton_codeen";
  pl::allocation cpu{name, pl::mechanism::cpu, {{"cpu_share", 64}}};

  auto applied = vs.call<caf::ok_atom>(drv, pl::apply_atom_v, cpu);
  CHECK(applied);
  auto readback = vs.call<pl::allocation>(drv, caf::get_atom_v, name);
  REQUIRE(readback);
  CHECK(*readback == cpu);

  auto net = cpu;
  net.enforced_by = pl::mechanism::net;
  auto refused = vs.call<caf::ok_atom>(drv, pl::apply_atom_v, net);
  REQUIRE_FALSE(refused);
  CHECK(vs.sys->render(refused.error()) == "pl: invalid_argument (wrong mechanism)");

  CHECK(vs.call<caf::ok_atom>(drv, caf::delete_atom_v, name));
  auto gone = vs.call<pl::allocation>(drv, caf::get_atom_v, name);
  REQUIRE_FALSE(gone);
  CHECK(gone.error() == caf::error{pl::errc::unknown_sliver});
}

TEST_CASE("ticket_actor expiry runs in virtual time", "[runtime]") {
  virtual_system vs;
  pl::ticket t;
  t.slice_name = "princeton_codeen";
  t.expires = 3600;
  auto tkt = vs.spawn(toy_ticket, t, std::chrono::seconds{3600});
  auto valid = [&] {
    auto x = vs.call<bool>(tkt, pl::valid_atom_v);
    REQUIRE(x);
    return *x;
  };
  CHECK(valid());
  vs.sched->advance_time(3599s);
  CHECK(valid());
  vs.sched->advance_time(1s);
  CHECK_FALSE(valid());
  auto issued = vs.call<pl::ticket>(tkt, caf::get_atom_v);
  REQUIRE(issued);
  CHECK(*issued == t);
  CHECK(vs.call<caf::ok_atom>(tkt, pl::revoke_atom_v));
}
