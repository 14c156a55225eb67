// SliceTags (global, per sliver, per node group) with PLCAPI 5.x permissions,
// the tag types seeded from the resource table, value checks, tags as slice
// fields, and the 4.x SliceAttribute* and SliceAttributeType* names.
#include "slice_world.hpp"

#include "actors/resources.hpp"

using namespace pl::test;

namespace {

struct tag_world : slice_world {
  int sl = 0;    // base_a's slice, the user a member
  int n1 = 0;    // a node of the slice, at site A
  int n2 = 0;    // a node not in the slice
  int group = 0; // a node group holding n1

  tag_world() {
    sl = add_slice("pi", "tags");
    ok("pi", "AddPersonToSlice", {i(id_of("user")), i(sl)});
    n1 = add_node(site_a, "t1");
    n2 = add_node(site_a, "t2");
    ok("pi", "AddSliceToNodes", {i(sl), arr({i(n1)})});
    std::string grp = "g" + sfx;
    ok("admin", "AddTagType", {obj({{"tagname", s(grp)}})});
    ok("admin", "AddNodeTag", {i(n1), s(grp), s("yes")});
    group = int_of(ok("admin", "AddNodeGroup", {s("group" + sfx), s(grp), s("yes")}));
  }

  outcome add(const std::string& actor, const std::string& tag, const std::string& value,
              const xv& node = nil, const xv& nodegroup = nil) {
    return call(actor, "AddSliceTag", {i(sl), s(tag), s(value), node, nodegroup});
  }

  xv tag_row(int slice_tag_id) {
    auto rows = items(ok("admin", "GetSliceTags", {arr({i(slice_tag_id)})}));
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
};

} // namespace

TEST_CASE_METHOD(tag_world, "Every resource of actors/ has a slice tag type, seeded idempotently") {
  for (const auto& r : pl::resource_table()) {
    INFO(r.name);
    auto rows = items(ok("user", "GetTagTypes", {arr({s(std::string{r.name})})}));
    REQUIRE(rows.size() == 1);
    CHECK(str_of(member(rows[0], "category")) == "slice/rspec");
    CHECK_THAT(str_of(member(rows[0], "description")), Catch::Contains(std::string{r.unit}));
    CHECK(ints(member(rows[0], "role_ids")) == std::vector<int>{10});
  }
  // Seeding again changes nothing, and keeps roles admins added.
  ok("admin", "AddRoleToTagType", {s("pi"), s("cpu_share")});
  auto before = items(ok("admin", "GetTagTypes", {}));
  {
    auto conn = pool.acquire();
    pl::plc::api::seed_slice_tag_types(*conn);
  }
  auto after = items(ok("admin", "GetTagTypes", {}));
  CHECK(after.size() == before.size());
  auto cpu = items(ok("admin", "GetTagTypes", {s("cpu_share")}))[0];
  CHECK(ints(member(cpu, "role_ids")) == std::vector<int>{10, 20});
  ok("admin", "DeleteRoleFromTagType", {s("pi"), s("cpu_share")});
  // The other slice tag types and their role lists (PLCAPI 5.x).
  std::map<std::string, std::vector<int>> want = {
      {"enabled", {10}},          {"system", {10}},    {"initscript", {10, 20, 30}},
      {"vref", {10, 20, 30, 50}}, {"proper_op", {10}}, {"delegations", {10, 20, 30}}};
  for (const auto& [name, roles] : want) {
    INFO(name);
    auto rows = items(ok("admin", "GetTagTypes", {s(name)}));
    REQUIRE(rows.size() == 1);
    CHECK(ints(member(rows[0], "role_ids")) == roles);
  }
}

TEST_CASE_METHOD(tag_world, "Values are checked by the resource table and the tag's meaning") {
  // Every resource refuses a non-number, and takes its default value.
  for (const auto& r : pl::resource_table()) {
    INFO(r.name);
    auto bad = add("admin", std::string{r.name}, "lots");
    CHECK(bad.code == 102);
    CHECK_THAT(bad.text, Catch::Contains(std::string{r.name}));
    CHECK_FALSE(add("admin", std::string{r.name}, std::to_string(r.default_value)).is_fault);
  }
  CHECK(items(ok("admin", "GetSliceTags", {obj({{"slice_id", i(sl)}})})).size() ==
        pl::resource_table().size());
  CHECK(add("admin", "cpu_share", "-1", i(n1)).code == 102);
  CHECK(add("admin", "cpu_share", "12abc", i(n1)).code == 102);
  CHECK(add("admin", "io_weight", "2000", i(n1)).code == 102); // beyond 1..1000
  CHECK(add("admin", "cpu_pct", "101", i(n1)).code == 102);
  CHECK_FALSE(add("admin", "cpu_pct", "100", i(n1)).is_fault);
  CHECK(add("admin", "enabled", "2").code == 102);
  CHECK_FALSE(add("admin", "enabled", "0").is_fault);
  CHECK(add("admin", "initscript", "nosuch" + sfx).code == 102);
  ok("admin", "AddInitScript", {obj({{"name", s("is" + sfx)}, {"script", s("true")}})});
  CHECK_FALSE(add("user", "initscript", "is" + sfx).is_fault);
  // Updates are checked the same way and change nothing when refused.
  int tag = int_of(ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("64"), i(n1)}));
  CHECK(fault("admin", "UpdateSliceTag", {i(tag), s("x")}) == 102);
  CHECK(str_of(member(tag_row(tag), "value")) == "64");
  ok("admin", "UpdateSliceTag", {i(tag), s("128")});
  CHECK(str_of(member(tag_row(tag), "value")) == "128");
  // Free-form tags take anything.
  CHECK_FALSE(add("admin", "proper_op", "bind_socket").is_fault);
}

TEST_CASE_METHOD(tag_world, "Scopes: slice-wide, sliver, node group; one value per scope") {
  std::string mark = "3" + sfx; // a value no other test's slice holds
  int global = int_of(ok("admin", "AddSliceTag", {s(base_a + "_tags"), s("cpu_share"), s(mark)}));
  int sliver = int_of(ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("64"), s(host("t1"))}));
  int grouped =
      int_of(ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("48"), nil, s("group" + sfx)}));
  auto g = tag_row(global), v = tag_row(sliver), n = tag_row(grouped);
  CHECK(member(g, "node_id").type() == xv::TYPE_NIL);
  CHECK(member(g, "nodegroup_id").type() == xv::TYPE_NIL);
  CHECK(int_of(member(v, "node_id")) == n1);
  CHECK(int_of(member(n, "nodegroup_id")) == group);
  CHECK(str_of(member(v, "name")) == base_a + "_tags");
  CHECK(str_of(member(v, "tagname")) == "cpu_share");
  CHECK(str_of(member(v, "category")) == "slice/rspec");
  for (const char* f : {"slice_tag_id", "slice_id", "name", "node_id", "nodegroup_id",
                        "tag_type_id", "tagname", "description", "category", "value"})
    CHECK(keys_of(v).count(f) == 1);
  CHECK(ints(member(slice("admin", sl), "slice_tag_ids")) ==
        std::vector<int>{global, sliver, grouped});
  // cpu_share holds one value per scope; free-form tags one per value.
  auto again = add("admin", "cpu_share", "16");
  CHECK(again.code == 102);
  CHECK_THAT(again.text, Catch::Contains("already exists"));
  CHECK(add("admin", "cpu_share", "16", i(n1)).code == 102);
  CHECK(add("admin", "cpu_share", "16", nil, i(group)).code == 102);
  CHECK_FALSE(add("admin", "vsys", "pfmount").is_fault);
  CHECK_FALSE(add("admin", "vsys", "vif_up").is_fault);
  CHECK(add("admin", "vsys", "vif_up").code == 102);
  // A sliver tag needs the slice on the node (or a system slice); not both scopes.
  CHECK(add("admin", "cpu_share", "8", i(n2)).code == 102);
  CHECK(add("admin", "cpu_share", "8", i(n1), i(group)).code == 102);
  CHECK(add("admin", "cpu_share", "8", i(999999)).code == 102);
  CHECK(add("admin", "cpu_share", "8", nil, s("nosuch" + sfx)).code == 102);
  ok("admin", "AddSliceTag", {i(sl), s("system"), s("1")});
  CHECK_FALSE(add("admin", "cpu_share", "8", i(n2)).is_fault);
  // The tag name is a GetSlices field: slice-wide values only.
  auto rows = items(ok("admin", "GetSlices",
                       {obj({{"cpu_share", s(mark)}}), arr({s("slice_id"), s("cpu_share")})}));
  REQUIRE(rows.size() == 1);
  CHECK(int_of(member(rows[0], "slice_id")) == sl);
  CHECK(str_of(member(rows[0], "cpu_share")) == mark);
  // DeleteNode drops its sliver tags; deleting the node group drops its tags.
  ok("admin", "DeleteNode", {i(n1)});
  CHECK(items(ok("admin", "GetSliceTags", {arr({i(sliver)})})).empty());
  ok("admin", "DeleteNodeGroup", {i(group)});
  CHECK(items(ok("admin", "GetSliceTags", {arr({i(grouped)})})).empty());
}

TEST_CASE_METHOD(tag_world, "Who may write slice tags (PLCAPI 5.x caller_may_write_slice_tag)") {
  // vref: admin, pi, user, node. A member (user) and the site's PI may.
  int by_user = int_of(ok("user", "AddSliceTag", {i(sl), s("vref"), s("f8")}));
  CHECK(fault("pi", "UpdateSliceTag", {i(by_user), s("f12")}) == 0);
  CHECK(fault("user", "AddSliceTag", {i(sl), s("vref"), s("f14"), i(n1)}) == 0); // sliver
  // Not a member, not the site's PI, or a role the type lacks: 108.
  CHECK(fault("user_b", "AddSliceTag", {i(sl), s("delegations"), s("x")}) == 108);
  CHECK(fault("pi_b", "UpdateSliceTag", {i(by_user), s("f9")}) == 108);
  CHECK(fault("user", "AddSliceTag", {i(sl), s("cpu_share"), s("64")}) == 108); // admin-only type
  CHECK(fault("pi", "AddSliceTag", {i(sl), s("system"), s("1")}) == 108);
  CHECK(fault("tech", "AddSliceTag", {i(sl), s("vref"), s("f8")}) == 103); // not its method
  CHECK(fault("tech", "DeleteSliceTag", {i(by_user)}) == 108);             // no matching role
  // Persons: sliver tags only on the slice's nodes, node group tags never.
  CHECK(fault("user", "AddSliceTag", {i(sl), s("vref"), s("f8"), i(n2)}) == 108);
  CHECK(fault("pi", "AddSliceTag", {i(sl), s("vref"), s("f8"), nil, i(group)}) == 108);
  // A PI through an organization may.
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("o" + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id_of("pi_b")), i(org)});
  CHECK(fault("pi_b", "UpdateSliceTag", {i(by_user), s("f9")}) == 0);
  // Nothing refused was written.
  CHECK(str_of(member(tag_row(by_user), "value")) == "f9");
  CHECK(fault("user", "DeleteSliceTag", {i(by_user)}) == 0);
  CHECK(fault("user", "DeleteSliceTag", {i(by_user)}) == 102);
}

TEST_CASE_METHOD(tag_world, "A node sets its own slivers' tags of types listing the node role") {
  std::string key1 = node_key(n1), key2 = node_key(n2);
  auto r = call_as_node(key1, "AddSliceTag", {i(sl), s("vref"), s("f8"), i(n1)});
  REQUIRE_FALSE(r.is_fault);
  int tag = int_of(r.value);
  CHECK(int_of(member(tag_row(tag), "node_id")) == n1);
  CHECK_FALSE(call_as_node(key1, "UpdateSliceTag", {i(tag), s("f10")}).is_fault);
  CHECK(str_of(member(tag_row(tag), "value")) == "f10");
  // Not slice-wide, not another node's, not a type without the node role,
  // not a slice it does not carry.
  CHECK(call_as_node(key1, "AddSliceTag", {i(sl), s("vref"), s("f9")}).code == 108);
  CHECK(call_as_node(key2, "UpdateSliceTag", {i(tag), s("f11")}).code == 108);
  CHECK(call_as_node(key1, "AddSliceTag", {i(sl), s("cpu_share"), s("1"), i(n1)}).code == 108);
  ok("admin", "AddRoleToTagType", {s("node"), s("vref")}); // already there: no change
  CHECK(call_as_node(key2, "AddSliceTag", {i(sl), s("vref"), s("f9"), i(n2)}).code == 108);
  CHECK(str_of(member(tag_row(tag), "value")) == "f10");
  // Nodes see every slice's tags.
  auto seen = call_as_node(key2, "GetSliceTags", {arr({i(tag)})});
  REQUIRE_FALSE(seen.is_fault);
  CHECK(items(seen.value).size() == 1);
  CHECK_FALSE(call_as_node(key1, "DeleteSliceTag", {i(tag)}).is_fault);
}

TEST_CASE_METHOD(tag_world, "GetSliceTags shows what GetSlices shows; expired slices' tags hide") {
  int t = int_of(ok("admin", "AddSliceTag", {i(sl), s("vref"), s("f8")}));
  CHECK(ids("user", "GetSliceTags", {}, "slice_tag_id") == std::vector<int>{t});
  CHECK(ids("pi", "GetSliceTags", {obj({{"tagname", s("vref")}})}, "slice_tag_id") ==
        std::vector<int>{t});
  CHECK(ids("pi_b", "GetSliceTags", {}, "slice_tag_id").empty());
  CHECK(ids("user_b", "GetSliceTags", {arr({i(t)})}, "slice_tag_id").empty());
  clock.advance(std::chrono::seconds{3 * week});
  CHECK(items(ok("admin", "GetSliceTags", {arr({i(t)})})).empty());
  CHECK(fault("admin", "UpdateSliceTag", {i(t), s("f9")}) == 102);
}

TEST_CASE_METHOD(tag_world, "AddSlice and UpdateSlice take tag names as fields") {
  int id = add_slice("pi", "withtags", {{"vref", s("f8")}});
  auto rows = items(ok("pi", "GetSlices", {arr({i(id)}), arr({s("vref")})}));
  CHECK(str_of(member(rows[0], "vref")) == "f8");
  ok("pi", "UpdateSlice", {i(id), obj({{"vref", s("f12")}, {"delegations", s("x_y")}})});
  rows = items(ok("pi", "GetSlices", {arr({i(id)}), arr({s("vref"), s("delegations")})}));
  CHECK(str_of(member(rows[0], "vref")) == "f12");
  CHECK(str_of(member(rows[0], "delegations")) == "x_y");
  CHECK(ids("admin", "GetSliceTags", {obj({{"slice_id", i(id)}, {"tagname", s("vref")}})},
            "slice_tag_id")
            .size() == 1);
  // With the tag rights and checks of AddSliceTag: refused, and nothing is changed.
  CHECK(fault("pi", "UpdateSlice",
              {i(id), obj({{"cpu_share", s("64")}, {"url", s("http://z")}})}) == 108);
  CHECK(str_of(member(slice("admin", id), "url")) == "http://example.org/withtags");
  CHECK(fault("admin", "UpdateSlice", {i(id), obj({{"cpu_share", s("many")}})}) == 102);
  CHECK(fault("pi", "AddSlice", {obj({{"name", s(base_a + "_bad")}, {"cpu_share", s("1")}})}) ==
        108);
  CHECK(ids("admin", "GetSlices", {s(base_a + "_bad")}, "slice_id").empty());
}

TEST_CASE_METHOD(tag_world, "The 4.x SliceAttribute and SliceAttributeType names") {
  auto r = call("user", "AddSliceAttribute", {i(sl), s("vref"), s("f8")});
  REQUIRE_FALSE(r.is_fault);
  int id = int_of(r.value);
  auto rows = items(ok("user", "GetSliceAttributes", {obj({{"name", s("vref")}})}));
  REQUIRE(rows.size() == 1);
  CHECK(int_of(member(rows[0], "slice_attribute_id")) == id);
  CHECK(str_of(member(rows[0], "name")) == "vref"); // the type's name, not the slice's
  CHECK(keys_of(rows[0]).count("attribute_type_id") == 1);
  CHECK(keys_of(rows[0]).count("slice_tag_id") == 0);
  CHECK(keys_of(rows[0]).count("tagname") == 0);
  auto few = items(ok("user", "GetSliceAttributes",
                      {arr({i(id)}), arr({s("slice_attribute_id"), s("name")})}))[0];
  CHECK(keys_of(few) == std::set<std::string>{"name", "slice_attribute_id"});
  ok("user", "UpdateSliceAttribute", {i(id), s("f12")});
  CHECK(str_of(member(tag_row(id), "value")) == "f12");
  CHECK(fault("tech", "DeleteSliceAttribute", {i(id)}) == 103); // 4.0 roles
  ok("user", "DeleteSliceAttribute", {i(id)});
  CHECK(items(ok("admin", "GetSliceTags", {arr({i(id)})})).empty());
  // Types: name <-> tagname, attribute_type_id <-> tag_type_id.
  int type = int_of(ok("admin", "AddSliceAttributeType",
                       {obj({{"name", s("attr" + sfx)}, {"description", s("d")}})}));
  auto t = items(ok("pi", "GetSliceAttributeTypes", {obj({{"name", s("attr" + sfx)}})}));
  REQUIRE(t.size() == 1);
  CHECK(int_of(member(t[0], "attribute_type_id")) == type);
  CHECK(str_of(member(t[0], "name")) == "attr" + sfx);
  ok("admin", "UpdateSliceAttributeType", {i(type), obj({{"name", s("attr2" + sfx)}})});
  CHECK(items(ok("admin", "GetTagTypes", {s("attr2" + sfx)})).size() == 1);
  ok("admin", "DeleteSliceAttributeType", {s("attr2" + sfx)});
  CHECK(items(ok("admin", "GetTagTypes", {s("attr2" + sfx)})).empty());
}
