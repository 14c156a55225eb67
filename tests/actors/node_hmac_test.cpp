// PLCAPI node authentication as a node makes it (actors/node_hmac): the
// canonical message, the digest and the auth struct. PLC checks the same
// digests with the same code (tests/plc/node_auth_test.cpp holds more vectors).
#include <catch2/catch.hpp>

#include "actors/node_hmac.hpp"

using xv = xmlrpc_c::value;

namespace {

const std::string key = "Xq3vR0eYh1kP9sT2wZ8uA5cN7mB4dF6gJ0lQ1oI3rE8";

xv s(const std::string& x) {
  return xmlrpc_c::value_string(x);
}
xv i(int x) {
  return xmlrpc_c::value_int(x);
}

} // namespace

TEST_CASE("hmac message: values only, flattened, sorted, bracketed") {
  CHECK(pl::hmac::message({}) == "[]");
  std::map<std::string, xv> inner{{"method", s("static")}, {"interface_id", i(12)}};
  std::vector<xv> args{
      xmlrpc_c::value_struct({{"boot_state", s("boot")}, {"net", xmlrpc_c::value_struct(inner)}}),
      xmlrpc_c::value_array({i(3), xmlrpc_c::value_nil()})};
  CHECK(pl::hmac::message(args) == "[123Nonebootstatic]");
  CHECK(pl::hmac::canonical_scalar(xmlrpc_c::value_double(0.1)) == "0.1");
  CHECK(pl::hmac::canonical_scalar(xmlrpc_c::value_double(1.0 / 3), pl::float_text::python2) ==
        "0.333333333333");
  CHECK(pl::hmac::canonical_scalar(xmlrpc_c::value_boolean(false)) == "False");
  CHECK(pl::hmac::contains_double(xmlrpc_c::value_array({i(1), xmlrpc_c::value_double(2.5)})));
  CHECK_FALSE(pl::hmac::contains_double(xmlrpc_c::value_array({i(1), s("x")})));
}

TEST_CASE("hmac digest: known answers of Python's hmac module") {
  CHECK(pl::hmac::sha1_hex(key, "[]") == "d0883413bedc7a4808e74b4599646b84cdd9a7c0");
  CHECK(pl::hmac::sha1_hex(key, "[boot]") == "0d71fe7a3c5a8ddbb5a045e7efc53d4678abd356");
  CHECK(pl::hmac::sha1_hex("abc", "[011installfinished]") ==
        "38a9e4b48c2bb16660fe9724562dc620ad384471");
}

TEST_CASE("node auth struct: what a node sends with GetSlivers()") {
  auto auth = pl::hmac::node_auth(7, key, {});
  REQUIRE(auth.has_value());
  REQUIRE(auth->type() == xv::TYPE_STRUCT);
  auto m = xmlrpc_c::value_struct(*auth).cvalue();
  CHECK(xmlrpc_c::value_string(m.at("AuthMethod")).cvalue() == "hmac");
  CHECK(xmlrpc_c::value_int(m.at("node_id")).cvalue() == 7);
  CHECK(xmlrpc_c::value_string(m.at("value")).cvalue() ==
        "d0883413bedc7a4808e74b4599646b84cdd9a7c0");
  // With arguments the digest covers them: GetSlivers(auth, 7) differs.
  auto with_id = pl::hmac::node_auth(7, key, {i(7)});
  REQUIRE(with_id.has_value());
  CHECK(xmlrpc_c::value_string(xmlrpc_c::value_struct(*with_id).cvalue().at("value")).cvalue() ==
        pl::hmac::sha1_hex(key, "[7]"));
}
