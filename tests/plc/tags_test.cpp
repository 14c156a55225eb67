// TagTypes with their role lists, site and person tags, and tag names as
// fields of GetSites/GetPersons, through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

#include <set>

using namespace pl::test;

namespace {

std::vector<std::string> strs(const xv& v) {
  std::vector<std::string> out;
  for (auto& x : items(v))
    out.push_back(str_of(x));
  return out;
}

std::set<std::string> keys_of(const xv& v) {
  std::set<std::string> out;
  for (auto& [k, _] : xmlrpc_c::value_struct(v).cvalue())
    out.insert(k);
  return out;
}

struct tags_world : admindb_world {
  /// Adds a tag type named `name` + suffix that callers with `roles` may set.
  std::string add_type(const std::string& name, std::vector<std::string> roles) {
    std::string tagname = name + sfx;
    ok("admin", "AddTagType",
       {obj({{"tagname", s(tagname)}, {"category", s("test")}, {"description", s(name)}})});
    for (auto& r : roles)
      ok("admin", "AddRoleToTagType", {s(r), s(tagname)});
    return tagname;
  }

  xv tag_type(const std::string& tagname) {
    auto rows = items(ok("user", "GetTagTypes", {arr({s(tagname)})}));
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
};

} // namespace

TEST_CASE_METHOD(tags_world, "the standard tag types are seeded with their role lists") {
  auto arch = tag_type("arch");
  CHECK(str_of(member(arch, "category")) == "node/slice/config");
  // Nodes set their flavour tags too (schema 0230, as PLCAPI's accessors).
  CHECK(ints(member(arch, "role_ids")) == std::vector<int>{10, 20, 30, 40, 50});
  CHECK(strs(member(arch, "roles")) ==
        std::vector<std::string>{"admin", "pi", "user", "tech", "node"});
  CHECK(ints(member(tag_type("deployment"), "role_ids")) == std::vector<int>{10});
  CHECK(ints(member(tag_type("ifname"), "role_ids")) == std::vector<int>{10, 20, 40});
  CHECK(ints(member(tag_type("ipv6addr"), "role_ids")) == std::vector<int>{10, 40});
  for (const char* name : {"pldistro", "fcdistro", "hrn", "kargs", "disabled_registration"})
    CHECK(items(ok("tech", "GetTagTypes", {arr({s(name)})})).size() == 1);
  // Slice tag types came with the slices (migration 0201; slice_tags_test has the rest).
  CHECK(items(ok("admin", "GetTagTypes", {arr({s("vref"), s("initscript")})})).size() == 2);
  CHECK(keys_of(arch) == std::set<std::string>{"tag_type_id", "tagname", "description", "category",
                                               "role_ids", "roles"});
}

TEST_CASE_METHOD(tags_world, "tag types: admins add, update and delete them; role lists") {
  std::string name = "color" + sfx;
  // role_ids is not writable here: AddRoleToTagType is the way.
  int id = int_of(ok("admin", "AddTagType",
                     {obj({{"tagname", s(name)},
                           {"description", s("Colour")},
                           {"category", s("site/test")},
                           {"role_ids", arr({i(20)})}})}));
  auto row = tag_type(name);
  CHECK(int_of(member(row, "tag_type_id")) == id);
  CHECK(str_of(member(row, "description")) == "Colour");
  CHECK(ints(member(row, "role_ids")).empty());
  // A bare id or name is a filter too; a struct filters on any field.
  CHECK(ids("pi", "GetTagTypes", {i(id)}, "tag_type_id") == std::vector<int>{id});
  CHECK(ids("pi", "GetTagTypes", {obj({{"category", s("site/test")}, {"tagname", s(name)}})},
            "tag_type_id") == std::vector<int>{id});
  CHECK(str_of(member(
            items(ok("admin", "GetTagTypes", {obj({{"tagname", s("colo*" + sfx)}}), nil}))[0],
            "category")) == "site/test");
  // Category defaults to 'general'.
  std::string plain = "plain" + sfx;
  ok("admin", "AddTagType", {obj({{"tagname", s(plain)}})});
  CHECK(str_of(member(tag_type(plain), "category")) == "general");

  CHECK(fault("admin", "AddTagType", {obj({{"tagname", s(name)}})}) == 102);
  CHECK(fault("admin", "AddTagType", {obj({{"tagname", s("")}})}) == 102);
  CHECK(fault("admin", "AddTagType", {obj({{"description", s("no name")}})}) == 102);
  CHECK(fault("pi", "AddTagType", {obj({{"tagname", s("x" + sfx)}})}) == 103);
  CHECK(fault("tech", "UpdateTagType", {s(name), obj({{"category", s("x")}})}) == 103);

  ok("admin", "UpdateTagType", {s(name), obj({{"category", s("site/colour")}})});
  CHECK(str_of(member(tag_type(name), "category")) == "site/colour");
  auto r = call("admin", "UpdateTagType", {i(id), obj({{"roles", arr({s("pi")})}})});
  CHECK(r.code == 102);
  CHECK(r.text.find("AddRoleToTagType") != std::string::npos);
  CHECK(fault("admin", "UpdateTagType", {i(id), obj({{"tagname", s(plain)}})}) == 102);
  CHECK(fault("admin", "UpdateTagType", {i(id), obj({{"tagname", s("")}})}) == 102);
  CHECK(fault("admin", "UpdateTagType", {s("nosuch" + sfx), obj({})}) == 102);

  ok("admin", "AddRoleToTagType", {s("pi"), s(name)});
  ok("admin", "AddRoleToTagType", {i(30), i(id)});
  ok("admin", "AddRoleToTagType", {s("pi"), i(id)}); // twice changes nothing
  CHECK(ints(member(tag_type(name), "role_ids")) == std::vector<int>{20, 30});
  CHECK(strs(member(tag_type(name), "roles")) == std::vector<std::string>{"pi", "user"});
  CHECK(fault("admin", "AddRoleToTagType", {s("nosuch"), s(name)}) == 102);
  CHECK(fault("admin", "AddRoleToTagType", {s("pi"), s("nosuch" + sfx)}) == 102);
  CHECK(fault("pi", "AddRoleToTagType", {s("pi"), s(name)}) == 103);
  ok("admin", "DeleteRoleFromTagType", {s("pi"), s(name)});
  CHECK(ints(member(tag_type(name), "role_ids")) == std::vector<int>{30});

  // Deleting a type deletes its tags.
  int tag = int_of(ok("admin", "AddSiteTag", {i(site_a), s(name), s("red")}));
  ok("admin", "DeleteTagType", {s(name)});
  CHECK(items(ok("admin", "GetTagTypes", {arr({i(id)})})).empty());
  CHECK(items(ok("admin", "GetSiteTags", {i(tag)})).empty());
  // (The site keeps only the hrn tag AddSite gave it.)
  CHECK(ids("admin", "GetSiteTags", {obj({{"site_id", i(site_a)}, {"~tagname", s("hrn")}})},
            "site_tag_id")
            .empty());
  CHECK(fault("admin", "DeleteTagType", {i(id)}) == 102);
}

TEST_CASE_METHOD(tags_world, "site tags: a caller needs a role of the type and a site of its own") {
  std::string shared = add_type("shared", {"pi", "user"});
  std::string admins = add_type("admins", {"admin"});

  int t1 = int_of(ok("pi", "AddSiteTag", {i(site_a), s(shared), s("v1")}));
  auto row = items(ok("user", "GetSiteTags", {i(t1)}))[0];
  CHECK(keys_of(row) == std::set<std::string>{"site_tag_id", "site_id", "login_base", "tag_type_id",
                                              "tagname", "description", "category", "value"});
  CHECK(int_of(member(row, "site_id")) == site_a);
  CHECK(str_of(member(row, "login_base")) == base_a);
  CHECK(str_of(member(row, "tagname")) == shared);
  CHECK(str_of(member(row, "category")) == "test");
  CHECK(str_of(member(row, "value")) == "v1");
  auto site_tags =
      ints(member(items(ok("admin", "GetSites", {arr({i(site_a)})}))[0], "site_tag_ids"));
  CHECK(std::count(site_tags.begin(), site_tags.end(), t1) == 1);
  CHECK(site_tags.size() == 2); // and the site's hrn

  // One value per site and type.
  CHECK(fault("pi", "AddSiteTag", {i(site_a), s(shared), s("v2")}) == 102);
  // Not their site, wrong role, admin-only type.
  CHECK(fault("pi_b", "AddSiteTag", {i(site_a), s(admins), s("x")}) == 108);
  CHECK(fault("pi", "AddSiteTag", {i(site_a), s(admins), s("x")}) == 108);
  CHECK(fault("tech", "UpdateSiteTag", {i(t1), s("tech")}) == 108);
  CHECK(fault("user_b", "UpdateSiteTag", {i(t1), s("b")}) == 108);
  CHECK(fault("pi_b", "DeleteSiteTag", {i(t1)}) == 108);
  CHECK(fault("tech", "DeleteSiteTag", {i(t1)}) == 103); // not in the method's roles
  CHECK(fault("pi", "AddSiteTag", {i(999999), s(shared), s("x")}) == 102);
  CHECK(fault("pi", "AddSiteTag", {i(site_a), s("nosuch" + sfx), s("x")}) == 102);
  CHECK(fault("pi", "UpdateSiteTag", {i(999999), s("x")}) == 102);
  // A user of the site holding a role of the type may change it.
  ok("user", "UpdateSiteTag", {i(t1), s("by user")});
  CHECK(str_of(member(items(ok("pi_b", "GetSiteTags", {arr({i(t1)})}))[0], "value")) == "by user");
  // Admins may set anything anywhere.
  int t2 = int_of(ok("admin", "AddSiteTag", {i(site_b), s(admins), s("adm")}));
  CHECK(fault("pi_b", "UpdateSiteTag", {i(t2), s("x")}) == 108);
  ok("admin", "UpdateSiteTag", {i(t2), s("adm2")});

  // A PI through an organization holds PI rights over its sites.
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("Tags org " + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_b), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id["pi"]), i(org)});
  int t3 = int_of(ok("pi", "AddSiteTag", {i(site_b), s(shared), s("org")}));
  CHECK(fault("user", "AddSiteTag", {i(site_b), s(admins + "x"), s("x")}) == 102);

  CHECK(fault("user_b", "DeleteSiteTag", {i(t1)}) == 108);
  ok("user", "DeleteSiteTag", {i(t1)});
  CHECK(items(ok("admin", "GetSiteTags", {arr({i(t1)})})).empty());
  CHECK(ids("admin", "GetSiteTags", {obj({{"site_id", i(site_b)}, {"~tagname", s("hrn")}})},
            "site_tag_id") == std::vector<int>{t2, t3});

  // The tags of a deleted site are gone with it.
  ok("admin", "DeleteSite", {i(site_b)});
  CHECK(items(ok("admin", "GetSiteTags", {arr({i(t2), i(t3)})})).empty());
  CHECK(fault("admin", "UpdateSiteTag", {i(t2), s("x")}) == 102);
}

TEST_CASE_METHOD(tags_world, "person tags: a person on itself, admins on anyone") {
  std::string note = add_type("note", {"admin"});
  // The original checks no role list for person tags: a person may tag itself.
  int own = int_of(ok("user", "AddPersonTag", {i(id["user"]), s(note), s("mine")}));
  CHECK(fault("pi", "AddPersonTag", {i(id["user"]), s(note + ""), s("pi's")}) == 102);
  CHECK(fault("pi", "UpdatePersonTag", {i(own), s("pi's")}) == 108);
  CHECK(fault("user_b", "DeletePersonTag", {i(own)}) == 108);
  int pis = int_of(ok("pi", "AddPersonTag", {i(id["pi"]), s(note), s("pi")}));
  int other = int_of(ok("admin", "AddPersonTag", {i(id["user_b"]), s(note), s("b")}));
  CHECK(fault("pi", "AddPersonTag", {i(id["tech"]), s(note), s("t")}) == 108);
  ok("user", "UpdatePersonTag", {i(own), s("still mine")});
  ok("admin", "UpdatePersonTag", {i(other), s("b2")});
  auto row = items(ok("user", "GetPersonTags", {i(own)}))[0];
  CHECK(str_of(member(row, "email")) == email["user"]);
  CHECK(str_of(member(row, "value")) == "still mine");
  auto tag_ids =
      ints(member(items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0], "person_tag_ids"));
  CHECK(std::count(tag_ids.begin(), tag_ids.end(), own) == 1);
  CHECK(tag_ids.size() == 2); // and the hrn AddPersonToSite gave the account

  // Who sees what: oneself; a PI also the persons of its sites; admins all.
  auto visible = [&](const std::string& actor) {
    auto got = ids(actor, "GetPersonTags", {arr({i(own), i(pis), i(other)})}, "person_tag_id");
    return std::set<int>(got.begin(), got.end());
  };
  CHECK(visible("user") == std::set<int>{own});
  CHECK(visible("tech").empty());
  CHECK(visible("pi") == std::set<int>{own, pis});
  CHECK(visible("pi_b") == std::set<int>{other});
  CHECK(visible("admin") == std::set<int>{own, pis, other});

  ok("user", "DeletePersonTag", {i(own)});
  CHECK(visible("admin") == std::set<int>{pis, other});
}

TEST_CASE_METHOD(tags_world,
                 "tag names are filter, sort and return fields of GetSites/GetPersons") {
  std::string level = add_type("level", {"pi"});
  ok("pi", "AddSiteTag", {i(site_a), s(level), s("gold")});
  ok("pi_b", "AddSiteTag", {i(site_b), s(level), s("silver")});

  auto rows = items(
      ok("anonymous", "GetSites", {obj({{level, s("gold")}}), arr({s("login_base"), s(level)})}));
  REQUIRE(rows.size() == 1);
  CHECK(str_of(member(rows[0], "login_base")) == base_a);
  CHECK(str_of(member(rows[0], level)) == "gold");
  CHECK(keys_of(rows[0]) == std::set<std::string>{"login_base", level});
  CHECK(ids("user", "GetSites", {obj({{level, s("*l*")}, {"-SORT", s("-" + level)}})}, "site_id") ==
        std::vector<int>{site_b, site_a});
  CHECK(ids("user", "GetSites", {obj({{"~" + level, s("gold")}, {"login_base", s(base_b)}})},
            "site_id") == std::vector<int>{site_b});
  // Untagged objects read nil; all fields by default, no tags.
  std::string other = add_type("other", {"pi"});
  CHECK(member(items(ok("user", "GetSites", {i(site_a), arr({s(other)})}))[0], other).type() ==
        xv::TYPE_NIL);
  CHECK(keys_of(items(ok("user", "GetSites", {i(site_a)}))[0]).count(level) == 0);
  CHECK(fault("user", "GetSites", {nil, arr({s("nosuch" + sfx)})}) == 102);
  CHECK(fault("user", "GetSites", {obj({{"nosuch" + sfx, s("x")}})}) == 102);

  std::string nick = add_type("nick", {"user"});
  ok("user", "AddPersonTag", {i(id["user"]), s(nick), s("Bob")});
  ok("pi", "AddPersonTag", {i(id["pi"]), s(nick), s("Alice")});
  auto persons = items(ok("admin", "GetPersons", {obj({{nick, s("Bob")}}), arr({s(nick)})}));
  REQUIRE(persons.size() == 1);
  CHECK(str_of(member(persons[0], nick)) == "Bob");
  CHECK(ids("admin", "GetPersons", {obj({{nick, arr({s("Alice"), s("Bob")})}, {"-SORT", s(nick)}})},
            "person_id") == std::vector<int>{id["pi"], id["user"]});
  // The usual visibility still applies: user_b sees neither.
  CHECK(items(ok("user_b", "GetPersons", {obj({{nick, s("Bob")}})})).empty());
}

TEST_CASE_METHOD(tags_world, "tag writes are events naming the objects they touched") {
  std::string name = add_type("evt", {});
  int tag = int_of(ok("admin", "AddSiteTag", {i(site_a), s(name), s("x")}));
  auto events = items(ok("admin", "GetEvents", {obj({{"call_name", s("AddSiteTag")}})}));
  REQUIRE_FALSE(events.empty());
  auto last = events.back();
  CHECK(str_of(items(member(last, "object_types"))[0]) == "SiteTag");
  CHECK(ints(member(last, "object_ids")) == std::vector<int>{tag});
  auto roles = items(ok("admin", "GetEvents", {obj({{"call_name", s("AddRoleToTagType")}})}));
  REQUIRE_FALSE(roles.empty());
  CHECK(str_of(member(roles.back(), "message")).find("added to tag_type") != std::string::npos);
}
