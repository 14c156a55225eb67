#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace pl::plc::store {

/// Reports a failed database operation; `sqlstate` is PostgreSQL's five-character code.
class db_error : public std::runtime_error {
public:
  db_error(std::string message, std::string sqlstate = {})
      : std::runtime_error(std::move(message))
      , sqlstate_(std::move(sqlstate)) {}

  const std::string& sqlstate() const { return sqlstate_; }

  /// Tells whether the error is a unique-constraint violation (SQLSTATE 23505).
  bool unique_violation() const { return sqlstate_ == "23505"; }

private:
  std::string sqlstate_;
};

/// A query parameter in text form; `std::nullopt` binds SQL NULL.
using param = std::optional<std::string>;

/// Holds the rows of one statement's result, all values in text form.
class result {
public:
  explicit result(pg_result* res)
      : res_(res) {}
  result(result&& other) noexcept
      : res_(other.res_) {
    other.res_ = nullptr;
  }
  result& operator=(result&& other) noexcept;
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result();

  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;
  std::optional<std::string> optional_text(int row, int col) const;
  long long integer(int row, int col) const;
  bool boolean(int row, int col) const;
  /// Returns the number of rows an INSERT, UPDATE or DELETE touched.
  long long affected() const;

private:
  pg_result* res_;
};

/// Owns one libpq connection. Every statement binds its values as parameters;
/// no value is ever spliced into SQL text.
class connection {
public:
  /// Connects with a libpq connection string; throws db_error with libpq's message.
  explicit connection(const std::string& conninfo);
  connection(connection&& other) noexcept
      : conn_(other.conn_) {
    other.conn_ = nullptr;
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Runs one statement with bound parameters; throws db_error on failure.
  result exec(std::string_view sql, const std::vector<param>& params = {});

  /// Runs one or more statements without parameters (schema scripts only).
  void exec_script(std::string_view sql);

  /// Tells whether the connection is still usable.
  bool healthy() const;

  /// Tells whether the connection is usable and outside any transaction, i.e.
  /// safe to hand to the next caller.
  bool reusable() const;

  /// Discards a broken connection's state by reconnecting.
  void reset();

  pg_conn* native() { return conn_; }

private:
  pg_conn* conn_;
};

/// Returns how many statements exec() has run in this process, on every
/// connection: tests bound the statements of one API call with it.
std::uint64_t statements_executed();

/// Runs `fn(connection&)` inside BEGIN/COMMIT, rolling back if it throws.
template <class F>
auto in_transaction(connection& conn, F&& fn) -> decltype(fn(conn)) {
  conn.exec("BEGIN");
  try {
    if constexpr (std::is_void_v<decltype(fn(conn))>) {
      fn(conn);
      conn.exec("COMMIT");
    } else {
      auto value = fn(conn);
      conn.exec("COMMIT");
      return value;
    }
  } catch (...) {
    if (conn.healthy())
      conn.exec("ROLLBACK");
    throw;
  }
}

} // namespace pl::plc::store
