// ConfFiles through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

using namespace pl::test;

TEST_CASE_METHOD(admindb_world, "AddConfFile applies PLCAPI's defaults; only admins write") {
  auto fields = obj({{"source", s("PlanetLabConf/sysctl.php")}, {"dest", s("/etc/sysctl.conf")}});
  for (const char* actor : {"pi", "user", "tech", "anonymous"})
    CHECK(fault(actor, "AddConfFile", {fields}) == 103);
  int id = int_of(ok("admin", "AddConfFile", {fields}));
  auto row = items(ok("admin", "GetConfFiles", {arr({i(id)})}))[0];
  CHECK(xmlrpc_c::value_boolean(member(row, "enabled")).cvalue());
  CHECK(str_of(member(row, "file_permissions")) == "0644");
  CHECK(str_of(member(row, "file_owner")) == "root");
  CHECK(str_of(member(row, "file_group")) == "root");
  CHECK(member(row, "preinstall_cmd").type() == xv::TYPE_NIL);
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "ignore_cmd_errors")).cvalue());
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "always_update")).cvalue());
  CHECK(ints(member(row, "node_ids")).empty());
  CHECK(ints(member(row, "nodegroup_ids")).empty());
  CHECK(str_of(member(row, "dest")) == "/etc/sysctl.conf");
  // Validation.
  CHECK(fault("admin", "AddConfFile", {obj({{"source", s("x")}})}) == 102);
  CHECK(fault("admin", "AddConfFile", {obj({{"dest", s("/x")}})}) == 102);
  CHECK(fault("admin", "AddConfFile",
              {obj({{"source", s("x")}, {"dest", s(std::string(256, 'd'))}})}) == 102);
  CHECK(fault("admin", "AddConfFile",
              {obj({{"source", s("x")}, {"dest", s("/x")}, {"enabled", s("yes")}})}) == 102);
  CHECK(fault("admin", "AddConfFile",
              {obj({{"source", s("x")}, {"dest", s("/x")}, {"error_cmd", nil}})}) == 0);
}

TEST_CASE_METHOD(admindb_world, "GetConfFiles is for admins and nodes; Update and Delete") {
  int id =
      int_of(ok("admin", "AddConfFile", {obj({{"source", s("a" + sfx)}, {"dest", s("/etc/a")}})}));
  for (const char* actor : {"pi", "user", "tech", "anonymous"})
    CHECK(fault(actor, "GetConfFiles", {}) == 103);
  CHECK(ids("admin", "GetConfFiles", {obj({{"source", s("a" + sfx)}})}, "conf_file_id") ==
        std::vector<int>{id});
  CHECK(fault("pi", "UpdateConfFile", {i(id), obj({{"enabled", b(false)}})}) == 103);
  CHECK(fault("admin", "UpdateConfFile",
              {i(id), obj({{"enabled", b(false)},
                           {"postinstall_cmd", s("service x restart")},
                           {"conf_file_id", i(1)}})}) == 0);
  auto row = items(ok("admin", "GetConfFiles", {i(id)}))[0];
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "enabled")).cvalue());
  CHECK(str_of(member(row, "postinstall_cmd")) == "service x restart");
  CHECK(int_of(member(row, "conf_file_id")) == id);
  CHECK(fault("admin", "UpdateConfFile", {i(id), obj({{"file_owner", s(std::string(51, 'o'))}})}) ==
        102);
  CHECK(fault("admin", "UpdateConfFile", {i(999999), obj({})}) == 102);
  CHECK(fault("tech", "DeleteConfFile", {i(id)}) == 103);
  CHECK(fault("admin", "DeleteConfFile", {i(id)}) == 0);
  CHECK(items(ok("admin", "GetConfFiles", {arr({i(id)})})).empty());
  CHECK(fault("admin", "DeleteConfFile", {i(id)}) == 102);
}

TEST_CASE_METHOD(admindb_world, "AddConfFileToNode and DeleteConfFileFromNode (admins)") {
  int node = int_of(
      ok("admin", "AddNode", {i(site_a), obj({{"hostname", s("cf-" + sfx + ".example.org")}})}));
  int id = int_of(ok("admin", "AddConfFile", {obj({{"source", s("s")}, {"dest", s("/d")}})}));
  CHECK(fault("pi", "AddConfFileToNode", {i(id), i(node)}) == 103);
  CHECK(fault("admin", "AddConfFileToNode", {i(id), s("cf-" + sfx + ".example.org")}) == 0);
  CHECK(fault("admin", "AddConfFileToNode", {i(id), i(node)}) == 0); // already: no error
  CHECK(fault("admin", "AddConfFileToNode", {i(id), i(999999)}) == 102);
  CHECK(fault("admin", "AddConfFileToNode", {i(999999), i(node)}) == 102);
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(id)}))[0], "node_ids")) ==
        std::vector<int>{node});
  CHECK(ints(member(items(ok("admin", "GetNodes", {arr({i(node)})}))[0], "conf_file_ids")) ==
        std::vector<int>{id});
  CHECK(fault("tech", "DeleteConfFileFromNode", {i(id), i(node)}) == 103);
  CHECK(fault("admin", "DeleteConfFileFromNode", {i(id), i(node)}) == 0);
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(id)}))[0], "node_ids")).empty());
  ok("admin", "AddConfFileToNode", {i(id), i(node)});
  ok("admin", "DeleteNode", {i(node)});
  CHECK(ints(member(items(ok("admin", "GetConfFiles", {i(id)}))[0], "node_ids")).empty());
}
