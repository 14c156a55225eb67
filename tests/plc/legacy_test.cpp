// The 4.2 NodeNetworkSetting* and NodeNetworkSettingType* names, and the 4.3
// field aliases of GetNodes (nodenetwork_ids) and GetNodeGroups (name),
// through the dispatcher.
#include "admindb_world.hpp"

#include <set>

using namespace pl::test;

namespace {

std::set<std::string> keys_of(const xv& v) {
  std::set<std::string> out;
  for (auto& [k, _] : xmlrpc_c::value_struct(v).cvalue())
    out.insert(k);
  return out;
}

struct legacy_world : admindb_world {
  int node = 0, iface = 0;
  legacy_world() {
    node = int_of(ok("admin", "AddNode",
                     {i(site_a), obj({{"hostname", s("legacy-" + sfx + ".example.org")}})}));
    iface = int_of(
        ok("admin", "AddInterface", {i(node), obj({{"method", s("dhcp")}, {"type", s("ipv4")}})}));
  }
};

} // namespace

TEST_CASE_METHOD(legacy_world, "NodeNetworkSettingType names wrap the TagType methods") {
  std::string name = "nns" + sfx;
  CHECK(fault("pi", "AddNodeNetworkSettingType", {obj({{"name", s(name)}})}) == 103);
  int type = int_of(ok("admin", "AddNodeNetworkSettingType",
                       {obj({{"name", s(name)}, {"category", s("interface/config")}})}));
  // Stored under the current names.
  auto current = items(ok("admin", "GetTagTypes", {i(type)}))[0];
  CHECK(str_of(member(current, "tagname")) == name);
  CHECK(str_of(member(current, "category")) == "interface/config");
  // Read back under the old ones, by filter key, return_fields and -SORT.
  auto rows = items(ok("user", "GetNodeNetworkSettingTypes", {obj({{"name", s(name)}})}));
  REQUIRE(rows.size() == 1);
  CHECK(keys_of(rows[0]) == std::set<std::string>{"nodenetwork_setting_type_id", "name",
                                                  "description", "category", "role_ids", "roles"});
  CHECK(int_of(member(rows[0], "nodenetwork_setting_type_id")) == type);
  auto few = items(ok(
      "user", "GetNodeNetworkSettingTypes",
      {obj({{"nodenetwork_setting_type_id", i(type)}, {"-SORT", s("-name")}}), arr({s("name")})}));
  REQUIRE(few.size() == 1);
  CHECK(keys_of(few[0]) == std::set<std::string>{"name"});
  // A list of ids or names is values: a tag type literally called "name" is not renamed.
  CHECK(items(ok("user", "GetNodeNetworkSettingTypes", {arr({s("name")})})).empty());
  CHECK(fault("user", "GetNodeNetworkSettingTypes", {obj({{"tagnamex", s(name)}})}) == 102);

  ok("admin", "UpdateNodeNetworkSettingType", {s(name), obj({{"name", s(name + "b")}})});
  CHECK(str_of(member(items(ok("admin", "GetTagTypes", {i(type)}))[0], "tagname")) == name + "b");
  CHECK(fault("tech", "UpdateNodeNetworkSettingType", {i(type), obj({{"name", s("x")}})}) == 103);
  CHECK(fault("admin", "UpdateNodeNetworkSettingType", {i(type), obj({{"roles", s("x")}})}) == 102);
  ok("admin", "DeleteNodeNetworkSettingType", {s(name + "b")});
  CHECK(items(ok("admin", "GetTagTypes", {i(type)})).empty());
}

TEST_CASE_METHOD(legacy_world, "NodeNetworkSetting names wrap the InterfaceTag methods") {
  std::string type = "nnst" + sfx;
  int type_id = int_of(ok("admin", "AddTagType", {obj({{"tagname", s(type)}})}));
  ok("admin", "AddRoleToTagType", {s("tech"), i(type_id)});
  // The value is data, never a field name: "name" stays "name".
  int tag = int_of(ok("tech", "AddNodeNetworkSetting", {i(iface), s(type), s("name")}));
  CHECK(fault("user", "AddNodeNetworkSetting", {i(iface), s(type), s("x")}) == 102); // one each
  auto current = items(ok("admin", "GetInterfaceTags", {arr({i(tag)})}))[0];
  CHECK(str_of(member(current, "value")) == "name");
  CHECK(int_of(member(current, "interface_id")) == iface);

  auto rows = items(ok("tech", "GetNodeNetworkSettings", {obj({{"nodenetwork_id", i(iface)}})}));
  REQUIRE(rows.size() == 1);
  auto keys = keys_of(rows[0]);
  for (const char* k : {"nodenetwork_setting_id", "nodenetwork_id", "nodenetwork_setting_type_id",
                        "name", "value", "ip", "description", "category"})
    CHECK(keys.count(k) == 1);
  for (const char* k : {"interface_tag_id", "interface_id", "tag_type_id", "tagname"})
    CHECK(keys.count(k) == 0);
  CHECK(int_of(member(rows[0], "nodenetwork_setting_id")) == tag);
  CHECK(int_of(member(rows[0], "nodenetwork_setting_type_id")) == type_id);
  CHECK(str_of(member(rows[0], "name")) == type);
  auto few = items(ok("tech", "GetNodeNetworkSettings",
                      {obj({{"name", s(type)}}), arr({s("nodenetwork_setting_id"), s("value")})}));
  REQUIRE(few.size() == 1);
  CHECK(keys_of(few[0]) == std::set<std::string>{"nodenetwork_setting_id", "value"});
  CHECK(items(ok("tech", "GetNodeNetworkSettings",
                 {obj({{"~nodenetwork_setting_id", i(tag)}, {"nodenetwork_id", i(iface)}})}))
            .empty());

  // The interface lists its settings under the 4.0 name.
  auto nn = items(ok("user", "GetNodeNetworks", {obj({{"nodenetwork_id", i(iface)}})}))[0];
  CHECK(ints(member(nn, "nodenetwork_setting_ids")) == std::vector<int>{tag});

  CHECK(fault("user_b", "UpdateNodeNetworkSetting", {i(tag), s("y")}) != 0);
  ok("tech", "UpdateNodeNetworkSetting", {i(tag), s("tagname")});
  CHECK(str_of(member(items(ok("admin", "GetInterfaceTags", {arr({i(tag)})}))[0], "value")) ==
        "tagname");
  ok("tech", "DeleteNodeNetworkSetting", {i(tag)});
  CHECK(items(ok("admin", "GetInterfaceTags", {arr({i(tag)})})).empty());
  CHECK(fault("tech", "DeleteNodeNetworkSetting", {i(tag)}) == 102);
}

TEST_CASE_METHOD(legacy_world, "the 4.2 methods have 4.3's argument counts and roles") {
  struct expect {
    const char* legacy;
    const char* current;
  };
  for (auto [legacy, current] : {expect{"AddNodeNetworkSetting", "AddInterfaceTag"},
                                 expect{"GetNodeNetworkSettings", "GetInterfaceTags"},
                                 expect{"UpdateNodeNetworkSetting", "UpdateInterfaceTag"},
                                 expect{"DeleteNodeNetworkSetting", "DeleteInterfaceTag"},
                                 expect{"AddNodeNetworkSettingType", "AddTagType"},
                                 expect{"GetNodeNetworkSettingTypes", "GetTagTypes"},
                                 expect{"UpdateNodeNetworkSettingType", "UpdateTagType"},
                                 expect{"DeleteNodeNetworkSettingType", "DeleteTagType"}}) {
    INFO(legacy);
    auto a = ok("admin", "system.methodSignature", {s(legacy)});
    auto b = ok("admin", "system.methodSignature", {s(current)});
    CHECK(items(a).size() == items(b).size());
    CHECK(items(items(a).back()).size() == items(items(b).back()).size());
    CHECK_THAT(str_of(ok("admin", "system.methodHelp", {s(legacy)})), Catch::Contains(current));
  }
}

TEST_CASE_METHOD(legacy_world, "GetNodes' nodenetwork_ids: the 4.3 alias of interface_ids") {
  int second = int_of(
      ok("admin", "AddInterface", {i(node), obj({{"method", s("dhcp")}, {"type", s("ipv4")}})}));
  auto all = items(ok("user", "GetNodes", {arr({i(node)})}))[0];
  CHECK(ints(member(all, "interface_ids")) == std::vector<int>{iface, second});
  CHECK(ints(member(all, "nodenetwork_ids")) == std::vector<int>{iface, second});
  auto old = items(ok("user", "GetNodes", {arr({i(node)}), arr({s("nodenetwork_ids")})}))[0];
  CHECK(keys_of(old) == std::set<std::string>{"nodenetwork_ids"});
  auto now = items(ok("user", "GetNodes", {arr({i(node)}), arr({s("interface_ids")})}))[0];
  CHECK(keys_of(now) == std::set<std::string>{"interface_ids"});
  auto both = items(
      ok("user", "GetNodes",
         {arr({i(node)}), arr({s("hostname"), s("nodenetwork_ids"), s("interface_ids")})}))[0];
  CHECK(keys_of(both) == std::set<std::string>{"hostname", "nodenetwork_ids", "interface_ids"});
  // As a filter key, with a modifier.
  CHECK(ids("user", "GetNodes", {obj({{"&nodenetwork_ids", i(second)}})}, "node_id") ==
        std::vector<int>{node});
  CHECK(ids("user", "GetNodes",
            {obj({{"&nodenetwork_ids", i(second)}, {"-SORT", s("-nodenetwork_ids")}})},
            "node_id") == std::vector<int>{node});
}

TEST_CASE_METHOD(legacy_world, "GetNodeGroups' name: the 4.3 alias of groupname") {
  ok("admin", "AddTagType", {obj({{"tagname", s("lg" + sfx)}})});
  int g = int_of(ok("admin", "AddNodeGroup", {s("old" + sfx), s("lg" + sfx), s("v")}));
  auto all = items(ok("anonymous", "GetNodeGroups", {obj({{"name", s("old" + sfx)}})}));
  REQUIRE(all.size() == 1);
  CHECK(str_of(member(all[0], "name")) == "old" + sfx);
  CHECK(str_of(member(all[0], "groupname")) == "old" + sfx);
  auto old = items(ok("anonymous", "GetNodeGroups", {i(g), arr({s("name")})}))[0];
  CHECK(keys_of(old) == std::set<std::string>{"name"});
}
