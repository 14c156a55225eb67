// GetSlivers against a real PostgreSQL: which slivers a node gets, the tag
// precedence (each attribute once), members' keys, the special accounts, the
// node/admin rules, and a statement count that does not grow with slices.

#include "plc/api/conf_files.hpp"
#include "plc/api/slivers.hpp"
#include "plc/store/pg.hpp"
#include "slice_world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace pl::test;
namespace api = pl::plc::api;

namespace {

constexpr const char* user_key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK/FJTzMQ4+y2FTGaw1GBH25rHhK/20i0nBv/AH8OEz user@test";

struct sliver_world : slice_world {
  int n1 = 0, n2 = 0;
  std::string n1_key;

  sliver_world() {
    api::add_sliver_methods(api, {{"planetlab", "f18", "x86_64"}, 1800, ""});
    n1 = add_node(site_a, "s1");
    n2 = add_node(site_a, "s2");
    n1_key = node_key(n1);
  }

  xv get_slivers(const xv& node = nil) {
    auto r = call_as_node(n1_key, "GetSlivers",
                          node.type() == xv::TYPE_NIL ? std::vector<xv>{} : std::vector<xv>{node});
    INFO(r.text);
    REQUIRE_FALSE(r.is_fault);
    return r.value;
  }

  /// The sliver named `name` in a GetSlivers reply, or nil.
  static xv sliver(const xv& reply, const std::string& name) {
    for (const auto& s : items(member(reply, "slivers")))
      if (str_of(member(s, "name")) == name)
        return s;
    return nil;
  }

  /// tagname -> values of a sliver, in reply order.
  static std::vector<std::pair<std::string, std::string>> attributes(const xv& sliver) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& a : items(member(sliver, "attributes")))
      out.emplace_back(str_of(member(a, "tagname")), str_of(member(a, "value")));
    return out;
  }
};

} // namespace

TEST_CASE_METHOD(sliver_world, "GetSlivers has HEAD's structure and updates last_contact") {
  clock.advance(std::chrono::seconds(42));
  auto reply = get_slivers();
  CHECK(keys_of(reply) == std::set<std::string>{"timestamp", "node_id", "hostname", "interfaces",
                                                "groups", "conf_files", "initscripts", "accounts",
                                                "slivers", "xmpp", "hrn", "reservation_policy",
                                                "leases", "lease_granularity"});
  CHECK(int_of(member(reply, "node_id")) == n1);
  CHECK(str_of(member(reply, "hostname")) == host("s1"));
  CHECK(int_of(member(reply, "timestamp")) == now());
  CHECK(str_of(member(reply, "reservation_policy")) == "none");
  CHECK(member(reply, "leases").type() == xv::TYPE_NIL);
  CHECK(int_of(member(reply, "lease_granularity")) == 1800);
  auto node = items(ok("admin", "GetNodes", {arr({i(n1)}), arr({s("last_contact")})}));
  CHECK(int_of(member(node.at(0), "last_contact")) == now());
  // The admin names the node; so may only an admin.
  CHECK(int_of(member(ok("admin", "GetSlivers", {i(n2)}), "node_id")) == n2);
  CHECK(int_of(member(ok("admin", "GetSlivers", {s(host("s2"))}), "node_id")) == n2);
  CHECK(fault("admin", "GetSlivers", {}) == 102);
  CHECK(fault("admin", "GetSlivers", {i(999999)}) == 102);
  CHECK(call_as_node(n1_key, "GetSlivers", {i(n2)}).code == 108);
  CHECK(fault("pi", "GetSlivers", {i(n1)}) == 103); // not among the method's roles
}

TEST_CASE_METHOD(sliver_world,
                 "a node gets its slices plus system, delegated and controller ones") {
  int bound = add_slice("pi", "bound");
  ok("pi", "AddSliceToNodes", {i(bound), arr({i(n1)})});
  int elsewhere = add_slice("pi", "elsewhere");
  ok("pi", "AddSliceToNodes", {i(elsewhere), arr({i(n2)})});
  int delegated = add_slice("pi", "deleg", {{"instantiation", s("delegated")}});
  int controller = add_slice("pi", "ctl", {{"instantiation", s("nm-controller")}});
  int system = add_slice("admin", "sys");
  ok("admin", "AddSliceTag", {i(system), s("system"), s("1")});
  int expired = add_slice("pi", "old");
  ok("pi", "AddSliceToNodes", {i(expired), arr({i(n1)})});
  ok("admin", "UpdateSlice", {i(expired), obj({{"expires", i(static_cast<int>(now() + 60))}})});
  clock.advance(std::chrono::seconds(120));

  auto reply = get_slivers();
  for (const auto& name : {"bound", "deleg", "ctl", "sys"}) {
    INFO(name);
    CHECK(sliver(reply, sname(base_a, name)).type() != xv::TYPE_NIL);
  }
  CHECK(sliver(reply, sname(base_a, "elsewhere")).type() == xv::TYPE_NIL);
  CHECK(sliver(reply, sname(base_a, "old")).type() == xv::TYPE_NIL);
  auto b = sliver(reply, sname(base_a, "bound"));
  CHECK(int_of(member(b, "slice_id")) == bound);
  CHECK(str_of(member(b, "instantiation")) == "plc-instantiated");
  CHECK(str_of(member(b, "GetSliceFamily")) == "planetlab-f18-x86_64");
  CHECK(str_of(member(sliver(reply, sname(base_a, "deleg")), "instantiation")) == "delegated");
  (void)delegated;
  (void)controller;
}

TEST_CASE_METHOD(sliver_world, "sliver tags win over node group tags over global ones, once each") {
  int sl = add_slice("pi", "prec");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1), i(n2)})});
  std::string grp = "g" + sfx;
  ok("admin", "AddTagType", {obj({{"tagname", s(grp)}})});
  ok("admin", "AddNodeTag", {i(n1), s(grp), s("yes")});
  ok("admin", "AddNodeGroup", {s("group" + sfx), s(grp), s("yes")});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("10")});
  ok("admin", "AddSliceTag", {i(sl), s("net_max_rate"), s("1000")});
  ok("admin", "AddSliceTag", {i(sl), s("disk_max"), s("500")});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("20"), nil, s("group" + sfx)});
  ok("admin", "AddSliceTag", {i(sl), s("net_max_rate"), s("2000"), nil, s("group" + sfx)});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("30"), i(n1)});
  ok("admin", "AddSliceTag", {i(sl), s("vsys"), s("pfmount")});
  ok("admin", "AddSliceTag", {i(sl), s("vsys"), s("vif_up")});

  auto on_n1 = attributes(sliver(get_slivers(), sname(base_a, "prec")));
  CHECK(on_n1 == std::vector<std::pair<std::string, std::string>>{{"cpu_share", "30"},
                                                                  {"net_max_rate", "2000"},
                                                                  {"disk_max", "500"},
                                                                  {"vsys", "pfmount"},
                                                                  {"vsys", "vif_up"}});
  auto groups = items(member(get_slivers(), "groups"));
  REQUIRE(groups.size() == 1);
  CHECK(str_of(groups[0]) == "group" + sfx);
  // Node 2 is in no group and has no sliver tag: the global values.
  auto on_n2 = attributes(sliver(ok("admin", "GetSlivers", {i(n2)}), sname(base_a, "prec")));
  CHECK(on_n2 == std::vector<std::pair<std::string, std::string>>{{"cpu_share", "10"},
                                                                  {"net_max_rate", "1000"},
                                                                  {"disk_max", "500"},
                                                                  {"vsys", "pfmount"},
                                                                  {"vsys", "vif_up"}});
}

TEST_CASE_METHOD(sliver_world, "keys of enabled members only; accounts for the site's staff") {
  int sl = add_slice("pi", "keys");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(sl)});
  ok("admin", "AddPersonKey",
     {i(id_of("user")), obj({{"key_type", s("ssh")}, {"key", s(user_key)}})});
  auto keys = items(member(sliver(get_slivers(), sname(base_a, "keys")), "keys"));
  REQUIRE(keys.size() == 1);
  CHECK(str_of(member(keys[0], "key")) == user_key);
  CHECK(str_of(member(keys[0], "key_type")) == "ssh");

  ok("admin", "UpdatePerson", {i(id_of("user")), obj({{"enabled", b(false)}})});
  CHECK(items(member(sliver(get_slivers(), sname(base_a, "keys")), "keys")).empty());

  // The site's PI's key goes to site_admin; admins' keys to root.
  ok("admin", "AddPersonKey",
     {i(id_of("pi")),
      obj({{"key_type", s("ssh")},
           {"key", s("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB1Z4bJ9lCN5Wm0p0b4Yf0mM5M9A8oHk3aGq8m3"
                     "2z7uX pi@test")}})});
  auto accounts = items(member(get_slivers(), "accounts"));
  REQUIRE(accounts.size() == 2);
  CHECK(str_of(member(accounts[0], "name")) == "site_admin");
  auto site_admin = items(member(accounts[0], "keys"));
  CHECK(std::any_of(site_admin.begin(), site_admin.end(),
                    [](const xv& k) { return str_of(k).find("pi@test") != std::string::npos; }));
  CHECK(str_of(member(accounts[1], "name")) == "root");
}

TEST_CASE_METHOD(sliver_world, "reservable nodes report leases for the next day") {
  int r = add_node(site_a, "res", "reservable");
  int sl = add_slice("pi", "lease");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(r)})});
  auto t = static_cast<int>((now() / 1800 + 2) * 1800);
  ok("pi", "AddLeases", {arr({i(r)}), i(sl), i(t), i(t + 3600)});
  auto reply = ok("admin", "GetSlivers", {i(r)});
  CHECK(str_of(member(reply, "reservation_policy")) == "lease_or_idle");
  auto leases = items(member(reply, "leases"));
  REQUIRE(leases.size() == 1);
  CHECK(int_of(member(leases[0], "t_from")) == t);
  CHECK(int_of(member(leases[0], "slice_id")) == sl);
}

TEST_CASE_METHOD(sliver_world, "GetSlivers runs as many statements for 1 slice as for 40") {
  auto statements_for_call = [&] {
    auto before = pl::plc::store::statements_executed();
    get_slivers();
    return pl::plc::store::statements_executed() - before;
  };
  int first = add_slice("pi", "count0");
  ok("pi", "AddSliceToNodes", {i(first), arr({i(n1)})});
  ok("admin", "AddSliceTag", {i(first), s("cpu_share"), s("5")});
  auto with_one = statements_for_call();
  ok("admin", "UpdateSite", {i(site_a), obj({{"max_slices", i(100)}})});
  for (int k = 1; k < 40; ++k) {
    int sl = add_slice("pi", "count" + std::to_string(k));
    ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
    ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s(std::to_string(k))});
    ok("pi", "AddPersonToSlice", {i(id_of("user")), i(sl)});
  }
  auto slivers = items(member(get_slivers(), "slivers"));
  CHECK(std::count_if(slivers.begin(), slivers.end(), [&](const xv& x) {
          return str_of(member(x, "name")).rfind(base_a + "_count", 0) == 0;
        }) == 40);
  // A write first, so the call builds its reply instead of reading the cache.
  ok("admin", "AddSliceTag", {i(first), s("net_max_rate"), s("100")});
  CHECK(statements_for_call() == with_one);
}

TEST_CASE_METHOD(sliver_world, "a cached reply is reused until a write or an expiry") {
  int sl = add_slice("pi", "cache");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
  ok("admin", "UpdateSlice", {i(sl), obj({{"expires", i(static_cast<int>(now() + 3600))}})});
  auto count = [] { return pl::plc::store::statements_executed(); };
  auto before = count();
  auto first = get_slivers();
  auto built = count() - before;
  clock.advance(std::chrono::seconds(5));
  before = count();
  auto second = get_slivers();
  auto cached = count() - before;
  CHECK(cached < built);
  CHECK(int_of(member(second, "timestamp")) == int_of(member(first, "timestamp")) + 5);
  CHECK(attributes(sliver(second, sname(base_a, "cache"))).empty());
  // A committed write shows in the next reply.
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("7")});
  CHECK(attributes(sliver(get_slivers(), sname(base_a, "cache"))) ==
        std::vector<std::pair<std::string, std::string>>{{"cpu_share", "7"}});
  // So does an expiry, without any write.
  get_slivers();
  clock.advance(std::chrono::seconds(3600));
  CHECK(sliver(get_slivers(), sname(base_a, "cache")).type() == xv::TYPE_NIL);
}

TEST_CASE_METHOD(sliver_world, "sliver views become the specs nodes apply") {
  int sl = add_slice("pi", "spec");
  ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1), i(n2)})});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("12")});
  ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("99"), i(n2)});
  ok("admin", "AddSliceTag", {i(sl), s("enabled"), s("0")});
  ok("admin", "AddSliceTag", {i(sl), s("vref"), s("fedora8")});
  ok("admin", "AddSliceTag", {i(sl), s("delegations"), s("pl_broker, pl_other")});
  auto conn = pool.acquire();
  auto nodes = api::nodes_for_slice(*conn, sl, now());
  CHECK(nodes == std::vector<int>{n1, n2});
  auto views = api::load_slivers(*conn, {sl}, nodes, now());
  auto scripts = api::enabled_initscripts(*conn);
  auto spec1 = api::to_sliver_spec(views.at(n1).at(0), n1, scripts);
  auto spec2 = api::to_sliver_spec(views.at(n2).at(0), n2, scripts);
  REQUIRE(spec1);
  REQUIRE(spec2);
  CHECK(spec1->name == sname(base_a, "spec"));
  CHECK(spec1->node_id == n1);
  CHECK(spec1->resources.values.at("cpu_share") == 12);
  CHECK(spec2->resources.values.at("cpu_share") == 99);
  CHECK_FALSE(spec1->enabled);
  CHECK(spec1->vref == "fedora8");
  CHECK(spec1->delegations == std::vector<std::string>{"pl_broker", "pl_other"});
  auto live = api::live_slice_ids(*conn, now());
  CHECK(std::find(live.begin(), live.end(), sl) != live.end());
}
