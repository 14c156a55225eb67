#pragma once

// Real-time virtual nodes (issue #7 points 2 to 4): each one the real
// node manager actor on the `sim` driver backend, on CAF's scheduler, pulling
// GetSlivers from PLC over XML-RPC with hmac node auth and taking pushes from
// PLC's gateway through the middleman, wired exactly as nodemgr wires a
// node (node/main.cpp). Only the drivers (an in-memory model per node) and the
// faults are simulated. A shard (sim/shard.hpp) owns one host.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actors/node_manager_actor.hpp"
#include "sim/shard_records.hpp"

namespace pl {
class clock;
}

namespace pl::sim {

class node_host {
public:
  /// Hosts nodes in `sys` (which must have the middleman loaded when
  /// `cfg.push_port` is set); each node keeps its records file under
  /// `state_dir`/node<index>/. `clock` is the nodes' time and must outlive
  /// the host.
  node_host(caf::actor_system& sys, shard_config cfg, std::filesystem::path state_dir,
            const pl::clock& clock);
  /// Stops every node manager and its drivers.
  ~node_host();
  node_host(const node_host&) = delete;
  node_host& operator=(const node_host&) = delete;

  /// Adds node `n` and boots it. Errors (`errc::invalid_argument`): the
  /// index is hosted already, the node has no id or key, its directory
  /// cannot be made.
  caf::error add(const shard_node& n);

  bool hosts(std::int32_t index) const { return nodes_.count(index) != 0; }
  std::size_t size() const { return nodes_.size(); }

  /// Says whether node `index` should be running (not crashed).
  bool up(std::int32_t index) const;

  /// Applies `op` to hosted node `index`. A node manager that must be
  /// restarted (reboot, partition, heal, break) is stopped first: the
  /// returned address is that actor, and the node boots again when the
  /// caller, having seen it go down, calls `stopped` (so two incarnations
  /// never share the records file).
  std::optional<caf::actor_addr> apply(shard_op op, std::int32_t index);

  /// Boots the node whose node manager `addr` was, if it should run.
  void stopped(const caf::actor_addr& addr);

  /// The running node managers by index.
  std::vector<std::pair<std::int32_t, node_manager_actor>> running() const;

private:
  struct hosted;
  caf::error boot(hosted& h);
  std::optional<caf::actor_addr> stop(hosted& h);

  caf::actor_system& sys_;
  shard_config cfg_;
  std::filesystem::path state_dir_;
  const pl::clock& clock_;
  std::map<std::int32_t, std::unique_ptr<hosted>> nodes_;
  std::map<caf::actor_addr, std::int32_t> stopping_;
};

} // namespace pl::sim
