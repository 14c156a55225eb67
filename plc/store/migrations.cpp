#include "plc/store/migrations.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace pl::plc::store {

namespace {

// Arbitrary but fixed: identifies plcd's schema lock among advisory locks.
constexpr const char* migration_lock_key = "7216324101";

std::set<int> applied_versions(connection& conn) {
  std::set<int> out;
  auto res = conn.exec("SELECT version FROM schema_migrations");
  for (int r = 0; r < res.rows(); ++r)
    out.insert(static_cast<int>(res.integer(r, 0)));
  return out;
}

} // namespace

int migrate(connection& conn, const pl::clock& clock) {
  return migrate(conn, clock, migrations());
}

int migrate(connection& conn, const pl::clock& clock, const std::vector<migration>& list) {
  std::vector<const migration*> known;
  for (const auto& m : list)
    known.push_back(&m);
  std::sort(known.begin(), known.end(),
            [](const migration* a, const migration* b) { return a->version < b->version; });
  for (std::size_t i = 1; i < known.size(); ++i)
    if (known[i]->version == known[i - 1]->version)
      throw std::logic_error("two migrations share version " + std::to_string(known[i]->version) +
                             ": " + known[i - 1]->name + ", " + known[i]->name);
  conn.exec("SELECT pg_advisory_lock($1::bigint)", {migration_lock_key});
  struct unlock {
    connection& conn;
    ~unlock() {
      if (conn.healthy())
        conn.exec("SELECT pg_advisory_unlock($1::bigint)", {migration_lock_key});
    }
  } guard{conn};
  conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)");
  auto applied = applied_versions(conn);
  for (int v : applied)
    if (std::none_of(known.begin(), known.end(),
                     [v](const migration* m) { return m->version == v; }))
      throw db_error("database has schema migration " + std::to_string(v) +
                     ", which this plcd does not know (it is newer); upgrade plcd");
  // Every missing migration runs, also one numbered below the newest applied:
  // migrations developed side by side may land in any order.
  int version = applied.empty() ? 0 : *applied.rbegin();
  for (const migration* m : known) {
    if (applied.count(m->version))
      continue;
    in_transaction(conn, [&](connection& c) {
      c.exec_script(m->sql);
      c.exec("INSERT INTO schema_migrations (version, name, applied_at)"
             " VALUES ($1, $2, to_timestamp($3))",
             {std::to_string(m->version), m->name, std::to_string(clock.now_epoch())});
    });
    version = std::max(version, m->version);
  }
  return version;
}

} // namespace pl::plc::store
