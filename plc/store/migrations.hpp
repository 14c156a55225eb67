#pragma once

#include "actors/clock.hpp"
#include "plc/store/pg.hpp"

#include <string>
#include <vector>

namespace pl::plc::store {

/// One versioned schema change, applied exactly once, in version order.
struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// Lists the migrations compiled into this binary (plc/store/migrations/).
const std::vector<migration>& migrations();

/// Brings the database schema up to date and returns its highest version.
///
/// Every migration not yet recorded in `schema_migrations` runs, in version
/// order and each in its own transaction, including one numbered below the
/// newest applied (migrations written side by side may land in any order).
/// An advisory lock lets several plcd processes start against one database at
/// once. A database holding a migration this binary does not know is refused
/// with db_error.
int migrate(connection& conn, const pl::clock& clock);

/// Applies `list` instead of the compiled-in migrations (tests).
int migrate(connection& conn, const pl::clock& clock, const std::vector<migration>& list);

} // namespace pl::plc::store
