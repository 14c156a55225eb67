#pragma once

// One simulation run: builds the scenario's testbed at PLC through the API,
// runs its virtual nodes and its timeline on the event queue, measures, and
// checks the invariants. See sim/README.md.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/clock.hpp"
#include "sim/event_queue.hpp"
#include "sim/plc_link.hpp"
#include "sim/scenario.hpp"

namespace pl::sim {

/// PLC's time at the start of a virtual-time run (2006-06-11, PlanetLab's
/// heyday; any fixed value keeps runs reproducible). The embedded PLC's
/// clock must start there (sessions made before the run begins).
inline constexpr std::int64_t virtual_epoch = 1'150'000'000;

enum class time_mode { virtual_time, real_time };

class fleet;

struct run_options {
  time_mode mode = time_mode::virtual_time;
  /// PLC's clock in virtual time (null in real time: PLC reads its own);
  /// the engine sets it before every event.
  pl::manual_clock* plc_clock = nullptr;
  /// Where the event log goes (one line per event; identical for the same
  /// scenario, seed and a fresh PLC database in virtual time).
  std::ostream* event_log = nullptr;
  /// Called about once a second of wall time with a one-line summary.
  std::function<void(const std::string&)> progress;
  /// Asked after every event and set-up step and every 100 ms of a real-time
  /// wait; true ends the run at once with `run_interrupted` (plsim: SIGINT or
  /// SIGTERM), its nodes and their directories gone as after any failure.
  std::function<bool()> stop_requested;
  /// Where the virtual nodes' disks (records, ticket state) go; empty:
  /// /dev/shm when it exists, else the temporary directory.
  std::filesystem::path scratch_parent;
  /// Real time: the shards that host the nodes as real node managers on
  /// CAF's scheduler (sim/shard.hpp). The engine deals them the nodes, tells
  /// them the faults and reads back what the nodes hold. Its `config()`
  /// says where PLC is; the engine adds the scenario's poll interval.
  fleet* shards = nullptr;
};

/// Thrown by run_scenario when `run_options::stop_requested` says so.
struct run_interrupted : std::runtime_error {
  run_interrupted()
      : std::runtime_error("the run was interrupted") {}
};

/// A broken invariant: what, on which node, and the event that broke it.
struct violation {
  double at = 0; ///< virtual seconds
  std::string invariant;
  int node = -1; ///< scenario index, -1: none
  std::string what;
  std::string cause; ///< the scenario event that led to it
};

struct convergence_sample {
  int node = 0;
  double committed = 0; ///< virtual seconds
  double latency = 0;   ///< seconds until applied on the node
  std::string change;
};

struct fault_record {
  double at = 0;
  double until = 0; ///< == at for instants
  std::string kind;
  std::string what;
};

struct series_point {
  double t = 0;
  double value = 0;
};

struct run_report {
  std::string scenario;
  std::string scenario_file;
  std::uint64_t seed = 0;
  std::string time_mode;
  std::string plc;
  int nodes = 0;
  int sites = 0;
  int slices_created = 0;
  double virtual_seconds = 0;
  double wall_seconds = 0;
  double setup_wall_seconds = 0;
  std::uint64_t events = 0;

  std::vector<convergence_sample> convergence;
  std::vector<fault_record> faults;
  std::vector<violation> violations;
  std::vector<std::string> refusals; ///< admission refusals seen (node: slice: reason)

  // Per virtual minute.
  std::vector<series_point> nodes_up;
  std::vector<series_point> plc_calls_per_min;
  std::vector<series_point> messages_per_min;
  std::vector<series_point> slivers_total;

  std::uint64_t plc_calls = 0;
  std::uint64_t plc_failures = 0; ///< refused (PLC down, partition) or faulted
  std::uint64_t messages = 0;
  /// Wall time PLC took per call, by method: count, mean and p99 in ms.
  struct latency_stat {
    std::uint64_t count = 0;
    double mean_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
  };
  std::map<std::string, latency_stat> plc_latency;
  std::uint64_t final_slivers = 0;
  /// Each node's slivers at the end (hostname -> slices; a down or
  /// partitioned node's as last known).
  std::map<std::string, std::vector<std::string>> final_state;
  /// Real time: where the nodes ran, one line per shard.
  std::vector<std::string> shards;
  /// Memory: the process's resident set before the virtual nodes were made
  /// and at the end, its peak, and (end - before) / nodes. The embedded PLC's
  /// client side lives in the process too (PostgreSQL does not), so this is
  /// an upper bound of what one node manager with its actors costs.
  std::int64_t rss_before_nodes_kib = 0;
  std::int64_t rss_end_kib = 0;
  std::int64_t peak_rss_kib = 0;
  double rss_per_node_bytes = 0;
  bool passed() const { return violations.empty(); }
};

/// Runs `sc` against `plc`. Throws std::runtime_error when the testbed cannot
/// be set up (PLC refused a call: the message names it); problems during the
/// run are recorded in the report, never thrown.
run_report run_scenario(const scenario& sc, plc_link& plc, const run_options& options);

} // namespace pl::sim
