#include "plc/api/fault.hpp"
#include "plc/api/filter.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <xmlrpc-c/base.hpp>

#include <map>
#include <set>

using namespace pl::plc;
using api::build_select;
using api::marshal_rows;
using store::field_type;
using xv = xmlrpc_c::value;

namespace {

// A small class with every field type, in its own schema so it never meets
// PLC's real tables.
const store::class_desc things{
    "Thing",
    "things",
    "thing_id",
    "name",
    {
        {"thing_id", field_type::integer},
        {"name", field_type::text, {}, 32, true},
        {"size", field_type::integer, {}, 0, true, true},
        {"weight", field_type::real, {}, 0, true, true},
        {"enabled", field_type::boolean, {}, 0, true},
        {"created", field_type::timestamp},
        {"label_ids", field_type::int_list,
         "ARRAY(SELECT l.label_id FROM thing_label l WHERE l.thing_id = t.thing_id ORDER BY 1)"},
        {"labels", field_type::text_list,
         "ARRAY(SELECT 'L' || l.label_id FROM thing_label l WHERE l.thing_id = t.thing_id ORDER BY "
         "1)"},
    },
    "NOT t.deleted",
    "thing_tag",
};

struct fixture {
  store::connection conn{pl::test::scratch_conninfo()};

  fixture() {
    conn.exec_script(R"sql(
      CREATE SCHEMA IF NOT EXISTS filtertest;
      SET search_path = filtertest, public;
      -- Qualified: unqualified names would reach public's tables (tag_types) on the first run.
      DROP TABLE IF EXISTS filtertest.thing_tag, filtertest.thing_label, filtertest.things,
        filtertest.tag_types;
      CREATE TABLE things (thing_id integer PRIMARY KEY, name text NOT NULL, size integer,
        weight float8, enabled boolean NOT NULL, created timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false);
      CREATE TABLE thing_label (thing_id integer, label_id integer);
      CREATE TABLE tag_types (tag_type_id integer PRIMARY KEY, tagname text);
      CREATE TABLE thing_tag (thing_id integer, tag_type_id integer, value text);
      INSERT INTO things VALUES
        (1, 'alpha', 10, 1.5, true, to_timestamp(1000), false),
        (2, 'beta', 20, 2.5, false, to_timestamp(2000), false),
        (3, 'O''Brien', NULL, NULL, true, to_timestamp(3000), false),
        (4, 'gam_ma', 40, 4.5, true, to_timestamp(4000), false),
        (5, 'gone', 50, 5.5, true, to_timestamp(5000), true),
        (6, '''; DROP TABLE things; --', 60, 6.5, false, to_timestamp(6000), false);
      INSERT INTO thing_label VALUES (1, 10), (1, 20), (2, 20), (4, 30);
      INSERT INTO tag_types VALUES (1, 'arch'), (2, 'color');
      INSERT INTO thing_tag VALUES (1, 1, 'x86_64'), (2, 1, 'i386'), (4, 2, 'red');
    )sql");
  }

  std::vector<std::map<std::string, xv>>
  get(const xv& filter, const xv& fields = xmlrpc_c::value_nil(), api::select_options opts = {}) {
    opts.tag_names = {"arch", "color"};
    auto q = build_select(things, filter, fields, opts);
    auto rows = conn.exec(q.sql, q.params);
    std::vector<std::map<std::string, xv>> out;
    for (auto& v : marshal_rows(q, rows))
      out.push_back(xmlrpc_c::value_struct(v).cvalue());
    return out;
  }

  std::vector<int> ids(const xv& filter, api::select_options opts = {}) {
    std::vector<int> out;
    for (auto& row : get(filter, xmlrpc_c::value_nil(), opts))
      out.push_back(xmlrpc_c::value_int(row.at("thing_id")).cvalue());
    return out;
  }

  int fault_of(const xv& filter, const xv& fields = xmlrpc_c::value_nil()) {
    try {
      get(filter, fields);
    } catch (const api::fault& f) {
      return static_cast<int>(f.code());
    }
    return 0;
  }
};

xv s(const std::string& v) {
  return xmlrpc_c::value_string(v);
}
xv i(int v) {
  return xmlrpc_c::value_int(v);
}
xv arr(std::vector<xv> v) {
  return xmlrpc_c::value_array(v);
}
xv obj(std::map<std::string, xv> m) {
  return xmlrpc_c::value_struct(m);
}
const xv nil = xmlrpc_c::value_nil();

using ids_t = std::vector<int>;

} // namespace

TEST_CASE_METHOD(fixture, "nil matches every live row; deleted rows only when asked") {
  CHECK(ids(nil) == ids_t{1, 2, 3, 4, 6});
  api::select_options all;
  all.include_deleted = true;
  CHECK(ids(nil, all) == ids_t{1, 2, 3, 4, 5, 6});
}

TEST_CASE_METHOD(fixture, "a list matches ids and names, OR-combined") {
  CHECK(ids(arr({i(2), s("alpha"), s("O'Brien")})) == ids_t{1, 2, 3});
  CHECK(ids(arr({s("'; DROP TABLE things; --")})) == ids_t{6});
  CHECK(ids(arr({})).empty());
  CHECK(ids(arr({i(5)})).empty()); // deleted
  CHECK(fault_of(arr({xmlrpc_c::value_boolean(true)})) == 102);
}

TEST_CASE_METHOD(fixture, "struct filters combine with AND, or OR with -OR") {
  CHECK(ids(obj({{"enabled", xmlrpc_c::value_boolean(true)}, {"size", i(10)}})) == ids_t{1});
  CHECK(ids(obj({{"enabled", xmlrpc_c::value_boolean(true)}, {"size", i(20)}})).empty());
  CHECK(ids(obj({{"-OR", nil}, {"name", s("beta")}, {"size", i(40)}})) == ids_t{2, 4});
  CHECK(ids(obj({{"size", arr({i(10), i(40), i(99)})}})) == ids_t{1, 4});
  CHECK(ids(obj({{"size", arr({})}})).empty());
  CHECK(ids(obj({{"~size", arr({})}})) == ids_t{1, 2, 3, 4, 6});
}

TEST_CASE_METHOD(fixture, "nil is IS NULL and ~ negates") {
  CHECK(ids(obj({{"size", nil}})) == ids_t{3});
  CHECK(ids(obj({{"~size", nil}})) == ids_t{1, 2, 4, 6});
  CHECK(ids(obj({{"~name", s("alpha")}})) == ids_t{2, 3, 4, 6});
}

TEST_CASE_METHOD(fixture, "bounds: < > strict, [ ] inclusive, also on timestamps") {
  CHECK(ids(obj({{"<size", i(20)}})) == ids_t{1});
  CHECK(ids(obj({{"[size", i(20)}})) == ids_t{1, 2});
  CHECK(ids(obj({{">size", i(40)}})) == ids_t{6});
  CHECK(ids(obj({{"]size", i(40)}})) == ids_t{4, 6});
  CHECK(ids(obj({{">created", i(2000)}, {"<created", i(6000)}})) == ids_t{3, 4});
  CHECK(ids(obj({{"]weight", xmlrpc_c::value_double(2.5)}})) == ids_t{2, 4, 6});
}

TEST_CASE_METHOD(fixture, "wildcards * and % match; _ and quotes are literal") {
  CHECK(ids(obj({{"name", s("*a")}})) == ids_t{1, 2, 4});
  CHECK(ids(obj({{"name", s("gam%")}})) == ids_t{4});
  CHECK(ids(obj({{"name", s("gam_*")}})) == ids_t{4});
  CHECK(ids(obj({{"name", s("ga_m*")}})).empty()); // '_' is not a wildcard
  CHECK(ids(obj({{"name", s("O'*")}})) == ids_t{3});
  CHECK(fault_of(obj({{"size", s("1*")}})) == 102);
}

TEST_CASE_METHOD(fixture, "& and | test list fields for all or any values") {
  CHECK(ids(obj({{"|label_ids", arr({i(20), i(30)})}})) == ids_t{1, 2, 4});
  CHECK(ids(obj({{"&label_ids", arr({i(10), i(20)})}})) == ids_t{1});
  CHECK(ids(obj({{"&label_ids", i(20)}})) == ids_t{1, 2});
  CHECK(ids(obj({{"|labels", s("L30")}})) == ids_t{4});
  CHECK(fault_of(obj({{"&size", i(1)}})) == 102);
  CHECK(fault_of(obj({{"label_ids", i(1)}})) == 102);
}

TEST_CASE_METHOD(fixture, "-SORT, -OFFSET and -LIMIT order and clip") {
  CHECK(ids(obj({{"-SORT", s("-size")}})) == ids_t{3, 6, 4, 2, 1}); // NULLs first in DESC
  CHECK(ids(obj({{"-SORT", arr({s("+enabled"), s("-thing_id")})}})) == ids_t{6, 2, 4, 3, 1});
  // C collation: "'; DROP..." < "O'Brien" < "alpha" < "beta" < "gam_ma".
  CHECK(ids(obj({{"-SORT", s("name")}, {"-OFFSET", i(1)}, {"-LIMIT", i(2)}})) == ids_t{3, 1});
  CHECK(fault_of(obj({{"-SORT", s("nope")}})) == 102);
  CHECK(fault_of(obj({{"-LIMIT", i(-1)}})) == 102);
  CHECK(fault_of(obj({{"-FOO", i(1)}})) == 102);
}

TEST_CASE_METHOD(fixture, "unknown filter fields and ill-typed values are fault 102") {
  CHECK(fault_of(obj({{"nope", i(1)}})) == 102);
  CHECK(fault_of(obj({{"size", s("ten")}})) == 102);
  CHECK(fault_of(obj({{"enabled", i(1)}})) == 102);
  CHECK(fault_of(s("alpha")) == 102);
}

TEST_CASE_METHOD(fixture, "return_fields select columns; unknown ones are fault 102") {
  auto rows = get(arr({s("alpha")}), arr({s("name"), s("label_ids"), s("created")}));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].size() == 3);
  CHECK(xmlrpc_c::value_string(rows[0].at("name")).cvalue() == "alpha");
  auto labels = xmlrpc_c::value_array(rows[0].at("label_ids")).vectorValueValue();
  REQUIRE(labels.size() == 2);
  CHECK(xmlrpc_c::value_int(labels[1]).cvalue() == 20);
  CHECK(xmlrpc_c::value_int(rows[0].at("created")).cvalue() == 1000);
  CHECK(fault_of(nil, arr({s("name"), s("bogus")})) == 102);
  CHECK(fault_of(nil, arr({})) == 102);
  auto null_row = get(arr({i(3)}), arr({s("size"), s("weight")}));
  CHECK(null_row[0].at("size").type() == xv::TYPE_NIL);
}

TEST_CASE_METHOD(fixture, "tag names work as filter, sort and return fields") {
  CHECK(ids(obj({{"arch", s("x86*")}})) == ids_t{1});
  CHECK(ids(obj({{"color", nil}, {"-SORT", s("-arch")}})) == ids_t{3, 6, 1, 2});
  auto rows = get(arr({i(1), i(4)}), arr({s("name"), s("arch"), s("color")}));
  REQUIRE(rows.size() == 2);
  CHECK(xmlrpc_c::value_string(rows[0].at("arch")).cvalue() == "x86_64");
  CHECK(rows[0].at("color").type() == xv::TYPE_NIL);
  CHECK(xmlrpc_c::value_string(rows[1].at("color")).cvalue() == "red");
}

// --- descriptor-driven writes (plc/api/crud.hpp) ---

#include "plc/api/crud.hpp"

TEST_CASE_METHOD(fixture, "writable_values checks types, lengths and nil, ignoring extra keys") {
  conn.exec("SET search_path = filtertest, public");
  auto values = api::writable_values(
      things, obj({{"name", s("delta")}, {"size", nil}, {"thing_id", i(99)}, {"bogus", i(1)}}));
  CHECK(values.has("name"));
  CHECK(values.has("size"));
  CHECK_FALSE(values.has("thing_id")); // not writable
  CHECK_FALSE(values.has("bogus"));
  CHECK_THROWS_AS(api::writable_values(things, obj({{"bogus", i(1)}}), {}, true), api::fault);
  CHECK_THROWS_WITH(api::writable_values(things, obj({{"name", s(std::string(33, 'x'))}})),
                    Catch::Contains("Invalid name value") && Catch::Contains("32 bytes"));
  // Byte length, not characters: 16 two-byte characters are 32 bytes and fit.
  std::string umlauts;
  for (int k = 0; k < 16; ++k)
    umlauts += "\xc3\xbc";
  CHECK_NOTHROW(api::writable_values(things, obj({{"name", s(umlauts)}})));
  CHECK_THROWS(api::writable_values(things, obj({{"name", s(umlauts + "x")}})));
  CHECK_THROWS_WITH(api::writable_values(things, obj({{"enabled", nil}})),
                    Catch::Contains("may not be nil"));
  CHECK_THROWS_WITH(api::writable_values(things, obj({{"size", s("7")}})),
                    Catch::Contains("expected int"));
  auto only = api::writable_values(things, obj({{"name", s("x")}, {"size", i(1)}}), {"size"});
  CHECK_FALSE(only.has("name"));
}

TEST_CASE_METHOD(fixture, "insert, update and resolve rows through the descriptor") {
  conn.exec("SET search_path = filtertest, public");
  auto values = api::writable_values(things, obj({{"name", s("Robert'); DROP TABLE things;--")},
                                                  {"size", i(7)},
                                                  {"enabled", xmlrpc_c::value_boolean(true)}}));
  values.set("thing_id", std::string{"7"});
  values.set("created", std::string{"7000"}, "to_timestamp");
  int id = api::insert_row(conn, things, values);
  CHECK(id == 7);
  CHECK(api::resolve_id(conn, things, s("Robert'); DROP TABLE things;--")) == 7);
  CHECK(api::resolve_id(conn, things, i(7)) == 7);
  CHECK_THROWS_WITH(api::resolve_id(conn, things, i(5)), Catch::Contains("No such Thing"));
  CHECK_THROWS_WITH(api::resolve_id(conn, things, s("nobody")), Catch::Contains("No such Thing"));

  CHECK(api::update_row(conn, things, 7,
                        api::writable_values(things, obj({{"size", i(8)}, {"weight", nil}}))));
  CHECK_FALSE(
      api::update_row(conn, things, 5, api::writable_values(things, obj({{"size", i(8)}}))));
  auto rows = get(arr({i(7)}), arr({s("size"), s("weight"), s("created")}));
  REQUIRE(rows.size() == 1);
  CHECK(xmlrpc_c::value_int(rows[0].at("size")).cvalue() == 8);
  CHECK(rows[0].at("weight").type() == xv::TYPE_NIL);
  CHECK(xmlrpc_c::value_int(rows[0].at("created")).cvalue() == 7000);
}

TEST_CASE("doubles are bound with every digit they need") {
  CHECK(api::exact_text(0.1) == "0.1");
  CHECK(api::exact_text(-33.123456789) == "-33.123456789");
  CHECK(std::stod(api::exact_text(1.0 / 3.0)) == 1.0 / 3.0);
}
