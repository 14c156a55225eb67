#pragma once

#include "plc/store/pg.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pl::plc::store {

/// Figures a metrics endpoint reports about the pool.
struct pool_stats {
  std::size_t capacity = 0; ///< Most connections the pool will open.
  std::size_t open = 0;     ///< Connections currently open.
  std::size_t in_use = 0;   ///< Connections lent out right now.
  std::size_t waiting = 0;  ///< Callers blocked waiting for a connection.
  std::size_t timeouts = 0; ///< Acquisitions that gave up since start.
};

/// Lends a bounded number of PostgreSQL connections to worker threads.
///
/// Connections open lazily up to `capacity`; a caller that finds none free
/// waits up to `acquire_timeout`, then gets a db_error instead of queueing
/// forever. A connection returned broken is discarded and reopened later.
class connection_pool {
public:
  class lease;

  /// `statement_timeout` bounds every statement on the pool's connections
  /// (0: none), so a stuck query cannot hold a worker or a drain forever.
  connection_pool(std::string conninfo, std::size_t capacity,
                  std::chrono::milliseconds acquire_timeout = std::chrono::seconds{10},
                  std::chrono::milliseconds statement_timeout = std::chrono::milliseconds{0});
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool();

  /// Borrows a connection until the lease is destroyed; throws db_error on timeout.
  lease acquire();

  pool_stats stats() const;

  const std::string& conninfo() const { return conninfo_; }

private:
  void give_back(std::unique_ptr<connection> conn);

  std::string conninfo_;
  std::size_t capacity_;
  std::chrono::milliseconds acquire_timeout_;
  std::chrono::milliseconds statement_timeout_;
  mutable std::mutex mtx_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<connection>> idle_;
  std::size_t open_ = 0;
  std::size_t in_use_ = 0;
  std::size_t waiting_ = 0;
  std::size_t timeouts_ = 0;
};

/// A borrowed connection; returns itself to the pool on destruction.
class connection_pool::lease {
public:
  lease(connection_pool* pool, std::unique_ptr<connection> conn)
      : pool_(pool)
      , conn_(std::move(conn)) {}
  lease(lease&&) noexcept = default;
  lease& operator=(lease&&) noexcept = delete;
  ~lease() {
    if (conn_)
      pool_->give_back(std::move(conn_));
  }

  connection& operator*() { return *conn_; }
  connection* operator->() { return conn_.get(); }

private:
  connection_pool* pool_;
  std::unique_ptr<connection> conn_;
};

} // namespace pl::plc::store
