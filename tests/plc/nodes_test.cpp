// Nodes, Interfaces, NodeTypes, BootStates, NetworkMethods, NetworkTypes and
// the legacy NodeNetwork names through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

#include "plc/api/legacy.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/sessions.hpp"
#include "plc/store/pool.hpp"

#include <set>

using namespace pl::test;

namespace {

std::set<std::string> keys_of(const xv& v) {
  std::set<std::string> out;
  for (auto& [k, _] : xmlrpc_c::value_struct(v).cvalue())
    out.insert(k);
  return out;
}

std::vector<std::string> strs(const xv& v) {
  std::vector<std::string> out;
  for (auto& x : items(v))
    out.push_back(str_of(x));
  return out;
}

/// Returns `base` with `extra` set (xmlrpc_c values cannot be reassigned).
std::map<std::string, xv> with(std::map<std::string, xv> base,
                               const std::map<std::string, xv>& extra) {
  for (auto& [k, v] : extra) {
    base.erase(k);
    base.emplace(k, v);
  }
  return base;
}

const std::map<std::string, xv> static_if = {
    {"method", s("static")},         {"type", s("ipv4")},        {"ip", s("10.1.2.3")},
    {"gateway", s("10.1.2.1")},      {"network", s("10.1.2.0")}, {"broadcast", s("10.1.2.255")},
    {"netmask", s("255.255.255.0")}, {"dns1", s("10.0.0.53")},
};

const std::map<std::string, xv> dhcp_if = {{"method", s("dhcp")}, {"type", s("ipv4")}};

} // namespace

struct node_world : admindb_world {
  std::string host(const std::string& name) { return name + "-" + sfx + ".example.org"; }
  int add_node(const std::string& actor, int site, const std::string& name) {
    return int_of(ok(actor, "AddNode", {i(site), obj({{"hostname", s(host(name))}})}));
  }
  /// Calls with a node's session auth.
  outcome call_as_node(const std::string& key, const std::string& method, std::vector<xv> args) {
    xmlrpc_c::paramList params;
    params.add(obj({{"AuthMethod", s("session")}, {"session", s(key)}}));
    for (auto& a : args)
      params.add(a);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, params, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(api.handle(xml, "127.0.0.1"), &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    return {true, static_cast<int>(out.getFault().getCode()), out.getFault().getDescription(), {}};
  }
  xv node(const std::string& actor, int node_id) {
    auto rows = items(ok(actor, "GetNodes", {arr({i(node_id)})}));
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
};

TEST_CASE_METHOD(node_world, "AddNode applies the defaults and GetNodes returns 5.x fields") {
  int n = int_of(ok(
      "admin", "AddNode",
      {s(base_a), obj({{"hostname", s("Mixed-" + sfx + ".Example.ORG")}, {"model", s("Dell")}})}));
  auto row = node("anonymous", n);
  CHECK(str_of(member(row, "hostname")) == "mixed-" + sfx + ".example.org"); // lowercased
  CHECK(str_of(member(row, "node_type")) == "regular");
  CHECK(str_of(member(row, "boot_state")) == "reinstall");
  CHECK(str_of(member(row, "model")) == "Dell");
  CHECK(int_of(member(row, "site_id")) == site_a);
  CHECK(int_of(member(row, "date_created")) == 1'000'000'000);
  CHECK(member(row, "last_contact").type() == xv::TYPE_NIL);
  CHECK(ints(member(row, "interface_ids")).empty());
  for (const char* f : {"node_id",
                        "node_type",
                        "hostname",
                        "site_id",
                        "boot_state",
                        "run_level",
                        "model",
                        "version",
                        "ssh_rsa_key",
                        "date_created",
                        "last_updated",
                        "last_contact",
                        "last_boot",
                        "last_download",
                        "last_pcu_reboot",
                        "last_pcu_confirmation",
                        "verified",
                        "interface_ids",
                        "conf_file_ids",
                        "slice_ids",
                        "slice_ids_whitelist",
                        "pcu_ids",
                        "ports",
                        "peer_id",
                        "peer_node_id",
                        "node_tag_ids",
                        "nodegroup_ids"})
    CHECK(keys_of(row).count(f) == 1);
  // Sites list their live nodes.
  int m = add_node("admin", site_a, "second");
  auto site = items(ok("admin", "GetSites", {arr({i(site_a)}), arr({s("node_ids")})}))[0];
  CHECK(ints(member(site, "node_ids")) == std::vector<int>{n, m});
  // By hostname, as a list or bare.
  CHECK(ids("user", "GetNodes", {arr({s(host("second"))})}, "node_id") == std::vector<int>{m});
  CHECK(ids("user", "GetNodes", {s(host("second"))}, "node_id") == std::vector<int>{m});
  // The event names the site and the node.
  auto objects = items(ok("admin", "GetEventObjects", {obj({{"call_name", s("AddNode")}})}));
  std::set<std::pair<std::string, int>> touched;
  for (auto& o : objects)
    if (member(o, "object_id").type() != xv::TYPE_NIL)
      touched.emplace(str_of(member(o, "object_type")), int_of(member(o, "object_id")));
  CHECK(touched.count({"Node", m}) == 1);
  CHECK(touched.count({"Site", site_a}) == 1);
}

TEST_CASE_METHOD(node_world, "AddNode and UpdateNode validate hostname, boot_state, node_type") {
  auto add = [&](std::map<std::string, xv> f) {
    return call("admin", "AddNode", {i(site_a), obj(f)});
  };
  for (std::string bad :
       std::vector<std::string>{"nodot", "under_score.example.org", "-lead.example.org",
                                "trail-.example.org", "x.example.c0m", "x.example.toolongtld",
                                "a..b.org", std::string(64, 'a') + ".org", ""}) {
    INFO(bad);
    auto r = add({{"hostname", s(bad)}});
    CHECK(r.code == 102);
    CHECK_THAT(r.text, Catch::Contains("Invalid hostname"));
  }
  CHECK(add({{"model", s("m")}}).code == 102); // hostname is mandatory
  CHECK(add({{"hostname", s(host("bs"))}, {"boot_state", s("dbg")}}).code == 102);
  CHECK(add({{"hostname", s(host("nt"))}, {"node_type", s("nosuch")}}).code == 102);
  CHECK(add({{"hostname", s(host("col"))}, {"bogus", s("x")}}).code == 102);
  CHECK(add({{"hostname", s(host("len"))}, {"version", s(std::string(65, 'v'))}}).code == 102);
  int n = int_of(ok("admin", "AddNode",
                    {i(site_a), obj({{"hostname", s(host("ok"))},
                                     {"boot_state", s("boot")},
                                     {"node_type", s("dummynet")}})}));
  CHECK(str_of(member(node("admin", n), "boot_state")) == "boot");
  CHECK(str_of(member(node("admin", n), "node_type")) == "dummynet");
  // Unique among live nodes, whatever the case.
  auto dup = add({{"hostname", s(host("OK"))}});
  CHECK(dup.code == 102);
  CHECK_THAT(dup.text, Catch::Contains("Hostname already in use"));
  int other = add_node("admin", site_a, "other");
  CHECK(fault("admin", "UpdateNode", {i(other), obj({{"hostname", s(host("ok"))}})}) == 102);
  CHECK(fault("admin", "UpdateNode", {i(n), obj({{"hostname", s(host("ok"))}})}) == 0); // itself
  CHECK(fault("admin", "UpdateNode", {i(n), obj({{"boot_state", s("nosuch")}})}) == 102);
  CHECK(fault("admin", "UpdateNode", {i(n), obj({{"node_type", s("nosuch")}})}) == 102);
  CHECK(fault("admin", "UpdateNode", {i(n), obj({{"hostname", s("bad")}})}) == 102);
  ok("admin", "UpdateNode", {s(host("ok")), obj({{"boot_state", s("safeboot")}})});
  CHECK(str_of(member(node("admin", n), "boot_state")) == "safeboot");
  CHECK(fault("admin", "UpdateNode", {i(999999), obj({})}) == 102);
}

TEST_CASE_METHOD(node_world, "PIs and techs manage the nodes of their sites only") {
  CHECK(fault("pi", "AddNode", {i(site_a), obj({{"hostname", s(host("pi"))}})}) == 0);
  CHECK(fault("tech", "AddNode", {i(site_a), obj({{"hostname", s(host("tech"))}})}) == 0);
  CHECK(fault("pi_b", "AddNode", {i(site_a), obj({{"hostname", s(host("pib"))}})}) == 108);
  CHECK(fault("user", "AddNode", {i(site_a), obj({{"hostname", s(host("u"))}})}) == 103);
  CHECK(fault("anonymous", "AddNode", {i(site_a), obj({{"hostname", s(host("a"))}})}) == 103);
  CHECK(fault("pi", "AddNode", {i(999999), obj({{"hostname", s(host("x"))}})}) == 102);
  int n = add_node("admin", site_a, "managed");
  for (const char* actor : {"pi", "tech"})
    CHECK(fault(actor, "UpdateNode", {i(n), obj({{"model", s(actor)}})}) == 0);
  CHECK(fault("pi_b", "UpdateNode", {i(n), obj({{"model", s("b")}})}) == 108);
  CHECK(fault("user", "UpdateNode", {i(n), obj({{"model", s("u")}})}) == 103);
  CHECK(fault("pi_b", "DeleteNode", {i(n)}) == 108);
  CHECK(fault("user", "DeleteNode", {i(n)}) == 103);
  // A PI through an organization manages the organization's sites' nodes.
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("org" + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id["pi_b"]), i(org)});
  CHECK(fault("pi_b", "UpdateNode", {i(n), obj({{"model", s("org")}})}) == 0);
  // A tech of another site may not.
  add_actor("tech_b", {40}, base_b);
  CHECK(fault("tech_b", "UpdateNode", {i(n), obj({{"model", s("tb")}})}) == 108);
  CHECK(fault("tech_b", "AddNode", {i(site_a), obj({{"hostname", s(host("tb"))}})}) == 108);
  CHECK(fault("tech", "DeleteNode", {i(n)}) == 0);
}

TEST_CASE_METHOD(node_world, "GetNodes hides boot_nonce, key and session from non-admins") {
  int n = add_node("pi", site_a, "secret");
  ok("admin", "UpdateNode", {i(n), obj({{"key", s("KEY")}, {"boot_nonce", s("NONCE")}})});
  // A PI's key is dropped silently, as PLCAPI does.
  ok("pi", "UpdateNode", {i(n), obj({{"key", s("PIKEY")}, {"model", s("M")}})});
  auto admin_row = node("admin", n);
  CHECK(str_of(member(admin_row, "key")) == "KEY");
  CHECK(str_of(member(admin_row, "boot_nonce")) == "NONCE");
  CHECK(str_of(member(admin_row, "model")) == "M");
  CHECK(member(admin_row, "session").type() == xv::TYPE_NIL);
  for (const char* actor : {"pi", "user", "tech", "anonymous"}) {
    INFO(actor);
    auto row = node(actor, n);
    for (const char* hidden : {"key", "boot_nonce", "session"})
      CHECK(keys_of(row).count(hidden) == 0);
    auto asked = items(ok(actor, "GetNodes", {arr({i(n)}), arr({s("key"), s("hostname")})}));
    REQUIRE(asked.size() == 1);
    CHECK(keys_of(asked[0]) == std::set<std::string>{"hostname"});
  }
  auto asked = items(ok("admin", "GetNodes", {arr({i(n)}), arr({s("key")})}));
  CHECK(keys_of(asked[0]) == std::set<std::string>{"key"});
  // The node's session shows to admins.
  std::string key;
  {
    auto conn = pool.acquire();
    key = pl::plc::api::add_node_session(*conn, n, clock);
  }
  CHECK(str_of(member(node("admin", n), "session")) == key);
  // A node is no admin either, and does not manage nodes.
  auto as_node = call_as_node(key, "GetNodes", {arr({i(n)})});
  REQUIRE_FALSE(as_node.is_fault);
  REQUIRE(items(as_node.value).size() == 1);
  for (const char* hidden : {"key", "boot_nonce", "session"})
    CHECK(keys_of(items(as_node.value)[0]).count(hidden) == 0);
  // 108, not 103: a node session survives a refused call (PLCAPI 5.x).
  CHECK(call_as_node(key, "UpdateNode", {i(n), obj({{"model", s("x")}})}).code == 108);
}

TEST_CASE_METHOD(node_world, "DeleteNode soft-deletes with its interfaces and session") {
  int n = add_node("admin", site_a, "doomed");
  int keep = add_node("admin", site_a, "keep");
  int iface = int_of(ok("admin", "AddInterface", {i(n), obj(dhcp_if)}));
  std::string key;
  {
    auto conn = pool.acquire();
    key = pl::plc::api::add_node_session(*conn, n, clock);
  }
  clock.advance(std::chrono::seconds{7});
  ok("pi", "DeleteNode", {s(host("doomed"))});
  CHECK(items(ok("admin", "GetNodes", {arr({i(n)})})).empty());
  CHECK(items(ok("admin", "GetInterfaces", {arr({i(iface)})})).empty());
  CHECK(fault("admin", "UpdateNode", {i(n), obj({})}) == 102);
  CHECK(fault("admin", "DeleteNode", {i(n)}) == 102);
  {
    auto conn = pool.acquire();
    CHECK(conn->exec("SELECT 1 FROM sessions WHERE session_id = $1", {key}).rows() == 0);
  }
  auto site = items(ok("admin", "GetSites", {arr({i(site_a)}), arr({s("node_ids")})}))[0];
  CHECK(ints(member(site, "node_ids")) == std::vector<int>{keep});
  // Admins list deleted nodes; nobody else sees them.
  auto gone = items(ok("admin", "GetNodes", {obj({{"deleted", b(true)}, {"node_id", i(n)}})}));
  REQUIRE(gone.size() == 1);
  CHECK(int_of(member(gone[0], "date_deleted")) == 1'000'000'007);
  CHECK(items(ok("pi", "GetNodes", {obj({{"deleted", b(true)}})})).empty());
  // The hostname is free again.
  CHECK(add_node("admin", site_a, "doomed") != n);
}

TEST_CASE_METHOD(node_world, "DeleteSite deletes the site's nodes") {
  int n = add_node("admin", site_b, "sitegone");
  ok("admin", "DeleteSite", {i(site_b)});
  CHECK(items(ok("admin", "GetNodes", {arr({i(n)})})).empty());
  CHECK(items(ok("admin", "GetNodes", {obj({{"deleted", b(true)}, {"node_id", i(n)}})})).size() ==
        1);
}

TEST_CASE_METHOD(node_world, "BootStates, NodeTypes, NetworkMethods and NetworkTypes") {
  auto states = strs(ok("user", "GetBootStates", {}));
  for (const char* st :
       {"boot", "failboot", "safeboot", "install", "reinstall", "upgrade", "disabled"})
    CHECK(std::count(states.begin(), states.end(), st) == 1);
  auto types = strs(ok("tech", "GetNodeTypes", {}));
  CHECK(std::count(types.begin(), types.end(), "regular") == 1);
  auto methods = strs(ok("pi", "GetNetworkMethods", {}));
  for (const char* m : {"static", "dhcp", "proxy", "tap", "ipmi", "unknown"})
    CHECK(std::count(methods.begin(), methods.end(), m) == 1);
  CHECK(strs(ok("admin", "GetNetworkTypes", {})) == std::vector<std::string>{"ipv4"});

  struct kind {
    const char* singular;
    const char* plural;
  };
  for (kind k : {kind{"BootState", "BootStates"}, kind{"NodeType", "NodeTypes"},
                 kind{"NetworkMethod", "NetworkMethods"}, kind{"NetworkType", "NetworkTypes"}}) {
    INFO(k.singular);
    std::string name = "n" + sfx + k.singular;
    name = name.substr(0, 20);
    CHECK(int_of(ok("admin", std::string{"Add"} + k.singular, {s(name)})) == 1);
    auto listed = strs(ok("admin", std::string{"Get"} + k.plural, {}));
    CHECK(std::count(listed.begin(), listed.end(), name) == 1);
    CHECK(fault("admin", std::string{"Add"} + k.singular, {s(name)}) == 102); // exists
    CHECK(fault("admin", std::string{"Add"} + k.singular, {s("")}) == 102);
    CHECK(fault("admin", std::string{"Add"} + k.singular, {s(std::string(21, 'x'))}) == 102);
    CHECK(fault("pi", std::string{"Add"} + k.singular, {s(name + "x")}) == 103);
    CHECK(int_of(ok("admin", std::string{"Delete"} + k.singular, {s(name)})) == 1);
    CHECK(fault("admin", std::string{"Delete"} + k.singular, {s(name)}) == 102); // gone
  }
  // New values become usable; values in use cannot be deleted.
  std::string st = ("st" + sfx).substr(0, 20);
  ok("admin", "AddBootState", {s(st)});
  int n = int_of(ok("admin", "AddNode",
                    {i(site_a), obj({{"hostname", s(host("st"))}, {"boot_state", s(st)}})}));
  CHECK(fault("admin", "DeleteBootState", {s(st)}) == 102);
  ok("admin", "UpdateNode", {i(n), obj({{"boot_state", s("boot")}})});
  CHECK(fault("admin", "DeleteBootState", {s(st)}) == 0);
  std::string mt = ("mt" + sfx).substr(0, 20);
  ok("admin", "AddNetworkMethod", {s(mt)});
  ok("admin", "AddInterface", {i(n), obj({{"method", s(mt)}, {"type", s("ipv4")}})});
  CHECK(fault("admin", "DeleteNetworkMethod", {s(mt)}) == 102);
}

TEST_CASE_METHOD(node_world, "AddInterface: one primary per node, static rules, MAC form") {
  int n = add_node("admin", site_a, "if");
  int first = int_of(ok("tech", "AddInterface", {i(n), obj(static_if)}));
  auto row = items(ok("anonymous", "GetInterfaces", {arr({i(first)})}))[0];
  CHECK(xmlrpc_c::value_boolean(member(row, "is_primary")).cvalue()); // the first is primary
  CHECK(int_of(member(row, "node_id")) == n);
  CHECK(str_of(member(row, "ip")) == "10.1.2.3");
  for (const char* f : {"interface_id", "method", "type", "ip", "mac", "gateway", "network",
                        "broadcast", "netmask", "dns1", "dns2", "bwlimit", "hostname", "node_id",
                        "is_primary", "interface_tag_ids", "last_updated"})
    CHECK(keys_of(row).count(f) == 1);
  // By ip, bare or in a list.
  CHECK(ids("user", "GetInterfaces", {s("10.1.2.3")}, "interface_id") == std::vector<int>{first});
  auto add = [&](std::map<std::string, xv> f) {
    return call("admin", "AddInterface", {i(n), obj(f)});
  };
  auto second = add(with(dhcp_if, {{"is_primary", b(true)}}));
  CHECK(second.code == 102);
  CHECK_THAT(second.text, Catch::Contains("one primary"));
  // Static: ip, network, broadcast, netmask always; gateway and dns1 when primary.
  for (const char* k : {"ip", "network", "broadcast", "netmask"}) {
    std::map<std::string, xv> f = static_if;
    f.erase(k);
    f.erase("gateway");
    f.erase("dns1");
    INFO(k);
    CHECK(add(f).code == 102);
  }
  std::map<std::string, xv> no_gw = static_if;
  no_gw.erase("gateway");
  no_gw.erase("dns1");
  CHECK(add(no_gw).code == 0); // not primary: no gateway needed
  int n2 = add_node("admin", site_a, "if2");
  for (const char* k : {"gateway", "dns1"}) {
    std::map<std::string, xv> f = static_if;
    f.erase(k);
    INFO(k);
    CHECK(call("admin", "AddInterface", {i(n2), obj(f)}).code == 102); // would be primary
  }
  auto bad = [&](std::map<std::string, xv> extra, const char* text) {
    std::map<std::string, xv> f = static_if;
    f.erase("gateway");
    f.erase("dns1");
    for (auto& [k, v] : extra) {
      f.erase(k);
      f.emplace(k, v);
    }
    auto r = add(f);
    INFO(text);
    CHECK(r.code == 102);
    CHECK_THAT(r.text, Catch::Contains(text));
  };
  bad({{"ip", s("10.1.3.3")}}, "inconsistent with network");
  bad({{"broadcast", s("10.1.3.255")}}, "Broadcast address");
  bad({{"gateway", s("10.9.9.1")}}, "not reachable");
  bad({{"ip", s("10.1.2.300")}}, "Invalid IP address");
  bad({{"dns2", s("nameserver")}}, "Invalid IP address");
  bad({{"method", s("carrier-pigeon")}}, "Invalid addressing method");
  bad({{"type", s("ipv7")}}, "Invalid address type");
  bad({{"bwlimit", i(1000)}}, "Minimum bw");
  bad({{"mac", s("00:11:22:33:44")}}, "Invalid MAC address");
  bad({{"mac", s("00:11:22:33:44:1ff")}}, "Invalid MAC address");
  bad({{"mac", s("00:11:22:33:44:zz")}}, "Invalid MAC address");
  bad({{"hostname", s("not a host")}}, "Invalid hostname");
  CHECK(add(with(dhcp_if, {{"bwlimit", i(500000)}})).code == 0);
  CHECK(add({{"method", s("dhcp")}}).code == 102); // type is mandatory
  // Proxy and tap: ip, no mac; tap also a gateway. ipmi: ip.
  CHECK(add({{"method", s("proxy")}, {"type", s("ipv4")}}).code == 102);
  CHECK(add({{"method", s("proxy")},
             {"type", s("ipv4")},
             {"ip", s("10.5.5.5")},
             {"mac", s("00:11:22:33:44:55")}})
            .code == 102);
  CHECK(add({{"method", s("proxy")}, {"type", s("ipv4")}, {"ip", s("10.5.5.5")}}).code == 0);
  CHECK(add({{"method", s("tap")}, {"type", s("ipv4")}, {"ip", s("10.5.5.6")}}).code == 102);
  CHECK(add({{"method", s("tap")},
             {"type", s("ipv4")},
             {"ip", s("10.5.5.6")},
             {"gateway", s("10.5.5.1")}})
            .code == 0);
  CHECK(add({{"method", s("ipmi")}, {"type", s("ipv4")}}).code == 102);
  // The MAC address is normalised.
  int m =
      int_of(ok("admin", "AddInterface", {i(n), obj(with(dhcp_if, {{"mac", s("0:1:2:A:b:FF")}}))}));
  auto mrow = items(ok("admin", "GetInterfaces", {arr({i(m)})}))[0];
  CHECK(str_of(member(mrow, "mac")) == "00:01:02:0a:0b:ff");
  CHECK_FALSE(xmlrpc_c::value_boolean(member(mrow, "is_primary")).cvalue());
  auto node_row = node("admin", n);
  CHECK(ints(member(node_row, "interface_ids")).front() == first); // primary first
}

TEST_CASE_METHOD(node_world, "UpdateInterface and DeleteInterface: checks and rights") {
  int n = add_node("admin", site_a, "up");
  int first = int_of(ok("pi", "AddInterface", {s(host("up")), obj(static_if)}));
  int other = int_of(ok("admin", "AddInterface", {i(n), obj(dhcp_if)}));
  // The stored values count: moving the ip out of the network is refused.
  CHECK(fault("admin", "UpdateInterface", {i(first), obj({{"ip", s("10.7.7.7")}})}) == 102);
  CHECK(fault("admin", "UpdateInterface", {i(first), obj({{"gateway", nil}})}) == 102);
  CHECK(fault("admin", "UpdateInterface", {i(first), obj({{"ip", s("10.1.2.9")}})}) == 0);
  CHECK(fault("admin", "UpdateInterface", {i(other), obj({{"is_primary", b(true)}})}) == 102);
  ok("admin", "UpdateInterface", {i(first), obj({{"is_primary", b(false)}})});
  ok("admin", "UpdateInterface", {i(other), obj({{"is_primary", b(true)}})});
  CHECK(ints(member(node("admin", n), "interface_ids")) == std::vector<int>{other, first});
  ok("admin", "UpdateInterface", {i(other), obj({{"mac", s("AA:BB:CC:DD:EE:0")}})});
  auto row = items(ok("admin", "GetInterfaces", {arr({i(other)})}))[0];
  CHECK(str_of(member(row, "mac")) == "aa:bb:cc:dd:ee:00");
  CHECK(fault("tech", "UpdateInterface", {i(other), obj({{"dns2", s("10.0.0.2")}})}) == 0);
  CHECK(fault("pi_b", "UpdateInterface", {i(other), obj({{"dns2", s("10.0.0.3")}})}) == 108);
  CHECK(fault("user", "UpdateInterface", {i(other), obj({{"dns2", s("10.0.0.3")}})}) == 103);
  CHECK(fault("pi_b", "AddInterface", {i(n), obj(dhcp_if)}) == 108);
  CHECK(fault("pi_b", "DeleteInterface", {i(other)}) == 108);
  CHECK(fault("admin", "UpdateInterface", {i(999999), obj({})}) == 102);
  CHECK(fault("pi", "DeleteInterface", {i(other)}) == 0);
  CHECK(items(ok("admin", "GetInterfaces", {arr({i(other)})})).empty());
  CHECK(fault("pi", "DeleteInterface", {i(other)}) == 102);
}

TEST_CASE_METHOD(node_world, "Node and interface tags: rights, filters, cascades") {
  int n = add_node("admin", site_a, "tagged");
  int other = add_node("admin", site_a, "untagged");
  // arch: admin, pi, user, tech may set it, at the node's site.
  int t = int_of(ok("user", "AddNodeTag", {i(n), s("arch"), s("x86_64")}));
  CHECK(fault("user_b", "AddNodeTag", {i(other), s("arch"), s("i386")}) == 108);  // other site
  CHECK(fault("tech", "AddNodeTag", {i(n), s("deployment"), s("alpha")}) == 108); // admin only
  CHECK(fault("admin", "AddNodeTag", {i(n), s("deployment"), s("alpha")}) == 0);
  CHECK(fault("pi", "AddNodeTag", {i(n), s("arch"), s("again")}) == 102); // one per type
  ok("tech", "UpdateNodeTag", {i(t), s("aarch64")});
  CHECK(fault("user_b", "UpdateNodeTag", {i(t), s("x")}) == 108);
  // Tag names are GetNodes fields.
  CHECK(ids("anonymous", "GetNodes", {obj({{"arch", s("aarch64")}})}, "node_id") ==
        std::vector<int>{n});
  auto row = items(ok("user", "GetNodes", {arr({i(n)}), arr({s("hostname"), s("arch")})}))[0];
  CHECK(str_of(member(row, "arch")) == "aarch64");
  auto bare = items(ok("user", "GetNodes", {arr({i(other)}), arr({s("arch")})}))[0];
  CHECK(member(bare, "arch").type() == xv::TYPE_NIL);
  CHECK(ints(member(node("admin", n), "node_tag_ids")).size() == 3); // arch, deployment, hrn
  auto tags = items(ok("tech", "GetNodeTags", {obj({{"node_id", i(n)}, {"tagname", s("arch")}})}));
  REQUIRE(tags.size() == 1);
  CHECK(str_of(member(tags[0], "hostname")) == host("tagged"));
  CHECK(str_of(member(tags[0], "value")) == "aarch64");
  // Interface tags: ifname is for admin, pi and tech.
  int iface = int_of(ok("admin", "AddInterface", {i(n), obj(dhcp_if)}));
  int it = int_of(ok("pi", "AddInterfaceTag", {i(iface), s("ifname"), s("eth0")}));
  CHECK(fault("user", "AddInterfaceTag", {i(iface), s("driver"), s("e1000")}) == 108);
  CHECK(fault("pi_b", "AddInterfaceTag", {i(iface), s("driver"), s("e1000")}) == 108);
  CHECK(ids("user", "GetInterfaces", {obj({{"ifname", s("eth0")}})}, "interface_id") ==
        std::vector<int>{iface});
  auto irow = items(ok("admin", "GetInterfaces", {arr({i(iface)})}))[0];
  CHECK(ints(member(irow, "interface_tag_ids")) == std::vector<int>{it});
  CHECK(fault("user", "DeleteInterfaceTag", {i(it)}) == 108);
  // Deleting the interface takes its tags; deleting the node its tags.
  ok("admin", "DeleteInterface", {i(iface)});
  CHECK(items(ok("admin", "GetInterfaceTags", {arr({i(it)})})).empty());
  ok("admin", "DeleteNode", {i(n)});
  CHECK(items(ok("admin", "GetNodeTags", {arr({i(t)})})).empty());
  CHECK(fault("admin", "UpdateNodeTag", {i(t), s("x")}) == 102);
}

TEST_CASE_METHOD(node_world, "NodeNetwork legacy names rename filters, return_fields, results") {
  int n = add_node("admin", site_a, "legacy");
  int a = int_of(ok("pi", "AddNodeNetwork", {i(n), obj(static_if)}));
  int b2 = int_of(ok("admin", "AddNodeNetwork", {s(host("legacy")), obj(dhcp_if)}));
  auto rows = items(ok("anonymous", "GetNodeNetworks", {obj({{"nodenetwork_id", i(a)}})}));
  REQUIRE(rows.size() == 1);
  CHECK(int_of(member(rows[0], "nodenetwork_id")) == a);
  CHECK(keys_of(rows[0]).count("interface_id") == 0);
  CHECK(keys_of(rows[0]).count("nodenetwork_setting_ids") == 1); // interface_tag_ids
  CHECK(keys_of(rows[0]).count("interface_tag_ids") == 0);
  // return_fields, modifiers and -SORT use the old names too.
  auto picked = items(ok("user", "GetNodeNetworks",
                         {obj({{"node_id", i(n)}, {"-SORT", s("-nodenetwork_id")}}),
                          arr({s("nodenetwork_id"), s("ip")})}));
  REQUIRE(picked.size() == 2);
  CHECK(keys_of(picked[0]) == std::set<std::string>{"nodenetwork_id", "ip"});
  CHECK(int_of(member(picked[0], "nodenetwork_id")) == b2);
  CHECK(ids("user", "GetNodeNetworks", {obj({{"node_id", i(n)}, {"~nodenetwork_id", i(a)}})},
            "nodenetwork_id") == std::vector<int>{b2});
  CHECK(ids("user", "GetNodeNetworks", {arr({i(a)})}, "nodenetwork_id") == std::vector<int>{a});
  CHECK(fault("user", "GetNodeNetworks", {obj({{"interface_idx", i(a)}})}) == 102);
  // Update and delete through the old names, with the same rights.
  CHECK(fault("pi_b", "UpdateNodeNetwork", {i(b2), obj({{"dns1", s("10.0.0.9")}})}) == 108);
  ok("tech", "UpdateNodeNetwork", {i(b2), obj({{"dns1", s("10.0.0.9")}})});
  CHECK(str_of(member(items(ok("admin", "GetInterfaces", {arr({i(b2)})}))[0], "dns1")) ==
        "10.0.0.9");
  ok("pi", "DeleteNodeNetwork", {i(b2)});
  CHECK(items(ok("admin", "GetInterfaces", {arr({i(b2)})})).empty());
  // Signatures carry the old parameter names in the help, and the same counts.
  auto sigs = items(ok("admin", "system.methodSignature", {s("GetNodeNetworks")}));
  CHECK(sigs.size() == 3);
  CHECK_THAT(str_of(ok("admin", "system.methodHelp", {s("AddNodeNetwork")})),
             Catch::Contains("AddInterface"));
}

TEST_CASE("the renaming wrapper works for any method and rename map") {
  using namespace pl::plc::api;
  rename_map m{{{"attribute_id", "tag_id"}, {"name", "tagname"}},
               {{"SliceAttribute", "SliceTag"}, {"slice_attribute", "slice_tag"}}};
  CHECK(m.legacy_words("GetSliceTags") == "GetSliceAttributes");
  CHECK(m.legacy_words("slice_tag_filter") == "slice_attribute_filter");
  auto filter = legacy_to_current(obj({{"attribute_id", i(1)},
                                       {"]name", s("x")},
                                       {"-SORT", arr({s("-name"), s("other")})},
                                       {"value", s("name")}}),
                                  m);
  auto f = xmlrpc_c::value_struct(filter).cvalue();
  CHECK(f.count("tag_id") == 1);
  CHECK(f.count("]tagname") == 1);
  CHECK(strs(f.at("-SORT")) == std::vector<std::string>{"-tagname", "other"});
  CHECK(str_of(f.at("value")) == "name"); // values are not field names
  CHECK(strs(legacy_to_current(arr({s("attribute_id"), s("value")}), m)) ==
        std::vector<std::string>{"tag_id", "value"});
  auto result = current_to_legacy(
      arr({obj({{"tag_id", i(3)}, {"tagname", s("t")}, {"nested", obj({{"tag_id", i(4)}})}})}), m);
  auto r = xmlrpc_c::value_struct(items(result)[0]).cvalue();
  CHECK(int_of(r.at("attribute_id")) == 3);
  CHECK(str_of(r.at("name")) == "t");
  CHECK(int_of(member(r.at("nested"), "attribute_id")) == 4);
  // A wrapped method sees current names and its result goes back renamed.
  method_spec inner{"GetSliceTags",
                    {role::admin},
                    {{"slice_tag_filter", xml_type::any}},
                    xml_type::array,
                    "help",
                    [](call_context&, const std::vector<xv>& args) {
                      auto keys = xmlrpc_c::value_struct(args[0]).cvalue();
                      CHECK(keys.count("tag_id") == 1);
                      return arr({obj({{"tag_id", i(7)}})});
                    }};
  auto legacy = legacy_method(inner, m);
  CHECK(legacy.name == "GetSliceAttributes");
  CHECK(legacy.params[0].name == "slice_attribute_filter");
  CHECK(legacy.roles == inner.roles);
  pl::manual_clock clock;
  pl::plc::api::services svc{nullptr, &clock, nullptr, nullptr};
  std::string peer = "127.0.0.1";
  call_context ctx{svc, peer, {}};
  auto out = legacy.handler(ctx, {obj({{"attribute_id", i(7)}})});
  CHECK(int_of(member(items(out)[0], "attribute_id")) == 7);
}

TEST_CASE("hostnames and MAC addresses follow PLCAPI's rules") {
  using pl::plc::api::normalize_mac;
  using pl::plc::api::valid_hostname;
  CHECK(valid_hostname("planetlab1.cs.princeton.edu"));
  CHECK(valid_hostname("A-1.B.ORG"));
  CHECK_FALSE(valid_hostname("localhost"));
  CHECK_FALSE(valid_hostname("x.y.1234567"));
  CHECK(normalize_mac("a:b:c:d:e:f") == "0a:0b:0c:0d:0e:0f");
  CHECK(normalize_mac("00:11:22:33:44:55:66:77") == "00:11:22:33:44:55:66:77");
  CHECK_THROWS(normalize_mac("00-11-22-33-44-55"));
  CHECK_THROWS(normalize_mac("00:11:22:33:44:"));
}
