// Persons, their sites and roles through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

#include <algorithm>
#include <set>

using namespace pl::test;

namespace {

xv person_fields(const std::string& email) {
  return obj({{"first_name", s("New")},
              {"last_name", s("O'Person")},
              {"email", s(email)},
              {"password", s("secret")},
              {"enabled", b(true)}});
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

} // namespace

TEST_CASE_METHOD(admindb_world, "AddPerson creates a disabled account; the password is hashed") {
  std::string login = "New." + sfx + "@Example.org";
  int pid = int_of(ok("admin", "AddPerson", {person_fields(login)}));
  auto row = items(ok("admin", "GetPersons", {arr({i(pid)})}))[0];
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "enabled")).cvalue());
  CHECK(str_of(member(row, "email")) == "new." + sfx + "@example.org"); // lowercased
  CHECK_FALSE(has_key(row, "password"));
  CHECK_FALSE(has_key(row, "verification_key"));
  CHECK_FALSE(has_key(row, "verification_expires"));
  for (const char* name :
       {"person_id", "first_name", "last_name", "title", "email", "phone", "url", "bio", "enabled",
        "last_updated", "date_created", "role_ids", "roles", "site_ids", "key_ids", "slice_ids",
        "peer_id", "peer_person_id", "person_tag_ids"})
    CHECK(has_key(row, name));
  {
    auto conn = pool.acquire();
    auto res =
        conn->exec("SELECT password FROM persons WHERE person_id = $1", {std::to_string(pid)});
    CHECK(std::string{res.text(0, 0)}.rfind("$scrypt$", 0) == 0);
  }
  // A disabled account cannot log in; once an admin enables it, it can.
  email["new"] = "new." + sfx + "@example.org";
  CHECK(fault("new", "AuthCheck", {}) == 103);
  CHECK(mails().empty());
  ok("admin", "UpdatePerson", {i(pid), obj({{"enabled", b(true)}, {"title", s("Dr")}})});
  auto sent = mails(); // PLCAPI mails the person when `enabled` is set
  REQUIRE(sent.size() == 1);
  CHECK_THAT(sent[0], Catch::Contains("TestLab account enabled") &&
                          Catch::Contains("new." + sfx + "@example.org"));
  ok("admin", "AddRoleToPerson", {s("user"), i(pid)});
  password["new"] = "secret";
  CHECK(fault("new", "AuthCheck", {}) == 0);
}

TEST_CASE_METHOD(admindb_world, "AddPerson validates e-mail, mandatory fields and roles") {
  CHECK(fault("admin", "AddPerson", {person_fields(email["user"])}) == 102); // in use
  CHECK(fault("admin", "AddPerson", {person_fields("USER." + sfx + "@TEST.ORG")}) == 102);
  CHECK(fault("admin", "AddPerson", {person_fields("not-an-address")}) == 102);
  CHECK(fault("admin", "AddPerson", {obj({{"email", s("x" + sfx + "@t.org")}})}) == 102);
  CHECK(fault("admin", "AddPerson",
              {obj({{"email", s("y" + sfx + "@t.org")},
                    {"first_name", s("")},
                    {"last_name", s("L")}})}) == 102);
  CHECK(fault("admin", "AddPerson",
              {obj({{"email", s("z" + sfx + "@t.org")},
                    {"first_name", s(std::string(129, 'f'))},
                    {"last_name", s("L")}})}) == 102);
  CHECK(fault("user", "AddPerson", {person_fields("u" + sfx + "@t.org")}) == 103);
  CHECK(fault("tech", "AddPerson", {person_fields("t" + sfx + "@t.org")}) == 103);
  CHECK(fault("pi", "AddPerson", {person_fields("p" + sfx + "@t.org")}) == 0);
}

TEST_CASE_METHOD(admindb_world, "GetPersons shows each role what PLCAPI's can_view allows") {
  std::vector<int> everyone{id["admin"], id["pi"],   id["user"],
                            id["tech"],  id["pi_b"], id["user_b"]};
  auto visible = [&](const std::string& who) {
    auto all = ids(who, "GetPersons", {}, "person_id");
    std::vector<int> out;
    for (int p : all)
      if (std::find(everyone.begin(), everyone.end(), p) != everyone.end())
        out.push_back(p);
    return sorted(out);
  };
  CHECK(visible("admin") == sorted(everyone));
  CHECK(visible("pi") == sorted({id["pi"], id["user"], id["tech"]}));
  CHECK(visible("tech") == sorted({id["pi"], id["user"], id["tech"]})); // 5.x: techs see their site
  CHECK(visible("user") == std::vector<int>{id["user"]});
  CHECK(visible("pi_b") == sorted({id["pi_b"], id["user_b"]}));
  // Filters cannot widen the view.
  CHECK(ids("user", "GetPersons", {arr({i(id["pi"]), s(email["user_b"])})}, "person_id").empty());
  CHECK(ids("pi", "GetPersons", {obj({{"email", s("*." + sfx + "@test.org")}})}, "person_id")
            .size() == 3);
  CHECK(ids("pi", "GetPersons", {s(email["user"])}, "person_id") == std::vector<int>{id["user"]});
  // The password is never returned, even when asked for.
  auto rows = ok("admin", "GetPersons", {arr({i(id["user"])}), arr({s("email"), s("password")})});
  CHECK(xmlrpc_c::value_struct(items(rows)[0]).cvalue().size() == 1);
  CHECK(fault("admin", "GetPersons", {obj({{"password", s("x")}})}) == 102);
  CHECK(fault("anonymous", "GetPersons", {}) == 103);
}

TEST_CASE_METHOD(admindb_world, "UpdatePerson and DeletePerson follow can_update") {
  ok("user", "UpdatePerson", {s(email["user"]), obj({{"phone", s("+1 555")}})});
  CHECK(fault("user", "UpdatePerson", {i(id["tech"]), obj({{"phone", s("x")}})}) == 108);
  CHECK(fault("tech", "UpdatePerson", {i(id["user"]), obj({{"phone", s("x")}})}) == 108);
  ok("pi", "UpdatePerson", {i(id["user"]), obj({{"bio", s("at A")}})});
  ok("pi", "UpdatePerson", {i(id["tech"]), obj({{"enabled", b(false)}})}); // PIs enable/disable
  CHECK(fault("tech", "AuthCheck", {}) == 103);
  CHECK(fault("pi", "UpdatePerson", {i(id["user_b"]), obj({{"bio", s("x")}})}) == 108);
  CHECK(fault("pi", "UpdatePerson", {i(id["admin"]), obj({{"bio", s("x")}})}) == 108);
  int other_pi = add_actor("pi2", {20}, base_a);
  CHECK(fault("pi", "UpdatePerson", {i(other_pi), obj({{"bio", s("x")}})}) == 108);
  ok("admin", "UpdatePerson", {i(other_pi), obj({{"last_name", s("Smith")}})});
  CHECK(fault("admin", "UpdatePerson", {i(other_pi), obj({{"last_name", s("")}})}) == 102);
  CHECK(fault("admin", "UpdatePerson", {i(other_pi), obj({{"email", s(email["user"])}})}) == 102);
  CHECK(fault("admin", "UpdatePerson", {i(999999), obj({{"bio", s("x")}})}) == 102);

  // A new password works at once; the old one no longer does.
  ok("user", "UpdatePerson", {i(id["user"]), obj({{"password", s("n3w")}})});
  CHECK(fault("user", "AuthCheck", {}) == 103);
  ok("admin", "UpdatePerson", {i(id["user"]), obj({{"password", s("pw")}})});
  CHECK(fault("user", "AuthCheck", {}) == 0);

  CHECK(fault("user", "DeletePerson", {i(id["pi"])}) == 108);
  CHECK(fault("pi", "DeletePerson", {i(id["user_b"])}) == 108);
  CHECK(fault("pi", "DeletePerson", {i(other_pi)}) == 108);
  ok("pi", "DeletePerson", {i(id["user"])});
  CHECK(fault("user", "AuthCheck", {}) == 103);
  CHECK(ids("admin", "GetPersons", {arr({i(id["user"])})}, "person_id").empty());
  ok("user_b", "DeletePerson", {s(email["user_b"])}); // anyone may delete themselves
  CHECK(fault("admin", "DeletePerson", {i(id["user_b"])}) == 102);

  // The e-mail of a deleted account can be used again.
  int reborn = int_of(ok("admin", "AddPerson", {person_fields(email["user"])}));
  CHECK(reborn != id["user"]);
  auto gone =
      items(ok("admin", "GetPersons", {obj({{"deleted", b(true)}, {"email", s(email["user"])}})}));
  REQUIRE(gone.size() == 1);
  CHECK(int_of(member(gone[0], "person_id")) == id["user"]);
  CHECK(items(member(gone[0], "site_ids")).empty());
  CHECK(items(member(gone[0], "role_ids")).empty());
  CHECK(ids("pi", "GetPersons", {obj({{"deleted", b(true)}})}, "person_id").empty());
}

TEST_CASE_METHOD(admindb_world, "persons belong to several sites, the primary one first") {
  int u = id["user"];
  ok("admin", "AddPersonToSite", {s(email["user"]), s(base_b)});
  ok("admin", "AddPersonToSite", {i(u), i(site_b)}); // no error twice
  auto site_ids = [&] {
    return ints(member(items(ok("admin", "GetPersons", {arr({i(u)})}))[0], "site_ids"));
  };
  CHECK(site_ids() == std::vector<int>{site_a, site_b}); // adding keeps the primary
  CHECK(fault("user", "SetPersonPrimarySite", {i(id["tech"]), i(site_a)}) == 108);
  ok("user", "SetPersonPrimarySite", {i(u), s(base_b)});
  CHECK(site_ids() == std::vector<int>{site_b, site_a});
  int c = int_of(ok("admin", "AddSite", {site_fields("sc" + sfx)}));
  CHECK(fault("user", "SetPersonPrimarySite", {i(u), i(c)}) == 102); // not a member
  CHECK(fault("admin", "SetPersonPrimarySite", {i(u), i(999999)}) == 102);
  ok("admin", "DeletePersonFromSite", {i(u), i(site_b)});
  CHECK(site_ids() == std::vector<int>{site_a});          // the remaining site became primary
  ok("admin", "DeletePersonFromSite", {i(u), i(site_b)}); // no error if not a member
  CHECK(fault("pi", "AddPersonToSite", {i(u), i(site_b)}) == 103);
  CHECK(fault("pi", "DeletePersonFromSite", {i(u), i(site_a)}) == 103);
  CHECK(fault("admin", "AddPersonToSite", {s("nobody@nowhere.org"), i(site_a)}) == 102);
}

TEST_CASE_METHOD(admindb_world, "roles: GetRoles, AddRole, DeleteRole") {
  auto roles = ok("tech", "GetRoles", {});
  std::map<int, std::string> by_id;
  for (auto& r : items(roles))
    by_id[int_of(member(r, "role_id"))] = str_of(member(r, "name"));
  CHECK(by_id.at(10) == "admin");
  CHECK(by_id.at(20) == "pi");
  CHECK(by_id.at(30) == "user");
  CHECK(by_id.at(40) == "tech");
  int rid = 100 + std::stoi(sfx);
  std::string name = "auditor" + sfx;
  ok("admin", "AddRole", {i(rid), s(name)});
  CHECK(fault("admin", "AddRole", {i(rid), s("other" + sfx)}) == 102);
  CHECK(fault("admin", "AddRole", {i(rid + 1000), s(name)}) == 102);
  CHECK(fault("pi", "AddRole", {i(rid + 2000), s("x" + sfx)}) == 103);
  ok("admin", "AddRoleToPerson", {s(name), i(id["user"])});
  auto row = items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0];
  CHECK(ints(member(row, "role_ids")) == std::vector<int>{30, rid});
  ok("admin", "DeleteRole", {s(name)});
  auto row2 = items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0];
  CHECK(ints(member(row2, "role_ids")) == std::vector<int>{30});
  CHECK(fault("admin", "DeleteRole", {i(rid)}) == 102);
}

TEST_CASE_METHOD(admindb_world, "AddRoleToPerson: role first; PIs grant only user and tech") {
  ok("pi", "AddRoleToPerson", {s("tech"), i(id["user"])});
  ok("pi", "AddRoleToPerson", {i(40), s(email["user"])}); // no error twice
  auto row = items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0];
  auto roles = items(member(row, "roles"));
  REQUIRE(roles.size() == 2);
  CHECK(str_of(roles[0]) == "user");
  CHECK(str_of(roles[1]) == "tech");
  CHECK(fault("pi", "AddRoleToPerson", {s("pi"), i(id["user"])}) == 102);
  CHECK(fault("pi", "AddRoleToPerson", {s("admin"), i(id["tech"])}) == 102);
  CHECK(fault("pi", "AddRoleToPerson", {s("tech"), i(id["user_b"])}) == 108); // not their site
  CHECK(fault("pi", "AddRoleToPerson", {s("nosuchrole"), i(id["user"])}) == 102);
  CHECK(fault("pi", "AddRoleToPerson", {i(id["user"]), s("tech")}) == 102); // wrong order
  CHECK(fault("user", "AddRoleToPerson", {s("tech"), i(id["user"])}) == 103);
  CHECK(fault("tech", "AddRoleToPerson", {s("user"), i(id["tech"])}) == 103);
  ok("admin", "AddRoleToPerson", {s("pi"), i(id["user_b"])});

  ok("pi", "DeleteRoleFromPerson", {s("tech"), i(id["user"])});
  CHECK(fault("pi", "DeleteRoleFromPerson", {s("pi"), i(id["pi"])}) == 108); // own pi role
  CHECK(fault("pi", "DeleteRoleFromPerson", {s("user"), i(id["user_b"])}) == 108);
  CHECK(fault("user", "DeleteRoleFromPerson", {s("user"), i(id["user"])}) == 103);
  ok("admin", "DeleteRoleFromPerson", {s("pi"), i(id["pi_b"])});
  auto row2 = items(ok("admin", "GetPersons", {arr({i(id["pi_b"])})}))[0];
  CHECK(items(member(row2, "role_ids")).empty());
}

TEST_CASE_METHOD(admindb_world, "writes are events with the objects they touched, no secrets") {
  int pid = int_of(ok("pi", "AddPerson", {person_fields("ev" + sfx + "@t.org")}));
  ok("admin", "AddPersonToSite", {i(pid), i(site_a)});
  auto touched = [&](const std::string& call, const std::string& type, int object) {
    return items(ok("admin", "GetEventObjects",
                    {obj({{"call_name", s(call)},
                          {"object_type", s(type)},
                          {"object_id", i(object)}})}))
        .size();
  };
  CHECK(touched("AddPerson", "Person", pid) == 1);
  CHECK(touched("AddPersonToSite", "Person", pid) == 1);
  CHECK(touched("AddPersonToSite", "Site", site_a) >= 1);
  CHECK(touched("AddSite", "Site", site_b) == 1);
  auto events = items(ok("admin", "GetEventObjects",
                         {obj({{"call_name", s("AddPerson")}, {"object_id", i(pid)}})}));
  REQUIRE(events.size() == 1);
  std::string text = str_of(member(events[0], "call"));
  CHECK(text.find("secret") == std::string::npos); // the password is redacted
  CHECK(int_of(member(events[0], "person_id")) == id["pi"]);
}
