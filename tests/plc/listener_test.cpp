// The LISTEN/NOTIFY listener against a real PostgreSQL: it hears only
// committed notifications, and resynchronises after losing its connection.

#include "plc/store/listener.hpp"
#include "plc/store/pg.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using pl::plc::store::connection;
using pl::plc::store::listener;
using pl::test::scratch_conninfo;

namespace {

// Collects what the listener thread reports; waits are bounded so a broken
// listener fails the test instead of hanging it.
struct inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> notes;
  int resyncs = 0;

  void add(const std::string& channel, const std::string& payload) {
    std::lock_guard lock{mutex};
    notes.push_back(channel + ":" + payload);
    changed.notify_all();
  }
  void resynced() {
    std::lock_guard lock{mutex};
    ++resyncs;
    changed.notify_all();
  }
  template <class Pred>
  bool wait_for(Pred pred) {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, 60s, [&] { return pred(); });
  }
};

} // namespace

TEST_CASE("the listener hears committed notifications only, in commit order") {
  inbox box;
  listener l{scratch_conninfo(),
             {"pl_test", "pl other"},
             [&](const std::string& c, const std::string& p) { box.add(c, p); },
             [&] { box.resynced(); }};
  REQUIRE(box.wait_for([&] { return box.resyncs == 1; }));

  connection conn{scratch_conninfo()};
  conn.exec("BEGIN");
  conn.exec("SELECT pg_notify('pl_test', $1)", {std::string("rolled back")});
  conn.exec("ROLLBACK");
  conn.exec("BEGIN");
  conn.exec("SELECT pg_notify('pl_test', $1)", {std::string("first")});
  conn.exec("SELECT pg_notify('pl other', $1)", {std::string("O'Brien")});
  conn.exec("SELECT pg_notify('unheard', $1)", {std::string("x")});
  conn.exec("COMMIT");
  conn.exec("SELECT pg_notify('pl_test', $1)", {std::string("second")});
  REQUIRE(box.wait_for([&] { return box.notes.size() >= 3; }));
  std::lock_guard lock{box.mutex};
  CHECK(box.notes ==
        std::vector<std::string>{"pl_test:first", "pl other:O'Brien", "pl_test:second"});
}

TEST_CASE("the listener reconnects and asks for a resync after losing its connection") {
  inbox box;
  listener l{scratch_conninfo(),
             {"pl_test"},
             [&](const std::string& c, const std::string& p) { box.add(c, p); },
             [&] { box.resynced(); },
             200ms};
  REQUIRE(box.wait_for([&] { return box.resyncs == 1; }));
  connection admin{scratch_conninfo()};
  admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
  REQUIRE(box.wait_for([&] { return box.resyncs == 2; }));
  admin.exec("SELECT pg_notify('pl_test', 'after')");
  REQUIRE(box.wait_for([&] { return !box.notes.empty(); }));
  std::lock_guard lock{box.mutex};
  CHECK(box.notes.back() == "pl_test:after");
}

TEST_CASE("a listener that cannot connect says so at once") {
  CHECK_THROWS_WITH(listener(
                        "host=/nonexistent dbname=x", {"c"}, [](auto&, auto&) {}, [] {}),
                    Catch::Contains("LISTEN connection failed"));
}
