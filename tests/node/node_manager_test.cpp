// The node manager actor on CAF's deterministic test coordinator with the sim
// driver backend: deliveries (push, poll, ticket, local API) become slivers
// with the right driver settings; admission refusals leave nothing behind;
// push and pull converge; PLC unreachable keeps the slivers; a restart from
// the persisted records adopts them instead of recreating them; the push
// link proves the node key before anything reaches the node.
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include <unistd.h>

#include "actors/caf_clock.hpp"
#include "actors/errors.hpp"
#include "actors/push_proof.hpp"
#include "actors/runtime_config.hpp"
#include "drivers/backend.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/allocation_policy.hpp"
#include "node/node_manager.hpp"
#include "node/record_store.hpp"
#include "node/wiring.hpp"
#include "tests/node/coordinator_node.hpp"

using namespace std::chrono_literals;
using namespace pl;
using namespace pl::node;

namespace {

constexpr std::int64_t epoch = 1'700'000'000;
constexpr std::int32_t node_id = 7;
const std::string node_key = "secret-node-key";

/// Counts container creations, so a restart can be seen not to recreate.
class counting_containers : public drivers::container_backend {
public:
  explicit counting_containers(std::shared_ptr<drivers::container_backend> inner)
      : inner_(std::move(inner)) {}
  caf::error create(const sliver_spec& spec) override {
    ++creates;
    return inner_->create(spec);
  }
  caf::error start(const std::string& name) override { return inner_->start(name); }
  caf::error stop(const std::string& name) override { return inner_->stop(name); }
  caf::error destroy(const std::string& name) override { return inner_->destroy(name); }
  std::vector<std::string> containers() const override { return inner_->containers(); }
  bool running(const std::string& name) const override { return inner_->running(name); }
  int creates = 0;

private:
  std::shared_ptr<drivers::container_backend> inner_;
};

/// A fake PLC push gateway: hands out challenges, checks hellos with the
/// node key and remembers the node manager that proved it.
struct gateway_log {
  std::string key;
  std::map<std::string, bool> nonces;
  std::optional<node_manager_actor> node;
  int hellos_refused = 0;
};

struct gateway_state {
  std::shared_ptr<gateway_log> log;
};

push_gateway_actor::behavior_type
fake_gateway(push_gateway_actor::stateful_pointer<gateway_state> self,
             std::shared_ptr<gateway_log> log) {
  self->state.log = std::move(log);
  return {
      [self](challenge_atom, std::int32_t) {
        auto n = random_nonce();
        self->state.log->nonces[n] = true;
        return n;
      },
      [self](hello_atom, const node_hello& h) -> caf::result<caf::ok_atom> {
        auto& st = *self->state.log;
        if (!st.nonces.erase(h.nonce) || !push_proof_matches(st.key, h)) {
          ++st.hellos_refused;
          return make_error(errc::permission_denied, "bad proof");
        }
        st.node = caf::actor_cast<node_manager_actor>(self->current_sender());
        return caf::ok_atom_v;
      },
      [](status_atom, const node_status&) { return caf::ok_atom_v; },
  };
}

/// What a fake PLC answers to GetSlivers.
struct fake_plc {
  std::optional<desired_state> state;
  int calls = 0;
  bool down = false;

  fetch_fn fetch() {
    return [this]() -> caf::expected<desired_state> {
      ++calls;
      if (down || !state)
        return make_error(errc::not_connected, "PLC unreachable: connection refused");
      return *state;
    };
  }
};

const test::deliveries make{node_id, epoch, /*with_keys=*/true};

desired_state as_get_slivers(const sliver_snapshot& s) {
  auto d = from_snapshot(s);
  REQUIRE(d);
  d->source = origin::get_slivers;
  d->full = true;
  return *d;
}

/// One node on the test coordinator whose container creations are counted
/// and whose GetSlivers comes from a fake PLC.
struct world : test::coordinator_node {
  std::shared_ptr<counting_containers> containers;
  fake_plc plc;

  world()
      : coordinator_node(node_id, epoch, [](drivers::backend& b) {
        b.containers = std::make_shared<counting_containers>(b.containers);
      }) {
    containers = std::static_pointer_cast<counting_containers>(backend.containers);
  }

  node_manager_config config() {
    auto c = coordinator_node::config();
    c.node_key = node_key;
    return c;
  }

  // The fake PLC goes before the base stops the node manager that polls it.
  ~world() { stop(); }

  using coordinator_node::start;
  void start() { start(config()); }

  std::map<std::string, sliver_phase> phases() {
    std::map<std::string, sliver_phase> out;
    for (const auto& s : status().slivers)
      out[s.name] = s.phase;
    return out;
  }

  /// Everything the drivers enforce, per sliver and mechanism.
  std::map<std::string, std::map<std::string, std::int64_t>> settings() {
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    for (const auto& [m, d] : backend.drivers)
      for (const auto& s : d->slivers())
        if (auto a = d->read(s))
          for (const auto& [k, v] : a->values)
            out[s][to_string(m) + "." + k] = v;
    return out;
  }
};

} // namespace

TEST_CASE("cpu weights: every reservation holds under full contention") {
  auto w = cpu_weights({{"a", {32, 0}}, {"b", {32, 50}}, {"c", {32, 0}}, {"d", {10, 20}}});
  std::int64_t total = 0;
  for (const auto& [n, x] : w)
    total += x;
  CHECK(w["a"] == 32);
  CHECK(w["c"] == 32);
  CHECK(w["b"] * 100 >= 50 * total);
  CHECK(w["d"] * 100 >= 20 * total);
  // A sliver whose share already gives it its percentage keeps its share.
  auto big = cpu_weights({{"a", {32, 0}}, {"b", {1000, 10}}});
  CHECK(big["b"] == 1000);
  // No reservation: shares pass through.
  CHECK(cpu_weights({{"a", {64, 0}}, {"b", {32, 0}}}) ==
        std::map<std::string, std::int64_t>{{"a", 64}, {"b", 32}});
  // Seeded random sets: the guarantee holds and unreserved shares stay.
  auto seed = static_cast<unsigned>(std::getenv("PL_SEED") ? std::atoi(std::getenv("PL_SEED"))
                                                           : Catch::rngSeed());
  INFO("random-seed=" << seed);
  std::mt19937 rng{seed};
  for (int round = 0; round < 200; ++round) {
    std::map<std::string, cpu_input> in;
    int left = 80;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      int pct = (rng() % 2 && left > 0) ? 1 + static_cast<int>(rng() % left) : 0;
      left -= pct;
      in["s" + std::to_string(i)] = {static_cast<std::int64_t>(rng() % 200), pct};
    }
    auto out = cpu_weights(in);
    std::int64_t sum = 0;
    for (const auto& [name, x] : out)
      sum += x;
    for (const auto& [name, x] : in) {
      if (x.pct > 0)
        CHECK(out[name] * 100 >= x.pct * sum);
      else
        CHECK(out[name] == x.share);
    }
  }
}

TEST_CASE("allocation policy: pending is exactly what a full recompute says is not in force") {
  // Random puts, removals and applied allocations on a few slivers; after each step pending()
  // must name exactly the slivers whose allocation (own values; cpu: cpu_weights over all)
  // differs from the one in force, with those values.
  auto seed = static_cast<unsigned>(std::getenv("PL_SEED") ? std::atoi(std::getenv("PL_SEED"))
                                                           : Catch::rngSeed());
  INFO("random-seed=" << seed);
  std::mt19937 rng{seed};
  for (auto m : {mechanism::cpu, mechanism::memory, mechanism::net}) {
    allocation_policy policy{m};
    std::map<std::string, rspec> rspecs;
    std::map<std::string, allocation> in_force;
    for (int step = 0; step < 1500; ++step) {
      auto name = "s" + std::to_string(rng() % 6);
      switch (rng() % 5) {
      case 0:
      case 1: {
        auto rs = default_rspec();
        rs.values["cpu_share"] = static_cast<std::int64_t>(rng() % 4);
        rs.values["cpu_pct"] = rng() % 3 == 0 ? static_cast<std::int64_t>(rng() % 60) : 0;
        rs.values["mem_limit"] = 1000 + static_cast<std::int64_t>(rng() % 3);
        rs.values["net_max_rate"] = 100 + static_cast<std::int64_t>(rng() % 3);
        policy.put(name, rs);
        rspecs[name] = rs;
        break;
      }
      case 2:
        policy.remove(name);
        rspecs.erase(name);
        in_force.erase(name);
        break;
      default: {
        auto due = policy.pending();
        if (!due.empty()) {
          auto a = due[rng() % due.size()];
          policy.applied(a);
          in_force[a.sliver] = a;
        }
      }
      }
      std::map<std::string, cpu_input> cpu;
      for (const auto& [n, rs] : rspecs)
        cpu[n] = {rs.value_of("cpu_share"), rs.value_of("cpu_pct")};
      auto weights = cpu_weights(cpu);
      std::map<std::string, allocation> expected;
      for (const auto& [n, rs] : rspecs) {
        allocation a;
        a.sliver = n;
        a.enforced_by = m;
        for (const auto& row : resource_table())
          if (row.enforced_by == m)
            a.values[std::string{row.name}] = rs.value_of(row.name);
        if (m == mechanism::cpu)
          a.values["cpu_share"] = weights.at(n);
        auto f = in_force.find(n);
        if (f == in_force.end() || f->second != a)
          expected.emplace(n, a);
      }
      std::map<std::string, allocation> got;
      for (const auto& a : policy.pending())
        got.emplace(a.sliver, a);
      INFO("mechanism " << static_cast<int>(m) << ", step " << step);
      REQUIRE(got == expected);
    }
  }
}

TEST_CASE("record store: round trip, missing file, damaged file refused") {
  test::scratch dir;
  record_store store{dir.dir / "sub" / "records"};
  auto none = store.load();
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  node_records r;
  r.min_timestamp = 123;
  auto& rec = r.slivers["pl_a"];
  rec.spec = make.sliver("pl_a", {{"cpu_share", 64}});
  rec.timestamp = 120;
  rec.instantiated = true;
  rec.held = true;
  rec.loans = {{"pl_a", "pl_b", "cpu_share", 8}};
  rec.overrides = {{"mem_limit", 1000}};
  rec.phase = sliver_phase::running;
  rec.applied_spec = rec.spec;
  rec.applied_rspec = rec.spec.resources;
  rec.initscript_ran = "echo hi";
  REQUIRE_FALSE(store.save(r));
  auto back = store.load();
  REQUIRE(back);
  REQUIRE(back->has_value());
  CHECK(**back == r);
  // A damaged file is an error, never an empty node.
  {
    std::ofstream out(store.file(), std::ios::binary | std::ios::trunc);
    out << "plnm-records 1\n\x01\x02";
  }
  CHECK_FALSE(store.load());
  {
    std::ofstream out(store.file(), std::ios::binary | std::ios::trunc);
    out << "something else";
  }
  auto bad = store.load();
  REQUIRE_FALSE(bad);
  CHECK(drivers::describe(bad.error()).find("not a node manager record file") != std::string::npos);
}

TEST_CASE("a snapshot becomes running slivers with the right driver settings") {
  world w;
  w.start();
  auto s = make.snapshot(
      {make.sliver("pl_a", {{"cpu_share", 64}, {"mem_limit", 50000}, {"tasks_max", 100}}),
       make.sliver("pl_b", {{"cpu_pct", 50}, {"net_max_rate", 2000}})},
      epoch);
  REQUIRE(w.push(s));
  auto p = w.phases();
  CHECK(p == std::map<std::string, sliver_phase>{{"pl_a", sliver_phase::running},
                                                 {"pl_b", sliver_phase::running}});
  CHECK(w.backend.containers->running("pl_a"));
  CHECK(w.backend.containers->running("pl_b"));
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_share") == 64);
  CHECK(w.knob(mechanism::memory, "pl_a", "mem_limit") == 50000);
  CHECK(w.knob(mechanism::tasks, "pl_a", "tasks_max") == 100);
  CHECK(w.knob(mechanism::net, "pl_b", "net_max_rate") == 2000);
  CHECK(w.knob(mechanism::memory, "pl_b", "mem_limit") == 32768); // the table default
  // cpu_pct 50 is a guarantee: pl_b's weight is at least half of all.
  auto wb = *w.knob(mechanism::cpu, "pl_b", "cpu_share");
  CHECK(wb * 100 >= 50 * (wb + 64));
  CHECK(w.knob(mechanism::cpu, "pl_b", "cpu_pct") == 50);
  // The controllers report what they applied.
  auto st = w.status();
  CHECK(st.node_id == node_id);
  CHECK(st.refusals.empty());
  CHECK(st.counters["pushes"] == 1);
  CHECK(st.counters.count("actions_failed") == 0);
  // The spec is there for the local API.
  auto spec = w.call<sliver_spec>(*w.nm, caf::get_atom_v, std::string{"pl_a"});
  REQUIRE(spec);
  CHECK(spec->keys == std::vector<std::string>{"ssh-rsa AAAA pl_a"});
  // A later full snapshot without pl_b destroys it and frees its settings.
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_share", 64}})}, epoch + 10)));
  CHECK(w.phases() == std::map<std::string, sliver_phase>{{"pl_a", sliver_phase::running}});
  CHECK_FALSE(w.backend.containers->running("pl_b"));
  CHECK_FALSE(w.knob(mechanism::cpu, "pl_b", "cpu_share"));
  // A changed share reaches the driver.
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_share", 96}})}, epoch + 20, false)));
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_share") == 96);
}

TEST_CASE("an admission refusal leaves nothing half-applied and shows in node_status") {
  world w;
  w.start();
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_pct", 50}})}, epoch, false)));
  auto before = w.settings();
  auto creates = w.containers->creates;
  // 50 + 40 > 80 (the default reservable fraction): pl_b is refused as a
  // whole; pl_c in the same delivery is admitted.
  REQUIRE(w.push(make.snapshot(
      {make.sliver("pl_b", {{"cpu_pct", 40}, {"cpu_share", 90}}), make.sliver("pl_c")}, epoch + 1,
      false)));
  auto st = w.status();
  REQUIRE(st.refusals.size() == 1);
  CHECK(st.refusals[0].slice == "pl_b");
  CHECK(st.refusals[0].reason.find("cpu_pct") != std::string::npos);
  CHECK(w.phases().count("pl_b") == 0);
  CHECK_FALSE(w.backend.containers->running("pl_b"));
  for (auto m : {mechanism::cpu, mechanism::memory, mechanism::tasks, mechanism::disk_io,
                 mechanism::disk_space, mechanism::net})
    CHECK_FALSE(w.backend.find(m)->read("pl_b"));
  CHECK(w.containers->creates == creates + 1); // pl_c only
  auto after = w.settings();
  after.erase("pl_c");
  CHECK(after == before);
  // Raising an admitted sliver beyond capacity keeps its old rspec.
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_pct", 90}})}, epoch + 2, false)));
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_pct") == 50);
  auto rs = w.call<rspec>(*w.nm, rspec_atom_v, std::string{"root"}, std::string{"pl_a"});
  REQUIRE(rs);
  CHECK(rs->value_of("cpu_pct") == 50);
  // Once pl_a shrinks, pl_b fits and its refusal goes away.
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_pct", 20}}),
                                make.sliver("pl_b", {{"cpu_pct", 40}, {"cpu_share", 90}}),
                                make.sliver("pl_c")},
                               epoch + 3)));
  CHECK(w.status().refusals.empty());
  CHECK(w.phases()["pl_b"] == sliver_phase::running);
}

TEST_CASE("push and pull converge to the same state") {
  auto s = make.snapshot({make.sliver("pl_a", {{"cpu_share", 48}, {"cpu_pct", 10}}),
                          make.sliver("pl_b", {{"disk_max", 100000}, {"io_weight", 300}}),
                          make.sliver("pl_deleg", {}, "delegated")},
                         epoch);
  world pushed;
  pushed.start();
  // PLC pushes one slice at a time (partial snapshots).
  for (const auto& x : s.slivers)
    REQUIRE(pushed.push(make.snapshot({x}, epoch, false)));
  world pulled;
  pulled.plc.state = as_get_slivers(s);
  pulled.start([&] {
    auto c = pulled.config();
    c.poll.fetch = pulled.plc.fetch();
    return c;
  }());
  CHECK(pulled.plc.calls == 1);
  CHECK(pulled.status().counters["polls"] == 1);
  CHECK(pushed.phases() == pulled.phases());
  CHECK(pushed.settings() == pulled.settings());
  // Delegated: known, but created only after Ticket or Create.
  CHECK(pushed.phases()["pl_deleg"] == sliver_phase::pending);
  CHECK_FALSE(pushed.backend.containers->running("pl_deleg"));
  // The delegated sliver is listed (GetSlivers lists it everywhere) and
  // Create instantiates it on both.
  for (auto* w : {&pushed, &pulled})
    REQUIRE(
        w->call<caf::ok_atom>(*w->nm, create_atom_v, std::string{"root"}, std::string{"pl_deleg"}));
  CHECK(pushed.phases()["pl_deleg"] == sliver_phase::running);
  CHECK(pushed.settings() == pulled.settings());
  CHECK(pushed.phases() == pulled.phases());
}

TEST_CASE("PLC unreachable: slivers stay, polls back off, then resync") {
  world w;
  auto s = make.snapshot({make.sliver("pl_a", {{"cpu_share", 40}}), make.sliver("pl_b")}, epoch);
  w.plc.state = as_get_slivers(s);
  auto c = w.config();
  c.poll.fetch = w.plc.fetch();
  c.poll.backoff_min = 30s;
  c.poll.backoff_max = 120s;
  w.start(c);
  REQUIRE(w.plc.calls == 1);
  auto running = w.phases();
  REQUIRE(running.size() == 2);
  auto settings = w.settings();
  w.plc.down = true;
  w.sched->advance_time(600s);
  w.sched->run();
  CHECK(w.plc.calls == 2);
  CHECK(w.phases() == running);
  CHECK(w.settings() == settings);
  // Backoff: 30 s, then 60 s.
  w.sched->advance_time(29s);
  w.sched->run();
  CHECK(w.plc.calls == 2);
  w.sched->advance_time(1s);
  w.sched->run();
  CHECK(w.plc.calls == 3);
  w.sched->advance_time(59s);
  w.sched->run();
  CHECK(w.plc.calls == 3);
  w.sched->advance_time(1s);
  w.sched->run();
  CHECK(w.plc.calls == 4);
  auto st = w.status();
  CHECK(st.counters["poll_failures"] == 3);
  CHECK(w.phases() == running);
  // PLC back with a change: the next poll applies it.
  w.plc.down = false;
  w.plc.state =
      as_get_slivers(make.snapshot({make.sliver("pl_a", {{"cpu_share", 80}})}, epoch + 500));
  w.sched->advance_time(120s);
  w.sched->run();
  CHECK(w.plc.calls == 5);
  CHECK(w.phases() == std::map<std::string, sliver_phase>{{"pl_a", sliver_phase::running}});
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_share") == 80);
}

TEST_CASE("a restart resumes from the persisted records without recreating") {
  world w;
  w.start();
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", {{"cpu_pct", 30}}),
                                make.sliver("pl_b", {{"cpu_share", 64}}),
                                make.sliver("pl_d", {}, "delegated")},
                               epoch)));
  REQUIRE(w.call<caf::ok_atom>(*w.nm, create_atom_v, std::string{"root"}, std::string{"pl_d"}));
  REQUIRE(w.call<caf::ok_atom>(*w.nm, stop_atom_v, std::string{"root"}, std::string{"pl_b"}));
  REQUIRE(w.call<caf::ok_atom>(*w.nm, loans_atom_v, std::string{"root"}, std::string{"pl_b"},
                               std::vector<loan>{{"", "pl_d", "cpu_share", 16}}));
  auto phases = w.phases();
  CHECK(phases["pl_b"] == sliver_phase::stopped);
  auto settings = w.settings();
  CHECK(settings["pl_d"]["cpu.cpu_share"] == 32 + 16);
  CHECK(settings["pl_b"]["cpu.cpu_share"] == 64 - 16);
  auto creates = w.containers->creates;
  // kill: nothing is flushed on the way out.
  w.stop();
  w.start();
  CHECK(w.phases() == phases);
  CHECK(w.settings() == settings);
  CHECK(w.containers->creates == creates);
  CHECK(w.backend.containers->running("pl_a"));
  CHECK_FALSE(w.backend.containers->running("pl_b")); // the Stop hold survives
  auto loans =
      w.call<std::vector<loan>>(*w.nm, loans_atom_v, std::string{"root"}, std::string{"pl_b"});
  REQUIRE(loans);
  CHECK(loans->size() == 1);
  // The restored min timestamp still refuses an older snapshot.
  REQUIRE(w.push(make.snapshot({}, epoch - 1)));
  CHECK(w.phases() == phases);
  // A damaged record file stops the node manager from starting.
  w.stop();
  {
    std::ofstream out(w.dir.dir / "nm" / "records", std::ios::trunc);
    out << "garbage";
  }
  CHECK_FALSE(spawn_node_manager(*w.sys, w.config()));
}

TEST_CASE("local API: permissions, Stop holds until Start, loans move shares") {
  world w;
  w.start();
  auto a = make.sliver("pl_a", {{"cpu_share", 64}});
  a.delegations = {"pl_broker"};
  REQUIRE(w.push(make.snapshot({a, make.sliver("pl_b"), make.sliver("pl_broker")}, epoch)));
  auto denied = w.call<caf::ok_atom>(*w.nm, stop_atom_v, std::string{"pl_b"}, std::string{"pl_a"});
  REQUIRE_FALSE(denied);
  CHECK(static_cast<errc>(denied.error().code()) == errc::permission_denied);
  auto unknown =
      w.call<caf::ok_atom>(*w.nm, stop_atom_v, std::string{"root"}, std::string{"pl_zz"});
  REQUIRE_FALSE(unknown);
  CHECK(static_cast<errc>(unknown.error().code()) == errc::unknown_sliver);
  REQUIRE(w.call<caf::ok_atom>(*w.nm, stop_atom_v, std::string{"pl_broker"}, std::string{"pl_a"}));
  CHECK(w.phases()["pl_a"] == sliver_phase::stopped);
  // A new delivery does not restart a held sliver.
  a.resources.values["cpu_share"] = 70;
  REQUIRE(w.push(make.snapshot({a}, epoch + 1, false)));
  CHECK(w.phases()["pl_a"] == sliver_phase::stopped);
  REQUIRE(w.call<caf::ok_atom>(*w.nm, start_atom_v, std::string{"pl_a"}, std::string{"pl_a"}));
  CHECK(w.phases()["pl_a"] == sliver_phase::running);
  // SetLoans: pl_a lends 20 shares to pl_b; an overdraw is refused and
  // changes nothing.
  REQUIRE(w.call<caf::ok_atom>(*w.nm, loans_atom_v, std::string{"pl_a"}, std::string{"pl_a"},
                               std::vector<loan>{{"", "pl_b", "cpu_share", 20}}));
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_share") == 50);
  CHECK(w.knob(mechanism::cpu, "pl_b", "cpu_share") == 52);
  auto eff = w.call<rspec>(*w.nm, effective_atom_v, std::string{"root"}, std::string{"pl_b"});
  REQUIRE(eff);
  CHECK(eff->value_of("cpu_share") == 52);
  auto over = w.call<caf::ok_atom>(*w.nm, loans_atom_v, std::string{"pl_a"}, std::string{"pl_a"},
                                   std::vector<loan>{{"", "pl_b", "cpu_share", 69}});
  REQUIRE_FALSE(over);
  CHECK(static_cast<errc>(over.error().code()) == errc::insufficient_allocation);
  CHECK(w.knob(mechanism::cpu, "pl_b", "cpu_share") == 52);
  // Destroy is for delegated slivers only.
  auto d = w.call<caf::ok_atom>(*w.nm, destroy_atom_v, std::string{"root"}, std::string{"pl_b"});
  REQUIRE_FALSE(d);
  CHECK(w.phases()["pl_b"] == sliver_phase::running);
}

TEST_CASE("tickets and revocations go through the same reconciliation") {
  world w;
  w.start();
  ticket t;
  t.slice_name = "pl_t";
  t.sliver = make.sliver("pl_t", {{"cpu_share", 40}}, "delegated");
  t.issued = epoch;
  t.expires = epoch + 3600;
  REQUIRE(w.call<caf::ok_atom>(*w.nm, redeem_atom_v, t));
  CHECK(w.phases()["pl_t"] == sliver_phase::running);
  CHECK(w.knob(mechanism::cpu, "pl_t", "cpu_share") == 40);
  // A ticket asking more than the node can promise is refused with the reason.
  ticket big = t;
  big.slice_name = big.sliver.name = "pl_big";
  big.sliver.resources.values = {{"cpu_pct", 95}};
  auto r = w.call<caf::ok_atom>(*w.nm, redeem_atom_v, big);
  REQUIRE_FALSE(r);
  CHECK(static_cast<errc>(r.error().code()) == errc::admission_refused);
  CHECK(w.phases().count("pl_big") == 0);
  // Revoked: destroyed.
  REQUIRE(w.call<caf::ok_atom>(*w.nm, revoke_atom_v, std::string{"pl_t"}, epoch + 5));
  CHECK(w.phases().count("pl_t") == 0);
  CHECK_FALSE(w.backend.containers->running("pl_t"));
  // Expiry: a sliver past its expiry goes at the next maintenance round.
  auto e = make.sliver("pl_e");
  e.expires = epoch + 100;
  REQUIRE(w.push(make.snapshot({e}, epoch + 6, false)));
  CHECK(w.phases()["pl_e"] == sliver_phase::running);
  w.sched->advance_time(120s);
  w.sched->run();
  CHECK(w.phases().count("pl_e") == 0);
}

TEST_CASE("push link: the node proves its key, then PLC's pushes apply at once") {
  world w;
  auto good_log = std::make_shared<gateway_log>();
  good_log->key = node_key;
  auto wrong_log = std::make_shared<gateway_log>();
  wrong_log->key = "another key";
  auto gw = w.sys->spawn(fake_gateway, good_log);
  auto wrong = w.sys->spawn(fake_gateway, wrong_log);
  w.sched->run();
  SECTION("the right key") {
    auto c = w.config();
    c.push.enabled = true;
    c.push.gateway = gw;
    w.start(c);
    auto* gs = good_log.get();
    REQUIRE(gs->node.has_value());
    CHECK(w.status().counters["push_connected"] == 1);
    // PLC pushes through the handle it got with the hello.
    auto ok = w.call<caf::ok_atom>(
        *gs->node, snapshot_atom_v,
        make.snapshot({make.sliver("pl_p", {{"cpu_share", 77}})}, epoch, false));
    REQUIRE(ok);
    CHECK(w.knob(mechanism::cpu, "pl_p", "cpu_share") == 77);
    REQUIRE(w.call<caf::ok_atom>(*gs->node, revoke_atom_v, std::string{"pl_p"}, epoch + 1));
    CHECK(w.phases().count("pl_p") == 0);
    // The gateway goes away: the node reconnects with backoff to a new one
    // only through its configured gateway (here the same actor is gone).
    caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
    w.sched->run();
    CHECK(w.status().counters["push_connected"] == 0);
    CHECK(w.status().counters["push_disconnects"] == 1);
  }
  SECTION("a wrong key is refused and retried with backoff") {
    auto c = w.config();
    c.push.enabled = true;
    c.push.gateway = wrong;
    c.push.backoff_min = 5s;
    w.start(c);
    auto* gs = wrong_log.get();
    CHECK(gs->hellos_refused == 1);
    CHECK_FALSE(gs->node.has_value());
    w.sched->advance_time(5s);
    w.sched->run();
    CHECK(gs->hellos_refused == 2);
    CHECK(w.status().counters["push_connected"] == 0);
    caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(wrong, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
  w.sched->run();
}
