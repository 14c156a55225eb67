#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/outcome.hpp"
#include "actors/records.hpp"
#include "node/byte_cap.hpp"

// Observability (issue #6 point 12): the node manager's figures in
// Prometheus' text format, served over HTTP on a loopback port. The node
// manager actor writes into a `node_metrics` (thread-safe) as it works; the
// `metrics_server` only reads it, so a scrape never waits for the actor.

namespace pl::node {

/// Holds what /metrics reports; written by the node manager, read by scrapes.
class node_metrics {
public:
  /// Upper bounds of the reconcile latency histogram, seconds.
  static const std::vector<double>& latency_bounds();

  node_metrics();

  /// Records one reconciliation run (a plan adopted until its last action
  /// finished) that took `seconds`.
  void observe_reconcile(double seconds);

  /// Replaces the node's status (slivers by phase, counters, refusals).
  void status(node_status s);

  /// Replaces the byte-cap figures, one entry per accounted slice.
  void byte_caps(std::map<std::string, byte_cap_status> caps);

  /// Returns the figures in Prometheus' text exposition format (0.0.4).
  std::string render() const;

private:
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> buckets_; ///< one per bound, not cumulative
  std::uint64_t runs_ = 0;
  double latency_sum_ = 0;
  node_status status_;
  std::map<std::string, byte_cap_status> caps_;
};

namespace detail {
struct metrics_server_state;
} // namespace detail

/// Serves `GET /metrics` (HTTP/1.1, one request per connection) from a
/// `node_metrics` on one thread of its own; other paths are 404, other
/// methods 405.
class metrics_server {
public:
  /// Listens on `address`:`port` (0 picks a free port; read it back with
  /// `port()`). Fails with the reason (address in use, bad address).
  static outcome<std::unique_ptr<metrics_server>> start(std::shared_ptr<const node_metrics> metrics,
                                                        const std::string& address = "127.0.0.1",
                                                        std::uint16_t port = 0);

  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;
  ~metrics_server();

  /// Returns the bound port.
  std::uint16_t port() const;

  /// Stops serving and joins the thread (idempotent).
  void stop();

private:
  metrics_server() = default;
  std::shared_ptr<detail::metrics_server_state> state_;
};

} // namespace pl::node
