#pragma once

// Runs a pl::plc::http::server on its own thread for one test, plain or TLS, on a free port.

#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include "plc/http/metrics.hpp"
#include "plc/http/server.hpp"
#include "tests/plc_http/tls_files.hpp"

namespace pl::plc::http::test {

/// Bounds every wait of a test on the server.
inline constexpr auto wait_limit = std::chrono::seconds(20);

/// Returns the certificate shared by every TLS test of the process.
inline const tls_files& shared_tls_files() {
  static tls_files files;
  return files;
}

/// Returns a configuration for tests: loopback, port 0, no signal handling.
inline server_config test_config(bool tls) {
  server_config config;
  config.tls = tls;
  if (tls) {
    config.cert_pem_file = shared_tls_files().cert();
    config.key_pem_file = shared_tls_files().key();
  }
  config.handle_signals = false;
  return config;
}

/// Owns a started server and the thread running it.
class running_server {
public:
  running_server(server_config config, rpc_handler handler)
      : server_{std::move(config), std::move(handler), metrics_} {
    server_.start();
    auto task = std::packaged_task<bool()>{[this] { return server_.run_until_stopped(); }};
    result_ = task.get_future();
    thread_ = std::thread{std::move(task)};
  }

  ~running_server() {
    server_.stop();
    thread_.join();
  }

  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;

  std::uint16_t port() const { return server_.port(); }
  http::server& server() { return server_; }
  metrics_registry& metrics() { return metrics_; }

  /// Returns whether `run_until_stopped` returned within `wait_limit`.
  bool finished_in_time() { return result_.wait_for(wait_limit) == std::future_status::ready; }

  /// Returns what `run_until_stopped` returned (after `finished_in_time()`).
  bool drained_cleanly() { return result_.get(); }

private:
  metrics_registry metrics_;
  http::server server_;
  std::future<bool> result_;
  std::thread thread_;
};

} // namespace pl::plc::http::test
