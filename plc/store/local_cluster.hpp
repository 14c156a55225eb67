#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace pl::plc::store {

/// Options for a private PostgreSQL cluster.
struct local_cluster_options {
  /// Directory of initdb/postgres; empty picks the newest /usr/lib/postgresql/*/bin.
  std::filesystem::path bin_dir;
  /// How long to wait for the server to accept connections.
  std::chrono::seconds start_timeout{60};
  /// Remove the whole directory when the cluster stops (scratch clusters for tests).
  bool remove_on_stop = false;
};

/// Runs a private PostgreSQL cluster in a directory: created on first use,
/// reachable only through a unix socket inside that directory, stopped (and
/// optionally removed) with this object.
///
/// The server is a child process that receives SIGQUIT if its parent dies,
/// so a crashed plcd or test never leaves a server behind. As root, initdb and
/// postgres run as the `postgres` user, since both refuse to run as root.
class local_cluster {
public:
  /// Creates the cluster in `dir` if it has none yet, starts it and waits
  /// until it accepts connections; throws std::runtime_error with a
  /// user-readable reason (and the server log's tail) on failure.
  explicit local_cluster(std::filesystem::path dir, local_cluster_options opts = {});

  /// Starts a scratch cluster in a fresh temporary directory that is removed on stop.
  static local_cluster scratch(local_cluster_options opts = {});

  local_cluster(local_cluster&& other) noexcept;
  local_cluster(const local_cluster&) = delete;
  local_cluster& operator=(const local_cluster&) = delete;
  ~local_cluster();

  /// Returns a libpq connection string for `dbname` on this cluster.
  std::string conninfo(const std::string& dbname = "postgres") const;

  /// Creates database `dbname` unless it exists.
  void ensure_database(const std::string& dbname);

  /// Stops the server (fast shutdown) and waits for it; idempotent.
  void stop();

  const std::filesystem::path& dir() const { return dir_; }
  bool created_now() const { return created_now_; }

private:
  std::filesystem::path dir_;
  local_cluster_options opts_;
  pid_t server_pid_ = -1;
  bool created_now_ = false;
};

} // namespace pl::plc::store
