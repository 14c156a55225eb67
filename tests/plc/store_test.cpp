#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <future>
#include <thread>

using namespace pl::plc::store;
using pl::test::scratch_conninfo;

TEST_CASE("migrations are applied once and a second run changes nothing") {
  connection conn{scratch_conninfo()};
  pl::manual_clock clock;
  int version = migrate(conn, clock);
  CHECK(version == migrations().back().version);
  CHECK(migrate(conn, clock) == version);
  auto res = conn.exec("SELECT count(*) FROM schema_migrations");
  CHECK(res.integer(0, 0) == static_cast<long long>(migrations().size()));
  auto roles = conn.exec("SELECT role_id, name FROM roles ORDER BY role_id");
  REQUIRE(roles.rows() == 5); // admin, pi, user, tech, and node (0125)
  CHECK(roles.text(0, 1) == "admin");
  CHECK(roles.integer(3, 0) == 40);
  CHECK(roles.integer(4, 0) == 50);
  CHECK(roles.text(4, 1) == "node");
}

TEST_CASE("a database newer than the binary is refused") {
  connection conn{scratch_conninfo()};
  pl::manual_clock clock;
  conn.exec("INSERT INTO schema_migrations VALUES (9999, 'future', to_timestamp(0))");
  CHECK_THROWS_WITH(migrate(conn, clock), Catch::Contains("newer") || Catch::Contains("9999"));
  conn.exec("DELETE FROM schema_migrations WHERE version = 9999");
}

TEST_CASE("values are bound parameters and round-trip literally") {
  connection conn{scratch_conninfo()};
  pl::manual_clock clock;
  for (std::string name : {"O'Brien", "'; DROP TABLE persons; --", "back\\slash", "ünï\"cödé"}) {
    int id = add_person(conn, {name + "@example.org", name, name, "nopass", true, {30}}, clock);
    auto res =
        conn.exec("SELECT first_name FROM persons WHERE person_id = $1", {std::to_string(id)});
    CHECK(res.text(0, 0) == name);
  }
  CHECK(conn.exec("SELECT count(*) FROM persons").integer(0, 0) >= 4);
}

TEST_CASE("e-mail is unique among live accounts, case-insensitively") {
  connection conn{scratch_conninfo()};
  pl::manual_clock clock;
  int id = add_person(conn, {"Dup@Example.org", "a", "b", "nopass", false, {}}, clock);
  try {
    add_person(conn, {"dup@example.org", "c", "d", "nopass", false, {}}, clock);
    FAIL("duplicate e-mail accepted");
  } catch (const db_error& e) {
    CHECK(e.unique_violation());
  }
  // A failed transaction leaves no half-inserted person behind.
  CHECK(conn.exec("SELECT count(*) FROM persons WHERE lower(email) = 'dup@example.org'")
            .integer(0, 0) == 1);
  conn.exec("UPDATE persons SET deleted = true WHERE person_id = $1", {std::to_string(id)});
  CHECK(add_person(conn, {"dup@example.org", "c", "d", "nopass", false, {}}, clock) != id);
  CHECK(find_person(conn, "DUP@example.org").has_value());
}

TEST_CASE("a failing statement reports SQLSTATE and leaves the connection usable") {
  connection conn{scratch_conninfo()};
  try {
    conn.exec("SELECT * FROM no_such_table");
    FAIL("no error");
  } catch (const db_error& e) {
    CHECK(e.sqlstate() == "42P01");
  }
  CHECK(conn.exec("SELECT 1").integer(0, 0) == 1);
}

TEST_CASE("the pool lends at most its capacity and times out the rest") {
  connection_pool pool{scratch_conninfo(), 2, std::chrono::milliseconds{200}};
  auto a = pool.acquire();
  auto b = pool.acquire();
  CHECK(pool.stats().in_use == 2);
  CHECK_THROWS_AS(pool.acquire(), db_error);
  CHECK(pool.stats().timeouts == 1);
  { auto moved = std::move(b); }
  auto c = pool.acquire(); // the returned connection is lent again
  CHECK(pool.stats().open == 2);
  CHECK(c->exec("SELECT 2").integer(0, 0) == 2);
}

TEST_CASE("a waiter gets the connection as soon as one is returned") {
  connection_pool pool{scratch_conninfo(), 1, std::chrono::seconds{30}};
  std::promise<void> release;
  std::optional<connection_pool::lease> held{pool.acquire()};
  auto waiter = std::async(std::launch::async, [&] {
    auto l = pool.acquire();
    return l->exec("SELECT 7").integer(0, 0);
  });
  while (pool.stats().waiting == 0)
    std::this_thread::yield();
  held.reset();
  CHECK(waiter.get() == 7);
}

TEST_CASE("a connection returned inside a transaction is not lent again") {
  connection_pool pool{scratch_conninfo(), 1};
  {
    auto l = pool.acquire();
    l->exec("BEGIN");
  }
  CHECK(pool.stats().open == 0);
  auto l = pool.acquire();
  CHECK(l->exec("SELECT 1").integer(0, 0) == 1);
}

TEST_CASE("a second cluster in the same directory reuses the data") {
  auto dir = std::filesystem::path{pl::test::scratch_cluster().dir()}.parent_path() / "reuse";
  {
    local_cluster first{dir};
    CHECK(first.created_now());
    first.ensure_database("kept");
  }
  local_cluster second{dir};
  CHECK_FALSE(second.created_now());
  connection conn{second.conninfo("kept")};
  CHECK(conn.exec("SELECT current_database()").text(0, 0) == "kept");
}

TEST_CASE("the pool's statement timeout cancels a stuck statement") {
  connection_pool pool{scratch_conninfo(), 1, std::chrono::seconds{10},
                       std::chrono::milliseconds{200}};
  auto l = pool.acquire();
  try {
    l->exec("SELECT pg_sleep(30)");
    FAIL("pg_sleep(30) was not cancelled");
  } catch (const db_error& e) {
    CHECK(e.sqlstate() == "57014"); // query_canceled
  }
}

TEST_CASE("a migration that lands below the newest applied one still runs") {
  connection conn{scratch_conninfo()};
  pl::manual_clock clock;
  conn.exec_script("CREATE SCHEMA IF NOT EXISTS migtest; SET search_path = migtest;"
                   "DROP TABLE IF EXISTS schema_migrations, a, b, c");
  std::vector<migration> first{{10, "0010_a", "CREATE TABLE a (x int)"},
                               {30, "0030_c", "CREATE TABLE c (x int)"}};
  CHECK(migrate(conn, clock, first) == 30);
  auto later = first;
  later.push_back({20, "0020_b", "CREATE TABLE b (x int)"});
  CHECK(migrate(conn, clock, later) == 30);
  CHECK(conn.exec("SELECT count(*) FROM schema_migrations").integer(0, 0) == 3);
  CHECK(conn.exec("SELECT count(*) FROM b").integer(0, 0) == 0); // table b exists
  // A database holding a migration the binary does not know is refused.
  CHECK_THROWS_AS(migrate(conn, clock, {first[0]}), db_error);
  std::vector<migration> twins{{10, "0010_a", ""}, {10, "0010_again", ""}};
  CHECK_THROWS_AS(migrate(conn, clock, twins), std::logic_error);
  conn.exec_script("SET search_path = public");
}
