#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "plc/cli/literal.hpp"

using pl::plc::cli::parse_literal;

namespace {

xmlrpc_c::value parsed(const std::string& text) {
  auto r = parse_literal(text);
  INFO(text << ": " << r.error);
  REQUIRE(r.ok);
  return r.value;
}

std::string as_string(const xmlrpc_c::value& v) {
  REQUIRE(v.type() == xmlrpc_c::value::TYPE_STRING);
  return xmlrpc_c::value_string(v).cvalue();
}

} // namespace

TEST_CASE("numbers become int, i8 or double", "[literal]") {
  auto v1 = parsed("42");
  REQUIRE(v1.type() == xmlrpc_c::value::TYPE_INT);
  CHECK(xmlrpc_c::value_int(v1).cvalue() == 42);

  auto v2 = parsed("-7");
  REQUIRE(v2.type() == xmlrpc_c::value::TYPE_INT);
  CHECK(xmlrpc_c::value_int(v2).cvalue() == -7);

  auto v3 = parsed("2147483648");
  REQUIRE(v3.type() == xmlrpc_c::value::TYPE_I8);
  CHECK(xmlrpc_c::value_i8(v3).cvalue() == 2147483648LL);

  auto v4 = parsed("-2147483649");
  REQUIRE(v4.type() == xmlrpc_c::value::TYPE_I8);
  CHECK(xmlrpc_c::value_i8(v4).cvalue() == -2147483649LL);

  auto v5 = parsed("1.5");
  REQUIRE(v5.type() == xmlrpc_c::value::TYPE_DOUBLE);
  CHECK(xmlrpc_c::value_double(v5).cvalue() == 1.5);

  auto v6 = parsed("[1e3]");
  auto items = xmlrpc_c::value_array(v6).vectorValueValue();
  REQUIRE(items.size() == 1);
  REQUIRE(items[0].type() == xmlrpc_c::value::TYPE_DOUBLE);
  CHECK(xmlrpc_c::value_double(items[0]).cvalue() == 1000.0);

  auto r = parse_literal("18446744073709551615");
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.error, Catch::Contains("does not fit in 64 bits"));
}

TEST_CASE("bare words are strings, quoted numbers too", "[literal]") {
  CHECK(as_string(parsed("admin@localhost")) == "admin@localhost");
  CHECK(as_string(parsed("GetSites")) == "GetSites");
  CHECK(as_string(parsed("2024-01-01")) == "2024-01-01");
  CHECK(as_string(parsed("12abc")) == "12abc");
  CHECK(as_string(parsed("")) == "");
  CHECK(as_string(parsed("two words")) == "two words");
  CHECK(as_string(parsed("\"42\"")) == "42");
  CHECK(as_string(parsed("'42'")) == "42");
  CHECK(as_string(parsed("'it\\'s \"quoted\"'")) == "it's \"quoted\"");
  CHECK(as_string(parsed("\"tab\\tand \\u00e9\"")) == "tab\tand \xc3\xa9");
}

TEST_CASE("nil and booleans in JSON and Python spellings", "[literal]") {
  CHECK(parsed("None").type() == xmlrpc_c::value::TYPE_NIL);
  CHECK(parsed("null").type() == xmlrpc_c::value::TYPE_NIL);
  for (auto text : {"True", "true"}) {
    auto v7 = parsed(text);
    REQUIRE(v7.type() == xmlrpc_c::value::TYPE_BOOLEAN);
    CHECK(xmlrpc_c::value_boolean(v7).cvalue());
  }
  for (auto text : {"False", "false"}) {
    auto v8 = parsed(text);
    REQUIRE(v8.type() == xmlrpc_c::value::TYPE_BOOLEAN);
    CHECK_FALSE(xmlrpc_c::value_boolean(v8).cvalue());
  }
}

TEST_CASE("lists and structs, Python style included", "[literal]") {
  auto v9 = parsed("{'login_base': 'pl', 'enabled': True, 'max_slices': None, \"ids\": [1, 2]}");
  REQUIRE(v9.type() == xmlrpc_c::value::TYPE_STRUCT);
  auto fields = xmlrpc_c::value_struct(v9).cvalue();
  REQUIRE(fields.size() == 4);
  CHECK(as_string(fields.at("login_base")) == "pl");
  CHECK(xmlrpc_c::value_boolean(fields.at("enabled")).cvalue());
  CHECK(fields.at("max_slices").type() == xmlrpc_c::value::TYPE_NIL);
  auto ids = xmlrpc_c::value_array(fields.at("ids")).vectorValueValue();
  REQUIRE(ids.size() == 2);
  CHECK(xmlrpc_c::value_int(ids[1]).cvalue() == 2);

  // Words inside strings are left alone.
  auto v10 = parsed("[\"None of True\", 'False']");
  auto items = xmlrpc_c::value_array(v10).vectorValueValue();
  CHECK(as_string(items[0]) == "None of True");
  CHECK(as_string(items[1]) == "False");

  auto v11 = parsed("  []  ");
  CHECK(xmlrpc_c::value_array(v11).size() == 0);
}

TEST_CASE("malformed structured arguments are errors, not strings", "[literal]") {
  for (auto text : {"{\"a\": 1", "[1, 2", "{'a': bogus}", "'open", "\"open", "[1,]"}) {
    auto r = parse_literal(text);
    INFO(text);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("cannot read"));
  }
  CHECK_THAT(parse_literal("{'a': bogus}").error, Catch::Contains("bare word 'bogus'"));
}
