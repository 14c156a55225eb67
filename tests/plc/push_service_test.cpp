// The push link as plcd runs it (plc/push/service.hpp), end to end: the
// scratch database, its change notifications (migration 0240) heard by the
// listener, the slice directory and the ticket office, the node registry, and
// recording node managers in another actor system connected over CAF's
// middleman on loopback. Changes go through the API; the nodes learn of them
// by push alone (no GetSlivers here). Waits are bounded; nothing is timed.
// The same runs over TLS with certificates (CAF's OpenSSL module).
#include "slice_world.hpp"

#include "plc/api/tickets.hpp"
#include "plc/push/service.hpp"
#include "plc/store/listener.hpp"
#include "tests/plc/recording_node.hpp"
#include "tests/plc_http/tls_files.hpp"

#include "actors/runtime_config.hpp"
#include "actors/ticket.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

using namespace pl::test;
using namespace std::chrono_literals;
namespace plc = pl::plc;
namespace push = pl::plc::push;

namespace {

/// Polls `pred` until it holds or a minute has passed; returns whether it held.
bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// One self-signed certificate for both ends: each trusts it as its CA.
const pl::plc::http::test::tls_files& certificate() {
  static pl::plc::http::test::tls_files files;
  return files;
}

/// Sets up an actor system with the middleman; with `tls`, CAF's OpenSSL
/// module with the test certificate as certificate, key and CA file.
caf::actor_system_config& configured(caf::actor_system_config& cfg, bool tls) {
  pl::configure_runtime(cfg, {.middleman = true, .max_threads = 2});
  if (tls) {
    cfg.openssl_certificate = certificate().cert();
    cfg.openssl_key = certificate().key();
    cfg.openssl_cafile = certificate().cert();
    cfg.load<caf::openssl::manager>();
  }
  return cfg;
}

struct push_db_world : slice_world {
  bool tls;
  caf::actor_system_config plc_cfg, node_cfg;
  caf::actor_system plc_sys;
  caf::actor_system node_sys;
  std::optional<push::service> svc;
  std::uint16_t port = 0;
  std::vector<caf::actor> nodes;
  // GetSliceTicket, with the office told of every ticket as plcd does.
  pl::signing_key key = *pl::signing_key::generate();
  std::optional<plc::api::key_ticket_authority> authority;
  std::optional<plc::api::dispatcher> tapi;

  explicit push_db_world(bool with_tls = false)
      : tls(with_tls)
      , plc_sys(configured(plc_cfg, with_tls))
      , node_sys(configured(node_cfg, with_tls)) {
    svc.emplace(plc_sys, push::service_config{&pool, scratch_conninfo(), &clock, true});
    port = svc->publish("127.0.0.1", 0, tls);
    authority.emplace(key, clock, 24h, [office = svc->tickets()](const pl::ticket& t) {
      caf::anon_send(office, caf::put_atom_v, t);
    });
    plc::api::services s;
    s.db = &pool;
    s.clock = &clock;
    tapi.emplace(s);
    plc::api::add_auth_methods(*tapi);
    plc::api::add_ticket_methods(*tapi, &*authority);
  }

  ~push_db_world() {
    for (auto& n : nodes)
      caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
    svc.reset();
  }

  /// Adds a node with a node key, as GenerateNodeConfFile would set it.
  int add_keyed_node(const std::string& name, const std::string& node_key) {
    int node = add_node(site_a, name);
    auto conn = pool.acquire();
    conn->exec("UPDATE nodes SET key = $1 WHERE node_id = $2::integer",
               {node_key, std::to_string(node)});
    return node;
  }

  /// Starts a recording node manager in the node-side actor system that
  /// reaches PLC over loopback and proves `key` for `node`.
  std::shared_ptr<node_log> connect(int node, const std::string& name, const std::string& key) {
    auto gateway =
        tls ? caf::openssl::remote_actor<pl::push_gateway_actor>(node_sys, "127.0.0.1", port)
            : node_sys.middleman().remote_actor<pl::push_gateway_actor>("127.0.0.1", port);
    INFO((gateway ? std::string{} : node_sys.render(gateway.error())));
    REQUIRE(gateway);
    auto log = std::make_shared<node_log>();
    auto actor = node_sys.spawn(recording_node, log, *gateway,
                                node_credentials{node, host(name), key}, &clock);
    nodes.push_back(caf::actor_cast<caf::actor>(actor));
    caf::anon_send(actor, caf::connect_atom_v);
    REQUIRE(eventually(
        [&] { return log->locked([](auto& l) { return l.connect_result.has_value(); }); }));
    return log;
  }

  /// The slivers `log` received, in order.
  static std::vector<pl::sliver_spec> received(const node_log& log) {
    std::vector<pl::sliver_spec> out;
    for (const auto& snap : log.snapshots)
      out.insert(out.end(), snap.slivers.begin(), snap.slivers.end());
    return out;
  }

  static bool got(const std::shared_ptr<node_log>& log,
                  const std::function<bool(const pl::sliver_spec&)>& pred) {
    return log->locked([&](const node_log& l) {
      auto slivers = received(l);
      return std::any_of(slivers.begin(), slivers.end(), pred);
    });
  }

  static bool revoked(const std::shared_ptr<node_log>& log, const std::string& name) {
    return log->locked([&](const node_log& l) {
      return std::find(l.revoked.begin(), l.revoked.end(), name) != l.revoked.end();
    });
  }

  std::string ticket(const std::string& actor, int slice) {
    xmlrpc_c::paramList params;
    params.add(auth(actor));
    params.add(i(slice));
    std::string xml;
    xmlrpc_c::xml::generateCall("GetSliceTicket", params, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(tapi->handle(xml, "127.0.0.1"), &out);
    REQUIRE(out.succeeded());
    return str_of(out.getResult());
  }

  /// The office's outstanding tickets of `slice`.
  std::size_t outstanding(int slice) {
    caf::scoped_actor self{plc_sys};
    std::size_t n = 0;
    bool answered = false;
    self->request(svc->tickets(), 30s, caf::get_atom_v, static_cast<std::int32_t>(slice))
        .receive(
            [&](const std::vector<caf::actor>& actors) {
              n = actors.size();
              answered = true;
            },
            [&](const caf::error&) {});
    REQUIRE(answered);
    return n;
  }
};

} // namespace

TEST_CASE_METHOD(push_db_world, "A change committed through the API reaches the node by push") {
  int n1 = add_keyed_node("p1", "key-one-" + sfx);
  int n2 = add_keyed_node("p2", "key-two-" + sfx);
  int n3 = add_keyed_node("p3", "key-three-" + sfx);
  auto log1 = connect(n1, "p1", "key-one-" + sfx);
  auto log2 = connect(n2, "p2", "key-two-" + sfx);
  auto intruder = connect(n3, "p3", "not-the-key"); // claims node 3 with a wrong key
  REQUIRE(log1->locked([](auto& l) { return !*l.connect_result; }));
  REQUIRE(log2->locked([](auto& l) { return !*l.connect_result; }));
  CHECK(intruder->locked(
      [](auto& l) { return *l.connect_result == caf::error{pl::errc::permission_denied}; }));

  // A slice on nodes 1 and 3: node 1 gets its sliver.
  const std::string name = sname(base_a, "push");
  int sl = add_slice("pi", "push");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1), i(n3)})});
  REQUIRE(eventually([&] { return got(log1, [&](auto& s) { return s.name == name; }); }));

  // AddSliceTag: node 1 receives the new spec.
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("64")});
  REQUIRE(eventually([&] {
    return got(log1, [&](const pl::sliver_spec& s) {
      return s.name == name && s.resources.value_of("cpu_share") == 64;
    });
  }));
  // A per-node tag for node 1, and a new member's key.
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("96"), i(n1)});
  REQUIRE(eventually([&] {
    return got(log1,
               [&](auto& s) { return s.name == name && s.resources.value_of("cpu_share") == 96; });
  }));

  // Another slice on node 2 only: a barrier for node 2's mailbox.
  const std::string other = sname(base_a, "other");
  int sl2 = add_slice("pi", "other");
  ok("pi", "AddSliceToNodes", {i(sl2), arr({i(n2)})});
  REQUIRE(eventually([&] { return got(log2, [&](auto& s) { return s.name == other; }); }));

  // Each node received only its own slivers; the wrong key received nothing.
  log1->locked([&](const node_log& l) {
    for (const auto& snap : l.snapshots) {
      CHECK(snap.node_id == n1);
      for (const auto& s : snap.slivers) {
        CHECK(s.node_id == n1);
        CHECK(s.name != other);
      }
    }
    return 0;
  });
  log2->locked([&](const node_log& l) {
    for (const auto& snap : l.snapshots) {
      CHECK(snap.node_id == n2);
      for (const auto& s : snap.slivers) {
        CHECK(s.node_id == n2);
        CHECK(s.name != name);
      }
    }
    return 0;
  });
  CHECK(intruder->locked([](auto& l) { return l.snapshots.empty() && l.revoked.empty(); }));

  // Leaving node 1 revokes the sliver there.
  ok("pi", "DeleteSliceFromNodes", {i(sl), arr({i(n1)})});
  REQUIRE(eventually([&] { return revoked(log1, name); }));
  CHECK_FALSE(revoked(log2, name));
}

TEST_CASE_METHOD(push_db_world, "DeleteSlice revokes its tickets and the nodes hear of it") {
  int n1 = add_keyed_node("q1", "key-q1-" + sfx);
  int n2 = add_keyed_node("q2", "key-q2-" + sfx);
  auto log1 = connect(n1, "q1", "key-q1-" + sfx);
  auto log2 = connect(n2, "q2", "key-q2-" + sfx);

  // A slice on node 1, with a ticket.
  const std::string name = sname(base_a, "tk");
  int sl = add_slice("pi", "tk");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
  auto text = ticket("pi", sl);
  REQUIRE(pl::verify_ticket(text, pl::ticket_keyring{key.public_key()}, clock, {.node_id = n1})
              .valid());
  REQUIRE(eventually([&] { return outstanding(sl) == 1; }));

  // A delegated slice (no nodes; every node may redeem its ticket).
  const std::string dname = sname(base_a, "dl");
  int dl = add_slice("pi", "dl", {{"instantiation", s("delegated")}});
  auto dtext = ticket("pi", dl);
  CHECK(pl::parse_ticket(dtext)->body.any_node);
  REQUIRE(eventually([&] { return outstanding(dl) == 1; }));

  ok("pi", "DeleteSlice", {i(sl)});
  REQUIRE(eventually([&] { return outstanding(sl) == 0; }));
  REQUIRE(eventually([&] { return revoked(log1, name); }));
  CHECK(outstanding(dl) == 1);

  ok("pi", "DeleteSlice", {i(dl)});
  REQUIRE(eventually([&] { return outstanding(dl) == 0; }));
  // Every connected node hears of the delegated slice's end.
  REQUIRE(eventually([&] { return revoked(log1, dname) && revoked(log2, dname); }));
  CHECK_FALSE(revoked(log2, name));
}

namespace {

struct tls_push_world : push_db_world {
  tls_push_world()
      : push_db_world(true) {}
};

} // namespace

TEST_CASE_METHOD(tls_push_world, "Over TLS with certificates the push link works the same") {
  int n1 = add_keyed_node("s1", "key-s1-" + sfx);
  auto log1 = connect(n1, "s1", "key-s1-" + sfx);
  REQUIRE(log1->locked([](auto& l) { return !*l.connect_result; }));
  const std::string name = sname(base_a, "tls");
  int sl = add_slice("pi", "tls");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("48")});
  REQUIRE(eventually([&] {
    return got(log1,
               [&](auto& s) { return s.name == name && s.resources.value_of("cpu_share") == 48; });
  }));

  // A peer without a certificate cannot even reach the gateway: CAF's OpenSSL
  // module in anonymous mode does not agree with a server that wants one.
  caf::actor_system_config anon_cfg;
  pl::configure_runtime(anon_cfg, {.middleman = true, .max_threads = 1});
  anon_cfg.load<caf::openssl::manager>();
  caf::actor_system anon{anon_cfg};
  CHECK_FALSE(caf::openssl::remote_actor<pl::push_gateway_actor>(anon, "127.0.0.1", port));
  // Nor a plain (non-TLS) middleman.
  CHECK_FALSE(anon.middleman().remote_actor<pl::push_gateway_actor>("127.0.0.1", port));
}

TEST_CASE("The push link's TLS files are checked before plcd serves") {
  const auto& files = certificate();
  CHECK_NOTHROW(push::check_tls_files(files.cert(), files.key(), files.cert()));
  pl::plc::http::test::tls_files other;
  CHECK_THROWS_WITH(push::check_tls_files(files.cert(), other.key(), files.cert()),
                    Catch::Contains("key values mismatch"));
  CHECK_THROWS_WITH(push::check_tls_files("/nonexistent/cert.pem", files.key(), files.cert()),
                    Catch::Contains("/nonexistent/cert.pem"));
  CHECK_THROWS_WITH(push::check_tls_files(files.cert(), files.key(), "/nonexistent/ca.pem"),
                    Catch::Contains("CA file"));
}

namespace {

/// Collects the slice ids announced on `plc_slice_changed`.
struct announcements {
  std::mutex mutex;
  std::vector<int> ids;
  std::optional<pl::plc::store::listener> listener;

  announcements() {
    listener.emplace(
        scratch_conninfo(), std::vector<std::string>{push::slice_channel},
        [this](const std::string&, const std::string& payload) {
          std::lock_guard guard{mutex};
          ids.push_back(std::stoi(payload));
        },
        [] {});
  }

  bool heard(int id) {
    std::lock_guard guard{mutex};
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  /// Forgets what was heard so far, once `barrier` (an id announced last) arrived.
  bool settle(int barrier) {
    if (!eventually([&] { return heard(barrier); }))
      return false;
    std::lock_guard guard{mutex};
    ids.clear();
    return true;
  }
};

} // namespace

TEST_CASE_METHOD(slice_world,
                 "Migration 0240 announces each change that alters a slice's slivers") {
  announcements heard;
  int n1 = add_node(site_a, "a1");
  int bound = add_slice("pi", "bound"); // on n1
  int other = add_slice("pi", "other"); // elsewhere: must stay quiet
  int everywhere = add_slice("pi", "dlg", {{"instantiation", s("delegated")}});
  ok("admin", "AddSliceToNodes", {i(bound), arr({i(n1)})});
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(bound)});
  int sentinel = add_slice("pi", "sentinel");
  auto barrier = [&] {
    // A change of the sentinel slice, committed after everything before it.
    ok("pi", "UpdateSlice", {i(sentinel), obj({{"url", s("http://s/" + std::to_string(now()))}})});
    return sentinel;
  };
  auto expect = [&](const std::string& what, std::vector<int> slices) {
    INFO(what);
    for (int id : slices)
      CHECK(eventually([&] { return heard.heard(id); }));
    REQUIRE(heard.settle(barrier()));
  };
  auto quiet = [&](const std::string& what, int id) {
    INFO(what);
    int b = barrier();
    REQUIRE(eventually([&] { return heard.heard(b); }));
    CHECK_FALSE(heard.heard(id));
    REQUIRE(heard.settle(b));
  };
  REQUIRE(heard.settle(barrier()));

  // Members: a key added, changed, blacklisted; the member disabled.
  std::string blob = std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) + "notify" + sfx;
  blob.resize(19 + 32, 'n');
  auto key = "ssh-ed25519 " +
             pl::base64_encode({reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) +
             " u@x";
  int key_id = int_of(ok("user", "AddPersonKey",
                         {i(id_of("user")), obj({{"key_type", s("ssh")}, {"key", s(key)}})}));
  expect("AddPersonKey", {bound});
  quiet("another slice is not announced for a member's key", other);
  ok("admin", "UpdatePerson", {i(id_of("user")), obj({{"enabled", b(false)}})});
  expect("member disabled", {bound});
  ok("admin", "UpdatePerson", {i(id_of("user")), obj({{"enabled", b(true)}})});
  expect("member enabled", {bound});
  ok("admin", "BlacklistKey", {i(key_id)});
  expect("BlacklistKey", {bound});

  // Node groups: a slice tag scoped to a group; a node joining it by its tag.
  int tt = int_of(ok("admin", "AddTagType", {obj({{"tagname", s("zone" + sfx)}})}));
  ok("admin", "AddNodeGroup", {s("east" + sfx), i(tt), s("east")});
  ok("admin", "AddSliceTag", {i(bound), s("cpu_share"), s("9"), nil, s("east" + sfx)});
  expect("group-scoped slice tag", {bound});
  ok("admin", "AddNodeTag", {i(n1), i(tt), s("east")});
  expect("node tag puts n1 in the group", {bound});
  ok("admin", "UpdateNodeGroup", {s("east" + sfx), obj({{"value", s("west")}})});
  expect("group redefined", {bound});
  ok("admin", "UpdateTagType", {i(tt), obj({{"tagname", s("area" + sfx)}})});
  quiet("a renamed tag type no slice tag uses", other);

  // InitScripts named by an initscript tag.
  int script = int_of(ok("admin", "AddInitScript",
                         {obj({{"name", s("boot" + sfx)}, {"script", s("#!/bin/sh\n")}})}));
  ok("admin", "AddSliceTag", {i(bound), s("initscript"), s("boot" + sfx)});
  expect("initscript tag", {bound});
  ok("admin", "UpdateInitScript", {i(script), obj({{"script", s("#!/bin/sh\necho\n")}})});
  expect("initscript changed", {bound});

  // Nodes: a new node and a deleted one change where delegated slices apply.
  add_node(site_a, "a2");
  expect("AddNode", {everywhere});
  ok("admin", "DeleteNode", {i(n1)});
  expect("DeleteNode", {everywhere, bound});
  quiet("a node change leaves other slices alone", other);
}
