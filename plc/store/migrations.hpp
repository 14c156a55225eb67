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

/// Brings the database schema up to date and returns its final version.
///
/// Each pending migration runs in its own transaction; an advisory lock lets
/// several plcd processes start against one database at once. A database
/// whose schema is newer than this binary knows is refused with db_error.
int migrate(connection& conn, const pl::clock& clock);

} // namespace pl::plc::store
