// Organizations: groups of sites whose PI members hold PI rights over every site.
#include "admindb_world.hpp"

#include <algorithm>

using namespace pl::test;

TEST_CASE_METHOD(admindb_world, "organizations: admins create, name, update and delete them") {
  std::string name = "Consortium " + sfx;
  int org = int_of(ok("admin", "AddOrganization",
                      {obj({{"name", s(name)}, {"description", s("Universities")}})}));
  CHECK(fault("admin", "AddOrganization", {obj({{"name", s(name)}})}) == 102);
  CHECK(fault("admin", "AddOrganization", {obj({{"description", s("no name")}})}) == 102);
  CHECK(fault("pi", "AddOrganization", {obj({{"name", s("x" + sfx)}})}) == 103);
  CHECK(fault("user", "AddOrganization", {obj({{"name", s("y" + sfx)}})}) == 103);

  auto row = items(ok("user", "GetOrganizations", {s(name)}))[0];
  CHECK(int_of(member(row, "organization_id")) == org);
  CHECK(str_of(member(row, "description")) == "Universities");
  CHECK(member(row, "url").type() == xv::TYPE_NIL);
  CHECK(items(member(row, "site_ids")).empty());
  CHECK(int_of(member(row, "date_created")) == 1'000'000'000);

  ok("admin", "AddSiteToOrganization", {s(base_a), s(name)});
  ok("admin", "AddSiteToOrganization", {i(site_b), i(org)});
  ok("admin", "AddSiteToOrganization", {i(site_b), i(org)}); // no error twice
  ok("admin", "AddPersonToOrganization", {s(email["pi"]), i(org)});
  CHECK(fault("pi", "AddSiteToOrganization", {i(site_a), i(org)}) == 103);
  CHECK(fault("admin", "AddSiteToOrganization", {i(999999), i(org)}) == 102);
  auto row2 = items(ok("tech", "GetOrganizations", {arr({i(org)})}))[0];
  CHECK(ints(member(row2, "site_ids")) == std::vector<int>{site_a, site_b});
  CHECK(ints(member(row2, "person_ids")) == std::vector<int>{id["pi"]});
  auto site =
      items(ok("anonymous", "GetSites", {arr({i(site_a)}), arr({s("organization_ids")})}))[0];
  CHECK(ints(member(site, "organization_ids")) == std::vector<int>{org});
  CHECK(ids("admin", "GetOrganizations", {obj({{"name", s("Consortium*")}, {"site_ids", nil}})},
            "organization_id")
            .empty());

  ok("admin", "UpdateOrganization", {i(org), obj({{"url", s("http://c.example/")}})});
  // A PI member may update the organization; other PIs may not.
  ok("pi", "UpdateOrganization", {s(name), obj({{"description", s("Edited")}})});
  CHECK(fault("pi_b", "UpdateOrganization", {i(org), obj({{"description", s("x")}})}) == 108);
  CHECK(fault("admin", "UpdateOrganization", {i(org), obj({{"name", s("")}})}) == 102);
  auto row3 = items(ok("admin", "GetOrganizations", {arr({i(org)})}))[0];
  CHECK(str_of(member(row3, "url")) == "http://c.example/");
  CHECK(str_of(member(row3, "description")) == "Edited");

  ok("admin", "DeleteSiteFromOrganization", {i(site_b), i(org)});
  ok("admin", "DeletePersonFromOrganization", {i(id["pi"]), s(name)});
  auto row4 = items(ok("admin", "GetOrganizations", {arr({i(org)})}))[0];
  CHECK(ints(member(row4, "site_ids")) == std::vector<int>{site_a});
  CHECK(items(member(row4, "person_ids")).empty());
  CHECK(fault("pi", "DeleteOrganization", {i(org)}) == 103);
  ok("admin", "DeleteOrganization", {s(name)});
  CHECK(items(ok("admin", "GetOrganizations", {arr({i(org)})})).empty());
  CHECK(ids("admin", "GetSites", {arr({i(site_a)})}, "site_id").size() == 1); // sites stay
  // The name can be used again.
  CHECK(fault("admin", "AddOrganization", {obj({{"name", s(name)}})}) == 0);
}

TEST_CASE_METHOD(admindb_world, "a PI member of an organization is a PI of all of its sites") {
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("Org " + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  // pi_b is a PI at site B only: no rights at A yet.
  CHECK(fault("pi_b", "UpdateSite", {i(site_a), obj({{"name", s("By B")}})}) == 108);
  CHECK(fault("pi_b", "UpdatePerson", {i(id["user"]), obj({{"bio", s("x")}})}) == 108);
  auto sees_user = [&] {
    return !ids("pi_b", "GetPersons", {arr({i(id["user"])})}, "person_id").empty();
  };
  CHECK_FALSE(sees_user());

  ok("admin", "AddPersonToOrganization", {i(id["pi_b"]), i(org)});
  ok("pi_b", "UpdateSite", {i(site_a), obj({{"name", s("By B")}})});
  CHECK(fault("pi_b", "UpdateSite", {i(site_a), obj({{"max_slices", i(3)}})}) == 0);
  CHECK(int_of(member(items(ok("admin", "GetSites", {arr({i(site_a)})}))[0], "max_slices")) == 0);
  int addr = int_of(ok("pi_b", "AddSiteAddress",
                       {i(site_a), obj({{"line1", s("x")},
                                        {"city", s("c")},
                                        {"state", s("s")},
                                        {"postalcode", s("p")},
                                        {"country", s("k")}})}));
  ok("pi_b", "DeleteAddress", {i(addr)});
  CHECK(sees_user());
  ok("pi_b", "UpdatePerson", {i(id["user"]), obj({{"bio", s("by the org PI")}})});
  ok("pi_b", "AddRoleToPerson", {s("tech"), i(id["user"])});
  CHECK(fault("pi_b", "UpdatePerson", {i(id["pi"]), obj({{"bio", s("x")}})}) == 108); // a PI
  CHECK(fault("pi_b", "AddRoleToPerson", {s("pi"), i(id["user"])}) == 102);

  // Membership without the pi role gives nothing.
  ok("admin", "AddPersonToOrganization", {i(id["user_b"]), i(org)});
  CHECK(ids("user_b", "GetPersons", {arr({i(id["user"])})}, "person_id").empty());
  CHECK(fault("user_b", "UpdatePerson", {i(id["user"]), obj({{"bio", s("x")}})}) == 108);

  // Leaving the organization, or the site leaving it, ends the rights.
  ok("admin", "DeleteSiteFromOrganization", {i(site_a), i(org)});
  CHECK(fault("pi_b", "UpdateSite", {i(site_a), obj({{"name", s("x")}})}) == 108);
  CHECK_FALSE(sees_user());
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  CHECK(sees_user());
  ok("admin", "DeletePersonFromOrganization", {s(email["pi_b"]), i(org)});
  CHECK_FALSE(sees_user());
  CHECK(fault("pi_b", "UpdateSite", {i(site_a), obj({{"name", s("x")}})}) == 108);

  // Deleting a site or a person clears their memberships.
  ok("admin", "AddPersonToOrganization", {i(id["pi_b"]), i(org)});
  ok("admin", "DeleteSite", {i(site_a)});
  auto row = items(ok("admin", "GetOrganizations", {arr({i(org)})}))[0];
  CHECK(items(member(row, "site_ids")).empty());
  ok("admin", "DeletePerson", {i(id["pi_b"])});
  auto row2 = items(ok("admin", "GetOrganizations", {arr({i(org)})}))[0];
  CHECK(ints(member(row2, "person_ids")) == std::vector<int>{id["user_b"]});
}
