// What PLCAPI 5.x's Add/Update methods do beyond their own columns: the hrn
// tags of sites, nodes and persons, UpdateSite's `persons` and `addresses`,
// UpdatePerson's `sites`, `keys` and person tags (and its ignored `roles`), and the keys
// AddPerson and UpdatePerson refuse.
#include "admindb_world.hpp"

#include <set>

using namespace pl::test;

namespace {

const std::string key_one =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlbGF0ZWQtb25la2tra2tra2tra2tra2tra2tra2tr one@test";
const std::string key_two =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlbGF0ZWQtdHdva2tra2tra2tra2tra2tra2tra2tr two@test";

struct related_world : admindb_world {
  /// Returns the object's hrn tag through Get<X>s with the tag name as a field.
  std::string hrn(const std::string& method, int id) {
    auto rows = items(ok("admin", method, {arr({i(id)}), arr({s("hrn")})}));
    REQUIRE(rows.size() == 1);
    auto v = member(rows[0], "hrn");
    return v.type() == xv::TYPE_NIL ? std::string{"(none)"} : str_of(v);
  }

  int new_person(const std::string& name) {
    return int_of(ok("admin", "AddPerson",
                     {obj({{"email", s(name + "." + sfx + "@x.org")},
                           {"first_name", s("F")},
                           {"last_name", s("L")}})}));
  }

  std::vector<int> person_ids(int site) {
    auto v = ints(member(items(ok("admin", "GetSites", {arr({i(site)})}))[0], "person_ids"));
    std::sort(v.begin(), v.end());
    return v;
  }

  std::vector<int> list(const std::string& method, int id, const std::string& field) {
    return ints(member(items(ok("admin", method, {arr({i(id)})}))[0], field));
  }
};

xv address(const std::string& line1) {
  return obj({{"line1", s(line1)},
              {"city", s("Princeton")},
              {"state", s("NJ")},
              {"postalcode", s("08540")},
              {"country", s("USA")}});
}

} // namespace

TEST_CASE_METHOD(related_world, "sites, nodes and persons get and keep their hrn tags") {
  CHECK(hrn("GetSites", site_a) == "plc." + base_a);
  ok("admin", "UpdateSite", {i(site_b), obj({{"login_base", s("rb" + sfx)}})});
  CHECK(hrn("GetSites", site_b) == "plc.rb" + sfx);
  ok("admin", "UpdateSite", {i(site_b), obj({{"name", s("Renamed")}})});
  CHECK(hrn("GetSites", site_b) == "plc.rb" + sfx);
  CHECK(items(ok("admin", "GetSiteTags", {obj({{"site_id", i(site_b)}, {"tagname", s("hrn")}})}))
            .size() == 1);

  std::string host = "n1-" + sfx + ".cs.example.org";
  int node = int_of(ok("pi", "AddNode", {i(site_a), obj({{"hostname", s(host)}})}));
  CHECK(hrn("GetNodes", node) == "plc." + base_a + ".n1-" + sfx + "\\.cs\\.example\\.org");
  ok("tech", "UpdateNode", {i(node), obj({{"hostname", s("n2-" + sfx + ".example.org")}})});
  CHECK(hrn("GetNodes", node) == "plc." + base_a + ".n2-" + sfx + "\\.example\\.org");

  // A person is named after its first site, and after its email.
  int p = new_person("Jane.Doe+lab");
  CHECK(hrn("GetPersons", p) == "(none)");
  ok("admin", "AddPersonToSite", {i(p), i(site_a)});
  std::string jane = "plc." + base_a + ".jane_doe_lab";
  CHECK(hrn("GetPersons", p) == jane + "_" + sfx);
  ok("admin", "AddPersonToSite", {i(p), i(site_b)});
  CHECK(hrn("GetPersons", p) == jane + "_" + sfx);
  ok("admin", "UpdatePerson", {i(p), obj({{"email", s("j.smith@x.org")}})});
  CHECK(hrn("GetPersons", p) == "plc." + base_a + ".j_smith");
  // Accounts without one stay without.
  int q = new_person("nohrn");
  ok("admin", "UpdatePerson", {i(q), obj({{"email", s("other" + sfx + "@x.org")}})});
  CHECK(hrn("GetPersons", q) == "(none)");
}

TEST_CASE_METHOD(related_world, "UpdateSite's persons: the members become exactly the list") {
  int p1 = new_person("m1"), p2 = new_person("m2"), p3 = new_person("m3");
  ok("admin", "AddPersonToSite", {i(p1), i(site_b)});
  std::vector<int> before = person_ids(site_b);
  // Ids and emails mix; pi_b and user_b leave, p1 stays, p2 and p3 come.
  ok("admin", "UpdateSite",
     {i(site_b), obj({{"persons", arr({i(p1), s("M2." + sfx + "@X.org"), i(p3)})}})});
  std::vector<int> want{p1, p2, p3};
  std::sort(want.begin(), want.end());
  CHECK(person_ids(site_b) == want);
  CHECK(list("GetPersons", p2, "site_ids") == std::vector<int>{site_b});
  // Refused before anything changes: an unknown person, a wrong type, a PI
  // (AddPersonToSite and DeletePersonFromSite are for admins).
  CHECK(fault("admin", "UpdateSite",
              {i(site_b), obj({{"persons", arr({i(p1), s("nobody@nowhere.org")})}})}) == 102);
  CHECK(fault("admin", "UpdateSite", {i(site_b), obj({{"persons", s("m1")}})}) == 102);
  CHECK(fault("admin", "UpdateSite", {i(site_b), obj({{"persons", arr({b(true)})}})}) == 102);
  CHECK(fault("pi", "UpdateSite",
              {i(site_a), obj({{"persons", arr({i(p1)})}, {"name", s("X")}})}) == 103);
  CHECK(person_ids(site_b) == want);
  CHECK(str_of(member(items(ok("admin", "GetSites", {arr({i(site_a)})}))[0], "name")) ==
        "Site " + base_a);
  // An unchanged list calls nothing: a PI may send its members back.
  auto mine = person_ids(site_a);
  std::vector<xv> same;
  for (int id : mine)
    same.push_back(i(id));
  ok("pi", "UpdateSite", {i(site_a), obj({{"persons", arr(same)}})});
  CHECK(person_ids(site_a) == mine);
  CHECK(std::find(before.begin(), before.end(), id["pi_b"]) != before.end()); // was a member
  CHECK(std::find(want.begin(), want.end(), id["pi_b"]) == want.end());       // is no more
}

TEST_CASE_METHOD(related_world, "UpdateSite's addresses: kept, added, changed, removed") {
  int keep = int_of(ok("pi", "AddSiteAddress", {i(site_a), address("1 Keep St")}));
  int change = int_of(ok("pi", "AddSiteAddress", {i(site_a), address("2 Change St")}));
  int drop = int_of(ok("pi", "AddSiteAddress", {i(site_a), address("3 Drop St")}));
  int other = int_of(ok("admin", "AddSiteAddress", {i(site_b), address("4 Other St")}));
  ok("pi", "UpdateSite",
     {i(site_a), obj({{"addresses",
                       arr({i(keep), obj({{"address_id", i(change)}, {"line1", s("2 Changed St")}}),
                            address("5 New St")})}})});
  auto ids = list("GetSites", site_a, "address_ids");
  REQUIRE(ids.size() == 3);
  CHECK(std::find(ids.begin(), ids.end(), drop) == ids.end());
  CHECK(str_of(member(items(ok("admin", "GetAddresses", {arr({i(change)})}))[0], "line1")) ==
        "2 Changed St");
  int added = ids.back();
  CHECK(str_of(member(items(ok("admin", "GetAddresses", {arr({i(added)})}))[0], "line1")) ==
        "5 New St");
  CHECK(items(ok("admin", "GetAddresses", {arr({i(drop)})})).empty());
  // Another site's address is not one of this site's: nothing changes.
  CHECK(fault("admin", "UpdateSite", {i(site_a), obj({{"addresses", arr({i(keep), i(other)})}})}) ==
        102);
  CHECK(fault("admin", "UpdateSite",
              {i(site_a), obj({{"addresses", arr({obj({{"address_id", s("x")}})})}})}) == 102);
  CHECK(list("GetSites", site_a, "address_ids") == ids);
  CHECK(items(ok("admin", "GetAddresses", {arr({i(other)})})).size() == 1);
  // A PI of another site may not touch them.
  CHECK(fault("pi_b", "UpdateSite", {i(site_a), obj({{"addresses", arr({})}})}) == 108);
  ok("admin", "UpdateSite", {i(site_a), obj({{"addresses", arr({})}})});
  CHECK(list("GetSites", site_a, "address_ids").empty());
}

TEST_CASE_METHOD(related_world, "UpdatePerson's sites and keys go through their methods") {
  int p = new_person("r1");
  ok("admin", "AddPersonToSite", {i(p), i(site_a)});
  ok("admin", "AddRoleToPerson", {s("user"), i(p)});
  // `roles` is accepted and changes nothing, as in PLCAPI (a Person field
  // before it is a related one): AddRoleToPerson is the way.
  ok("admin", "UpdatePerson", {i(p), obj({{"roles", arr({s("tech"), i(20)})}, {"bio", s("r")}})});
  CHECK(list("GetPersons", p, "role_ids") == std::vector<int>{30});
  CHECK(str_of(member(items(ok("admin", "GetPersons", {arr({i(p)})}))[0], "bio")) == "r");

  // Sites: admins only (AddPersonToSite); the order of the list is not the primary site.
  CHECK(fault("pi", "UpdatePerson", {i(p), obj({{"sites", arr({i(site_a), i(site_b)})}})}) == 103);
  ok("admin", "UpdatePerson", {i(p), obj({{"sites", arr({s(base_b), i(site_a)})}})});
  CHECK(list("GetPersons", p, "site_ids") == std::vector<int>{site_a, site_b});
  ok("admin", "UpdatePerson", {i(p), obj({{"sites", arr({i(site_b)})}})});
  CHECK(list("GetPersons", p, "site_ids") == std::vector<int>{site_b});

  // Keys: the user itself adds, changes and removes its keys.
  int mine = int_of(ok("user", "AddPersonKey",
                       {i(id["user"]), obj({{"key_type", s("ssh")}, {"key", s(key_one)}})}));
  ok("user", "UpdatePerson",
     {i(id["user"]),
      obj({{"keys", arr({i(mine), obj({{"key_type", s("ssh")}, {"key", s(key_two)}})})}})});
  auto keys = list("GetPersons", id["user"], "key_ids");
  REQUIRE(keys.size() == 2);
  CHECK(keys[0] == mine);
  ok("user", "UpdatePerson", {i(id["user"]), obj({{"keys", arr({i(keys[1])})}})});
  CHECK(list("GetPersons", id["user"], "key_ids") == std::vector<int>{keys[1]});
  CHECK(items(ok("admin", "GetKeys", {arr({i(mine)})})).empty());
  // Somebody else's key id is refused; nothing changes.
  CHECK(fault("user", "UpdatePerson", {i(id["user"]), obj({{"keys", arr({i(999999)})}})}) == 102);
  CHECK(fault("user_b", "UpdatePerson", {i(id["user"]), obj({{"keys", arr({})}})}) == 108);
  CHECK(list("GetPersons", id["user"], "key_ids") == std::vector<int>{keys[1]});
}

TEST_CASE_METHOD(related_world, "AddPerson and UpdatePerson: tags by name, other keys refused") {
  int p = int_of(ok("admin", "AddPerson",
                    {obj({{"email", s("t." + sfx + "@x.org")},
                          {"first_name", s("F")},
                          {"last_name", s("L")},
                          {"enabled", b(true)}, // dropped, as PLCAPI
                          {"sfa_created", s("yes")}})}));
  auto row =
      items(ok("admin", "GetPersons", {arr({i(p)}), arr({s("enabled"), s("sfa_created")})}))[0];
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "enabled")).cvalue());
  CHECK(str_of(member(row, "sfa_created")) == "yes");
  ok("admin", "UpdatePerson", {i(p), obj({{"hrn", s("plc.custom.t")}, {"bio", s("b")}})});
  CHECK(hrn("GetPersons", p) == "plc.custom.t");

  auto r = call("admin", "UpdatePerson", {i(p), obj({{"bio", s("c")}, {"shoe_size", i(9)}})});
  CHECK(r.code == 102);
  CHECK(r.text.find("Cannot update Person column(s) ['shoe_size']") != std::string::npos);
  r = call("admin", "UpdatePerson", {i(p), obj({{"person_id", i(1)}})});
  CHECK(r.code == 102);
  CHECK(r.text.find("unaccepted key person_id") != std::string::npos);
  CHECK(fault("admin", "UpdatePerson", {i(p), obj({{"hrn", i(3)}})}) == 102);
  // A tag type that is not a person's (category without "person") is no key.
  CHECK(fault("admin", "UpdatePerson", {i(p), obj({{"arch", s("x86_64")}})}) == 102);
  CHECK(str_of(member(items(ok("admin", "GetPersons", {arr({i(p)})}))[0], "bio")) == "b");
  r = call("admin", "AddPerson",
           {obj({{"email", s("u." + sfx + "@x.org")},
                 {"first_name", s("F")},
                 {"last_name", s("L")},
                 {"roles", arr({s("user")})}})});
  CHECK(r.code == 102);
  CHECK(r.text.find("unaccepted key roles") != std::string::npos);
  CHECK(items(ok("admin", "GetPersons", {obj({{"email", s("u." + sfx + "@x.org")}})})).empty());
  CHECK(fault("admin", "AddPerson",
              {obj({{"email", s("v." + sfx + "@x.org")},
                    {"first_name", s("F")},
                    {"last_name", s("L")},
                    {"date_created", i(5)}})}) == 102);
}
