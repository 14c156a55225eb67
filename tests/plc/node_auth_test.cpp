// Node authentication: PLCAPI's hmac canonicalisation against vectors worked
// out by hand from the original algorithm, hmac accept/refuse through the
// dispatcher (wrong key, wrong node, tampered argument, missing node role),
// the authfail mail, and node sessions.
#include "boot_world.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace pl::test;
using pl::plc::api::canonical_scalar;
using pl::plc::api::float_text;
using pl::plc::api::hmac_message;
using pl::plc::api::hmac_sha1_hex;

namespace {

const std::string key = "Xq3vR0eYh1kP9sT2wZ8uA5cN7mB4dF6gJ0lQ1oI3rE8";

std::string py3(double x) {
  return canonical_scalar(d(x), float_text::python3);
}
std::string py2(double x) {
  return canonical_scalar(d(x), float_text::python2);
}

} // namespace

TEST_CASE("hmac message: PLCAPI's canonical form of the arguments") {
  // No arguments (GetSession, AuthCheck, BootGetNodeDetails): "[]".
  CHECK(hmac_message({}) == "[]");
  // Struct values only, never keys; nested structs and arrays flattened; each
  // value as Python's str(); sorted by code point; joined without separator.
  std::vector<xv> update{obj({{"boot_state", s("boot")},
                              {"ssh_rsa_key", s("ssh-rsa AAAAB3NzaC1yc2E")},
                              {"primary_network", obj({{"interface_id", i(12)},
                                                       {"method", s("static")},
                                                       {"mac", s("00:16:3E:AA:BB:CC")},
                                                       {"dns2", nil}})}})};
  CHECK(hmac_message(update) == "[00:16:3E:AA:BB:CC12Nonebootssh-rsa AAAAB3NzaC1yc2Estatic]");
  // Upper case sorts before lower case, "-" before digits, and a non-ASCII
  // letter after ASCII (code point order, which UTF-8 byte order keeps).
  std::vector<xv> mixed{s("planetlab-\xc3\xa9"),
                        i(5),
                        b(true),
                        arr({i(3), arr({s("Zeta"), d(2.5), arr({b(false)})})}),
                        obj({{"x", d(1e16)}, {"y", d(0.1)}}),
                        nil,
                        i(-7)};
  CHECK(hmac_message(mixed) == "[-70.11e+162.535FalseNoneTrueZetaplanetlab-\xc3\xa9]");
  CHECK(hmac_message({obj({{"run_level", s("boot")}})}) == "[boot]");
  CHECK(hmac_message({s("installfinished"), i(1), i(0), i(1)}) == "[011installfinished]");
  // Duplicates stay (a sort, not a set).
  CHECK(hmac_message({arr({s("a"), s("a")})}) == "[aa]");
}

TEST_CASE("hmac digest: known answers computed with the original algorithm") {
  // Each digest is hmac.new(key, msg.encode('utf-8'), sha1).hexdigest() of
  // the message above, computed by hand with Python's hmac module.
  CHECK(hmac_sha1_hex(key, "[]") == "d0883413bedc7a4808e74b4599646b84cdd9a7c0");
  CHECK(hmac_sha1_hex(key, "[00:16:3E:AA:BB:CC12Nonebootssh-rsa AAAAB3NzaC1yc2Estatic]") ==
        "ccda831d47e982e1a95a1a6751cec109031c34ce");
  CHECK(hmac_sha1_hex(key, "[-70.11e+162.535FalseNoneTrueZetaplanetlab-\xc3\xa9]") ==
        "bc4e5e6e41ddcb243914f06f5e3b617e7e424e35");
  CHECK(hmac_sha1_hex(key, "[boot]") == "0d71fe7a3c5a8ddbb5a045e7efc53d4678abd356");
  CHECK(hmac_sha1_hex("abc", "[011installfinished]") == "38a9e4b48c2bb16660fe9724562dc620ad384471");
  // A different key gives a different digest.
  CHECK(hmac_sha1_hex(key + "x", "[]") != "d0883413bedc7a4808e74b4599646b84cdd9a7c0");
}

TEST_CASE("hmac message: floats print as Python's repr (3) or str (2)") {
  CHECK(py3(1.0) == "1.0");
  CHECK(py3(0.1) == "0.1");
  CHECK(py3(2.5) == "2.5");
  CHECK(py3(1e16) == "1e+16");
  CHECK(py3(1e15) == "1000000000000000.0");
  CHECK(py3(1e-05) == "1e-05");
  CHECK(py3(0.0001) == "0.0001");
  CHECK(py3(123.456) == "123.456");
  CHECK(py3(-0.0) == "-0.0");
  CHECK(py3(1e22) == "1e+22");
  CHECK(py3(1.5e300) == "1.5e+300");
  CHECK(py3(1.0 / 3) == "0.3333333333333333");
  CHECK(py3(12345678901234567890.0) == "1.2345678901234567e+19");
  CHECK(py3(5e-324) == "5e-324");
  CHECK(py3(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(py2(1.0 / 3) == "0.333333333333");
  CHECK(py2(1.0) == "1.0");
  CHECK(py2(1e16) == "1e+16");
  CHECK(py2(0.1) == "0.1");
  // Known answers for both spellings of one argument.
  CHECK(hmac_message({d(1.0 / 3)}, float_text::python2) == "[0.333333333333]");
  CHECK(hmac_sha1_hex(key, "[0.333333333333]") == "6b763e1eb5e69ff9b6be09c8247b57a0e05595d6");
  CHECK(hmac_sha1_hex(key, "[0.3333333333333333]") == "c9aca3b064870c9fc16170536ad41050cfe11d02");
}

TEST_CASE("hmac message: dateTime and base64 as Python's xmlrpc prints them") {
  CHECK(canonical_scalar(xmlrpc_c::value_datetime(std::string{"20070831T12:34:56"})) ==
        "20070831T12:34:56");
  // str(Binary) reads the bytes as Latin-1; the message is then UTF-8.
  CHECK(canonical_scalar(xmlrpc_c::value_bytestring({'a', 0xE9})) == "a\xc3\xa9");
}

TEST_CASE("hmac auth: the right key is accepted, a wrong one, node or argument is not") {
  boot_world w;
  int node = w.add_node(w.base_a, "n1-" + w.sfx + ".test.org", key);
  int other = w.add_node(w.base_a, "n2-" + w.sfx + ".test.org", key + "2");

  CHECK(int_of(w.node_ok(node, key, "AuthCheck", {})) == 1);
  CHECK(int_of(w.node_ok(node, key, "BootCheckAuthentication", {})) == 1);
  // hmac_dummybox is the same check.
  CHECK_FALSE(
      w.call_as(boot_world::hmac(node, key, {}, "hmac_dummybox"), "AuthCheck", {}).is_fault);
  // BootManager 3.x also sends node_ip: ignored.
  auto with_ip = boot_world::hmac(node, key, {});
  auto m = xmlrpc_c::value_struct(with_ip).cvalue();
  m.emplace("node_ip", s("192.0.2.1"));
  CHECK_FALSE(w.call_as(obj(m), "AuthCheck", {}).is_fault);

  // Wrong key.
  auto wrong = w.node_call(node, key + "x", "AuthCheck", {});
  CHECK(wrong.code == 103);
  CHECK_THAT(wrong.text, Catch::Contains("Call could not be authenticated"));
  // Right key, wrong node: signed with node's key but claiming to be `other`.
  CHECK(w.call_as(boot_world::hmac(other, key, {}), "AuthCheck", {}).code == 103);
  // Unknown node.
  auto unknown = w.call_as(boot_world::hmac(999999, key, {}), "AuthCheck", {});
  CHECK(unknown.code == 103);
  CHECK_THAT(unknown.text, Catch::Contains("No such node"));
  // A signed argument changed on the way: refused, and nothing changes.
  std::vector<xv> signed_args{obj({{"run_level", s("boot")}})};
  auto tampered = w.call_as(boot_world::hmac(node, key, signed_args), "ReportRunlevel",
                            {obj({{"run_level", s("failboot")}})});
  CHECK(tampered.code == 103);
  CHECK(w.node_column(node, "run_level").empty());
  CHECK(w.node_column(node, "last_contact").empty());
  // The same signature with the signed argument works.
  CHECK_FALSE(
      w.call_as(boot_world::hmac(node, key, signed_args), "ReportRunlevel", signed_args).is_fault);
  CHECK(w.node_column(node, "run_level") == "boot");
  // A method that does not list the node role: refused whatever the key.
  auto admin_only = w.node_call(node, key, "GetSessions", {});
  CHECK(admin_only.code == 103);
  CHECK_THAT(admin_only.text, Catch::Contains("missing 'node' role"));
  // Malformed structs.
  CHECK(w.call_as(obj({{"AuthMethod", s("hmac")}, {"value", s("x")}}), "AuthCheck", {}).code ==
        103);
  CHECK(w.call_as(obj({{"AuthMethod", s("hmac")}, {"node_id", s("1")}, {"value", s("x")}}),
                  "AuthCheck", {})
            .code == 103);
}

TEST_CASE("hmac auth: a float argument signed by a Python 2 client is accepted") {
  boot_world w;
  int node = w.add_node(w.base_a, "py2-" + w.sfx + ".test.org", key);
  std::vector<xv> args{obj({{"run_level", s("boot")}, {"load", d(1.0 / 3)}})};
  auto py2_auth = obj({{"AuthMethod", s("hmac")},
                       {"node_id", i(node)},
                       {"value", s(hmac_sha1_hex(key, hmac_message(args, float_text::python2)))}});
  CHECK_FALSE(w.call_as(py2_auth, "ReportRunlevel", args).is_fault);
  CHECK_FALSE(w.node_call(node, key, "ReportRunlevel", args).is_fault);
}

TEST_CASE("hmac auth: failures mail the node's PIs and techs, not its users") {
  boot_world w;
  int node = w.add_node(w.base_a, "fail-" + w.sfx + ".test.org", key);
  int keyless = w.add_node(w.base_a, "nokey-" + w.sfx + ".test.org", "");
  REQUIRE(w.mails().empty());
  CHECK(w.node_call(node, "not-the-key", "AuthCheck", {}).code == 103);
  auto sent = w.mails_with("failed to authenticate");
  REQUIRE(sent.size() == 1);
  CHECK_THAT(sent[0],
             Catch::Contains("Subject: fail-" + w.sfx + ".test.org failed to authenticate"));
  std::string to = mail_header(sent[0], "To");
  CHECK_THAT(to, Catch::StartsWith("To: \"Boot Messages\" <boot@testlab.org>, "));
  CHECK_THAT(to, Catch::Contains(w.email["pi"]) && Catch::Contains(w.email["tech"]));
  CHECK_THAT(to, !Catch::Contains(w.email["user"]) && !Catch::Contains(w.email["pi_b"]));
  CHECK_THAT(to, !Catch::Contains("support@testlab.org"));
  CHECK_THAT(sent[0], Catch::Contains("Call could not be authenticated"));
  CHECK_THAT(sent[0],
             Catch::Contains("https://www.testlab.org:8443/db/nodes/?id=" + std::to_string(node)));
  // No key on record: refused and mailed too.
  auto no_key = w.node_call(keyless, "", "AuthCheck", {});
  CHECK(no_key.code == 103);
  CHECK_THAT(no_key.text, Catch::Contains("No node key"));
  CHECK(w.mails_with("failed to authenticate").size() == 2);
  // An unknown node has nobody to tell; a missing node role is not a key problem.
  CHECK(w.call_as(boot_world::hmac(999999, key, {}), "AuthCheck", {}).code == 103);
  CHECK(w.node_call(node, key, "GetSessions", {}).code == 103);
  CHECK(w.mails_with("failed to authenticate").size() == 2);
  // A disabled PI is not told.
  w.ok("admin", "UpdatePerson", {i(w.id["pi"]), obj({{"enabled", b(false)}})});
  CHECK(w.node_call(node, "still-wrong", "AuthCheck", {}).code == 103);
  auto third = w.mails_with("failed to authenticate");
  REQUIRE(third.size() == 3);
  int without_pi = 0;
  for (auto& mail : third)
    if (mail.find(w.email["pi"]) == std::string::npos)
      ++without_pi;
  CHECK(without_pi == 1);
}

TEST_CASE("hmac auth: a deleted node is refused") {
  boot_world w;
  int node = w.add_node(w.base_a, "gone-" + w.sfx + ".test.org", key);
  w.ok("admin", "DeleteNode", {i(node)});
  auto r = w.node_call(node, key, "AuthCheck", {});
  CHECK(r.code == 103);
  CHECK_THAT(r.text, Catch::Contains("No such node"));
}

TEST_CASE("node sessions: GetSession with hmac, then session auth identifies the node") {
  boot_world w;
  int node = w.add_node(w.base_a, "sess-" + w.sfx + ".test.org", key);
  std::string session = str_of(w.node_ok(node, key, "GetSession", {}));
  CHECK_FALSE(session.empty());
  CHECK(int_of(w.call_as(boot_world::session(session), "AuthCheck", {}).value) == 1);
  // GetSession with that session returns it.
  CHECK(str_of(w.call_as(boot_world::session(session), "GetSession", {}).value) == session);
  // The session is the node's: GetSessions (admin) shows node_id, no expiry.
  auto rows = items(w.ok("admin", "GetSessions", {s(session)}));
  REQUIRE(rows.size() == 1);
  CHECK(int_of(member(rows[0], "node_id")) == node);
  // A method the node may not call: 108, and the session stays.
  auto refused = w.call_as(boot_world::session(session), "GetSessions", {});
  CHECK(refused.code == 108);
  CHECK_FALSE(w.call_as(boot_world::session(session), "AuthCheck", {}).is_fault);
  // Faults name the node.
  auto bad = w.call_as(boot_world::session(session), "ReportRunlevel",
                       {obj({{"run_level", s("nonsense")}})});
  CHECK(bad.code == 102);
  CHECK_THAT(bad.text, Catch::StartsWith("node_id " + std::to_string(node) + ": ReportRunlevel: "));
  // A new hmac GetSession replaces the old session.
  std::string second = str_of(w.node_ok(node, key, "GetSession", {}));
  CHECK(second != session);
  CHECK(w.call_as(boot_world::session(session), "AuthCheck", {}).code == 103);
  CHECK_FALSE(w.call_as(boot_world::session(second), "AuthCheck", {}).is_fault);
}

TEST_CASE("node callers: is_node tells which node called") {
  pl::plc::api::caller node{"hmac", std::nullopt, 7, {pl::plc::api::role::node}, std::nullopt};
  pl::plc::api::caller person{"password", 3, std::nullopt, {pl::plc::api::role::pi}, std::nullopt};
  CHECK(node.is_node());
  CHECK(node.is_node(7));
  CHECK_FALSE(node.is_node(8));
  CHECK_FALSE(person.is_node());
  CHECK_FALSE(person.is_node(3));
  CHECK(node.label() == "node_id 7");
}

TEST_CASE("hmac calls are recorded with their auth type and node") {
  boot_world w;
  int node = w.add_node(w.base_a, "ev-" + w.sfx + ".test.org", key);
  w.node_ok(node, key, "BootNotifyOwners", {s("installfinished"), i(0), i(0), i(0)});
  CHECK(w.node_call(node, "wrong", "BootNotifyOwners", {s("installfinished"), i(0), i(0), i(0)})
            .code == 103);
  auto events = items(w.ok("admin", "GetEvents",
                           {obj({{"call_name", s("BootNotifyOwners")}, {"-SORT", s("event_id")}}),
                            arr({s("node_id"), s("auth_type"), s("fault_code")})}));
  std::vector<std::pair<int, int>> mine; // fault_code per event of this node
  for (auto& e : events)
    if (member(e, "node_id").type() == xv::TYPE_INT && int_of(member(e, "node_id")) == node) {
      CHECK(str_of(member(e, "auth_type")) == "hmac");
      mine.emplace_back(int_of(member(e, "node_id")), int_of(member(e, "fault_code")));
    }
  // The refused call has no authenticated node; only the good one is the node's.
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].second == 0);
}
