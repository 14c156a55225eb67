#pragma once

// What plsim's coordinator and its shards exchange (sim/shard.hpp), and the
// typed interface of a shard. These records only ever travel between plsim
// processes, so they have a type-ID block of their own, `caf::id_block::plsim`,
// placed right after the project's (`caf::id_block::planetlab`): adding them
// there would rebuild every actor of the project for types no daemon uses.
// `configure_plsim_runtime` registers both blocks.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include "actors/records.hpp"
#include "actors/type_ids.hpp"

namespace pl::sim {

/// Describes one virtual node a shard hosts: the scenario's index, PLC's node
/// id, hostname and node key, and the admission capacity.
struct shard_node {
  std::int32_t index = 0;
  std::int32_t node_id = 0;
  std::string hostname;
  std::string key;
  double cpu_reservable = 0.8;
  std::int64_t bandwidth_kbps = 0;
  std::int64_t disk_kb = 0;

  friend bool operator==(const shard_node&, const shard_node&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_node& x) {
  return f(caf::meta::type_name("shard_node"), x.index, x.node_id, x.hostname, x.key,
           x.cpu_reservable, x.bandwidth_kbps, x.disk_kb);
}

/// Says how a shard's node managers reach PLC: GetSlivers over XML-RPC at
/// `plc_url` (hmac node auth) every `poll_interval_ms` plus up to
/// `poll_jitter_ms`, and pushes from the gateway at `push_host`:`push_port`
/// through CAF's middleman (port 0: no push). Times in milliseconds.
struct shard_config {
  std::string plc_url;
  std::string plc_cafile;
  std::string push_host;
  std::uint16_t push_port = 0;
  std::int64_t poll_interval_ms = 60'000;
  std::int64_t poll_jitter_ms = 0;
  /// How often the shard asks each node manager for its slivers.
  std::int64_t observe_interval_ms = 200;
  /// How often a node manager runs its expiry pass.
  std::int64_t maintenance_ms = 1'000;
  /// Seeds each node's poll jitter (plus its index).
  std::uint64_t seed = 1;

  friend bool operator==(const shard_config&, const shard_config&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_config& x) {
  return f(caf::meta::type_name("shard_config"), x.plc_url, x.plc_cafile, x.push_host, x.push_port,
           x.poll_interval_ms, x.poll_jitter_ms, x.observe_interval_ms, x.maintenance_ms, x.seed);
}

/// Names what the coordinator tells a shard to do with some of its nodes.
enum class shard_op : std::uint8_t {
  /// Stop the node manager and its drivers; the records file and the
  /// simulated containers stay, as a disk does.
  crash,
  /// Start the node manager again from its records (a running one is
  /// crashed first).
  reboot,
  /// Cut the node off from PLC: its polls fail and it is off the push link.
  partition,
  /// Reconnect a partitioned node.
  heal,
  /// Make the node ignore deletions from then on (an invariant test).
  break_node,
};

/// Returns the name of `x`, e.g. `crash`.
std::string to_string(shard_op x);

/// Tells a shard to apply `op` to the nodes with these scenario indexes.
struct shard_command {
  shard_op op = shard_op::crash;
  std::vector<std::int32_t> nodes;

  friend bool operator==(const shard_command&, const shard_command&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_command& x) {
  return f(caf::meta::type_name("shard_command"), x.op, x.nodes);
}

/// What a node holds as its shard last saw it: the slivers in place
/// (created, running or stopped; pending and failed ones are not), the
/// admission refusals, and when it was seen (epoch milliseconds).
struct node_view {
  std::int32_t index = 0;
  bool up = true;
  std::vector<sliver_spec> slivers;
  std::vector<admission_refusal> refusals;
  std::int64_t observed_ms = 0;

  friend bool operator==(const node_view&, const node_view&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_view& x) {
  return f(caf::meta::type_name("node_view"), x.index, x.up, x.slivers, x.refusals, x.observed_ms);
}

/// Identifies a shard process (for the run's record).
struct shard_info {
  std::int32_t pid = 0;
  std::string host;
  std::int32_t nodes = 0;

  friend bool operator==(const shard_info&, const shard_info&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_info& x) {
  return f(caf::meta::type_name("shard_info"), x.pid, x.host, x.nodes);
}

} // namespace pl::sim

CAF_BEGIN_TYPE_ID_BLOCK(plsim, caf::id_block::planetlab::end)

CAF_ADD_TYPE_ID(plsim, (pl::sim::shard_node))
CAF_ADD_TYPE_ID(plsim, (std::vector<pl::sim::shard_node>))
CAF_ADD_TYPE_ID(plsim, (pl::sim::shard_config))
CAF_ADD_TYPE_ID(plsim, (pl::sim::shard_command))
CAF_ADD_TYPE_ID(plsim, (pl::sim::node_view))
CAF_ADD_TYPE_ID(plsim, (std::vector<pl::sim::node_view>))
CAF_ADD_TYPE_ID(plsim, (pl::sim::shard_info))

CAF_END_TYPE_ID_BLOCK(plsim)

namespace pl::sim {

/// Hosts a range of a real-time run's virtual nodes (sim/shard.hpp):
/// - `start` with the config and the nodes: spawns a node manager for each
///   (replaces nothing: a node already hosted is refused with
///   `errc::invalid_argument`); returns the shard's pid, host and node count.
/// - `apply` a command to some of its nodes (`errc::invalid_argument` naming
///   a node it does not host; then nothing is applied).
/// - `get`: the views that changed since the last `get` (index order).
/// - `status`: every hosted node's view, freshly observed.
/// - `stop`: ends every node manager, then the shard itself.
///
/// The shard monitors whoever sent the first `start`: when that coordinator
/// goes down (or its process or connection does), the shard stops its nodes
/// and quits, so a lost run leaves no nodes polling PLC.
using shard_actor = caf::typed_actor<
    caf::replies_to<start_atom, shard_config, std::vector<shard_node>>::with<shard_info>,
    caf::replies_to<apply_atom, shard_command>::with<caf::ok_atom>,
    caf::replies_to<caf::get_atom>::with<std::vector<node_view>>,
    caf::replies_to<status_atom>::with<std::vector<node_view>>,
    caf::replies_to<stop_atom>::with<caf::ok_atom>>;

} // namespace pl::sim
