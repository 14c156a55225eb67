// PLC's push link on CAF's deterministic test coordinator: nodes prove their
// key before anything reaches them, each node gets only its own slivers, and
// slice actors push exactly the changes (and revoke where a slice left).
// Ticket actors expire by themselves and, revoked, tell the nodes; the ticket
// office revokes the tickets of slices that are gone.

#include "plc/push/node_registry.hpp"
#include "plc/push/slice_actor.hpp"
#include "plc/push/slice_directory.hpp"
#include "plc/push/ticket_office.hpp"
#include "tests/plc/recording_node.hpp"

#include "actors/caf_clock.hpp"
#include "actors/runtime_config.hpp"
#include "tests/coordinator_request.hpp"

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

using namespace std::chrono_literals;
using pl::test::node_credentials;
using pl::test::node_log;
namespace push = pl::plc::push;

namespace {

constexpr std::int64_t epoch = 1'700'000'000;

struct push_world {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::optional<pl::caf_clock> clock;
  std::map<std::int32_t, push::node_identity> db; // what PLC knows about nodes
  pl::node_registry_actor registry;
  pl::push_gateway_actor gateway;

  push_world() {
    pl::configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    clock.emplace(sys->clock(), pl::clock::time_point(std::chrono::seconds(epoch)));
    db[1] = {"node1.example.org", "key-one"};
    db[2] = {"node2.example.org", "key-two"};
    db[3] = {"node3.example.org", ""};
    push::registry_config rc;
    rc.lookup = [this](std::int32_t id) -> std::optional<push::node_identity> {
      auto i = db.find(id);
      if (i == db.end())
        return std::nullopt;
      return i->second;
    };
    rc.clock = &*clock;
    registry = push::spawn_node_registry(*sys, rc, false);
    gateway = push::spawn_push_gateway(*sys, registry);
    sched->run();
  }

  ~push_world() {
    caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sched->run();
  }

  // Spawns a recording node with these credentials and lets it connect.
  std::shared_ptr<node_log> connect(node_credentials who) {
    auto log = std::make_shared<node_log>();
    auto node = sys->spawn(pl::test::recording_node, log, gateway, std::move(who), &*clock);
    nodes.push_back(node);
    caf::anon_send(node, caf::connect_atom_v);
    sched->run();
    REQUIRE(log->connect_result.has_value());
    return log;
  }

  template <class Reply, class Handle, class... Ts>
  caf::expected<Reply> call(Handle hdl, Ts... xs) {
    return pl::testing::request_and_run<Reply>(*sys, *sched, hdl, xs...);
  }

  std::vector<pl::test::recording_node_actor> nodes;
};

pl::sliver_spec sliver(const std::string& name, std::int32_t node_id, std::string cpu = "1") {
  pl::sliver_spec s;
  s.name = name;
  s.slice_id = 10;
  s.node_id = node_id;
  s.instantiation = "plc-instantiated";
  s.expires = epoch + 3600;
  s.attributes = {{"cpu_share", std::move(cpu)}};
  return s;
}

pl::slice_spec slice(const std::string& name, std::vector<std::int32_t> nodes,
                     std::int64_t expires = epoch + 3600) {
  pl::slice_spec s;
  s.slice_id = 10;
  s.name = name;
  s.instantiation = "plc-instantiated";
  s.expires = expires;
  s.node_ids = std::move(nodes);
  return s;
}

bool refused(const caf::error& err, pl::errc code) {
  return err == caf::error{code};
}

} // namespace

TEST_CASE("a node with its key connects and receives pushes", "[push]") {
  push_world w;
  auto log = w.connect({1, "node1.example.org", "key-one"});
  CHECK(!*log->connect_result);
  auto contacts = w.call<std::vector<pl::node_contact>>(w.registry, caf::get_atom_v);
  REQUIRE(contacts);
  REQUIRE(contacts->size() == 1);
  CHECK(contacts->at(0).node_id == 1);
  CHECK(contacts->at(0).connected);
  CHECK(contacts->at(0).last_contact == epoch);

  pl::sliver_snapshot snap{1, epoch, false, {sliver("pl_a", 1)}};
  auto ok = w.call<caf::ok_atom>(w.registry, pl::push_atom_v, snap);
  CHECK(ok);
  REQUIRE(log->snapshots.size() == 1);
  CHECK(log->snapshots[0] == snap);
}

TEST_CASE("a wrong key, hostname, replayed or late answer is refused", "[push]") {
  push_world w;
  SECTION("wrong key") {
    auto log = w.connect({1, "node1.example.org", "key-two"});
    REQUIRE(*log->connect_result);
    CHECK(refused(*log->connect_result, pl::errc::permission_denied));
  }
  SECTION("wrong hostname") {
    auto log = w.connect({1, "node2.example.org", "key-one"});
    CHECK(refused(*log->connect_result, pl::errc::permission_denied));
  }
  SECTION("unknown node") {
    auto log = w.connect({9, "node9.example.org", "key-one"});
    CHECK(refused(*log->connect_result, pl::errc::permission_denied));
  }
  SECTION("node without a key") {
    auto log = w.connect({3, "node3.example.org", ""});
    CHECK(refused(*log->connect_result, pl::errc::permission_denied));
  }
  SECTION("hello without a challenge, replayed, or after the challenge expired") {
    auto nonce = w.call<std::string>(w.gateway, pl::challenge_atom_v, std::int32_t{1});
    REQUIRE(nonce);
    pl::node_hello hello{1, "node1.example.org", epoch, *nonce, {}};
    hello.proof = pl::push_proof("key-one", hello);
    auto made_up = hello;
    made_up.nonce = "00";
    made_up.proof = pl::push_proof("key-one", made_up);
    CHECK(refused(w.call<caf::ok_atom>(w.gateway, pl::hello_atom_v, made_up).error(),
                  pl::errc::permission_denied));
    // Right proof, but the sender of this call is a throwaway actor; what
    // matters here is that the challenge is used up.
    CHECK(w.call<caf::ok_atom>(w.gateway, pl::hello_atom_v, hello));
    CHECK(refused(w.call<caf::ok_atom>(w.gateway, pl::hello_atom_v, hello).error(),
                  pl::errc::permission_denied));
    auto late = w.call<std::string>(w.gateway, pl::challenge_atom_v, std::int32_t{1});
    REQUIRE(late);
    w.sched->advance_time(31s);
    pl::node_hello slow{1, "node1.example.org", epoch, *late, {}};
    slow.proof = pl::push_proof("key-one", slow);
    CHECK(refused(w.call<caf::ok_atom>(w.gateway, pl::hello_atom_v, slow).error(),
                  pl::errc::permission_denied));
  }
  // Nothing reaches a node that did not prove its key.
  pl::sliver_snapshot snap{1, epoch, false, {sliver("pl_a", 1)}};
  auto pushed = w.call<caf::ok_atom>(w.registry, pl::push_atom_v, snap);
  REQUIRE(!pushed);
  CHECK(refused(pushed.error(), pl::errc::not_connected));
}

TEST_CASE("the gateway does not let a node push, revoke or list contacts", "[push]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  REQUIRE(!*log1->connect_result);
  auto as_dynamic = caf::actor_cast<caf::actor>(w.gateway);
  pl::sliver_snapshot snap{1, epoch, false, {sliver("pl_evil", 1)}};
  CHECK(!w.call<caf::ok_atom>(as_dynamic, pl::push_atom_v, snap));
  CHECK(!w.call<caf::ok_atom>(as_dynamic, pl::revoke_atom_v, std::int32_t{1}, std::string("pl_a")));
  CHECK(!w.call<std::vector<pl::node_contact>>(as_dynamic, caf::get_atom_v));
  CHECK(log1->snapshots.empty());
  CHECK(log1->revoked.empty());
}

TEST_CASE("status is accepted only from the node's own connection", "[push]") {
  push_world w;
  auto log = w.connect({1, "node1.example.org", "key-one"});
  REQUIRE(!*log->connect_result);
  pl::node_status status;
  status.node_id = 1;
  auto from_stranger = w.call<caf::ok_atom>(w.gateway, pl::status_atom_v, status);
  CHECK(refused(from_stranger.error(), pl::errc::permission_denied));
}

TEST_CASE("a snapshot naming another node's sliver is refused", "[push]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  auto log2 = w.connect({2, "node2.example.org", "key-two"});
  pl::sliver_snapshot mixed{1, epoch, false, {sliver("pl_a", 1), sliver("pl_a", 2)}};
  auto r = w.call<caf::ok_atom>(w.registry, pl::push_atom_v, mixed);
  CHECK(refused(r.error(), pl::errc::invalid_argument));
  CHECK(log1->snapshots.empty());
  CHECK(log2->snapshots.empty());
}

TEST_CASE("a node that goes down stops being a push target", "[push]") {
  push_world w;
  auto log = w.connect({1, "node1.example.org", "key-one"});
  caf::anon_send_exit(w.nodes.at(0), caf::exit_reason::user_shutdown);
  w.sched->run();
  auto contacts = w.call<std::vector<pl::node_contact>>(w.registry, caf::get_atom_v);
  REQUIRE(contacts->size() == 1);
  CHECK(!contacts->at(0).connected);
  pl::sliver_snapshot snap{1, epoch, false, {sliver("pl_a", 1)}};
  CHECK(refused(w.call<caf::ok_atom>(w.registry, pl::push_atom_v, snap).error(),
                pl::errc::not_connected));
}

TEST_CASE("a slice actor pushes each node its own sliver, only when it changed", "[push]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  auto log2 = w.connect({2, "node2.example.org", "key-two"});
  auto actor = push::spawn_slice_actor(*w.sys, {w.registry, &*w.clock}, slice("pl_a", {1, 2}), {});
  w.sched->run();
  CHECK(log1->snapshots.empty()); // nothing before the first put

  auto put = [&](pl::slice_spec spec, std::vector<pl::sliver_spec> slivers) {
    REQUIRE(w.call<caf::ok_atom>(actor, caf::put_atom_v, std::move(spec), std::move(slivers)));
  };
  put(slice("pl_a", {1, 2}), {sliver("pl_a", 1), sliver("pl_a", 2)});
  REQUIRE(log1->snapshots.size() == 1);
  REQUIRE(log2->snapshots.size() == 1);
  CHECK(log1->snapshots[0].slivers.at(0).node_id == 1);
  CHECK(log2->snapshots[0].slivers.at(0).node_id == 2);
  CHECK(!log1->snapshots[0].full);

  // A per-node tag on node 2 changes only node 2's sliver.
  put(slice("pl_a", {1, 2}), {sliver("pl_a", 1), sliver("pl_a", 2, "8")});
  CHECK(log1->snapshots.size() == 1);
  REQUIRE(log2->snapshots.size() == 2);
  CHECK(log2->snapshots[1].slivers.at(0).attributes.at("cpu_share") == "8");

  // Leaving node 1 revokes the sliver there.
  put(slice("pl_a", {2}), {sliver("pl_a", 2, "8")});
  CHECK(log1->revoked == std::vector<std::string>{"pl_a"});
  CHECK(log2->revoked.empty());

  // Another slice's sliver is refused and changes nothing.
  auto wrong = w.call<caf::ok_atom>(actor, caf::put_atom_v, slice("pl_a", {2}),
                                    std::vector<pl::sliver_spec>{sliver("pl_b", 2)});
  CHECK(refused(wrong.error(), pl::errc::invalid_argument));
  CHECK(log2->snapshots.size() == 2);

  // Deleting revokes everywhere it still is.
  REQUIRE(w.call<caf::ok_atom>(actor, caf::delete_atom_v));
  CHECK(log2->revoked == std::vector<std::string>{"pl_a"});
}

TEST_CASE("a slice actor revokes its slivers when the slice expires", "[push]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  auto actor = push::spawn_slice_actor(*w.sys, {w.registry, &*w.clock},
                                       slice("pl_a", {1}, epoch + 100), {sliver("pl_a", 1)});
  w.sched->run();
  // Renewed to +200 before the first timer fires: the first timer is stale.
  REQUIRE(w.call<caf::ok_atom>(actor, caf::put_atom_v, slice("pl_a", {1}, epoch + 200),
                               std::vector<pl::sliver_spec>{sliver("pl_a", 1)}));
  w.sched->advance_time(150s);
  w.sched->run();
  CHECK(log1->revoked.empty());
  w.sched->advance_time(60s);
  w.sched->run();
  CHECK(log1->revoked == std::vector<std::string>{"pl_a"});
}

TEST_CASE("the slice directory turns change notices into pushes", "[push]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  std::map<std::int32_t, push::desired_slice> live;
  live[10] = {slice("pl_a", {1}), {sliver("pl_a", 1)}};
  push::directory_config dc;
  dc.load = [&](std::int32_t id) -> std::optional<push::desired_slice> {
    auto i = live.find(id);
    if (i == live.end())
      return std::nullopt;
    return i->second;
  };
  dc.live_slices = [&] {
    std::vector<std::int32_t> ids;
    for (const auto& [id, s] : live)
      ids.push_back(id);
    return ids;
  };
  dc.registry = w.registry;
  dc.clock = &*w.clock;
  auto dir = push::spawn_slice_directory(*w.sys, dc, false);
  w.sched->run();
  CHECK(log1->snapshots.empty()); // startup loads without pushing
  auto held = w.call<pl::slice_spec>(dir, caf::get_atom_v, std::int32_t{10});
  REQUIRE(held);
  CHECK(held->name == "pl_a");

  live[10].slivers[0].attributes["cpu_share"] = "4";
  caf::anon_send(dir, caf::put_atom_v, std::int32_t{10});
  w.sched->run();
  REQUIRE(log1->snapshots.size() == 1);
  CHECK(log1->snapshots[0].slivers.at(0).attributes.at("cpu_share") == "4");

  live.erase(10);
  caf::anon_send(dir, caf::put_atom_v, std::int32_t{10});
  w.sched->run();
  CHECK(log1->revoked == std::vector<std::string>{"pl_a"});
  CHECK(!w.call<pl::slice_spec>(dir, caf::get_atom_v, std::int32_t{10}));

  live[11] = {slice("pl_b", {1}), {sliver("pl_b", 1)}};
  live[11].spec.slice_id = 11;
  caf::anon_send(dir, caf::reset_atom_v);
  w.sched->run();
  CHECK(log1->pushed_names() == std::vector<std::string>{"pl_a", "pl_b"});
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
  w.sched->run();
}

// -- ticket actors and the ticket office -------------------------------------

namespace {

pl::ticket ticket_for(const std::string& name, std::int32_t slice_id,
                      std::vector<std::int32_t> nodes, std::int64_t expires = epoch + 3600) {
  static int serial = 0;
  pl::ticket t;
  t.slice_name = name;
  t.node_ids = std::move(nodes);
  t.sliver = sliver(name, 0);
  t.sliver.slice_id = slice_id;
  t.issued = epoch;
  t.expires = expires;
  t.nonce = "nonce-" + std::to_string(++serial);
  return t;
}

} // namespace

TEST_CASE("a ticket actor is valid until its expiry, then terminates", "[push][tickets]") {
  push_world w;
  auto t = push::spawn_ticket_actor(*w.sys, {w.registry, &*w.clock},
                                    ticket_for("pl_a", 10, {1}, epoch + 100));
  w.sched->run();
  auto record = w.call<pl::ticket>(t, caf::get_atom_v);
  REQUIRE(record);
  CHECK(record->slice_name == "pl_a");
  CHECK(record->expires == epoch + 100);
  CHECK(*w.call<bool>(t, pl::valid_atom_v));
  w.sched->advance_time(99s);
  w.sched->run();
  CHECK(*w.call<bool>(t, pl::valid_atom_v));
  w.sched->advance_time(1s);
  w.sched->run();
  // Gone: a request finds no receiver.
  CHECK(!w.call<bool>(t, pl::valid_atom_v));
}

TEST_CASE("revoking a ticket tells its nodes, or every connected node", "[push][tickets]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  auto log2 = w.connect({2, "node2.example.org", "key-two"});
  REQUIRE(!*log1->connect_result);
  REQUIRE(!*log2->connect_result);
  auto mine =
      push::spawn_ticket_actor(*w.sys, {w.registry, &*w.clock}, ticket_for("pl_a", 10, {1}));
  w.sched->run();
  REQUIRE(w.call<caf::ok_atom>(mine, pl::revoke_atom_v));
  CHECK(log1->revoked == std::vector<std::string>{"pl_a"});
  CHECK(log2->revoked.empty());
  CHECK_FALSE(*w.call<bool>(mine, pl::valid_atom_v));
  // Revoked once: a second revoke tells nobody again.
  REQUIRE(w.call<caf::ok_atom>(mine, pl::revoke_atom_v));
  CHECK(log1->revoked.size() == 1);

  // Redeemable anywhere (a delegated slice): every node connected now.
  auto anywhere =
      push::spawn_ticket_actor(*w.sys, {w.registry, &*w.clock}, ticket_for("pl_d", 11, {}));
  w.sched->run();
  REQUIRE(w.call<caf::ok_atom>(anywhere, pl::revoke_atom_v));
  CHECK(log1->revoked == std::vector<std::string>{"pl_a", "pl_d"});
  CHECK(log2->revoked == std::vector<std::string>{"pl_d"});
  for (auto t : {mine, anywhere})
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  w.sched->run();
}

TEST_CASE("the ticket office revokes the tickets of a slice that is gone", "[push][tickets]") {
  push_world w;
  auto log1 = w.connect({1, "node1.example.org", "key-one"});
  REQUIRE(!*log1->connect_result);
  std::set<std::int32_t> live{10, 11, 13, 14};
  int lookups = 0;
  push::ticket_office_config oc;
  oc.registry = w.registry;
  oc.clock = &*w.clock;
  oc.slice_live = [&](std::int32_t id) {
    ++lookups;
    return live.contains(id);
  };
  auto office = push::spawn_ticket_office(*w.sys, oc, false);
  auto held = [&](std::int32_t id) {
    auto actors = w.call<std::vector<caf::actor>>(office, caf::get_atom_v, id);
    REQUIRE(actors);
    return *actors;
  };
  auto valid = [&](const caf::actor& a) {
    auto v = w.call<bool>(caf::actor_cast<pl::ticket_actor>(a), pl::valid_atom_v);
    return v && *v;
  };
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_a", 10, {1}));
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_a", 10, {1}));
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_b", 11, {1}));
  w.sched->run();
  REQUIRE(held(10).size() == 2);
  REQUIRE(held(11).size() == 1);

  // A change to a live slice revokes nothing; a slice without tickets is not
  // even looked up.
  caf::anon_send(office, caf::update_atom_v, std::int32_t{10});
  w.sched->run();
  CHECK(held(10).size() == 2);
  CHECK(log1->revoked.empty());
  const int before = lookups;
  caf::anon_send(office, caf::update_atom_v, std::int32_t{99});
  w.sched->run();
  CHECK(lookups == before);

  // Slice 10 is deleted: both its tickets are revoked on node 1; 11 stays.
  auto tickets10 = held(10);
  live.erase(10);
  caf::anon_send(office, caf::update_atom_v, std::int32_t{10});
  w.sched->run();
  CHECK(held(10).empty());
  CHECK(held(11).size() == 1);
  for (const auto& t : tickets10)
    CHECK_FALSE(valid(t));
  REQUIRE_FALSE(log1->revoked.empty());
  CHECK(std::all_of(log1->revoked.begin(), log1->revoked.end(),
                    [](const std::string& n) { return n == "pl_a"; }));

  // Notifications lost (the listener reconnected): a reset checks them all.
  auto tickets11 = held(11);
  live.erase(11);
  caf::anon_send(office, caf::reset_atom_v);
  w.sched->run();
  CHECK(held(11).empty());
  CHECK_FALSE(valid(tickets11.at(0)));

  // A ticket whose slice went while it was being issued is revoked on arrival.
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_c", 12, {1}));
  w.sched->run();
  CHECK(held(12).empty());
  CHECK(std::count(log1->revoked.begin(), log1->revoked.end(), "pl_c") == 1);

  // delete revokes at once and answers when done.
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_e", 13, {1}));
  w.sched->run();
  auto tickets13 = held(13);
  REQUIRE(tickets13.size() == 1);
  REQUIRE(w.call<caf::ok_atom>(office, caf::delete_atom_v, std::int32_t{13}));
  CHECK(held(13).empty());
  CHECK_FALSE(valid(tickets13.at(0)));

  // An expired ticket leaves the office by itself, revoking nothing.
  caf::anon_send(office, caf::put_atom_v, ticket_for("pl_f", 14, {1}, epoch + 50));
  w.sched->run();
  REQUIRE(held(14).size() == 1);
  w.sched->advance_time(50s);
  w.sched->run();
  CHECK(held(14).empty());
  CHECK(std::count(log1->revoked.begin(), log1->revoked.end(), "pl_f") == 0);
  caf::anon_send_exit(office, caf::exit_reason::user_shutdown);
  w.sched->run();
}
