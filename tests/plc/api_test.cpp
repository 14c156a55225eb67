#include "plc/api/dispatcher.hpp"
#include "plc/api/password.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

using namespace pl::plc;
using namespace pl::plc::api;

namespace {

std::string call_xml(const std::string& method, const std::string& params_xml) {
  return "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>" +
         params_xml + "</params></methodCall>";
}

std::string param(const std::string& value_xml) {
  return "<param><value>" + value_xml + "</value></param>";
}

std::string password_auth(const std::string& user, const std::string& pw) {
  return "<struct><member><name>AuthMethod</name><value><string>password</string></value></member>"
         "<member><name>Username</name><value><string>" +
         user +
         "</string></value></member>"
         "<member><name>AuthString</name><value><string>" +
         pw +
         "</string></value></member>"
         "<member><name>Role</name><value><string>ignored</string></value></member></struct>";
}

struct observed {
  std::string method;
  int fault;
};

/// A dispatcher on the scratch database with one admin, one user and one disabled account.
struct fixture {
  pl::manual_clock clock;
  store::connection_pool pool{pl::test::scratch_conninfo(), 4};
  std::vector<observed> calls;
  dispatcher api{{&pool, &clock}, [this](const std::string& m, int f, double) {
                   calls.push_back({m, f});
                 }};

  fixture() {
    add_auth_methods(api);
    auto conn = pool.acquire();
    kdf_cost cheap{10, 8, 1};
    if (!store::find_person(*conn, "root@test.org")) {
      store::add_person(
          *conn, {"root@test.org", "R", "Oot", hash_password("rootpw", cheap), true, {10}}, clock);
      store::add_person(
          *conn, {"user@test.org", "U", "Ser", hash_password("userpw", cheap), true, {30}}, clock);
      store::add_person(
          *conn, {"off@test.org", "O", "Ff", hash_password("offpw", cheap), false, {10}}, clock);
      store::add_person(
          *conn, {"norole@test.org", "N", "R", hash_password("nopw", cheap), true, {}}, clock);
    }
  }

  /// Parses a response into its value, or its fault code and string.
  struct outcome {
    bool is_fault = false;
    int code = 0;
    std::string text;
    xmlrpc_c::value value;
  };

  outcome call(const std::string& xml) {
    std::string response = api.handle(xml, "127.0.0.1");
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(response, &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    auto f = out.getFault();
    return {true, static_cast<int>(f.getCode()), f.getDescription(), {}};
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "AuthCheck with a good password returns 1") {
  auto r = call(call_xml("AuthCheck", param(password_auth("root@test.org", "rootpw"))));
  REQUIRE_FALSE(r.is_fault);
  CHECK(xmlrpc_c::value_int(r.value).cvalue() == 1);
  // The login is case-insensitive, as PLCAPI lowercases e-mail addresses.
  CHECK_FALSE(
      call(call_xml("AuthCheck", param(password_auth("User@Test.ORG", "userpw")))).is_fault);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].method == "AuthCheck");
  CHECK(calls[0].fault == 0);
}

TEST_CASE_METHOD(fixture, "authentication failures are fault 103 with a reason") {
  auto bad = call(call_xml("AuthCheck", param(password_auth("root@test.org", "wrong"))));
  CHECK(bad.code == 103);
  CHECK_THAT(bad.text, Catch::Contains("Failed to authenticate call") &&
                           Catch::Contains("Password verification failed"));
  CHECK(call(call_xml("AuthCheck", param(password_auth("nobody@test.org", "x")))).code == 103);
  CHECK_THAT(call(call_xml("AuthCheck", param(password_auth("off@test.org", "offpw")))).text,
             Catch::Contains("No such account"));
  CHECK_THAT(call(call_xml("AuthCheck", param(password_auth("norole@test.org", "nopw")))).text,
             Catch::Contains("Not allowed"));
  auto no_user = call(call_xml("AuthCheck", param("<struct><member><name>AuthMethod</name>"
                                                  "<value>password</value></member></struct>")));
  CHECK(no_user.code == 103);
  CHECK_THAT(no_user.text, Catch::Contains("Username"));
  CHECK(call(call_xml("AuthCheck", param("<string>not a struct</string>"))).code == 103);
  auto anon = call(call_xml("AuthCheck", param("<struct><member><name>AuthMethod</name>"
                                               "<value>anonymous</value></member></struct>")));
  CHECK(anon.code == 103);
}

TEST_CASE_METHOD(fixture, "a wrong argument count is fault 101") {
  auto none = call(call_xml("AuthCheck", ""));
  CHECK(none.code == 101);
  CHECK_THAT(none.text, Catch::Contains("Expected 1 arguments, got 0"));
  auto two = call(call_xml("AuthCheck", param(password_auth("root@test.org", "rootpw")) +
                                            param("<int>5</int>")));
  CHECK(two.code == 101);
}

TEST_CASE_METHOD(fixture, "an unknown method is fault 100, also inside multicall") {
  auto r = call(call_xml("NoSuchMethod", ""));
  CHECK(r.code == 100);
  CHECK_THAT(r.text, Catch::Contains("NoSuchMethod"));

  auto sub = [](const std::string& name, const std::string& params) {
    return "<value><struct><member><name>methodName</name><value>" + name +
           "</value></member><member><name>params</name><value><array><data>" + params +
           "</data></array></value></member></struct></value>";
  };
  std::string calls_xml =
      sub("AuthCheck", "<value>" + password_auth("root@test.org", "rootpw") + "</value>") +
      sub("NoSuchMethod", "") +
      sub("AuthCheck", "<value>" + password_auth("root@test.org", "bad") + "</value>") +
      sub("system.listMethods", "");
  auto m =
      call(call_xml("system.multicall", param("<array><data>" + calls_xml + "</data></array>")));
  REQUIRE_FALSE(m.is_fault);
  auto results = xmlrpc_c::value_array(m.value).vectorValueValue();
  REQUIRE(results.size() == 4);
  // Successes come wrapped in a one-element array; faults in place as structs.
  CHECK(xmlrpc_c::value_int(xmlrpc_c::value_array(results[0]).vectorValueValue()[0]).cvalue() == 1);
  auto fault_of = [](const xmlrpc_c::value& v) {
    auto s = xmlrpc_c::value_struct(v).cvalue();
    return xmlrpc_c::value_int(s.at("faultCode")).cvalue();
  };
  CHECK(fault_of(results[1]) == 100);
  CHECK(fault_of(results[2]) == 103);
  CHECK(results[3].type() == xmlrpc_c::value::TYPE_ARRAY);
}

TEST_CASE_METHOD(fixture, "introspection lists AuthCheck with its signature and help") {
  auto list = call(call_xml("system.listMethods", ""));
  REQUIRE_FALSE(list.is_fault);
  std::vector<std::string> names;
  for (auto& v : xmlrpc_c::value_array(list.value).vectorValueValue())
    names.push_back(xmlrpc_c::value_string(v).cvalue());
  CHECK(std::find(names.begin(), names.end(), "AuthCheck") != names.end());
  CHECK(std::find(names.begin(), names.end(), "system.multicall") != names.end());

  auto sig = call(call_xml("system.methodSignature", param("<string>AuthCheck</string>")));
  REQUIRE_FALSE(sig.is_fault);
  auto sigs = xmlrpc_c::value_array(sig.value).vectorValueValue();
  REQUIRE(sigs.size() == 1);
  auto first = xmlrpc_c::value_array(sigs[0]).vectorValueValue();
  REQUIRE(first.size() == 2); // return type + the auth struct
  CHECK(xmlrpc_c::value_string(first[0]).cvalue() == "int");
  CHECK(xmlrpc_c::value_string(first[1]).cvalue() == "struct");

  auto help = call(call_xml("system.methodHelp", param("<string>AuthCheck</string>")));
  CHECK_THAT(xmlrpc_c::value_string(help.value).cvalue(), Catch::Contains("authenticated"));
}

TEST_CASE_METHOD(fixture, "malformed XML is a well-formed fault, not a crash") {
  for (std::string body :
       std::vector<std::string>{"", "<methodCall>", "garbage", "<?xml version=\"1.0\"?><foo/>",
                                std::string(1000, '<')}) {
    auto r = call(body);
    CHECK(r.is_fault);
  }
}

TEST_CASE_METHOD(fixture, "argument types are checked before the handler runs (102)") {
  method_spec echo{"EchoInt",
                   {role::admin},
                   {{"number", xml_type::integer}},
                   xml_type::integer,
                   "Returns its argument.",
                   [](call_context& ctx, const std::vector<xmlrpc_c::value>& args) {
                     CHECK(ctx.who.person_id.has_value());
                     return args[0];
                   }};
  api.add(echo);
  auto ok = call(call_xml("EchoInt", param(password_auth("root@test.org", "rootpw")) +
                                         param("<int>42</int>")));
  REQUIRE_FALSE(ok.is_fault);
  CHECK(xmlrpc_c::value_int(ok.value).cvalue() == 42);
  auto bad = call(call_xml("EchoInt", param(password_auth("root@test.org", "rootpw")) +
                                          param("<string>42</string>")));
  CHECK(bad.code == 102);
  CHECK_THAT(bad.text,
             Catch::StartsWith("person_id ") && Catch::Contains("EchoInt: Invalid number value"));
  CHECK_THROWS_AS(api.add(echo), std::logic_error);
}

TEST_CASE_METHOD(fixture, "store errors become fault 106, other exceptions 111") {
  api.add({"Broken",
           {role::admin},
           {},
           xml_type::integer,
           "Fails.",
           [](call_context& ctx, const std::vector<xmlrpc_c::value>&) -> xmlrpc_c::value {
             auto db = ctx.svc.db->acquire();
             db->exec("SELECT * FROM missing_table");
             return xmlrpc_c::value_int(0);
           }});
  api.add({"Throws",
           {role::admin},
           {},
           xml_type::integer,
           "Fails.",
           [](call_context&, const std::vector<xmlrpc_c::value>&) -> xmlrpc_c::value {
             throw std::runtime_error("secret detail");
           }});
  auto db = call(call_xml("Broken", param(password_auth("root@test.org", "rootpw"))));
  CHECK(db.code == 106);
  auto internal = call(call_xml("Throws", param(password_auth("root@test.org", "rootpw"))));
  CHECK(internal.code == 111);
  CHECK_THAT(internal.text, !Catch::Contains("secret detail"));
}

TEST_CASE_METHOD(fixture, "multicall keeps PLCAPI's semantics for nesting and bad entries") {
  auto sub = [](const std::string& name, const std::string& params) {
    return "<value><struct><member><name>methodName</name><value>" + name +
           "</value></member><member><name>params</name><value><array><data>" + params +
           "</data></array></value></member></struct></value>";
  };
  std::string calls_xml =
      sub("system.multicall", "") + "<value><int>7</int></value>" +
      sub("AuthCheck", "<value>" + password_auth("root@test.org", "rootpw") + "</value>");
  auto m =
      call(call_xml("system.multicall", param("<array><data>" + calls_xml + "</data></array>")));
  REQUIRE_FALSE(m.is_fault);
  auto results = xmlrpc_c::value_array(m.value).vectorValueValue();
  REQUIRE(results.size() == 3);
  auto code_of = [](const xmlrpc_c::value& v) {
    return xmlrpc_c::value_int(xmlrpc_c::value_struct(v).cvalue().at("faultCode")).cvalue();
  };
  CHECK(code_of(results[0]) == -507); // refused in place, the rest still runs
  CHECK(code_of(results[1]) == 1);    // not a struct
  CHECK(xmlrpc_c::value_int(xmlrpc_c::value_array(results[2]).vectorValueValue()[0]).cvalue() == 1);
  // A body that merely mentions the name is an ordinary call.
  auto other = call(call_xml("AuthCheck", param("<string>system.multicall</string>")));
  CHECK(other.code == 103);
}
