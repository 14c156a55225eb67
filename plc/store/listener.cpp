#include "plc/store/listener.hpp"

#include "plc/store/pg.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace pl::plc::store {

namespace {

struct conn_closer {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using conn_ptr = std::unique_ptr<PGconn, conn_closer>;

// Opens a connection and issues LISTEN for every channel; null with `error`
// set when that fails.
conn_ptr open_listening(const std::string& conninfo, const std::vector<std::string>& channels,
                        std::string& error) {
  conn_ptr conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    error = PQerrorMessage(conn.get());
    return nullptr;
  }
  for (const auto& channel : channels) {
    // Channel names are identifiers, not values, so they are quoted as such.
    char* quoted = PQescapeIdentifier(conn.get(), channel.c_str(), channel.size());
    if (quoted == nullptr) {
      error = PQerrorMessage(conn.get());
      return nullptr;
    }
    std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    PGresult* res = PQexec(conn.get(), sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
      error = PQerrorMessage(conn.get());
    PQclear(res);
    if (!ok)
      return nullptr;
  }
  return conn;
}

} // namespace

listener::listener(std::string conninfo, std::vector<std::string> channels, handler on_notify,
                   resync on_connect, std::chrono::milliseconds max_backoff)
    : conninfo_(std::move(conninfo))
    , channels_(std::move(channels))
    , on_notify_(std::move(on_notify))
    , on_connect_(std::move(on_connect))
    , max_backoff_(max_backoff) {
  std::string error;
  auto conn = open_listening(conninfo_, channels_, error);
  if (!conn)
    throw db_error("LISTEN connection failed: " + error);
  if (pipe(stop_pipe_) != 0)
    throw db_error("listener: cannot create its stop pipe");
  first_conn_ = conn.release();
  thread_ = std::thread([this] { run(); });
}

listener::~listener() {
  if (stop_pipe_[1] >= 0) {
    const char byte = 0;
    [[maybe_unused]] auto n = write(stop_pipe_[1], &byte, 1);
  }
  if (thread_.joinable())
    thread_.join();
  if (first_conn_ != nullptr)
    PQfinish(static_cast<PGconn*>(first_conn_));
  for (int fd : stop_pipe_)
    if (fd >= 0)
      close(fd);
}

void listener::run() {
  conn_ptr conn(static_cast<PGconn*>(first_conn_));
  first_conn_ = nullptr;
  constexpr auto first_backoff = std::chrono::milliseconds(100);
  auto backoff = first_backoff;
  bool resync_due = true;
  for (;;) {
    if (!conn) {
      pollfd stop{stop_pipe_[0], POLLIN, 0};
      if (poll(&stop, 1, static_cast<int>(backoff.count())) > 0)
        return;
      std::string error;
      conn = open_listening(conninfo_, channels_, error);
      if (!conn) {
        backoff = std::min(backoff * 2, max_backoff_);
        continue;
      }
      backoff = first_backoff;
      resync_due = true;
    }
    if (resync_due) {
      resync_due = false;
      if (on_connect_)
        on_connect_();
    }
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {PQsocket(conn.get()), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0)
      continue;
    if (fds[0].revents != 0)
      return;
    if (PQconsumeInput(conn.get()) == 0 || PQstatus(conn.get()) != CONNECTION_OK) {
      conn.reset();
      continue;
    }
    while (PGnotify* note = PQnotifies(conn.get())) {
      std::string channel = note->relname, payload = note->extra;
      PQfreemem(note);
      on_notify_(channel, payload);
    }
  }
}

} // namespace pl::plc::store
