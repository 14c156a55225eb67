// The node manager's local API over both transports (a sliver's unix socket,
// root's loopback TCP port) against a recording fake of the node_manager
// actor on a real actor system: who may call what, the fault codes, tickets
// with each refusal, GetRecord, the HTTP edge, and a Python client.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/clock.hpp"
#include "actors/runtime_config.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_keys.hpp"
#include "node/local_api_service.hpp"
#include "tests/node/api_test_support.hpp"

using namespace pl;
using namespace pl::node;
using namespace pl::node::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1'300'000'000;
constexpr std::int32_t node_id = 7;

sliver_spec sliver(const std::string& name, const std::string& instantiation,
                   std::vector<std::string> delegations = {}) {
  sliver_spec s;
  s.name = name;
  s.slice_id = static_cast<std::int32_t>(name.size()) * 10;
  s.node_id = node_id;
  s.instantiation = instantiation;
  s.expires = t0 + 86400;
  s.keys = {"ssh-ed25519 AAAA" + name + " a@" + name};
  s.resources.values = {{"cpu_share", 32}, {"net_max_rate", 5'000'000'000}};
  s.delegations = std::move(delegations);
  s.attributes = {{"vsys", "pl_ping"}};
  return s;
}

caf::actor_system_config& configured(caf::actor_system_config& cfg) {
  configure_runtime(cfg, {.max_threads = 2});
  return cfg;
}

/// The local API in front of a fake node manager holding:
/// - pl_owner (plc-instantiated), which delegates to pl_broker;
/// - pl_deleg (delegated), which delegates to pl_broker;
/// - pl_broker (nm-controller) and pl_other (plc-instantiated), no delegations.
struct fixture {
  scratch tmp;
  caf::actor_system_config cfg;
  caf::actor_system sys{configured(cfg)};
  std::shared_ptr<fake_world> world = std::make_shared<fake_world>();
  node_manager_actor nm;
  manual_clock clock{clock::time_point{std::chrono::seconds{t0}}};
  signing_key plc_key = *signing_key::generate();
  std::unique_ptr<local_api_service> svc;

  explicit fixture(std::chrono::milliseconds call_timeout = 10s) {
    world->add(sliver("pl_owner", "plc-instantiated", {"pl_broker"}));
    world->add(sliver("pl_deleg", "delegated", {"pl_broker"}));
    world->add(sliver("pl_broker", "nm-controller"));
    world->add(sliver("pl_other", "plc-instantiated"));
    world->effective["pl_owner"].values = {{"cpu_share", 16}};
    nm = sys.spawn(fake_nm, world);
    start(call_timeout);
  }

  ~fixture() {
    if (svc)
      svc->stop();
    caf::anon_send_exit(nm, caf::exit_reason::user_shutdown);
  }

  local_api_config config(std::chrono::milliseconds call_timeout) const {
    local_api_config c;
    c.node_id = node_id;
    c.server.tcp_port = 0;
    c.server.run_dir = tmp.dir / "run";
    c.server.worker_threads = 2;
    c.ticket_keys.add(plc_key.public_key());
    c.state_dir = tmp.dir / "state";
    c.call_timeout = call_timeout;
    c.account_uid = [](const std::string& name) -> std::optional<std::int64_t> {
      if (name == "pl_owner")
        return 1010;
      if (name == "pl_broker")
        return 1020;
      return std::nullopt;
    };
    return c;
  }

  void start(std::chrono::milliseconds call_timeout = 10s) {
    auto s = start_local_api(sys, nm, config(call_timeout), clock);
    if (!s)
      FAIL("start_local_api: " << s.error());
    svc = std::move(*s);
    for (const auto* name : {"pl_owner", "pl_deleg", "pl_broker", "pl_other"}) {
      auto path = svc->add_sliver(name);
      REQUIRE(path);
    }
  }

  http_client root() { return http_client{svc->tcp_port()}; }
  http_client from(const std::string& sliver) {
    return http_client{svc->server().socket_path(sliver)};
  }

  /// Issues a ticket signed by PLC's key (or `key`).
  std::string ticket_for(const std::string& slice, std::vector<std::int32_t> nodes = {node_id},
                         std::int64_t lifetime = 3600, const signing_key* key = nullptr) {
    sliver_ticket body;
    body.slice_name = slice;
    body.slice_id = 4242;
    body.instantiation = "delegated";
    body.node_ids = std::move(nodes);
    body.keys = {"ssh-ed25519 AAAAticket t@x"};
    body.attributes = {{"cpu_share", "64"}, {"delegations", "pl_broker"}};
    body.expires = clock.now_epoch() + lifetime;
    auto t = issue_ticket(body, key ? *key : plc_key, clock);
    REQUIRE(t);
    return t->text();
  }
};

std::map<std::string, xmlrpc_c::value> as_struct(const xmlrpc_c::value& v) {
  REQUIRE(v.type() == xmlrpc_c::value::TYPE_STRUCT);
  return xmlrpc_c::value_struct(v).cvalue();
}

std::string as_string(const xmlrpc_c::value& v) {
  REQUIRE(v.type() == xmlrpc_c::value::TYPE_STRING);
  return xmlrpc_c::value_string(v).cvalue();
}

std::int64_t as_int(const xmlrpc_c::value& v) {
  if (v.type() == xmlrpc_c::value::TYPE_I8)
    return xmlrpc_c::value_i8(v);
  REQUIRE(v.type() == xmlrpc_c::value::TYPE_INT);
  return xmlrpc_c::value_int(v);
}

void require_one(const rpc_answer& a) {
  INFO(a.fault_code << " " << a.fault_string << " " << a.body);
  REQUIRE(a.ok());
  CHECK(as_int(*a.result) == 1);
}

void require_fault(const rpc_answer& a, int code, const std::string& text = {}) {
  INFO(a.body);
  REQUIRE(a.status == 200);
  REQUIRE_FALSE(a.ok());
  CHECK(a.fault_code == code);
  if (!text.empty())
    CHECK_THAT(a.fault_string, Catch::Contains(text));
}

const std::vector<std::string> sliver_methods = {
    "Start", "Stop", "ReCreate", "GetRSpec", "GetEffectiveRSpec", "GetLoans", "SetLoans"};

xmlrpc_c::paramList args_for(const std::string& method, const std::string& target) {
  if (method == "SetLoans")
    return params({str(target), xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{})});
  return params({str(target)});
}

} // namespace

TEST_CASE("open methods answer every caller on both transports", "[local_api]") {
  fixture f;
  for (int transport = 0; transport < 2; ++transport) {
    auto c = transport == 0 ? f.root() : f.from("pl_other");
    auto help = c.call("Help");
    REQUIRE(help.ok());
    for (const auto& m : local_api::method_names())
      CHECK_THAT(as_string(*help.result), Catch::Contains(m));

    auto keys = c.call("GetSSHKeys");
    REQUIRE(keys.ok());
    auto k = as_struct(*keys.result);
    CHECK(k.size() == 4);
    CHECK(as_string(k.at("pl_owner")) == "ssh-ed25519 AAAApl_owner a@pl_owner");

    auto xids = c.call("GetXIDs");
    REQUIRE(xids.ok());
    auto x = as_struct(*xids.result);
    CHECK(x.size() == 2); // only slivers with an account
    CHECK(as_int(x.at("pl_owner")) == 1010);
    CHECK(as_int(x.at("pl_broker")) == 1020);
  }
  CHECK(f.world->take_calls().empty()); // reads only
}

TEST_CASE("an unknown method is 100 and lists the methods; a wrong count is 101", "[local_api]") {
  fixture f;
  auto c = f.from("pl_owner");
  require_fault(c.call("Frobnicate"), 100, "Frobnicate");
  auto a = c.call("Frobnicate");
  for (const auto& m : local_api::method_names())
    CHECK_THAT(a.fault_string, Catch::Contains(m));
  // xmlrpc-c's introspection stays (the original had none): it lists the methods.
  auto listed = c.call("system.listMethods");
  REQUIRE(listed.ok());
  std::vector<std::string> names;
  for (const auto& v : xmlrpc_c::value_array(*listed.result).vectorValueValue())
    names.push_back(as_string(v));
  for (const auto& m : local_api::method_names())
    CHECK(std::count(names.begin(), names.end(), m) == 1);
  require_fault(c.call("Start"), 101, "Start takes 1 argument, got 0");
  require_fault(c.call("Start", params({str("pl_owner"), str("pl_owner")})), 101);
  require_fault(c.call("SetLoans", params({str("pl_owner")})), 101, "takes 2 arguments");
  require_fault(c.call("Help", params({str("x")})), 101);
  require_fault(c.call("GetRecord", params({str("pl_owner")})), 101);
  require_fault(c.call("Ticket"), 101);
  CHECK(f.world->take_calls().empty());
}

TEST_CASE("per-sliver methods: the sliver itself, its delegations and root; others 108",
          "[local_api]") {
  fixture f;
  auto owner = f.from("pl_owner");
  auto broker = f.from("pl_broker");
  auto other = f.from("pl_other");
  auto root = f.root();
  for (const auto& m : sliver_methods) {
    DYNAMIC_SECTION(m) {
      // The sliver itself.
      auto a = owner.call(m, args_for(m, "pl_owner"));
      INFO(a.fault_string);
      REQUIRE(a.ok());
      auto calls = f.world->take_calls();
      REQUIRE_FALSE(calls.empty());
      for (const auto& line : calls)
        CHECK_THAT(line, Catch::EndsWith(" pl_owner pl_owner"));
      // A slice listed in its delegations.
      REQUIRE(broker.call(m, args_for(m, "pl_owner")).ok());
      for (const auto& line : f.world->take_calls())
        CHECK_THAT(line, Catch::EndsWith(" pl_broker pl_owner"));
      // Root, over TCP.
      REQUIRE(root.call(m, args_for(m, "pl_owner")).ok());
      for (const auto& line : f.world->take_calls())
        CHECK_THAT(line, Catch::EndsWith(" root pl_owner"));
      // Anyone else: 108, and the node manager is never asked.
      require_fault(other.call(m, args_for(m, "pl_owner")), 108, "pl_other");
      require_fault(owner.call(m, args_for(m, "pl_broker")), 108, "pl_owner");
      CHECK(f.world->take_calls().empty());
      // Not a sliver: 102, also for root.
      require_fault(owner.call(m, args_for(m, "pl_nowhere")), 102, "pl_nowhere");
      require_fault(root.call(m, args_for(m, "pl_nowhere")), 102);
      // The first argument must name a sliver.
      auto bad = m == "SetLoans" ? params({xmlrpc_c::value_int(3),
                                           xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{})})
                                 : params({xmlrpc_c::value_int(3)});
      require_fault(owner.call(m, bad), 102, "sliver name");
      CHECK(f.world->take_calls().empty());
    }
  }
}

TEST_CASE("delegations are a list: being a substring of one is not enough", "[local_api]") {
  fixture f;
  f.world->add(sliver("pl_target", "plc-instantiated", {"pl_brokerx", "pl_b"}));
  REQUIRE(f.svc->add_sliver("pl_target"));
  require_fault(f.from("pl_broker").call("Start", params({str("pl_target")})), 108);
  f.world->add(sliver("pl_target", "plc-instantiated", {"pl_brokerx", "pl_broker"}));
  require_one(f.from("pl_broker").call("Start", params({str("pl_target")})));
}

TEST_CASE("a sliver argument may be a record struct with a name", "[local_api]") {
  fixture f;
  auto rec = xmlrpc_c::value_struct({{"name", str("pl_owner")}});
  require_one(f.from("pl_owner").call("Start", params({rec})));
  CHECK(f.world->take_calls() == std::vector<std::string>{"start pl_owner pl_owner"});
  auto nameless = xmlrpc_c::value_struct({{"slice", str("pl_owner")}});
  require_fault(f.from("pl_owner").call("Start", params({nameless})), 102);
}

TEST_CASE("Create and Destroy act on delegated slivers only (104 otherwise)", "[local_api]") {
  fixture f;
  for (const std::string& m : std::vector<std::string>{"Create", "Destroy"}) {
    DYNAMIC_SECTION(m) {
      require_one(f.from("pl_deleg").call(m, params({str("pl_deleg")})));
      require_one(f.from("pl_broker").call(m, params({str("pl_deleg")})));
      require_one(f.root().call(m, params({str("pl_deleg")})));
      auto op = m == "Create" ? std::string{"create"} : std::string{"destroy"};
      CHECK(f.world->take_calls() == std::vector<std::string>{op + " pl_deleg pl_deleg",
                                                              op + " pl_broker pl_deleg",
                                                              op + " root pl_deleg"});
      require_fault(f.from("pl_other").call(m, params({str("pl_deleg")})), 108);
      // Not delegated: 104 even for the sliver itself and root.
      require_fault(f.from("pl_owner").call(m, params({str("pl_owner")})), 104, "plc-instantiated");
      require_fault(f.root().call(m, params({str("pl_broker")})), 104, "nm-controller");
      require_fault(f.root().call(m, params({str("pl_nowhere")})), 102);
      CHECK(f.world->take_calls().empty());
    }
  }
}

TEST_CASE("ReCreate stops, creates a delegated sliver again, and starts", "[local_api]") {
  fixture f;
  require_one(f.from("pl_deleg").call("ReCreate", params({str("pl_deleg")})));
  CHECK(f.world->take_calls() == std::vector<std::string>{"stop pl_deleg pl_deleg",
                                                          "create pl_deleg pl_deleg",
                                                          "start pl_deleg pl_deleg"});
  require_one(f.from("pl_owner").call("ReCreate", params({str("pl_owner")})));
  CHECK(f.world->take_calls() ==
        std::vector<std::string>{"stop pl_owner pl_owner", "start pl_owner pl_owner"});
}

TEST_CASE("rspecs and loans come back in the original's shapes", "[local_api]") {
  fixture f;
  auto c = f.from("pl_broker");
  auto r = c.call("GetRSpec", params({str("pl_owner")}));
  REQUIRE(r.ok());
  auto m = as_struct(*r.result);
  CHECK(as_int(m.at("cpu_share")) == 32);
  CHECK(m.at("net_max_rate").type() == xmlrpc_c::value::TYPE_I8); // beyond 32 bits
  CHECK(as_int(m.at("net_max_rate")) == 5'000'000'000);
  auto e = c.call("GetEffectiveRSpec", params({str("pl_owner")}));
  REQUIRE(e.ok());
  CHECK(as_int(as_struct(*e.result).at("cpu_share")) == 16);

  auto loans = xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{xmlrpc_c::value_array(
      std::vector<xmlrpc_c::value>{str("pl_broker"), str("cpu_share"), xmlrpc_c::value_int(8)})});
  require_one(f.from("pl_owner").call("SetLoans", params({str("pl_owner"), loans})));
  {
    std::lock_guard lock{f.world->mutex};
    REQUIRE(f.world->loans["pl_owner"].size() == 1);
    CHECK(f.world->loans["pl_owner"][0] == loan{"pl_owner", "pl_broker", "cpu_share", 8});
  }
  auto got = c.call("GetLoans", params({str("pl_owner")}));
  REQUIRE(got.ok());
  auto list = xmlrpc_c::value_array(*got.result).vectorValueValue();
  REQUIRE(list.size() == 1);
  auto entry = xmlrpc_c::value_array(list[0]).vectorValueValue();
  REQUIRE(entry.size() == 3);
  CHECK(as_string(entry[0]) == "pl_broker");
  CHECK(as_string(entry[1]) == "cpu_share");
  CHECK(as_int(entry[2]) == 8);
}

TEST_CASE("SetLoans refuses malformed loans with 102 before asking", "[local_api]") {
  fixture f;
  auto c = f.from("pl_owner");
  auto loan3 = [](xmlrpc_c::value a, xmlrpc_c::value b, xmlrpc_c::value n) {
    return xmlrpc_c::value_array(
        std::vector<xmlrpc_c::value>{xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{a, b, n})});
  };
  using V = std::vector<xmlrpc_c::value>;
  std::vector<std::pair<xmlrpc_c::value, std::string>> bad = {
      {str("pl_broker"), "got a string"},
      {xmlrpc_c::value_array(V{str("pl_broker")}), "expected a list"},
      {xmlrpc_c::value_array(V{xmlrpc_c::value_array(V{str("pl_broker"), str("cpu_share")})}),
       "expected 3 elements"},
      {loan3(str("pl_broker"), str("cpu_share"), str("8")), "must be an int"},
      {loan3(xmlrpc_c::value_int(1), str("cpu_share"), xmlrpc_c::value_int(8)), "strings"},
      {loan3(str("pl_broker"), str("cpu_share"), xmlrpc_c::value_int(-1)), "negative"},
      {loan3(str("pl_broker"), str("disk_max"), xmlrpc_c::value_int(1)), "cannot be lent"},
      {loan3(str("pl_broker"), str("no_such"), xmlrpc_c::value_int(1)), "cannot be lent"},
  };
  for (const auto& [v, text] : bad)
    require_fault(c.call("SetLoans", params({str("pl_owner"), v})), 102, text);
  CHECK(f.world->take_calls().empty());
  // The node manager refuses an overdraw: 102 with its reason.
  f.world->fail("set_loans",
                make_error(errc::insufficient_allocation, "pl_owner has 32 cpu_share, lends 40"));
  require_fault(
      c.call("SetLoans", params({str("pl_owner"), loan3(str("pl_broker"), str("cpu_share"),
                                                        xmlrpc_c::value_int(40))})),
      102, "lends 40");
}

TEST_CASE("errors of the node manager become the original's faults", "[local_api]") {
  fixture f;
  auto c = f.from("pl_owner");
  f.world->fail("start", make_error(errc::mechanism_failure, "cgroup busy"));
  require_fault(c.call("Start", params({str("pl_owner")})), 104, "cgroup busy");
  f.world->fail("start", make_error(errc::admission_refused, "cpu_pct 90 > 80"));
  require_fault(c.call("Start", params({str("pl_owner")})), 104, "cpu_pct 90 > 80");
  f.world->fail("stop", make_error(errc::permission_denied, "held by admin"));
  require_fault(c.call("Stop", params({str("pl_owner")})), 108, "held by admin");
  f.world->fail("stop", make_error(errc::unknown_sliver, "pl_owner"));
  require_fault(c.call("Stop", params({str("pl_owner")})), 102);

  CHECK(fault_from(make_error(errc::not_loanable, "disk_max"), "SetLoans(x)").code == 102);
  CHECK(fault_from(make_error(errc::expired, "x"), "Start(x)").code == 104);
  CHECK(fault_from(caf::make_error(caf::sec::request_timeout), "Start(x)").text ==
        "Error in call: Start(x): the node manager did not answer in time");
}

TEST_CASE("a node manager that does not answer gives 104, not a hang", "[local_api]") {
  fixture f{300ms};
  {
    std::lock_guard lock{f.world->mutex};
    f.world->silent.push_back("stop");
  }
  require_fault(f.from("pl_owner").call("Stop", params({str("pl_owner")})), 104, "did not answer");
  // A dead node manager: 104 as well.
  caf::anon_send_exit(f.nm, caf::exit_reason::kill);
  f.svc.reset();
  f.start();
  require_fault(f.from("pl_owner").call("Start", params({str("pl_owner")})), 104);
}

TEST_CASE("GetRecord returns the caller's own record", "[local_api]") {
  fixture f;
  auto a = f.from("pl_owner").call("GetRecord");
  REQUIRE(a.ok());
  auto r = as_struct(*a.result);
  CHECK(as_string(r.at("name")) == "pl_owner");
  CHECK(as_string(r.at("instantiation")) == "plc-instantiated");
  CHECK(as_string(r.at("keys")) == "ssh-ed25519 AAAApl_owner a@pl_owner");
  CHECK(as_int(as_struct(r.at("rspec")).at("cpu_share")) == 32);
  CHECK(as_int(as_struct(r.at("_rspec")).at("cpu_share")) == 16);
  auto d = xmlrpc_c::value_array(r.at("delegations")).vectorValueValue();
  REQUIRE(d.size() == 1);
  CHECK(as_string(d[0]) == "pl_broker");
  CHECK(as_string(as_struct(r.at("attributes")).at("vsys")) == "pl_ping");
  CHECK(as_string(r.at("state")) == "running");
  // Another sliver gets its own.
  auto b = f.from("pl_broker").call("GetRecord");
  REQUIRE(b.ok());
  CHECK(as_string(as_struct(*b.result).at("name")) == "pl_broker");
  // Root has no record.
  require_fault(f.root().call("GetRecord"), 102, "root");
  // A socket whose sliver the node manager no longer holds.
  REQUIRE(f.svc->add_sliver("pl_gone"));
  require_fault(f.from("pl_gone").call("GetRecord"), 102, "pl_gone");
}

TEST_CASE("the socket a call arrives on names the caller", "[local_api]") {
  fixture f;
  auto path = f.svc->server().socket_path("pl_owner");
  CHECK(path == f.tmp.dir / "run" / "pl_owner" / "nm.sock");
  struct stat sb {};
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  CHECK(S_ISSOCK(sb.st_mode));
  CHECK((sb.st_mode & 0777) == 0666);
  // The same request is allowed on pl_owner's socket, refused on pl_other's.
  require_one(f.from("pl_owner").call("Stop", params({str("pl_owner")})));
  require_fault(f.from("pl_other").call("Stop", params({str("pl_owner")})), 108);
  // Removed: the socket is gone.
  f.svc->remove_sliver("pl_other");
  CHECK_FALSE(std::filesystem::exists(f.svc->server().socket_path("pl_other")));
  CHECK_THROWS(f.from("pl_other"));
  CHECK(f.svc->server().slivers() == std::vector<std::string>{"pl_broker", "pl_deleg", "pl_owner"});
  // Syncing to a list adds and removes.
  auto failed = f.svc->sync_slivers({"pl_owner", "pl_new", "bad/name"});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].first == "bad/name");
  CHECK(f.svc->server().slivers() == std::vector<std::string>{"pl_new", "pl_owner"});
  CHECK_FALSE(std::filesystem::exists(f.svc->server().socket_path("pl_broker")));
  require_one(f.from("pl_owner").call("Stop", params({str("pl_owner")})));
  // Names that cannot be a sliver's directory.
  for (const std::string& bad :
       std::vector<std::string>{"", "root", "..", "a/b", "pl x", std::string(65, 'a')})
    CHECK_FALSE(f.svc->add_sliver(bad));
}

TEST_CASE("system.multicall keeps the caller of each sub-call", "[local_api]") {
  fixture f;
  auto call = [](const std::string& m, const std::string& target) {
    return xmlrpc_c::value_struct(
        {{"methodName", str(m)},
         {"params", xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{str(target)})}});
  };
  auto a =
      f.from("pl_other")
          .call("system.multicall", params({xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{
                                        call("Start", "pl_other"), call("Start", "pl_owner")})}));
  REQUIRE(a.ok());
  auto results = xmlrpc_c::value_array(*a.result).vectorValueValue();
  REQUIRE(results.size() == 2);
  CHECK(results[0].type() == xmlrpc_c::value::TYPE_ARRAY);
  auto fault = as_struct(results[1]);
  CHECK(as_int(fault.at("faultCode")) == 108);
  CHECK(f.world->take_calls() == std::vector<std::string>{"start pl_other pl_other"});
}

TEST_CASE("the HTTP edge: POST only, at / or /RPC2, bounded bodies", "[local_api]") {
  fixture f;
  auto c = f.root();
  auto get = c.send(bhttp::verb::get, "/", "");
  REQUIRE(get);
  CHECK(get->result() == bhttp::status::method_not_allowed);
  CHECK((*get)[bhttp::field::allow] == "POST");
  std::string xml;
  xmlrpc_c::xml::generateCall("Help", xmlrpc_c::paramList{}, &xml);
  auto elsewhere = c.send(bhttp::verb::post, "/PLCAPI/", xml);
  REQUIRE(elsewhere);
  CHECK(elsewhere->result() == bhttp::status::not_found);
  auto rpc2 = c.send(bhttp::verb::post, "/RPC2", xml);
  REQUIRE(rpc2);
  CHECK(rpc2->result() == bhttp::status::ok);
  auto garbage = c.send(bhttp::verb::post, "/", "<not xml-rpc");
  REQUIRE(garbage);
  CHECK(garbage->result() == bhttp::status::ok); // a fault, in XML-RPC
  CHECK_THAT(garbage->body(), Catch::Contains("fault"));
  // A body announced beyond the limit is refused before it is read.
  auto big = http_client{f.svc->tcp_port()}.raw(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: " +
      std::to_string(5 << 20) + "\r\n\r\n");
  REQUIRE(big);
  CHECK(big->result() == bhttp::status::payload_too_large);
  auto broken = http_client{f.svc->tcp_port()}.raw("POST / HTTP/1.1\r\nHost x\r\n\r\n");
  REQUIRE(broken);
  CHECK(broken->result() == bhttp::status::bad_request);
}

TEST_CASE("a peer check that refuses closes the connection", "[local_api]") {
  fixture f;
  f.svc.reset();
  auto cfg = f.config(10s);
  std::vector<std::pair<std::string, peer_credentials>> seen;
  std::mutex m;
  cfg.server.peer_check = [&](const std::string& sliver, const peer_credentials& p) {
    std::lock_guard lock{m};
    seen.emplace_back(sliver, p);
    return sliver != "pl_other";
  };
  auto s = start_local_api(f.sys, f.nm, cfg, f.clock);
  REQUIRE(s);
  REQUIRE((*s)->add_sliver("pl_owner"));
  REQUIRE((*s)->add_sliver("pl_other"));
  http_client owner{(*s)->server().socket_path("pl_owner")};
  require_one(owner.call("Start", params({str("pl_owner")})));
  http_client other{(*s)->server().socket_path("pl_other")};
  CHECK_FALSE(other.send(bhttp::verb::post, "/", "<x/>"));
  std::lock_guard lock{m};
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].second.pid == ::getpid());
  CHECK(seen[0].second.uid == ::getuid());
}

// -- tickets ---------------------------------------------------------------------

TEST_CASE("Ticket delivers a verified ticket to the node manager once", "[local_api][ticket]") {
  fixture f;
  auto text = f.ticket_for("pl_newslice");
  require_one(f.from("pl_other").call("Ticket", params({str(text)})));
  auto got = f.world->take_redeemed();
  REQUIRE(got.size() == 1);
  const auto& t = got[0];
  CHECK(t.slice_name == "pl_newslice");
  CHECK(t.sliver.name == "pl_newslice");
  CHECK(t.sliver.instantiation == "delegated");
  CHECK(t.sliver.delegations == std::vector<std::string>{"pl_broker"});
  CHECK(t.sliver.resources.value_of("cpu_share") == 64);
  CHECK(t.node_ids == std::vector<std::int32_t>{node_id});
  auto parsed = parse_ticket(text);
  REQUIRE(parsed);
  CHECK(t.blob == parsed->blob());
  CHECK(t.nonce == to_hex(parsed->body.nonce));
  // Presented again, by anyone: replayed.
  require_fault(f.root().call("Ticket", params({str(text)})), 102, "replayed");
  CHECK(f.world->take_redeemed().empty());
}

TEST_CASE("Ticket refuses tampered, foreign, expired, other-node and revoked tickets",
          "[local_api][ticket]") {
  fixture f;
  auto c = f.from("pl_broker");
  SECTION("tampered") {
    auto text = f.ticket_for("pl_a");
    auto i = text.size() / 2;
    text[i] = text[i] == 'A' ? 'B' : 'A';
    require_fault(c.call("Ticket", params({str(text)})), 102, "Ticket error");
  }
  SECTION("not a ticket") {
    require_fault(c.call("Ticket", params({str("hello")})), 102, "malformed");
    require_fault(c.call("Ticket", params({xmlrpc_c::value_int(5)})), 102, "must be a string");
  }
  SECTION("signed by another key") {
    auto other = *signing_key::generate();
    require_fault(c.call("Ticket", params({str(f.ticket_for("pl_a", {node_id}, 3600, &other))})),
                  102, "unknown_key");
  }
  SECTION("expired") {
    auto text = f.ticket_for("pl_a", {node_id}, 60);
    f.clock.advance(60s + 301s); // past expires + skew
    require_fault(c.call("Ticket", params({str(text)})), 102, "expired");
  }
  SECTION("for another node") {
    require_fault(c.call("Ticket", params({str(f.ticket_for("pl_a", {8, 9}))})), 102, "wrong_node");
  }
  SECTION("revoked") {
    auto text = f.ticket_for("pl_a");
    REQUIRE_FALSE(
        f.svc->tickets().revoke_slice("pl_a", f.clock.now_epoch(), f.clock.now_epoch() + 3600));
    require_fault(c.call("Ticket", params({str(text)})), 102, "revoked");
  }
  CHECK(f.world->take_redeemed().empty());
  CHECK(f.svc->tickets().redeemed() == 0);
}

TEST_CASE("the same ticket presented on many connections at once is redeemed once",
          "[local_api][ticket]") {
  fixture f;
  auto text = f.ticket_for("pl_a");
  std::atomic<int> ok{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      auto c = i % 2 ? f.root() : f.from("pl_broker");
      auto a = c.call("Ticket", params({str(text)}));
      if (a.ok())
        ++ok;
      else if (a.fault_code == 102 && a.fault_string.find("replayed") != std::string::npos)
        ++replayed;
    });
  for (auto& t : threads)
    t.join();
  CHECK(ok == 1);
  CHECK(replayed == 5);
  CHECK(f.world->take_redeemed().size() == 1);
}

TEST_CASE("a ticket the node manager refuses is not used up", "[local_api][ticket]") {
  fixture f;
  auto text = f.ticket_for("pl_a");
  f.world->fail("redeem", make_error(errc::admission_refused, "disk pool full"));
  require_fault(f.root().call("Ticket", params({str(text)})), 102, "disk pool full");
  CHECK(f.svc->tickets().redeemed() == 0);
  f.world->clear_failures();
  require_one(f.root().call("Ticket", params({str(text)})));
  CHECK(f.svc->tickets().redeemed() == 1);
}

TEST_CASE("redeemed nonces survive a restart and are pruned after expiry", "[local_api][ticket]") {
  fixture f;
  auto text = f.ticket_for("pl_a", {node_id}, 600);
  auto revoked = f.ticket_for("pl_b", {node_id}, 600);
  require_one(f.root().call("Ticket", params({str(text)})));
  REQUIRE_FALSE(
      f.svc->tickets().revoke_slice("pl_b", f.clock.now_epoch(), f.clock.now_epoch() + 600));
  // Restart: a new service on the same state directory.
  f.svc.reset();
  f.start();
  CHECK(f.svc->tickets().redeemed() == 1);
  require_fault(f.root().call("Ticket", params({str(text)})), 102, "replayed");
  require_fault(f.root().call("Ticket", params({str(revoked)})), 102, "revoked");
  // Past expiry + skew the entries go, from memory and from the state file.
  f.clock.advance(600s + 300s);
  auto fresh = f.ticket_for("pl_c");
  require_one(f.root().call("Ticket", params({str(fresh)})));
  CHECK(f.svc->tickets().size() == 1);
  std::ifstream in{f.tmp.dir / "state" / "tickets.state"};
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("redeemed ") != std::string::npos);
  CHECK(ss.str().find("revoked-slice") == std::string::npos);
  auto parsed = parse_ticket(text);
  CHECK(ss.str().find(to_hex(parsed->body.nonce)) == std::string::npos);
}

TEST_CASE("a damaged ticket state file stops the start with the line", "[local_api][ticket]") {
  fixture f;
  f.svc.reset();
  {
    std::ofstream out{f.tmp.dir / "state" / "tickets.state"};
    out << "pl-ticket-state 1\nredeemed zz 1 2 -\n";
  }
  auto s = start_local_api(f.sys, f.nm, f.config(10s), f.clock);
  REQUIRE_FALSE(s);
  CHECK_THAT(s.error(), Catch::Contains("tickets.state:2"));
}

TEST_CASE("a node without PLC's key refuses every ticket", "[local_api][ticket]") {
  fixture f;
  f.svc.reset();
  auto cfg = f.config(10s);
  cfg.ticket_keys = {};
  auto s = start_local_api(f.sys, f.nm, cfg, f.clock);
  REQUIRE(s);
  http_client c{(*s)->tcp_port()};
  require_fault(c.call("Ticket", params({str(f.ticket_for("pl_a"))})), 102, "no PLC ticket key");
}

// -- a stock client ---------------------------------------------------------------

TEST_CASE("Python's xmlrpc.client talks to both transports", "[local_api][python]") {
  if (std::system("python3 -c 'import xmlrpc.client' >/dev/null 2>&1") != 0) {
    WARN("SKIPPED: python3 is not installed");
    return;
  }
  fixture f;
  auto text = f.ticket_for("pl_py");
  std::string cmd = std::string{"python3 "} + PL_LOCAL_API_CLIENT + " " +
                    std::to_string(f.svc->tcp_port()) + " " +
                    f.svc->server().socket_path("pl_owner").string() + " " + text;
  INFO(cmd);
  CHECK(std::system(cmd.c_str()) == 0);
  CHECK(f.world->take_redeemed().size() == 1);
}
