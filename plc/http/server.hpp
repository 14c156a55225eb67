#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plc/http/metrics.hpp"
#include "plc/http/router.hpp"

namespace pl::plc::http {

namespace detail {
struct server_state;
} // namespace detail

/// Describes the client and target of one XML-RPC request, for the handler.
struct request_info {
  std::string peer_address;
  std::uint16_t peer_port = 0;
  /// Holds the request path without query (`/PLCAPI/`).
  std::string path;
  std::string content_type;
};

/// Configures a server; the defaults suit `plcd` on loopback with TLS.
struct server_config {
  std::string address = "127.0.0.1";
  /// Names the port to listen on; 0 picks a free one (read it back with `server::port()`).
  std::uint16_t port = 0;
  /// Selects HTTPS; false serves plain HTTP (benchmarks, loopback behind a proxy).
  bool tls = true;
  std::string cert_pem_file;
  std::string key_pem_file;
  /// Bounds a request body; a larger one is answered 413 without being read.
  std::size_t max_body_bytes = 16 << 20;
  std::size_t io_threads = 1;
  /// Sizes the pool that runs the XML-RPC handler, which may block on the database.
  std::size_t worker_threads = 4;
  /// Bounds how long a connection may sit idle, and each read or write.
  std::chrono::seconds idle_timeout{60};
  /// Bounds the drain after a stop request; connections still busy then are cut.
  std::chrono::seconds drain_timeout{30};
  /// Makes SIGTERM and SIGINT stop the server (installed by `start()`).
  bool handle_signals = true;
  /// Fixed documents answered by GET and HEAD, by path (plcd: `/ticket-key.pem`).
  document_map documents;
  /// Directories published read-only by GET and HEAD under their URL prefix (plcd:
  /// `/PlanetLabConf/`, the conf files' sources); read on the worker pool.
  std::vector<file_tree> file_trees;
};

/// Answers the XML of one XML-RPC call with the XML of its response.
///
/// Runs on a worker thread and may block (database). An exception becomes a 500 answer.
using rpc_handler = std::function<std::string(std::string_view body, const request_info& info)>;

/// Serves PLCAPI's XML-RPC over HTTP(S) with keep-alive, plus `/healthz` and `/metrics`.
///
/// Routes: POST `/PLCAPI/` with an XML content type goes to the handler; `GET /healthz` answers
/// `ok`; `GET /metrics` renders the registry; `GET` of a path in `documents` answers that document;
/// `GET` of a path under a prefix of `file_trees` answers that file (`read_tree_file`).
/// Bad requests get a clear HTTP error (400, 404, 405, 413, 415, 431) and the connection is closed
/// where HTTP requires it.
///
/// Typical use:
///
/// ```cpp
/// metrics_registry metrics;
/// server srv{config, handler, metrics};
/// srv.start();                 // throws std::system_error if it cannot listen
/// srv.run_until_stopped();     // returns after SIGTERM/SIGINT or stop() and the drain
/// ```
///
/// `metrics` must outlive the server.
class server {
public:
  server(server_config config, rpc_handler handler, metrics_registry& metrics);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Loads the TLS certificate, binds and listens; throws `std::system_error` naming what failed.
  void start();

  /// Returns the port the server listens on (after `start()`).
  std::uint16_t port() const;

  /// Serves until a stop request and the drain that follows; call once, after `start()`.
  ///
  /// A stop request (`stop()`, or SIGTERM/SIGINT when `handle_signals`) closes the listening
  /// socket and idle keep-alive connections at once; each connection busy with a request still
  /// sends its answer, with `Connection: close`. A second signal, or `drain_timeout`, cuts the
  /// drain short. Runs the I/O on this thread plus `io_threads - 1` more.
  ///
  /// Returns true when every request in flight was answered, false when the drain was cut short.
  bool run_until_stopped();

  /// Requests a stop; safe from any thread and idempotent.
  void stop();

private:
  std::unique_ptr<detail::server_state> state_;
};

} // namespace pl::plc::http
