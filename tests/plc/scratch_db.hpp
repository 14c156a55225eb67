#pragma once

// A throwaway PostgreSQL cluster for one test suite, with the PLC schema.

#include "actors/clock.hpp"
#include "plc/store/local_cluster.hpp"
#include "plc/store/migrations.hpp"
#include "plc/store/pg.hpp"

#include <optional>

namespace pl::test {

/// Starts one scratch cluster per process on first use; it is stopped and its
/// directory removed at exit, also when assertions failed.
inline plc::store::local_cluster& scratch_cluster() {
  static plc::store::local_cluster cluster = [] {
    auto c = plc::store::local_cluster::scratch();
    c.ensure_database("planetlab");
    plc::store::connection conn{c.conninfo("planetlab")};
    pl::manual_clock clock;
    plc::store::migrate(conn, clock);
    return c;
  }();
  return cluster;
}

inline std::string scratch_conninfo() {
  return scratch_cluster().conninfo("planetlab");
}

} // namespace pl::test
