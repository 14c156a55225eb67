// Admission: guarantees and disk quotas must fit the node; a sliver that
// would overcommit it is refused as a whole, alone and through the
// reconciler.
#include <catch2/catch.hpp>

#include "drivers/mechanism_driver.hpp"
#include "node/admission.hpp"
#include "node/reconciler.hpp"

using namespace pl;
using namespace pl::node;

namespace {

rspec with(std::map<std::string, std::int64_t> values) {
  auto x = default_rspec();
  for (const auto& [k, v] : values)
    x.values[k] = v;
  return x;
}

sliver_spec spec(const std::string& name, std::map<std::string, std::int64_t> values,
                 const std::string& inst = "plc-instantiated") {
  sliver_spec s;
  s.name = name;
  s.node_id = 7;
  s.instantiation = inst;
  s.expires = 2'000'000'000;
  s.resources = with(std::move(values));
  return s;
}

desired_state snapshot(std::int64_t ts, std::vector<sliver_spec> xs, bool full = true,
                       origin o = origin::get_slivers) {
  desired_state d;
  d.node_id = 7;
  d.timestamp = ts;
  d.full = full;
  d.source = o;
  std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) { return a.name < b.name; });
  d.slivers = std::move(xs);
  return d;
}

// Designated initializers would leave fields out (-Wmissing-field-initializers).
node_capacity cpu(double fraction) {
  node_capacity c;
  c.cpu_reservable = fraction;
  return c;
}

node_capacity net(std::int64_t cap, std::int64_t i2_cap) {
  node_capacity c;
  c.net_cap_kbps = cap;
  c.net_i2_cap_kbps = i2_cap;
  return c;
}

node_capacity disk(double fraction, std::int64_t pool) {
  node_capacity c;
  c.cpu_reservable = fraction;
  c.disk_pool_kb = pool;
  return c;
}

node_records done(plan p) {
  for (const auto& a : p.actions)
    record_done(p.records, a);
  return p.records;
}

std::vector<std::string> names(const plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions)
    out.push_back(to_string(a.kind) + " " + a.sliver);
  return out;
}

} // namespace

TEST_CASE("promises are the guarantees and disk quotas, summed") {
  std::map<std::string, rspec> xs{{"a", with({{"cpu_pct", 10}, {"net_min_rate", 100}})},
                                  {"b", with({{"cpu_pct", 5}, {"disk_max", 7}})}};
  auto t = total(xs);
  CHECK(t.cpu_pct == 15);
  CHECK(t.net_min_rate == 101); // b keeps the default of 1 kbps
  CHECK(t.net_i2_min_rate == 2);
  CHECK(t.disk_max == 5'000'000 + 7);
  CHECK(total({}) == promises{});
  CHECK(promises_more(with({}), with({{"cpu_pct", 1}})));
  CHECK(promises_more(with({}), with({{"disk_max", 5'000'001}})));
  CHECK_FALSE(promises_more(with({{"cpu_pct", 9}}), with({{"cpu_pct", 3}})));
  // Shares and limits are not promises.
  CHECK_FALSE(promises_more(with({}), with({{"cpu_share", 1000}, {"net_max_rate", 5}})));
}

TEST_CASE("cpu_pct reservations fit within the reservable fraction") {
  admission adm{cpu(0.8)};
  std::map<std::string, rspec> held{{"a", with({{"cpu_pct", 50}})}};
  CHECK_FALSE(adm.check("b", with({{"cpu_pct", 30}}), held)); // exactly 80
  auto why = adm.check("b", with({{"cpu_pct", 31}}), held);
  REQUIRE(why);
  CHECK(*why ==
        "cpu_pct=31 does not fit: other slivers hold 50 percent of the 80 percent of CPU the "
        "node may reserve");
  // The sliver's own current reservation is replaced, not added.
  held["b"] = with({{"cpu_pct", 20}});
  CHECK_FALSE(adm.check("b", with({{"cpu_pct", 30}}), held));
  CHECK(adm.check("b", with({{"cpu_pct", 31}}), held));
  // A zero reservation never needs room.
  admission none{cpu(0.0)};
  CHECK_FALSE(none.check("c", with({}), held));
  CHECK(none.check("c", with({{"cpu_pct", 1}}), {}));
}

TEST_CASE("network guarantees fit the node cap and the exempt cap") {
  admission adm{net(10'000, 20'000)};
  std::map<std::string, rspec> held{{"a", with({{"net_min_rate", 6'000}})}};
  CHECK_FALSE(adm.check("b", with({{"net_min_rate", 4'000}}), held));
  auto why = adm.check("b", with({{"net_min_rate", 4'001}}), held);
  REQUIRE(why);
  CHECK(*why == "net_min_rate=4001 does not fit: other slivers hold 6000 kbps of the 10000 kbps "
                "node cap");
  why = adm.check("b", with({{"net_i2_min_rate", 20'000}}), held);
  REQUIRE(why);
  CHECK(*why == "net_i2_min_rate=20000 does not fit: other slivers hold 1 kbps of the 20000 kbps "
                "exempt cap");
}

TEST_CASE("disk quotas fit the sliver disk pool when it is known") {
  std::map<std::string, rspec> held{{"a", with({{"disk_max", 600}})}};
  CHECK_FALSE(admission{}.check("b", with({{"disk_max", 1'000'000'000}}), held));
  admission adm{disk(0.8, 1000)};
  CHECK_FALSE(adm.check("b", with({{"disk_max", 400}}), held));
  auto why = adm.check("b", with({{"disk_max", 401}}), held);
  REQUIRE(why);
  CHECK(*why ==
        "disk_max=401 does not fit: other slivers hold 600 blocks of the 1000 blocks sliver disk "
        "pool");
}

TEST_CASE("only raised resources are checked, so a shrunken node keeps its slivers") {
  admission adm{disk(0.1, 100)};
  std::map<std::string, rspec> held{{"a", with({{"cpu_pct", 60}, {"disk_max", 50}})},
                                    {"b", with({{"cpu_pct", 60}, {"disk_max", 50}})}};
  // b keeps 60% though only 10% is reservable now; lowering disk is fine.
  CHECK_FALSE(adm.check("b", with({{"cpu_pct", 60}, {"disk_max", 10}}), held));
  // Raising cpu is not.
  CHECK(adm.check("b", with({{"cpu_pct", 61}, {"disk_max", 10}}), held));
}

TEST_CASE("the reconciler refuses an overcommitting sliver as a whole") {
  reconciler rec{7, cpu(0.8)};
  auto p =
      rec.apply(snapshot(100, {spec("pl_a", {{"cpu_pct", 30}}), spec("pl_b", {{"cpu_pct", 30}}),
                               spec("pl_c", {{"cpu_pct", 30}})}),
                {}, 1000);
  REQUIRE(p);
  // In name order: a and b fit, c does not; c gets no record and no action.
  REQUIRE(p->refusals.size() == 1);
  CHECK(p->refusals[0].slice == "pl_c");
  CHECK(p->refusals[0].reason == "admission refused: cpu_pct=30 does not fit: other slivers hold "
                                 "60 percent of the 80 percent of CPU the node may reserve");
  CHECK(p->records.slivers.count("pl_c") == 0);
  CHECK(names(*p) == std::vector<std::string>{"create pl_a", "set_rspec pl_a", "start pl_a",
                                              "create pl_b", "set_rspec pl_b", "start pl_b"});
  auto r = done(*p);

  SECTION("a refused change leaves the whole record as it was, keys included") {
    auto b = spec("pl_b", {{"cpu_pct", 51}});
    b.keys = {"ssh-rsa NEW"};
    auto q = rec.apply(snapshot(200, {spec("pl_a", {{"cpu_pct", 30}}), b}), r, 1000);
    REQUIRE(q);
    REQUIRE(q->refusals.size() == 1);
    CHECK(q->refusals[0].slice == "pl_b");
    CHECK(q->actions.empty());
    CHECK(q->records.find("pl_b")->spec.keys.empty());
    CHECK(q->records.find("pl_b")->spec.resources.value_of("cpu_pct") == 30);
    CHECK(q->records.find("pl_b")->timestamp == 100);
    // Listed, so not dropped by the full snapshot.
    CHECK(q->records.find("pl_b") != nullptr);
  }
  SECTION("a removal in the same snapshot frees its share first") {
    auto q = rec.apply(
        snapshot(200, {spec("pl_b", {{"cpu_pct", 30}}), spec("pl_c", {{"cpu_pct", 50}})}), r, 1000);
    REQUIRE(q);
    CHECK(q->refusals.empty());
    CHECK(names(*q) ==
          std::vector<std::string>{"destroy pl_a", "create pl_c", "set_rspec pl_c", "start pl_c"});
  }
  SECTION("a partial delivery is checked too, and a lowered one always passes") {
    auto q =
        rec.apply(snapshot(200, {spec("pl_d", {{"cpu_pct", 21}})}, false, origin::push), r, 1000);
    REQUIRE(q);
    CHECK(q->refusals.size() == 1);
    auto low = rec.apply(snapshot(200, {spec("pl_a", {{"cpu_pct", 10}})}, false), r, 1000);
    REQUIRE(low);
    CHECK(low->refusals.empty());
    CHECK(names(*low) == std::vector<std::string>{"set_rspec pl_a"});
  }
  SECTION("delegated slivers promise nothing until instantiated") {
    auto q =
        rec.apply(snapshot(200, {spec("pl_a", {{"cpu_pct", 30}}), spec("pl_b", {{"cpu_pct", 30}}),
                                 spec("pl_d", {{"cpu_pct", 40}}, "delegated")}),
                  r, 1000);
    REQUIRE(q);
    CHECK(q->refusals.empty());
    REQUIRE(q->records.find("pl_d") != nullptr);
    // Create is refused with the reason and changes nothing.
    auto c = rec.instantiate(q->records, "pl_d", 1000);
    REQUIRE_FALSE(c);
    CHECK(drivers::describe(c.error()) ==
          "admission_refused: pl_d: cpu_pct=40 does not fit: other slivers hold 60 percent of "
          "the 80 percent of CPU the node may reserve");
    CHECK_FALSE(q->records.find("pl_d")->instantiated);
    // So is a ticket for it.
    auto t = rec.apply(
        snapshot(300, {spec("pl_d", {{"cpu_pct", 40}}, "delegated")}, false, origin::ticket),
        q->records, 1000);
    REQUIRE(t);
    REQUIRE(t->refusals.size() == 1);
    CHECK(t->refusals[0].slice == "pl_d");
    CHECK(t->actions.empty());
    CHECK_FALSE(t->records.find("pl_d")->instantiated);
    // A smaller ticket fits and instantiates.
    auto ok = rec.apply(
        snapshot(300, {spec("pl_d", {{"cpu_pct", 20}}, "delegated")}, false, origin::ticket),
        q->records, 1000);
    REQUIRE(ok);
    CHECK(ok->refusals.empty());
    CHECK(names(*ok) == std::vector<std::string>{"create pl_d", "set_rspec pl_d", "start pl_d"});
  }
  SECTION("Create of an unknown sliver is an error; of a fitting one creates it") {
    auto c = rec.instantiate(r, "pl_zz", 1000);
    REQUIRE_FALSE(c);
    CHECK(drivers::describe(c.error()) == "unknown_sliver: pl_zz");
    auto q =
        rec.apply(snapshot(200, {spec("pl_a", {{"cpu_pct", 30}}), spec("pl_b", {{"cpu_pct", 30}}),
                                 spec("pl_d", {{"cpu_pct", 20}}, "delegated")}),
                  r, 1000);
    REQUIRE(q);
    auto created = rec.instantiate(q->records, "pl_d", 1000);
    REQUIRE(created);
    CHECK(names(*created) ==
          std::vector<std::string>{"create pl_d", "set_rspec pl_d", "start pl_d"});
  }
  SECTION("a smaller capacity keeps what is held and refuses growth") {
    rec.capacity(cpu(0.2));
    CHECK(rec.capacity().cpu_reservable == 0.2);
    auto same = rec.apply(
        snapshot(200, {spec("pl_a", {{"cpu_pct", 30}}), spec("pl_b", {{"cpu_pct", 30}})}), r, 1000);
    REQUIRE(same);
    CHECK(same->refusals.empty());
    CHECK(same->actions.empty());
  }
}
