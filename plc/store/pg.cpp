#include "plc/store/pg.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <charconv>

namespace pl::plc::store {

namespace {

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

void check(PGresult* res, PGconn* conn) {
  auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res ? trimmed(PQresultErrorMessage(res)) : trimmed(PQerrorMessage(conn));
  std::string sqlstate = state ? state : "";
  PQclear(res);
  throw db_error(message.empty() ? "database error" : message, sqlstate);
}

} // namespace

result& result::operator=(result&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

result::~result() {
  PQclear(res_);
}

int result::rows() const {
  return PQntuples(res_);
}

int result::columns() const {
  return PQnfields(res_);
}

bool result::is_null(int row, int col) const {
  return PQgetisnull(res_, row, col) != 0;
}

std::string_view result::text(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

std::optional<std::string> result::optional_text(int row, int col) const {
  if (is_null(row, col))
    return std::nullopt;
  return std::string{text(row, col)};
}

long long result::integer(int row, int col) const {
  auto s = text(row, col);
  long long value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size())
    throw db_error("column " + std::to_string(col) + " is not an integer: '" + std::string{s} +
                   "'");
  return value;
}

bool result::boolean(int row, int col) const {
  return text(row, col) == "t";
}

long long result::affected() const {
  const char* n = PQcmdTuples(res_);
  return (n && *n) ? std::stoll(n) : 0;
}

connection::connection(const std::string& conninfo)
    : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw db_error("cannot connect to PostgreSQL: " + message, "08001");
  }
  // Server notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

connection::~connection() {
  PQfinish(conn_);
}

namespace {
std::atomic<std::uint64_t> statement_counter{0};
}

std::uint64_t statements_executed() {
  return statement_counter.load(std::memory_order_relaxed);
}

result connection::exec(std::string_view sql, const std::vector<param>& params) {
  statement_counter.fetch_add(1, std::memory_order_relaxed);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  std::string text{sql};
  PGresult* res = PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  check(res, conn_);
  return result{res};
}

void connection::exec_script(std::string_view sql) {
  std::string text{sql};
  PGresult* res = PQexec(conn_, text.c_str());
  check(res, conn_);
  PQclear(res);
}

bool connection::healthy() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

bool connection::reusable() const {
  return healthy() && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

void connection::reset() {
  PQreset(conn_);
}

} // namespace pl::plc::store
