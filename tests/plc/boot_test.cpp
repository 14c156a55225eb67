// The boot-time methods through the dispatcher on the scratch database:
// BootGetNodeDetails, BootUpdateNode, BootNotifyOwners, GenerateNodeConfFile
// (plnode.txt and key regeneration), GetNodeFlavour and ReportRunlevel.
#include "boot_world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <vector>

using namespace pl::test;
using namespace std::chrono_literals;

namespace {

const std::string key = "bootKey0123456789abcdefghijklmnopqrstuvwxyzA";

/// Returns the number of events named `call` for node `node_id`.
int events_of(boot_world& w, const std::string& call, int node_id) {
  auto rows = items(w.ok("admin", "GetEvents",
                         {obj({{"call_name", s(call)}, {"node_id", i(node_id)}}),
                          arr({s("event_id"), s("message")})}));
  return static_cast<int>(rows.size());
}

int interface_of(boot_world& w, int node) {
  return ints(member(items(w.ok("admin", "GetNodes", {i(node), arr({s("interface_ids")})}))[0],
                     "interface_ids"))
      .at(0);
}

xv interface_row(boot_world& w, int interface_id) {
  return items(w.ok("admin", "GetInterfaces", {i(interface_id)})).at(0);
}

} // namespace

TEST_CASE("BootGetNodeDetails: the node's record, a new session and its networks") {
  boot_world w;
  std::string host = "details-" + w.sfx + ".test.org";
  int node = w.add_node(w.base_a, host, key);
  auto details = w.node_ok(node, key, "BootGetNodeDetails", {});
  CHECK(str_of(member(details, "hostname")) == host);
  CHECK(str_of(member(details, "boot_state")) == "reinstall");
  CHECK(str_of(member(details, "model")).empty()); // nil becomes "" for BootManager
  std::string session = str_of(member(details, "session"));
  CHECK(int_of(w.call_as(boot_world::session(session), "AuthCheck", {}).value) == 1);
  auto networks = items(member(details, "networks"));
  REQUIRE(networks.size() == 1);
  CHECK(str_of(member(networks[0], "ip")) == "10.0.1.5");
  CHECK(str_of(member(networks[0], "mac")) == "00:16:3e:aa:bb:cc");
  CHECK(member(networks[0], "is_primary").type() == xv::TYPE_BOOLEAN);
  CHECK(str_of(member(networks[0], "dns2")).empty());
  CHECK(str_of(member(networks[0], "bwlimit")).empty());
  // hmac only, as PLCAPI declares it; persons cannot call it at all.
  CHECK(w.call_as(boot_world::session(session), "BootGetNodeDetails", {}).code == 102);
  CHECK(w.fault("admin", "BootGetNodeDetails", {}) == 103);
  // A second call makes a new session; the first one is gone.
  auto again = w.node_ok(node, key, "BootGetNodeDetails", {});
  CHECK(str_of(member(again, "session")) != session);
  CHECK(w.call_as(boot_world::session(session), "AuthCheck", {}).code == 103);
  // Without interfaces there is no networks member.
  int bare = int_of(w.ok("admin", "AddNode",
                         {s(w.base_a), obj({{"hostname", s("bare-" + w.sfx + ".test.org")}})}));
  w.ok("admin", "UpdateNode", {i(bare), obj({{"key", s(key)}})});
  CHECK_FALSE(has_key(w.node_ok(bare, key, "BootGetNodeDetails", {}), "networks"));
}

TEST_CASE("BootUpdateNode: boot_state, ssh key and the primary network") {
  boot_world w;
  int node = w.add_node(w.base_a, "upd-" + w.sfx + ".test.org", key);
  int iface = interface_of(w, node);
  CHECK(int_of(w.node_ok(node, key, "BootUpdateNode", {obj({{"boot_state", s("boot")}})})) == 1);
  CHECK(w.node_column(node, "boot_state") == "boot");
  CHECK(events_of(w, "BootUpdateNode", node) == 1);
  // Unchanged: nothing is recorded (nodes call this at every boot).
  w.node_ok(node, key, "BootUpdateNode", {obj({{"boot_state", s("boot")}})});
  CHECK(events_of(w, "BootUpdateNode", node) == 1);
  // An unknown boot state is refused and changes nothing.
  auto bad = w.node_call(node, key, "BootUpdateNode",
                         {obj({{"boot_state", s("flying")}, {"ssh_rsa_key", s("ssh-rsa NEW")}})});
  CHECK(bad.code == 102);
  CHECK_THAT(bad.text, Catch::Contains("Invalid boot state 'flying'"));
  CHECK(w.node_column(node, "ssh_rsa_key").empty());
  CHECK(w.node_call(node, key, "BootUpdateNode", {obj({{"boot_state", i(3)}})}).code == 102);
  // BootManager 3.x's ssh_host_key is the ssh_rsa_key field.
  w.node_ok(node, key, "BootUpdateNode", {obj({{"ssh_host_key", s("ssh-rsa OLDBM")}})});
  CHECK(w.node_column(node, "ssh_rsa_key") == "ssh-rsa OLDBM");
  w.node_ok(node, key, "BootUpdateNode", {obj({{"ssh_rsa_key", s("ssh-rsa HOSTKEY")}})});
  CHECK(w.node_column(node, "ssh_rsa_key") == "ssh-rsa HOSTKEY");

  // The primary network: method, mac, gateway, network, broadcast, netmask,
  // dns1, dns2 only; the IP address stays.
  w.node_ok(node, key, "BootUpdateNode",
            {obj({{"primary_network", obj({{"interface_id", i(iface)},
                                           {"dns2", s("10.0.0.54")},
                                           {"mac", s("00:16:3E:00:00:01")},
                                           {"ip", s("10.0.1.99")}})}})});
  auto row = interface_row(w, iface);
  CHECK(str_of(member(row, "dns2")) == "10.0.0.54");
  CHECK(str_of(member(row, "mac")) == "00:16:3e:00:00:01");
  CHECK(str_of(member(row, "ip")) == "10.0.1.5");
  auto missing = w.node_call(node, key, "BootUpdateNode",
                             {obj({{"primary_network", obj({{"dns2", s("10.0.0.55")}})}})});
  CHECK(missing.code == 102);
  CHECK_THAT(missing.text, Catch::Contains("Interface not specified"));
  // Another node's interface.
  int other = w.add_node(w.base_b, "other-" + w.sfx + ".test.org", key);
  auto foreign =
      w.node_call(node, key, "BootUpdateNode",
                  {obj({{"primary_network", obj({{"interface_id", i(interface_of(w, other))}})}})});
  CHECK(foreign.code == 102);
  CHECK_THAT(foreign.text, Catch::Contains("Interface not associated with calling node"));
  // A secondary interface.
  int second = int_of(
      w.ok("admin", "AddInterface", {i(node), obj({{"method", s("dhcp")}, {"type", s("ipv4")}})}));
  auto secondary = w.node_call(
      node, key, "BootUpdateNode",
      {obj({{"primary_network", obj({{"interface_id", i(second)}, {"method", s("dhcp")}})}})});
  CHECK(secondary.code == 102);
  CHECK_THAT(secondary.text, Catch::Contains("Not the primary interface on record"));
  // A gateway outside the network is refused, and the boot_state sent with
  // it is not applied either.
  auto unreachable = w.node_call(
      node, key, "BootUpdateNode",
      {obj({{"boot_state", s("safeboot")},
            {"primary_network", obj({{"interface_id", i(iface)}, {"gateway", s("10.9.9.1")}})}})});
  CHECK(unreachable.code == 102);
  CHECK(w.node_column(node, "boot_state") == "boot");
  CHECK(str_of(member(interface_row(w, iface), "gateway")) == "10.0.1.1");
  // Session auth works too.
  std::string session = str_of(w.node_ok(node, key, "GetSession", {}));
  CHECK_FALSE(w.call_as(boot_world::session(session), "BootUpdateNode",
                        {obj({{"boot_state", s("safeboot")}})})
                  .is_fault);
  CHECK(w.node_column(node, "boot_state") == "safeboot");
  // Persons cannot call it.
  CHECK(w.fault("admin", "BootUpdateNode", {obj({{"boot_state", s("boot")}})}) == 103);
}

TEST_CASE("BootUpdateNode: a plain call records the boot and the time on- and offline") {
  boot_world w;
  int node = w.add_node(w.base_a, "times-" + w.sfx + ".test.org", key);
  std::int64_t t0 = w.clock.now_epoch();
  w.node_ok(node, key, "BootUpdateNode", {obj({})});
  CHECK(w.node_column(node, "extract(epoch from last_boot)::bigint") == std::to_string(t0));
  CHECK(w.node_column(node, "extract(epoch from last_contact)::bigint") == std::to_string(t0));
  CHECK(w.node_column(node, "last_time_spent_online").empty());
  // Online for 100 s (its last contact), then off for 300 s, then it boots.
  w.clock.advance(100s);
  w.node_ok(node, key, "ReportRunlevel", {obj({{"run_level", s("boot")}})});
  w.clock.advance(300s);
  w.node_ok(node, key, "BootUpdateNode", {obj({})});
  CHECK(w.node_column(node, "last_time_spent_online") == "100");
  CHECK(w.node_column(node, "last_time_spent_offline") == "300");
  CHECK(w.node_column(node, "extract(epoch from last_boot)::bigint") == std::to_string(t0 + 400));
  auto shown = items(w.ok("pi", "GetNodes", {i(node), arr({s("last_time_spent_online")})}));
  CHECK(int_of(member(shown.at(0), "last_time_spent_online")) == 100);
  // With boot_state (or ssh_rsa_key) it is not a boot: the times stay.
  w.clock.advance(50s);
  w.node_ok(node, key, "BootUpdateNode", {obj({{"boot_state", s("boot")}})});
  CHECK(w.node_column(node, "extract(epoch from last_boot)::bigint") == std::to_string(t0 + 400));
  // A PCU reboot within 20 minutes gets the credit.
  {
    auto conn = w.pool.acquire();
    conn->exec("UPDATE nodes SET last_pcu_reboot = to_timestamp($2::bigint) WHERE node_id = $1",
               {std::to_string(node), std::to_string(w.clock.now_epoch() - 600)});
  }
  w.node_ok(node, key, "BootUpdateNode", {obj({})});
  CHECK(w.node_column(node, "extract(epoch from last_pcu_confirmation)::bigint") ==
        std::to_string(w.clock.now_epoch()));
  {
    auto conn = w.pool.acquire();
    conn->exec("UPDATE nodes SET last_pcu_reboot = to_timestamp($2::bigint),"
               " last_pcu_confirmation = NULL WHERE node_id = $1",
               {std::to_string(node), std::to_string(w.clock.now_epoch() - 1300)});
  }
  w.node_ok(node, key, "BootUpdateNode", {obj({})});
  CHECK(w.node_column(node, "last_pcu_confirmation").empty());
}

TEST_CASE("BootNotifyOwners: the boot address, and PIs, techs and support as asked") {
  boot_world w;
  std::string host = "notify-" + w.sfx + ".test.org";
  int node = w.add_node(w.base_a, host, key);
  auto notify = [&](xv pis, xv techs, xv support) {
    return w.node_call(node, key, "BootNotifyOwners", {s("installfinished"), pis, techs, support});
  };
  // The spool is not ordered: each step takes the one mail it has not seen.
  std::vector<std::string> seen;
  auto fresh = [&] {
    std::vector<std::string> added;
    for (auto& m : w.mails())
      if (std::find(seen.begin(), seen.end(), m) == seen.end())
        added.push_back(m);
    REQUIRE(added.size() == 1);
    seen.push_back(added[0]);
    return added[0];
  };
  REQUIRE_FALSE(notify(i(0), i(0), i(0)).is_fault);
  std::string mail = fresh();
  CHECK(mail_header(mail, "To") == "To: \"Boot Messages\" <boot@testlab.org>");
  CHECK(mail_header(mail, "Subject") == "Subject: " + host + " completed installation");
  CHECK_THAT(mail, Catch::Contains(host + " just completed installation."));

  REQUIRE_FALSE(notify(i(1), i(0), i(0)).is_fault);
  std::string to = mail_header(fresh(), "To");
  CHECK_THAT(to, Catch::Contains(w.email["pi"]) && !Catch::Contains(w.email["tech"]) &&
                     !Catch::Contains(w.email["user"]) && !Catch::Contains("support@"));
  CHECK_THAT(to, Catch::Contains("\"pi Test\""));
  // Python's bool is an int: True and False are accepted.
  REQUIRE_FALSE(notify(b(false), b(true), b(true)).is_fault);
  to = mail_header(fresh(), "To");
  CHECK_THAT(to, Catch::Contains(w.email["tech"]) && !Catch::Contains(w.email["pi"]) &&
                     Catch::Contains("\"TestLab Support\" <support@testlab.org>") &&
                     Catch::Contains("boot@testlab.org"));
  // Only this site's people.
  CHECK_THAT(to, !Catch::Contains(w.email["pi_b"]));
  // An unknown or disabled template: 1, and no mail (PLCAPI logs it).
  CHECK(int_of(w.node_ok(node, key, "BootNotifyOwners", {s("nosuchmessage"), i(1), i(1), i(1)})) ==
        1);
  w.ok("admin", "UpdateMessage", {s("notinstalled"), obj({{"enabled", b(false)}})});
  w.node_ok(node, key, "BootNotifyOwners", {s("notinstalled"), i(1), i(1), i(1)});
  CHECK(w.mails().size() == 3);
  w.ok("admin", "UpdateMessage", {s("notinstalled"), obj({{"enabled", b(true)}})});
  // Bad flags; persons may not call it.
  CHECK(notify(s("yes"), i(0), i(0)).code == 102);
  CHECK(w.fault("admin", "BootNotifyOwners", {s("installfinished"), i(1), i(1), i(1)}) == 103);
  CHECK(events_of(w, "BootNotifyOwners", node) >= 3);
}

TEST_CASE("GenerateNodeConfFile: plnode.txt, and a new key that replaces the old one") {
  boot_world w;
  std::string host = "conf-" + w.sfx + ".test.org";
  int node = w.add_node(w.base_a, host, key);
  std::string file = str_of(w.ok("pi", "GenerateNodeConfFile", {i(node)}));
  auto admin_view = items(w.ok("admin", "GetNodes", {i(node), arr({s("key")})}));
  std::string new_key = str_of(member(admin_view.at(0), "key"));
  CHECK(new_key != key);
  CHECK(new_key.size() == 43); // base64 of 32 bytes without "="
  CHECK(new_key.find('=') == std::string::npos);
  std::string domain = host.substr(host.find('.') + 1);
  CHECK(file == "NODE_ID=\"" + std::to_string(node) +
                    "\"\n"
                    "NODE_KEY=\"" +
                    new_key +
                    "\"\n"
                    "NET_DEVICE=\"00:16:3e:aa:bb:cc\"\n"
                    "IP_METHOD=\"static\"\n"
                    "IP_ADDRESS=\"10.0.1.5\"\n"
                    "IP_GATEWAY=\"10.0.1.1\"\n"
                    "IP_NETMASK=\"255.255.255.0\"\n"
                    "IP_NETADDR=\"10.0.1.0\"\n"
                    "IP_BROADCASTADDR=\"10.0.1.255\"\n"
                    "IP_DNS1=\"10.0.0.53\"\n"
                    "IP_DNS2=\"\"\n"
                    "HOST_NAME=\"conf-" +
                    w.sfx +
                    "\"\n"
                    "DOMAIN_NAME=\"" +
                    domain + "\"\n");
  // The old key no longer authenticates; the new one does.
  CHECK(w.node_call(node, key, "AuthCheck", {}).code == 103);
  CHECK(int_of(w.node_ok(node, new_key, "AuthCheck", {})) == 1);
  // regenerate_node_key = False keeps the key.
  std::string same = str_of(w.ok("tech", "GenerateNodeConfFile", {s(host), b(false)}));
  CHECK_THAT(same, Catch::Contains("NODE_KEY=\"" + new_key + "\"\n"));
  CHECK_FALSE(w.node_call(node, new_key, "AuthCheck", {}).is_fault);
  // Each generation makes a different key.
  std::string third = str_of(w.ok("admin", "GenerateNodeConfFile", {i(node), b(true)}));
  CHECK_THAT(third, !Catch::Contains(new_key));

  // Who may: admins, and PIs and techs of the node's site.
  CHECK(w.fault("pi_b", "GenerateNodeConfFile", {i(node)}) == 108);
  CHECK(w.fault("user", "GenerateNodeConfFile", {i(node)}) == 103);
  CHECK(w.fault("admin", "GenerateNodeConfFile", {i(999999)}) == 102);
  CHECK(w.fault("admin", "GenerateNodeConfFile", {s("nosuch.test.org")}) == 102);
}

TEST_CASE("GenerateNodeConfFile: dhcp, IPMI, and no primary interface") {
  boot_world w;
  int node = int_of(w.ok("admin", "AddNode",
                         {s(w.base_a), obj({{"hostname", s("dhcp-" + w.sfx + ".Test.org")}})}));
  auto refused = w.call("admin", "GenerateNodeConfFile", {i(node)});
  CHECK(refused.code == 102);
  CHECK_THAT(refused.text, Catch::Contains("No primary network configured"));
  CHECK(w.node_column(node, "key").empty()); // nothing changed
  w.ok("admin", "AddInterface", {i(node), obj({{"method", s("dhcp")}, {"type", s("ipv4")}})});
  w.ok("admin", "AddInterface",
       {i(node), obj({{"method", s("ipmi")},
                      {"type", s("ipv4")},
                      {"ip", s("10.0.2.7")},
                      {"mac", s("00:AA:BB:CC:DD:EE")}})});
  std::string file = str_of(w.ok("admin", "GenerateNodeConfFile", {i(node)}));
  CHECK_THAT(file, Catch::Contains("IP_METHOD=\"dhcp\"\nHOST_NAME=\"dhcp-" + w.sfx +
                                   "\"\nDOMAIN_NAME=\"test.org\"\n"
                                   "IPMI_ADDRESS=\"10.0.2.7\"\nIPMI_MAC=\"00:aa:bb:cc:dd:ee\"\n"));
  CHECK_THAT(file, !Catch::Contains("NET_DEVICE") && !Catch::Contains("IP_ADDRESS"));
}

TEST_CASE("GetNodeFlavour: node tags, else the configured defaults, recorded on the node") {
  boot_world w;
  int node = w.add_node(w.base_a, "flav-" + w.sfx + ".test.org", key);
  auto flavour = w.node_ok(node, key, "GetNodeFlavour", {i(node)});
  CHECK(str_of(member(flavour, "arch")) == "x86_64");
  CHECK(str_of(member(flavour, "fcdistro")) == "f18");
  CHECK(str_of(member(flavour, "pldistro")) == "planetlab");
  CHECK(str_of(member(flavour, "virt")) == "lxc"); // f18 is not in the vs list: default
  CHECK(str_of(member(flavour, "nodefamily")) == "planetlab-f18-x86_64");
  CHECK(items(member(flavour, "extensions")).empty());
  CHECK_FALSE(xmlrpc_c::value_boolean(member(flavour, "plain")).cvalue());
  // arch, fcdistro and pldistro are now the node's tags; virt is not.
  auto tags = items(w.ok("admin", "GetNodeTags", {obj({{"node_id", i(node)}})}));
  std::map<std::string, std::string> by_name;
  for (auto& t : tags)
    by_name[str_of(member(t, "tagname"))] = str_of(member(t, "value"));
  CHECK(by_name["arch"] == "x86_64");
  CHECK(by_name["fcdistro"] == "f18");
  CHECK(by_name["pldistro"] == "planetlab");
  CHECK(by_name.count("virt") == 0);

  // Tags win; a changed default no longer affects the node.
  boot_world other{{"i386", "f12", "onelab", "f12:vs; default:lxc"}};
  int n2 = other.add_node(other.base_a, "flav2-" + other.sfx + ".test.org", key);
  auto tag = [&](const std::string& name, const std::string& value) {
    other.ok("admin", "AddNodeTag", {i(n2), s(name), s(value)});
  };
  tag("fcdistro", "f14");
  tag("extensions", " ipv6  umts ");
  tag("plain-bootstrapfs", "0"); // any non-empty value means yes, as in Python
  auto f2 = other.ok("user", "GetNodeFlavour", {s("flav2-" + other.sfx + ".test.org")});
  CHECK(str_of(member(f2, "arch")) == "i386");
  CHECK(str_of(member(f2, "fcdistro")) == "f14");
  CHECK(str_of(member(f2, "pldistro")) == "onelab");
  CHECK(str_of(member(f2, "virt")) == "lxc"); // f14 is not in this map
  CHECK(str_of(member(f2, "nodefamily")) == "onelab-f14-i386");
  auto ext = items(member(f2, "extensions"));
  REQUIRE(ext.size() == 2);
  CHECK(str_of(ext[0]) == "ipv6-f14-i386");
  CHECK(str_of(ext[1]) == "umts-f14-i386");
  CHECK(xmlrpc_c::value_boolean(member(f2, "plain")).cvalue());
  tag("virt", "vs");
  tag("deployment", "alpha");
  auto f3 = other.ok("admin", "GetNodeFlavour", {i(n2)});
  CHECK(str_of(member(f3, "virt")) == "vs");
  CHECK(str_of(member(f3, "nodefamily")) == "alpha");
  // Roles: admin, user, node; an unknown node is 102 naming it.
  CHECK(other.fault("pi", "GetNodeFlavour", {i(n2)}) == 103);
  auto missing = other.call("admin", "GetNodeFlavour", {i(999999)});
  CHECK(missing.code == 102);
  CHECK_THAT(missing.text, Catch::Contains("No such node 999999"));
}

TEST_CASE("GetNodeFlavour: PLC_FLAVOUR_VIRT_MAP as PLCAPI reads it") {
  using pl::plc::api::virt_from_map;
  const std::string standard = " f8,f12,f14,centos5,centos6:vs; default:lxc ";
  CHECK(virt_from_map(standard, "f12") == "vs");
  CHECK(virt_from_map(standard, "centos6") == "vs");
  CHECK(virt_from_map(standard, "f18") == "lxc");
  CHECK(virt_from_map("f8:vs", "f18") == "vs");               // no default: vs
  CHECK(virt_from_map("f8:kvm; default:lxc", "f8") == "lxc"); // unknown virt skipped
  CHECK(virt_from_map("f8:vs; default:lxc;", "f18") == "vs"); // malformed: vs for all
  CHECK(virt_from_map("garbage", "f8") == "vs");
}

TEST_CASE("ReportRunlevel: a node reports for itself, an admin for any node") {
  boot_world w;
  int node = w.add_node(w.base_a, "rl-" + w.sfx + ".test.org", key);
  int other = w.add_node(w.base_a, "rl2-" + w.sfx + ".test.org", key + "2");
  w.clock.advance(10s);
  CHECK(int_of(w.node_ok(node, key, "ReportRunlevel", {obj({{"run_level", s("safeboot")}})})) == 1);
  CHECK(w.node_column(node, "run_level") == "safeboot");
  CHECK(w.node_column(node, "extract(epoch from last_contact)::bigint") ==
        std::to_string(w.clock.now_epoch()));
  // A node naming another node still reports for itself.
  w.node_ok(node, key, "ReportRunlevel", {obj({{"run_level", s("boot")}}), i(other)});
  CHECK(w.node_column(node, "run_level") == "boot");
  CHECK(w.node_column(other, "run_level").empty());
  // Without run_level only the contact time moves.
  w.clock.advance(5s);
  w.node_ok(node, key, "ReportRunlevel", {obj({})});
  CHECK(w.node_column(node, "run_level") == "boot");
  CHECK(w.node_column(node, "extract(epoch from last_contact)::bigint") ==
        std::to_string(w.clock.now_epoch()));
  // Unknown run levels and wrong types are refused.
  CHECK(w.node_call(node, key, "ReportRunlevel", {obj({{"run_level", s("dancing")}})}).code == 102);
  CHECK(w.node_call(node, key, "ReportRunlevel", {obj({{"run_level", nil}})}).code == 102);
  CHECK(w.node_column(node, "run_level") == "boot");
  // Admins name the node, by id or hostname.
  w.ok("admin", "ReportRunlevel", {obj({{"run_level", s("failboot")}}), i(other)});
  CHECK(w.node_column(other, "run_level") == "failboot");
  w.ok("admin", "ReportRunlevel",
       {obj({{"run_level", s("reinstall")}}), s("rl2-" + w.sfx + ".test.org")});
  CHECK(w.node_column(other, "run_level") == "reinstall");
  CHECK(w.fault("admin", "ReportRunlevel", {obj({{"run_level", s("boot")}})}) == 102);
  CHECK(w.fault("pi", "ReportRunlevel", {obj({{"run_level", s("boot")}}), i(other)}) == 103);
  // Not recorded as events (PLCAPI skips it: nodes call it all the time).
  CHECK(events_of(w, "ReportRunlevel", node) == 0);
}

TEST_CASE("Boot methods: PLCAPI 5.x's roles and argument counts") {
  // Lines of tests/plc/data/plcapi-methods-5x.txt (BootCheckAuthentication
  // inherits AuthCheck's roles and arguments).
  struct line {
    const char* method;
    std::set<std::string> roles;
    std::size_t min_args, max_args; // after auth
  };
  const std::vector<line> reference = {
      {"BootCheckAuthentication", {"admin", "pi", "user", "tech", "node"}, 0, 0},
      {"BootGetNodeDetails", {"node"}, 0, 0},
      {"BootNotifyOwners", {"node"}, 4, 4},
      {"BootUpdateNode", {"node"}, 1, 1},
      {"GenerateNodeConfFile", {"admin", "pi", "tech"}, 1, 2},
      {"GetNodeFlavour", {"admin", "user", "node"}, 1, 1},
      {"ReportRunlevel", {"node", "admin"}, 1, 2},
  };
  boot_world w;
  int node = w.add_node(w.base_a, "conf-roles-" + w.sfx + ".test.org", key);
  auto args_for = [](const std::string& method) -> std::vector<xv> {
    if (method == "BootNotifyOwners")
      return {s("nosuchmessage"), i(0), i(0), i(0)};
    if (method == "BootUpdateNode" || method == "ReportRunlevel")
      return {obj({})};
    if (method == "GenerateNodeConfFile" || method == "GetNodeFlavour")
      return {i(999999)};
    return {};
  };
  for (const auto& ref : reference) {
    INFO(ref.method);
    // Arity from system.methodSignature: one signature per accepted count.
    std::size_t lo = 99, hi = 0;
    for (auto& sig : items(w.ok("admin", "system.methodSignature", {s(ref.method)}))) {
      std::size_t n = items(sig).size() - 2; // minus the result and the auth struct
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    CHECK(lo == ref.min_args);
    CHECK(hi == ref.max_args);
    // Each role is admitted (anything but 103) exactly when listed.
    for (const std::string actor : {"admin", "pi", "user", "tech"}) {
      INFO(actor);
      int code = w.fault(actor, ref.method, args_for(ref.method));
      CHECK((code != 103) == (ref.roles.count(actor) > 0));
    }
    int as_node = w.node_call(node, key, ref.method, args_for(ref.method)).code;
    CHECK((as_node != 103) == (ref.roles.count("node") > 0));
    // One argument too many is 101.
    auto extra = args_for(ref.method);
    for (std::size_t k = extra.size(); k <= ref.max_args; ++k)
      extra.push_back(nil);
    CHECK(w.fault("admin", ref.method, extra) == 101);
  }
}
