#pragma once

// One virtual node of the simulator: the real node manager (node/'s
// `node_manager`, `sliver` and `resource_controller` actors) on the `sim`
// driver backend, with a fault hook and a view of what the node really holds.
// Only the drivers (drivers/sim's in-memory model) and the network (the
// caller's fetch function and gateway) are simulated.
//
// The engine (virtual time, CAF's test coordinator) and simshard's real-time
// node hosting both build their nodes here, so a node is configured the same
// way wherever it runs:
//
//   pl::sim::virtual_node_config c;
//   c.node_id = id; c.hostname = host; c.node_key = key;
//   c.state_dir = dir / hostname;            // records (and tickets) survive a crash
//   c.clock = &node_clock;                   // a caf_clock on the actor system's clock
//   c.fetch = [..] { /* GetSlivers at PLC */ };
//   c.poll_interval = 300s;
//   auto n = pl::sim::virtual_node::make(sys, c);   // backend only; nothing runs yet
//   (*n)->boot();                            // spawns the actors; polls at once
//   (*n)->crash();                           // kills them; records stay on disk
//   (*n)->boot();                            // resumes from the records

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/clock.hpp"
#include "actors/node_manager_actor.hpp"
#include "actors/node_registry_actor.hpp"
#include "actors/ticket_keys.hpp"
#include "drivers/backend.hpp"
#include "drivers/container_backend.hpp"
#include "node/node_manager.hpp"
#include "node/ticket_desk.hpp"
#include "node/wiring.hpp"

namespace pl::sim {

/// The containers of a virtual node: the sim backend's model plus what the
/// simulator needs to check the node from outside (each container's latest
/// spec) and the fault hook (`ignore_deletions`: destroy fails, as a node
/// manager that never removes slivers would leave them).
class sim_node_containers final : public drivers::container_backend {
public:
  explicit sim_node_containers(std::shared_ptr<drivers::container_backend> inner)
      : inner_(std::move(inner)) {}

  caf::error create(const sliver_spec& spec) override;
  caf::error start(const std::string& name) override;
  caf::error stop(const std::string& name) override;
  caf::error destroy(const std::string& name) override;
  std::vector<std::string> containers() const override { return inner_->containers(); }
  bool running(const std::string& name) const override { return inner_->running(name); }

  /// Destroy fails from now on (the deliberately broken node).
  void ignore_deletions(bool on) { ignore_deletions_ = on; }
  bool ignores_deletions() const { return ignore_deletions_; }

  /// Stops every container (the node lost power; the model keeps the rest).
  void power_off();

  /// Whether `name` has a container (created, not destroyed).
  bool holds(const std::string& name) const { return specs_.count(name) > 0; }
  /// The containers, each with the name, slice id, node id, instantiation
  /// and expiry of the spec it was last created or configured with (the
  /// rest of the spec is left out: ask the node manager).
  const std::map<std::string, sliver_spec>& held() const { return specs_; }

  std::uint64_t creates() const { return creates_; }
  std::uint64_t destroys() const { return destroys_; }
  std::uint64_t refused_destroys() const { return refused_destroys_; }

private:
  std::shared_ptr<drivers::container_backend> inner_;
  std::map<std::string, sliver_spec> specs_;
  bool ignore_deletions_ = false;
  std::uint64_t creates_ = 0;
  std::uint64_t destroys_ = 0;
  std::uint64_t refused_destroys_ = 0;
};

/// How a simulated node's node manager is set up.
struct virtual_node_config {
  std::int32_t node_id = 0;
  std::string hostname;
  /// The node key (proves the node on the push link).
  std::string node_key;
  node::node_capacity capacity;
  /// The node's disk: the record file (`records`), the ticket desk's state
  /// (`tickets.state`); kept across crashes. The drivers' records stay in the
  /// backend (in memory), which also outlives a crash.
  std::filesystem::path state_dir;
  /// The node's clock; must outlive the node.
  const pl::clock* clock = nullptr;
  /// GetSlivers at PLC through the simulated network; empty: no polling.
  node::fetch_fn fetch;
  /// Runs `fetch` inside the node manager (CAF's test coordinator: virtual
  /// time) or on a thread of its own (real time).
  bool detached_poll = false;
  caf::timespan poll_interval = std::chrono::seconds(600);
  caf::timespan poll_jitter = std::chrono::seconds(0);
  caf::timespan backoff_min = std::chrono::seconds(30);
  /// Seeds the poll jitter (deterministic runs); 0 is replaced by node_id.
  std::uint64_t seed = 0;
  /// PLC's push gateway in the same actor system; none: no push link.
  std::optional<push_gateway_actor> gateway;
  /// PLC's ticket keys the node accepts (empty: tickets refused as unknown_key).
  ticket_keyring ticket_keys;
};

/// The node manager configuration the simulator uses for a node, given the
/// sliver actors' dependencies (exposed so other hosts configure the same).
node::node_manager_config sim_node_manager_config(const virtual_node_config& cfg,
                                                  const node::sliver_deps& deps);

/// One virtual node: its sim backend (kept across crashes, like a disk and
/// the kernel's state) and, while up, its actors.
class virtual_node {
public:
  /// Builds the node's backend and ticket desk (no actors yet). Fails for a
  /// config without node id, clock or state directory, or when the state
  /// directory cannot be made or holds a damaged ticket state.
  static caf::expected<std::unique_ptr<virtual_node>> make(caf::actor_system& sys,
                                                           virtual_node_config cfg);
  ~virtual_node();
  virtual_node(const virtual_node&) = delete;
  virtual_node& operator=(const virtual_node&) = delete;

  /// Spawns the drivers, controllers and the node manager, which resumes from
  /// its records and polls at once (and connects to the gateway, if any).
  caf::error boot();
  /// Kills the node manager and its actors; the containers stop; the records
  /// and the backend stay.
  void crash();
  bool up() const { return manager_.has_value(); }

  /// The node manager while up.
  const std::optional<node_manager_actor>& manager() const { return manager_; }
  sim_node_containers& containers() { return *containers_; }
  const sim_node_containers& containers() const { return *containers_; }
  const drivers::backend& backend() const { return backend_; }
  node::ticket_desk& tickets() { return *desk_; }
  const virtual_node_config& config() const { return cfg_; }

private:
  virtual_node(caf::actor_system& sys, virtual_node_config cfg);

  caf::actor_system& sys_;
  virtual_node_config cfg_;
  drivers::backend backend_;
  std::shared_ptr<sim_node_containers> containers_;
  std::unique_ptr<node::ticket_desk> desk_;
  std::optional<node::node_actors> actors_;
  std::optional<node_manager_actor> manager_;
};

/// The ticket record the node manager redeems, from a verified ticket (the
/// local API's Ticket does the same): the sliver as `from_ticket` reads it.
caf::expected<ticket> redeemable_ticket(const signed_ticket& t, std::int32_t node_id);

/// The process's resident set size in KiB (/proc/self/statm), 0 if unknown.
std::int64_t resident_kib();
/// The process's peak resident set size in KiB (VmHWM), 0 if unknown.
std::int64_t peak_resident_kib();

} // namespace pl::sim
