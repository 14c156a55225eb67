// Slices, their members, nodes and whitelists, instantiations and init
// scripts through the dispatcher (PLCAPI 5.x rules).
#include "slice_world.hpp"

using namespace pl::test;

TEST_CASE_METHOD(slice_world, "AddSlice applies PLCAPI's defaults and GetSlices its fields") {
  int id = add_slice("pi", "one");
  auto row = slice("admin", id);
  CHECK(str_of(member(row, "name")) == base_a + "_one");
  CHECK(int_of(member(row, "site_id")) == site_a);
  CHECK(str_of(member(row, "instantiation")) == "plc-instantiated");
  CHECK(int_of(member(row, "max_nodes")) == 100);
  CHECK(int_of(member(row, "creator_person_id")) == id_of("pi"));
  CHECK(int_of(member(row, "created")) == t0);
  CHECK(int_of(member(row, "expires")) == t0 + 2 * week);
  CHECK(ints(member(row, "node_ids")).empty());
  CHECK(ints(member(row, "person_ids")).empty());
  CHECK(member(row, "peer_id").type() == xv::TYPE_NIL);
  for (const char* f :
       {"slice_id", "site_id", "name", "instantiation", "url", "description", "max_nodes",
        "creator_person_id", "created", "expires", "node_ids", "person_ids", "slice_tag_ids",
        "node_ids_whitelist", "peer_id", "peer_slice_id"})
    CHECK(keys_of(row).count(f) == 1);
  CHECK(keys_of(row).count("deleted") == 0);
  // The site lists it; by name, as a list or bare; return_fields.
  auto site = items(ok("admin", "GetSites", {arr({i(site_a)}), arr({s("slice_ids")})}))[0];
  CHECK(ints(member(site, "slice_ids")) == std::vector<int>{id});
  CHECK(ids("admin", "GetSlices", {s(base_a + "_one")}, "slice_id") == std::vector<int>{id});
  auto few = items(ok("admin", "GetSlices", {arr({i(id)}), arr({s("name")})}))[0];
  CHECK(keys_of(few) == std::set<std::string>{"name"});
  // Chosen fields are kept; the event names the slice.
  int other = add_slice("admin", "two", {{"instantiation", s("delegated")}, {"max_nodes", i(3)}});
  CHECK(str_of(member(slice("admin", other), "instantiation")) == "delegated");
  CHECK(int_of(member(slice("admin", other), "max_nodes")) == 3);
  auto objects = items(ok("admin", "GetEventObjects", {obj({{"call_name", s("AddSlice")}})}));
  bool named = false;
  for (auto& o : objects)
    named = named || (member(o, "object_type").type() == xv::TYPE_STRING &&
                      str_of(member(o, "object_type")) == "Slice" &&
                      int_of(member(o, "object_id")) == other);
  CHECK(named);
}

TEST_CASE_METHOD(slice_world, "AddSlice checks name, prefix, site, quota and fields") {
  auto add = [&](const std::string& actor, std::map<std::string, xv> f) {
    return call(actor, "AddSlice", {obj(f)});
  };
  auto named = [&](const std::string& name) {
    return std::map<std::string, xv>{{"name", s(name)}};
  };
  for (std::string bad :
       std::vector<std::string>{base_a, base_a + "_", "_x", base_a + "_a b", base_a + "_a-b",
                                std::string{"SA"} + sfx + "_x", ""}) {
    INFO(bad);
    auto r = add("admin", named(bad));
    CHECK(r.code == 102);
    CHECK_THAT(r.text, Catch::Contains("Invalid slice name"));
  }
  CHECK(add("admin", {}).code == 102);                                    // name is mandatory
  CHECK(add("admin", named("nosuch" + sfx + "_x")).code == 102);          // no such site
  CHECK(add("admin", named(base_a + "_Mixed.Case_1")).is_fault == false); // suffix may mix case
  CHECK(add("pi_b", named(base_a + "_x")).code == 108);                   // not their site
  CHECK(add("user", named(base_a + "_x")).code == 103);                   // role
  CHECK(add("admin", with(named(base_a + "_e"), {{"expires", i(t0 + day)}})).code == 102);
  CHECK(add("admin", with(named(base_a + "_k"), {{"bogus", s("x")}})).code == 102);
  CHECK(add("admin", with(named(base_a + "_i"), {{"instantiation", s("nosuch")}})).code == 102);
  CHECK(add("admin", with(named(base_a + "_u"), {{"url", s(std::string(255, 'u'))}})).code == 102);
  // Unique among live slices.
  add_slice("pi", "dup");
  auto dup = add("pi", named(base_a + "_dup"));
  CHECK(dup.code == 102);
  CHECK_THAT(dup.text, Catch::Contains("already in use"));
  // A disabled site creates none; nor a site at its quota, nor one with max_slices 0.
  ok("admin", "UpdateSite", {i(site_b), obj({{"enabled", b(false)}})});
  CHECK_THAT(add("admin", named(base_b + "_x")).text, Catch::Contains("disabled"));
  ok("admin", "UpdateSite", {i(site_b), obj({{"enabled", b(true)}, {"max_slices", i(1)}})});
  CHECK(add("pi_b", named(base_b + "_first")).is_fault == false);
  auto full = add("pi_b", named(base_b + "_second"));
  CHECK(full.code == 102);
  CHECK_THAT(full.text, Catch::Contains("maximum allowable slice count (1)"));
  ok("admin", "UpdateSite", {i(site_b), obj({{"max_slices", i(0)}})});
  CHECK(add("admin", named(base_b + "_third")).code == 102);
  // Nothing was created by the refused calls.
  CHECK(ids("admin", "GetSlices", {obj({{"site_id", i(site_b)}})}, "slice_id").size() == 1);
  // A PI through an organization creates slices at the organization's sites.
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("org" + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id_of("pi_b")), i(org)});
  CHECK(add("pi_b", named(base_a + "_viaorg")).is_fault == false);
}

TEST_CASE_METHOD(slice_world, "GetSlices shows members, PIs, techs and nodes their slices") {
  int mine = add_slice("pi", "mine");
  int theirs = add_slice("pi", "theirs");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(mine)});
  int b_slice = int_of(ok("pi_b", "AddSlice", {obj({{"name", s(base_b + "_b")}})}));
  int n = add_node(site_a, "n");
  ok("admin", "AddSliceToNodes", {i(b_slice), arr({i(n)})});
  using v = std::vector<int>;
  CHECK(ids("user", "GetSlices", {}, "slice_id") == v{mine});
  CHECK(ids("user", "GetSlices", {arr({i(theirs)})}, "slice_id").empty());
  CHECK(ids("pi", "GetSlices", {}, "slice_id") == v{mine, theirs});
  CHECK(ids("pi_b", "GetSlices", {}, "slice_id") == v{b_slice});
  // Techs may not call GetSlices, but a PI who is also a tech sees the slices
  // on its site's nodes too.
  CHECK(fault("tech", "GetSlices", {}) == 103);
  add_actor("pitech", {20, 40}, base_a);
  auto seen = ids("pitech", "GetSlices", {}, "slice_id");
  CHECK(std::set<int>(seen.begin(), seen.end()) == std::set<int>{mine, theirs, b_slice});
  // Nodes and admins see every slice.
  auto by_node = call_as_node(node_key(n), "GetSlices", {arr({i(mine), i(b_slice)})});
  REQUIRE_FALSE(by_node.is_fault);
  CHECK(items(by_node.value).size() == 2);
  CHECK(ids("admin", "GetSlices", {arr({i(mine), i(theirs), i(b_slice)})}, "slice_id").size() == 3);
  CHECK(fault("anonymous", "GetSlices", {}) == 103);
}

TEST_CASE_METHOD(slice_world,
                 "Expired slices are hidden, reaped by AddSlice, and admins find them") {
  int old = add_slice("pi", "old");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(old)});
  clock.advance(std::chrono::seconds{2 * week}); // expires == now: expired
  CHECK(ids("admin", "GetSlices", {arr({i(old)})}, "slice_id").empty());
  CHECK(ids("user", "GetSlices", {}, "slice_id").empty());
  CHECK(fault("admin", "UpdateSlice", {i(old), obj({{"url", s("http://x")}})}) == 102);
  CHECK(fault("user", "DeleteSlice", {i(old)}) == 102);
  // An admin filtering on expires sees it (not yet reaped).
  auto found = ids("admin", "GetSlices", {obj({{"<expires", i(now() + 1)}})}, "slice_id");
  CHECK(std::count(found.begin(), found.end(), old) == 1);
  CHECK(ids("pi", "GetSlices", {obj({{"<expires", i(now() + 1)}})}, "slice_id").empty());
  // The next AddSlice reaps it: deleted, with its members gone, its name free.
  int fresh = add_slice("pi", "old");
  CHECK(fresh != old);
  auto gone = items(ok("admin", "GetSlices",
                       {obj({{"deleted", b(true)}, {"slice_id", i(old)}}),
                        arr({s("slice_id"), s("deleted"), s("date_deleted"), s("person_ids")})}));
  REQUIRE(gone.size() == 1);
  CHECK(int_of(member(gone[0], "date_deleted")) == now());
  CHECK(ints(member(gone[0], "person_ids")).empty());
}

TEST_CASE_METHOD(slice_world, "UpdateSlice renews under PLCAPI's rules") {
  int id = add_slice("pi", "renew");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  auto update = [&](const std::string& actor, std::map<std::string, xv> f) {
    return call(actor, "UpdateSlice", {i(id), obj(f)});
  };
  auto expires = [&] { return int_of(member(slice("admin", id), "expires")); };
  // A member renews up to 8 weeks from now.
  CHECK_FALSE(update("user", {{"expires", i(t0 + 8 * week)}}).is_fault);
  CHECK(expires() == t0 + 8 * week);
  auto far = update("user", {{"expires", i(t0 + 8 * week + 1)}});
  CHECK(far.code == 102);
  CHECK_THAT(far.text, Catch::Contains("8 weeks"));
  CHECK(update("pi", {{"expires", i(t0 + 9 * week)}}).code == 102);
  CHECK_FALSE(update("admin", {{"expires", i(t0 + 20 * week)}}).is_fault); // admins may
  CHECK(expires() == t0 + 20 * week);
  // Shortening is not renewing; the past is refused.
  CHECK_FALSE(update("user", {{"expires", i(t0 + week)}}).is_fault);
  CHECK(update("user", {{"expires", i(t0 - 1)}}).code == 102);
  CHECK(expires() == t0 + week);
  // No renewal without a url and a description, unless given in the same call.
  CHECK_FALSE(update("pi", {{"url", s("  ")}}).is_fault);
  auto empty = update("user", {{"expires", i(t0 + 2 * week)}});
  CHECK(empty.code == 102);
  CHECK_THAT(empty.text, Catch::Contains("empty description or URL"));
  CHECK_FALSE(update("user", {{"expires", i(t0 + 2 * week)}, {"url", s("http://u")}}).is_fault);
  ok("admin", "UpdateSlice", {i(id), obj({{"description", nil}})});
  CHECK(update("admin", {{"expires", i(t0 + 3 * week)}}).code == 102);
  ok("admin", "UpdateSlice", {i(id), obj({{"description", s("back")}})});
  // No renewal (by anybody) when the site may have no slices.
  ok("admin", "UpdateSite", {i(site_a), obj({{"max_slices", i(0)}})});
  auto off = update("admin", {{"expires", i(t0 + 3 * week)}});
  CHECK(off.code == 102);
  CHECK_THAT(off.text, Catch::Contains("disabled for the site"));
  CHECK(expires() == t0 + 2 * week);
  // max_nodes: PIs and admins only; instantiation checked; name is not updatable.
  CHECK(update("user", {{"max_nodes", i(5)}}).code == 102);
  CHECK_FALSE(update("pi", {{"max_nodes", i(5)}}).is_fault);
  CHECK_FALSE(update("user", {{"max_nodes", i(5)}, {"url", s("http://v")}}).is_fault); // unchanged
  CHECK(update("pi", {{"instantiation", s("nosuch")}}).code == 102);
  CHECK_FALSE(update("pi", {{"instantiation", s("nm-controller")}}).is_fault);
  CHECK(update("pi", {{"name", s(base_a + "_other")}}).code == 102);
  CHECK(update("pi", {{"bogus", i(1)}}).code == 102);
  // Who may: members, PIs of the site (also by name); not others.
  CHECK(update("pi_b", {{"url", s("http://b")}}).code == 108);
  CHECK(update("user_b", {{"url", s("http://b")}}).code == 108);
  CHECK(update("tech", {{"url", s("http://t")}}).code == 103);
  CHECK(fault("pi", "UpdateSlice", {s(base_a + "_renew"), obj({{"url", s("http://n")}})}) == 0);
  CHECK(str_of(member(slice("admin", id), "url")) == "http://n");
  CHECK(fault("pi", "UpdateSlice", {i(999999), obj({})}) == 102);
}

TEST_CASE_METHOD(slice_world, "DeleteSlice soft-deletes with PLCAPI's cascade") {
  int id = add_slice("pi", "gone");
  int n = add_node(site_a, "gone");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  ok("pi", "AddSliceToNodes", {i(id), arr({i(n)})});
  ok("admin", "AddSliceToNodesWhitelist", {i(id), arr({i(n)})});
  ok("admin", "AddSliceTag", {i(id), s("vref"), s("f8")});
  CHECK(fault("user_b", "DeleteSlice", {i(id)}) == 108);
  CHECK(fault("pi_b", "DeleteSlice", {i(id)}) == 108);
  CHECK(fault("tech", "DeleteSlice", {i(id)}) == 103);
  CHECK(fault("user", "DeleteSlice", {s(base_a + "_gone")}) == 0); // a member may
  CHECK(ids("admin", "GetSlices", {arr({i(id)})}, "slice_id").empty());
  auto node = items(ok("admin", "GetNodes", {arr({i(n)})}))[0];
  CHECK(ints(member(node, "slice_ids")).empty());
  CHECK(ints(member(node, "slice_ids_whitelist")).empty());
  auto person = items(ok("admin", "GetPersons", {arr({i(id_of("user"))})}))[0];
  CHECK(ints(member(person, "slice_ids")).empty());
  CHECK(items(ok("admin", "GetSliceTags", {obj({{"slice_id", i(id)}})})).empty());
  auto deleted =
      items(ok("admin", "GetSlices", {obj({{"deleted", b(true)}, {"slice_id", i(id)}})}));
  REQUIRE(deleted.size() == 1);
  CHECK(member(deleted[0], "deleted").type() == xv::TYPE_BOOLEAN);
  CHECK(int_of(member(deleted[0], "date_deleted")) == t0);
  // Only admins see deleted slices; the name is free again.
  CHECK(ids("pi", "GetSlices", {obj({{"deleted", b(true)}})}, "slice_id").empty());
  CHECK(add_slice("pi", "gone") != id);
  CHECK(fault("admin", "DeleteSlice", {i(id)}) == 102);
}

TEST_CASE_METHOD(slice_world, "Members: PIs of the slice's site add and remove them") {
  int id = add_slice("pi", "members");
  CHECK(fault("pi", "AddPersonToSlice", {s(email["user"]), s(base_a + "_members")}) == 0);
  CHECK(fault("pi", "AddPersonToSlice", {i(id_of("user_b")), i(id)}) == 0); // anybody's account
  CHECK(fault("pi", "AddPersonToSlice", {i(id_of("user")), i(id)}) == 0);   // again: no error
  CHECK(fault("pi_b", "AddPersonToSlice", {i(id_of("pi_b")), i(id)}) == 108);
  CHECK(fault("user", "AddPersonToSlice", {i(id_of("user")), i(id)}) == 103);
  CHECK(fault("pi", "AddPersonToSlice", {i(999999), i(id)}) == 102);
  CHECK(fault("pi", "AddPersonToSlice", {i(id_of("user")), i(999999)}) == 102);
  CHECK(ints(member(slice("admin", id), "person_ids")) ==
        std::vector<int>{std::min(id_of("user"), id_of("user_b")),
                         std::max(id_of("user"), id_of("user_b"))});
  auto person = items(ok("user", "GetPersons", {arr({i(id_of("user"))})}))[0];
  CHECK(ints(member(person, "slice_ids")) == std::vector<int>{id});
  CHECK(fault("pi_b", "DeletePersonFromSlice", {i(id_of("user")), i(id)}) == 108);
  CHECK(fault("pi", "DeletePersonFromSlice", {i(id_of("user_b")), i(id)}) == 0);
  CHECK(ints(member(slice("admin", id), "person_ids")) == std::vector<int>{id_of("user")});
  // DeletePerson takes the person out of its slices.
  ok("admin", "DeletePerson", {i(id_of("user"))});
  CHECK(ints(member(slice("admin", id), "person_ids")).empty());
}

TEST_CASE_METHOD(slice_world, "Slices on nodes, node whitelists, and the node cascades") {
  int id = add_slice("pi", "nodes");
  ok("pi", "AddPersonToSlice", {i(id_of("user")), i(id)});
  int n1 = add_node(site_a, "n1"), n2 = add_node(site_b, "n2");
  CHECK(fault("user", "AddSliceToNodes", {i(id), arr({i(n1), s(host("n2"))})}) == 0);
  CHECK(ints(member(slice("admin", id), "node_ids")) == std::vector<int>{n1, n2});
  auto node = items(ok("anonymous", "GetNodes", {arr({i(n1)})}))[0];
  CHECK(ints(member(node, "slice_ids")) == std::vector<int>{id});
  // Unknown nodes: a clear error and nothing changes.
  CHECK(fault("user", "DeleteSliceFromNodes", {i(id), arr({i(n1), i(999999)})}) == 102);
  CHECK(ints(member(slice("admin", id), "node_ids")) == std::vector<int>{n1, n2});
  CHECK(fault("user_b", "AddSliceToNodes", {i(id), arr({i(n2)})}) == 108);
  CHECK(fault("tech", "AddSliceToNodes", {i(id), arr({i(n2)})}) == 103);
  CHECK(fault("user", "DeleteSliceFromNodes", {i(id), arr({i(n2)})}) == 0);
  CHECK(ints(member(slice("admin", id), "node_ids")) == std::vector<int>{n1});
  // A whitelisted node takes only the slices on its whitelist, except from its site's persons.
  int listed = add_slice("pi", "listed");
  int b_slice = int_of(ok("pi_b", "AddSlice", {obj({{"name", s(base_b + "_w")}})}));
  int n3 = add_node(site_a, "n3");
  CHECK(fault("pi", "AddSliceToNodesWhitelist", {i(listed), arr({i(n3)})}) == 103);
  ok("admin", "AddSliceToNodesWhitelist", {i(listed), arr({i(n3)})});
  auto w = items(ok("admin", "GetNodes", {arr({i(n3)}), arr({s("slice_ids_whitelist")})}))[0];
  CHECK(ints(member(w, "slice_ids_whitelist")) == std::vector<int>{listed});
  CHECK(ints(member(slice("admin", listed), "node_ids_whitelist")) == std::vector<int>{n3});
  auto refused = call("pi_b", "AddSliceToNodes", {i(b_slice), arr({i(n3)})});
  CHECK(refused.code == 102);
  CHECK_THAT(refused.text, Catch::Contains("not on the whitelist"));
  CHECK(fault("pi", "AddSliceToNodes", {i(listed), arr({i(n3)})}) == 0);
  CHECK(fault("user", "AddSliceToNodes", {i(id), arr({i(n3)})}) == 0); // at n3's site
  // GetNodes shows a whitelisted node only to its site, to the members of a
  // listed slice, to nodes carrying one, and to admins.
  auto sees_n3 = [&](const std::string& actor) {
    return ids(actor, "GetNodes", {arr({i(n3)})}, "node_id").size() == 1;
  };
  CHECK_FALSE(sees_n3("anonymous"));
  CHECK_FALSE(sees_n3("user_b"));
  CHECK(sees_n3("tech"));
  CHECK(sees_n3("admin"));
  ok("pi", "AddPersonToSlice", {i(id_of("user_b")), i(listed)});
  CHECK(sees_n3("user_b"));
  int n4 = add_node(site_b, "n4");
  CHECK(items(call_as_node(node_key(n4), "GetNodes", {arr({i(n3)})}).value).empty());
  ok("pi", "AddSliceToNodes", {i(listed), arr({i(n4)})});
  CHECK(items(call_as_node(node_key(n4), "GetNodes", {arr({i(n3)})}).value).size() == 1);
  ok("admin", "DeleteSliceFromNodesWhitelist", {i(listed), arr({i(n3)})});
  CHECK(sees_n3("anonymous"));
  CHECK(fault("pi_b", "AddSliceToNodes", {i(b_slice), arr({i(n3)})}) == 0);
  // DeleteNode takes the node out of every slice.
  ok("admin", "DeleteNode", {i(n1)});
  CHECK(ints(member(slice("admin", id), "node_ids")) == std::vector<int>{n3});
}

TEST_CASE_METHOD(slice_world, "DeleteSite deletes the site's slices") {
  int a1 = add_slice("pi", "s1");
  int a2 = add_slice("pi", "s2");
  int b1 = int_of(ok("pi_b", "AddSlice", {obj({{"name", s(base_b + "_keep")}})}));
  ok("admin", "DeleteSite", {i(site_a)});
  CHECK(ids("admin", "GetSlices", {arr({i(a1), i(a2), i(b1)})}, "slice_id") ==
        std::vector<int>{b1});
  CHECK(ids("admin", "GetSlices", {obj({{"deleted", b(true)}, {"site_id", i(site_a)}})},
            "slice_id") == std::vector<int>{a1, a2});
}

TEST_CASE_METHOD(slice_world, "Slice instantiations and init scripts") {
  auto inst = items(ok("tech", "GetSliceInstantiations", {}));
  std::set<std::string> names;
  for (auto& v : inst)
    names.insert(str_of(v));
  CHECK(names == std::set<std::string>{"delegated", "nm-controller", "not-instantiated",
                                       "plc-instantiated"});
  CHECK(fault("pi", "AddSliceInstantiation", {s("custom" + sfx)}) == 103);
  CHECK(fault("admin", "AddSliceInstantiation", {s("delegated")}) == 102);
  ok("admin", "AddSliceInstantiation", {s("custom" + sfx)});
  int id = add_slice("pi", "custom", {{"instantiation", s("custom" + sfx)}});
  CHECK(fault("admin", "DeleteSliceInstantiation", {s("custom" + sfx)}) == 102); // in use
  ok("admin", "DeleteSlice", {i(id)});
  CHECK(fault("admin", "DeleteSliceInstantiation", {s("nosuch" + sfx)}) == 102);

  CHECK(fault("pi", "AddInitScript", {obj({{"name", s("i" + sfx)}, {"script", s("x")}})}) == 103);
  CHECK(fault("admin", "AddInitScript", {obj({{"name", s("i" + sfx)}})}) == 102);
  int is = int_of(ok("admin", "AddInitScript",
                     {obj({{"name", s("init" + sfx)}, {"script", s("#!/bin/sh\necho hi\n")}})}));
  CHECK(fault("admin", "AddInitScript", {obj({{"name", s("init" + sfx)}, {"script", s("y")}})}) ==
        102);
  auto row = items(ok("user", "GetInitScripts", {s("init" + sfx)}))[0];
  CHECK(int_of(member(row, "initscript_id")) == is);
  CHECK(member(row, "enabled").type() == xv::TYPE_BOOLEAN);
  CHECK(str_of(member(row, "script")) == "#!/bin/sh\necho hi\n");
  ok("admin", "UpdateInitScript", {i(is), obj({{"enabled", b(false)}})});
  CHECK(ids("admin", "GetInitScripts", {obj({{"enabled", b(true)}, {"initscript_id", i(is)}})},
            "initscript_id")
            .empty());
  CHECK(fault("admin", "UpdateInitScript", {i(999999), obj({})}) == 102);
  ok("admin", "DeleteInitScript", {s("init" + sfx)});
  CHECK(items(ok("admin", "GetInitScripts", {arr({i(is)})})).empty());
}
