#include "plc/store/migrations.hpp"

#include <algorithm>

namespace pl::plc::store {

namespace {

// Arbitrary but fixed: identifies plcd's schema lock among advisory locks.
constexpr const char* migration_lock_key = "7216324101";

int current_version(connection& conn) {
  auto res = conn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return static_cast<int>(res.integer(0, 0));
}

} // namespace

int migrate(connection& conn, const pl::clock& clock) {
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
  int version = current_version(conn);
  const auto& known = migrations();
  int newest =
      known.empty() ? 0 : std::max_element(known.begin(), known.end(), [](auto& a, auto& b) {
                            return a.version < b.version;
                          })->version;
  if (version > newest)
    throw db_error("database schema is at version " + std::to_string(version) +
                   " but this plcd knows only up to " + std::to_string(newest) + "; upgrade plcd");
  for (const auto& m : known) {
    if (m.version <= version)
      continue;
    in_transaction(conn, [&](connection& c) {
      c.exec_script(m.sql);
      c.exec("INSERT INTO schema_migrations (version, name, applied_at)"
             " VALUES ($1, $2, to_timestamp($3))",
             {std::to_string(m.version), m.name, std::to_string(clock.now_epoch())});
    });
    version = m.version;
  }
  return version;
}

} // namespace pl::plc::store
