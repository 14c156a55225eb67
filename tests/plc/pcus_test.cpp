// PCUs, PCUTypes and PCUProtocolTypes through the dispatcher (PLCAPI 5.x rules).
#include "admindb_world.hpp"

using namespace pl::test;

namespace {

xv pcu_fields(const std::string& ip, const std::string& hostname = "pcu.example.org") {
  return obj({{"ip", s(ip)},
              {"hostname", s(hostname)},
              {"protocol", s("ssh")},
              {"username", s("root")},
              {"password", s("secret")},
              {"model", s("APC")},
              {"notes", s("rack 3")}});
}

} // namespace

TEST_CASE_METHOD(admindb_world, "AddPCU: admins anywhere, PIs and techs at their sites") {
  int a = int_of(ok("admin", "AddPCU", {i(site_a), pcu_fields("10.0.0.1")}));
  CHECK(int_of(ok("pi", "AddPCU", {s(base_a), pcu_fields("10.0.0.2")})) > 0);
  CHECK(int_of(ok("tech", "AddPCU", {i(site_a), pcu_fields("2001:db8::1")})) > 0);
  CHECK(fault("pi", "AddPCU", {i(site_b), pcu_fields("10.0.0.3")}) == 108);
  CHECK(fault("tech", "AddPCU", {i(site_b), pcu_fields("10.0.0.3")}) == 108);
  CHECK(fault("user", "AddPCU", {i(site_a), pcu_fields("10.0.0.3")}) == 103);
  CHECK(fault("anonymous", "AddPCU", {i(site_a), pcu_fields("10.0.0.3")}) == 103);
  CHECK(fault("admin", "AddPCU", {i(999999), pcu_fields("10.0.0.3")}) == 102);
  CHECK(fault("admin", "AddPCU", {i(site_a), pcu_fields("10.0.0.256")}) == 102);
  CHECK(fault("admin", "AddPCU", {i(site_a), pcu_fields("pcu.example.org")}) == 102);
  CHECK(fault("admin", "AddPCU", {i(site_a), obj({{"hostname", s("x")}})}) == 102); // no ip
  CHECK(fault("admin", "AddPCU",
              {i(site_a), obj({{"ip", s("10.0.0.4")}, {"protocol", s(std::string(17, 'p'))}})}) ==
        102);
  auto row = items(ok("admin", "GetPCUs", {arr({i(a)})}))[0];
  CHECK(int_of(member(row, "site_id")) == site_a);
  CHECK(str_of(member(row, "ip")) == "10.0.0.1");
  CHECK(str_of(member(row, "hostname")) == "pcu.example.org");
  CHECK(str_of(member(row, "password")) == "secret");
  CHECK(str_of(member(row, "model")) == "APC");
  CHECK(ints(member(row, "node_ids")).empty());
  CHECK(ints(member(row, "ports")).empty());
  CHECK(int_of(member(row, "last_updated")) == 1'000'000'000);
  // The site lists its PCUs.
  auto site = items(ok("admin", "GetSites", {arr({i(site_a)})}))[0];
  CHECK(ints(member(site, "pcu_ids")).size() == 3);
}

TEST_CASE_METHOD(admindb_world, "GetPCUs: admins see all, PIs and techs the PCUs of their sites") {
  int a = int_of(ok("admin", "AddPCU", {i(site_a), pcu_fields("10.1.0.1")}));
  int b = int_of(ok("admin", "AddPCU", {i(site_b), pcu_fields("10.1.0.2")}));
  CHECK(ids("admin", "GetPCUs", {arr({i(a), i(b)})}, "pcu_id") == std::vector<int>{a, b});
  CHECK(ids("pi", "GetPCUs", {arr({i(a), i(b)})}, "pcu_id") == std::vector<int>{a});
  CHECK(ids("tech", "GetPCUs", {}, "pcu_id") == std::vector<int>{a});
  CHECK(ids("pi_b", "GetPCUs", {}, "pcu_id") == std::vector<int>{b});
  CHECK(ids("pi", "GetPCUs", {obj({{"site_id", i(site_b)}})}, "pcu_id").empty());
  CHECK(fault("user", "GetPCUs", {}) == 103);
  CHECK(ids("admin", "GetPCUs", {obj({{"ip", s("10.1.0.*")}})}, "pcu_id") ==
        std::vector<int>{a, b});
  auto rows = items(ok("admin", "GetPCUs", {i(a), arr({s("ip")})}));
  REQUIRE(rows.size() == 1);
  CHECK(xmlrpc_c::value_struct(rows[0]).cvalue().size() == 1);
  CHECK(fault("admin", "GetPCUs", {obj({{"nope", i(1)}})}) == 102);
}

TEST_CASE_METHOD(admindb_world, "A PI of an organization manages the PCUs of its sites") {
  int b = int_of(ok("admin", "AddPCU", {i(site_b), pcu_fields("10.2.0.1")}));
  CHECK(fault("pi", "UpdatePCU", {i(b), obj({{"notes", s("x")}})}) == 108);
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("org" + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_b), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id["pi"]), i(org)});
  CHECK(fault("pi", "UpdatePCU", {i(b), obj({{"notes", s("x")}})}) == 0);
  CHECK(ids("pi", "GetPCUs", {arr({i(b)})}, "pcu_id") == std::vector<int>{b});
  // Membership without the pi role gives nothing.
  ok("admin", "AddPersonToOrganization", {i(id["tech"]), i(org)});
  CHECK(ids("tech", "GetPCUs", {arr({i(b)})}, "pcu_id").empty());
}

TEST_CASE_METHOD(admindb_world, "UpdatePCU and DeletePCU: non-admins only at their sites") {
  int a = int_of(ok("admin", "AddPCU", {i(site_a), pcu_fields("10.3.0.1")}));
  clock.advance(std::chrono::seconds{60});
  CHECK(fault("tech", "UpdatePCU",
              {i(a), obj({{"ip", s("10.3.0.9")}, {"site_id", i(site_b)}, {"pcu_id", i(5)}})}) == 0);
  auto row = items(ok("admin", "GetPCUs", {arr({i(a)})}))[0];
  CHECK(str_of(member(row, "ip")) == "10.3.0.9");
  CHECK(int_of(member(row, "site_id")) == site_a); // site_id is not updatable
  CHECK(int_of(member(row, "last_updated")) == 1'000'000'060);
  CHECK(fault("tech", "UpdatePCU", {i(a), obj({{"ip", s("nope")}})}) == 102);
  CHECK(fault("pi_b", "UpdatePCU", {i(a), obj({{"notes", s("x")}})}) == 108);
  CHECK(fault("user", "UpdatePCU", {i(a), obj({{"notes", s("x")}})}) == 103);
  CHECK(fault("admin", "UpdatePCU", {i(999999), obj({})}) == 102);
  CHECK(fault("pi_b", "DeletePCU", {i(a)}) == 108);
  CHECK(fault("pi", "DeletePCU", {i(a)}) == 0);
  CHECK(ids("admin", "GetPCUs", {arr({i(a)})}, "pcu_id").empty());
  CHECK(fault("admin", "DeletePCU", {i(a)}) == 102);
}

TEST_CASE_METHOD(admindb_world, "DeleteSite deletes the site's PCUs") {
  int b = int_of(ok("admin", "AddPCU", {i(site_b), pcu_fields("10.4.0.1")}));
  ok("admin", "DeleteSite", {i(site_b)});
  CHECK(ids("admin", "GetPCUs", {arr({i(b)})}, "pcu_id").empty());
}

TEST_CASE_METHOD(admindb_world, "PCUTypes and PCUProtocolTypes: admins write, everyone reads") {
  std::string model = "Model" + sfx;
  int t = int_of(ok("admin", "AddPCUType", {obj({{"model", s(model)}, {"name", s("Full")}})}));
  CHECK(fault("admin", "AddPCUType", {obj({{"model", s(model)}})}) == 102); // in use
  CHECK(fault("admin", "AddPCUType", {obj({{"model", s("")}})}) == 102);
  CHECK(fault("admin", "AddPCUType", {obj({{"name", s("x")}})}) == 102);
  CHECK(fault("pi", "AddPCUType", {obj({{"model", s("x" + sfx)}})}) == 103);
  int p22 = int_of(ok("admin", "AddPCUProtocolType",
                      {s(model), obj({{"port", i(22)}, {"protocol", s("ssh")}})}));
  int p80 =
      int_of(ok("admin", "AddPCUProtocolType",
                {i(t), obj({{"port", i(80)}, {"protocol", s("http")}, {"supported", b(false)}})}));
  CHECK(fault("admin", "AddPCUProtocolType",
              {i(t), obj({{"port", i(22)}, {"protocol", s("x")}})}) == 102); // port in use
  CHECK(fault("admin", "AddPCUProtocolType", {i(t), obj({{"protocol", s("x")}})}) == 102);
  CHECK(fault("admin", "AddPCUProtocolType", {i(t), obj({{"port", i(23)}})}) == 102);
  CHECK(fault("admin", "AddPCUProtocolType",
              {i(999999), obj({{"port", i(1)}, {"protocol", s("x")}})}) == 102);
  CHECK(fault("tech", "AddPCUProtocolType", {i(t), obj({{"port", i(1)}, {"protocol", s("x")}})}) ==
        103);
  for (const char* actor : {"admin", "pi", "user", "tech"}) {
    auto rows = items(ok(actor, "GetPCUTypes", {arr({s(model)})}));
    REQUIRE(rows.size() == 1);
    CHECK(int_of(member(rows[0], "pcu_type_id")) == t);
    CHECK(str_of(member(rows[0], "name")) == "Full");
    CHECK(ints(member(rows[0], "pcu_protocol_type_ids")) == std::vector<int>{p22, p80});
    auto protocols = items(member(rows[0], "pcu_protocol_types"));
    REQUIRE(protocols.size() == 2);
    CHECK(int_of(member(protocols[1], "port")) == 80);
    CHECK(str_of(member(protocols[1], "protocol")) == "http");
    CHECK_FALSE(xmlrpc_c::value_boolean(member(protocols[1], "supported")).cvalue());
  }
  // return_fields with pcu_protocol_types alone.
  auto rows = items(ok("user", "GetPCUTypes", {i(t), arr({s("pcu_protocol_types")})}));
  REQUIRE(rows.size() == 1);
  CHECK(xmlrpc_c::value_struct(rows[0]).cvalue().size() == 1);
  CHECK(items(member(rows[0], "pcu_protocol_types")).size() == 2);
  rows = items(ok("user", "GetPCUTypes", {i(t), arr({s("model")})}));
  CHECK(xmlrpc_c::value_struct(rows[0]).cvalue().size() == 1);
  CHECK(ids("user", "GetPCUProtocolTypes", {obj({{"pcu_type_id", i(t)}})}, "port") ==
        std::vector<int>{22, 80});
  CHECK(ids("tech", "GetPCUProtocolTypes", {arr({i(p80)})}, "pcu_protocol_type_id") ==
        std::vector<int>{p80});
  // Updates.
  CHECK(fault("admin", "UpdatePCUProtocolType", {i(p80), obj({{"port", i(22)}})}) == 102);
  CHECK(fault("admin", "UpdatePCUProtocolType", {i(p80), obj({{"port", i(443)}})}) == 0);
  CHECK(fault("admin", "UpdatePCUProtocolType", {i(p80), obj({{"pcu_type_id", i(999999)}})}) ==
        102);
  CHECK(fault("pi", "UpdatePCUProtocolType", {i(p80), obj({{"port", i(444)}})}) == 103);
  CHECK(fault("admin", "UpdatePCUType", {i(t), obj({{"name", s("Renamed")}})}) == 0);
  int other = int_of(ok("admin", "AddPCUType", {obj({{"model", s("Other" + sfx)}})}));
  CHECK(fault("admin", "UpdatePCUType", {i(other), obj({{"model", s(model)}})}) == 102);
  CHECK(fault("admin", "UpdatePCUType", {i(other), obj({{"model", s("")}})}) == 102);
  // Deletes: a type takes its protocol types along.
  CHECK(fault("admin", "DeletePCUProtocolType", {i(p22)}) == 0);
  CHECK(fault("admin", "DeletePCUProtocolType", {i(p22)}) == 102);
  CHECK(fault("user", "DeletePCUType", {i(t)}) == 103);
  CHECK(fault("admin", "DeletePCUType", {i(t)}) == 0);
  CHECK(ids("admin", "GetPCUProtocolTypes", {arr({i(p80)})}, "port").empty());
  CHECK(items(ok("admin", "GetPCUTypes", {arr({i(t)})})).empty());
  CHECK(fault("admin", "DeletePCUType", {i(t)}) == 102);
}

TEST_CASE_METHOD(admindb_world,
                 "AddNodeToPCU and DeleteNodeFromPCU: one port per node, same site") {
  auto node = [&](int site, const std::string& name) {
    return int_of(ok("admin", "AddNode",
                     {i(site), obj({{"hostname", s(name + "-" + sfx + ".example.org")}})}));
  };
  int n1 = node(site_a, "n1"), n2 = node(site_a, "n2"), nb = node(site_b, "nb");
  int pcu = int_of(ok("tech", "AddPCU", {i(site_a), pcu_fields("10.5.0.1")}));
  CHECK(fault("tech", "AddNodeToPCU", {i(n1), i(pcu), i(1)}) == 0);
  CHECK(fault("pi", "AddNodeToPCU", {s("n2-" + sfx + ".example.org"), i(pcu), i(2)}) == 0);
  auto row = items(ok("pi", "GetPCUs", {arr({i(pcu)})}))[0];
  CHECK(ints(member(row, "node_ids")) == std::vector<int>{n1, n2});
  CHECK(ints(member(row, "ports")) == std::vector<int>{1, 2});
  auto n2_row = items(ok("admin", "GetNodes", {arr({i(n2)}), arr({s("pcu_ids"), s("ports")})}))[0];
  CHECK(ints(member(n2_row, "pcu_ids")) == std::vector<int>{pcu});
  CHECK(ints(member(n2_row, "ports")) == std::vector<int>{2});
  CHECK(fault("tech", "AddNodeToPCU", {i(n1), i(pcu), i(3)}) == 102);  // already controlled
  CHECK(fault("admin", "AddNodeToPCU", {i(nb), i(pcu), i(3)}) == 102); // other site
  int n3 = node(site_a, "n3");
  CHECK(fault("admin", "AddNodeToPCU", {i(n3), i(pcu), i(2)}) == 102); // port in use
  CHECK(fault("pi_b", "AddNodeToPCU", {i(n3), i(pcu), i(3)}) == 108);
  CHECK(fault("user", "AddNodeToPCU", {i(n3), i(pcu), i(3)}) == 103);
  CHECK(fault("admin", "AddNodeToPCU", {i(999999), i(pcu), i(3)}) == 102);
  CHECK(fault("pi_b", "DeleteNodeFromPCU", {i(n1), i(pcu)}) == 108);
  CHECK(fault("tech", "DeleteNodeFromPCU", {i(n1), i(pcu)}) == 0);
  CHECK(fault("tech", "DeleteNodeFromPCU", {i(n1), i(pcu)}) == 0); // not connected: no error
  CHECK(ints(member(items(ok("admin", "GetPCUs", {arr({i(pcu)})}))[0], "node_ids")) ==
        std::vector<int>{n2});
  // A deleted node leaves its PCU.
  ok("admin", "DeleteNode", {i(n2)});
  CHECK(ints(member(items(ok("admin", "GetPCUs", {arr({i(pcu)})}))[0], "node_ids")).empty());
}
