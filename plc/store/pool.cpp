#include "plc/store/pool.hpp"

namespace pl::plc::store {

connection_pool::connection_pool(std::string conninfo, std::size_t capacity,
                                 std::chrono::milliseconds acquire_timeout,
                                 std::chrono::milliseconds statement_timeout)
    : conninfo_(std::move(conninfo))
    , capacity_(capacity == 0 ? 1 : capacity)
    , acquire_timeout_(acquire_timeout)
    , statement_timeout_(statement_timeout) {}

connection_pool::~connection_pool() = default;

connection_pool::lease connection_pool::acquire() {
  std::unique_lock<std::mutex> guard{mtx_};
  ++waiting_;
  bool ready = available_.wait_for(guard, acquire_timeout_,
                                   [this] { return !idle_.empty() || open_ < capacity_; });
  --waiting_;
  if (!ready) {
    ++timeouts_;
    throw db_error("no database connection free after " + std::to_string(acquire_timeout_.count()) +
                       " ms (pool of " + std::to_string(capacity_) + ")",
                   "53300");
  }
  ++in_use_;
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return lease{this, std::move(conn)};
  }
  // Open outside the lock: connecting takes a round trip to the server.
  ++open_;
  guard.unlock();
  try {
    auto conn = std::make_unique<connection>(conninfo_);
    if (statement_timeout_.count() > 0)
      conn->exec("SELECT set_config('statement_timeout', $1, false)",
                 {std::to_string(statement_timeout_.count())});
    return lease{this, std::move(conn)};
  } catch (...) {
    guard.lock();
    --open_;
    --in_use_;
    available_.notify_one();
    throw;
  }
}

void connection_pool::give_back(std::unique_ptr<connection> conn) {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_use_;
  if (conn->reusable())
    idle_.push_back(std::move(conn));
  else
    --open_;
  available_.notify_one();
}

pool_stats connection_pool::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {capacity_, open_, in_use_, waiting_, timeouts_};
}

} // namespace pl::plc::store
