#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/outcome.hpp"
#include "node/local_api.hpp"

// The local API's transport (issue #6 point 5): XML-RPC over HTTP/1.1 POST
// (as the original's SimpleXMLRPCServer) on Boost.Asio/Beast, served on
//   - one unix socket per sliver, `<run_dir>/<sliver>/<socket_name>`, which
//     the container backend bind-mounts into that sliver: the socket a
//     connection arrives on names the caller;
//   - a loopback TCP port (812 by default) for the root context.

namespace pl::node {

namespace detail {
struct api_server_state;
} // namespace detail

/// Holds the credentials of a unix-socket peer (SO_PEERCRED).
struct peer_credentials {
  std::int32_t pid = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

/// Answers one XML-RPC request body from `caller` with the response body.
/// Runs on a worker thread and may block.
using api_handler = std::function<std::string(std::string_view body, const api_caller& caller)>;

/// Configures an `api_server`.
struct api_server_config {
  /// The root context's address; loopback, since the port is unauthenticated.
  std::string tcp_address = "127.0.0.1";
  /// The root context's port: 812 as the original, 0 picks a free one (read
  /// it back with `tcp_port()`); none serves no TCP at all.
  std::optional<std::uint16_t> tcp_port = 812;
  /// Holds one directory per sliver with its socket.
  std::filesystem::path run_dir = "/run/planetlab/nodemgr/api";
  std::string socket_name = "nm.sock";
  /// Runs the sockets; one is plenty.
  std::size_t io_threads = 1;
  /// Runs the calls, which block while the node manager works.
  std::size_t worker_threads = 4;
  /// Bounds a request body (a ticket is at most about 1.4 MB of text).
  std::size_t max_body_bytes = 4 << 20;
  /// Closes a connection idle (or stuck reading or writing) for this long.
  std::chrono::seconds idle_timeout{60};
  /// Bounds the open connections of each listening socket; more are closed
  /// at once, so one sliver cannot starve the others.
  std::size_t max_connections = 32;
  /// Confirms that the peer of a sliver's socket belongs to that sliver
  /// (e.g. by its pid's cgroup); false closes the connection. Unset accepts.
  std::function<bool(const std::string& sliver, const peer_credentials&)> peer_check;
};

/// Serves the local API on the root context's TCP port and the slivers'
/// unix sockets until `stop()` or destruction.
///
/// ```cpp
/// api_server srv{cfg, [&](auto body, auto& who) { return api.handle(body, who); }};
/// srv.start();                          // throws std::system_error if TCP cannot listen
/// auto sock = srv.add_sliver("pl_x");   // bind-mount *sock into pl_x at its fixed path
/// srv.remove_sliver("pl_x");            // when pl_x is destroyed
/// ```
///
/// POST to `/` or `/RPC2` carries XML-RPC; every other method or path gets
/// 405 or 404, an oversized body 413, a malformed request 400.
class api_server {
public:
  api_server(api_server_config cfg, api_handler handler);
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Creates `run_dir`, listens on TCP (when configured) and starts the
  /// threads. Throws `std::system_error` naming what failed.
  void start();

  /// Returns the TCP port (after `start()`), 0 when TCP is off.
  std::uint16_t tcp_port() const;

  /// Listens on `<run_dir>/<name>/<socket_name>` (mode 0666, directory 0755)
  /// for sliver `name`, replacing a stale socket file; calls arriving there
  /// come from `name`. Returns the socket's path. Idempotent. Fails for a
  /// name that is not a sliver name (letters, digits, `_`, `-`, `.`; not
  /// `root`, `.` or `..`), a path too long for a unix socket, or a socket
  /// that cannot be created.
  outcome<std::filesystem::path> add_sliver(const std::string& name);

  /// Stops listening for `name`, closes its connections and removes its
  /// socket and directory. Unknown names are ignored.
  void remove_sliver(const std::string& name);

  /// Makes the set of sockets match `names`: adds the missing ones, removes
  /// the others. Returns the names that could not be added, with the reason.
  std::vector<std::pair<std::string, std::string>>
  sync_slivers(const std::vector<std::string>& names);

  /// Returns the slivers with a socket, sorted.
  std::vector<std::string> slivers() const;

  /// Returns the socket path of sliver `name` (whether or not it listens).
  std::filesystem::path socket_path(const std::string& name) const;

  /// Stops listening, closes every connection, waits for calls in progress
  /// and joins the threads; removes the sockets but keeps their directories
  /// (bind-mounted into running slivers). Idempotent; also done by the
  /// destructor.
  void stop();

private:
  std::unique_ptr<detail::api_server_state> state_;
};

/// Returns whether `name` may name a sliver's socket directory.
bool valid_sliver_name(std::string_view name);

} // namespace pl::node
