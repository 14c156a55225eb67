// Reconciliation: desired state + local records -> records + actions, with
// the rules of issue #6 point 3, checked one rule per case, then a
// randomised convergence check (prints random-seed=N; PL_SEED=N replays).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <random>

#include "drivers/mechanism_driver.hpp"
#include "node/reconciler.hpp"

using namespace pl;
using namespace pl::node;

namespace {

constexpr std::int32_t node = 7;
constexpr std::int64_t far = 2'000'000'000;

sliver_spec spec(const std::string& name, const std::string& inst = "plc-instantiated") {
  sliver_spec s;
  s.name = name;
  s.slice_id = static_cast<std::int32_t>(name.size());
  s.node_id = node;
  s.instantiation = inst;
  s.expires = far;
  s.resources = default_rspec();
  return s;
}

desired_state full(std::int64_t ts, std::vector<sliver_spec> xs) {
  desired_state d;
  d.source = origin::get_slivers;
  d.full = true;
  d.node_id = node;
  d.timestamp = ts;
  std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) { return a.name < b.name; });
  d.slivers = std::move(xs);
  return d;
}

desired_state partial(std::int64_t ts, std::vector<sliver_spec> xs, origin o = origin::push) {
  auto d = full(ts, std::move(xs));
  d.full = false;
  d.source = o;
  return d;
}

// Renders actions as "kind sliver" lines, the shape most checks compare.
std::vector<std::string> steps(const plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions)
    out.push_back(to_string(a.kind) + " " + a.sliver);
  return out;
}

using lines = std::vector<std::string>;

// Carries out every action successfully.
node_records done(plan p) {
  for (const auto& a : p.actions)
    record_done(p.records, a);
  return p.records;
}

const reconciler rec{node};

// Applies and completes a delivery; returns the records.
node_records settle(const desired_state& d, const node_records& r, std::int64_t now = 1000) {
  auto p = rec.apply(d, r, now);
  REQUIRE(p);
  return done(std::move(*p));
}

} // namespace

TEST_CASE("plc-instantiated and nm-controller slivers are created, configured and started") {
  auto p = rec.apply(full(100, {spec("pl_b", "nm-controller"), spec("pl_a")}), {}, 1000);
  REQUIRE(p);
  CHECK_FALSE(p->stale);
  REQUIRE(steps(*p) == lines{"create pl_a", "set_rspec pl_a", "start pl_a", "create pl_b",
                             "set_rspec pl_b", "start pl_b"});
  CHECK(p->actions[0].reason == "new plc-instantiated sliver");
  // The container's spec leaves the rspec out: set_rspec carries it.
  auto made = spec("pl_a");
  made.resources = {};
  CHECK(p->actions[0].spec == made);
  CHECK(p->actions[1].effective == default_rspec());
  CHECK(p->actions[2].reason == "first start");
  CHECK(p->actions[3].reason == "new nm-controller sliver");
  CHECK(p->records.min_timestamp == 100);
  REQUIRE(p->records.find("pl_a") != nullptr);
  CHECK(p->records.find("pl_a")->instantiated);
  // Nothing is marked done before the actions report back.
  CHECK(p->records.find("pl_a")->phase == sliver_phase::pending);

  auto r = done(*p);
  CHECK(r.find("pl_a")->phase == sliver_phase::running);
  CHECK(r.find("pl_a")->applied_rspec == default_rspec());
  // Converged: the same snapshot again, or a refresh, asks for nothing.
  CHECK(rec.refresh(r, 1000).actions.empty());
  auto again = rec.apply(full(100, {spec("pl_b", "nm-controller"), spec("pl_a")}), r, 1000);
  REQUIRE(again);
  CHECK(again->actions.empty());
  CHECK(again->records == r);
}

TEST_CASE("delegated slivers are only created through a ticket or Create") {
  auto r = settle(full(100, {spec("pl_d", "delegated"), spec("pl_n", "not-instantiated")}), {});
  REQUIRE(r.find("pl_d") != nullptr);
  CHECK_FALSE(r.find("pl_d")->instantiated);
  CHECK(r.find("pl_d")->phase == sliver_phase::pending);
  CHECK(r.find("pl_n")->phase == sliver_phase::pending);

  SECTION("a ticket older than the GetSlivers record still instantiates, spec unchanged") {
    auto t = spec("pl_d", "delegated");
    t.keys = {"from the ticket"};
    auto p = rec.apply(partial(90, {t}, origin::ticket), r, 1000);
    REQUIRE(p);
    CHECK_FALSE(p->stale);
    REQUIRE(steps(*p) == lines{"create pl_d", "set_rspec pl_d", "start pl_d"});
    CHECK(p->actions[0].reason == "delegated sliver instantiated by Ticket or Create");
    CHECK(p->records.find("pl_d")->spec.keys.empty());
    CHECK(p->records.find("pl_d")->timestamp == 100);
  }
  SECTION("a ticket older than the last full snapshot that no longer lists it is refused") {
    auto p = rec.apply(partial(90, {spec("pl_gone", "delegated")}, origin::ticket), r, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
    CHECK(p->records.find("pl_gone") == nullptr);
    CHECK(p->refusals ==
          std::vector<admission_refusal>{
              {"pl_gone", "ticket older than the last full snapshot, which no longer lists it"}});
  }
  SECTION("a newer ticket replaces the spec and instantiates") {
    auto t = spec("pl_d", "delegated");
    t.keys = {"from the ticket"};
    auto p = rec.apply(partial(150, {t}, origin::ticket), r, 1000);
    REQUIRE(p);
    CHECK(p->actions[0].spec.keys == std::vector<std::string>{"from the ticket"});
    CHECK(p->records.find("pl_d")->timestamp == 150);
    // The next GetSlivers (older than the ticket) keeps the ticket's spec, and
    // the record survives even if it was not listed.
    auto r2 = done(*p);
    auto q = rec.apply(full(140, {}), r2, 1000);
    REQUIRE(q);
    CHECK(q->actions.empty());
    CHECK(q->records.find("pl_d") != nullptr);
  }
  SECTION("Create (instantiated set by the node manager) creates; Destroy tears down") {
    r.find("pl_d")->instantiated = true;
    auto p = rec.refresh(r, 1000);
    REQUIRE(steps(p) == lines{"create pl_d", "set_rspec pl_d", "start pl_d"});
    auto r2 = done(p);
    r2.find("pl_d")->instantiated = false;
    auto q = rec.refresh(r2, 1000);
    REQUIRE(steps(q) == lines{"destroy pl_d"});
    CHECK(q.actions[0].reason == "destroyed through Destroy");
    auto r3 = done(q);
    // The record stays (PLC still lists the slice), nothing exists.
    REQUIRE(r3.find("pl_d") != nullptr);
    CHECK(r3.find("pl_d")->phase == sliver_phase::pending);
    CHECK(r3.find("pl_d")->applied_rspec == rspec{});
    CHECK(rec.refresh(r3, 1000).actions.empty());
  }
  SECTION("a push does not instantiate a delegated sliver") {
    auto p = rec.apply(partial(150, {spec("pl_d", "delegated")}), r, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
  }
}

TEST_CASE("a full snapshot drops unlisted older records; a partial one drops nothing") {
  auto r = settle(full(100, {spec("pl_a"), spec("pl_b"), spec("pl_d", "delegated")}), {});
  SECTION("full") {
    auto p = rec.apply(full(200, {spec("pl_b"), spec("pl_d", "delegated")}), r, 1000);
    REQUIRE(p);
    REQUIRE(steps(*p) == lines{"destroy pl_a"});
    CHECK(p->actions[0].reason == "not in PLC's full snapshot");
    // Gone for the local API at once, erased once destroyed.
    CHECK(p->records.find("pl_a") == nullptr);
    CHECK(p->records.slivers.count("pl_a") == 1);
    auto r2 = done(*p);
    CHECK(r2.slivers.count("pl_a") == 0);
    CHECK(r2.find("pl_d") != nullptr);
    CHECK(r2.min_timestamp == 200);
  }
  SECTION("an unlisted record that never existed is erased without an action") {
    auto p = rec.apply(full(200, {spec("pl_a"), spec("pl_b")}), r, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
    CHECK(p->records.slivers.count("pl_d") == 0);
  }
  SECTION("partial") {
    auto p = rec.apply(partial(200, {spec("pl_b")}), r, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
    CHECK(p->records.find("pl_a") != nullptr);
    CHECK(p->records.min_timestamp == 100);
  }
}

TEST_CASE("older deliveries never win") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  auto changed = spec("pl_a");
  changed.resources.values["cpu_share"] = 99;
  SECTION("a snapshot older than the last full one is ignored as a whole") {
    auto p = rec.apply(full(99, {changed, spec("pl_new")}), r, 1000);
    REQUIRE(p);
    CHECK(p->stale);
    CHECK(p->actions.empty());
    CHECK(p->records == r);
  }
  SECTION("a push older than the record leaves its spec") {
    auto r2 = settle(partial(150, {spec("pl_a")}), r);
    auto p = rec.apply(partial(120, {changed}), r2, 1000);
    REQUIRE(p);
    CHECK_FALSE(p->stale);
    CHECK(p->actions.empty());
    CHECK(p->records.find("pl_a")->spec.resources.value_of("cpu_share") == 32);
  }
  SECTION("a poll or a ticket with an equal timestamp does not replace either") {
    auto p = rec.apply(full(100, {changed}), r, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
    p = rec.apply(partial(100, {changed}, origin::ticket), r, 1000);
    REQUIRE(p);
    CHECK(p->records.find("pl_a")->spec.resources.value_of("cpu_share") == 32);
  }
  SECTION("a push with an equal timestamp is the later change (whole seconds) and does") {
    auto r2 = settle(partial(150, {spec("pl_a")}), r);
    auto p = rec.apply(partial(150, {changed}), r2, 1000);
    REQUIRE(p);
    REQUIRE(steps(*p) == lines{"set_rspec pl_a"});
    CHECK(p->records.find("pl_a")->spec.resources.value_of("cpu_share") == 99);
    // A poll built in that second before the change arrives after it: ignored.
    auto r3 = done(std::move(*p));
    p = rec.apply(full(150, {spec("pl_a")}), r3, 1000);
    REQUIRE(p);
    CHECK(p->actions.empty());
    CHECK(p->records.find("pl_a")->spec.resources.value_of("cpu_share") == 99);
  }
  SECTION("a newer one does") {
    auto p = rec.apply(partial(101, {changed}), r, 1000);
    REQUIRE(p);
    REQUIRE(steps(*p) == lines{"set_rspec pl_a"});
    CHECK(p->actions[0].effective.value_of("cpu_share") == 99);
    CHECK(p->actions[0].reason == "effective rspec changed");
  }
}

TEST_CASE("expired slivers are removed, and never created") {
  auto short_lived = spec("pl_a");
  short_lived.expires = 1500;
  auto r = settle(full(100, {short_lived, spec("pl_b")}), {}, 1000);
  CHECK(r.find("pl_a")->phase == sliver_phase::running);
  // Not yet: expires is the last second it lives.
  CHECK(rec.refresh(r, 1500).actions.empty());
  auto p = rec.refresh(r, 1501);
  REQUIRE(steps(p) == lines{"destroy pl_a"});
  CHECK(p.actions[0].reason == "expired");
  CHECK(done(p).slivers.count("pl_a") == 0);

  auto q = rec.apply(full(200, {short_lived, spec("pl_b")}), r, 2000);
  REQUIRE(q);
  REQUIRE(steps(*q) == lines{"destroy pl_a"});
  auto fresh = rec.apply(full(100, {short_lived}), {}, 2000);
  REQUIRE(fresh);
  CHECK(fresh->actions.empty());
  CHECK(fresh->records.slivers.empty());
}

TEST_CASE("enabled=0 suspends; enabled again starts") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  auto off = spec("pl_a");
  off.enabled = false;
  auto p = rec.apply(full(200, {off}), r, 1000);
  REQUIRE(p);
  REQUIRE(steps(*p) == lines{"suspend pl_a"});
  CHECK(p->actions[0].reason == "disabled (enabled=0)");
  auto r2 = done(*p);
  CHECK(r2.find("pl_a")->phase == sliver_phase::stopped);
  CHECK(rec.refresh(r2, 1000).actions.empty());
  auto q = rec.apply(full(300, {spec("pl_a")}), r2, 1000);
  REQUIRE(q);
  REQUIRE(steps(*q) == lines{"start pl_a"});
  // A new disabled sliver is created and given its resources, not started.
  auto n = rec.apply(full(100, {[] {
                            auto s = spec("pl_off");
                            s.enabled = false;
                            return s;
                          }()}),
                     {}, 1000);
  REQUIRE(n);
  REQUIRE(steps(*n) == lines{"create pl_off", "set_rspec pl_off"});
}

TEST_CASE("a changed initscript is installed and run on a running sliver") {
  auto s = spec("pl_a");
  s.initscript = "v1";
  auto r = settle(full(100, {s}), {});
  CHECK(r.find("pl_a")->initscript_ran == "v1");
  s.initscript = "v2";
  auto p = rec.apply(full(200, {s}), r, 1000);
  REQUIRE(p);
  REQUIRE(steps(*p) == lines{"configure pl_a", "run_initscript pl_a"});
  CHECK(p->actions[1].spec.initscript == "v2");
  auto r2 = done(*p);
  CHECK(r2.find("pl_a")->initscript_ran == "v2");
  CHECK(rec.refresh(r2, 1000).actions.empty());

  SECTION("on a stopped sliver it is installed and runs at the next start") {
    r2.find("pl_a")->held = true;
    auto r3 = done(rec.refresh(r2, 1000));
    s.initscript = "v3";
    auto q = rec.apply(full(300, {s}), r3, 1000);
    REQUIRE(q);
    REQUIRE(steps(*q) == lines{"configure pl_a"});
    auto r4 = done(*q);
    r4.find("pl_a")->held = false;
    auto st = rec.refresh(r4, 1000);
    REQUIRE(steps(st) == lines{"start pl_a"});
    CHECK(done(st).find("pl_a")->initscript_ran == "v3");
  }
  SECTION("an initscript removed runs nothing, and one restored runs again") {
    s.initscript.clear();
    auto q = rec.apply(full(300, {s}), r2, 1000);
    REQUIRE(q);
    REQUIRE(steps(*q) == lines{"configure pl_a"});
    auto r3 = done(*q);
    s.initscript = "v2";
    auto back = rec.apply(full(400, {s}), r3, 1000);
    REQUIRE(back);
    REQUIRE(steps(*back) == lines{"configure pl_a", "run_initscript pl_a"});
  }
}

TEST_CASE("keys, vref and attributes reconfigure the container; expiry and delegations do not") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  auto s = spec("pl_a");
  s.keys = {"ssh-rsa NEW"};
  auto p = rec.apply(full(200, {s}), r, 1000);
  REQUIRE(p);
  REQUIRE(steps(*p) == lines{"configure pl_a"});
  CHECK(p->actions[0].spec.keys == s.keys);
  s = spec("pl_a");
  s.expires = far + 100;
  s.delegations = {"pl_broker"};
  auto q = rec.apply(full(200, {s}), r, 1000);
  REQUIRE(q);
  CHECK(q->actions.empty());
  CHECK(q->records.find("pl_a")->spec.delegations == s.delegations);
}

TEST_CASE("administrator overrides win over PLC until reset") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  r.find("pl_a")->overrides = {{"cpu_share", 500}};
  auto p = rec.refresh(r, 1000);
  REQUIRE(steps(p) == lines{"set_rspec pl_a"});
  CHECK(p.actions[0].effective.value_of("cpu_share") == 500);
  auto r2 = done(p);
  // PLC changes the overridden value: recorded, but the override holds.
  auto s = spec("pl_a");
  s.resources.values["cpu_share"] = 64;
  auto q = rec.apply(full(200, {s}), r2, 1000);
  REQUIRE(q);
  CHECK(q->actions.empty());
  CHECK(q->records.find("pl_a")->spec.resources.value_of("cpu_share") == 64);
  // PLC changes another value: applied, the override still holds.
  s.resources.values["net_max_rate"] = 5000;
  auto q2 = rec.apply(full(300, {s}), done(*q), 1000);
  REQUIRE(q2);
  REQUIRE(steps(*q2) == lines{"set_rspec pl_a"});
  CHECK(q2->actions[0].effective.value_of("cpu_share") == 500);
  CHECK(q2->actions[0].effective.value_of("net_max_rate") == 5000);
  // Reset: PLC's value returns.
  auto r3 = done(*q2);
  r3.find("pl_a")->overrides.clear();
  auto back = rec.refresh(r3, 1000);
  REQUIRE(steps(back) == lines{"set_rspec pl_a"});
  CHECK(back.actions[0].effective.value_of("cpu_share") == 64);
  // Deliveries keep overrides (local state).
  CHECK(q->records.find("pl_a")->overrides.at("cpu_share") == 500);
}

TEST_CASE("a sliver stopped through Stop stays stopped until Start") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  r.find("pl_a")->held = true;
  auto p = rec.refresh(r, 1000);
  REQUIRE(steps(p) == lines{"stop pl_a"});
  CHECK(p.actions[0].reason == "stopped through Stop");
  auto r2 = done(p);
  auto s = spec("pl_a");
  s.resources.values["cpu_share"] = 40;
  auto q = rec.apply(full(200, {s}), r2, 1000);
  REQUIRE(q);
  REQUIRE(steps(*q) == lines{"set_rspec pl_a"});
  auto r3 = done(*q);
  CHECK(r3.find("pl_a")->held);
  r3.find("pl_a")->held = false;
  REQUIRE(steps(rec.refresh(r3, 1000)) == lines{"start pl_a"});
}

TEST_CASE("an instantiation turned to not-instantiated destroys the sliver") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  auto p = rec.apply(full(200, {spec("pl_a", "not-instantiated")}), r, 1000);
  REQUIRE(p);
  REQUIRE(steps(*p) == lines{"destroy pl_a"});
  CHECK(p->actions[0].reason == "not instantiated");
  auto r2 = done(*p);
  CHECK(r2.find("pl_a") != nullptr);
  CHECK_FALSE(r2.find("pl_a")->instantiated);
  // Back to delegated: stays down until a ticket or Create.
  auto q = rec.apply(full(300, {spec("pl_a", "delegated")}), r2, 1000);
  REQUIRE(q);
  CHECK(q->actions.empty());
  // plc-instantiated -> delegated keeps an existing sliver.
  auto r3 = settle(full(400, {spec("pl_a")}), done(*q));
  auto d = rec.apply(full(500, {spec("pl_a", "delegated")}), r3, 1000);
  REQUIRE(d);
  CHECK(d->actions.empty());
}

TEST_CASE("a state for another node is refused and changes nothing") {
  auto d = full(100, {spec("pl_a")});
  d.node_id = 8;
  auto p = rec.apply(d, {}, 1000);
  REQUIRE_FALSE(p);
  CHECK(drivers::describe(p.error()) ==
        "invalid_argument: desired state for node 8, this is node 7");
}

TEST_CASE("invalid slivers are reported and keep their records") {
  auto r = settle(full(100, {spec("pl_a"), spec("pl_b")}), {});
  auto d = full(200, {spec("pl_b")});
  d.invalid = {{"pl_a", "bad resource attribute: not_a_number: cpu_share=\"x\""}};
  auto p = rec.apply(d, r, 1000);
  REQUIRE(p);
  CHECK(p->actions.empty());
  CHECK(p->refusals == d.invalid);
  REQUIRE(p->records.find("pl_a") != nullptr);
  CHECK(p->records.find("pl_a")->timestamp == 100);
  CHECK(p->records.find("pl_a")->phase == sliver_phase::running);
}

TEST_CASE("failed steps are retried by the next reconciliation") {
  auto p = rec.apply(full(100, {spec("pl_a")}), {}, 1000);
  REQUIRE(p);
  auto r = p->records;
  record_failed(r, p->actions[0]);
  CHECK(r.find("pl_a")->phase == sliver_phase::failed);
  auto q = rec.refresh(r, 1000);
  REQUIRE(steps(q) == lines{"create pl_a", "set_rspec pl_a", "start pl_a"});
  CHECK(q.actions[0].reason == "retry after a failure");
  // A failed set_rspec stays undone and comes back.
  auto r2 = done(q);
  auto s = spec("pl_a");
  s.resources.values["cpu_share"] = 50;
  auto u = rec.apply(full(200, {s}), r2, 1000);
  REQUIRE(u);
  REQUIRE(steps(*u) == lines{"set_rspec pl_a"});
  record_failed(u->records, u->actions[0]);
  REQUIRE(steps(rec.refresh(u->records, 1000)) == lines{"set_rspec pl_a"});
  // A failed sliver PLC drops is destroyed (it may hold a half-made container).
  auto c = rec.apply(full(100, {spec("pl_f")}), {}, 1000);
  REQUIRE(c);
  auto f = c->records;
  record_failed(f, c->actions[0]);
  auto drop = rec.apply(full(200, {}), f, 1000);
  REQUIRE(drop);
  REQUIRE(steps(*drop) == lines{"destroy pl_f"});
  // A failed destroy keeps the removed record, so it is retried.
  auto again = rec.refresh(drop->records, 1000);
  REQUIRE(steps(again) == lines{"destroy pl_f"});
  CHECK(done(again).slivers.empty());
}

TEST_CASE("a revocation removes the sliver unless a newer delivery keeps it") {
  auto r = settle(full(100, {spec("pl_a"), spec("pl_b")}), {});
  CHECK_FALSE(revoke(r, "pl_a", 99));
  CHECK_FALSE(revoke(r, "pl_nope", 500));
  CHECK(r.find("pl_a") != nullptr);
  CHECK(revoke(r, "pl_a", 100));
  CHECK(r.find("pl_a") == nullptr);
  CHECK_FALSE(revoke(r, "pl_a", 100));
  auto p = rec.refresh(r, 1000);
  REQUIRE(steps(p) == lines{"destroy pl_a"});
  CHECK(p.actions[0].reason == "revoked");
}

TEST_CASE("a removed sliver PLC wants again comes back with fresh local state") {
  auto r = settle(full(100, {spec("pl_a")}), {});
  r.find("pl_a")->overrides = {{"cpu_share", 1}};
  r.find("pl_a")->held = true;
  r.find("pl_a")->loans = {{"pl_a", "pl_b", "cpu_share", 4}};
  r = done(rec.refresh(r, 1000));
  REQUIRE(revoke(r, "pl_a", 100));
  // The destroy failed (not recorded done); PLC lists the slice again.
  auto s = spec("pl_a");
  s.keys = {"k"};
  auto p = rec.apply(partial(300, {s}), r, 1000);
  REQUIRE(p);
  const auto* back = p->records.find("pl_a");
  REQUIRE(back != nullptr);
  CHECK(back->overrides.empty());
  CHECK(back->loans.empty());
  CHECK_FALSE(back->held);
  // The container still exists: reconfigured, resources back to PLC's, started.
  REQUIRE(steps(*p) == lines{"configure pl_a", "set_rspec pl_a", "start pl_a"});
}

TEST_CASE("actions come in a fixed order: destroys first, then by sliver name") {
  auto r = settle(full(100, {spec("pl_z"), spec("pl_m")}), {});
  auto s = spec("pl_m");
  s.keys = {"k"};
  s.resources.values["cpu_share"] = 2;
  auto p1 = rec.apply(full(200, {spec("pl_c"), s, spec("pl_a")}), r, 1000);
  auto p2 = rec.apply(full(200, {s, spec("pl_a"), spec("pl_c")}), r, 1000);
  REQUIRE(p1);
  REQUIRE(p2);
  REQUIRE(steps(*p1) == lines{"destroy pl_z", "create pl_a", "set_rspec pl_a", "start pl_a",
                              "create pl_c", "set_rspec pl_c", "start pl_c", "configure pl_m",
                              "set_rspec pl_m"});
  CHECK(p1->actions == p2->actions);
  CHECK(p1->records == p2->records);
}

namespace {

std::uint64_t test_seed() {
  if (const char* s = std::getenv("PL_SEED"))
    return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

} // namespace

TEST_CASE("any sequence of deliveries, local calls and failures converges") {
  auto seed = test_seed();
  std::cout << "random-seed=" << seed << "\n";
  std::mt19937_64 rng{seed};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> names{"pl_a", "pl_b", "pl_c", "pl_d", "pl_e"};
  const std::vector<std::string> insts{"plc-instantiated", "delegated", "nm-controller",
                                       "not-instantiated"};
  node_records r;
  std::int64_t ts = 100;
  std::int64_t now = 1000;
  for (int round = 0; round < 400; ++round) {
    ts += 1 + pick(3);
    now += pick(50);
    std::vector<sliver_spec> xs;
    for (const auto& n : names) {
      if (pick(4) == 0)
        continue;
      auto s = spec(n, insts[pick(4)]);
      s.enabled = pick(5) != 0;
      s.expires = now + pick(200) - 20;
      s.resources.values["cpu_share"] = 1 + pick(3);
      s.initscript = pick(3) == 0 ? "" : "v" + std::to_string(pick(2));
      s.keys = {"k" + std::to_string(pick(2))};
      xs.push_back(s);
    }
    auto kind = pick(4);
    auto d = kind == 0 ? full(ts, xs)
                       : partial(ts - pick(5), xs, kind == 1 ? origin::ticket : origin::push);
    auto p = rec.apply(d, r, now);
    REQUIRE(p);
    // Local calls between deliveries.
    if (auto* x = p->records.find(names[pick(5)])) {
      switch (pick(4)) {
      case 0:
        x->held = !x->held;
        break;
      case 1:
        x->instantiated = !x->instantiated;
        break;
      case 2:
        x->overrides["cpu_share"] = pick(3);
        break;
      default:
        x->overrides.clear();
      }
    }
    auto q = rec.refresh(p->records, now);
    // Some actions fail; the rest complete.
    for (const auto& a : q.actions) {
      if (pick(6) == 0)
        record_failed(q.records, a);
      else
        record_done(q.records, a);
    }
    r = q.records;
    // Invariants of the record set.
    for (const auto& [name, x] : r.slivers) {
      if (x.spec.instantiation == "plc-instantiated" || x.spec.instantiation == "nm-controller")
        CHECK((x.instantiated || x.removed()));
      if (x.removed())
        CHECK(x.phase != sliver_phase::pending);
    }
  }
  // With every step succeeding, two rounds reach a fixed point.
  auto last = done(rec.refresh(r, now));
  auto fixed = rec.refresh(last, now);
  CHECK(fixed.actions.empty());
  for (const auto& [name, x] : last.slivers) {
    CHECK_FALSE(x.removed());
    bool up = x.instantiated && x.spec.instantiation != "not-instantiated";
    if (!up)
      CHECK(x.phase == sliver_phase::pending);
    else if (x.spec.enabled && !x.held)
      CHECK(x.phase == sliver_phase::running);
    else
      CHECK(x.phase != sliver_phase::running);
  }
}
