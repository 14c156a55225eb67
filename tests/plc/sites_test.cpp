// Sites, Addresses and AddressTypes through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

#include <barrier>
#include <optional>
#include <set>
#include <thread>

using namespace pl::test;

namespace {

std::set<std::string> keys_of(const xv& v) {
  std::set<std::string> out;
  for (auto& [k, _] : xmlrpc_c::value_struct(v).cvalue())
    out.insert(k);
  return out;
}

xv address(const std::string& line1) {
  return obj({{"line1", s(line1)},
              {"city", s("Princeton")},
              {"state", s("NJ")},
              {"postalcode", s("08540")},
              {"country", s("USA")}});
}

} // namespace

TEST_CASE_METHOD(admindb_world, "AddSite applies PLCAPI's defaults and GetSites returns them") {
  auto rows = ok("anonymous", "GetSites", {arr({i(site_a)})});
  REQUIRE(items(rows).size() == 1);
  auto site = items(rows)[0];
  CHECK(int_of(member(site, "max_slices")) == 0);
  CHECK(int_of(member(site, "max_slivers")) == 1000);
  CHECK(xmlrpc_c::value_boolean(member(site, "enabled")).cvalue());
  CHECK(xmlrpc_c::value_boolean(member(site, "is_public")).cvalue());
  CHECK(member(site, "latitude").type() == xv::TYPE_NIL);
  CHECK(int_of(member(site, "date_created")) == 1'000'000'000); // the injected clock
  CHECK(str_of(member(site, "login_base")) == base_a);
  CHECK(ints(member(site, "person_ids")) == std::vector<int>{id["pi"], id["user"], id["tech"]});
  for (const char* name : {"site_id",          "name",         "abbreviated_name",
                           "login_base",       "is_public",    "enabled",
                           "latitude",         "longitude",    "url",
                           "date_created",     "last_updated", "max_slices",
                           "max_slivers",      "person_ids",   "slice_ids",
                           "address_ids",      "pcu_ids",      "node_ids",
                           "peer_id",          "peer_site_id", "site_tag_ids",
                           "ext_consortium_id"})
    CHECK(keys_of(site).count(name) == 1);
  CHECK(keys_of(site).count("deleted") == 0);
}

TEST_CASE_METHOD(admindb_world, "AddSite validates login_base, names and coordinates") {
  auto with = [&](std::map<std::string, xv> extra) {
    std::map<std::string, xv> f{
        {"name", s("N")}, {"abbreviated_name", s("n")}, {"login_base", s("ok" + sfx)}};
    for (auto& [k, v] : extra) { // xmlrpc_c values cannot be reassigned
      f.erase(k);
      f.emplace(k, v);
    }
    return obj(f);
  };
  CHECK(fault("admin", "AddSite", {with({{"login_base", s("Upper" + sfx)}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"login_base", s("a.b" + sfx)}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"login_base", s("")}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"login_base", s(std::string(21, 'x'))}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"login_base", s(base_a)}})}) == 102); // in use
  CHECK(fault("admin", "AddSite", {obj({{"name", s("N")}, {"login_base", s("x" + sfx)}})}) ==
        102); // abbreviated_name missing
  CHECK(fault("admin", "AddSite", {with({{"name", s("")}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"latitude", d(91.0)}, {"longitude", d(0.0)}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"latitude", d(0.0)}, {"longitude", d(-180.5)}})}) == 102);
  CHECK(fault("admin", "AddSite", {with({{"latitude", d(40.0)}})}) == 102); // needs longitude
  CHECK(fault("admin", "AddSite", {with({{"max_slices", s("ten")}})}) == 102);
  auto r = call("admin", "AddSite", {with({{"login_base", s("Bad" + sfx)}})});
  CHECK_THAT(r.text, Catch::Contains("lowercase"));
  int id = int_of(ok("admin", "AddSite",
                     {with({{"latitude", d(40.5)},
                            {"longitude", d(-74.25)},
                            {"max_slices", i(10)},
                            {"url", s("http://o'brien.example/")}})}));
  auto site = items(ok("admin", "GetSites", {i(id)}))[0]; // a bare id works as a filter
  CHECK(xmlrpc_c::value_double(member(site, "latitude")).cvalue() == 40.5);
  CHECK(int_of(member(site, "max_slices")) == 10);
  CHECK(str_of(member(site, "url")) == "http://o'brien.example/");
}

TEST_CASE_METHOD(admindb_world, "only admins may add or delete sites") {
  for (const char* who : {"pi", "user", "tech"}) {
    CHECK(fault(who, "AddSite", {site_fields("z" + sfx)}) == 103);
    CHECK(fault(who, "DeleteSite", {i(site_a)}) == 103);
  }
  CHECK(fault("anonymous", "AddSite", {site_fields("z" + sfx)}) == 103);
  CHECK(fault("user", "UpdateSite", {i(site_a), obj({{"name", s("x")}})}) == 103);
  CHECK(fault("tech", "UpdateSite", {i(site_a), obj({{"name", s("x")}})}) == 103);
}

TEST_CASE_METHOD(admindb_world, "UpdateSite: PIs update their own sites, only admins the quotas") {
  ok("pi", "UpdateSite",
     {s(base_a), obj({{"name", s("Renamed")},
                      {"max_slices", i(99)},
                      {"max_slivers", i(5)},
                      {"login_base", s("stolen" + sfx)}})});
  auto site = items(ok("pi", "GetSites", {arr({i(site_a)})}))[0];
  CHECK(str_of(member(site, "name")) == "Renamed");
  CHECK(int_of(member(site, "max_slices")) == 0); // silently dropped, as in PLCAPI
  CHECK(int_of(member(site, "max_slivers")) == 1000);
  CHECK(str_of(member(site, "login_base")) == base_a);
  CHECK(fault("pi", "UpdateSite", {i(site_b), obj({{"name", s("Mine")}})}) == 108);

  clock.advance(std::chrono::seconds{60});
  ok("admin", "UpdateSite",
     {i(site_a), obj({{"max_slices", i(7)}, {"login_base", s("new" + sfx)}})});
  auto site2 = items(ok("admin", "GetSites", {arr({i(site_a)})}))[0];
  CHECK(int_of(member(site2, "max_slices")) == 7);
  CHECK(str_of(member(site2, "login_base")) == "new" + sfx);
  CHECK(int_of(member(site2, "last_updated")) == 1'000'000'060);
  CHECK(fault("admin", "UpdateSite", {i(site_a), obj({{"login_base", s(base_b)}})}) == 102);
  CHECK(fault("admin", "UpdateSite", {s("nosuch" + sfx), obj({{"name", s("x")}})}) == 102);
  // Coordinates come in pairs, also against the stored values.
  CHECK(fault("admin", "UpdateSite", {i(site_a), obj({{"latitude", d(10.0)}})}) == 102);
  ok("admin", "UpdateSite", {i(site_a), obj({{"latitude", d(10.0)}, {"longitude", d(20.0)}})});
  ok("admin", "UpdateSite", {i(site_a), obj({{"latitude", d(-10.0)}})});
  CHECK(fault("admin", "UpdateSite", {i(site_a), obj({{"longitude", nil}})}) == 102);
}

TEST_CASE_METHOD(admindb_world,
                 "GetSites filters by ids, login_bases, structs; anonymous may call") {
  CHECK(ids("anonymous", "GetSites", {arr({s(base_b), i(site_a)})}, "site_id") ==
        std::vector<int>{site_a, site_b});
  CHECK(ids("user", "GetSites", {s(base_b)}, "site_id") == std::vector<int>{site_b});
  CHECK(ids("tech", "GetSites", {obj({{"login_base", s("s?" + sfx)}})}, "site_id").empty());
  CHECK(ids("tech", "GetSites", {obj({{"login_base", s("s*" + sfx)}, {"-SORT", s("-site_id")}})},
            "site_id") == std::vector<int>{site_b, site_a});
  auto rows = ok("pi", "GetSites", {arr({i(site_a)}), arr({s("login_base"), s("max_slices")})});
  CHECK(keys_of(items(rows)[0]) == std::set<std::string>{"login_base", "max_slices"});
  CHECK(fault("pi", "GetSites", {nil, arr({s("password")})}) == 102);
  CHECK(fault("pi", "GetSites", {obj({{"nosuchfield", i(1)}})}) == 102);
  CHECK(fault("pi", "GetSites", {obj({{"site_id", s("x")}})}) == 102);
}

TEST_CASE_METHOD(admindb_world, "DeleteSite soft-deletes with PLCAPI's cascade") {
  int addr = int_of(ok("admin", "AddSiteAddress", {i(site_a), address("1 Main St")}));
  // The user also belongs to site B, so it survives; pi and tech only at A do not.
  ok("admin", "AddPersonToSite", {i(id["user"]), i(site_b)});
  clock.advance(std::chrono::seconds{5});
  ok("admin", "DeleteSite", {s(base_a)});

  CHECK(items(ok("admin", "GetSites", {arr({i(site_a)})})).empty());
  CHECK(fault("admin", "UpdateSite", {i(site_a), obj({{"name", s("x")}})}) == 102);
  CHECK(fault("admin", "DeleteSite", {i(site_a)}) == 102);
  CHECK(items(ok("admin", "GetAddresses", {arr({i(addr)})})).empty());
  auto live =
      ids("admin", "GetPersons", {arr({i(id["pi"]), i(id["user"]), i(id["tech"])})}, "person_id");
  CHECK(live == std::vector<int>{id["user"]});
  auto user = items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0];
  CHECK(ints(member(user, "site_ids")) == std::vector<int>{site_b}); // now primary
  CHECK(fault("pi", "AuthCheck", {}) == 103);                        // account gone
  // The event names the site and the persons deleted with it.
  auto objects = items(ok("admin", "GetEventObjects", {obj({{"call_name", s("DeleteSite")}})}));
  std::set<std::pair<std::string, int>> touched;
  for (auto& o : objects) // faulted calls (other tests) touched nothing: nil
    if (member(o, "object_id").type() != xv::TYPE_NIL)
      touched.emplace(str_of(member(o, "object_type")), int_of(member(o, "object_id")));
  CHECK(touched.count({"Site", site_a}) == 1);
  CHECK(touched.count({"Person", id["pi"]}) == 1);
  CHECK(touched.count({"Person", id["tech"]}) == 1);
  CHECK(touched.count({"Person", id["user"]}) == 0);

  // The login_base can be used again by a new site.
  int again = int_of(ok("admin", "AddSite", {site_fields(base_a)}));
  CHECK(again != site_a);

  // Admins list deleted sites with the deleted filter; nobody else sees them.
  auto gone =
      items(ok("admin", "GetSites", {obj({{"deleted", b(true)}, {"login_base", s(base_a)}})}));
  REQUIRE(gone.size() == 1);
  CHECK(int_of(member(gone[0], "site_id")) == site_a);
  CHECK(xmlrpc_c::value_boolean(member(gone[0], "deleted")).cvalue());
  CHECK(int_of(member(gone[0], "date_deleted")) == 1'000'000'005);
  CHECK(ids("admin", "GetSites", {obj({{"login_base", s(base_a)}})}, "site_id") ==
        std::vector<int>{again});
  CHECK(ids("admin", "GetSites", {obj({{"deleted", b(false)}, {"login_base", s(base_a)}})},
            "site_id") == std::vector<int>{again});
  auto live_row = items(ok("admin", "GetSites", {arr({i(again)}), arr({s("deleted")})}))[0];
  CHECK_FALSE(xmlrpc_c::value_boolean(member(live_row, "deleted")).cvalue());
  CHECK(items(ok("user", "GetSites", {obj({{"deleted", b(true)}})})).empty());
  CHECK(items(ok("anonymous", "GetSites", {obj({{"~deleted", b(false)}})})).empty());
  CHECK(ids("user", "GetSites", {obj({{"deleted", b(false)}, {"login_base", s(base_a)}})},
            "site_id") == std::vector<int>{again});
  CHECK(fault("user", "GetSites", {nil, arr({s("deleted")})}) == 102);
  // Deleted persons too.
  auto gone_persons = ids(
      "admin", "GetPersons",
      {obj({{"deleted", b(true)}, {"person_id", arr({i(id["pi"]), i(id["tech"])})}})}, "person_id");
  CHECK(gone_persons == std::vector<int>{id["pi"], id["tech"]});
}

TEST_CASE_METHOD(admindb_world, "two simultaneous AddSite calls with one login_base: one wins") {
  for (int round = 0; round < 5; ++round) {
    std::string base = "race" + std::to_string(round) + "x" + sfx;
    std::barrier start{2};
    std::optional<outcome> results[2];
    auto racer = [&](int k) {
      start.arrive_and_wait();
      results[k].emplace(call("admin", "AddSite", {site_fields(base)}));
    };
    std::thread t0{racer, 0}, t1{racer, 1};
    t0.join();
    t1.join();
    int wins = (results[0]->is_fault ? 0 : 1) + (results[1]->is_fault ? 0 : 1);
    CHECK(wins == 1);
    for (auto& r : results)
      if (r->is_fault) {
        CHECK(r->code == 102);
        CHECK_THAT(r->text, Catch::Contains("login_base already in use"));
      }
    CHECK(ids("admin", "GetSites", {obj({{"login_base", s(base)}})}, "site_id").size() == 1);
  }
}

TEST_CASE_METHOD(admindb_world, "addresses: PIs manage those of their sites") {
  int a = int_of(ok("pi", "AddSiteAddress", {s(base_a), address("1 Main St")}));
  CHECK(fault("pi", "AddSiteAddress", {i(site_b), address("2 Main St")}) == 108);
  CHECK(fault("user", "AddSiteAddress", {i(site_a), address("3 Main St")}) == 103);
  CHECK(fault("pi", "AddSiteAddress", {i(site_a), obj({{"line1", s("x")}})}) == 102);
  int bb = int_of(ok("pi_b", "AddSiteAddress", {i(site_b), address("4 Main St")}));

  auto site = items(ok("user", "GetSites", {arr({i(site_a)})}))[0];
  CHECK(ints(member(site, "address_ids")) == std::vector<int>{a});

  ok("pi", "UpdateAddress", {i(a), obj({{"line2", s("Suite 5")}, {"city", s("Trenton")}})});
  auto row = items(ok("tech", "GetAddresses", {arr({i(a)})}))[0];
  CHECK(str_of(member(row, "line2")) == "Suite 5");
  CHECK(str_of(member(row, "city")) == "Trenton");
  CHECK(fault("pi", "UpdateAddress", {i(bb), obj({{"city", s("x")}})}) == 108);
  CHECK(fault("pi", "DeleteAddress", {i(bb)}) == 108);
  CHECK(fault("pi", "UpdateAddress", {i(a), obj({{"city", nil}})}) == 102);

  ok("pi", "AddAddressTypeToAddress", {s("Shipping"), i(a)});
  ok("pi", "AddAddressTypeToAddress", {s("Billing"), i(a)});
  ok("pi", "AddAddressTypeToAddress", {s("Billing"), i(a)}); // no error twice
  auto row2 = items(ok("pi", "GetAddresses", {arr({i(a)})}))[0];
  auto names = items(member(row2, "address_types"));
  REQUIRE(names.size() == 2);
  CHECK(str_of(names[0]) == "Shipping");
  CHECK(str_of(names[1]) == "Billing");
  CHECK(fault("pi", "AddAddressTypeToAddress", {s("Billing"), i(bb)}) == 108);
  CHECK(fault("pi", "AddAddressTypeToAddress", {s("NoSuchType"), i(a)}) == 102);
  ok("pi", "DeleteAddressTypeFromAddress", {s("Shipping"), i(a)});
  auto row3 = items(ok("pi", "GetAddresses", {arr({i(a)})}))[0];
  CHECK(items(member(row3, "address_types")).size() == 1);

  ok("pi", "DeleteAddress", {i(a)});
  CHECK(items(ok("pi", "GetAddresses", {arr({i(a)})})).empty());
  CHECK(fault("admin", "DeleteAddress", {i(a)}) == 102);
  ok("admin", "DeleteAddress", {i(bb)});
}

TEST_CASE_METHOD(admindb_world, "address types: admins manage them, everyone reads them") {
  auto all = ok("user", "GetAddressTypes", {});
  std::set<std::string> names;
  for (auto& t : items(all))
    names.insert(str_of(member(t, "name")));
  CHECK(names.count("Personal") == 1);
  CHECK(names.count("Shipping") == 1);
  CHECK(names.count("Billing") == 1);

  std::string name = "Lab" + sfx;
  int t =
      int_of(ok("admin", "AddAddressType", {obj({{"name", s(name)}, {"description", s("d")}})}));
  CHECK(fault("admin", "AddAddressType", {obj({{"name", s(name)}})}) == 102);
  CHECK(fault("admin", "AddAddressType", {obj({{"name", s(std::string(21, 'x'))}})}) == 102);
  CHECK(fault("pi", "AddAddressType", {obj({{"name", s("x" + sfx)}})}) == 103);
  ok("admin", "UpdateAddressType", {s(name), obj({{"description", s("Laboratory")}})});
  auto row = items(ok("pi", "GetAddressTypes", {arr({i(t)})}))[0];
  CHECK(str_of(member(row, "description")) == "Laboratory");
  CHECK(fault("admin", "UpdateAddressType", {i(t), obj({{"name", s("Billing")}})}) == 102);

  int a = int_of(ok("admin", "AddSiteAddress", {i(site_a), address("5 Main St")}));
  ok("admin", "AddAddressTypeToAddress", {i(t), i(a)});
  ok("admin", "DeleteAddressType", {i(t)});
  auto row2 = items(ok("admin", "GetAddresses", {arr({i(a)})}))[0];
  CHECK(items(member(row2, "address_type_ids")).empty());
  CHECK(fault("admin", "DeleteAddressType", {s(name)}) == 102);
  CHECK(fault("pi", "DeleteAddressType", {s("Billing")}) == 103);
}
