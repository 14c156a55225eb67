// NodeGroups through the dispatcher (PLCAPI 5.x): a group is a tag type and a
// value; its nodes are those carrying that tag with that value. Also the conf
// file links of groups and the node role.
#include "admindb_world.hpp"

#include <set>

using namespace pl::test;

namespace {

struct groups_world : admindb_world {
  std::string tag = "grp" + sfx; // a tag type of its own per test case
  int tag_type = 0;
  int n1 = 0, n2 = 0;

  groups_world() {
    tag_type = int_of(ok("admin", "AddTagType", {obj({{"tagname", s(tag)}})}));
    n1 = add_node("n1");
    n2 = add_node("n2");
  }

  int add_node(const std::string& name) {
    return int_of(ok("admin", "AddNode",
                     {i(site_a), obj({{"hostname", s(name + "-" + sfx + ".example.org")}})}));
  }

  std::vector<int> members(const xv& group) {
    return ints(member(items(ok("anonymous", "GetNodeGroups", {arr({group})}))[0], "node_ids"));
  }

  std::vector<int> groups_of(int node) {
    return ints(member(items(ok("admin", "GetNodes", {arr({i(node)})}))[0], "nodegroup_ids"));
  }
};

std::set<std::string> keys(const xv& row) {
  std::set<std::string> out;
  for (const auto& [k, _] : xmlrpc_c::value_struct(row).cvalue())
    out.insert(k);
  return out;
}

} // namespace

TEST_CASE_METHOD(groups_world, "AddNodeGroup: admins only, by tag type id or name, checked") {
  for (const char* actor : {"pi", "user", "tech", "anonymous"})
    CHECK(fault(actor, "AddNodeGroup", {s("g" + sfx), s(tag), s("x")}) == 103);
  int by_name = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  int by_id = int_of(ok("admin", "AddNodeGroup", {s("beta" + sfx), i(tag_type), s("beta")}));
  CHECK(by_id > by_name);
  auto row = items(ok("admin", "GetNodeGroups", {arr({i(by_name)})}))[0];
  // PLCAPI 5.x's fields, and 4.3's alias of groupname (legacy_test.cpp).
  CHECK(keys(row) == std::set<std::string>{"nodegroup_id", "groupname", "tag_type_id", "value",
                                           "tagname", "node_ids", "conf_file_ids", "name"});
  CHECK(str_of(member(row, "groupname")) == "alpha" + sfx);
  CHECK(int_of(member(row, "tag_type_id")) == tag_type);
  CHECK(str_of(member(row, "tagname")) == tag);
  CHECK(str_of(member(row, "value")) == "alpha");
  CHECK(ints(member(row, "node_ids")).empty());
  CHECK(ints(member(row, "conf_file_ids")).empty());

  auto r = call("admin", "AddNodeGroup", {s("gamma" + sfx), s("no-such-tag" + sfx), s("x")});
  CHECK(r.code == 102);
  CHECK(r.text.find("No such tag type") != std::string::npos);
  CHECK(fault("admin", "AddNodeGroup", {s("gamma" + sfx), i(999999), s("x")}) == 102);
  r = call("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("other")});
  CHECK(r.code == 102);
  CHECK(r.text.find("already in use") != std::string::npos);
  CHECK(fault("admin", "AddNodeGroup", {s(""), s(tag), s("x")}) == 102);
  CHECK(fault("admin", "AddNodeGroup", {s(std::string(51, 'g')), s(tag), s("x")}) == 102);
  CHECK(fault("admin", "AddNodeGroup", {i(5), s(tag), s("x")}) == 102);
  // Nothing of the refused calls was created.
  CHECK(ids("admin", "GetNodeGroups", {obj({{"tagname", s(tag)}, {"-SORT", s("nodegroup_id")}})},
            "nodegroup_id") == std::vector<int>{by_name, by_id});
}

TEST_CASE_METHOD(groups_world, "membership follows the node tags; GetNodes' nodegroup_ids") {
  int alpha = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  int beta = int_of(ok("admin", "AddNodeGroup", {s("beta" + sfx), s(tag), s("beta")}));
  CHECK(members(i(alpha)).empty());
  int t1 = int_of(ok("admin", "AddNodeTag", {i(n1), s(tag), s("alpha")}));
  int t2 = int_of(ok("admin", "AddNodeTag", {i(n2), s(tag), s("beta")}));
  CHECK(members(i(alpha)) == std::vector<int>{n1});
  CHECK(members(s("beta" + sfx)) == std::vector<int>{n2});
  CHECK(groups_of(n1) == std::vector<int>{alpha});
  ok("admin", "UpdateNodeTag", {i(t2), s("alpha")});
  CHECK(members(i(alpha)) == std::vector<int>{n1, n2});
  CHECK(members(i(beta)).empty());
  CHECK(groups_of(n2) == std::vector<int>{alpha});
  // Values match exactly (no case folding, no patterns).
  ok("admin", "UpdateNodeTag", {i(t2), s("Alpha")});
  CHECK(members(i(alpha)) == std::vector<int>{n1});
  ok("admin", "DeleteNodeTag", {i(t1)});
  CHECK(members(i(alpha)).empty());
  CHECK(groups_of(n1).empty());
  // A deleted node leaves every group.
  ok("admin", "UpdateNodeTag", {i(t2), s("beta")});
  CHECK(members(i(beta)) == std::vector<int>{n2});
  ok("admin", "DeleteNode", {i(n2)});
  CHECK(members(i(beta)).empty());
  // Two groups on one tag type and value hold the same nodes.
  int alpha2 = int_of(ok("admin", "AddNodeGroup", {s("alpha-too" + sfx), i(tag_type), s("alpha")}));
  ok("admin", "AddNodeTag", {i(n1), s(tag), s("alpha")});
  CHECK(groups_of(n1) == std::vector<int>{alpha, alpha2});
  // nodegroup_ids can be asked for alone, and GetNodes filters on it.
  auto only = items(ok("admin", "GetNodes", {arr({i(n1)}), arr({s("nodegroup_ids")})}))[0];
  CHECK(keys(only) == std::set<std::string>{"nodegroup_ids"});
  CHECK(ids("admin", "GetNodes", {obj({{"&nodegroup_ids", i(alpha2)}})}, "node_id") ==
        std::vector<int>{n1});
}

TEST_CASE_METHOD(groups_world, "GetNodeGroups: every role and anonymous; filters") {
  int alpha = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  int beta = int_of(ok("admin", "AddNodeGroup", {s("beta" + sfx), s(tag), s("beta")}));
  for (const char* actor : {"admin", "pi", "user", "tech", "anonymous"}) {
    INFO(actor);
    CHECK(ids(actor, "GetNodeGroups", {arr({s("alpha" + sfx), i(beta)})}, "nodegroup_id") ==
          std::vector<int>{alpha, beta});
  }
  CHECK(ids("user", "GetNodeGroups", {s("beta" + sfx)}, "nodegroup_id") == std::vector<int>{beta});
  CHECK(ids("user", "GetNodeGroups", {obj({{"groupname", s("al*" + sfx)}})}, "nodegroup_id") ==
        std::vector<int>{alpha});
  CHECK(ids("user", "GetNodeGroups", {obj({{"value", s("beta")}, {"tag_type_id", i(tag_type)}})},
            "nodegroup_id") == std::vector<int>{beta});
  auto few = items(ok("pi", "GetNodeGroups", {i(alpha), arr({s("groupname"), s("tagname")})}));
  REQUIRE(few.size() == 1);
  CHECK(keys(few[0]) == std::set<std::string>{"groupname", "tagname"});
  CHECK(fault("pi", "GetNodeGroups", {i(alpha), arr({s("names")})}) == 102);
  CHECK(fault("pi", "GetNodeGroups", {obj({{"no_such_field", i(1)}})}) == 102);
}

TEST_CASE_METHOD(groups_world, "UpdateNodeGroup: groupname and value; DeleteNodeGroup") {
  int g = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  int other = int_of(ok("admin", "AddNodeGroup", {s("beta" + sfx), s(tag), s("beta")}));
  ok("admin", "AddNodeTag", {i(n1), s(tag), s("alpha")});
  ok("admin", "AddNodeTag", {i(n2), s(tag), s("gamma")});
  CHECK(fault("pi", "UpdateNodeGroup", {i(g), obj({{"value", s("gamma")}})}) == 103);
  // Other keys (tag_type_id, nodegroup_id, node_ids) are dropped, as PLCAPI does.
  int arch = int_of(member(items(ok("admin", "GetTagTypes", {s("arch")}))[0], "tag_type_id"));
  ok("admin", "UpdateNodeGroup",
     {s("alpha" + sfx), obj({{"value", s("gamma")},
                             {"groupname", s("gamma" + sfx)},
                             {"tag_type_id", i(arch)},
                             {"nodegroup_id", i(1)},
                             {"node_ids", arr({i(n1)})}})});
  auto row = items(ok("admin", "GetNodeGroups", {i(g)}))[0];
  CHECK(str_of(member(row, "groupname")) == "gamma" + sfx);
  CHECK(str_of(member(row, "value")) == "gamma");
  CHECK(int_of(member(row, "tag_type_id")) == tag_type);
  CHECK(ints(member(row, "node_ids")) == std::vector<int>{n2});
  CHECK(items(ok("admin", "GetNodeGroups", {s("alpha" + sfx)})).empty());
  // Refused: a name in use, a blank name, a wrong type; nothing changes.
  CHECK(fault("admin", "UpdateNodeGroup", {i(g), obj({{"groupname", s("beta" + sfx)}})}) == 102);
  CHECK(fault("admin", "UpdateNodeGroup", {i(g), obj({{"groupname", s("")}})}) == 102);
  CHECK(fault("admin", "UpdateNodeGroup", {i(g), obj({{"value", i(3)}})}) == 102);
  CHECK(fault("admin", "UpdateNodeGroup", {i(999999), obj({{"value", s("x")}})}) == 102);
  CHECK(str_of(member(items(ok("admin", "GetNodeGroups", {i(g)}))[0], "groupname")) ==
        "gamma" + sfx);
  ok("admin", "UpdateNodeGroup", {i(g), obj({{"groupname", s("gamma" + sfx)}})}); // own name

  CHECK(fault("tech", "DeleteNodeGroup", {i(g)}) == 103);
  ok("admin", "DeleteNodeGroup", {s("gamma" + sfx)});
  CHECK(items(ok("admin", "GetNodeGroups", {i(g)})).empty());
  CHECK(fault("admin", "DeleteNodeGroup", {i(g)}) == 102);
  // The nodes keep their tags; the other group stays.
  CHECK(str_of(member(
            items(ok("admin", "GetNodeTags", {obj({{"node_id", i(n2)}, {"tagname", s(tag)}})}))[0],
            "value")) == "gamma");
  CHECK(ids("admin", "GetNodeGroups", {i(other)}, "nodegroup_id") == std::vector<int>{other});
  // Events name the group.
  auto events = items(ok("admin", "GetEventObjects",
                         {obj({{"object_type", s("NodeGroup")}, {"object_id", i(g)}})}));
  CHECK(events.size() >= 3); // add, update(s), delete
}

TEST_CASE_METHOD(groups_world, "a tag type that defines a group cannot be deleted") {
  int g = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  auto r = call("admin", "DeleteTagType", {s(tag)});
  CHECK(r.code == 102);
  CHECK(r.text.find("alpha" + sfx) != std::string::npos);
  CHECK(ids("admin", "GetTagTypes", {s(tag)}, "tag_type_id") == std::vector<int>{tag_type});
  CHECK(ids("admin", "GetNodeGroups", {i(g)}, "nodegroup_id") == std::vector<int>{g});
  ok("admin", "DeleteNodeGroup", {i(g)});
  ok("admin", "DeleteTagType", {s(tag)});
  CHECK(items(ok("admin", "GetTagTypes", {s(tag)})).empty());
}

TEST_CASE_METHOD(groups_world, "AddConfFileToNodeGroup and DeleteConfFileFromNodeGroup") {
  int g = int_of(ok("admin", "AddNodeGroup", {s("alpha" + sfx), s(tag), s("alpha")}));
  int cf = int_of(ok("admin", "AddConfFile", {obj({{"source", s("s")}, {"dest", s("/d")}})}));
  int cf2 = int_of(ok("admin", "AddConfFile", {obj({{"source", s("t")}, {"dest", s("/e")}})}));
  for (const char* actor : {"pi", "user", "tech", "anonymous"}) {
    CHECK(fault(actor, "AddConfFileToNodeGroup", {i(cf), i(g)}) == 103);
    CHECK(fault(actor, "DeleteConfFileFromNodeGroup", {i(cf), i(g)}) == 103);
  }
  ok("admin", "AddConfFileToNodeGroup", {i(cf), s("alpha" + sfx)});
  ok("admin", "AddConfFileToNodeGroup", {i(cf), i(g)}); // already linked: no error
  ok("admin", "AddConfFileToNodeGroup", {i(cf2), i(g)});
  CHECK(fault("admin", "AddConfFileToNodeGroup", {i(cf), i(999999)}) == 102);
  CHECK(fault("admin", "AddConfFileToNodeGroup", {i(999999), i(g)}) == 102);
  CHECK(fault("admin", "AddConfFileToNodeGroup", {i(cf), s("nope" + sfx)}) == 102);
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(cf)}))[0], "nodegroup_ids")) ==
        std::vector<int>{g});
  CHECK(ints(member(items(ok("admin", "GetNodeGroups", {i(g)}))[0], "conf_file_ids")) ==
        std::vector<int>{cf, cf2});
  CHECK(ids("admin", "GetConfFiles", {obj({{"&nodegroup_ids", i(g)}})}, "conf_file_id") ==
        std::vector<int>{cf, cf2});
  ok("admin", "DeleteConfFileFromNodeGroup", {i(cf), s("alpha" + sfx)});
  ok("admin", "DeleteConfFileFromNodeGroup", {i(cf), i(g)}); // not linked: no error
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(cf)}))[0], "nodegroup_ids")).empty());
  CHECK(ints(member(items(ok("admin", "GetNodeGroups", {i(g)}))[0], "conf_file_ids")) ==
        std::vector<int>{cf2});
  // Deleting the conf file, or the group, drops the link.
  ok("admin", "DeleteConfFile", {i(cf2)});
  CHECK(ints(member(items(ok("admin", "GetNodeGroups", {i(g)}))[0], "conf_file_ids")).empty());
  ok("admin", "AddConfFileToNodeGroup", {i(cf), i(g)});
  ok("admin", "DeleteNodeGroup", {i(g)});
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(cf)}))[0], "nodegroup_ids")).empty());
}

TEST_CASE_METHOD(groups_world,
                 "the node role: listed, usable in tag type roles, not for accounts") {
  std::map<int, std::string> roles;
  for (auto& r : items(ok("user", "GetRoles", {})))
    roles[int_of(member(r, "role_id"))] = str_of(member(r, "name"));
  CHECK(roles.at(50) == "node");
  ok("admin", "AddRoleToTagType", {s("node"), s(tag)});
  ok("admin", "AddRoleToTagType", {i(20), i(tag_type)});
  auto row = items(ok("admin", "GetTagTypes", {i(tag_type)}))[0];
  CHECK(ints(member(row, "role_ids")) == std::vector<int>{20, 50});
  CHECK(items(member(row, "roles")).size() == 2);
  CHECK(str_of(items(member(row, "roles"))[1]) == "node");
  ok("admin", "DeleteRoleFromTagType", {i(50), s(tag)});
  CHECK(ints(member(items(ok("admin", "GetTagTypes", {i(tag_type)}))[0], "role_ids")) ==
        std::vector<int>{20});
  // No account may hold it, not even by an admin's grant.
  auto r = call("admin", "AddRoleToPerson", {s("node"), i(id["user"])});
  CHECK(r.code == 102);
  CHECK(r.text.find("node") != std::string::npos);
  CHECK(fault("pi", "AddRoleToPerson", {i(50), i(id["user"])}) == 102);
  auto person = items(ok("admin", "GetPersons", {arr({i(id["user"])})}))[0];
  CHECK(ints(member(person, "role_ids")) == std::vector<int>{30});
}
