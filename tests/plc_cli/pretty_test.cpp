#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "plc/cli/literal.hpp"
#include "plc/cli/pretty.hpp"

using pl::plc::cli::pretty;

TEST_CASE("scalars print as JSON", "[pretty]") {
  CHECK(pretty(xmlrpc_c::value_int(1)) == "1");
  CHECK(pretty(xmlrpc_c::value_i8(1LL << 40)) == "1099511627776");
  CHECK(pretty(xmlrpc_c::value_boolean(false)) == "false");
  CHECK(pretty(xmlrpc_c::value_nil()) == "null");
  CHECK(pretty(xmlrpc_c::value_double(0.1)) == "0.1");
  CHECK(pretty(xmlrpc_c::value_string("say \"hi\"\n")) == "\"say \\\"hi\\\"\\n\"");
  CHECK(pretty(xmlrpc_c::value_bytestring(std::vector<unsigned char>{'a', 'b', 'c', 'd'})) ==
        "\"YWJjZA==\"");
}

TEST_CASE("structs print indented with sorted keys", "[pretty]") {
  std::map<std::string, xmlrpc_c::value> inner{{"z", xmlrpc_c::value_int(2)},
                                               {"a", xmlrpc_c::value_nil()}};
  std::vector<xmlrpc_c::value> list{xmlrpc_c::value_struct(inner), xmlrpc_c::value_string("x")};
  std::map<std::string, xmlrpc_c::value> outer{
      {"sites", xmlrpc_c::value_array(list)},
      {"empty", xmlrpc_c::value_array(std::vector<xmlrpc_c::value>{})},
      {"count", xmlrpc_c::value_int(3)}};
  CHECK(pretty(xmlrpc_c::value_struct(outer)) == R"({
  "count": 3,
  "empty": [],
  "sites": [
    {
      "a": null,
      "z": 2
    },
    "x"
  ]
})");
}

TEST_CASE("what the parser reads, the printer writes back", "[pretty]") {
  auto r = pl::plc::cli::parse_literal("{'b': [True, None, 'x'], 'a': 4294967296}");
  REQUIRE(r.ok);
  CHECK(pretty(r.value) == R"({
  "a": 4294967296,
  "b": [
    true,
    null,
    "x"
  ]
})");
}
