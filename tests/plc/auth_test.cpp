// Authentication: MD5-crypt import and upgrade, login throttling, session
// auth and the Session methods, events with redaction.
#include "plc/api/dispatcher.hpp"
#include "plc/api/events.hpp"
#include "plc/api/password.hpp"
#include "plc/api/sessions.hpp"
#include "plc/api/throttle.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

#include <atomic>
#include <map>

using namespace pl::plc;
using namespace pl::plc::api;
using namespace std::chrono_literals;
using xv = xmlrpc_c::value;

namespace {

constexpr kdf_cost cheap{10, 8, 1};

xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}

xv pw_auth(const std::string& user, const std::string& pw) {
  return xmlrpc_c::value_struct(std::map<std::string, xv>{
      {"AuthMethod", str("password")}, {"Username", str(user)}, {"AuthString", str(pw)}});
}

xv session_auth(const std::string& key) {
  return xmlrpc_c::value_struct(
      std::map<std::string, xv>{{"AuthMethod", str("session")}, {"session", str(key)}});
}

/// Returns a fresh e-mail address, so test cases sharing the scratch database never collide.
std::string unique_email(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + std::to_string(++n) + "@auth.test";
}

struct outcome {
  bool is_fault = false;
  int code = 0;
  std::string text;
  xv value;
};

struct fixture {
  pl::manual_clock clock;
  store::connection_pool pool{pl::test::scratch_conninfo(), 4};
  login_throttle throttle{{true, 3, 6, 60s, 1000}, clock};
  dispatcher api{{&pool, &clock, &throttle, nullptr}};

  fixture() {
    add_auth_methods(api);
    add_session_methods(api);
    add_event_methods(api);
    api.add({"TouchThings",
             {role::admin, role::user},
             {{"thing_fields", xml_type::structure}},
             xml_type::integer,
             "Pretends to write two objects.",
             [](call_context& ctx, const std::vector<xv>&) -> xv {
               ctx.touched("Thing", 7);
               ctx.touched("Thing", 7);
               ctx.touched("Other", 9);
               ctx.message = "touched things";
               return xmlrpc_c::value_int(1);
             }});
  }

  int add_person(const std::string& email, const std::string& hash, std::vector<int> roles,
                 bool enabled = true) {
    auto conn = pool.acquire();
    return store::add_person(*conn, {email, "F", "L", hash, enabled, std::move(roles)}, clock);
  }

  outcome call(const std::string& method, const std::vector<xv>& params,
               const std::string& peer = "192.0.2.1") {
    xmlrpc_c::paramList list;
    for (const auto& p : params)
      list.add(p);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, list, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(api.handle(xml, peer), &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    auto f = out.getFault();
    return {true, static_cast<int>(f.getCode()), f.getDescription(), {}};
  }

  std::string stored_password(int person_id) {
    auto conn = pool.acquire();
    return std::string{
        conn->exec("SELECT password FROM persons WHERE person_id = $1", {std::to_string(person_id)})
            .text(0, 0)};
  }
};

std::string text_of(const xv& v) {
  return xmlrpc_c::value_string(v).cvalue();
}

} // namespace

TEST_CASE("MD5-crypt matches openssl passwd -1 vectors") {
  // Generated with `openssl passwd -1 -salt SALT PASSWORD`.
  CHECK(md5_crypt("password", "saltsalt") == "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/");
  CHECK(md5_crypt("password", "abc") == "$1$abc$BXBqpb9BZcZhXLgbee.0s/");
  CHECK(md5_crypt("password", "12345678") == "$1$12345678$o2n/JiO/h5VviOInWJ4OQ/");
  CHECK(md5_crypt("password", "x") == "$1$x$ntiM1/Tz/A.K1foNwVMof0");
  CHECK(md5_crypt("", "ab") == "$1$ab$rn6aQS/o7141mj179E/zA.");
  // Salts longer than 8 characters are cut, as crypt(3) does.
  CHECK(md5_crypt("a much longer password than sixteen bytes", "longsaltvalue") ==
        "$1$longsalt$4AfJ7bkm.RwHdxSvAwNAn1");
  // The stored string may be passed as the salt.
  CHECK(md5_crypt("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/") ==
        "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/");
}

TEST_CASE("verify_password accepts MD5-crypt and flags it for rehashing") {
  CHECK(verify_password("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"));
  CHECK_FALSE(verify_password("Password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"));
  CHECK_FALSE(verify_password("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK"));
  CHECK_FALSE(verify_password("password", "$1$saltsaltX$qjXMvbEw8oaL.CzflDtaK/"));
  CHECK_FALSE(verify_password("", "$1$"));
  CHECK(needs_rehash("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"));
  CHECK_FALSE(needs_rehash(hash_password("x", cheap)));
}

TEST_CASE_METHOD(fixture, "an imported MD5-crypt account logs in and is upgraded to scrypt") {
  std::string email = unique_email("legacy");
  int id = add_person(email, md5_crypt("oldpass", "Zq9.aB"), {30});
  CHECK(call("AuthCheck", {pw_auth(email, "wrong")}).code == 103);
  CHECK(stored_password(id).rfind("$1$", 0) == 0);
  auto ok = call("AuthCheck", {pw_auth(email, "oldpass")});
  REQUIRE_FALSE(ok.is_fault);
  std::string upgraded = stored_password(id);
  CHECK(upgraded.rfind("$scrypt$", 0) == 0);
  CHECK(verify_password("oldpass", upgraded));
  CHECK_FALSE(call("AuthCheck", {pw_auth(email, "oldpass")}).is_fault);
  CHECK(call("AuthCheck", {pw_auth(email, "wrong")}).code == 103);
}

TEST_CASE("the throttle blocks an account after N failures in the window") {
  pl::manual_clock clock;
  login_throttle t{{true, 3, 100, 60s, 1000}, clock};
  CHECK(t.retry_after("a", "ip1") == 0s);
  t.failure("a", "ip1");
  clock.advance(10s);
  t.failure("a", "ip2");
  CHECK(t.retry_after("a", "ip1") == 0s);
  clock.advance(10s);
  t.failure("a", "ip3");
  // Three failures at t=0, 10, 20: blocked until the first leaves the window at 60.
  CHECK(t.retry_after("a", "ip9") == 40s);
  CHECK(t.retry_after("b", "ip1") == 0s);
  clock.advance(39s);
  CHECK(t.retry_after("a", "ip1") == 1s);
  clock.advance(1s);
  CHECK(t.retry_after("a", "ip1") == 0s);
  // A success forgets the account's failures.
  t.failure("a", "ip1");
  CHECK(t.retry_after("a", "ip1") > 0s);
  t.success("a");
  CHECK(t.retry_after("a", "ip1") == 0s);
}

TEST_CASE("the throttle blocks a source address across accounts, and stays bounded") {
  pl::manual_clock clock;
  login_throttle t{{true, 100, 4, 60s, 10}, clock};
  for (int i = 0; i < 4; ++i)
    t.failure("user" + std::to_string(i), "198.51.100.7");
  CHECK(t.retry_after("someone-else", "198.51.100.7") == 60s);
  CHECK(t.retry_after("someone-else", "198.51.100.8") == 0s);
  // A success for one account does not excuse the address.
  t.success("user0");
  CHECK(t.retry_after("user0", "198.51.100.7") == 60s);
  for (int i = 0; i < 50; ++i) {
    clock.advance(1s);
    t.failure("spray" + std::to_string(i), "203.0.113." + std::to_string(i));
  }
  CHECK(t.tracked() <= 10);
  login_throttle off{{false, 1, 1, 60s, 10}, clock};
  off.failure("a", "b");
  CHECK(off.retry_after("a", "b") == 0s);
}

TEST_CASE_METHOD(fixture, "failed logins through the API are throttled with a clear fault") {
  std::string email = unique_email("victim");
  add_person(email, hash_password("right", cheap), {30});
  for (int i = 0; i < 3; ++i)
    CHECK_THAT(call("AuthCheck", {pw_auth(email, "guess")}, "192.0.2.10").text,
               Catch::Contains("Password verification failed"));
  // Even the right password is refused while blocked, without running the KDF.
  auto blocked = call("AuthCheck", {pw_auth(email, "right")}, "192.0.2.11");
  CHECK(blocked.code == 103);
  CHECK_THAT(blocked.text, Catch::Contains("Too many failed logins, retry in 60 s"));
  clock.advance(61s);
  CHECK_FALSE(call("AuthCheck", {pw_auth(email, "right")}, "192.0.2.11").is_fault);

  // Unknown accounts count against the source address.
  for (int i = 0; i < 6; ++i)
    CHECK(call("AuthCheck", {pw_auth(unique_email("ghost"), "x")}, "192.0.2.66").code == 103);
  CHECK_THAT(call("AuthCheck", {pw_auth(email, "right")}, "192.0.2.66").text,
             Catch::Contains("Too many failed logins"));
  CHECK_FALSE(call("AuthCheck", {pw_auth(email, "right")}, "192.0.2.67").is_fault);
}

TEST_CASE_METHOD(fixture, "person sessions: create, use, expire, delete") {
  std::string email = unique_email("sess");
  int id = add_person(email, hash_password("pw", cheap), {30});
  auto got = call("GetSession", {pw_auth(email, "pw")});
  REQUIRE_FALSE(got.is_fault);
  std::string key = text_of(got.value);
  CHECK(key.size() == 44); // base64 of 32 bytes
  CHECK(key != text_of(call("GetSession", {pw_auth(email, "pw")}).value));

  auto check = call("AuthCheck", {session_auth(key)});
  REQUIRE_FALSE(check.is_fault);
  // With session auth GetSession returns the same session.
  CHECK(text_of(call("GetSession", {session_auth(key)}).value) == key);
  // A user may not call an admin method: 108 (before the caller is known, so
  // without the person_id prefix, as PLCAPI), and the session survives.
  auto denied = call("GetSessions", {session_auth(key)});
  CHECK(denied.code == 108);
  CHECK_THAT(denied.text, Catch::StartsWith("GetSessions: Permission denied"));
  CHECK(id > 0);
  CHECK_FALSE(call("AuthCheck", {session_auth(key)}).is_fault);

  // 24 h later it has expired: refused, and deleted.
  clock.advance(24h);
  auto expired = call("AuthCheck", {session_auth(key)});
  CHECK(expired.code == 103);
  CHECK_THAT(expired.text, Catch::Contains("Invalid session"));
  CHECK_THAT(call("AuthCheck", {session_auth(key)}).text, Catch::Contains("No such session"));

  // A shorter lifetime on request; DeleteSession needs session auth.
  std::string short_key =
      text_of(call("GetSession", {pw_auth(email, "pw"), xmlrpc_c::value_int(60)}).value);
  CHECK(call("GetSession", {pw_auth(email, "pw"), xmlrpc_c::value_int(-5)}).code == 102);
  CHECK(call("DeleteSession", {pw_auth(email, "pw")}).code == 102);
  auto del = call("DeleteSession", {session_auth(short_key)});
  REQUIRE_FALSE(del.is_fault);
  CHECK(call("AuthCheck", {session_auth(short_key)}).code == 103);

  std::string other =
      text_of(call("GetSession", {pw_auth(email, "pw"), xmlrpc_c::value_int(60)}).value);
  clock.advance(61s);
  CHECK(call("AuthCheck", {session_auth(other)}).code == 103);
}

TEST_CASE_METHOD(fixture, "a disabled account's session stops working and is deleted") {
  std::string email = unique_email("gone");
  int id = add_person(email, hash_password("pw", cheap), {30});
  std::string key = text_of(call("GetSession", {pw_auth(email, "pw")}).value);
  {
    auto conn = pool.acquire();
    conn->exec("UPDATE persons SET enabled = false WHERE person_id = $1", {std::to_string(id)});
  }
  CHECK_THAT(call("AuthCheck", {session_auth(key)}).text, Catch::Contains("No such account"));
  CHECK_THAT(call("AuthCheck", {session_auth(key)}).text, Catch::Contains("No such session"));
}

TEST_CASE_METHOD(fixture, "AddSession (sudo) and GetSessions for admins") {
  std::string admin = unique_email("admin");
  add_person(admin, hash_password("apw", cheap), {10});
  std::string user = unique_email("user");
  int uid = add_person(user, hash_password("upw", cheap), {30});
  auto sudo = call("AddSession", {pw_auth(admin, "apw"), str(user)});
  REQUIRE_FALSE(sudo.is_fault);
  std::string key = text_of(sudo.value);
  auto as_user = call("GetSession", {session_auth(key)});
  CHECK(text_of(as_user.value) == key);
  CHECK(call("AddSession", {pw_auth(admin, "apw"), str("nobody@auth.test")}).code == 102);
  CHECK(call("AddSession", {pw_auth(user, "upw"), str(user)}).code == 103);

  auto listed = call("GetSessions", {pw_auth(admin, "apw"), xmlrpc_c::value_int(uid)});
  REQUIRE_FALSE(listed.is_fault);
  auto rows = xmlrpc_c::value_array(listed.value).vectorValueValue();
  REQUIRE(rows.size() == 1);
  auto row = xmlrpc_c::value_struct(rows[0]).cvalue();
  CHECK(text_of(row.at("session_id")) == key);
  CHECK(xmlrpc_c::value_int(row.at("person_id")).cvalue() == uid);
  CHECK(xmlrpc_c::value_int(row.at("expires")).cvalue() == clock.now_epoch() + 24 * 3600);
  auto by_key = call("GetSessions",
                     {pw_auth(admin, "apw"), xmlrpc_c::value_array(std::vector<xv>{str(key)})});
  CHECK(xmlrpc_c::value_array(by_key.value).vectorValueValue().size() == 1);
  clock.advance(25h);
  auto later = call("GetSessions", {pw_auth(admin, "apw"), xmlrpc_c::value_int(uid)});
  CHECK(xmlrpc_c::value_array(later.value).vectorValueValue().empty());
}

TEST_CASE_METHOD(fixture, "node sessions: one per node, no expiry, node role only") {
  std::string k1, k2;
  {
    auto conn = pool.acquire();
    // node_session refers to nodes: a node (at a site) to hold the sessions.
    auto site = conn->exec("INSERT INTO sites (login_base, name, abbreviated_name, date_created,"
                           " last_updated) VALUES ('nodesessions', 'N', 'N', now(), now())"
                           " RETURNING site_id");
    auto node = conn->exec("INSERT INTO nodes (hostname, site_id, date_created, last_updated)"
                           " VALUES ('ns.test.org', $1, now(), now()) RETURNING node_id",
                           {std::string{site.text(0, 0)}});
    int node_id = static_cast<int>(node.integer(0, 0));
    k1 = add_node_session(*conn, node_id, clock);
    k2 = add_node_session(*conn, node_id, clock);
  }
  CHECK(k1 != k2);
  CHECK_THAT(call("AuthCheck", {session_auth(k1)}).text, Catch::Contains("No such session"));
  clock.advance(24h * 365);
  CHECK_FALSE(call("AuthCheck", {session_auth(k2)}).is_fault);
  CHECK(text_of(call("GetSession", {session_auth(k2)}).value) == k2);
  // An admin-only method: refused with 108, and the node keeps its session
  // (PLCAPI 5.x; 4.0 answered 103 and deleted it).
  CHECK(call("GetSessions", {session_auth(k2)}).code == 108);
  CHECK_FALSE(call("AuthCheck", {session_auth(k2)}).is_fault);
}

TEST_CASE_METHOD(fixture, "writes are recorded as events with secrets removed and objects") {
  std::string admin = unique_email("evadmin");
  int aid = add_person(admin, hash_password("SECRETPW-1", cheap), {10});
  std::string key = text_of(call("GetSession", {pw_auth(admin, "SECRETPW-1")}).value);
  auto fields = xmlrpc_c::value_struct(
      std::map<std::string, xv>{{"name", str("thing")}, {"password", str("NESTED-SECRET")}});
  REQUIRE_FALSE(call("TouchThings", {session_auth(key), fields}).is_fault);
  REQUIRE_FALSE(call("TouchThings", {pw_auth(admin, "SECRETPW-1"), fields}).is_fault);
  // Faults are recorded too; Get* calls and AuthCheck are not.
  CHECK(call("TouchThings", {pw_auth(admin, "WRONG-SECRET"), fields}).code == 103);
  CHECK(call("TouchThings", {pw_auth(admin, "SECRETPW-1"), str("not a struct")}).code == 102);
  CHECK_FALSE(call("AuthCheck", {pw_auth(admin, "SECRETPW-1")}).is_fault);

  auto filter = xmlrpc_c::value_struct(
      std::map<std::string, xv>{{"call_name", str("TouchThings")}, {"-SORT", str("event_id")}});
  auto got = call("GetEvents", {session_auth(key), filter});
  REQUIRE_FALSE(got.is_fault);
  auto events = xmlrpc_c::value_array(got.value).vectorValueValue();
  REQUIRE(events.size() >= 4);
  std::vector<std::map<std::string, xv>> last;
  for (std::size_t i = events.size() - 4; i < events.size(); ++i)
    last.push_back(xmlrpc_c::value_struct(events[i]).cvalue());
  for (auto& ev : last) {
    std::string call_repr = text_of(ev.at("call"));
    CHECK_THAT(call_repr, Catch::StartsWith("TouchThings("));
    CHECK_THAT(call_repr, !Catch::Contains("SECRET"));
    CHECK_THAT(call_repr, !Catch::Contains(key));
    CHECK_THAT(call_repr, Catch::Contains("Removed by API"));
    CHECK(xmlrpc_c::value_int(ev.at("time")).cvalue() == clock.now_epoch());
  }
  CHECK(text_of(last[0].at("auth_type")) == "session");
  CHECK(xmlrpc_c::value_int(last[0].at("person_id")).cvalue() == aid);
  CHECK(xmlrpc_c::value_int(last[0].at("fault_code")).cvalue() == 0);
  CHECK(text_of(last[0].at("message")) == "touched things");
  auto ids = xmlrpc_c::value_array(last[0].at("object_ids")).vectorValueValue();
  auto types = xmlrpc_c::value_array(last[0].at("object_types")).vectorValueValue();
  REQUIRE(ids.size() == 2);
  CHECK(text_of(types[0]) == "Other");
  CHECK(xmlrpc_c::value_int(ids[0]).cvalue() == 9);
  CHECK(text_of(types[1]) == "Thing");
  CHECK(xmlrpc_c::value_int(ids[1]).cvalue() == 7);
  CHECK(text_of(last[1].at("auth_type")) == "password");
  CHECK(xmlrpc_c::value_int(last[2].at("fault_code")).cvalue() == 103);
  CHECK(last[2].at("person_id").type() == xv::TYPE_NIL);
  CHECK_THAT(text_of(last[2].at("message")), Catch::Contains("Password verification failed"));
  CHECK(xmlrpc_c::value_int(last[3].at("fault_code")).cvalue() == 102);
  CHECK(xmlrpc_c::value_array(last[3].at("object_ids")).vectorValueValue().empty());

  // GetSession is a write (it creates a session) and is recorded; AuthCheck is not.
  auto sessions =
      call("GetEvents", {session_auth(key), xmlrpc_c::value_struct(std::map<std::string, xv>{
                                                {"call_name", str("GetSession")},
                                                {"person_id", xmlrpc_c::value_int(aid)}})});
  CHECK(xmlrpc_c::value_array(sessions.value).vectorValueValue().size() == 1);
  auto checks =
      call("GetEvents",
           {session_auth(key),
            xmlrpc_c::value_struct(std::map<std::string, xv>{{"call_name", str("AuthCheck")}})});
  CHECK(xmlrpc_c::value_array(checks.value).vectorValueValue().empty());

  // GetEventObjects: one row per object, filterable by object.
  int first_id = xmlrpc_c::value_int(last[0].at("event_id")).cvalue();
  auto objs =
      call("GetEventObjects",
           {session_auth(key),
            xmlrpc_c::value_struct(std::map<std::string, xv>{
                {"object_type", str("Thing")}, {"event_id", xmlrpc_c::value_int(first_id)}}),
            xmlrpc_c::value_array({str("event_id"), str("object_id"), str("call_name")})});
  REQUIRE_FALSE(objs.is_fault);
  auto rows = xmlrpc_c::value_array(objs.value).vectorValueValue();
  REQUIRE(rows.size() == 1);
  auto row = xmlrpc_c::value_struct(rows[0]).cvalue();
  CHECK(xmlrpc_c::value_int(row.at("object_id")).cvalue() == 7);
  CHECK(row.size() == 3);
  // Unknown filter fields are 102, as everywhere.
  CHECK(call("GetEvents", {session_auth(key), xmlrpc_c::value_struct(std::map<std::string, xv>{
                                                  {"nope", xmlrpc_c::value_int(1)}})})
            .code == 102);
}

TEST_CASE("call_text redacts secrets at any depth and bounds its length") {
  auto nested = xmlrpc_c::value_struct(std::map<std::string, xv>{
      {"inner", xmlrpc_c::value_array(std::vector<xv>{
                    xmlrpc_c::value_struct(std::map<std::string, xv>{{"session", str("S3SS")}})})},
      {"o'k", xmlrpc_c::value_boolean(true)}});
  std::string text = call_text("M", {nested, xmlrpc_c::value_nil(), xmlrpc_c::value_int(5)});
  CHECK(text == "M({'inner': [{'session': 'Removed by API'}], 'o\\'k': True}, None, 5)");
  std::string big = call_text("M", {str(std::string(100000, 'x'))}, 1000);
  CHECK(big.size() <= 1003);
}
