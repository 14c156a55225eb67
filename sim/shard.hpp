#pragma once

// Sharding a real-time run (issue #7 point 4). A shard is an actor
// (`shard_actor`, sim/shard_records.hpp) that hosts a range of the scenario's
// nodes in a `node_host`; the coordinator (`plsim run`, which runs the
// scenario's timeline, measurements and invariants) holds a `fleet` of
// shards: one in its own process, or several `plsim shard` processes on
// loopback or other hosts, reached through CAF's middleman. The coordinator
// tells a shard which nodes to run, crash, reboot, partition or break; the
// shard reports the nodes whose slivers changed, and their final sliver sets.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/scoped_actor.hpp>

#include "sim/shard_records.hpp"

namespace pl {
class clock;
}

namespace pl::sim {

/// Configures an actor system for plsim: the project's runtime
/// (`pl::configure_runtime`) plus the `plsim` type-ID block.
void configure_plsim_runtime(caf::actor_system_config& cfg, bool middleman,
                             std::size_t max_threads = 0);

/// Spawns a shard in `sys`: its nodes live under `state_dir` (which it
/// removes when it stops) and read `clock` (which must outlive it). It
/// observes its node managers every `observe_interval_ms`.
shard_actor spawn_shard(caf::actor_system& sys, std::filesystem::path state_dir,
                        const pl::clock& clock);

/// Splits `host:port` (`[v6]:port` too); throws std::invalid_argument.
std::pair<std::string, std::uint16_t> split_host_port(const std::string& text);

/// The coordinator's side: the shards a run's nodes are dealt to, in
/// contiguous ranges of the scenario's indexes, in the order they were added.
class fleet {
public:
  /// Uses `sys` (with the middleman loaded for remote shards) for its
  /// requests; each waits at most `timeout`.
  explicit fleet(caf::actor_system& sys,
                 std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Stops every shard and the processes it started.
  ~fleet();
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  /// Adds a shard in this process (its nodes under a fresh temporary
  /// directory, on `clock`).
  void add_local(const pl::clock& clock);
  /// Starts a `plsim shard` process (`plsim` is the binary) on loopback,
  /// port 0, and adds it; throws std::runtime_error with its output when it
  /// does not come up.
  void spawn_process(const std::filesystem::path& plsim);
  /// Adds the shard published at `host`:`port`; throws std::runtime_error.
  void join(const std::string& host, std::uint16_t port);

  std::size_t size() const { return shards_.size(); }

  /// Where PLC is and how the nodes poll, for `start` callers that only
  /// know the scenario (the engine); set by whoever made the fleet.
  shard_config& config() { return config_; }

  /// Deals `nodes` to the shards and starts them; throws std::runtime_error
  /// naming a shard that refused.
  void start(const shard_config& cfg, const std::vector<shard_node>& nodes);
  /// Applies `op` to the nodes `indexes` (each at the shard hosting it);
  /// returns the errors, empty when every shard took it. An index on no
  /// shard is refused before any shard is told anything.
  std::vector<std::string> apply(shard_op op, const std::vector<std::int32_t>& indexes);
  /// The views that changed since the last call, from every shard.
  std::vector<node_view> changes();
  /// Every node's view, freshly observed (for the final check).
  std::vector<node_view> snapshot();
  /// Each shard as it described itself at `start`, with its range.
  const std::vector<shard_info>& shards() const { return infos_; }
  /// Where each shard is: "in-process" or host:port.
  const std::vector<std::string>& addresses() const { return addresses_; }
  /// One line per started shard: "nodes 0-2: pid 123 on HOST at ADDRESS".
  std::vector<std::string> describe() const;

private:
  struct child;
  caf::actor_system& sys_;
  std::chrono::milliseconds timeout_;
  shard_config config_;
  std::vector<shard_actor> shards_;
  std::vector<std::string> addresses_;
  std::vector<shard_info> infos_;
  /// Scenario index -> shard position.
  std::vector<std::size_t> owner_;
  std::vector<std::int32_t> first_;
  std::vector<std::unique_ptr<child>> children_;
  /// Sends every request: the shards take it for their coordinator and end
  /// when it does (so it lives as long as the fleet).
  std::unique_ptr<caf::scoped_actor> self_;
};

/// Runs `plsim shard`: publishes a shard on `address`:`port` (0: any free
/// port), prints `plsim shard: listening on ADDRESS:PORT` on stdout, and
/// returns when the coordinator stops it or on SIGINT/SIGTERM. Throws
/// std::runtime_error when it cannot publish.
int run_shard_process(const std::string& address, std::uint16_t port, std::size_t threads);

} // namespace pl::sim
